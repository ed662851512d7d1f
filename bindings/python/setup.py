"""Build hook: ship the cargo-built libann inside the package and record where the repo is.

Everything else is declared in pyproject.toml. At install time (``pip install
./bindings/python``) ``build_py`` copies ``<target>/release/libann.so`` (``CARGO_TARGET_DIR``
honoured, ``debug`` as a fallback) into the package, and writes ``ann/_build_info.py`` with
the repository root and target directory, so the installed package can still find a
library built there later. The wheel is tagged for this platform (it holds a native
library) but for any Python 3, because the binding is ctypes, not a compiled extension.
"""

import importlib.util
import os
import shutil
from pathlib import Path

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

try:
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # setuptools < 70.1
    from wheel.bdist_wheel import bdist_wheel

HERE = Path(__file__).resolve().parent


def _load_locate():
    """ann/_locate.py, executed without importing ann (which would load the library)."""
    spec = importlib.util.spec_from_file_location("_ann_locate", HERE / "ann" / "_locate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class BuildPyWithLibrary(build_py):
    def run(self):
        super().run()
        locate = _load_locate()
        repo = locate.source_checkout(HERE / "ann")
        target = os.environ.get("CARGO_TARGET_DIR")
        package = Path(self.build_lib) / "ann"
        package.mkdir(parents=True, exist_ok=True)
        (package / "_build_info.py").write_text(
            '"""Written by setup.py at build time: where the ann repository was."""\n'
            f"REPO_ROOT = {str(repo) if repo else None!r}\n"
            f"CARGO_TARGET_DIR = {target!r}\n"
        )
        library = next(locate.built_libraries(repo), None)
        if library is None:
            self.announce(
                f"ann: no {locate.LIBRARY_NAME} found (run `{locate.BUILD_COMMAND}` in the repo); "
                "the package will look for it at runtime instead",
                level=3,
            )
            return
        shutil.copy2(library, package / locate.LIBRARY_NAME)


class BinaryDistribution(Distribution):
    """Holds a native library, so it is installed to platlib and its wheel is not pure."""

    def has_ext_modules(self):
        return True


class PlatformWheel(bdist_wheel):
    def get_tag(self):
        _, _, platform = super().get_tag()
        return "py3", "none", platform


setup(distclass=BinaryDistribution, cmdclass={"build_py": BuildPyWithLibrary, "bdist_wheel": PlatformWheel})
