//! Compaction: one new segment built from every live item while writes go on, then the
//! switch to the next generation (its log, its manifest), and the old files removed.

use super::{lock, log_name, LogFile, Writer};
use crate::error::{Error, Result};
use crate::index::{Index, Recipe};
use crate::live::load_generation;
use crate::live::log::{self, LogHeader, Op};
use crate::live::manifest::{self, Manifest};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

impl Writer {
    /// Builds one new segment from every live item (on `n_threads` threads), then switches
    /// the directory to it: new log, new manifest, old files removed. Writes may continue
    /// during the build; those made meanwhile move to the new log. On failure (a full disk,
    /// say) the directory keeps its current generation.
    pub fn compact(&self, n_threads: i32) -> Result<()> {
        if n_threads == 0 || n_threads < -1 {
            return Err(Error::invalid_argument(format!(
                "n_threads must be -1 (all cores) or at least 1, got {n_threads}"
            )));
        }
        self.check_process()?;
        let _one_at_a_time = lock(&self.compacting);
        let (items, last, generation, seed) = {
            let s = self.state.read();
            (s.items(), s.next_lsn - 1, s.generation, s.seed)
        };
        if generation >= manifest::MAX_GENERATION {
            return Err(Error::invalid_state(format!(
                "{} has reached its last generation (2^62); export the index and start a new directory from it",
                self.dir.display()
            )));
        }
        let next = generation + 1;
        let segment_name = manifest::segment_name(next);
        let segment_path = self.dir.join(&segment_name);
        let log_path = log::path_for(&self.dir, next);
        let cleanup = || {
            let _ = std::fs::remove_file(&segment_path);
            let _ = std::fs::remove_file(&log_path);
        };
        let built = (|| -> Result<bool> {
            if items.is_empty() {
                return Ok(false);
            }
            let recipe = Recipe {
                n_trees: self.options.n_trees,
                graph_degree: self.options.graph_degree,
                seed: seed ^ next,
            };
            let (dim, metric) = (self.options.dim, self.options.metric);
            Index::rebuilt(dim, metric, &items, &recipe, n_threads)?.save(&segment_path)?;
            Ok(true)
        })();
        let has_segment = match built {
            Ok(b) => b,
            Err(e) => {
                cleanup();
                return Err(e);
            }
        };
        drop(items);
        let mut log = lock(&self.log);
        match self.switch_generation(&mut log, next, last, has_segment.then_some(segment_name)) {
            Ok(old) => {
                drop(log);
                for path in old {
                    let _ = std::fs::remove_file(path);
                }
                self.router.nudge_if_waiting();
                Ok(())
            }
            Err(e) => {
                cleanup();
                Err(e)
            }
        }
    }

    /// With appends stopped: carries the records after `last` into generation `next`'s log,
    /// writes the manifest, swaps the state. Returns the files the old generation used.
    fn switch_generation(
        &self,
        log: &mut LogFile,
        next: u64,
        last: u64,
        segment: Option<String>,
    ) -> Result<Vec<PathBuf>> {
        let carried: Vec<(u64, Op)> = log::replay(&log.path, None)?
            .records
            .into_iter()
            .filter(|(lsn, _)| *lsn > last)
            .collect();
        let log_path = log::path_for(&self.dir, next);
        let header = LogHeader {
            metric: self.options.metric,
            dim: self.options.dim,
            generation: next,
            first_lsn: last + 1,
        };
        let mut file = log::create(&log_path, &header)?;
        let mut len = log::HEADER_LEN;
        for (lsn, op) in &carried {
            let record = log::encode(*lsn, op);
            file.write_all(&record)
                .map_err(|e| Error::io(format!("cannot write {}", log_path.display()), e))?;
            len += record.len() as u64;
        }
        file.sync_all()
            .map_err(|e| Error::io(format!("cannot sync {}", log_path.display()), e))?;
        let old_manifest = Manifest::read(&self.dir)?.ok_or_else(|| {
            Error::corrupt(format!(
                "the manifest of {} disappeared while its writer held the lock",
                self.dir.display()
            ))
        })?;
        let manifest = Manifest {
            metric: self.options.metric,
            dim: self.options.dim,
            n_trees: self.options.n_trees,
            graph_degree: self.options.graph_degree,
            seed: old_manifest.seed,
            generation: next,
            segments: segment.into_iter().collect(),
            log: log_name(next),
        };
        // The new state, loaded before the manifest names it, so a damaged segment is never
        // published: the new segment, and the records carried over (already in its log).
        let (state, _) = load_generation(&self.dir, &manifest, false)?;
        manifest.write(&self.dir)?;
        let sync_handle = file
            .try_clone()
            .map_err(|e| Error::io("cannot duplicate a file handle".to_string(), e))?;
        *self.state.write() = state;
        let old_files: Vec<PathBuf> = old_manifest
            .segments
            .iter()
            .map(|s| self.dir.join(s))
            .chain(std::iter::once(log.path.clone()))
            .collect();
        *log = LogFile {
            file,
            path: log_path,
            len,
            next_lsn: log.next_lsn,
        };
        let mut d = lock(&self.durable);
        d.file = Arc::new(sync_handle);
        d.lsn = d.lsn.max(carried.last().map_or(last, |(lsn, _)| *lsn));
        Ok(old_files)
    }
}
