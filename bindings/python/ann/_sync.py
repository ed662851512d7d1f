"""A shared/exclusive lock guarding one native handle.

ctypes releases the GIL during every C call, so without this a ``close()``, ``load()`` or
``unload()`` in one thread could free or replace the handle while another thread is still
querying it: a use-after-free, i.e. a crash, which a Python user must never see. Queries
hold the lock shared (so they still run in parallel, as libann allows for
``const ann_index *``); calls that change or free the index hold it exclusively, which is
also what libann requires for ``ann_index *``.

Waiting writers block new readers, so a ``close()`` cannot be starved by a stream of queries,
except inside a search filter: a filter may search again (libann allows it), and a nested
search must not queue behind a writer that waits for the very search running the filter.
After ``fork()`` the child resets every lock: threads that held one in the parent do not
exist in the child, and their stale counts would otherwise block it forever.
"""

from __future__ import annotations

import os
import threading
import weakref
from types import TracebackType
from typing import Optional, Type

_live_locks: "weakref.WeakSet[SharedLock]" = weakref.WeakSet()


class _FilterDepth(threading.local):
    """How many search filters the current thread is running (filters that search nest)."""

    value = 0  # each thread starts at 0


#: Search filters add 1 while they run (``options.py``), so locks know they are nested.
filter_depth = _FilterDepth()


class SharedLock:
    """Many readers or one writer: ``with lock.shared:`` / ``with lock.exclusive:``."""

    def __init__(self) -> None:
        self._reset()
        self.shared = _Side(self._acquire_shared, self._release_shared)
        self.exclusive = _Side(self._acquire_exclusive, self._release_exclusive)
        _live_locks.add(self)

    def _reset(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._readers = 0
        self._writing = False
        self._writers_waiting = 0

    def _acquire_shared(self) -> None:
        # Inside a filter an enclosing search may hold this lock shared: then a waiting writer
        # waits for it, and queueing behind the writer would never end.
        nested = filter_depth.value > 0
        with self._cond:
            while self._writing or (self._writers_waiting and not nested):
                self._cond.wait()
            self._readers += 1

    def _release_shared(self) -> None:
        with self._cond:
            self._readers -= 1
            if self._readers == 0:
                self._cond.notify_all()

    def _acquire_exclusive(self) -> None:
        with self._cond:
            self._writers_waiting += 1
            try:
                while self._writing or self._readers:
                    self._cond.wait()
            finally:
                self._writers_waiting -= 1
            self._writing = True

    def _release_exclusive(self) -> None:
        with self._cond:
            self._writing = False
            self._cond.notify_all()


class _Side:
    """One side of a :class:`SharedLock` as a context manager (no generator overhead)."""

    __slots__ = ("_acquire", "_release")

    def __init__(self, acquire, release) -> None:  # type: ignore[no-untyped-def]
        self._acquire = acquire
        self._release = release

    def __enter__(self) -> None:
        self._acquire()

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self._release()


def _reset_after_fork() -> None:
    for lock in list(_live_locks):
        lock._reset()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)
