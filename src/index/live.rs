//! An `Index` over a live index directory: a read handle on a writer's state, or a reader of
//! the directory in another process (see `crate::live`). Queries, item calls and counts go to
//! the live state; everything that builds or saves is refused (the writer writes).

use super::{Index, State};
use crate::distance::{self, Neighbor, Query};
use crate::error::{Error, Result};
use crate::live::Live;
use crate::metric::Metric;
use crate::node::Layout;
use crate::search::Request;
use std::path::Path;

/// How compaction and export build a new index: trees (-1: Annoy's automatic count), a graph
/// of that degree or none, and the seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Recipe {
    pub n_trees: i32,
    pub graph_degree: Option<usize>,
    pub seed: u64,
}

impl Index {
    /// An index whose queries go to a live state.
    pub(crate) fn from_live(live: Live, dim: usize, metric: Metric) -> Index {
        let mut index = Index::new(dim, metric).expect("the live index checked its dimension");
        index.state = State::Live;
        index.live = Some(Box::new(live));
        index
    }

    /// Opens `path` read-only: an index file (as [`Index::load`]) or a live index directory,
    /// which is read without a lock and sees every write acknowledged before the open (or
    /// before the last [`Index::refresh`]).
    pub fn open(path: impl AsRef<Path>, prefault: bool) -> Result<Index> {
        let path = path.as_ref();
        if !path.is_dir() {
            return Index::load(path, prefault);
        }
        let live = Live::open(path, prefault)?;
        let (dim, metric) = {
            let state = live.state.read();
            (state.layout.dim, state.layout.metric)
        };
        Ok(Index::from_live(live, dim, metric))
    }

    /// A reader of a live directory catches up with the writer: a new generation after a
    /// compaction, or the writes logged since. Returns true when anything changed. Queries
    /// running on other threads finish on what they started with. Other indexes: `false`.
    pub fn refresh(&self) -> Result<bool> {
        match &self.live {
            Some(live) => live.refresh(),
            None => Ok(false),
        }
    }

    pub(super) fn live(&self) -> Option<&Live> {
        self.live.as_deref()
    }

    /// Searches the live state.
    pub(super) fn search_live(
        &self,
        live: &Live,
        query: &Query,
        request: &Request,
        out: &mut Vec<Neighbor>,
    ) -> Result<()> {
        live.state.read().search(query, request, out)
    }

    /// The vector of live item `key`.
    pub(super) fn live_vector(&self, live: &Live, key: u64) -> Result<Vec<f32>> {
        live.state.read().vector(key)
    }

    /// Distance between live items `i` and `j`, as a query would report it.
    pub(super) fn live_distance(&self, live: &Live, i: u64, j: u64) -> Result<f32> {
        let (a, b) = (self.live_vector(live, i)?, self.live_vector(live, j)?);
        let layout = Layout::new(self.layout.metric, self.layout.dim)?;
        let mut nodes = [vec![0u8; layout.node_size], vec![0u8; layout.node_size]];
        layout.fill_item(&mut nodes[0], &a);
        layout.fill_item(&mut nodes[1], &b);
        let k = crate::kernels::kernels();
        let query = match layout.metric {
            Metric::Hamming => Query::Bits(bytemuck::cast_slice(layout.bits(&nodes[0]))),
            metric => Query::floats(metric, &a),
        };
        let score = distance::score(&layout, k, &query, &nodes[1]);
        Ok(distance::user_distance(layout.metric, score))
    }

    /// Writes every item this index holds (live items, for a live index; every shard's, for
    /// a sharded one) into one new immutable index file at `path`, atomically. A built or
    /// loaded plain index is saved as it is. The new file gets a graph when the live index's
    /// writer builds segments with one, or when any shard has one.
    pub fn export(&self, path: impl AsRef<Path>, n_threads: i32) -> Result<()> {
        let (items, recipe) = match (&self.live, self.shards()) {
            (Some(live), _) => {
                let state = live.state.read();
                let recipe = Recipe {
                    n_trees: state.n_trees,
                    graph_degree: state.graph_degree,
                    seed: state.seed ^ state.generation,
                };
                (state.items(), recipe)
            }
            (None, Some(shards)) => {
                let mut items = Vec::new();
                for shard in shards {
                    for key in shard.stored_keys() {
                        items.push((key, shard.get_item_vector(key)?));
                    }
                }
                items.sort_unstable_by_key(|(k, _)| *k);
                let recipe = Recipe {
                    n_trees: shards.iter().map(|s| s.n_trees).max().unwrap_or(1) as i32,
                    graph_degree: shards
                        .iter()
                        .filter_map(|s| s.graph())
                        .map(|g| g.degree)
                        .max(),
                    seed: self.seed,
                };
                (items, recipe)
            }
            (None, None) => return self.save(path),
        };
        if items.is_empty() {
            return Err(Error::invalid_state("there are no items to export"));
        }
        Index::rebuilt(
            self.layout.dim,
            self.layout.metric,
            &items,
            &recipe,
            n_threads,
        )?
        .save(path)
    }

    /// A new index over `items` (keys and vectors), built as `recipe` says: what compaction
    /// and export make.
    pub(crate) fn rebuilt(
        dim: usize,
        metric: Metric,
        items: &[(u64, Vec<f32>)],
        recipe: &Recipe,
        n_threads: i32,
    ) -> Result<Index> {
        let mut index = Index::new(dim, metric)?;
        index.set_seed(recipe.seed)?;
        for (key, vector) in items {
            index.add_item(*key, vector)?;
        }
        index.build(recipe.n_trees, n_threads)?;
        if let Some(degree) = recipe.graph_degree {
            index.build_graph(degree, n_threads)?;
        }
        Ok(index)
    }

    /// Counts of a live index: live items, and one more than the largest live key.
    pub(super) fn live_counts(&self, live: &Live) -> (u64, u64) {
        let state = live.state.read();
        let n_items = state.max_key().map_or(0, |k| k.saturating_add(1));
        (state.n_live() as u64, n_items)
    }

    /// Trees of a live index's segments (the delta's forest is not counted).
    pub(super) fn live_trees(&self, live: &Live) -> usize {
        let state = live.state.read();
        state.segments.iter().map(|s| s.index.n_trees()).sum()
    }

    /// Checks every segment and the delta's forest of a live index.
    pub(super) fn verify_live(&self, live: &Live) -> Result<()> {
        let state = live.state.read();
        state.segments.iter().try_for_each(|s| s.index.verify())?;
        state.delta.check()
    }
}
