"""Loading libann and declaring its C API for ctypes.

Everything that knows about C lives here: where the shared library is, the signature of
every function the binding uses, the status codes, and the one helper (:func:`call`) that
runs a function, checks its status and raises the matching Python exception with the
library's own message. ``index.py`` never touches a status code.

ctypes releases the GIL around every foreign call, so queries run in parallel from Python
threads. The error message is per OS thread in libann, and a Python thread is an OS thread,
so :func:`call` reads it right after the failing call, on the same thread, race-free.
"""

from __future__ import annotations

import ctypes
import os
from ctypes import (
    POINTER,
    c_bool,
    c_char_p,
    c_float,
    c_int32,
    c_int64,
    c_size_t,
    c_uint32,
    c_uint64,
    c_void_p,
)
from pathlib import Path
from typing import Callable, Dict, List, NoReturn, Optional, Tuple, Type

from . import _locate

#: The ABI this binding was written against (``ANN_ABI_VERSION`` in ``include/ann.h``).
EXPECTED_ABI = 1

# ann_status values (ABI-stable, see include/ann.h).
STATUS_OK = 0
STATUS_NULL_POINTER = 1
STATUS_INVALID_ARGUMENT = 2
STATUS_INVALID_STATE = 3
STATUS_IO = 4
STATUS_CORRUPT_FILE = 5
STATUS_OUT_OF_MEMORY = 6
STATUS_BUFFER_TOO_SMALL = 7
STATUS_PANIC = 8

# Kinds reported by ann_file_info.
FILE_UNKNOWN = 0
FILE_NATIVE = 1
FILE_ANNOY = 2

#: ``ann_get_nns_batch`` marks unused result slots with this id (and a NaN distance).
MISSING_ID = 2**64 - 1


class FileSummary(ctypes.Structure):
    """``ann_file_summary``: what ``ann_file_info`` reads from a file without loading it."""

    _fields_ = [
        ("kind", c_uint32),
        ("format_version", c_uint32),
        ("metric", c_uint32),
        ("dim", c_uint32),
        ("node_size", c_uint32),
        ("n_trees", c_uint32),
        ("n_items", c_uint64),
        ("n_nodes", c_uint64),
        ("seed", c_uint64),
        ("file_size", c_uint64),
    ]


_handle = c_void_p
_status = c_uint32
_metric = c_uint32
_floats = POINTER(c_float)
_u64s = POINTER(c_uint64)

#: name -> (restype, argtypes), for every function the binding calls.
_SIGNATURES: Dict[str, Tuple[object, List[object]]] = {
    # information
    "ann_abi_version": (c_uint32, []),
    "ann_version": (c_char_p, []),
    "ann_last_error_message": (c_size_t, [c_char_p, c_size_t]),
    "ann_status_name": (c_char_p, [_status]),
    "ann_metric_name": (c_char_p, [_metric]),
    "ann_metric_from_name": (_status, [c_char_p, POINTER(_metric)]),
    # lifecycle
    "ann_new": (_status, [c_uint32, _metric, POINTER(_handle)]),
    "ann_free": (None, [_handle]),
    "ann_add_item": (_status, [_handle, c_uint64, _floats]),
    "ann_set_seed": (_status, [_handle, c_uint64]),
    "ann_build": (_status, [_handle, c_int32, c_int32]),
    "ann_unbuild": (_status, [_handle]),
    "ann_unload": (_status, [_handle]),
    "ann_save": (_status, [_handle, c_char_p]),
    "ann_save_annoy": (_status, [_handle, c_char_p]),
    "ann_load": (_status, [c_char_p, c_bool, POINTER(_handle)]),
    "ann_load_annoy": (_status, [c_char_p, c_uint32, _metric, c_bool, POINTER(_handle)]),
    "ann_file_info": (_status, [c_char_p, POINTER(FileSummary)]),
    "ann_on_disk_build": (_status, [_handle, c_char_p]),
    "ann_verify": (_status, [_handle]),
    # access
    "ann_get_item_vector": (_status, [_handle, c_uint64, _floats]),
    "ann_get_distance": (_status, [_handle, c_uint64, c_uint64, _floats]),
    "ann_get_n_items": (_status, [_handle, _u64s]),
    "ann_get_n_trees": (_status, [_handle, POINTER(c_uint32)]),
    "ann_get_dim": (_status, [_handle, POINTER(c_uint32)]),
    "ann_get_metric": (_status, [_handle, POINTER(_metric)]),
    "ann_get_seed": (_status, [_handle, _u64s]),
    # queries
    "ann_get_nns": (_status, [_handle, _floats, c_size_t, c_int64, _u64s, _floats, POINTER(c_size_t)]),
    "ann_get_nns_by_item": (
        _status,
        [_handle, c_uint64, c_size_t, c_int64, _u64s, _floats, POINTER(c_size_t)],
    ),
    "ann_get_nns_batch": (
        _status,
        [_handle, _floats, c_size_t, c_size_t, c_int64, c_int32, _u64s, _floats, POINTER(c_size_t)],
    ),
}


def _how_to_fix() -> str:
    return (
        f"build it with `{_locate.BUILD_COMMAND}` in the ann repository, "
        f"or set ANN_LIB to the path of {_locate.LIBRARY_NAME}"
    )


def _candidates() -> List[Path]:
    """Where to look, in order: ANN_LIB, the packaged copy, the recorded and the enclosing checkout."""
    explicit = os.environ.get("ANN_LIB")
    if explicit:
        # An explicit choice is never second-guessed: it loads or the import fails.
        return [Path(explicit)]
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


def _open_library() -> Tuple[ctypes.CDLL, Path]:
    """Loads the first library found, declares every signature, and checks the ABI."""
    candidates = _candidates()
    if not candidates:
        raise ImportError(f"ann: cannot find the native library {_locate.LIBRARY_NAME}; {_how_to_fix()}")
    path = candidates[0]
    try:
        lib = ctypes.CDLL(str(path))
    except OSError as e:
        raise ImportError(f"ann: cannot load {path}: {e}; {_how_to_fix()}") from e

    # The ABI first: a library of another ABI may lack functions, and this is the real reason.
    if not hasattr(lib, "ann_abi_version"):
        raise ImportError(f"ann: {path} is not libann (it has no ann_abi_version); {_how_to_fix()}")
    lib.ann_abi_version.restype, lib.ann_abi_version.argtypes = c_uint32, []
    abi = lib.ann_abi_version()
    if abi != EXPECTED_ABI:
        raise ImportError(
            f"ann: {path} has ABI version {abi}, but this Python package needs ABI {EXPECTED_ABI}; "
            f"install the matching package or rebuild the library ({_how_to_fix()})"
        )

    missing = [name for name in _SIGNATURES if not hasattr(lib, name)]
    if missing:
        raise ImportError(
            f"ann: {path} lacks {', '.join(missing)}: it is older than this Python package; "
            f"rebuild it ({_how_to_fix()})"
        )
    for name, (restype, argtypes) in _SIGNATURES.items():
        func = getattr(lib, name)
        func.restype = restype
        func.argtypes = argtypes
    return lib, path


lib, library_path = _open_library()

#: The library's own version string, e.g. "0.1.0".
library_version: str = lib.ann_version().decode()


def last_error_message() -> str:
    """The calling thread's last libann error message (valid right after a failed call)."""
    size = lib.ann_last_error_message(None, 0)
    buf = ctypes.create_string_buffer(size)
    lib.ann_last_error_message(buf, size)
    return buf.value.decode("utf-8", "replace")


#: Python exception per status. INVALID_ARGUMENT is chosen by the caller: an id that was never
#: added is an IndexError, as in Annoy, while a NaN in a vector is a ValueError.
_EXCEPTIONS: Dict[int, Type[BaseException]] = {
    STATUS_INVALID_STATE: Exception,  # Annoy raises plain Exception for wrong state
    STATUS_IO: OSError,
    STATUS_CORRUPT_FILE: OSError,
    STATUS_OUT_OF_MEMORY: MemoryError,
}


def raise_status(
    status: int, invalid_argument: Type[BaseException] = ValueError, context: str = ""
) -> NoReturn:
    """Raises the exception for a failed call, carrying the library's message.

    The status name is kept on the exception as ``ann_status`` for callers that want it.
    """
    message = last_error_message()
    if context:
        message = f"{context}: {message}"
    if status == STATUS_INVALID_ARGUMENT:
        cls = invalid_argument
    else:
        cls = _EXCEPTIONS.get(status, RuntimeError)  # NULL pointer, panic: a bug, not user error
    error = cls(message)
    error.ann_status = lib.ann_status_name(status).decode()  # type: ignore[attr-defined]
    raise error


def call(
    func: Callable[..., int],
    *args: object,
    invalid_argument: Type[BaseException] = ValueError,
    context: str = "",
) -> None:
    """Calls a C function returning ``ann_status`` and raises unless it succeeded."""
    status = func(*args)
    if status != STATUS_OK:
        raise_status(status, invalid_argument, context)


def call_new(func: Callable[..., int], *args: object, context: str = "") -> int:
    """Calls a C function whose last argument is an ``ann_index **`` output and returns the
    new handle, which the caller then owns (``ann_free``)."""
    handle = c_void_p()
    call(func, *args, ctypes.byref(handle), context=context)
    assert handle.value is not None, "libann reported success without a handle"
    return handle.value


def metric_code(name: str) -> int:
    """The metric code for ``name`` ("cosine" is angular); Annoy's ValueError if unknown."""
    out = c_uint32()
    call(lib.ann_metric_from_name, name.encode(), ctypes.byref(out), context="No such metric")
    return out.value


def metric_name(code: int) -> str:
    """The canonical name of a metric code."""
    name = lib.ann_metric_name(code)
    return name.decode() if name is not None else f"unknown metric {code}"
