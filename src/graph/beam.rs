//! The beam of a graph search: the best `ef` nodes met so far, sorted, each marked once
//! expanded. Shared by the build (which searches the graph it is growing) and by queries.
//!
//! A sorted array with binary-search insertion beats a pair of heaps at these sizes (ef up to
//! a few hundred): one contiguous block, no pointer chasing, and the next node to expand is
//! found by a cursor that only moves back when an insertion lands before it.

/// Slot ids in adjacency rows; `NONE` pads a row.
pub(crate) const NONE: u32 = u32::MAX;

#[derive(Default)]
pub(crate) struct Beam {
    /// `(distance, slot)`, ascending by distance then slot.
    entries: Vec<(f32, u32)>,
    expanded: Vec<bool>,
    capacity: usize,
    /// Entries before this are all expanded.
    cursor: usize,
}

impl Beam {
    pub fn reset(&mut self, capacity: usize) {
        self.entries.clear();
        self.expanded.clear();
        self.capacity = capacity.max(1);
        self.cursor = 0;
    }

    /// True when `distance` would enter the beam.
    #[inline]
    pub fn admits(&self, distance: f32) -> bool {
        self.entries.len() < self.capacity
            || self
                .entries
                .last()
                .is_some_and(|&(worst, _)| distance < worst)
    }

    /// Inserts a node (the caller has checked it was not seen before).
    pub fn insert(&mut self, distance: f32, slot: u32) {
        if !self.admits(distance) {
            return;
        }
        let at = self
            .entries
            .partition_point(|&(d, s)| d < distance || (d == distance && s < slot));
        if self.entries.len() == self.capacity {
            self.entries.pop();
            self.expanded.pop();
        }
        self.entries.insert(at, (distance, slot));
        self.expanded.insert(at, false);
        self.cursor = self.cursor.min(at);
    }

    /// The nearest node not yet expanded, marked expanded now.
    pub fn next(&mut self) -> Option<u32> {
        while self.cursor < self.entries.len() {
            let at = self.cursor;
            self.cursor += 1;
            if !self.expanded[at] {
                self.expanded[at] = true;
                return Some(self.entries[at].1);
            }
        }
        None
    }

    /// The beam's nodes, nearest first.
    pub fn entries(&self) -> &[(f32, u32)] {
        &self.entries
    }
}

/// Best-first search of a fixed-degree graph (`adjacency` holds `degree` slots per node,
/// padded with [`NONE`]) from `entry`, keeping the best `ef` nodes by `distance`. `visit`
/// returns true the first time it is given a slot in this search. Neighbours at or past `n_slots` are refused: a damaged file cannot make
/// the search read out of bounds.
pub(crate) fn search(
    beam: &mut Beam,
    adjacency: &[u32],
    degree: usize,
    entry: u32,
    ef: usize,
    mut visit: impl FnMut(u32) -> bool,
    mut distance: impl FnMut(u32) -> f32,
) {
    let n_slots = adjacency.len() / degree.max(1);
    beam.reset(ef);
    if (entry as usize) < n_slots && visit(entry) {
        beam.insert(distance(entry), entry);
    }
    while let Some(node) = beam.next() {
        let row = &adjacency[node as usize * degree..(node as usize + 1) * degree];
        for &next in row {
            if next == NONE {
                break;
            }
            if (next as usize) < n_slots && visit(next) {
                let d = distance(next);
                beam.insert(d, next);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_beam_keeps_the_best_and_expands_nearest_first() {
        let mut beam = Beam::default();
        beam.reset(3);
        for (d, s) in [(5.0, 1), (1.0, 2), (3.0, 3), (4.0, 4), (0.5, 5)] {
            beam.insert(d, s);
        }
        assert_eq!(beam.entries(), &[(0.5, 5), (1.0, 2), (3.0, 3)]);
        assert_eq!(beam.next(), Some(5));
        beam.insert(0.1, 6);
        assert_eq!(beam.next(), Some(6));
        assert_eq!(beam.next(), Some(2));
        assert_eq!(beam.next(), None);
        assert!(!beam.admits(3.0));
        assert!(beam.admits(0.9));
    }
}
