"""``SearchOptions``: how ``AnnoyIndex.search`` and its by-item and batch forms search.

An options object holds ``search_k``, ``ef`` (for an index with a graph) and a filter (an
allow-list, a deny-list, a Python callable, or any combination) in one native
``ann_search_options``, made once and reused by any number of searches, from any number of
threads at once. It is immutable: make another
one to search differently.

The callable runs inside libann's search through a ctypes callback. Searches release the
GIL, and ctypes takes it around each call of the callable, from whichever thread makes it:
the calling thread for ``search``, libann's own worker threads for ``search_batch``. An
exception raised by the callable cannot cross C: the key is refused, the first exception
is kept, and the search call raises it once libann returns. To know which call an exception
belongs to, single searches record it per calling thread, and batch searches sharing one
options object with a callable run one at a time (each still on all its threads).

A worker thread keeps the Python thread state of its first call until it exits
(``_threads``), instead of making one per call. Calls of the callable still take the GIL,
so they run one at a time whatever ``n_threads`` is: allow- and deny-lists, checked inside
libann, are the fast filters.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Dict, Iterable, List, Optional

from . import _args, _native
from ._native import Errors, call, lib
from ._sync import SharedLock, filter_depth
from ._threads import keep_thread_state, kept

Predicate = Callable[[int], Any]


class _Scope:
    """Where one search call keeps the first exception its filter raised."""

    __slots__ = ("error",)

    def __init__(self) -> None:
        self.error: Optional[BaseException] = None


class _PerThread(threading.local):
    """A sink's state per thread."""

    def __init__(self) -> None:
        self.scopes: List[_Scope] = []  # the search calls with these options on this thread
        self.batch_callbacks = 0  # > 0 inside the filter, called by a batch search


class _Sink:
    """Routes a filter's exceptions to the search call they belong to.

    A single search runs its filter on the calling thread, which has the call's scope on a
    thread-local stack (a stack, because a filter may search again). Batch workers are
    threads libann starts: they have no stack, and belong to ``batch``, the one batch
    search in flight with these options (``batch_lock``).
    """

    def __init__(self) -> None:
        self.local = _PerThread()
        self.batch: Optional[_Scope] = None
        self.batch_lock = threading.Lock()

    def record(self, error: BaseException) -> None:
        stack = self.local.scopes
        scope = stack[-1] if stack else self.batch
        if scope is not None and scope.error is None:
            scope.error = error

    def running_batch_callback(self) -> bool:
        """True on a thread that is inside this filter, called by a batch search."""
        return self.local.batch_callbacks > 0


def _trampoline(predicate: Predicate, sink: _Sink) -> Any:
    """The C callback for ``predicate``. It holds the predicate and the sink, not the
    options, so dropping the options frees them at once (no reference cycle)."""
    local = sink.local

    def accept(key: int, _context: Any) -> bool:
        batch = not local.scopes
        if batch:  # a libann worker thread: no search call runs on it
            if not kept.done:
                keep_thread_state()
            local.batch_callbacks += 1
        filter_depth.value += 1
        try:
            return bool(predicate(key))
        except BaseException as error:  # noqa: B036 - anything, KeyboardInterrupt too, refuses the key
            sink.record(error)
            return False
        finally:
            filter_depth.value -= 1
            if batch:
                local.batch_callbacks -= 1

    return _native.FILTER(accept)


class SearchOptions:
    """How a search searches: ``search_k``, ``ef`` and which keys it may return.

    ``SearchOptions(search_k=-1, allow=None, deny=None, filter=None, ef=0)``:

    - ``search_k``: how many accepted candidates to collect; -1 means ``n * n_trees``.
    - ``allow``: only these keys may be returned (an iterable of ints or an integer numpy
      array, copied; order and repeats do not matter; an empty list accepts nothing).
    - ``deny``: these keys may not be returned.
    - ``filter``: a callable ``filter(key) -> bool``; only keys it accepts may be returned.
      It may be called from several threads at once (batch searches, shared options). An
      exception it raises refuses the key, and the search raises it afterwards.
    - ``ef``: the beam width of a graph search (``AnnoyIndex.build_graph``): how many nodes
      the walk keeps, at least ``n``; larger gives better recall and slower searches. 0
      derives it from ``search_k`` as ``max(n, 32, search_k // 16)``. Indexes without a graph
      ignore it.

    A key is accepted when it is in ``allow`` (if given), not in ``deny``, and ``filter``
    (if given) returns true. Reusable by any number of searches, concurrently too; free it
    with ``close()`` or a ``with`` block (the garbage collector frees it otherwise).
    """

    def __init__(
        self,
        search_k: int = -1,
        allow: Optional[Iterable[int]] = None,
        deny: Optional[Iterable[int]] = None,
        filter: Optional[Predicate] = None,
        ef: int = 0,
    ) -> None:
        self._handle: Optional[int] = None  # set last, so __del__ copes with a failed __init__
        search_k = _args.search_k(search_k)
        ef = _args.ef(ef)
        if filter is not None and not callable(filter):
            raise TypeError(f"filter must be a callable taking a key, not {type(filter).__name__}")
        lists = {
            name: _args.keys(keys, name)
            for name, keys in (("allow", allow), ("deny", deny))
            if keys is not None
        }
        self._search_k = search_k
        self._ef = ef
        self._filter = filter
        self._sizes: Dict[str, int] = {name: size for name, (_, size) in lists.items()}
        self._lock = SharedLock()
        self._sink: Optional[_Sink] = None
        self._callback: Any = None  # libann may call it as long as the handle lives
        if filter is not None:
            self._sink = _Sink()
            self._callback = _trampoline(filter, self._sink)
        handle = _native.call_new(lib.ann_search_options_new)
        try:
            call(lib.ann_search_options_set_search_k, handle, search_k)
            call(lib.ann_search_options_set_ef, handle, ef)
            setters = {
                "allow": lib.ann_search_options_set_allow_list,
                "deny": lib.ann_search_options_set_deny_list,
            }
            for name, (pointer, size) in lists.items():
                call(setters[name], handle, pointer, size)
            if self._callback is not None:
                call(lib.ann_search_options_set_filter, handle, self._callback, None)
        except BaseException:
            lib.ann_search_options_free(handle)
            raise
        self._handle = handle

    # -- attributes -------------------------------------------------------------------

    @property
    def search_k(self) -> int:
        """Accepted candidates to collect; -1 means ``n * n_trees``."""
        return self._search_k

    @property
    def ef(self) -> int:
        """The beam width of a graph search; 0 means ``max(n, 32, search_k // 16)``."""
        return self._ef

    @property
    def filter(self) -> Optional[Predicate]:
        """The callable filter, or None."""
        return self._filter

    def __repr__(self) -> str:
        if self._handle is None:
            return "<SearchOptions closed>"
        parts = [f"search_k={self._search_k}"]
        if self._ef:
            parts.append(f"ef={self._ef}")
        parts += [f"{name}=<{size} keys>" for name, size in self._sizes.items()]
        if self._filter is not None:
            parts.append(f"filter={self._filter!r}")
        return f"<SearchOptions {' '.join(parts)}>"

    def __reduce__(self) -> Any:
        raise TypeError("SearchOptions cannot be pickled or copied: make a new one where it is needed")

    # -- handle life cycle -----------------------------------------------------------

    def _live(self) -> int:
        if self._handle is None:
            raise ValueError("these SearchOptions are closed: create new ones")
        return self._handle

    def close(self) -> None:
        """Frees the native options now; searches given them later raise ValueError.

        Waits for searches using them in other threads to finish. Closing twice is fine.
        """
        if self._sink is not None and (self._sink.local.scopes or self._sink.running_batch_callback()):
            raise RuntimeError("SearchOptions cannot be closed from inside their own filter")
        with self._lock.exclusive:
            if self._handle is not None:
                handle, self._handle = self._handle, None
                lib.ann_search_options_free(handle)
                self._callback = None

    def __enter__(self) -> "SearchOptions":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self, _free: Any = lib.ann_search_options_free) -> None:
        # No lock: an object being collected has no other references, so no search uses it.
        handle = getattr(self, "_handle", None)
        if handle is not None:
            self._handle = None
            _free(handle)


class _Use:
    """Entered around one search's C call (see :func:`call_with`): keeps the options open
    (shared lock) and collects the first exception the filter raises during the call."""

    __slots__ = ("_options", "_batch", "_scope", "_pushed")

    def __init__(self, options: SearchOptions, batch: bool) -> None:
        self._options = options
        self._batch = batch
        self._scope = _Scope()
        self._pushed: Optional[List[_Scope]] = None

    def __enter__(self) -> int:
        options = self._options
        sink = options._sink
        if self._batch and sink is not None and sink.running_batch_callback():
            raise RuntimeError(
                "a filter called by search_batch cannot run search_batch with the same SearchOptions"
            )
        options._lock._acquire_shared()
        try:
            handle = options._live()
            if sink is not None:
                if self._batch:
                    sink.batch_lock.acquire()
                    sink.batch = self._scope
                stack = sink.local.scopes
                stack.append(self._scope)
                self._pushed = stack
        except BaseException:
            options._lock._release_shared()
            raise
        return handle

    def __exit__(self, *exc_info: object) -> None:
        sink = self._options._sink
        if self._pushed is not None:
            self._pushed.pop()
        if self._batch and sink is not None:
            sink.batch = None
            sink.batch_lock.release()
        self._options._lock._release_shared()

    def raise_filter_error(self) -> None:
        """Raises the first exception the filter raised during this search, if any."""
        error, self._scope.error = self._scope.error, None
        if error is not None:
            raise error


class Resolved:
    """The options of one search call: the ``options`` given, or options made from the
    keywords for this call only (closed after it), or None for the defaults."""

    __slots__ = ("options", "_owned")

    def __init__(
        self,
        options: Optional[SearchOptions],
        search_k: Optional[int],
        allow: Optional[Iterable[int]],
        deny: Optional[Iterable[int]],
        filter: Optional[Predicate],
        ef: Optional[int] = None,
    ) -> None:
        keywords = any(value is not None for value in (search_k, allow, deny, filter, ef))
        self._owned = False
        if options is not None:
            if not isinstance(options, SearchOptions):
                raise TypeError(f"options must be SearchOptions or None, not {type(options).__name__}")
            if keywords:
                raise TypeError("pass either options or search_k/allow/deny/filter/ef, not both")
            self.options: Optional[SearchOptions] = options
        elif keywords:
            self.options = SearchOptions(
                -1 if search_k is None else search_k, allow, deny, filter, 0 if ef is None else ef
            )
            self._owned = True
        else:
            self.options = None

    def __enter__(self) -> "Resolved":
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._owned and self.options is not None:
            self.options.close()


def call_with(
    options: Optional[SearchOptions], batch: bool, func: Callable[[Optional[int]], int], errors: Errors
) -> None:
    """Runs ``func(options_handle)`` (None: the defaults) and raises what went wrong: first
    an exception the filter raised, then a failed status, as ``errors`` maps it."""
    if options is None:
        status = func(None)
    else:
        use = _Use(options, batch)
        handle = use.__enter__()
        try:
            status = func(handle)
        finally:
            use.__exit__()
        use.raise_filter_error()
    if status != _native.STATUS_OK:
        _native.raise_status(status, errors)
