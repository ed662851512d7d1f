//! A query's working space: the walk's heap, the marks that drop duplicate candidates, the
//! candidates and their scores, and a graph search's beam. One per thread, reused, so a query
//! allocates nothing once the buffers have grown.

use super::Pending;
use crate::graph::beam::Beam;
use std::cell::RefCell;
use std::collections::BinaryHeap;

/// A slot's standing in the current query.
enum Seen {
    New,
    Accepted,
    Refused,
}

#[derive(Default)]
pub(crate) struct Scratch {
    pub(super) heap: BinaryHeap<Pending>,
    /// `seen[slot]` is `epoch` for an accepted candidate, `epoch + 1` for a refused one.
    seen: Vec<u16>,
    epoch: u16,
    /// Distinct accepted candidates (slots), in the order leaves produced them.
    pub candidates: Vec<i32>,
    pub scored: Vec<(f32, i32)>,
    pub weights: Vec<i16>,
    beam: Beam,
}

impl Scratch {
    /// Starts a query over `n_items` slots: a new epoch, so no slot counts as seen.
    pub(crate) fn begin(&mut self, n_items: usize) {
        self.heap.clear();
        self.candidates.clear();
        self.scored.clear();
        if self.seen.len() < n_items {
            self.seen.resize(n_items, 0);
        }
        if self.epoch >= u16::MAX - 2 {
            self.seen.fill(0);
            self.epoch = 0;
        }
        self.epoch += 2;
    }

    /// What a graph search works with: its beam, the seen marks (a slot is visited when its
    /// mark is the epoch), the epoch, and the query's code weights.
    pub(crate) fn graph_parts(&mut self) -> (&mut Beam, &mut [u16], u16, &[i16]) {
        (&mut self.beam, &mut self.seen, self.epoch, &self.weights)
    }

    /// Makes the beam's accepted nodes the scored candidates, with the scores the walk gave
    /// them (nodes it could not score, holes in a damaged file, are left out).
    pub(crate) fn take_beam(&mut self, accepts: &dyn Fn(i32) -> bool) {
        self.scored.clear();
        for &(score, slot) in self.beam.entries() {
            if score.is_finite() && accepts(slot as i32) {
                self.scored.push((score, slot as i32));
            }
        }
    }

    #[inline]
    fn seen(&self, slot: i32) -> Seen {
        match self.seen[slot as usize] {
            e if e == self.epoch => Seen::Accepted,
            e if e == self.epoch + 1 => Seen::Refused,
            _ => Seen::New,
        }
    }

    /// Meets `id` in a leaf: marks it when new, and returns 1 when it is accepted (an accepted
    /// id counts toward `search_k` each time it is met, as Annoy counts).
    #[inline]
    pub(super) fn meet(&mut self, id: i32, accepts: &dyn Fn(i32) -> bool) -> usize {
        match self.seen(id) {
            Seen::Accepted => 1,
            Seen::Refused => 0,
            Seen::New => {
                let accepted = accepts(id);
                self.mark(id, accepted);
                usize::from(accepted)
            }
        }
    }

    #[inline]
    fn mark(&mut self, slot: i32, accepted: bool) {
        self.seen[slot as usize] = self.epoch + u16::from(!accepted);
        if accepted {
            self.candidates.push(slot);
        }
    }
}

thread_local! {
    pub(super) static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}
