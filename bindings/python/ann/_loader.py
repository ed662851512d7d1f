"""Finding and opening libann, in the order every binding keeps (bindings/README.md).

Path logic that needs no loading lives in ``_locate`` (``setup.py`` uses it at build time);
this module does the loading: the search order, the system loader, and the checks made
right after loading (is it libann, is its ABI the one this package was written for, does
it have every function), each failing with an ImportError that says what to do.
"""

from __future__ import annotations

import ctypes
import os
from ctypes import POINTER, c_char_p, c_uint32, c_void_p
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from . import _locate


def _how_to_fix() -> str:
    return (
        f"set ANN_LIB to the path of {_locate.LIBRARY_NAME}, build it with `{_locate.BUILD_COMMAND}` "
        f"in the ann repository, or install it there with `{_locate.INSTALL_COMMAND}`"
    )


def _built_candidates() -> List[Path]:
    """Steps 2 and 3 of the search: the packaged copy, then the recorded and the enclosing
    checkout's cargo builds (release before debug). Only existing files."""
    package_dir = Path(__file__).resolve().parent
    found = [package_dir / _locate.LIBRARY_NAME]
    recorded: Tuple[Optional[str], Optional[str]] = (None, None)  # the repo and target at install
    try:
        from ._build_info import CARGO_TARGET_DIR, REPO_ROOT  # written by setup.py

        recorded = (REPO_ROOT, CARGO_TARGET_DIR)
    except ImportError:  # running from the source tree
        pass
    if recorded[0]:
        found += _locate.built_libraries(Path(recorded[0]), recorded[1])
    found += _locate.built_libraries(_locate.source_checkout(package_dir))
    return [path for path in found if path.is_file()]


class _DlInfo(ctypes.Structure):
    """glibc's ``Dl_info``, to ask ``dladdr`` which file the system loader picked."""

    _fields_ = [("fname", c_char_p), ("fbase", c_void_p), ("sname", c_char_p), ("saddr", c_void_p)]


def _file_of(lib: ctypes.CDLL) -> Path:
    """The file a library loaded by bare name came from (the name itself if unknown)."""
    try:
        dladdr = ctypes.CDLL(None).dladdr
    except (AttributeError, OSError, TypeError):  # no dladdr on this platform
        return Path(_locate.SONAME)
    dladdr.argtypes, dladdr.restype = [c_void_p, POINTER(_DlInfo)], ctypes.c_int
    info = _DlInfo()
    if dladdr(ctypes.cast(lib.ann_abi_version, c_void_p), ctypes.byref(info)) and info.fname:
        return Path(os.fsdecode(info.fname)).resolve()
    return Path(_locate.SONAME)


def _from_system_loader() -> Optional[ctypes.CDLL]:
    """Step 4a: ``libann.so.1`` through the system loader (LD_LIBRARY_PATH, the ldconfig
    cache); None when the loader has no such library, an ImportError when it has a broken one."""
    try:
        return ctypes.CDLL(_locate.SONAME)
    except OSError as e:
        message = str(e)
        # glibc: "libann.so.1: cannot open shared object file: ...", naming the library it
        # looked for; a missing *dependency* of a found libann names that dependency instead.
        if message.startswith(f"{_locate.SONAME}: cannot open shared object file") or (
            _locate.SONAME in message and ("not found" in message or "no such file" in message.lower())
        ):
            return None
        raise ImportError(f"ann: cannot load {_locate.SONAME}: {message}; {_how_to_fix()}") from e


def _open(path: Path) -> ctypes.CDLL:
    try:
        return ctypes.CDLL(str(path))
    except OSError as e:
        raise ImportError(f"ann: cannot load {path}: {e}; {_how_to_fix()}") from e


def _find_and_open() -> Tuple[ctypes.CDLL, Path]:
    """Loads the first library found, in the order every binding keeps (bindings/README.md):

    1. ``ANN_LIB``; 2. the copy inside the package; 3. the checkout's cargo builds;
    4. ``libann.so.1`` through the system loader, then ``/usr/local/lib/libann.so.1``.
    The first one that exists is loaded, and failing to load it is an ImportError, never a
    silent fall-through to another copy.
    """
    explicit = os.environ.get("ANN_LIB")
    if explicit:
        # An explicit choice is never second-guessed: it loads or the import fails.
        return _open(Path(explicit)), Path(explicit)
    built = _built_candidates()
    if built:
        return _open(built[0]), built[0]
    lib = _from_system_loader()
    if lib is not None:
        return lib, (_file_of(lib) if hasattr(lib, "ann_abi_version") else Path(_locate.SONAME))
    if _locate.INSTALLED_LIBRARY.is_file():
        return _open(_locate.INSTALLED_LIBRARY), _locate.INSTALLED_LIBRARY
    raise ImportError(
        f"ann: cannot find the native library {_locate.LIBRARY_NAME} (nor an installed "
        f"{_locate.SONAME}); {_how_to_fix()}"
    )


def open_library(signatures: Dict[str, Tuple[Any, List[Any]]], expected_abi: int) -> Tuple[ctypes.CDLL, Path]:
    """Finds and loads the library, checks its ABI, and declares every signature."""
    lib, path = _find_and_open()

    # The ABI first: a library of another ABI may lack functions, and this is the real reason.
    if not hasattr(lib, "ann_abi_version"):
        raise ImportError(f"ann: {path} is not libann (it has no ann_abi_version); {_how_to_fix()}")
    lib.ann_abi_version.restype, lib.ann_abi_version.argtypes = c_uint32, []
    abi = lib.ann_abi_version()
    if abi != expected_abi:
        raise ImportError(
            f"ann: {path} has ABI version {abi}, but this Python package needs ABI {expected_abi}; "
            f"install the matching package or rebuild the library ({_how_to_fix()})"
        )

    missing = [name for name in signatures if not hasattr(lib, name)]
    if missing:
        raise ImportError(
            f"ann: {path} lacks {', '.join(missing)}: it is older than this Python package; "
            f"rebuild it ({_how_to_fix()})"
        )
    for name, (restype, argtypes) in signatures.items():
        func = getattr(lib, name)
        func.restype = restype
        func.argtypes = argtypes
    return lib, path
