//! The one-writer rule: a directory's writer lock.

use super::lock;
use crate::error::{Error, Result};
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// The writer lock of a directory: a POSIX record lock on its `LOCK` file, which other
/// processes see and which a child forked from the writer does not inherit (an `flock` would
/// be shared with the child and outlive the writer), plus a registry of the directories this
/// process writes to (record locks are per process, so they cannot refuse a second writer in
/// the same process). Both are released when the writer is dropped.
pub(crate) struct DirLock {
    _file: File,
    dir: PathBuf,
    /// `fork::generation()` when taken: a forked child holds neither the lock nor the entry.
    process: u64,
}

/// The directories this process holds writer locks on (few: a linear list).
fn registry() -> MutexGuard<'static, Vec<PathBuf>> {
    static LOCKED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
    lock(&LOCKED)
}

impl Drop for DirLock {
    fn drop(&mut self) {
        if self.process != crate::fork::generation() {
            return; // the registry's lock may be held by a thread the child does not have
        }
        registry().retain(|d| d != &self.dir);
    }
}

/// Takes the directory's writer lock, or reports that another writer holds it.
pub(super) fn take_lock(dir: &Path) -> Result<DirLock> {
    let held = || {
        Error::invalid_state(format!(
            "the live index in {} is already open for writing (another writer holds its LOCK); close that writer first",
            dir.display()
        ))
    };
    let canonical = std::fs::canonicalize(dir)
        .map_err(|e| Error::io(format!("cannot resolve {}", dir.display()), e))?;
    {
        let mut locked = registry();
        if locked.contains(&canonical) {
            return Err(held());
        }
        locked.push(canonical.clone());
    }
    let unregister = |e: Error| {
        registry().retain(|d| d != &canonical);
        e
    };
    let path = dir.join("LOCK");
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| unregister(Error::io(format!("cannot open {}", path.display()), e)))?;
    #[cfg(unix)]
    {
        use std::os::unix::io::AsRawFd;
        // SAFETY: a zeroed flock struct is a valid value; the fields that matter are set next.
        let mut request: libc::flock = unsafe { std::mem::zeroed() };
        request.l_type = libc::F_WRLCK as _;
        request.l_whence = libc::SEEK_SET as _;
        // SAFETY: fcntl(F_SETLK) on a descriptor this function owns, with a valid flock
        // struct; it only changes lock state. l_start = l_len = 0 locks the whole file.
        if unsafe { libc::fcntl(file.as_raw_fd(), libc::F_SETLK, &request) } != 0 {
            return Err(unregister(held()));
        }
    }
    Ok(DirLock {
        _file: file,
        dir: canonical,
        process: crate::fork::generation(),
    })
}
