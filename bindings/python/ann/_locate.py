"""Where libann can be: pure path logic, no loading.

Kept free of side effects and imports from the rest of the package so that ``setup.py``
can execute this file at build time (to find the library it copies into the wheel) without
importing ``ann``, which would try to load that very library.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Iterator, Optional

#: The file name cargo gives the shared library on this platform.
LIBRARY_NAME = {"darwin": "libann.dylib", "win32": "ann.dll"}.get(sys.platform, "libann.so")

#: The installed library's file name, its SONAME: what the system loader is asked for.
SONAME = {"darwin": "libann.1.dylib", "win32": "ann.dll"}.get(sys.platform, "libann.so.1")

#: Where ``cmake -P cmake/install.cmake`` puts the library by default: the last place searched.
INSTALLED_LIBRARY = Path("/usr/local/lib") / SONAME

#: The command that builds the library, for error messages.
BUILD_COMMAND = "cargo build --release"

#: The command that installs it (run in the repository after building), for error messages.
INSTALL_COMMAND = "cmake -P cmake/install.cmake"


def is_repo_root(path: Path) -> bool:
    """True if ``path`` looks like the root of the ann source checkout."""
    return (path / "Cargo.toml").is_file() and (path / "include" / "ann.h").is_file()


def source_checkout(package_dir: Path) -> Optional[Path]:
    """The repository holding ``package_dir`` (``<repo>/bindings/python/ann``), if any.

    This is what lets the package run straight from the source tree, uninstalled or
    installed in editable mode, with the library cargo just built.
    """
    parents = package_dir.resolve().parents
    if len(parents) < 3:
        return None
    return parents[2] if is_repo_root(parents[2]) else None


def target_dirs(repo: Optional[Path], recorded_target: Optional[str] = None) -> Iterator[Path]:
    """Cargo target directories to search, most specific first.

    ``CARGO_TARGET_DIR`` (now, or as recorded at build time) wins over ``<repo>/target``,
    because that is where cargo itself puts the library when the variable is set.
    """
    seen = set()
    for raw in (os.environ.get("CARGO_TARGET_DIR"), recorded_target):
        if raw:
            path = Path(raw) if Path(raw).is_absolute() or repo is None else repo / raw
            if path not in seen:
                seen.add(path)
                yield path
    if repo is not None and repo / "target" not in seen:
        yield repo / "target"


def built_libraries(repo: Optional[Path], recorded_target: Optional[str] = None) -> Iterator[Path]:
    """Existing cargo-built libraries: each target directory's ``release``, then ``debug``."""
    for target in target_dirs(repo, recorded_target):
        for profile in ("release", "debug"):
            candidate = target / profile / LIBRARY_NAME
            if candidate.is_file():
                yield candidate
