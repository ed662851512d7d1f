"""``AnnoyIndex``: Annoy's Python API, semantics and exceptions, over libann.

Annoy code runs unchanged: same method names, keyword names, return values and exception
types. On top of that: an index can be closed (or used as a context manager), queried in
batches on several threads, pickled, and loaded from both ann's self-describing files and
Annoy's header-less files.
"""

from __future__ import annotations

import array
import ctypes
import enum
import functools
import operator
import os
import tempfile
import warnings
from ctypes import POINTER, byref, c_float, c_size_t, c_uint32, c_uint64
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple, Type, Union

from . import _native
from ._native import call, lib
from ._sync import SharedLock

try:
    import numpy as _np
except ImportError:  # numpy is optional: lists work everywhere
    _np = None  # type: ignore[assignment]

PathLike = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]
Vector = Sequence[float]
NnsResult = Union[List[int], Tuple[List[int], List[float]]]

_FUTURE_WARNING = (
    "The default argument for metric will be removed in future version of Annoy. "
    "Please pass metric='angular' explicitly."
)
_U32_MAX = 2**32 - 1
_U64_MAX = 2**64 - 1
_I32 = (-(2**31), 2**31 - 1)
_I64_MAX = 2**63 - 1
_SIZE_MAX = 2 ** (8 * ctypes.sizeof(c_size_t)) - 1
_FLOATS = POINTER(c_float)
_U64S = POINTER(c_uint64)
_SIZES = POINTER(c_size_t)
_KIND_NAMES = {_native.FILE_UNKNOWN: "unknown", _native.FILE_NATIVE: "native", _native.FILE_ANNOY: "annoy"}


class _State(enum.Enum):
    """Where the index is in libann's life cycle; Python tracks it to pickle and reload correctly."""

    ADDING = "adding"  # items can be added (in memory, or into an on_disk_build file)
    BUILT = "built"  # trees in memory
    MAPPED = "mapped"  # read-only file mapping (load, save, or a finished on_disk_build)


class FileInfo(NamedTuple):
    """What :func:`file_info` reads from a file's first bytes, without loading it."""

    kind: str  # "native" (ann header), "annoy" (header-less Annoy body) or "unknown"
    format_version: int
    metric: Optional[str]
    dim: int
    node_size: int
    n_trees: int
    n_items: int
    n_nodes: int
    seed: int
    file_size: int


def file_info(fn: PathLike) -> FileInfo:
    """Describes an index file: its kind and, for native files, metric, dim and counts.

    Only native files describe themselves. A header-less Annoy file is recognised by size
    alone, so its metric and dim are unknown (None, 0) and must come from the caller.
    """
    summary = _native.FileSummary()
    call(lib.ann_file_info, _path_arg(fn), byref(summary))
    native = summary.kind == _native.FILE_NATIVE
    return FileInfo(
        kind=_KIND_NAMES.get(summary.kind, "unknown"),
        format_version=summary.format_version,
        metric=_native.metric_name(summary.metric) if native else None,
        dim=summary.dim,
        node_size=summary.node_size,
        n_trees=summary.n_trees,
        n_items=summary.n_items,
        n_nodes=summary.n_nodes,
        seed=summary.seed,
        file_size=summary.file_size,
    )


def _int_arg(value: Any, name: str, low: int, high: int) -> int:
    """An integer argument checked against its C type's range: ctypes would silently wrap it."""
    value = operator.index(value)
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _path_arg(fn: PathLike) -> bytes:
    """A path as the NUL-terminated bytes C expects (ctypes would silently cut at a NUL)."""
    path = os.fsencode(fn)
    if b"\0" in path:
        raise ValueError(f"path {fn!r} contains a NUL byte")
    return path


def _vector_arg(vector: Vector, f: int) -> Any:
    """``vector`` as ``f`` contiguous float32 values, in a form ctypes passes as ``float *``.

    Any sequence is accepted, as in Annoy. Lists and tuples go through ``array.array``,
    their fastest route to float32. Anything else (numpy arrays of any dtype, ...) goes
    through numpy when it is installed.
    """
    length = len(vector)
    if length != f:
        raise IndexError(f"Vector has wrong length (expected {f}, got {length})")
    if _np is not None and not isinstance(vector, (list, tuple)):
        values = _np.ascontiguousarray(vector, dtype=_np.float32)
        if values.shape != (f,):
            raise IndexError(f"Vector has wrong length (expected {f}, got shape {values.shape})")
        return values.ctypes.data_as(_FLOATS)  # the pointer keeps the array alive
    return (c_float * f).from_buffer(array.array("f", vector))  # keeps the array alive too


def _matrix_arg(vectors: Any, f: int) -> Tuple[Any, int]:
    """A batch of query vectors as one row-major float32 block, and the number of rows."""
    if _np is not None:
        matrix = _np.ascontiguousarray(vectors, dtype=_np.float32)
        if matrix.ndim == 1 and matrix.size == 0:
            matrix = matrix.reshape(0, f)
        if matrix.ndim != 2:
            raise ValueError(f"expected a 2-D matrix of shape (n_queries, {f}), got shape {matrix.shape}")
        if matrix.shape[1] != f:
            raise IndexError(f"Vector has wrong length (expected {f}, got {matrix.shape[1]})")
        return matrix.ctypes.data_as(_FLOATS), matrix.shape[0]
    rows = list(vectors)
    block = (c_float * (len(rows) * f))()
    for r, row in enumerate(rows):
        if len(row) != f:
            raise IndexError(f"Vector has wrong length (expected {f}, got {len(row)})")
        block[r * f : (r + 1) * f] = [float(x) for x in row]
    return block, len(rows)


class AnnoyIndex:
    """An approximate nearest-neighbour index, used exactly like ``annoy.AnnoyIndex``.

    ``AnnoyIndex(f, metric)``: ``f`` values per vector (bits, for hamming); metric one of
    "angular" (alias "cosine"), "euclidean", "manhattan", "dot", "hamming".
    """

    def __init__(self, f: int, metric: Optional[str] = None) -> None:
        self._handle: Optional[int] = None  # set last, so __del__ copes with a failed __init__
        if metric is None:
            warnings.warn(_FUTURE_WARNING, FutureWarning, stacklevel=2)
            metric = "angular"
        if not isinstance(metric, str):
            raise TypeError(f"metric must be a str, not {type(metric).__name__}")
        self._f = _int_arg(f, "f", 0, _U32_MAX)
        self._metric_code = _native.metric_code(metric)
        self._metric = _native.metric_name(self._metric_code)
        self._lock = SharedLock()
        self._state = _State.ADDING
        self._path: Optional[str] = None  # the file behind the index, if any
        self._kind: Optional[str] = None  # "native" or "annoy": the form of that file
        self._prefault = False
        self._verbose = False
        self._handle = _native.call_new(lib.ann_new, self._f, self._metric_code)

    # -- attributes -------------------------------------------------------------------

    @property
    def f(self) -> int:
        """The number of values per vector (bits, for hamming), as in Annoy."""
        return self._f

    @property
    def metric(self) -> str:
        """The canonical metric name ("cosine" is reported as "angular")."""
        return self._metric

    def __repr__(self) -> str:
        if self._handle is None:
            return f"<AnnoyIndex f={self._f} metric={self._metric!r} closed>"
        where = f" file={self._path!r}" if self._path else ""
        return f"<AnnoyIndex f={self._f} metric={self._metric!r} {self._state.value}{where}>"

    # -- handle life cycle -----------------------------------------------------------

    def _live(self) -> int:
        """The native handle; a clear error instead of a crash once the index is closed."""
        if self._handle is None:
            raise ValueError("this AnnoyIndex is closed: create or unpickle a new one")
        return self._handle

    def close(self) -> None:
        """Frees the native index now (memory, file mapping). Later calls raise ValueError.

        Waits for queries running in other threads to finish first. Closing twice is fine.
        """
        with self._lock.exclusive:
            if self._handle is not None:
                handle, self._handle = self._handle, None
                lib.ann_free(handle)

    def __enter__(self) -> "AnnoyIndex":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self, _free: Any = lib.ann_free) -> None:
        # No lock: an object being collected has no other references, so no thread is using it.
        # `_free` is bound at definition time because module globals may be gone at shutdown.
        handle = getattr(self, "_handle", None)
        if handle is not None:
            self._handle = None
            _free(handle)

    def _adopt_mapping(self, handle: int, path: bytes, kind: str, prefault: bool) -> None:
        """Swaps in a new native index mapping ``path`` (after load or save), freeing the old
        one. The caller holds the lock exclusively."""
        old, self._handle = self._handle, handle
        lib.ann_free(old)
        self._state = _State.MAPPED
        self._path, self._kind, self._prefault = os.path.abspath(os.fsdecode(path)), kind, prefault

    # -- building ----------------------------------------------------------------------

    def add_item(self, i: int, vector: Vector) -> None:
        """Adds (or replaces) item ``i``. Ids are dense: ``get_n_items()`` becomes ``max id + 1``."""
        i = operator.index(i)
        if i < 0:
            raise IndexError("Item index can not be negative")
        i = _int_arg(i, "i", 0, _U64_MAX)
        values = _vector_arg(vector, self._f)
        with self._lock.exclusive:
            call(lib.ann_add_item, self._live(), i, values)

    def set_seed(self, seed: int, /) -> None:
        """Seeds the next build: one seed gives the same index whatever ``n_jobs`` is.

        Negative seeds wrap to 64 bits, as Annoy's C++ conversion does.
        """
        seed = _int_arg(seed, "seed", -(2**63), _U64_MAX) & _U64_MAX
        with self._lock.exclusive:
            call(lib.ann_set_seed, self._live(), seed)

    def verbose(self, v: bool, /) -> bool:
        """Accepted for Annoy compatibility; libann reports problems through exceptions instead."""
        self._verbose = bool(v)
        return True

    def build(self, n_trees: int, n_jobs: int = -1) -> bool:
        """Builds ``n_trees`` trees (-1: until the index has 2x as many nodes as items) on
        ``n_jobs`` threads (-1: all cores). After ``on_disk_build`` the index maps its file."""
        n_trees = _int_arg(n_trees, "n_trees", *_I32)
        n_jobs = _int_arg(n_jobs, "n_jobs", *_I32)
        with self._lock.exclusive:
            handle = self._live()
            on_disk = self._state is _State.ADDING and self._path is not None
            try:
                call(lib.ann_build, handle, n_trees, n_jobs)
            except OSError:
                if on_disk:  # libann resets an index whose on-disk file could not be finished
                    self._state, self._path, self._kind = _State.ADDING, None, None
                raise
            self._state = _State.MAPPED if on_disk else _State.BUILT
        return True

    def unbuild(self) -> bool:
        """Drops the trees, keeping the items, so more can be added before building again."""
        with self._lock.exclusive:
            call(lib.ann_unbuild, self._live())
            self._state = _State.ADDING
        return True

    def on_disk_build(self, fn: PathLike) -> bool:
        """Builds into file ``fn`` instead of memory (for indexes larger than RAM); call
        before adding items or building. ``build`` then finishes and maps the file."""
        path = _path_arg(fn)
        with self._lock.exclusive:
            call(lib.ann_on_disk_build, self._live(), path)
            self._path, self._kind = os.path.abspath(os.fsdecode(path)), "native"
        return True

    # -- files -------------------------------------------------------------------------

    def save(self, fn: PathLike, prefault: bool = False) -> bool:
        """Saves the built index to ``fn`` (atomically) and, as Annoy does, then maps that
        file: the heap copy is freed and no more items can be added."""
        path = _path_arg(fn)
        with self._lock.exclusive:
            call(lib.ann_save, self._live(), path)
            handle = _native.call_new(lib.ann_load, path, bool(prefault))
            self._adopt_mapping(handle, path, "native", bool(prefault))
        return True

    def save_annoy(self, fn: PathLike) -> bool:
        """Writes the header-less form that Annoy 1.17.3 loads. The index itself is unchanged."""
        path = _path_arg(fn)
        with self._lock.shared:
            call(lib.ann_save_annoy, self._live(), path)
        return True

    def load(self, fn: PathLike, prefault: bool = False) -> bool:
        """Memory-maps ``fn``: an ann file (whose metric and dim must match this index) or a
        header-less Annoy file (read with this index's metric and dim). Replaces whatever
        the index held; on failure the index is left as it was."""
        self._load(_path_arg(fn), bool(prefault))
        return True

    def _load(self, path: bytes, prefault: bool, expected_kind: Optional[str] = None) -> None:
        """``load``, optionally insisting on the file's kind (unpickling knows what it was)."""
        name = os.fsdecode(path)
        with self._lock.exclusive:
            self._live()
            kind = file_info(path).kind
            if expected_kind is not None and kind != expected_kind:
                raise OSError(
                    f"{name} changed since the index was pickled: it was {expected_kind!r}, it is now {kind!r}"
                )
            if kind == "native":
                handle = _native.call_new(lib.ann_load, path, prefault)
                self._check_loaded(handle, name)
            elif kind == "annoy":
                handle = _native.call_new(lib.ann_load_annoy, path, self._f, self._metric_code, prefault)
            else:
                raise OSError(
                    f"{name} is not an index: it is empty or its size is not a multiple of 4, "
                    "so it is neither an ann nor an Annoy file"
                )
            self._adopt_mapping(handle, path, kind, prefault)

    def _check_loaded(self, handle: int, name: str) -> None:
        """Frees ``handle`` and raises unless the file it maps matches this index's metric and f."""
        dim, metric = c_uint32(), c_uint32()
        try:
            call(lib.ann_get_dim, handle, byref(dim))
            call(lib.ann_get_metric, handle, byref(metric))
        except BaseException:
            lib.ann_free(handle)
            raise
        if (dim.value, metric.value) != (self._f, self._metric_code):
            lib.ann_free(handle)
            file_metric = _native.metric_name(metric.value)
            raise OSError(
                f"{name} holds a {file_metric} index of dimension {dim.value}, but this index was "
                f"created as AnnoyIndex({self._f}, {self._metric!r}); "
                f"use AnnoyIndex({dim.value}, {file_metric!r}) to load it"
            )

    def unload(self) -> bool:
        """Releases the file mapping or memory; the index is left empty, ready for new items."""
        with self._lock.exclusive:
            call(lib.ann_unload, self._live())
            self._state, self._path, self._kind = _State.ADDING, None, None
        return True

    def verify(self) -> bool:
        """Checks the whole index (body checksum, every tree); OSError if it is damaged.
        ``load`` only checks the header, so that loading stays O(1)."""
        with self._lock.shared:
            call(lib.ann_verify, self._live())
        return True

    # -- reading -----------------------------------------------------------------------

    def _n_items(self, handle: int) -> int:
        out = c_uint64()
        call(lib.ann_get_n_items, handle, byref(out))
        return out.value

    def _item_arg(self, handle: int, i: Any) -> int:
        """Annoy's id checks for reads, with Annoy's messages."""
        i = operator.index(i)
        if i < 0:
            raise IndexError("Item index can not be negative")
        if i >= self._n_items(handle):
            raise IndexError("Item index larger than the largest item index")
        return i

    def get_n_items(self) -> int:
        """The number of item slots: the largest id added, plus 1."""
        with self._lock.shared:
            return self._n_items(self._live())

    def get_n_trees(self) -> int:
        """The number of trees (0 before ``build``)."""
        out = c_uint32()
        with self._lock.shared:
            call(lib.ann_get_n_trees, self._live(), byref(out))
        return out.value

    def get_item_vector(self, i: int, /) -> List[float]:
        """Item ``i``'s vector (0.0/1.0 values for hamming). IndexError for an id never added."""
        out = (c_float * self._f)()
        with self._lock.shared:
            handle = self._live()
            call(lib.ann_get_item_vector, handle, self._item_arg(handle, i), out, invalid_argument=IndexError)
        return out[:]

    def get_distance(self, i: int, j: int, /) -> float:
        """The distance between items ``i`` and ``j``, as a query would report it."""
        out = c_float()
        with self._lock.shared:
            handle = self._live()
            i, j = self._item_arg(handle, i), self._item_arg(handle, j)
            call(lib.ann_get_distance, handle, i, j, byref(out), invalid_argument=IndexError)
        return out.value

    # -- queries -----------------------------------------------------------------------

    def _nns(
        self,
        func: Any,
        query_arg: Callable[[int], Any],
        n: int,
        search_k: int,
        include_distances: bool,
        invalid_argument: Type[BaseException],
    ) -> NnsResult:
        """One query through ``func`` (``ann_get_nns`` or ``ann_get_nns_by_item``), whose
        query argument ``query_arg(handle)`` gives: it may need the handle to check an id."""
        n = _int_arg(n, "n", 0, _SIZE_MAX)
        search_k = _int_arg(search_k, "search_k", -1, _I64_MAX)
        count = c_size_t()
        with self._lock.shared:
            handle = self._live()
            query = query_arg(handle)
            width = min(n, self._n_items(handle))  # never more results than item slots
            ids = (c_uint64 * width)()
            distances = (c_float * width)() if include_distances else None
            call(
                func,
                handle,
                query,
                width,
                search_k,
                ids,
                distances,
                byref(count),
                invalid_argument=invalid_argument,
            )
        found = count.value
        if include_distances:
            return ids[:found], distances[:found]  # type: ignore[index]
        return ids[:found]

    def get_nns_by_item(
        self, i: int, n: int, search_k: int = -1, include_distances: bool = False
    ) -> NnsResult:
        """The ``n`` items nearest to item ``i``; ``(ids, distances)`` if ``include_distances``.

        ``search_k`` candidates are inspected (-1: ``n * n_trees``); more is slower and better.
        An id never added is an IndexError.
        """
        item = functools.partial(self._item_arg, i=i)  # checked under the lock, with the handle
        return self._nns(lib.ann_get_nns_by_item, item, n, search_k, include_distances, IndexError)

    def get_nns_by_vector(
        self, vector: Vector, n: int, search_k: int = -1, include_distances: bool = False
    ) -> NnsResult:
        """The ``n`` items nearest to ``vector``; ``(ids, distances)`` if ``include_distances``."""
        values = _vector_arg(vector, self._f)
        return self._nns(lib.ann_get_nns, lambda handle: values, n, search_k, include_distances, ValueError)

    def get_nns_by_vectors(
        self,
        vectors: Any,
        n: int,
        search_k: int = -1,
        n_threads: int = -1,
        include_distances: bool = False,
    ) -> Any:
        """Queries a batch of vectors (rows of a matrix) on ``n_threads`` threads (-1: all cores).

        With numpy: an int64 id array of shape ``(n_queries, min(n, n_items))``, -1 where a
        query found fewer items, and a float32 distance array with NaN there. Without numpy:
        a list of id lists (and of distance lists), each as long as its query's results.
        """
        n = _int_arg(n, "n", 0, _SIZE_MAX)
        search_k = _int_arg(search_k, "search_k", -1, _I64_MAX)
        n_threads = _int_arg(n_threads, "n_threads", *_I32)
        matrix, n_queries = _matrix_arg(vectors, self._f)
        with self._lock.shared:
            handle = self._live()
            width = min(n, self._n_items(handle))
            if _np is not None:
                ids = _np.empty((n_queries, width), dtype=_np.uint64)
                distances = _np.empty((n_queries, width), dtype=_np.float32) if include_distances else None
                counts = _np.empty(n_queries, dtype=_np.uintp)
                pointers = (
                    ids.ctypes.data_as(_U64S),
                    distances.ctypes.data_as(_FLOATS) if distances is not None else None,
                    counts.ctypes.data_as(_SIZES),
                )
            else:
                ids = (c_uint64 * (n_queries * width))()
                distances = (c_float * (n_queries * width))() if include_distances else None
                counts = (c_size_t * n_queries)()
                pointers = (ids, distances, counts)
            call(lib.ann_get_nns_batch, handle, matrix, n_queries, width, search_k, n_threads, *pointers)
        if _np is not None:
            ids = ids.view(_np.int64)  # the C marker UINT64_MAX reads as -1
            return (ids, distances) if include_distances else ids
        id_rows = [ids[q * width : q * width + counts[q]] for q in range(n_queries)]
        if not include_distances:
            return id_rows
        return id_rows, [distances[q * width : q * width + counts[q]] for q in range(n_queries)]  # type: ignore[index]

    # -- pickling ----------------------------------------------------------------------

    def __reduce__(self) -> Tuple[Any, Tuple[Any, ...]]:
        """Pickles by reference for a file-backed index (its path), by value otherwise: a
        built index as its file bytes, an unbuilt one as its items and seed."""
        with self._lock.shared:
            handle = self._live()
            state: Dict[str, Any] = {"f": self._f, "metric": self._metric, "verbose": self._verbose}
            if self._state is _State.MAPPED and self._path is not None:
                state.update(form="file", path=self._path, kind=self._kind, prefault=self._prefault)
            elif self._state is not _State.ADDING:
                state.update(form="bytes", data=self._file_bytes(handle))
            else:
                state.update(form="items", **self._items(handle))
        return _restore, (type(self), state)

    def _file_bytes(self, handle: int) -> bytes:
        with tempfile.TemporaryDirectory(prefix="ann-pickle-") as directory:
            path = os.path.join(directory, "index.ann")
            call(lib.ann_save, handle, os.fsencode(path))
            with open(path, "rb") as file:
                return file.read()

    def _items(self, handle: int) -> Dict[str, Any]:
        """Every added item (holes skipped) as ids plus one float32 block, and the seed."""
        vector = (c_float * self._f)()
        ids, blocks = [], []
        for i in range(self._n_items(handle)):
            status = lib.ann_get_item_vector(handle, i, vector)
            if status == _native.STATUS_INVALID_ARGUMENT:
                continue  # a hole: an id never added
            if status != _native.STATUS_OK:
                _native.raise_status(status)
            ids.append(i)
            blocks.append(bytes(vector))
        seed = c_uint64()
        call(lib.ann_get_seed, handle, byref(seed))
        return {"ids": ids, "vectors": b"".join(blocks), "seed": seed.value}


def _restore(cls: Type[AnnoyIndex], state: Dict[str, Any]) -> AnnoyIndex:
    """Rebuilds a pickled index (see ``AnnoyIndex.__reduce__``)."""
    index = cls(state["f"], state["metric"])
    index.verbose(state["verbose"])
    form = state["form"]
    if form == "file":
        index._load(_path_arg(state["path"]), state["prefault"], expected_kind=state["kind"])
    elif form == "bytes":
        # The mapping outlives the unlinked file, so no temporary file is left behind.
        descriptor, path = tempfile.mkstemp(prefix="ann-unpickle-", suffix=".ann")
        try:
            with os.fdopen(descriptor, "wb") as file:
                file.write(state["data"])
            index.load(path)
        finally:
            os.unlink(path)
        index._path = None  # in memory as far as anyone can tell: pickle it by value again
    else:
        index.set_seed(state["seed"])
        vectors = array.array("f")
        vectors.frombytes(state["vectors"])
        f = index.f
        for n, i in enumerate(state["ids"]):
            index.add_item(i, vectors[n * f : (n + 1) * f])
    return index
