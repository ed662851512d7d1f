//! The delta of a live index: items written since the last compaction, searchable at once.
//!
//! The items sit in one [`GrowingForest`]: an upsert adds its item to every tree in place (a
//! walk down each tree, a few microseconds), so writes never wait for a build and a query
//! searches one forest for the whole delta, whatever its size. Keys map to slots through a
//! hash map; a replaced item is taken out of its trees and its slot reused, so the delta
//! holds exactly one copy of each of its keys and needs no hidden-key set of its own.

use super::delta_codes::{DeltaCodes, DERIVE_AT};
use super::growing::GrowingForest;
use crate::codes::Quantiser;
use crate::distance::{Neighbor, Query};
use crate::error::Result;
use crate::keys::{KeyMapOf, SlotKeys, NO_KEY};
use crate::metric::Metric;
use crate::node::Layout;
use crate::search::{Forest, Request};

/// Trees of the delta's forest. Each tree costs every upsert a walk from the root to a leaf;
/// fewer trees than a segment's are made up for by a larger share of `search_k` (see state).
pub(crate) const DELTA_TREES: usize = 10;

pub(crate) struct Delta {
    layout: Layout,
    forest: GrowingForest,
    codes: DeltaCodes,
    /// `keys[slot]`, `NO_KEY` for an empty slot.
    keys: Vec<u64>,
    slots: KeyMapOf<u32>,
    /// Slots emptied by deletes, reused first.
    free: Vec<u32>,
    /// Slots below this were used at some point.
    used: usize,
}

impl Delta {
    /// An empty delta; its codes use `quantiser` when given (see `delta_codes`).
    pub fn new(layout: Layout, seed: u64, quantiser: Option<Quantiser>) -> Result<Delta> {
        Ok(Delta {
            layout,
            forest: GrowingForest::new(layout, DELTA_TREES, seed)?,
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

    /// Adds or replaces `key` (vector checked by the caller).
    pub fn upsert(&mut self, key: u64, vector: &[f32]) -> Result<()> {
        let slot = match self.slots.get(&key) {
            Some(&slot) => {
                self.forest.remove(slot as usize);
                slot as usize
            }
            None => {
                let slot = match self.free.pop() {
                    Some(slot) => slot as usize,
                    None => {
                        if self.used == self.forest.capacity() {
                            self.forest.grow(self.used + 1)?;
                            self.keys.resize(self.forest.capacity(), NO_KEY);
                        }
                        self.used += 1;
                        self.used - 1
                    }
                };
                self.keys[slot] = key;
                self.slots.insert(key, slot as u32);
                slot
            }
        };
        self.forest.insert(slot, vector)?;
        self.codes.set(self.forest.nodes(), slot);
        if !self.codes.encoding() && self.slots.len() >= DERIVE_AT {
            let live: Vec<usize> = self.slots.values().map(|&s| s as usize).collect();
            self.codes.derive_if_due(self.forest.nodes(), &live);
        }
        Ok(())
    }

    /// Removes `key`; true when the delta held it.
    pub fn delete(&mut self, key: u64) -> bool {
        match self.slots.remove(&key) {
            Some(slot) => {
                self.forest.remove(slot as usize);
                self.codes.clear(slot as usize);
                self.keys[slot as usize] = NO_KEY;
                self.free.push(slot);
                true
            }
            None => false,
        }
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

    /// Searches the delta's forest: the best `n` accepted items, appended to `out`.
    pub fn search(&self, query: &Query, request: &Request, out: &mut Vec<Neighbor>) -> Result<()> {
        if self.slots.is_empty() {
            return Ok(());
        }
        Forest {
            nodes: self.forest.nodes(),
            n_items: self.forest.capacity(),
            n_trees: self.forest.n_trees(),
            first_root: self.forest.first_root(),
            codes: self.codes.view(&self.layout),
            keys: SlotKeys::Mapped {
                keys: &self.keys,
                slots: &self.slots,
            },
            graph: None,
        }
        .search(query, request, out)
    }

    /// Checks the forest's structure (what `verify` runs on a live index).
    pub fn check(&self) -> Result<()> {
        self.forest.check()
    }
}

#[cfg(test)]
mod tests;
