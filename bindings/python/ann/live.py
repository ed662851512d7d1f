"""Live indexes: a directory that one ``Writer`` changes and any number of processes read.

A live index is a directory of immutable segment files, a write-ahead log and a manifest
(libann keeps them; nothing here knows their format). The one :class:`Writer` of a directory
upserts and deletes items, durably, and compacts; readers query it through ordinary
``AnnoyIndex`` objects: ``Writer.index()`` sees every write as soon as it returns, and
:func:`open` maps the directory (or an index file) read-only, without a lock, catching up
with later writes when asked (``AnnoyIndex.refresh``).

Every writer call releases the GIL (ctypes), and libann synchronises the writer itself, so
threads may upsert, delete, sync, compact and query at once; concurrent upserts share one log
sync. ``close`` waits for the calls running on other threads, as ``AnnoyIndex.close`` does.
"""

from __future__ import annotations

import operator
import os
import weakref
from ctypes import byref, c_bool, c_size_t
from typing import Any, Dict, Iterable, Optional, Tuple, Union

from . import _args, _native
from ._args import PathLike, Vector
from ._native import Errors, call, lib
from ._sync import SharedLock
from .index import AnnoyIndex

#: Writer calls: a bad value (NaN, the reserved key, another dim or metric than the
#: directory's) is a ValueError; another writer holding the directory a RuntimeError; a log
#: that cannot be written, or a damaged directory, an OSError.
_ERRORS = Errors(invalid_argument=ValueError, invalid_state=RuntimeError)

_DURABILITY: Dict[str, int] = {"sync": _native.DURABILITY_SYNC, "timer": _native.DURABILITY_TIMER}
_U32_MAX = 2**32 - 1

_open_writers: "weakref.WeakSet[Writer]" = weakref.WeakSet()


def _key(value: Any) -> int:
    """An item key for the writer: any int from 0 to ``2**64 - 2``."""
    key = operator.index(value)
    if 0 <= key <= _args.MAX_KEY:
        return key
    if key == _args.MAX_KEY + 1:
        raise _args.IntegerOverflow("key 2**64 - 1 is reserved (it means 'no key'): keys are 0 to 2**64 - 2")
    if key > 0:
        raise _args.IntegerOverflow(f"key {key} does not fit 64 bits: keys are 0 to 2**64 - 2")
    raise ValueError(f"key {key} is negative: keys are 0 to 2**64 - 2")


def _graph(value: Any) -> Tuple[bool, int]:
    """The ``graph`` option as ``ann_writer_options_set_graph`` takes it: (enabled, degree)."""
    if isinstance(value, bool):
        return value, 0
    try:
        degree = operator.index(value)
    except TypeError:
        raise TypeError(f"graph must be a bool or an int degree, not {type(value).__name__}") from None
    if not 1 <= degree <= _U32_MAX:  # the library checks the upper bound; ctypes would wrap
        raise ValueError(f"graph must be True, False or a degree between 1 and 256, got {degree}")
    return True, degree


class Writer:
    """The one writer of the live index directory ``path``, created (with its parents) when
    missing. An existing directory must hold vectors of ``f`` values and this ``metric``
    (else ValueError); a directory that another writer, in any process, holds open is a
    RuntimeError until that writer closes.

    ``durability="sync"`` (the default): ``upsert`` and ``delete`` return once the write is
    in the log and the log is synced (concurrent calls share one sync), so it survives a
    process crash and a power loss. ``durability="timer"``: they return once the write is in
    the log, which is synced every ``flush_ms`` milliseconds (1 to 60000) and by ``sync()``;
    a process crash loses nothing, a power loss the writes of the last ``flush_ms``.
    ``n_trees`` is the tree count of the segments ``compact`` builds (-1: Annoy's automatic
    count). ``graph=True``, or a degree from 1 to 256, has ``compact`` (and ``export`` of the
    writer's index) build a graph into each new segment, as ``AnnoyIndex.build_graph``
    would, so queries on compacted items walk it; True picks the default degree (32), False
    (the default) builds none.

    Use it as a context manager, or ``close()`` it: that syncs the log and releases the
    directory. The garbage collector closes a writer that was forgotten.
    """

    def __init__(
        self,
        path: PathLike,
        f: int,
        metric: str,
        *,
        durability: str = "sync",
        flush_ms: int = 100,
        n_trees: int = 50,
        graph: Union[bool, int] = False,
    ) -> None:
        self._handle: Optional[int] = None  # set last, so __del__ copes with a failed __init__
        encoded = _args.path(path)
        f = _args.c_int(f)
        if f < 1:
            raise ValueError(f"f must be at least 1, got {f}")
        if not isinstance(metric, str):
            raise TypeError(f"metric must be a str, not {type(metric).__name__}")
        metric_code = _native.metric_code(metric)
        if not isinstance(durability, str):
            raise TypeError(f"durability must be a str, 'sync' or 'timer', not {type(durability).__name__}")
        if durability not in _DURABILITY:
            raise ValueError(f"durability must be 'sync' or 'timer', got {durability!r}")
        flush_ms = operator.index(flush_ms)
        if not 0 <= flush_ms <= _U32_MAX:  # the library checks the range; ctypes would wrap
            raise ValueError(f"flush_ms must be between 1 and 60000, got {flush_ms}")
        n_trees = _args.c_int(n_trees)
        enabled, degree = _graph(graph)
        self._f, self._metric = f, _native.metric_name(metric_code)
        self._path = os.path.abspath(os.fsdecode(encoded))
        self._durability, self._flush_ms, self._n_trees = durability, flush_ms, n_trees
        self._graph: Union[bool, int] = degree if degree else enabled
        self._lock = SharedLock()
        self._forked = False
        options = _native.call_new(lib.ann_writer_options_new, f, metric_code)
        try:
            call(lib.ann_writer_options_set_durability, options, _DURABILITY[durability])
            call(lib.ann_writer_options_set_flush_ms, options, flush_ms)
            call(lib.ann_writer_options_set_n_trees, options, n_trees)
            call(lib.ann_writer_options_set_graph, options, enabled, degree)
            self._handle = _native.call_new(lib.ann_writer_open, encoded, options, errors=_ERRORS)
        finally:
            lib.ann_writer_options_free(options)
        _open_writers.add(self)

    # -- attributes -------------------------------------------------------------------

    @property
    def path(self) -> str:
        """The live index directory (absolute)."""
        return self._path

    @property
    def f(self) -> int:
        """The number of values per vector (bits, for hamming)."""
        return self._f

    @property
    def metric(self) -> str:
        """The canonical metric name ("cosine" is reported as "angular")."""
        return self._metric

    @property
    def durability(self) -> str:
        """ "sync" or "timer": when a write counts as done (see the class)."""
        return self._durability

    @property
    def flush_ms(self) -> int:
        """Milliseconds between log syncs in timer mode."""
        return self._flush_ms

    @property
    def n_trees(self) -> int:
        """Trees of the segments ``compact`` builds (-1: Annoy's automatic count)."""
        return self._n_trees

    @property
    def graph(self) -> Union[bool, int]:
        """The graph of the segments ``compact`` builds: False (none), True (the default
        degree, 32) or the degree, the most neighbours per item."""
        return self._graph

    @property
    def closed(self) -> bool:
        """True once ``close`` ran (or in a child process forked from the writer's)."""
        return self._handle is None

    def __repr__(self) -> str:
        state = " closed" if self._handle is None else ""
        return f"<ann.Writer {self._path!r} f={self._f} metric={self._metric!r} {self._durability}{state}>"

    def __reduce__(self) -> Any:
        raise TypeError(
            "a Writer cannot be pickled: it holds its directory's lock in this process; "
            "pickle writer.index(), which unpickles as a reader of the directory"
        )

    # -- life cycle --------------------------------------------------------------------

    def _live(self) -> int:
        """The native writer; a clear error instead of a crash once it is closed."""
        if self._handle is None:
            if self._forked:
                raise ValueError(
                    "this Writer belongs to the process that opened it, not to this forked child: "
                    "read the directory with ann.open, or open a Writer here once the parent closed its own"
                )
            raise ValueError("this Writer is closed: open a new ann.Writer on its directory")
        return self._handle

    def close(self) -> None:
        """Syncs the log and releases the directory for another writer. Waits for calls
        running on other threads (a compaction, say) to finish first. Closing twice is
        fine. Indexes from ``index()`` stay usable, and stop changing."""
        with self._lock.exclusive:
            if self._handle is not None:
                handle, self._handle = self._handle, None
                lib.ann_writer_free(handle)

    def __enter__(self) -> "Writer":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self, _free: Any = lib.ann_writer_free) -> None:
        # No lock: an object being collected has no other references, so no thread is using it.
        # `_free` is bound at definition time because module globals may be gone at shutdown.
        handle = getattr(self, "_handle", None)
        if handle is not None:
            self._handle = None
            _free(handle)

    # -- writes ------------------------------------------------------------------------

    def upsert(self, key: int, vector: Vector) -> None:
        """Adds the item ``key`` (0 to ``2**64 - 2``), or replaces its vector if it exists.
        Returns once the write is durable as ``durability`` says; ``index()`` sees it at once.

        ValueError for NaN or infinite values or the reserved key ``2**64 - 1``;
        IndexError for a vector of the wrong length, as in ``AnnoyIndex.add_item``.
        """
        key = _key(key)
        values = _args.vector(vector, self._f)  # a float32 numpy row is passed in place
        with self._lock.shared:
            call(lib.ann_upsert, self._live(), key, values, errors=_ERRORS)

    def upsert_many(self, keys: Iterable[int], vectors: Any) -> None:
        """``upsert`` for each key and the matching row of ``vectors`` (a matrix: a numpy
        array, passed without a copy when it is float32 and C-contiguous, or a sequence of
        vectors), logged as one record: after a crash all of them are there, or none."""
        block, n = _args.keys(keys, "keys")
        matrix, n_rows = _args.matrix(vectors, self._f, _args.import_numpy())
        if n_rows != n:
            raise ValueError(f"{n} keys but {n_rows} vectors: give one vector per key")
        with self._lock.shared:
            call(lib.ann_upsert_batch, self._live(), block, matrix, n, errors=_ERRORS)

    def delete(self, key: int) -> bool:
        """Deletes the item ``key``; True if it was there (an unknown key is not an error;
        the reserved ``NO_KEY`` is: ``IntegerOverflow``). Durable as ``upsert``; no query
        returns the key once this returns."""
        key = _key(key)
        existed = c_bool()
        with self._lock.shared:
            call(lib.ann_delete, self._live(), key, byref(existed), errors=_ERRORS)
        return existed.value

    def delete_many(self, keys: Iterable[int]) -> int:
        """Deletes every key of ``keys`` as one record; returns how many were there. Keys
        holding the reserved ``NO_KEY`` are refused whole (``ValueError``)."""
        block, n = _args.keys(keys, "keys")
        deleted = c_size_t()
        with self._lock.shared:
            call(lib.ann_delete_batch, self._live(), block, n, byref(deleted), errors=_ERRORS)
        return deleted.value

    def sync(self) -> None:
        """Syncs the log now: every write made so far is on disk when it returns (for
        ``durability="timer"``; with "sync" every write already is)."""
        with self._lock.shared:
            call(lib.ann_sync, self._live(), errors=_ERRORS)

    def compact(self, n_jobs: int = -1) -> None:
        """Folds every live item into one new segment of ``n_trees`` trees (and a graph, when
        ``graph`` asks for one), built on ``n_jobs`` threads (-1: all cores), then switches
        the directory to it and removes the old files (readers that map them keep them until
        they refresh).

        It runs on the calling thread, without the GIL: call it from a thread of your choosing
        while other threads go on writing and querying. On failure (a full disk, say) the
        directory keeps its current state and the OSError says why.
        """
        n_jobs = _args.c_int(n_jobs)
        with self._lock.shared:
            call(lib.ann_compact, self._live(), n_jobs, errors=_ERRORS)

    # -- reads -------------------------------------------------------------------------

    def index(self) -> AnnoyIndex:
        """A read-only ``AnnoyIndex`` on this live index that sees every write as soon as the
        write returns: every query method works (``get_nns_by_*``, ``search*``,
        ``get_item_vector``...), and ``export`` writes its items as one file. Adding,
        building and saving are errors. It may outlive the writer (then it stops changing)
        and is closed on its own."""
        with self._lock.shared:
            handle = _native.call_new(lib.ann_writer_index, self._live())
        return AnnoyIndex._wrap(handle, os.fsencode(self._path), "writer", False)


def open(path: PathLike, prefault: bool = False) -> AnnoyIndex:
    """Opens ``path`` read-only as an ``AnnoyIndex`` with the dimension and metric it holds:
    a live index directory, read without a lock, or an index file written by ``save`` or
    ``export`` (as ``load``; header-less Annoy files need ``AnnoyIndex(f, metric).load``).

    A directory is seen as of the open, every acknowledged write included; ``refresh()``
    catches up with later writes and compactions. ``prefault`` reads the mapping in at once.
    OSError for a path that holds no index.
    """
    encoded, prefault = _args.path(path), _args.byte_flag(prefault)
    handle = _native.call_new(lib.ann_open, encoded, prefault, errors=_native.PATH_ERRORS)
    kind = "live" if os.path.isdir(encoded) else "native"
    return AnnoyIndex._wrap(handle, encoded, kind, prefault)


def _forget_after_fork() -> None:
    # A forked child has a copy of each writer, not its threads or its lock: freeing it there
    # would wait for a timer thread that does not exist. The child leaves it alone.
    for writer in list(_open_writers):
        if writer._handle is not None:
            writer._handle, writer._forked = None, True


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)
