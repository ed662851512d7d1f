//! Live indexes: add, replace and delete after build, durably, while other processes read.
//!
//! A live index is a directory:
//!
//! ```text
//! dir/
//!   MANIFEST         names the current generation: its segment files and its log (manifest.rs)
//!   seg-000007.ann   immutable segments: ordinary index files with keys, mapped read-only
//!   wal-000007.log   the write-ahead log of every write since the segments were built (log.rs)
//!   LOCK             held (flock) by the one writer
//! ```
//!
//! The writer appends each write to the log (and, by default, syncs it) before the call
//! returns, and it is applied to the in-memory state before the call returns: the delta of
//! recent items and the keys each segment has lost (state.rs, delta.rs). The state's lock
//! (shared.rs) lets a query apply a pending write rather than wait for the writer. Queries
//! search every segment and the delta and merge the answers. Compaction builds one new segment from every live item, writes the next
//! generation's log and manifest, and only then removes the old files, which readers that
//! still map them keep using. No mapped file is ever modified.
//!
//! Readers in other processes open the directory without a lock: they map the segments the
//! manifest names and replay the log into a private delta. `refresh` re-reads the manifest
//! (a new generation: open it) or reads the log's new records.

mod delta;
mod delta_codes;
mod growing;
mod log;
mod manifest;
mod routed;
mod router;
mod shared;
mod state;
#[cfg(test)]
mod test_rng;
mod writer;

pub use writer::{Durability, Writer, WriterOptions};

use crate::error::{Error, Result};
use crate::index::{Index, Recipe};
use crate::node::Layout;
use manifest::Manifest;
use shared::Shared;
use state::LiveState;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// A live index as a query handle sees it: the shared state, and for a reader in another
/// process than the writer, where to look for new writes.
pub(crate) struct Live {
    pub(crate) state: Arc<Shared>,
    follow: Option<Mutex<Follow>>,
    /// A reader's own router (a writer's handles share the writer's).
    router: Option<router::Router>,
}

/// A reader's position: the generation it has, and how far into its log it has read.
struct Follow {
    dir: PathBuf,
    prefault: bool,
    generation: u64,
    log_end: u64,
}

/// How often a reader retries when compaction removes the files it is opening.
const OPEN_ATTEMPTS: usize = 5;

impl Live {
    /// A handle on a writer's state: it sees every write as soon as the call returns.
    pub(crate) fn of_writer(state: Arc<Shared>) -> Live {
        Live {
            state,
            follow: None,
            router: None,
        }
    }

    /// Opens the live index in `dir` read-only, without a lock.
    pub(crate) fn open(dir: &Path, prefault: bool) -> Result<Live> {
        let (state, log_end) = load_current(dir, prefault)?;
        let follow = Follow {
            dir: dir.to_path_buf(),
            prefault,
            generation: state.generation,
            log_end,
        };
        let state = Shared::new(state);
        let live = Live {
            follow: Some(Mutex::new(follow)),
            router: Some(router::Router::new(&state)),
            state,
        };
        live.nudge_router();
        Ok(live)
    }

    /// Wakes a reader's router when its delta has items to route.
    fn nudge_router(&self) {
        if let Some(router) = &self.router {
            router.nudge_if_waiting();
        }
    }

    /// Brings a reader up to date with the directory: a new generation, or new log records.
    /// Returns true when anything changed. A writer's own handle is always up to date.
    pub(crate) fn refresh(&self) -> Result<bool> {
        let Some(follow) = &self.follow else {
            return Ok(false);
        };
        let mut follow = follow.lock().unwrap_or_else(|p| p.into_inner());
        let manifest = read_manifest(&follow.dir)?;
        if manifest.generation != follow.generation {
            let (state, log_end) = load_current(&follow.dir, follow.prefault)?;
            follow.generation = state.generation;
            follow.log_end = log_end;
            *self.state.write() = state;
            drop(follow);
            self.nudge_router();
            return Ok(true);
        }
        let next_lsn = self.state.read().next_lsn;
        let path = follow.dir.join(&manifest.log);
        let replay = match log::replay(&path, Some((follow.log_end, next_lsn))) {
            Ok(r) => r,
            // Compaction removed the log after we read the manifest: the next refresh opens
            // the new generation.
            Err(e) if e.kind() == crate::ErrorKind::Io => return Ok(false),
            Err(e) => return Err(e),
        };
        if replay.records.is_empty() {
            return Ok(false);
        }
        let mut state = self.state.write();
        for (lsn, op) in &replay.records {
            state.apply(op)?;
            state.next_lsn = lsn + 1;
        }
        follow.log_end = replay.end;
        drop(state);
        drop(follow);
        self.nudge_router();
        Ok(true)
    }
}

fn read_manifest(dir: &Path) -> Result<Manifest> {
    Manifest::read(dir)?.ok_or_else(|| {
        Error::io(
            format!(
                "{} is not a live index directory (it has no MANIFEST)",
                dir.display()
            ),
            std::io::Error::from(std::io::ErrorKind::NotFound),
        )
    })
}

/// The current generation of `dir`, loaded: retried when a compaction replaces the files
/// between reading the manifest and opening them. Returns the state and where its log's
/// intact records end.
fn load_current(dir: &Path, prefault: bool) -> Result<(LiveState, u64)> {
    let mut last = None;
    for _ in 0..OPEN_ATTEMPTS {
        let manifest = read_manifest(dir)?;
        match load_generation(dir, &manifest, prefault) {
            Ok(loaded) => return Ok(loaded),
            Err(e) if e.kind() == crate::ErrorKind::Io => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.expect("at least one attempt"))
}

/// The segments a manifest names, mapped, with its log replayed. Returns the state and where
/// the log's intact records end (a torn tail is left for the writer to cut).
pub(crate) fn load_generation(
    dir: &Path,
    manifest: &Manifest,
    prefault: bool,
) -> Result<(LiveState, u64)> {
    let layout = Layout::new(manifest.metric, manifest.dim)?;
    let mut segments = Vec::with_capacity(manifest.segments.len());
    for name in &manifest.segments {
        let segment = Index::load(dir.join(name), prefault)?;
        if segment.metric() != manifest.metric || segment.dim() != manifest.dim {
            return Err(Error::corrupt(format!(
                "segment {name} of {} holds {} vectors of dim {}, but the manifest says {} of dim {}",
                dir.display(),
                segment.metric(),
                segment.dim(),
                manifest.metric,
                manifest.dim
            )));
        }
        segments.push(segment);
    }
    let replay = log::replay(&dir.join(&manifest.log), None)?;
    let header = replay.header;
    if header.metric != manifest.metric
        || header.dim != manifest.dim
        || header.generation != manifest.generation
    {
        return Err(Error::corrupt(format!(
            "the log {} does not belong to generation {} of {}",
            manifest.log,
            manifest.generation,
            dir.display()
        )));
    }
    let mut state = LiveState::new(
        layout,
        segments,
        manifest.generation,
        header.first_lsn,
        Recipe {
            n_trees: manifest.n_trees,
            graph_degree: manifest.graph_degree,
            seed: manifest.seed,
        },
    )?;
    for (lsn, op) in &replay.records {
        state.apply(op)?;
        state.next_lsn = lsn + 1;
    }
    Ok((state, replay.end))
}
