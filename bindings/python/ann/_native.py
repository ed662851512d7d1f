"""libann's C API for ctypes: the loaded library, its signatures, statuses and errors.

Everything that knows about C lives here (``_loader`` finds and opens the library): the
signature of every function the binding uses, the status codes, and the one helper
(:func:`call`) that runs a function, checks its status and raises the matching Python
exception with the library's own message. ``index.py`` never touches a status code.

ctypes releases the GIL around every foreign call, so queries run in parallel from Python
threads. The error message is per OS thread in libann, and a Python thread is an OS thread,
so :func:`call` reads it right after the failing call, on the same thread, race-free.
"""

from __future__ import annotations

import ctypes
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
from typing import Callable, Dict, List, NamedTuple, NoReturn, Tuple, Type

from . import _loader

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

# ann_writer_options_set_durability values.
DURABILITY_SYNC = 0
DURABILITY_TIMER = 1

# Kinds reported by ann_file_info.
FILE_UNKNOWN = 0
FILE_NATIVE = 1
FILE_ANNOY = 2

#: The one 64-bit value that is not a key (``NO_KEY`` in ann.h): ``ann_get_nns_batch`` and
#: ``ann_search_batch`` mark unused result slots with it (and a NaN distance).
NO_KEY = 2**64 - 1


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
_options = c_void_p  # ann_search_options *
_writer = c_void_p  # ann_writer *
_writer_options = c_void_p  # ann_writer_options *

#: ``bool (*accept)(uint64_t key, void *context)``, the predicate of ``ann_search_options_set_filter``.
#: ctypes takes the GIL around each call, from whichever thread makes it.
FILTER = ctypes.CFUNCTYPE(c_bool, c_uint64, c_void_p)

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
    "ann_add_item_packed": (_status, [_handle, c_uint64, _u64s, c_size_t]),
    "ann_set_seed": (_status, [_handle, c_uint64]),
    "ann_build": (_status, [_handle, c_int32, c_int32]),
    "ann_build_graph": (_status, [_handle, c_uint32, c_int32]),
    "ann_unbuild": (_status, [_handle]),
    "ann_unload": (_status, [_handle]),
    "ann_save": (_status, [_handle, c_char_p]),
    "ann_save_annoy": (_status, [_handle, c_char_p]),
    "ann_load": (_status, [c_char_p, c_bool, POINTER(_handle)]),
    "ann_load_annoy": (_status, [c_char_p, c_uint32, _metric, c_bool, POINTER(_handle)]),
    "ann_open_shards": (_status, [POINTER(c_char_p), c_size_t, c_bool, POINTER(_handle)]),
    "ann_file_info": (_status, [c_char_p, POINTER(FileSummary)]),
    "ann_on_disk_build": (_status, [_handle, c_char_p]),
    "ann_verify": (_status, [_handle]),
    # access
    "ann_get_item_vector": (_status, [_handle, c_uint64, _floats]),
    "ann_get_item_packed": (_status, [_handle, c_uint64, _u64s, c_size_t, POINTER(c_size_t)]),
    "ann_get_distance": (_status, [_handle, c_uint64, c_uint64, _floats]),
    "ann_get_n_items": (_status, [_handle, _u64s]),
    "ann_get_n_stored": (_status, [_handle, _u64s]),
    "ann_get_n_trees": (_status, [_handle, POINTER(c_uint32)]),
    "ann_has_graph": (_status, [_handle, POINTER(c_bool)]),
    "ann_get_dim": (_status, [_handle, POINTER(c_uint32)]),
    "ann_get_metric": (_status, [_handle, POINTER(_metric)]),
    "ann_get_seed": (_status, [_handle, _u64s]),
    # queries
    "ann_get_nns": (_status, [_handle, _floats, c_size_t, c_int64, _u64s, _floats, POINTER(c_size_t)]),
    "ann_get_nns_by_item": (
        _status,
        [_handle, c_uint64, c_size_t, c_int64, _u64s, _floats, POINTER(c_size_t)],
    ),
    "ann_get_nns_packed": (
        _status,
        [_handle, _u64s, c_size_t, c_size_t, c_int64, _u64s, _floats, POINTER(c_size_t)],
    ),
    "ann_get_nns_batch": (
        _status,
        [_handle, _floats, c_size_t, c_size_t, c_int64, c_int32, _u64s, _floats, POINTER(c_size_t)],
    ),
    # search options and filtered searches
    "ann_search_options_new": (_status, [POINTER(_options)]),
    "ann_search_options_free": (None, [_options]),
    "ann_search_options_set_search_k": (_status, [_options, c_int64]),
    "ann_search_options_set_ef": (_status, [_options, c_size_t]),
    "ann_search_options_set_allow_list": (_status, [_options, _u64s, c_size_t]),
    "ann_search_options_set_deny_list": (_status, [_options, _u64s, c_size_t]),
    "ann_search_options_set_filter": (_status, [_options, FILTER, c_void_p]),
    "ann_search": (_status, [_handle, _floats, c_size_t, _options, _u64s, _floats, POINTER(c_size_t)]),
    "ann_search_by_item": (
        _status,
        [_handle, c_uint64, c_size_t, _options, _u64s, _floats, POINTER(c_size_t)],
    ),
    "ann_search_batch": (
        _status,
        [_handle, _floats, c_size_t, c_size_t, _options, c_int32, _u64s, _floats, POINTER(c_size_t)],
    ),
    # live indexes: the writer, its options, readers
    "ann_writer_options_new": (_status, [c_uint32, _metric, POINTER(_writer_options)]),
    "ann_writer_options_free": (None, [_writer_options]),
    "ann_writer_options_set_durability": (_status, [_writer_options, c_uint32]),
    "ann_writer_options_set_flush_ms": (_status, [_writer_options, c_uint32]),
    "ann_writer_options_set_n_trees": (_status, [_writer_options, c_int32]),
    "ann_writer_options_set_graph": (_status, [_writer_options, c_bool, c_uint32]),
    "ann_writer_open": (_status, [c_char_p, _writer_options, POINTER(_writer)]),
    "ann_writer_free": (None, [_writer]),
    "ann_upsert": (_status, [_writer, c_uint64, _floats]),
    "ann_upsert_batch": (_status, [_writer, _u64s, _floats, c_size_t]),
    "ann_delete": (_status, [_writer, c_uint64, POINTER(c_bool)]),
    "ann_delete_batch": (_status, [_writer, _u64s, c_size_t, POINTER(c_size_t)]),
    "ann_sync": (_status, [_writer]),
    "ann_compact": (_status, [_writer, c_int32]),
    "ann_writer_index": (_status, [_writer, POINTER(_handle)]),
    "ann_open": (_status, [c_char_p, c_bool, POINTER(_handle)]),
    "ann_refresh": (_status, [_handle, POINTER(c_bool)]),
    "ann_export": (_status, [_handle, c_char_p]),
}


lib, library_path = _loader.open_library(_SIGNATURES, EXPECTED_ABI)

#: The library's own version string, e.g. "0.1.0".
library_version: str = lib.ann_version().decode()

#: The ABI version of the library actually loaded (equal to :data:`EXPECTED_ABI`, or the
#: import would have failed).
abi_version: int = lib.ann_abi_version()


def last_error_message() -> str:
    """The calling thread's last libann error message (valid right after a failed call)."""
    size = lib.ann_last_error_message(None, 0)
    buf = ctypes.create_string_buffer(size)
    lib.ann_last_error_message(buf, size)
    return buf.value.decode("utf-8", "replace")


#: Python exception per status. INVALID_ARGUMENT and INVALID_STATE are chosen by the caller:
#: an id never added is an IndexError, as in Annoy, a NaN in a vector a ValueError, and a bad
#: path an OSError; the wrong state is Annoy's plain Exception, but OSError for ``save``.
_EXCEPTIONS: Dict[int, Type[BaseException]] = {
    STATUS_IO: OSError,
    STATUS_CORRUPT_FILE: OSError,
    STATUS_OUT_OF_MEMORY: MemoryError,
}


class Errors(NamedTuple):
    """How one call reports failures: the exception types Annoy raises in its place, and
    Annoy's own message for the wrong state, which then starts the library's message."""

    invalid_argument: Type[BaseException] = ValueError
    invalid_state: Type[BaseException] = Exception
    state_message: str = ""
    context: str = ""  # starts the message whatever the status


DEFAULT_ERRORS = Errors()
#: For functions taking a path: Annoy reports a path it cannot use ("", a directory) as OSError.
PATH_ERRORS = Errors(invalid_argument=OSError)


def raise_status(status: int, errors: Errors = DEFAULT_ERRORS) -> NoReturn:
    """Raises the exception for a failed call, carrying the library's message.

    The status name is kept on the exception as ``ann_status`` for callers that want it.
    """
    message = last_error_message()
    if status == STATUS_INVALID_ARGUMENT:
        cls = errors.invalid_argument
    elif status == STATUS_INVALID_STATE:
        cls = errors.invalid_state
        if errors.state_message:
            message = f"{errors.state_message}: {message}"
    else:
        cls = _EXCEPTIONS.get(status, RuntimeError)  # NULL pointer, panic: a bug, not user error
    if errors.context:
        message = f"{errors.context}: {message}"
    error = cls(message)
    error.ann_status = lib.ann_status_name(status).decode()  # type: ignore[attr-defined]
    raise error


def call(func: Callable[..., int], *args: object, errors: Errors = DEFAULT_ERRORS) -> None:
    """Calls a C function returning ``ann_status`` and raises unless it succeeded."""
    status = func(*args)
    if status != STATUS_OK:
        raise_status(status, errors)


def call_new(func: Callable[..., int], *args: object, errors: Errors = DEFAULT_ERRORS) -> int:
    """Calls a C function whose last argument is an ``ann_index **`` output and returns the
    new handle, which the caller then owns (``ann_free``)."""
    handle = c_void_p()
    call(func, *args, ctypes.byref(handle), errors=errors)
    assert handle.value is not None, "libann reported success without a handle"
    return handle.value


def metric_code(name: str) -> int:
    """The metric code for ``name`` ("cosine" is angular); Annoy's ValueError if unknown."""
    if "\0" in name:
        raise ValueError("embedded null character")  # as Annoy; C would read up to the NUL
    out = c_uint32()
    call(lib.ann_metric_from_name, name.encode(), ctypes.byref(out), errors=Errors(context="No such metric"))
    return out.value


def metric_name(code: int) -> str:
    """The canonical name of a metric code."""
    name = lib.ann_metric_name(code)
    return name.decode() if name is not None else f"unknown metric {code}"
