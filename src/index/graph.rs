//! Adding a graph to a built or loaded index (see `crate::graph`), and checking it.

use super::{Index, SectionBytes, State};
use crate::error::{Error, Result};
use crate::graph::{self, build, DEFAULT_DEGREE, MAX_DEGREE};
use crate::storage::HeapNodes;

impl Index {
    /// Builds a graph over the items, which queries then walk instead of the forest; `save`
    /// writes it as a section of the file. `degree` is the most neighbours per item (0: the
    /// default, 32); `n_threads = -1` uses every core. The same seed gives the same graph
    /// whatever the thread count. Replaces an earlier graph.
    pub fn build_graph(&mut self, degree: usize, n_threads: i32) -> Result<()> {
        match self.state {
            State::Built | State::Mapped => {}
            State::Adding => {
                return Err(Error::invalid_state(
                    "the index is not built: build the forest first, then the graph",
                ))
            }
            State::Sharded | State::Live => {
                return Err(Error::invalid_state(
                    "a graph is built over one index: build it on each shard's file, or export the live index and build it there",
                ))
            }
        }
        let degree = match degree {
            0 => DEFAULT_DEGREE,
            d if d <= MAX_DEGREE => d,
            d => {
                return Err(Error::invalid_argument(format!(
                    "degree {d} is above the largest, {MAX_DEGREE}; 0 picks the default ({DEFAULT_DEGREE})"
                )))
            }
        };
        let threads = super::thread_count(n_threads)?;
        let forest = self.forest();
        let items: Vec<u32> = (0..self.n_items)
            .filter(|&slot| self.layout.n_descendants(forest.nodes.get(slot)) == 1)
            .map(|slot| slot as u32)
            .collect();
        let built = crate::pool::with_build_pool(threads, "graph", |pool| {
            build::build(
                forest.nodes,
                forest.codes,
                self.n_items,
                &items,
                degree,
                self.seed,
                pool,
            )
        })?;
        let bytes = graph::encode(&built.adjacency, built.degree, built.entry);
        let mut section = HeapNodes::default();
        section.resize(bytes.len())?;
        section.bytes_mut().copy_from_slice(&bytes);
        self.graph = SectionBytes::Owned(section);
        Ok(())
    }

    /// True when queries walk a graph: the index has one, or (sharded or live) any of its
    /// shards or segments has one.
    pub fn has_graph(&self) -> bool {
        if let Some(live) = self.live() {
            return live
                .state
                .read()
                .segments
                .iter()
                .any(|s| s.index.has_graph());
        }
        match self.shards() {
            Some(shards) => shards.iter().any(Index::has_graph),
            None => self.graph().is_some(),
        }
    }

    /// `verify`'s check of the graph: every link is to an item, every item is reachable.
    pub(super) fn check_graph(&self) -> Result<()> {
        let Some(graph) = self.graph() else {
            return Ok(());
        };
        let nodes = self.forest().nodes;
        graph.check(|slot| slot < self.n_items && self.layout.n_descendants(nodes.get(slot)) == 1)
    }
}
