//! The delta's items that have moved into its host's trees, and the queue of those waiting.
//!
//! An upsert puts its item in the delta's own small forest at once (cheap, so writes stay
//! fast); routing it down every tree of the host costs a read of one node per level of each
//! tree, tens of microseconds, so the router (`router.rs`) does it in the background, in
//! batches, and the item then moves: out of the delta's trees, onto the host's leaf lists.
//! A write to a slot while its route was being worked out makes that route stale: each slot
//! has a version, bumped by every write, and a route is applied only to the version it was
//! worked out for.

use crate::keys::SlotSet;
use crate::overlay::Overlay;
use std::collections::VecDeque;

pub(crate) struct Routed {
    pub overlay: Overlay,
    /// Slots whose item is listed in the host's trees (and in none of the delta's).
    pub routed: SlotSet,
    /// Per slot, bumped by every write to it.
    versions: Vec<u32>,
    /// Slots written since they were last routed, with the version written (stale entries are
    /// skipped when taken).
    queue: VecDeque<(u32, u32)>,
    /// Slots ids may use beside the host's: search numbers them after the host's, in i32.
    pub max_slots: usize,
}

impl Routed {
    /// Lists for a host of `n_trees` trees and `n_items` slots.
    pub fn new(n_trees: usize, n_items: usize) -> Routed {
        Routed {
            overlay: Overlay::new(n_trees),
            routed: SlotSet::default(),
            versions: Vec::new(),
            queue: VecDeque::new(),
            max_slots: (i32::MAX as usize).saturating_sub(n_items),
        }
    }

    /// A new write to `slot`: any route of what it held is stale. True when the slot was routed
    /// (the caller then empties it itself: it is in none of the delta's trees).
    pub fn written(&mut self, slot: usize) -> bool {
        if self.versions.len() <= slot {
            self.versions.resize((slot + 1).next_power_of_two(), 0);
        }
        self.versions[slot] = self.versions[slot].wrapping_add(1);
        let was_routed = self.routed.remove(slot);
        if was_routed {
            self.overlay.remove(slot);
        }
        was_routed
    }

    /// Queues the item just written to `slot` for routing.
    pub fn enqueue(&mut self, slot: usize) {
        self.queue.push_back((slot as u32, self.versions[slot]));
    }

    /// Takes up to `max` queued slots whose entry is current, with their versions.
    pub fn take(&mut self, max: usize) -> Vec<(usize, u32)> {
        let mut taken = Vec::new();
        while taken.len() < max {
            let Some((slot, version)) = self.queue.pop_front() else {
                break;
            };
            let slot = slot as usize;
            if self.current(slot, version) && !self.routed.contains(slot) {
                taken.push((slot, version));
            }
        }
        taken
    }

    /// True when `version` is the latest write to `slot`.
    pub fn current(&self, slot: usize, version: u32) -> bool {
        self.versions.get(slot) == Some(&version)
    }

    /// Items waiting (an upper bound: stale entries are counted until taken).
    pub fn waiting(&self) -> usize {
        self.queue.len()
    }

    /// Lists `slot` at `route`: it is routed from now on.
    pub fn settle(&mut self, slot: usize, route: &[u32]) {
        self.overlay.add(slot, route);
        self.routed.insert(slot);
    }
}
