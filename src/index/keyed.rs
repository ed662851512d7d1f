//! Keys in the index: choosing a slot for each added key, laying items out at build (direct
//! or sorted, see `crate::keys`), and translating between keys and slots.

use super::{Index, State};
use crate::error::{Error, Result};
use crate::keys::{self, KeyMap, SortedKeys};
use crate::storage::HeapNodes;
use std::sync::OnceLock;

impl Index {
    /// One more than the largest key stored (0 when empty): for keys added densely from 0,
    /// Annoy's `n_items`, ids never added included.
    pub fn n_items(&self) -> u64 {
        if let Some(live) = self.live() {
            return self.live_counts(live).1;
        }
        if let Some(shards) = self.shards() {
            return shards.iter().map(Index::n_items).max().unwrap_or(0);
        }
        match &self.keys {
            KeyMap::Direct => self.n_items as u64,
            KeyMap::Compact { keys, .. } => keys.iter().max().map_or(0, |&k| k + 1),
            KeyMap::Sorted(_) => self
                .sorted_keys()
                .and_then(|k| k.last())
                .map_or(0, |&k| k + 1),
        }
    }

    /// The number of items stored (keys added, each counted once).
    pub fn n_stored(&self) -> u64 {
        if let Some(live) = self.live() {
            return self.live_counts(live).0;
        }
        if let Some(shards) = self.shards() {
            return shards.iter().map(Index::n_stored).sum();
        }
        // A loaded direct file does not record it: count the item nodes once, on demand.
        *self.stored.get_or_init(|| {
            let nodes = self.forest().nodes;
            (0..self.n_items)
                .filter(|&s| self.layout.n_descendants(nodes.get(s)) == 1)
                .count()
        }) as u64
    }

    /// Every key stored, ascending (in a sharded index, those of every shard).
    pub fn stored_keys(&self) -> Vec<u64> {
        if let Some(shards) = self.shards() {
            let mut all: Vec<u64> = shards.iter().flat_map(Index::stored_keys).collect();
            all.sort_unstable();
            return all;
        }
        match (&self.keys, self.sorted_keys()) {
            (KeyMap::Compact { keys, .. }, _) => {
                let mut keys = keys.clone();
                keys.sort_unstable();
                keys
            }
            (_, Some(sorted)) => sorted.to_vec(),
            _ => {
                let nodes = self.forest().nodes;
                (0..self.n_items)
                    .filter(|&slot| self.layout.n_descendants(nodes.get(slot)) == 1)
                    .map(|slot| slot as u64)
                    .collect()
            }
        }
    }

    /// The sorted keys of a sorted layout (`None` for the direct one).
    pub(super) fn sorted_keys(&self) -> Option<&[u64]> {
        keys::parse(self.keys_bytes()?, self.n_items).ok()
    }

    /// The slot holding `key`, if an item with that key is stored (in this index itself, not
    /// its shards).
    pub(crate) fn stored_slot(&self, key: u64) -> Option<usize> {
        let slot = match &self.keys {
            KeyMap::Direct => usize::try_from(key).ok().filter(|&s| s < self.n_items),
            KeyMap::Compact { slots, .. } => slots.get(&key).map(|&s| s as usize),
            KeyMap::Sorted(_) => keys::slot_in_sorted(self.sorted_keys().unwrap_or(&[]), key),
        }?;
        let node = self.forest().nodes.get(slot);
        (self.layout.n_descendants(node) == 1).then_some(slot)
    }

    /// The slot holding `key`, or an error naming the key when no such item was added.
    pub(super) fn slot_of(&self, key: u64) -> Result<usize> {
        self.stored_slot(key).ok_or_else(|| {
            Error::invalid_argument(format!(
                "item {key} does not exist: that key was never added"
            ))
        })
    }

    /// The slot that item `key` goes to while adding: its own slot if it was added before,
    /// else a new one. Switches from the direct layout to compact adding when `key` does not
    /// fit it. The node is zeroed and marked as an item; the stored count is updated.
    pub(super) fn slot_for_new_item(&mut self, key: u64) -> Result<usize> {
        keys::check_key(key)?;
        let s = self.layout.node_size;
        let count = self.n_stored() as usize;
        let direct_fits = key < self.n_items as u64 || keys::fits_direct(count as u64 + 1, key);
        if matches!(self.keys, KeyMap::Direct) && !direct_fits {
            self.switch_to_compact()?;
        }
        let (slot, new) = match &mut self.keys {
            KeyMap::Direct => {
                let slot = key as usize;
                if slot >= self.n_items {
                    self.storage.resize((slot + 1) * s)?;
                    self.n_items = slot + 1;
                }
                let node = &self.storage.bytes()[slot * s..(slot + 1) * s];
                (slot, self.layout.n_descendants(node) != 1)
            }
            KeyMap::Compact { keys, slots } => match slots.get(&key) {
                Some(&slot) => (slot as usize, false),
                None => {
                    let slot = self.n_items;
                    let slot_u32 = u32::try_from(slot)
                        .ok()
                        .filter(|&v| u64::from(v) <= keys::MAX_DIRECT_KEY)
                        .ok_or_else(|| {
                            Error::invalid_argument(
                                "the index is full: at most 2^31 - 1 items fit Annoy's node layout",
                            )
                        })?;
                    self.storage.resize((slot + 1) * s)?;
                    self.n_items = slot + 1;
                    keys.push(key);
                    slots.insert(key, slot_u32);
                    (slot, true)
                }
            },
            KeyMap::Sorted(_) => unreachable!("a sorted layout is reopened for adding by unbuild"),
        };
        if new {
            self.stored = OnceLock::from(count + 1);
        }
        let node = &mut self
            .storage
            .bytes_mut()
            .expect("adding needs writable nodes")[slot * s..(slot + 1) * s];
        node.fill(0);
        self.layout.set_n_descendants(node, 1);
        Ok(slot)
    }

    /// Direct -> compact adding: items move to the front in key order, holes disappear.
    fn switch_to_compact(&mut self) -> Result<()> {
        let s = self.layout.node_size;
        let bytes = self
            .storage
            .bytes_mut()
            .expect("adding needs writable nodes");
        let mut keys = Vec::new();
        for slot in 0..self.n_items {
            if self.layout.n_descendants(&bytes[slot * s..(slot + 1) * s]) == 1 {
                let to = keys.len();
                bytes.copy_within(slot * s..(slot + 1) * s, to * s);
                keys.push(slot as u64);
            }
        }
        self.n_items = keys.len();
        self.storage.resize(self.n_items * s)?;
        let slots = keys
            .iter()
            .enumerate()
            .map(|(i, &k)| (k, i as u32))
            .collect();
        self.keys = KeyMap::Compact { keys, slots };
        Ok(())
    }

    /// Before a build: compact adding becomes the direct layout when the keys fit it (items
    /// moved to slot = key), the sorted one otherwise (items moved into key order).
    pub(super) fn lay_out_keys(&mut self) -> Result<()> {
        let KeyMap::Compact { keys, .. } = &self.keys else {
            return Ok(());
        };
        let count = keys.len();
        let max_key = keys.iter().copied().max().unwrap_or(0);
        if keys::fits_direct(count as u64, max_key) {
            let to: Vec<usize> = keys.iter().map(|&k| k as usize).collect();
            let total = if count == 0 { 0 } else { max_key as usize + 1 };
            self.permute_slots(to, total)?;
            self.keys = KeyMap::Direct;
        } else {
            let mut order: Vec<(u64, usize)> =
                keys.iter().enumerate().map(|(s, &k)| (k, s)).collect();
            order.sort_unstable();
            let mut to = vec![0usize; count];
            for (rank, &(_, slot)) in order.iter().enumerate() {
                to[slot] = rank;
            }
            let sorted: Vec<u64> = order.iter().map(|&(k, _)| k).collect();
            self.permute_slots(to, count)?;
            let mut section = HeapNodes::default();
            let encoded = keys::encode(&sorted);
            section.resize(encoded.len())?;
            section.bytes_mut().copy_from_slice(&encoded);
            self.keys = KeyMap::Sorted(SortedKeys::Owned(section));
        }
        Ok(())
    }

    /// After `unbuild` or a failed build: a sorted layout goes back to compact adding.
    pub(super) fn reopen_for_adding(&mut self) {
        if matches!(self.keys, KeyMap::Sorted(_)) {
            let keys = self.sorted_keys().map(<[u64]>::to_vec).unwrap_or_default();
            let slots: keys::KeyMapOf<u32> = keys
                .iter()
                .enumerate()
                .map(|(i, &k)| (k, i as u32))
                .collect();
            self.keys = KeyMap::Compact { keys, slots };
        }
    }

    /// Moves the node in slot `i` to slot `to[i]`, growing to `total` slots (new slots are
    /// holes). `to` is one-to-one into `0..total`. In place, one cycle at a time.
    fn permute_slots(&mut self, mut to: Vec<usize>, total: usize) -> Result<()> {
        let s = self.layout.node_size;
        let count = to.len();
        if total > count {
            // The zeroed new slots fill the targets no item takes, so `to` is a permutation.
            let mut taken = vec![false; total];
            to.iter().for_each(|&t| taken[t] = true);
            to.extend((0..total).filter(|&t| !taken[t]));
            self.storage.resize(total * s)?;
        }
        let bytes = self
            .storage
            .bytes_mut()
            .expect("adding needs writable nodes");
        for i in 0..total {
            while to[i] != i {
                let j = to[i];
                let (lo, hi) = (i.min(j), i.max(j));
                let (a, b) = bytes.split_at_mut(hi * s);
                a[lo * s..(lo + 1) * s].swap_with_slice(&mut b[..s]);
                to.swap(i, j);
            }
        }
        self.n_items = total;
        Ok(())
    }

    /// Checks that `state` allows adding, with the reason when it does not.
    pub(super) fn check_adding(&self) -> Result<()> {
        match self.state {
            State::Adding => Ok(()),
            State::Built => Err(Error::invalid_state(
                "cannot add items to a built index; call unbuild first",
            )),
            State::Mapped | State::Sharded => Err(Error::invalid_state(
                "cannot add items to a loaded index: it is a read-only file mapping; build a new index instead",
            )),
            State::Live => Err(Error::invalid_state(
                "cannot add items through a read handle of a live index: upsert through its writer",
            )),
        }
    }
}
