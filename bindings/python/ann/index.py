"""``AnnoyIndex``: Annoy's Python API, semantics and exceptions, over libann.

Annoy code runs unchanged: same method names, keyword names, return values and exception
types (``_args`` parses arguments as Annoy does). On top of that: an index can be closed (or
used as a context manager), queried in batches on several threads, pickled, loaded from both
ann's self-describing files and Annoy's header-less files, and fed packed hamming bits. Ids
are 64-bit keys; ``search`` and its by-item and batch forms filter (``options.py``);
``build_graph`` adds a proximity graph that queries walk instead of the trees; ``load_shards``
maps several files as one index; and an index can read a live index directory (``ann.open``,
``Writer.index``, ``live.py``), with ``refresh`` and ``export``.
"""

from __future__ import annotations

import array
import enum
import functools
import operator
import os
import warnings
from ctypes import byref, c_bool, c_char_p, c_float, c_size_t, c_uint32, c_uint64
from typing import Any, Callable, Iterable, List, Optional, Sequence, Tuple, Type, Union

from . import _args, _native, _pickling
from ._args import PathLike, Vector
from ._fileinfo import file_info
from ._native import PATH_ERRORS, Errors, call, lib
from ._sync import SharedLock
from .options import Predicate, Resolved, SearchOptions, call_with

_NOT_IMPORTED: Any = object()
#: numpy, for batch queries: imported by the first one (see ``_args.import_numpy``); None
#: (numpy missing) makes them return lists.
_np: Any = _NOT_IMPORTED

NnsResult = Union[List[int], Tuple[List[int], List[float]]]

_FUTURE_WARNING = (
    "The default argument for metric will be removed in future version of Annoy. "
    "Please pass metric='angular' explicitly."
)
_INT_MAX = 2**31 - 1
_U64_MAX = 2**64 - 1
#: Batch results hold int64 ids unless the index has a key this large, which int64 cannot hold.
_INT64_KEYS_BELOW = 2**63

#: ``save`` and ``save_annoy``: Annoy raises OSError for every failure, even "not built".
_SAVE_ERRORS = Errors(
    invalid_argument=OSError,
    invalid_state=OSError,
    state_message="You can't save an index that hasn't been built",
)
#: The same for an index that is built or loaded: the library says what is wrong (shards,
#: keys that Annoy's format cannot hold).
_SAVE_BUILT_ERRORS = Errors(invalid_argument=OSError, invalid_state=OSError)
#: ``load_shards``: an unusable set of shards is a bad argument; a file that cannot be read
#: is an OSError, as for ``load``.
_SHARD_ERRORS = Errors(invalid_argument=ValueError)
#: ``export`` fails as ``save`` does: OSError, with the library's message saying why.
_EXPORT_ERRORS = Errors(invalid_argument=OSError, invalid_state=OSError)


class _Omitted:
    """The default of ``metric``: distinct from an explicit None, which Annoy rejects."""

    def __repr__(self) -> str:
        return "'angular' (with Annoy's FutureWarning)"


_METRIC_OMITTED: Any = _Omitted()


class _State(enum.Enum):
    """Where the index is in libann's life cycle; Python tracks it to pickle and reload correctly."""

    ADDING = "adding"  # items can be added (in memory, or into an on_disk_build file)
    BUILT = "built"  # trees in memory
    MAPPED = "mapped"  # read-only mapping: load, save, load_shards, a finished on_disk_build, or
    # a live index (ann.open of a directory, Writer.index)


def _type_name(value: object) -> str:
    """The type name CPython's argument parser puts in its messages."""
    return "None" if value is None else type(value).__name__


def _batch_numpy() -> Any:
    global _np
    if _np is _NOT_IMPORTED:
        _np = _args.import_numpy()
    return _np


class AnnoyIndex:
    """An approximate nearest-neighbour index, used exactly like ``annoy.AnnoyIndex``.

    ``AnnoyIndex(f, metric)``: ``f`` values per vector (bits, for hamming); metric one of
    "angular" (alias "cosine"), "euclidean", "manhattan", "dot", "hamming".
    """

    def __init__(self, f: int, metric: str = _METRIC_OMITTED) -> None:
        self._handle: Optional[int] = None  # set last, so __del__ copes with a failed __init__
        f = _args.c_int(f)
        if metric is _METRIC_OMITTED:
            warnings.warn(_FUTURE_WARNING, FutureWarning, stacklevel=2)
            metric = "angular"
        if not isinstance(metric, str):
            raise TypeError(f"argument 2 must be str, not {_type_name(metric)}")
        if f < 0:
            raise ValueError(f"f must be at least 1, got {f}")
        self._setup(f, _native.metric_code(metric))
        self._handle = _native.call_new(lib.ann_new, self._f, self._metric_code)

    def _setup(self, f: int, metric_code: int) -> None:
        """Every attribute but the handle, for an empty index of ``f`` values and that metric."""
        self._f = f
        self._metric_code = metric_code
        self._metric = _native.metric_name(self._metric_code)
        self._lock = SharedLock()
        self._state = _State.ADDING
        self._path: Optional[str] = None  # the file behind the index, if any
        # The form of that file: "native", "annoy", "shards", "live" (a live index directory,
        # read by ann.open or load) or "writer" (the same directory, through its writer).
        self._kind: Optional[str] = None
        self._shards: Optional[List[str]] = None  # the files behind an index from load_shards
        # Every key added since the index was last emptied or mapped: an unbuilt index pickles
        # as its items, and libann has no call listing the keys of sparse ones.
        self._added = array.array("Q")
        # True once build_graph added a graph to a mapped index: the file lacks it, so the
        # index pickles by value, not as its path.
        self._graph_unsaved = False
        self._prefault = False
        self._verbose = False

    @classmethod
    def _wrap(cls, handle: int, path: bytes, kind: str, prefault: bool) -> "AnnoyIndex":
        """A new index around ``handle``, a read-only mapping that ``ann.open`` or a writer
        made, with the dimension and metric the handle reports (the handle is freed if they
        cannot be read)."""
        try:
            dim, metric = _dim_and_metric(handle)
        except BaseException:
            lib.ann_free(handle)
            raise
        index = cls.__new__(cls)
        index._handle = None
        index._setup(dim, metric)
        with index._lock.exclusive:
            index._adopt_mapping(handle, path, kind, prefault)
        return index

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
        if self._kind in ("live", "writer"):
            where = f" {self._kind}={self._path!r}"
        if self._shards is not None:
            where = f" shards={self._shards!r}"
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

    def _adopt_mapping(
        self, handle: int, path: Optional[bytes], kind: str, prefault: bool, shards: Sequence[bytes] = ()
    ) -> None:
        """Swaps in a new native index mapping ``path`` (after load or save), or the files
        ``shards``, freeing the old one. The caller holds the lock exclusively."""
        old, self._handle = self._handle, handle
        lib.ann_free(old)
        self._state = _State.MAPPED
        self._path = os.path.abspath(os.fsdecode(path)) if path is not None else None
        self._shards = [os.path.abspath(os.fsdecode(p)) for p in shards] if kind == "shards" else None
        self._kind, self._prefault = kind, prefault
        self._added = array.array("Q")
        self._graph_unsaved = False

    def _add_errors(self) -> Errors:
        """Adding to a loaded index gets Annoy's message; adding to a built one is ann's own error."""
        loaded = self._state is _State.MAPPED
        return Errors(state_message="You can't add an item to a loaded index" if loaded else "")

    # -- building ----------------------------------------------------------------------

    def add_item(self, i: int, vector: Vector) -> None:
        """Adds (or replaces) the item with key ``i``: any int from 0 to ``2**64 - 2``.
        ``get_n_items()`` becomes ``max key + 1``, ``get_n_stored()`` counts the items."""
        i = _args.key(i)
        if i < 0:
            raise IndexError("Item index can not be negative")
        values = _args.vector(vector, self._f)
        with self._lock.exclusive:
            call(lib.ann_add_item, self._live(), i, values, errors=self._add_errors())
            self._added.append(i)

    def add_item_bits(self, i: int, words: Any) -> None:
        """Hamming only: adds item ``i`` from ``ceil(f / 64)`` packed 64-bit words, bit ``j``
        of word ``k`` being bit ``64 * k + j`` (a uint64 numpy array or a sequence of ints).
        Bits past ``f`` must be 0."""
        i = _args.key(i)
        if i < 0:
            raise IndexError("Item index can not be negative")
        count = _args.n_words(self._f)
        packed = _args.words(words, count)
        with self._lock.exclusive:
            call(lib.ann_add_item_packed, self._live(), i, packed, count, errors=self._add_errors())
            self._added.append(i)

    def set_seed(self, seed: int, /) -> None:
        """Seeds the next build: one seed gives the same index whatever ``n_jobs`` is.

        Any 64-bit seed is accepted (Annoy takes a C int); negative seeds wrap to 64 bits.
        """
        seed = operator.index(seed)
        if not -(2**63) <= seed <= _U64_MAX:
            raise _args.IntegerOverflow(f"seed must be between -2**63 and 2**64 - 1, got {seed}")
        with self._lock.exclusive:
            call(lib.ann_set_seed, self._live(), seed & _U64_MAX)

    def get_seed(self) -> int:
        """The seed the next build uses or, for a loaded index, the one it was built with."""
        out = c_uint64()
        with self._lock.shared:
            call(lib.ann_get_seed, self._live(), byref(out))
        return out.value

    def verbose(self, v: bool, /) -> bool:
        """Accepted for Annoy compatibility; libann reports problems through exceptions instead."""
        verbose = _args.flag(v)
        self._live()  # a closed index refuses it, as it refuses every other call
        self._verbose = verbose
        return True

    def build(self, n_trees: int, n_jobs: int = -1) -> bool:
        """Builds ``n_trees`` trees (-1: until the index has 2x as many nodes as items) on
        ``n_jobs`` threads (-1: all cores). After ``on_disk_build`` the index maps its file."""
        n_trees, n_jobs = _args.c_int(n_trees), _args.c_int(n_jobs)
        with self._lock.exclusive:
            handle = self._live()
            on_disk = self._state is _State.ADDING and self._path is not None
            errors = Errors(
                state_message={
                    _State.BUILT: "You can't build a built index",
                    _State.MAPPED: "You can't build a loaded index",
                }.get(self._state, "")
            )
            try:
                call(lib.ann_build, handle, n_trees, n_jobs, errors=errors)
            except OSError:
                if on_disk:  # libann resets an index whose on-disk file could not be finished
                    self._state, self._path, self._kind = _State.ADDING, None, None
                raise
            self._state = _State.MAPPED if on_disk else _State.BUILT
        return True

    def build_graph(self, degree: int = 0, n_jobs: int = -1) -> bool:
        """Adds a proximity graph over the items of a built or loaded index, built on ``n_jobs``
        threads (-1: all cores); queries then walk it instead of the trees, usually faster
        for the same recall (``ef`` of the search calls sets its beam width). ``degree`` is
        the most neighbours per item: 0 picks the default (32), up to 256. One seed gives
        the same graph whatever ``n_jobs`` is. Replaces an earlier graph.

        ``save`` writes the graph into the file and ``load`` maps it; ``save_annoy`` writes
        the trees only. It runs without the GIL: other threads go on (queries of this index
        wait for it). ValueError for a degree above 256 or ``n_jobs`` of 0 or below -1;
        Exception before ``build``, and for shards and live indexes (build it on each file,
        or on an exported one).
        """
        degree, n_jobs = _args.bounded(degree, "degree", 0, _INT_MAX), _args.c_int(n_jobs)
        with self._lock.exclusive:
            call(lib.ann_build_graph, self._live(), degree, n_jobs)
            if self._state is _State.MAPPED:
                self._graph_unsaved = True
        return True

    def has_graph(self) -> bool:
        """Whether the index has a graph (``build_graph``, or a file saved with one)."""
        out = c_bool()
        with self._lock.shared:
            call(lib.ann_has_graph, self._live(), byref(out))
        return out.value

    def unbuild(self) -> bool:
        """Drops the trees, keeping the items, so more can be added before building again."""
        with self._lock.exclusive:
            call(
                lib.ann_unbuild, self._live(), errors=Errors(state_message="You can't unbuild a loaded index")
            )
            self._state = _State.ADDING
        return True

    def on_disk_build(self, fn: PathLike) -> bool:
        """Builds into file ``fn`` instead of memory (for indexes larger than RAM); call
        before building. ``build`` then finishes and maps the file."""
        path = _args.path(fn)
        with self._lock.exclusive:
            call(lib.ann_on_disk_build, self._live(), path, errors=PATH_ERRORS)
            self._path, self._kind = os.path.abspath(os.fsdecode(path)), "native"
        return True

    # -- files -------------------------------------------------------------------------

    def save(self, fn: PathLike, prefault: bool = False) -> bool:
        """Saves the built index to ``fn`` (atomically) and, as Annoy does, then maps that
        file: the heap copy is freed and no more items can be added."""
        path, prefault = _args.path(fn), _args.byte_flag(prefault)
        with self._lock.exclusive:
            call(lib.ann_save, self._live(), path, errors=self._save_errors())
            handle = _native.call_new(lib.ann_load, path, prefault, errors=PATH_ERRORS)
            self._adopt_mapping(handle, path, "native", prefault)
        return True

    def save_annoy(self, fn: PathLike) -> bool:
        """Writes the header-less form that Annoy 1.17.3 loads. The index itself is unchanged."""
        path = _args.path(fn)
        with self._lock.shared:
            call(lib.ann_save_annoy, self._live(), path, errors=self._save_errors())
        return True

    def _save_errors(self) -> Errors:
        """Annoy's "hasn't been built" message only where that is the reason."""
        return _SAVE_ERRORS if self._state is _State.ADDING else _SAVE_BUILT_ERRORS

    def load(self, fn: PathLike, prefault: bool = False) -> bool:
        """Memory-maps ``fn``: an ann file (whose metric and dim must match this index), a
        header-less Annoy file (read with this index's metric and dim), or a live index
        directory (read as ``ann.open`` reads it, metric and dim checked). Replaces whatever
        the index held; on failure the index is left as it was."""
        self._load(_args.path(fn), _args.byte_flag(prefault))
        return True

    def load_annoy(self, fn: PathLike, prefault: bool = False) -> bool:
        """Memory-maps ``fn`` as a header-less Annoy 1.17.3 file with this index's f and
        metric, whatever its first bytes are (``load`` tells the two kinds apart itself)."""
        path, prefault = _args.path(fn), _args.byte_flag(prefault)
        with self._lock.exclusive:
            self._live()
            handle = _native.call_new(
                lib.ann_load_annoy, path, self._f, self._metric_code, prefault, errors=PATH_ERRORS
            )
            self._adopt_mapping(handle, path, "annoy", prefault)
        return True

    def _load(self, path: bytes, prefault: bool, expected_kind: Optional[str] = None) -> None:
        """``load``, optionally insisting on the file's kind (unpickling knows what it was)."""
        name = os.fsdecode(path)
        with self._lock.exclusive:
            self._live()
            kind = "live" if os.path.isdir(path) else file_info(path).kind
            if expected_kind is not None and kind != expected_kind:
                raise OSError(
                    f"{name} changed since the index was pickled: "
                    f"it was {expected_kind!r}, it is now {kind!r}"
                )
            if kind == "native":
                handle = _native.call_new(lib.ann_load, path, prefault, errors=PATH_ERRORS)
                self._check_loaded(handle, name)
            elif kind == "live":  # a directory: OSError unless it holds a live index
                handle = _native.call_new(lib.ann_open, path, prefault, errors=PATH_ERRORS)
                self._check_loaded(handle, name)
            elif kind == "annoy":
                handle = _native.call_new(
                    lib.ann_load_annoy, path, self._f, self._metric_code, prefault, errors=PATH_ERRORS
                )
            else:
                raise OSError(
                    f"{name} is not an index: it is empty or its size is not a multiple of 4, "
                    "so it is neither an ann nor an Annoy file"
                )
            self._adopt_mapping(handle, path, kind, prefault)

    def load_shards(self, paths: Iterable[PathLike], prefault: bool = False) -> bool:
        """Memory-maps several ann files as one read-only index (shards): every query form
        searches all of them and merges the results exactly as one index holding every item
        would. The files must share this index's metric and f, and no key may be in two of
        them (checked: O(items)). Replaces whatever the index held; on failure the index is
        left as it was. Adding, building and saving are then errors; ``unload`` empties it.

        ValueError for no paths, shards that differ in metric or dimension, or a key in two
        shards; OSError for a file that cannot be read, as for ``load``.
        """
        if isinstance(paths, (str, bytes, os.PathLike)):
            raise TypeError("paths must be a list of paths (use load for one file)")
        encoded = [_args.path(p) for p in paths]
        prefault = _args.byte_flag(prefault)
        pointers = (c_char_p * len(encoded))(*encoded)
        with self._lock.exclusive:
            self._live()
            handle = _native.call_new(
                lib.ann_open_shards, pointers, len(encoded), prefault, errors=_SHARD_ERRORS
            )
            self._check_loaded(handle, "the shards " + ", ".join(os.fsdecode(p) for p in encoded))
            self._adopt_mapping(handle, None, "shards", prefault, shards=encoded)
        return True

    def _check_loaded(self, handle: int, name: str) -> None:
        """Frees ``handle`` and raises unless the file it maps matches this index's metric and f."""
        try:
            dim, metric = _dim_and_metric(handle)
        except BaseException:
            lib.ann_free(handle)
            raise
        if (dim, metric) != (self._f, self._metric_code):
            lib.ann_free(handle)
            file_metric = _native.metric_name(metric)
            raise OSError(
                f"{name} holds a {file_metric} index of dimension {dim}, but this index was "
                f"created as AnnoyIndex({self._f}, {self._metric!r}); "
                f"use AnnoyIndex({dim}, {file_metric!r}) to load it"
            )

    def unload(self) -> bool:
        """Releases the file mapping or memory; the index is left empty, ready for new items."""
        with self._lock.exclusive:
            call(lib.ann_unload, self._live())
            self._state, self._path, self._kind, self._shards = _State.ADDING, None, None, None
            self._added = array.array("Q")
            self._graph_unsaved = False
        return True

    def refresh(self) -> bool:
        """Catches up with the live index directory this index reads (``ann.open``, ``load``
        of a directory): the writes acknowledged since it was opened or last refreshed, or
        the new generation after a compaction. True if anything changed.

        Safe while other threads query this index: their queries finish on the state they
        started with. A writer's own index is always current, and an index of files never
        changes: for them it returns False.
        """
        changed = c_bool()
        with self._lock.shared:
            call(lib.ann_refresh, self._live(), byref(changed))
        return changed.value

    def export(self, fn: PathLike) -> bool:
        """Writes every item into one new immutable index file ``fn`` (atomically), which
        ``load`` and ``ann.open`` read: a live index's items as a fresh build with its
        writer's settings, every shard's items as one index, or a built index as it is.

        OSError, as for ``save``, when it cannot be written or there is nothing to write
        (an empty live index, an index not built).
        """
        path = _args.path(fn)
        with self._lock.shared:
            call(lib.ann_export, self._live(), path, errors=_EXPORT_ERRORS)
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

    def _check_item(self, handle: int, i: int) -> int:
        """Annoy's id checks for reads, with Annoy's messages (``i`` is already a C int)."""
        if i < 0:
            raise IndexError("Item index can not be negative")
        if i >= self._n_items(handle):
            raise IndexError("Item index larger than the largest item index")
        return i

    def _n_stored(self, handle: int) -> int:
        out = c_uint64()
        call(lib.ann_get_n_stored, handle, byref(out))
        return out.value

    def get_n_items(self) -> int:
        """The largest key added, plus 1 (0 when empty): Annoy's item count for keys added
        densely from 0. ``get_n_stored`` counts the items."""
        with self._lock.shared:
            return self._n_items(self._live())

    def get_n_stored(self) -> int:
        """The number of items stored, each key counted once (over every shard of
        ``load_shards``). Equal to ``get_n_items()`` for keys 0 to n - 1."""
        with self._lock.shared:
            return self._n_stored(self._live())

    def get_n_trees(self) -> int:
        """The number of trees (0 before ``build``)."""
        out = c_uint32()
        with self._lock.shared:
            call(lib.ann_get_n_trees, self._live(), byref(out))
        return out.value

    def get_item_vector(self, i: int, /) -> List[float]:
        """Item ``i``'s vector (0.0/1.0 values for hamming). IndexError for an id never added."""
        i = _args.key(i)
        out = (c_float * self._f)()
        with self._lock.shared:
            handle = self._live()
            call(lib.ann_get_item_vector, handle, self._check_item(handle, i), out, errors=Errors(IndexError))
        return out[:]

    def get_item_bits(self, i: int, /) -> List[int]:
        """Hamming only: item ``i`` as ``ceil(f / 64)`` packed 64-bit words (see ``add_item_bits``)."""
        i = _args.key(i)
        out = (c_uint64 * _args.n_words(self._f))()
        count = c_size_t()
        # For hamming, the only invalid argument left is a hole; otherwise it is the metric.
        errors = Errors(IndexError if self._metric == "hamming" else ValueError)
        with self._lock.shared:
            handle = self._live()
            i = self._check_item(handle, i)
            call(lib.ann_get_item_packed, handle, i, out, len(out), byref(count), errors=errors)
        return out[: count.value]

    def get_distance(self, i: int, j: int, /) -> float:
        """The distance between items ``i`` and ``j``, as a query would report it."""
        i, j = _args.key(i), _args.key(j)
        out = c_float()
        with self._lock.shared:
            handle = self._live()
            i, j = self._check_item(handle, i), self._check_item(handle, j)
            call(lib.ann_get_distance, handle, i, j, byref(out), errors=Errors(IndexError))
        return out.value

    # -- queries -----------------------------------------------------------------------

    def _nns(
        self,
        func: Callable[..., int],
        query_arg: Callable[[int], Any],
        n: int,
        search_k: int,
        include_distances: bool,
        invalid_argument: Type[BaseException],
    ) -> NnsResult:
        """One query through ``func(handle, query, n, search_k, ids, distances, count)``.

        Arguments are already parsed as C ints; ``query_arg(handle)`` gives the query and
        may check an id, which Annoy does before anything else fails.
        """
        count = c_size_t()
        with self._lock.shared:
            handle = self._live()
            query = query_arg(handle)
            n = _args.bounded(n, "n", 0, _INT_MAX)
            search_k = _args.bounded(search_k, "search_k", -1, _INT_MAX)
            width = min(n, self._n_items(handle))  # never more results than item slots
            ids = (c_uint64 * width)()
            distances = (c_float * width)() if include_distances else None
            args = (handle, query, width, search_k, ids, distances, byref(count))
            call(func, *args, errors=Errors(invalid_argument))
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
        i, n, search_k = _args.key(i), _args.c_int(n), _args.c_int(search_k)
        include = _args.flag(include_distances)
        item = functools.partial(self._check_item, i=i)  # checked under the lock, with the handle
        return self._nns(lib.ann_get_nns_by_item, item, n, search_k, include, IndexError)

    def get_nns_by_vector(
        self, vector: Vector, n: int, search_k: int = -1, include_distances: bool = False
    ) -> NnsResult:
        """The ``n`` items nearest to ``vector``; ``(ids, distances)`` if ``include_distances``."""
        n, search_k, include = _args.c_int(n), _args.c_int(search_k), _args.flag(include_distances)
        values = _args.vector(vector, self._f)
        return self._nns(lib.ann_get_nns, lambda handle: values, n, search_k, include, ValueError)

    def get_nns_by_bits(
        self, words: Any, n: int, search_k: int = -1, include_distances: bool = False
    ) -> NnsResult:
        """Hamming only: ``get_nns_by_vector`` for a query of packed words (see ``add_item_bits``)."""
        n, search_k, include = _args.c_int(n), _args.c_int(search_k), _args.flag(include_distances)
        count = _args.n_words(self._f)
        packed = _args.words(words, count)

        def query(handle: int, _query: Any, *rest: Any) -> int:
            return lib.ann_get_nns_packed(handle, packed, count, *rest)

        return self._nns(query, lambda handle: None, n, search_k, include, ValueError)

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
        query found fewer items, and a float32 distance array with NaN there. An index with
        a key of 2**63 or more, which int64 cannot hold, gives uint64 ids instead, with
        ``ann.NO_KEY`` (2**64 - 1) where a query found fewer items. Without numpy: a list of
        id lists (and of distance lists), each as long as its query's results.
        """
        n = _args.bounded(n, "n", 0, _INT_MAX)
        search_k = _args.bounded(search_k, "search_k", -1, _INT_MAX)
        n_threads = _args.c_int(n_threads)
        include_distances = _args.flag(include_distances)
        np = _batch_numpy()
        matrix, n_queries = _args.matrix(vectors, self._f, np)

        def run(handle: int, width: int, outputs: Tuple[Any, Any, Any]) -> None:
            args = (handle, matrix, n_queries, width, search_k, n_threads, *outputs)
            call(lib.ann_get_nns_batch, *args)

        return self._batch(run, self._n_items, n, n_queries, include_distances, np, trim=False)

    def _batch(
        self,
        run: Callable[[int, int, Tuple[Any, Any, Any]], None],
        capacity: Callable[[int], int],
        n: int,
        n_queries: int,
        include_distances: bool,
        np: Any,
        trim: bool,
    ) -> Any:
        """A batch query: ``run(handle, width, (ids, distances, counts))`` fills rows of
        ``width = min(n, capacity(handle))`` slots; the results as ``get_nns_by_vectors``
        returns them, cut to the longest row if ``trim``."""
        with self._lock.shared:
            handle = self._live()
            width = min(n, capacity(handle))
            wide_keys = self._n_items(handle) > _INT64_KEYS_BELOW
            if np is not None:
                ids = np.empty((n_queries, width), dtype=np.uint64)
                distances = np.empty((n_queries, width), dtype=np.float32) if include_distances else None
                counts = np.empty(n_queries, dtype=np.uintp)
                pointers = (
                    ids.ctypes.data_as(_args.U64S),
                    distances.ctypes.data_as(_args.FLOATS) if distances is not None else None,
                    counts.ctypes.data_as(_args.SIZES),
                )
            else:
                ids = (c_uint64 * (n_queries * width))()
                distances = (c_float * (n_queries * width))() if include_distances else None
                counts = (c_size_t * n_queries)()
                pointers = (ids, distances, counts)
            run(handle, width, pointers)
        if np is not None:
            if trim:
                used = int(counts.max()) if n_queries else width
                ids = ids[:, :used]
                distances = distances[:, :used] if distances is not None else None
            if not wide_keys:
                ids = ids.view(np.int64)  # the C marker UINT64_MAX reads as -1
            return (ids, distances) if include_distances else ids
        id_rows = [ids[q * width : q * width + counts[q]] for q in range(n_queries)]
        if not include_distances:
            return id_rows
        return id_rows, [distances[q * width : q * width + counts[q]] for q in range(n_queries)]  # type: ignore[index]

    # -- filtered searches -------------------------------------------------------------

    def _search(
        self,
        func: Callable[..., int],
        query_arg: Callable[[int], Any],
        n: int,
        options: Optional[SearchOptions],
        include_distances: bool,
        invalid_argument: Type[BaseException],
    ) -> NnsResult:
        """One search through ``func(handle, query, n, options, ids, distances, count)``."""
        count = c_size_t()
        with self._lock.shared:
            handle = self._live()
            query = query_arg(handle)
            width = min(n, self._n_stored(handle))  # never more results than items
            ids = (c_uint64 * width)()
            distances = (c_float * width)() if include_distances else None

            def run(options_handle: Optional[int]) -> int:
                return func(handle, query, width, options_handle, ids, distances, byref(count))

            call_with(options, False, run, Errors(invalid_argument))
        found = count.value
        if include_distances:
            return ids[:found], distances[:found]  # type: ignore[index]
        return ids[:found]

    def search(
        self,
        vector: Vector,
        n: int,
        options: Optional[SearchOptions] = None,
        *,
        search_k: Optional[int] = None,
        allow: Optional[Iterable[int]] = None,
        deny: Optional[Iterable[int]] = None,
        filter: Optional[Predicate] = None,
        ef: Optional[int] = None,
        include_distances: bool = False,
    ) -> NnsResult:
        """The ``n`` items nearest to ``vector`` that the filter accepts, nearest first;
        ``(ids, distances)`` if ``include_distances``.

        Unlike ``get_nns_by_vector``, it returns exactly ``min(n, items accepted)`` results,
        however selective the filter. Search with ``options`` (a :class:`SearchOptions`, for
        reuse) or with the same settings as keywords for this call only, not both: only
        accepted candidates count toward ``search_k`` (-1: ``n * n_trees``); ``allow`` and
        ``deny`` are lists of keys; ``filter`` a callable ``filter(key) -> bool``, whose
        exception, if it raises one, this call raises; ``ef`` is the beam width of a graph
        search (see ``build_graph``; 0: ``max(n, 32, search_k // 16)``).
        """
        n = _args.count(n, "n")
        values = _args.vector(vector, self._f)
        include = _args.switch(include_distances, "include_distances")
        with Resolved(options, search_k, allow, deny, filter, ef) as resolved:
            return self._search(
                lib.ann_search, lambda handle: values, n, resolved.options, include, ValueError
            )

    def search_by_item(
        self,
        i: int,
        n: int,
        options: Optional[SearchOptions] = None,
        *,
        search_k: Optional[int] = None,
        allow: Optional[Iterable[int]] = None,
        deny: Optional[Iterable[int]] = None,
        filter: Optional[Predicate] = None,
        ef: Optional[int] = None,
        include_distances: bool = False,
    ) -> NnsResult:
        """``search`` with item ``i``'s vector as the query (``i`` itself is among the
        results if the filter accepts it). A key never added is an IndexError."""
        i, n = _args.key(i), _args.count(n, "n")
        item = functools.partial(self._check_item, i=i)
        include = _args.switch(include_distances, "include_distances")
        with Resolved(options, search_k, allow, deny, filter, ef) as resolved:
            return self._search(lib.ann_search_by_item, item, n, resolved.options, include, IndexError)

    def search_batch(
        self,
        vectors: Any,
        n: int,
        options: Optional[SearchOptions] = None,
        *,
        search_k: Optional[int] = None,
        allow: Optional[Iterable[int]] = None,
        deny: Optional[Iterable[int]] = None,
        filter: Optional[Predicate] = None,
        ef: Optional[int] = None,
        n_threads: int = -1,
        include_distances: bool = False,
    ) -> Any:
        """``search`` for each row of ``vectors``, on ``n_threads`` threads (-1: all cores),
        returned as ``get_nns_by_vectors`` returns its results: with numpy, arrays of shape
        ``(n_queries, min(n, items accepted))`` (int64 ids, or uint64 for an index with keys
        of 2**63 or more); without numpy, lists. ``filter`` is called from libann's threads,
        taking the GIL for each call.
        """
        n = _args.count(n, "n")
        n_threads = _args.c_int(n_threads)
        include_distances = _args.switch(include_distances, "include_distances")
        np = _batch_numpy()
        matrix, n_queries = _args.matrix(vectors, self._f, np)
        with Resolved(options, search_k, allow, deny, filter, ef) as resolved:

            def run(handle: int, width: int, outputs: Tuple[Any, Any, Any]) -> None:
                def batch(options_handle: Optional[int]) -> int:
                    args = (handle, matrix, n_queries, width, options_handle, n_threads, *outputs)
                    return lib.ann_search_batch(*args)

                call_with(resolved.options, True, batch, Errors())

            return self._batch(run, self._n_stored, n, n_queries, include_distances, np, trim=True)

    # -- pickling ----------------------------------------------------------------------

    def __reduce__(self) -> Tuple[Any, Tuple[Any, ...]]:
        """Pickles by reference for a file-backed index (its path), by value otherwise: a
        built index as its file bytes, an unbuilt one as its items and seed."""
        with self._lock.shared:
            handle = self._live()
            state = {"f": self._f, "metric": self._metric, "verbose": self._verbose}
            if self._state is _State.MAPPED and self._shards is not None:
                state.update(form="shards", paths=self._shards, prefault=self._prefault)
            elif self._state is _State.MAPPED and self._path is not None and not self._graph_unsaved:
                # A writer's index pickles as its directory: unpickled, it is a reader of it.
                kind = "live" if self._kind == "writer" else self._kind
                state.update(form="file", path=self._path, kind=kind, prefault=self._prefault)
            elif self._state is not _State.ADDING:
                state.update(form="bytes", data=_pickling.file_bytes(handle))
            else:
                state.update(form="items", **_pickling.items(handle, self._f, self._added))
        return _pickling.restore, (type(self), state)


def _dim_and_metric(handle: int) -> Tuple[int, int]:
    """The dimension and metric code of a native index."""
    dim, metric = c_uint32(), c_uint32()
    call(lib.ann_get_dim, handle, byref(dim))
    call(lib.ann_get_metric, handle, byref(metric))
    return dim.value, metric.value


#: Pickles made before ``_pickling`` existed name this function.
_restore = _pickling.restore
