//! What a live index holds at one moment: immutable segments (mapped index files) with the
//! keys hidden in each by later writes, and the delta of recent writes. At most one live copy
//! of each key exists: an upsert hides the key's older copy and writes the new one into the
//! delta; a delete hides or removes it.
//!
//! The delta's items are routed into the trees of the largest segment, its host, when there is
//! one fit to host them (see `delta`): then the host's walk finds them as a compacted index
//! would, and queries cost what a compacted index's do.

use super::delta::{Delta, HostShape, ToRoute};
use super::delta_codes::DERIVE_AT;
use super::log::Op;
use crate::distance::{Neighbor, Query};
use crate::error::{Error, Result};
use crate::index::{Index, Recipe};
use crate::keys::SlotSet;
use crate::metric::Metric;
use crate::node::Layout;
use crate::overlay::Trees;
use crate::search::Request;
use std::sync::Arc;

/// How many times its share of `search_k` the delta gets: its forest has fewer trees than a
/// segment's, so the same share of candidates would find less there. Twice the share gives
/// the recall of a compacted index at the same `search_k` (measured on the dev set, deltas of
/// 1,000 to 50,000 items beside 100,000).
const DELTA_BOOST: usize = 2;

/// Items a segment needs before it hosts the delta: a smaller one's leaves are too few to
/// spread the delta's items over.
const MIN_HOST_ITEMS: u64 = 1024;

/// A segment file and the items in it that newer writes replaced or deleted.
pub(crate) struct Segment {
    /// Shared with the router, which reads its trees without holding the state.
    pub index: Arc<Index>,
    /// Slots of the dead items.
    pub dead: SlotSet,
}

impl Segment {
    /// The slot of `key`'s live copy here, if there is one.
    fn live_slot(&self, key: u64) -> Option<usize> {
        self.index
            .stored_slot(key)
            .filter(|&slot| !self.dead.contains(slot))
    }

    fn is_live(&self, key: u64) -> bool {
        self.live_slot(key).is_some()
    }
}

pub(crate) struct LiveState {
    pub layout: Layout,
    pub segments: Vec<Segment>,
    pub delta: Delta,
    /// The generation of the directory these segments belong to.
    pub generation: u64,
    /// The LSN the next record will have: one more than the last applied.
    pub next_lsn: u64,
    /// Trees, graph and seed of the segments compaction builds (from the manifest).
    pub n_trees: i32,
    pub graph_degree: Option<usize>,
    pub seed: u64,
    /// The segment hosting the delta's items, when it is routed.
    host: Option<usize>,
}

/// Items taken from the delta to be routed into the host's trees, outside the state's lock:
/// routing reads only the immutable host.
pub(crate) struct Batch {
    pub generation: u64,
    pub host: Arc<Index>,
    pub items: Vec<ToRoute>,
}

impl Batch {
    /// The trees to route into.
    pub fn trees(&self) -> Trees<'_> {
        self.host.trees()
    }
}

impl LiveState {
    pub fn new(
        layout: Layout,
        segments: Vec<Index>,
        generation: u64,
        next_lsn: u64,
        recipe: Recipe,
    ) -> Result<LiveState> {
        // The host: the largest segment with trees to route into and no graph (whose walk
        // does not read the trees).
        let host = segments
            .iter()
            .enumerate()
            .filter(|(_, s)| s.n_stored() >= MIN_HOST_ITEMS && s.n_trees() > 0 && !s.has_graph())
            .max_by_key(|(_, s)| s.n_stored())
            .map(|(i, _)| i);
        // The delta encodes as its host does (so the host's walk scores both alike), or as
        // the largest segment did, if it was built from enough items.
        let quantiser = match host {
            Some(i) => segments[i].quantiser(),
            None => segments
                .iter()
                .filter(|s| s.n_stored() as usize >= DERIVE_AT)
                .max_by_key(|s| s.n_stored())
                .and_then(Index::quantiser),
        };
        let shape = host.map(|i| HostShape {
            n_trees: segments[i].n_trees(),
            n_items: segments[i].n_slots(),
        });
        Ok(LiveState {
            layout,
            segments: segments
                .into_iter()
                .map(|index| Segment {
                    index: Arc::new(index),
                    dead: SlotSet::default(),
                })
                .collect(),
            delta: Delta::new(
                layout,
                recipe.seed ^ generation.rotate_left(17),
                quantiser,
                shape,
            )?,
            generation,
            next_lsn,
            n_trees: recipe.n_trees,
            graph_degree: recipe.graph_degree,
            seed: recipe.seed,
            host,
        })
    }

    /// Up to `max` items for the router, when the delta has a host and items waiting.
    pub fn batch_to_route(&mut self, max: usize) -> Option<Batch> {
        let host = self.segments.get(self.host?)?.index.clone();
        let items = self.delta.take_for_routing(max);
        (!items.is_empty()).then_some(Batch {
            generation: self.generation,
            host,
            items,
        })
    }

    /// Moves routed items of a batch taken in `generation` onto the host's lists (`routes[i]`
    /// for `items[i]`), unless the state has moved to another generation. Returns how many
    /// moved.
    pub fn settle(&mut self, generation: u64, items: &[ToRoute], routes: &[Vec<u32>]) -> usize {
        if generation != self.generation {
            return 0;
        }
        items
            .iter()
            .zip(routes)
            .filter(|(item, route)| self.delta.settle(item, route))
            .count()
    }

    /// Items waiting for the router (an upper bound).
    pub fn waiting(&self) -> usize {
        self.delta.waiting()
    }

    /// Applies one logged operation. Returns how many keys a delete removed.
    pub fn apply(&mut self, op: &Op) -> Result<usize> {
        match op {
            Op::Upsert { keys, vectors } => {
                let dim = self.layout.dim;
                for (key, vector) in keys.iter().zip(vectors.chunks_exact(dim)) {
                    self.hide_in_segments(*key);
                    self.delta.upsert(*key, vector)?;
                }
                Ok(0)
            }
            Op::Delete { keys } => Ok(keys
                .iter()
                .filter(|&&key| self.delta.delete(key) | self.hide_in_segments(key))
                .count()),
        }
    }

    /// Hides `key`'s copy in the segments; true when a live copy was there.
    fn hide_in_segments(&mut self, key: u64) -> bool {
        for segment in &mut self.segments {
            if let Some(slot) = segment.live_slot(key) {
                segment.dead.insert(slot);
                return true;
            }
        }
        false
    }

    /// Live items.
    pub fn n_live(&self) -> usize {
        let in_segments: usize = self
            .segments
            .iter()
            .map(|s| s.index.n_stored() as usize - s.dead.len())
            .sum();
        in_segments + self.delta.len()
    }

    /// The largest live key.
    pub fn max_key(&self) -> Option<u64> {
        let in_segments = self.segments.iter().filter_map(|s| {
            s.index
                .stored_keys()
                .into_iter()
                .rev()
                .find(|&k| s.is_live(k))
        });
        in_segments.chain(self.delta.max_key()).max()
    }

    /// The vector of `key`'s live copy.
    pub fn vector(&self, key: u64) -> Result<Vec<f32>> {
        if let Some(v) = self.delta.vector(key) {
            return Ok(v);
        }
        for segment in &self.segments {
            if segment.is_live(key) {
                if let Ok(v) = segment.index.get_item_vector(key) {
                    return Ok(v);
                }
            }
        }
        Err(Error::invalid_argument(format!(
            "item {key} does not exist: that key was never added, or was deleted"
        )))
    }

    /// Every live item, as (key, vector), in ascending key order.
    pub fn items(&self) -> Vec<(u64, Vec<f32>)> {
        let mut items: Vec<(u64, Vec<f32>)> = self.delta.items().collect();
        for segment in &self.segments {
            for key in segment.index.stored_keys() {
                if segment.is_live(key) {
                    if let Ok(v) = segment.index.get_item_vector(key) {
                        items.push((key, v));
                    }
                }
            }
        }
        items.sort_unstable_by_key(|(k, _)| *k);
        items
    }

    /// Searches every part (each segment, then the delta) and keeps the best `n` of their
    /// answers, as one index would order them. Each part gets a share of `search_k` in
    /// proportion to its live items; a complete request stays complete, since every part
    /// returns `min(n, its accepted items)`.
    pub fn search(&self, query: &Query, request: &Request, out: &mut Vec<Neighbor>) -> Result<()> {
        let start = out.len();
        let total = self.n_live().max(1);
        let share = |live: usize, boost: usize| {
            request
                .search_k
                .map(|k| (k.saturating_mul(live).saturating_mul(boost) / total).max(request.n))
        };
        for (i, segment) in self.segments.iter().enumerate() {
            let overlay = match self.host {
                Some(host) if host == i => self.delta.overlay(),
                _ => None,
            };
            let live = segment.index.n_stored() as usize - segment.dead.len()
                + overlay.map_or(0, |_| self.delta.len());
            if live == 0 {
                continue;
            }
            let part = Request {
                n: request.n,
                search_k: share(live, 1),
                filter: request.filter,
                complete: request.complete,
                hidden: Some(&segment.dead),
            };
            segment.index.search_part(query, &part, overlay, out)?;
        }
        let part = Request {
            n: request.n,
            search_k: share(self.delta.len_in_trees(), DELTA_BOOST),
            filter: request.filter,
            complete: request.complete,
            hidden: None,
        };
        self.delta.search(query, &part, out)?;
        let metric = self.layout.metric;
        out[start..].sort_unstable_by(|a, b| {
            let (x, y) = match metric {
                Metric::Dot => (-a.distance, -b.distance),
                _ => (a.distance, b.distance),
            };
            x.total_cmp(&y).then(a.id.cmp(&b.id))
        });
        out.truncate(start + request.n.min(out.len() - start));
        Ok(())
    }
}

#[cfg(test)]
mod tests;
