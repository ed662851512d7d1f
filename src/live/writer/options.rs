//! What a writer is opened with: its durability, and what its compactions build.

use crate::error::{Error, Result};
use crate::graph::{DEFAULT_DEGREE, MAX_DEGREE};
use crate::index::DEFAULT_SEED;
use crate::metric::Metric;

/// When a write counts as done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// The call returns after the write is in the log and the log is synced to the disk
    /// (concurrent calls share one sync). Survives a process crash and a power loss.
    Sync,
    /// The call returns after the write is in the log; a background thread syncs the log every
    /// `flush_ms`. Survives a process crash; a power loss can lose the last `flush_ms`.
    Timer,
}

/// Settings of a writer. `dim` and `metric` must match an existing directory's.
#[derive(Debug, Clone)]
pub struct WriterOptions {
    pub dim: usize,
    pub metric: Metric,
    pub durability: Durability,
    /// Timer mode: milliseconds between syncs.
    pub flush_ms: u32,
    /// Trees of the segments compaction builds.
    pub n_trees: i32,
    /// The degree of a graph compaction (and export) builds into each segment, so its
    /// queries walk the graph; `Some(0)` is the default degree (32); `None` (the default)
    /// builds none. See `Index::build_graph`.
    pub graph_degree: Option<usize>,
    pub seed: u64,
}

impl WriterOptions {
    pub fn new(dim: usize, metric: Metric) -> WriterOptions {
        WriterOptions {
            dim,
            metric,
            durability: Durability::Sync,
            flush_ms: 100,
            n_trees: 50,
            graph_degree: None,
            seed: DEFAULT_SEED,
        }
    }

    /// These options as a writer uses them: the dimension checked, a graph degree of 0 made the
    /// default and one above the largest refused.
    pub(super) fn checked(&self) -> Result<WriterOptions> {
        crate::index::Index::new(self.dim, self.metric)?; // checks dim
        let graph_degree = match self.graph_degree {
            Some(0) => Some(DEFAULT_DEGREE),
            Some(d) if d > MAX_DEGREE => {
                return Err(Error::invalid_argument(format!(
                    "graph degree {d} is above the largest, {MAX_DEGREE}; 0 picks the default ({DEFAULT_DEGREE})"
                )))
            }
            degree => degree,
        };
        Ok(WriterOptions {
            graph_degree,
            ..self.clone()
        })
    }
}
