//! Locks a forked child must not inherit held. `fork()` copies only the thread that calls it,
//! so a lock another thread held at that moment would stay held forever in the child. An owner
//! of such locks registers two handlers: one takes its locks in the forking thread just before
//! the fork (waiting for whoever holds them), the other releases them just after, in the parent
//! and in the child. The handlers run in the forking thread, not in a signal handler, so they
//! need not be async-signal safe.

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
