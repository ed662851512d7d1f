//! The thread pools builds run on (the forest's and the graph's): one per build, never rayon's
//! global pool, whose threads a process forked after a build would lack, and scoped: every
//! thread has ended when the build returns, so a build leaves no thread behind (and memory
//! checkers see none of its threads' memory as leaked).

use crate::error::{Error, ErrorKind, Result};

/// Runs `work` with a pool of `threads` threads named `ann-<name>-<i>`, and returns once the
/// pool's threads have ended.
pub(crate) fn with_build_pool<R>(
    threads: usize,
    name: &'static str,
    work: impl FnOnce(&rayon::ThreadPool) -> Result<R>,
) -> Result<R> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(move |i| format!("ann-{name}-{i}"))
        .stack_size(16 << 20)
        .build_scoped(|thread| thread.run(), work)
        .map_err(|e| {
            Error::new(
                ErrorKind::OutOfMemory,
                format!("cannot start {threads} build threads ({e}); pass fewer threads"),
            )
        })?
}
