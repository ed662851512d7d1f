//! The one writer of a live index directory: upserts and deletes, logged before they are
//! acknowledged, group commit and the timer mode (here); compaction (`compaction.rs`); the
//! directory's writer lock (`dir_lock.rs`); what opening repairs or creates (`recovery.rs`);
//! the options it is opened with (`options.rs`).

use super::log::{self, Op};
use super::manifest::Manifest;
use super::router::Router;
use super::shared::Shared;
use super::{load_generation, Live};
use crate::error::{Error, Result};
use crate::index::Index;
use crate::keys;
use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

/// The log being appended to.
struct LogFile {
    file: File,
    path: PathBuf,
    len: u64,
    /// The LSN the next record gets.
    next_lsn: u64,
}

/// Group commit: the highest LSN known to be on disk, and whether a sync is running.
struct Durable {
    lsn: u64,
    syncing: bool,
    /// A second handle on the current log, synced outside the append lock.
    file: Arc<File>,
}

/// The writer of one live index directory. Every method takes `&self` and may be called from
/// several threads at once: appends are serialised, syncs are shared.
pub struct Writer {
    dir: PathBuf,
    options: WriterOptions,
    pub(crate) state: Arc<Shared>,
    /// The LSN of the last record appended to the log (`log.next_lsn - 1`, readable without
    /// the log's lock, which a write holds through its system call).
    appended: AtomicU64,
    log: Mutex<LogFile>,
    durable: Mutex<Durable>,
    synced: Condvar,
    compacting: Mutex<()>,
    _lock: DirLock,
    stop: Arc<AtomicBool>,
    timer: Mutex<Option<JoinHandle<()>>>,
    /// Moves the delta's items into the host's trees in the background.
    router: Router,
    /// `fork::generation()` at open: a forked child must not write with its parent's writer.
    process: u64,
    torn: u64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Writer {
    /// Opens (creating it if needed) the live index in `dir` for writing: takes the
    /// directory's lock, replays the log (cutting a torn tail), removes files no generation
    /// names, and starts the timer in timer mode.
    pub fn open(dir: impl AsRef<Path>, options: &WriterOptions) -> Result<Arc<Writer>> {
        let dir = dir.as_ref().to_path_buf();
        let options = &options.checked()?;
        std::fs::create_dir_all(&dir)
            .map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
        let lock_file = take_lock(&dir)?;
        let manifest = match Manifest::read(&dir)? {
            Some(m) => m,
            None => create_generation_zero(&dir, options)?,
        };
        if manifest.metric != options.metric || manifest.dim != options.dim {
            return Err(Error::invalid_argument(format!(
                "the live index in {} holds {} vectors of dim {}, not {} of dim {}",
                dir.display(),
                manifest.metric,
                manifest.dim,
                options.metric,
                options.dim
            )));
        }
        remove_unnamed_files(&dir, &manifest);
        let (mut state, end) = load_generation(&dir, &manifest, false)?;
        // What this writer's compactions and exports build is its options' choice.
        state.n_trees = options.n_trees;
        state.graph_degree = options.graph_degree;
        let log_path = dir.join(&manifest.log);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&log_path)
            .map_err(|e| Error::io(format!("cannot open {}", log_path.display()), e))?;
        let len = file
            .metadata()
            .map_err(|e| Error::io(format!("cannot stat {}", log_path.display()), e))?
            .len();
        let torn = len - end;
        check_tail_is_torn(&mut file, &log_path, end, len)?;
        if torn > 0 {
            // A write that never completed: cut it, so appends continue from the last good one.
            file.set_len(end)
                .and_then(|_| file.sync_all())
                .map_err(|e| {
                    Error::io(
                        format!("cannot cut the torn tail of {}", log_path.display()),
                        e,
                    )
                })?;
        }
        file.seek(SeekFrom::Start(end))
            .map_err(|e| Error::io(format!("cannot seek {}", log_path.display()), e))?;
        let sync_handle = file
            .try_clone()
            .map_err(|e| Error::io("cannot duplicate a file handle".to_string(), e))?;
        let last = state.next_lsn - 1;
        let shared = Shared::new(state);
        let writer = Arc::new(Writer {
            dir,
            options: options.clone(),
            router: Router::new(&shared),
            state: shared,
            log: Mutex::new(LogFile {
                file,
                path: log_path,
                len: end,
                next_lsn: last + 1,
            }),
            appended: AtomicU64::new(last),
            durable: Mutex::new(Durable {
                lsn: last,
                syncing: false,
                file: Arc::new(sync_handle),
            }),
            synced: Condvar::new(),
            compacting: Mutex::new(()),
            _lock: lock_file,
            stop: Arc::new(AtomicBool::new(false)),
            timer: Mutex::new(None),
            torn,
            process: crate::fork::generation(),
        });
        if options.durability == Durability::Timer {
            let weak = Arc::downgrade(&writer);
            let (stop, every) = (
                writer.stop.clone(),
                Duration::from_millis(u64::from(options.flush_ms.max(1))),
            );
            let handle = std::thread::Builder::new()
                .name("ann-log-sync".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::park_timeout(every);
                        match weak.upgrade() {
                            Some(w) => {
                                let _ = w.sync();
                            }
                            None => return,
                        }
                    }
                })
                .map_err(|e| Error::io("cannot start the log sync thread".to_string(), e))?;
            *lock(&writer.timer) = Some(handle);
        }
        writer.router.nudge_if_waiting();
        Ok(writer)
    }

    /// The dimension of the vectors this writer takes.
    pub fn dim(&self) -> usize {
        self.options.dim
    }

    /// Bytes of a torn log tail cut when this writer opened the directory (0 normally).
    pub fn torn_bytes(&self) -> u64 {
        self.torn
    }

    /// A read handle that sees this writer's writes as soon as each call returns.
    pub fn index(&self) -> Index {
        Index::from_live(
            Live::of_writer(self.state.clone()),
            self.options.dim,
            self.options.metric,
        )
    }

    /// Adds or replaces `keys[i]` with row `i` of `vectors` (`dim` floats per key), as one
    /// logged record: all of them or none.
    pub fn upsert_batch(&self, keys: &[u64], vectors: &[f32]) -> Result<()> {
        let dim = self.options.dim;
        if vectors.len() != keys.len().saturating_mul(dim) {
            return Err(Error::invalid_argument(format!(
                "{} keys need {} floats (dim {dim}), got {}",
                keys.len(),
                keys.len().saturating_mul(dim),
                vectors.len()
            )));
        }
        keys.iter().try_for_each(|&k| keys::check_key(k))?;
        if let Some(at) = vectors.iter().position(|x| !x.is_finite()) {
            return Err(Error::invalid_argument(format!(
                "vector {} value {} is {}; only finite values can be indexed",
                at / dim,
                at % dim,
                vectors[at]
            )));
        }
        if keys.is_empty() {
            return Ok(());
        }
        self.write(Op::Upsert {
            keys: keys.to_vec(),
            vectors: vectors.to_vec(),
        })
        .map(|_| ())
    }

    pub fn upsert(&self, key: u64, vector: &[f32]) -> Result<()> {
        self.upsert_batch(&[key], vector)
    }

    /// Deletes `keys`; returns how many of them had a live item. The reserved key
    /// (`u64::MAX`) is refused, as by `upsert`: it is never a key, so passing it is a mistake.
    pub fn delete_batch(&self, keys: &[u64]) -> Result<usize> {
        keys.iter().try_for_each(|&k| keys::check_key(k))?;
        if keys.is_empty() {
            return Ok(0);
        }
        self.write(Op::Delete {
            keys: keys.to_vec(),
        })
    }

    /// Deletes `key`; true when it had a live item (deleting an unknown key is not an error).
    pub fn delete(&self, key: u64) -> Result<bool> {
        Ok(self.delete_batch(&[key])? > 0)
    }

    /// Refuses to work in a forked child: the log's position and the directory's lock are the
    /// parent's, which may be writing at the same moment.
    fn check_process(&self) -> Result<()> {
        if self.process != crate::fork::generation() {
            return Err(Error::invalid_state(format!(
                "this writer of {} was opened by the parent of this forked process, which owns it; open a writer in this process once the parent has closed its own",
                self.dir.display()
            )));
        }
        Ok(())
    }

    /// Logs `op`, applies it, and (in sync mode) waits until it is on disk. The write is
    /// applied by whichever thread next holds the state (`shared.rs`), this one or a query's.
    fn write(&self, op: Op) -> Result<usize> {
        self.check_process()?;
        let (lsn, applied) = {
            let mut log = lock(&self.log);
            let lsn = log.next_lsn;
            if lsn > log::MAX_LSN {
                return Err(Error::invalid_state(format!(
                    "the log of {} has used every sequence number (2^62); export the index and start a new directory from it",
                    self.dir.display()
                )));
            }
            let record = log::encode(lsn, &op);
            if let Err(e) = log.file.write_all(&record) {
                // Leave no partial record behind: cut back to the last good one.
                let len = log.len;
                let _ = log
                    .file
                    .set_len(len)
                    .and_then(|_| log.file.seek(SeekFrom::Start(len)));
                return Err(Error::io(
                    format!("cannot append to {}", log.path.display()),
                    e,
                ));
            }
            log.len += record.len() as u64;
            log.next_lsn = lsn + 1;
            self.appended.store(lsn, Ordering::Release);
            // Queued under the log's lock, so writes apply in log order.
            let applied = self.state.submit(move |state| {
                let result = state.apply(&op);
                state.next_lsn = lsn + 1;
                result
            });
            (lsn, applied)
        };
        let result = self.state.wait(applied).unwrap_or_else(|| {
            Err(Error::invalid_state(
                "applying the write failed unexpectedly (a bug); it is logged, and reopening the index replays it",
            ))
        });
        if self.state.waiting_for_router() {
            self.router.nudge();
        }
        if self.options.durability == Durability::Sync {
            self.sync_to(lsn)?;
        }
        result
    }

    /// Syncs the log up to everything appended so far.
    pub fn sync(&self) -> Result<()> {
        self.check_process()?;
        self.sync_to(self.appended.load(Ordering::Acquire))
    }

    /// Returns once the log is on disk up to `lsn`: a call that finds a sync running waits for
    /// it (and starts another if it was not enough), so concurrent writes share syncs.
    fn sync_to(&self, lsn: u64) -> Result<()> {
        let mut d = lock(&self.durable);
        loop {
            if d.lsn >= lsn {
                return Ok(());
            }
            if !d.syncing {
                break;
            }
            d = self.synced.wait(d).unwrap_or_else(|p| p.into_inner());
        }
        d.syncing = true;
        let file = d.file.clone();
        drop(d);
        // Everything appended by now is covered by this sync.
        let target = self.appended.load(Ordering::Acquire);
        let result = file.sync_data();
        let mut d = lock(&self.durable);
        d.syncing = false;
        if result.is_ok() {
            d.lsn = d.lsn.max(target);
        }
        self.synced.notify_all();
        result.map_err(|e| Error::io("cannot sync the log".to_string(), e))
    }

    /// The directory's current generation, live items, items in the delta, and the LSN of the
    /// last write.
    pub fn stats(&self) -> (u64, usize, usize, u64) {
        let s = self.state.read();
        (s.generation, s.n_live(), s.delta.len(), s.next_lsn - 1)
    }

    /// Writes every live item into one immutable index file at `path`.
    pub fn export(&self, path: impl AsRef<Path>, n_threads: i32) -> Result<()> {
        self.index().export(path, n_threads)
    }
}

fn log_name(generation: u64) -> String {
    log::path_for(Path::new(""), generation)
        .to_string_lossy()
        .into_owned()
}

impl Drop for Writer {
    fn drop(&mut self) {
        if self.check_process().is_err() {
            // A forked child's copy: the timer thread is the parent's, and so is the log.
            if let Some(t) = self.timer.get_mut().ok().and_then(Option::take) {
                std::mem::forget(t);
            }
            return;
        }
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = lock(&self.timer).take() {
            t.thread().unpark();
            // The timer thread may hold the last reference for a moment: it cannot join itself.
            if t.thread().id() != std::thread::current().id() {
                let _ = t.join();
            }
        }
        let _ = self.sync();
    }
}

mod compaction;
mod dir_lock;
mod options;
mod recovery;

use dir_lock::{take_lock, DirLock};
pub use options::{Durability, WriterOptions};
use recovery::{check_tail_is_torn, create_generation_zero, remove_unnamed_files};
