//! The thread pools builds run on (the forest's and the graph's): one per build, never rayon's
//! global pool, whose threads a process forked after a build would lack, and joined: every
//! thread has exited when the build returns, so a build leaves no thread behind.
//!
//! Joined, not merely scoped. `std::thread::scope` (and rayon's `build_scoped`, built on it)
//! returns once each thread's closure has finished, while the thread may still be exiting: its
//! thread-local destructors, which free its `Thread` handle, run after. A memory checker that
//! looks then (LeakSanitizer after each fuzz input) reports that memory as leaked. Joining each
//! thread's handle waits for the thread itself to end.

use crate::error::{Error, ErrorKind, Result};
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::Mutex;

/// Runs `work` with a pool of `threads` threads named `ann-<name>-<i>`, and returns once the
/// pool's threads have exited.
pub(crate) fn with_build_pool<R>(
    threads: usize,
    name: &'static str,
    work: impl FnOnce(&rayon::ThreadPool) -> Result<R>,
) -> Result<R> {
    std::thread::scope(|scope| {
        let handles = Mutex::new(Vec::new());
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(move |i| format!("ann-{name}-{i}"))
            .spawn_handler(|thread| {
                let mut builder = std::thread::Builder::new().stack_size(16 << 20);
                if let Some(name) = thread.name() {
                    builder = builder.name(name.to_string());
                }
                let handle = builder.spawn_scoped(scope, move || thread.run())?;
                handles
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(handle);
                Ok(())
            })
            .build();
        let result = match pool {
            Ok(pool) => {
                let result = catch_unwind(AssertUnwindSafe(|| work(&pool)));
                drop(pool); // its threads stop once their work is done
                result
            }
            Err(e) => Ok(Err(Error::new(
                ErrorKind::OutOfMemory,
                format!("cannot start {threads} build threads ({e}); pass fewer threads"),
            ))),
        };
        for handle in handles.into_inner().unwrap_or_else(|p| p.into_inner()) {
            let _ = handle.join();
        }
        match result {
            Ok(result) => result,
            Err(panic) => resume_unwind(panic),
        }
    })
}
