//! The delta of a live index: items written since the last compaction, searchable at once.
//!
//! An upsert stores its item in a slot of a [`GrowingForest`] and adds it to that forest's
//! trees in place (a walk down each tree, some microseconds), so writes never wait for a
//! build and the item is found by the next query. When the generation has a segment fit to
//! host the delta (see `state`), the router (`router.rs`) then moves each item, in the
//! background, into the host's trees (`routed`, `crate::overlay`): listed at the host's
//! leaves where it falls, it is met by the host's own walk as a compacted index would meet
//! it, and the delta's forest keeps only the items not routed yet.
//!
//! Keys map to slots through a hash map; a replaced item is taken out of its trees or lists
//! and its slot reused, so the delta holds exactly one copy of each of its keys and needs no
//! hidden-key set of its own.

use super::delta_codes::{DeltaCodes, DERIVE_AT};
use super::growing::GrowingForest;
use super::routed::Routed;
use crate::codes::Quantiser;
use crate::distance::{Neighbor, Query};
use crate::error::{Error, Result};
use crate::keys::{KeyMapOf, SlotKeys, NO_KEY};
use crate::metric::Metric;
use crate::node::{Layout, Nodes};
use crate::overlay::OverlayView;
use crate::search::{Forest, Request};

/// Trees of the delta's forest. Each tree costs every upsert a walk from the root to a leaf;
/// fewer trees than a segment's are made up for by a larger share of `search_k` (see state).
pub(crate) const DELTA_TREES: usize = 10;

pub(crate) struct Delta {
    layout: Layout,
    /// Every item's slot, and the trees of the items not routed.
    forest: GrowingForest,
    /// With a host: the routed items' lists, and the queue of items to route.
    routes: Option<Routed>,

    codes: DeltaCodes,
    /// `keys[slot]`, `NO_KEY` for an empty slot.
    keys: Vec<u64>,
    slots: KeyMapOf<u32>,
    /// Slots emptied by deletes, reused first.
    free: Vec<u32>,
    /// Slots below this were used at some point.
    used: usize,
}

/// The host a delta's items are routed into: its trees and slots.
#[derive(Clone, Copy)]
pub(crate) struct HostShape {
    pub n_trees: usize,
    pub n_items: usize,
}

/// An item taken for routing: its slot, the version of the slot it was taken at, and its node.
pub(crate) struct ToRoute {
    pub slot: usize,
    pub version: u32,
    pub node: Vec<u8>,
}

impl Delta {
    /// An empty delta, routed into a host of `host`'s shape when given. Its codes use
    /// `quantiser` when given (a host's, when routed, so that the host's walk can score them).
    /// Without a host and a quantiser, one is derived from the first items (`delta_codes`).
    pub fn new(
        layout: Layout,
        seed: u64,
        quantiser: Option<Quantiser>,
        host: Option<HostShape>,
    ) -> Result<Delta> {
        Ok(Delta {
            layout,
            forest: GrowingForest::new(layout, DELTA_TREES, seed)?,
            routes: host.map(|h| Routed::new(h.n_trees, h.n_items)),

            codes: DeltaCodes::new(&layout, quantiser),
            keys: Vec::new(),
            slots: KeyMapOf::default(),
            free: Vec::new(),
            used: 0,
        })
    }

    /// Live items in the delta.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Live items in the delta's own trees (not routed).
    pub fn len_in_trees(&self) -> usize {
        self.slots.len() - self.routes.as_ref().map_or(0, |r| r.routed.len())
    }

    /// Items waiting for the router (an upper bound).
    pub fn waiting(&self) -> usize {
        self.routes.as_ref().map_or(0, Routed::waiting)
    }

    /// Adds or replaces `key` (vector checked by the caller).
    pub fn upsert(&mut self, key: u64, vector: &[f32]) -> Result<()> {
        let slot = match self.slots.get(&key) {
            Some(&slot) => {
                self.unindex(slot as usize);
                slot as usize
            }
            None => {
                let slot = match self.free.pop() {
                    Some(slot) => slot as usize,
                    None => {
                        let limit = self.routes.as_ref().map_or(usize::MAX, |r| r.max_slots);
                        if self.used >= limit {
                            return Err(Error::invalid_state(
                                "the delta has no more room; compact the live index",
                            ));
                        }
                        if self.used == self.forest.capacity() {
                            self.forest.grow(self.used + 1)?;
                            self.keys.resize(self.forest.capacity(), NO_KEY);
                        }
                        self.used += 1;
                        self.used - 1
                    }
                };
                if let Some(routes) = &mut self.routes {
                    routes.written(slot);
                }
                self.keys[slot] = key;
                self.slots.insert(key, slot as u32);
                slot
            }
        };
        self.forest.insert(slot, vector)?;
        self.codes.set(self.forest.nodes(), slot);
        match &mut self.routes {
            Some(routes) => routes.enqueue(slot),
            // A routed delta shares its host's codes or has none: only a lone one derives.
            None if !self.codes.encoding() && self.slots.len() >= DERIVE_AT => {
                let live: Vec<usize> = self.slots.values().map(|&s| s as usize).collect();
                self.codes.derive_if_due(self.forest.nodes(), &live);
            }
            None => {}
        }
        Ok(())
    }

    /// Removes `key`; true when the delta held it.
    pub fn delete(&mut self, key: u64) -> bool {
        match self.slots.remove(&key) {
            Some(slot) => {
                self.unindex(slot as usize);
                self.codes.clear(slot as usize);
                self.keys[slot as usize] = NO_KEY;
                self.free.push(slot);
                true
            }
            None => false,
        }
    }

    /// Takes the item in `slot` out of the trees or lists that index it, and empties it.
    fn unindex(&mut self, slot: usize) {
        let was_routed = self.routes.as_mut().is_some_and(|r| r.written(slot));
        if was_routed {
            self.forest.clear(slot);
        } else {
            self.forest.remove(slot);
        }
    }

    /// Up to `max` items waiting for the router, with copies of their nodes.
    pub fn take_for_routing(&mut self, max: usize) -> Vec<ToRoute> {
        let Some(routes) = &mut self.routes else {
            return Vec::new();
        };
        let nodes = self.forest.nodes();
        routes
            .take(max)
            .into_iter()
            .map(|(slot, version)| ToRoute {
                slot,
                version,
                node: nodes.get(slot).to_vec(),
            })
            .collect()
    }

    /// Moves the item taken as `item` onto the host's lists at `route`, unless it has been
    /// written since. True when it moved.
    pub fn settle(&mut self, item: &ToRoute, route: &[u32]) -> bool {
        let Some(routes) = &mut self.routes else {
            return false;
        };
        if !routes.current(item.slot, item.version)
            || routes.routed.contains(item.slot)
            || self.keys.get(item.slot).is_none_or(|&k| k == NO_KEY)
            || route.len() != routes.overlay.n_trees()
        {
            return false;
        }
        // Items from a region the host's planes do not divide (data unlike what the host was
        // built from) would crowd a few of its leaves, where queries find them poorly: they
        // stay in the delta's trees, which split wherever items arrive.
        let crowded = route
            .iter()
            .filter(|&&node| routes.overlay.at(node as usize).len() >= self.layout.k)
            .count();
        if 2 * crowded > route.len() {
            return false;
        }
        self.forest.detach(item.slot);
        routes.settle(item.slot, route);
        true
    }

    /// The stored vector of `key`, if the delta holds it.
    pub fn vector(&self, key: u64) -> Option<Vec<f32>> {
        let slot = *self.slots.get(&key)? as usize;
        let node = self.forest.nodes().get(slot);
        Some(match self.layout.metric {
            Metric::Hamming => {
                let bits = self.layout.bits(node);
                (0..self.layout.dim)
                    .map(|j| f32::from((bits[j / 8] >> (j % 8)) & 1))
                    .collect()
            }
            _ => self.layout.vector(node).to_vec(),
        })
    }

    /// Every live item, as (key, vector).
    pub fn items(&self) -> impl Iterator<Item = (u64, Vec<f32>)> + '_ {
        self.slots
            .keys()
            .filter_map(move |&k| Some((k, self.vector(k)?)))
    }

    /// The largest live key.
    pub fn max_key(&self) -> Option<u64> {
        self.slots.keys().copied().max()
    }

    /// The routed items as a search of the host reads them.
    pub fn overlay(&self) -> Option<OverlayView<'_>> {
        let routes = self.routes.as_ref()?;
        let nodes = self.forest.nodes();
        Some(OverlayView {
            overlay: &routes.overlay,
            nodes: Nodes {
                layout: nodes.layout,
                bytes: &nodes.bytes[..self.forest.capacity() * self.layout.node_size],
            },
            listed: &routes.routed,
            codes: self.codes.view(&self.layout),
            keys: self.slot_keys(),
        })
    }

    fn slot_keys(&self) -> SlotKeys<'_> {
        SlotKeys::Mapped {
            keys: &self.keys,
            slots: &self.slots,
        }
    }

    /// Searches the delta's own forest, which holds the items not routed: the best `n`
    /// accepted ones, appended to `out`. (The routed ones are searched with the host.)
    pub fn search(&self, query: &Query, request: &Request, out: &mut Vec<Neighbor>) -> Result<()> {
        if self.len_in_trees() == 0 {
            return Ok(());
        }
        let part = Request {
            hidden: self.routes.as_ref().map(|r| &r.routed),
            ..*request
        };
        Forest {
            nodes: self.forest.nodes(),
            n_items: self.forest.capacity(),
            n_trees: self.forest.n_trees(),
            first_root: self.forest.first_root(),
            codes: self.codes.view(&self.layout),
            keys: self.slot_keys(),
            graph: None,
            overlay: None,
        }
        .search(query, &part, out)
    }

    /// Checks that the forest holds each item not routed once per tree, and the host's lists
    /// each routed one (what `verify` runs on a live index).
    pub fn check(&self) -> Result<()> {
        let routed = |slot: usize| {
            self.routes
                .as_ref()
                .is_some_and(|r| r.routed.contains(slot))
        };
        self.forest.check(|slot| !routed(slot))?;
        if let Some(routes) = &self.routes {
            let listed: Vec<usize> = self
                .slots
                .values()
                .map(|&s| s as usize)
                .filter(|&s| routed(s))
                .collect();
            if listed.len() != routes.routed.len() || !routes.overlay.lists_exactly(&listed) {
                return Err(Error::corrupt(
                    "the live delta is damaged: its routed items are not listed once per tree",
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
