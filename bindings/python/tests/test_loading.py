"""Finding and checking libann: ANN_LIB, the packaged copy, the cargo target directory, and
clear failures. Each case runs in a fresh interpreter, since the library loads at import."""

from __future__ import annotations

import ctypes.util
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import ann
from ann import _locate

PACKAGE_SOURCE = Path(__file__).resolve().parents[1] / "ann"
REPO = Path(__file__).resolve().parents[3]


def run_python(code: str, env_extra: dict, pythonpath: Path | None = None) -> subprocess.CompletedProcess:
    dropped = ("ANN_LIB", "CARGO_TARGET_DIR", "PYTHONPATH", "LD_LIBRARY_PATH")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(env_extra)
    # By default the child imports the very `ann` package under test (the source tree when
    # test.sh runs, site-packages after `pip install`), never whatever else is on the path.
    env["PYTHONPATH"] = str(pythonpath or Path(ann.__file__).resolve().parents[1])
    return subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        cwd=str(pythonpath or Path.cwd()),
    )


def copy_package(destination: Path) -> Path:
    """The bare source package, outside any checkout and without a library copy."""
    shutil.copytree(
        PACKAGE_SOURCE,
        destination / "ann",
        ignore=shutil.ignore_patterns("__pycache__", "_build_info.py", _locate.LIBRARY_NAME),
    )
    return destination


PRINT_PATH = "import ann; print(ann.library_path)"


def installed_library() -> Path | None:
    """An installed libann that step 4 would find on this machine, if any."""
    found = ctypes.util.find_library("ann")
    if found:
        return Path(found)
    return _locate.INSTALLED_LIBRARY if _locate.INSTALLED_LIBRARY.exists() else None


def test_ann_lib_wins():
    result = run_python(PRINT_PATH, {"ANN_LIB": str(ann.library_path)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(ann.library_path)


def test_a_bad_ann_lib_fails_naming_the_fixes(tmp_path):
    result = run_python(PRINT_PATH, {"ANN_LIB": str(tmp_path / "nope.so")})
    assert result.returncode != 0
    assert "ImportError" in result.stderr
    assert "nope.so" in result.stderr
    assert "cargo build --release" in result.stderr and "ANN_LIB" in result.stderr


def test_no_library_anywhere_fails_naming_the_fixes(tmp_path):
    if installed_library() is not None:
        pytest.skip(f"this machine has an installed libann ({installed_library()})")
    result = run_python(PRINT_PATH, {}, pythonpath=copy_package(tmp_path))
    assert result.returncode != 0
    assert "ImportError: ann: cannot find the native library" in result.stderr
    assert "cargo build --release" in result.stderr and "ANN_LIB" in result.stderr
    assert _locate.INSTALL_COMMAND in result.stderr


def test_cargo_target_dir_is_honoured(tmp_path):
    target = tmp_path / "target"
    (target / "release").mkdir(parents=True)
    shutil.copy2(ann.library_path, target / "release" / _locate.LIBRARY_NAME)
    package_root = copy_package(tmp_path / "pkg")
    result = run_python(PRINT_PATH, {"CARGO_TARGET_DIR": str(target)}, pythonpath=package_root)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(target / "release" / _locate.LIBRARY_NAME)


@pytest.mark.skipif(not _locate.is_repo_root(REPO), reason="not running from the ann repository")
def test_the_source_tree_finds_the_cargo_build():
    built = next(_locate.built_libraries(REPO), None)
    if built is None:
        pytest.skip("no cargo-built library in the repository")
    result = run_python(PRINT_PATH, {}, pythonpath=PACKAGE_SOURCE.parent)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(built)


def test_an_installed_package_uses_its_own_copy():
    copy = Path(ann.__file__).resolve().parent / _locate.LIBRARY_NAME
    if not copy.exists():
        pytest.skip("running from the source tree, which ships no copy")
    if os.environ.get("ANN_LIB"):
        pytest.skip("ANN_LIB overrides the packaged copy")
    assert ann.library_path == copy
    from ann import _build_info

    assert _build_info.REPO_ROOT is None or _locate.is_repo_root(Path(_build_info.REPO_ROOT))


def compile_fake(tmp_path: Path, source: str) -> Path:
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None or sys.platform == "win32":
        pytest.skip("needs a C compiler")
    (tmp_path / "fake.c").write_text(textwrap.dedent(source))
    library = tmp_path / _locate.LIBRARY_NAME
    subprocess.run([compiler, "-shared", "-fPIC", "-o", str(library), str(tmp_path / "fake.c")], check=True)
    return library


def test_an_abi_mismatch_fails_clearly(tmp_path):
    fake = compile_fake(tmp_path, "unsigned ann_abi_version(void) { return 2; }\n")
    result = run_python(PRINT_PATH, {"ANN_LIB": str(fake)})
    assert result.returncode != 0
    assert "has ABI version 2, but this Python package needs ABI 1" in result.stderr


def test_a_library_that_is_not_libann_fails_clearly(tmp_path):
    fake = compile_fake(tmp_path, "int something_else(void) { return 0; }\n")
    result = run_python(PRINT_PATH, {"ANN_LIB": str(fake)})
    assert result.returncode != 0
    assert "is not libann" in result.stderr


def test_a_library_missing_functions_fails_naming_them(tmp_path):
    fake = compile_fake(tmp_path, "unsigned ann_abi_version(void) { return 1; }\n")
    result = run_python(PRINT_PATH, {"ANN_LIB": str(fake)})
    assert result.returncode != 0
    assert "lacks ann_version" in result.stderr and "rebuild" in result.stderr


def test_the_package_works_without_numpy():
    code = textwrap.dedent("""
        import sys
        sys.modules["numpy"] = None  # makes `import numpy` fail
        from ann import AnnoyIndex
        index = AnnoyIndex(2, "euclidean")
        for i in range(5):
            index.add_item(i, (i, 0))
        index.build(2)
        print(index.get_nns_by_vector([0.9, 0], 2), index.get_nns_by_vectors([[0, 0], [4, 0]], 2))
        """)
    result = run_python(code, {"ANN_LIB": str(ann.library_path)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[1, 0] [[0, 1], [4, 3]]"


# -- step 4: the installed library --------------------------------------------------------


def installed_copy(directory: Path, source: Path | None = None) -> Path:
    """A copy of the library (or of ``source``) under its SONAME, as an install lays it out."""
    directory.mkdir(parents=True, exist_ok=True)
    copy = directory / _locate.SONAME
    shutil.copy2(source or ann.library_path, copy)
    return copy


def with_installed_library_at(installed: Path) -> str:
    """Code printing the library found when the default install location is ``installed``
    (the real one, /usr/local/lib, is outside anything a test may write)."""
    return textwrap.dedent(f"""
        import sys, types
        from pathlib import Path
        package = types.ModuleType("ann")  # the package without its __init__, which loads
        package.__path__ = [str(Path.cwd() / "ann")]
        sys.modules["ann"] = package
        from ann import _locate
        _locate.INSTALLED_LIBRARY = Path({str(installed)!r})
        from ann import _native
        print(_native.library_path)
        """)


@pytest.mark.skipif(sys.platform != "linux", reason="LD_LIBRARY_PATH is the Linux loader's")
def test_the_system_loader_finds_an_installed_library(tmp_path):
    copy = installed_copy(tmp_path / "lib")
    result = run_python(
        PRINT_PATH, {"LD_LIBRARY_PATH": str(copy.parent)}, pythonpath=copy_package(tmp_path / "pkg")
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(copy.resolve())


@pytest.mark.skipif(sys.platform != "linux", reason="LD_LIBRARY_PATH is the Linux loader's")
def test_ann_lib_and_the_checkout_come_before_the_system_loader(tmp_path):
    copy = installed_copy(tmp_path / "lib")
    loader = {"LD_LIBRARY_PATH": str(copy.parent)}
    result = run_python(
        PRINT_PATH, {**loader, "ANN_LIB": str(ann.library_path)}, pythonpath=copy_package(tmp_path / "a")
    )
    assert result.stdout.strip() == str(ann.library_path), result.stderr
    target = tmp_path / "target"
    installed_copy(target / "release")
    shutil.move(str(target / "release" / _locate.SONAME), str(target / "release" / _locate.LIBRARY_NAME))
    result = run_python(
        PRINT_PATH, {**loader, "CARGO_TARGET_DIR": str(target)}, pythonpath=copy_package(tmp_path / "b")
    )
    assert result.stdout.strip() == str(target / "release" / _locate.LIBRARY_NAME), result.stderr


@pytest.mark.skipif(sys.platform != "linux", reason="LD_LIBRARY_PATH is the Linux loader's")
def test_the_default_install_location_comes_last(tmp_path):
    default = installed_copy(tmp_path / "usr-local-lib")
    package = copy_package(tmp_path / "pkg")
    if installed_library() is None:  # nothing else installed: the default location is used
        result = run_python(with_installed_library_at(default), {}, pythonpath=package)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == str(default)
    loader_copy = installed_copy(tmp_path / "lib")
    result = run_python(
        with_installed_library_at(default), {"LD_LIBRARY_PATH": str(loader_copy.parent)}, pythonpath=package
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(loader_copy.resolve())


@pytest.mark.skipif(sys.platform != "linux", reason="LD_LIBRARY_PATH is the Linux loader's")
def test_a_broken_installed_library_fails_instead_of_falling_through(tmp_path):
    broken = tmp_path / "lib" / _locate.SONAME
    broken.parent.mkdir()
    broken.write_text("not a shared library\n")
    default = installed_copy(tmp_path / "usr-local-lib")
    package = copy_package(tmp_path / "pkg")
    result = run_python(
        with_installed_library_at(default), {"LD_LIBRARY_PATH": str(broken.parent)}, pythonpath=package
    )
    assert result.returncode != 0
    assert f"ImportError: ann: cannot load {_locate.SONAME}" in result.stderr
    assert "ANN_LIB" in result.stderr


def test_the_installed_package_uses_its_own_copy(tmp_path):
    """The package pip installed (if any), imported from outside the source tree."""
    code = "import ann; print(ann.__file__); print(ann.library_path)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={k: v for k, v in os.environ.items() if k not in ("ANN_LIB", "PYTHONPATH", "CARGO_TARGET_DIR")},
        capture_output=True,
        text=True,
        cwd=str(tmp_path),
    )
    if "No module named 'ann'" in result.stderr:
        pytest.skip("ann is not installed (pip install ./bindings/python)")
    assert result.returncode == 0, result.stderr
    package_file, library = result.stdout.split("\n")[:2]
    package = Path(package_file).parent
    if package.resolve() == PACKAGE_SOURCE.resolve():
        pytest.skip("the source tree is on sys.path")
    assert Path(library) == package / _locate.LIBRARY_NAME
