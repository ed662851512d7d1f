"""One Python thread state per libann worker thread, instead of one per filter call.

A ctypes callback called on a thread Python did not create (``search_batch`` runs on
threads libann starts) makes a Python thread state for the call and destroys it on return.
That costs several microseconds per call, ten times the cost of a simple filter itself.
:func:`keep_thread_state` keeps the thread state of such a thread for the thread's life
instead: it takes one more ``PyGILState_Ensure`` reference, and registers a thread-exit
function (glibc's ``__cxa_thread_atexit_impl``, which C++ ``thread_local`` and Rust use)
that gives it back, so that CPython then deletes the thread state in the ordinary way, on
its own thread. glibc runs those functions before it clears the thread's pthread keys,
where CPython finds the thread state.

Only threads that Python did not create may be kept this way (``options.py`` calls it only
for callbacks outside any search call made on that thread). Without that glibc function,
nothing is kept and callbacks just cost more.
"""

from __future__ import annotations

import ctypes
import threading
from ctypes import c_int, c_void_p
from typing import Any, Optional

_PYGILSTATE_LOCKED = 0  # PyGILState_STATE of an Ensure called with the GIL held


class _Kept(threading.local):
    done = False  # this thread's state is kept (the flag lives as long as the state)


kept = _Kept()


def _release(_argument: Any) -> None:
    """Runs when a kept thread exits, as a ctypes callback (so inside its own Ensure and
    Release), and gives back the extra reference; ctypes' Release after it drops the last
    one, and CPython deletes the thread state."""
    ctypes.pythonapi.PyGILState_Release(_PYGILSTATE_LOCKED)


def _setup() -> Optional[Any]:
    try:
        at_exit = ctypes.CDLL(None).__cxa_thread_atexit_impl
        ensure, release = ctypes.pythonapi.PyGILState_Ensure, ctypes.pythonapi.PyGILState_Release
    except (AttributeError, OSError):  # not glibc: nothing is kept
        return None
    ensure.restype, ensure.argtypes = c_int, []
    release.restype, release.argtypes = None, [c_int]
    on_exit = ctypes.CFUNCTYPE(None, c_void_p)(_release)  # must live for good: kept in _api
    at_exit.restype, at_exit.argtypes = c_int, [type(on_exit), c_void_p, c_void_p]
    # Any address in a library that stays loaded: glibc needs one to find a "DSO" to pin.
    libc_address = ctypes.cast(at_exit, c_void_p).value
    return ensure, at_exit, on_exit, libc_address


_api = _setup()


def keep_thread_state() -> None:
    """Keeps the calling thread's Python thread state until the thread exits. Call it with
    the GIL held, from a ctypes callback on a thread Python did not create."""
    if _api is None or kept.done:
        return
    ensure, at_exit, on_exit, libc_address = _api
    if at_exit(on_exit, None, libc_address) != 0:  # out of memory: keep nothing
        return
    ensure()
    kept.done = True
