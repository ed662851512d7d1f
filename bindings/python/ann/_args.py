"""Turning Python arguments into C ones, with the exceptions Annoy's users already handle.

Annoy parses its arguments with ``PyArg_ParseTuple``, so its errors are CPython's: an int
that does not fit a C ``int`` is an ``OverflowError`` with the interpreter's message, a
float where an int belongs is a ``TypeError``, and a vector is read with ``len(v)`` and
``v[0]`` ... ``v[f - 1]``, so a set fails as "'set' object is not subscriptable" and a dict
keyed 0..f-1 works. This module reproduces those rules, so code written against Annoy sees
the same exception types and messages; ``tests/test_annoy_errors.py`` checks every case
against the real Annoy side by side.
"""

from __future__ import annotations

import array
import operator
import os
import sys
from ctypes import POINTER, c_float, c_size_t, c_uint64, sizeof
from typing import Any, Sequence, Tuple, Union

PathLike = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]
Vector = Sequence[float]

FLOATS = POINTER(c_float)
U64S = POINTER(c_uint64)
SIZES = POINTER(c_size_t)

_C_LONG = (-(2**63), 2**63 - 1)
_C_INT = (-(2**31), 2**31 - 1)
_U64_MAX = 2**64 - 1
_SIZE_MAX = 2 ** (8 * sizeof(c_size_t)) - 1
#: numpy dtype kinds whose values convert to float32 as ``float(x)`` would: bool, ints, floats.
_NUMERIC_KINDS = "biuf"


def import_numpy() -> Any:
    """numpy, or None when it is not installed (lists work everywhere).

    Imported on first need, not with ann: numpy takes longer to import than the rest of
    ann, and programs that never use it should not pay for that.
    """
    try:
        import numpy
    except ImportError:
        return None
    return numpy


def _ndarray(values: Any) -> Any:
    """numpy, if ``values`` is a numpy array (then numpy is imported already), else None."""
    np = sys.modules.get("numpy")
    return np if np is not None and isinstance(values, np.ndarray) else None


class IntegerOverflow(OverflowError, ValueError):
    """An int too large for its C type: Annoy's ``OverflowError``, and a ``ValueError`` too,
    since it is a bad value (and that is what ``ann`` raised before it matched Annoy)."""


def c_int(value: Any) -> int:
    """``value`` as Annoy's ``PyArg_ParseTuple`` "i" format takes it (ids, counts, flags)."""
    value = operator.index(value)
    if not _C_LONG[0] <= value <= _C_LONG[1]:
        raise IntegerOverflow("Python int too large to convert to C long")
    if value > _C_INT[1]:
        raise IntegerOverflow("signed integer is greater than maximum")
    if value < _C_INT[0]:
        raise IntegerOverflow("signed integer is less than minimum")
    return value


#: The largest key: every uint64 but ``2**64 - 1``, which libann reserves as "no key".
MAX_KEY = _U64_MAX - 1
_RESERVED = "which is reserved (it means 'no key'): keys are 0 to 2**64 - 2"


def key(value: Any) -> int:
    """An item key: any int from 0 to ``2**64 - 2`` (ann's 64-bit keys), parsed where Annoy
    parses an id as a C int.

    Negative values are returned as they are, for the caller to raise Annoy's IndexError
    ("Item index can not be negative") at the point Annoy does; below a C int they are
    Annoy's OverflowError. ``2**64 - 1`` (reserved) and anything larger are an
    :class:`IntegerOverflow`, Annoy's exception type for any id that large.
    """
    value = operator.index(value)
    if value < 0:
        return c_int(value)
    if value > MAX_KEY:
        if value > _U64_MAX:
            raise IntegerOverflow("Python int too large to convert to C long")  # Annoy's message
        raise IntegerOverflow("key 2**64 - 1 is reserved (it means 'no key'): keys are 0 to 2**64 - 2")
    return value


def flag(value: Any) -> bool:
    """A boolean flag that Annoy parses as a C int (``include_distances``, ``verbose``)."""
    return bool(c_int(value))


def switch(value: Any, name: str) -> bool:
    """A boolean option of ann's own calls (``include_distances`` of ``search*``): a bool, an
    int or a numpy bool. Anything else, None and strings included, is a TypeError: read by
    truth value, ``"no"`` would mean yes."""
    np = sys.modules.get("numpy")
    if isinstance(value, bool) or (np is not None and isinstance(value, np.bool_)):
        return bool(value)
    try:
        return bool(operator.index(value))
    except TypeError:
        raise TypeError(f"{name} must be a bool, not {type(value).__name__}") from None


def byte_flag(value: Any) -> bool:
    """A boolean flag that Annoy parses as an unsigned byte, "b" (``prefault``)."""
    value = operator.index(value)
    if not _C_LONG[0] <= value <= _C_LONG[1]:
        raise IntegerOverflow("Python int too large to convert to C long")
    if value > 255:
        raise IntegerOverflow("unsigned byte integer is greater than maximum")
    if value < 0:
        raise IntegerOverflow("unsigned byte integer is less than minimum")
    return bool(value)


def bounded(value: Any, name: str, low: int, high: int) -> int:
    """An int in ``[low, high]``: Annoy's C int parsing first, then ann's own range check."""
    value = c_int(value)
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}, got {value}")
    return value


def path(fn: PathLike) -> bytes:
    """A path as the NUL-terminated bytes C expects (ctypes would silently cut at a NUL).

    Annoy takes only ``str``; ``bytes`` and ``os.PathLike`` are accepted too.
    """
    encoded = os.fsencode(fn)
    if b"\0" in encoded:
        raise ValueError(f"path {fn!r} contains a NUL byte")
    return encoded


def _length(values: Any, f: int, what: str = "Vector") -> None:
    length = len(values)
    if length != f:
        raise IndexError(f"{what} has wrong length (expected {f}, got {length})")


def vector(values: Vector, f: int) -> Any:
    """``values`` as ``f`` contiguous float32 values, in a form ctypes passes as ``float *``.

    Lists and tuples go straight to ``array.array``; numeric numpy arrays through numpy.
    Anything else is read exactly as Annoy reads it: ``len``, then ``values[i]`` for each
    ``i``, each converted with ``float`` semantics, so its errors are the ones Python
    itself gives for that object.
    """
    _length(values, f)
    np = _ndarray(values)
    if np is not None and values.dtype.kind in _NUMERIC_KINDS:
        if values.shape != (f,):
            raise IndexError(f"Vector has wrong length (expected {f}, got shape {values.shape})")
        contiguous = np.ascontiguousarray(values, dtype=np.float32)  # a float32 row: no copy
        try:
            # A ctypes view of the array's own memory (it keeps the array alive): the cheapest
            # way to hand numpy memory to C, a few times faster than ``ctypes.data_as``.
            return (c_float * f).from_buffer(contiguous)
        except TypeError:  # a read-only array cannot back a ctypes view
            return contiguous.ctypes.data_as(FLOATS)  # the pointer keeps the array alive
    if not isinstance(values, (list, tuple)):
        values = [values[i] for i in range(f)]
    return (c_float * f).from_buffer(array.array("f", values))  # keeps the array alive too


def matrix(vectors: Any, f: int, np: Any) -> Tuple[Any, int]:
    """A batch of query vectors as one row-major float32 block (through numpy unless ``np``
    is None), and the number of rows."""
    if vectors is None or isinstance(vectors, (str, bytes)) or not hasattr(vectors, "__iter__"):
        # numpy would read None or a number as a one-value matrix, and a string as text
        raise TypeError(f"vectors must be a matrix (rows of {f} numbers), not {type(vectors).__name__}")
    if np is not None:
        block = np.ascontiguousarray(vectors, dtype=np.float32)
        if block.ndim == 1 and block.size == 0:
            block = block.reshape(0, f)
        if block.ndim != 2:
            raise ValueError(f"expected a 2-D matrix of shape (n_queries, {f}), got shape {block.shape}")
        if block.shape[1] != f:
            raise IndexError(f"Vector has wrong length (expected {f}, got {block.shape[1]})")
        return block.ctypes.data_as(FLOATS), block.shape[0]
    rows = list(vectors)
    out = (c_float * (len(rows) * f))()
    for r, row in enumerate(rows):
        out[r * f : (r + 1) * f] = vector(row, f)[:]
    return out, len(rows)


def words(values: Any, n_words: int) -> Any:
    """Packed hamming bits: ``n_words`` unsigned 64-bit words, as ``uint64_t *``.

    A uint64 numpy array is passed as it is; anything else is read like a vector, each
    word an int in ``[0, 2**64 - 1]``.
    """
    _length(values, n_words, "Word vector")
    np = _ndarray(values)
    if np is not None and values.dtype == np.uint64:
        if values.shape != (n_words,):
            raise IndexError(f"Word vector has wrong length (expected {n_words}, got shape {values.shape})")
        return np.ascontiguousarray(values).ctypes.data_as(U64S)
    out = (c_uint64 * n_words)()
    for i in range(n_words):
        word = operator.index(values[i])
        if not 0 <= word <= _U64_MAX:
            raise IntegerOverflow(f"word {i} is {word}: a packed word must be between 0 and 2**64 - 1")
        out[i] = word
    return out


def count(value: Any, name: str) -> int:
    """A count for ann's own calls (``n`` of ``search``): an int, at least 0."""
    value = operator.index(value)
    if value < 0:
        raise ValueError(f"{name} must be at least 0, got {value}")
    return value


def search_k(value: Any) -> int:
    """``search_k`` of the search calls: -1 (``n * n_trees``) or a count, as an int64."""
    value = operator.index(value)
    if value < -1:
        raise ValueError(f"search_k must be -1 (n * n_trees) or at least 0, got {value}")
    if value > _C_LONG[1]:
        raise IntegerOverflow(f"search_k must be at most 2**63 - 1, got {value}")
    return value


def ef(value: Any) -> int:
    """``ef`` of the search calls: the beam width of a graph search (0: ``max(n, 32, search_k / 16)``),
    as a ``size_t``."""
    value = operator.index(value)
    if value < 0:
        raise ValueError(f"ef must be 0 (derived from search_k) or at least 1, got {value}")
    if value > _SIZE_MAX:
        raise IntegerOverflow(f"ef must be at most {_SIZE_MAX}, got {value}")
    return value


def keys(values: Any, name: str) -> Tuple[Any, int]:
    """A list of keys (``allow``, ``deny``, a writer's batches) as ``uint64_t *`` and its length.

    Any iterable of ints from 0 to ``2**64 - 2``, or an integer numpy array, passed without
    a copy when it is contiguous uint64 (or int64 with no negative value). ``2**64 - 1`` is
    refused, as for a single key: it is reserved, and libann would read it in a list as a key
    that no item has. libann copies the list, so the buffer only has to live for the call.
    """
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise TypeError(f"{name} must be an iterable of int keys, not {type(values).__name__}")
    np = _ndarray(values)
    if np is not None:
        if values.dtype.kind not in "iu":
            raise TypeError(f"{name} must hold integer keys, not {values.dtype}")
        flat = values.reshape(-1)
        if values.dtype.kind == "i" and flat.size and flat.min() < 0:
            raise ValueError(f"{name} holds the negative key {int(flat.min())}: keys are 0 to 2**64 - 2")
        if flat.dtype == np.uint64 and flat.size and int(flat.max()) == _U64_MAX:
            raise ValueError(f"{name} holds the key 2**64 - 1, {_RESERVED}")
        if flat.dtype.itemsize == 8:
            block = np.ascontiguousarray(flat).view(np.uint64)  # no copy when contiguous
        else:
            block = np.ascontiguousarray(flat, dtype=np.uint64)
        return block.ctypes.data_as(U64S), int(block.size)
    if not isinstance(values, (list, tuple, range, array.array)):
        values = list(values)  # read once: a generator cannot be read again after an error
    try:
        block = array.array("Q", values)  # one C loop for the common case
    except (OverflowError, TypeError):
        block = array.array("Q")
        for at, value in enumerate(values):
            if not isinstance(value, int):
                try:
                    value = operator.index(value)
                except TypeError:
                    raise TypeError(f"{name}[{at}] is {type(value).__name__}, not an int key") from None
            if not 0 <= value <= _U64_MAX:
                raise ValueError(f"{name}[{at}] is {value}: keys are 0 to 2**64 - 2") from None
            block.append(value)
    if not block:
        return None, 0
    if _U64_MAX in block:  # libann would take it as a key that no item can have
        raise ValueError(f"{name}[{block.index(_U64_MAX)}] is 2**64 - 1, {_RESERVED}")
    return (c_uint64 * len(block)).from_buffer(block), len(block)


def n_words(f: int) -> int:
    """Words per packed hamming vector of ``f`` bits."""
    return (f + 63) // 64
