//! What `fork()` must not leave broken. It copies only the thread that calls it, so:
//!
//! - a lock another thread held at that moment would stay held forever in the child. An owner
//!   of such locks registers two handlers (`hold_across_fork`): one takes its locks in the
//!   forking thread just before the fork (waiting for whoever holds them), the other releases
//!   them just after, in the parent and in the child. The handlers run in the forking thread,
//!   not in a signal handler, so they need not be async-signal safe.
//! - threads, and work other threads were doing, are the parent's. What must know whether it
//!   runs in the process that made it (a writer, a router, the state's queue) compares
//!   `generation()` with the value it recorded.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Once;

/// Registers `before` and `after` (run in the parent and in the child) with `pthread_atfork`,
/// once per `installed`.
pub(crate) fn hold_across_fork(
    installed: &'static Once,
    before: extern "C" fn(),
    after: extern "C" fn(),
) {
    installed.call_once(|| {
        // SAFETY: pthread_atfork with plain `extern "C" fn()` handlers, which are valid for the
        // life of the process; what they do is the caller's (taking and releasing locks).
        unsafe {
            libc::pthread_atfork(Some(before), Some(after), Some(after));
        }
    });
}

static FORKS: AtomicU64 = AtomicU64::new(0);

extern "C" fn count_fork_in_child() {
    FORKS.fetch_add(1, Ordering::Relaxed);
}

/// A number that changes in a forked child (and stays the same in its parent): what a thread,
/// lock or file handle made before a fork records, to tell later whether it is in the process
/// that made it. Threads do not survive a fork; a writer's log position and lock are its
/// parent's.
pub(crate) fn generation() -> u64 {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        // SAFETY: pthread_atfork with a child handler valid for the life of the process; it
        // only increments an atomic.
        unsafe {
            libc::pthread_atfork(None, None, Some(count_fork_in_child));
        }
    });
    FORKS.load(Ordering::Relaxed)
}
