//! A proximity graph over the items, stored as an optional section beside the forest.
//!
//! Why: a forest needs thousands of candidates per query for high recall; a graph walk from a
//! fixed entry reaches the nearest items after a few hundred distance evaluations. Graph
//! libraries pay for that with an index copied into every process's heap; here the graph is
//! one more section of the file, mapped like the rest and shared by processes, and queries
//! score on the compact codes and re-rank exactly, as the forest's do.
//!
//! The graph is flat (no hierarchy), with a fixed maximum degree R, built Vamana-style
//! (`build.rs`): each item's neighbours are pruned with alpha > 1, which keeps the long edges
//! a pure nearest-neighbour graph lacks, and every item is made reachable from the entry.
//! Rows have a fixed stride, so loading is O(1) and a neighbour's row is one multiplication
//! away.
//!
//! Section layout (kind 3; little-endian; the section starts 64-byte aligned):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | graph version (1) |
//! | 4 | 4 | R, the row length (slots per node) |
//! | 8 | 8 | n_items (rows; the header's slot count) |
//! | 16 | 4 | entry slot |
//! | 20 | 44 | reserved, zero |
//! | 64 | 4 x R x n | row `i`: the neighbours of slot `i`, nearest first, padded with `u32::MAX` |

pub(crate) mod beam;
pub(crate) mod build;
pub(crate) mod search;

use crate::error::{Error, Result};
use beam::NONE;

/// The section kind in the file header's table.
pub(crate) const SECTION_KIND: u32 = 3;
const VERSION: u32 = 1;
const HEADER_LEN: usize = 64;
/// The degree `ann_build_graph` uses when given 0: hnswlib's edge budget at its base layer
/// with M = 16.
pub(crate) const DEFAULT_DEGREE: usize = 32;
/// The largest degree accepted: rows stay a few cache lines.
pub(crate) const MAX_DEGREE: usize = 256;

/// A graph section, read in place.
#[derive(Clone, Copy)]
pub(crate) struct Graph<'a> {
    pub degree: usize,
    pub entry: u32,
    /// `n_items * degree` slots.
    pub adjacency: &'a [u32],
}

impl<'a> Graph<'a> {
    /// Reads a section for an index of `n_items` slots, checking its sizes with checked
    /// arithmetic in O(1). Neighbour ids are not checked here (the search refuses ids out of
    /// range as it meets them; `verify` checks them all).
    pub fn parse(bytes: &'a [u8], n_items: usize) -> Result<Graph<'a>> {
        let bad =
            |detail: String| Error::corrupt(format!("the graph section is corrupt: {detail}"));
        if bytes.len() < HEADER_LEN {
            return Err(bad(format!(
                "{} bytes, shorter than its header",
                bytes.len()
            )));
        }
        let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4"));
        let u64_at = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8"));
        if u32_at(0) != VERSION {
            return Err(Error::new(
                crate::error::ErrorKind::UnsupportedVersion,
                format!(
                    "graph section version {} is not known to this library; upgrade the library",
                    u32_at(0)
                ),
            ));
        }
        let degree = u32_at(4) as usize;
        if degree == 0 || degree > MAX_DEGREE {
            return Err(bad(format!("degree {degree} is outside 1..={MAX_DEGREE}")));
        }
        if u64_at(8) != n_items as u64 {
            return Err(bad(format!(
                "it has {} rows, the index {n_items} slots",
                u64_at(8)
            )));
        }
        let entry = u32_at(16);
        if entry as usize >= n_items {
            return Err(bad(format!("its entry {entry} is not a slot of the index")));
        }
        let expected = n_items
            .checked_mul(degree)
            .and_then(|n| n.checked_mul(4))
            .and_then(|n| n.checked_add(HEADER_LEN));
        if expected != Some(bytes.len()) {
            return Err(bad(format!(
                "{} bytes, where {n_items} rows of {degree} need {}",
                bytes.len(),
                expected.map_or("more than memory holds".into(), |n| n.to_string())
            )));
        }
        let adjacency = bytemuck::try_cast_slice(&bytes[HEADER_LEN..])
            .map_err(|_| bad("its rows are misaligned".into()))?;
        Ok(Graph {
            degree,
            entry,
            adjacency,
        })
    }

    /// The neighbours of `slot` (up to the first `NONE`).
    pub fn neighbours(&self, slot: usize) -> impl Iterator<Item = u32> + 'a {
        self.adjacency[slot * self.degree..(slot + 1) * self.degree]
            .iter()
            .copied()
            .take_while(|&s| s != NONE)
    }

    /// The O(n R) checks `verify` adds: every neighbour is an item slot of the index, and every
    /// item is reachable from the entry.
    pub fn check(&self, is_item: impl Fn(usize) -> bool) -> Result<()> {
        let n = self.adjacency.len() / self.degree;
        let bad = |detail: String| {
            Err(Error::corrupt(format!(
                "the graph section is damaged: {detail}"
            )))
        };
        if !is_item(self.entry as usize) {
            return bad(format!("its entry {} is not an item", self.entry));
        }
        for slot in 0..n {
            for next in self.neighbours(slot) {
                if next as usize >= n || !is_item(next as usize) {
                    return bad(format!("slot {slot} links to {next}, which is not an item"));
                }
            }
        }
        let reached = reachable(self.adjacency, self.degree, self.entry);
        if let Some(slot) = (0..n).find(|&s| is_item(s) && !reached[s]) {
            return bad(format!("item slot {slot} cannot be reached from the entry"));
        }
        Ok(())
    }
}

/// Which slots a breadth-first walk from `entry` reaches.
pub(crate) fn reachable(adjacency: &[u32], degree: usize, entry: u32) -> Vec<bool> {
    let n = adjacency.len() / degree;
    let mut reached = vec![false; n];
    let mut queue = std::collections::VecDeque::new();
    if (entry as usize) < n {
        reached[entry as usize] = true;
        queue.push_back(entry);
    }
    while let Some(at) = queue.pop_front() {
        let row = &adjacency[at as usize * degree..(at as usize + 1) * degree];
        for &next in row.iter().take_while(|&&s| s != NONE) {
            if (next as usize) < n && !reached[next as usize] {
                reached[next as usize] = true;
                queue.push_back(next);
            }
        }
    }
    reached
}

/// The section's bytes for a built graph.
pub(crate) fn encode(adjacency: &[u32], degree: usize, entry: u32) -> Vec<u8> {
    let n_items = adjacency.len() / degree;
    let mut bytes = vec![0u8; HEADER_LEN];
    bytes[0..4].copy_from_slice(&VERSION.to_le_bytes());
    bytes[4..8].copy_from_slice(&(degree as u32).to_le_bytes());
    bytes[8..16].copy_from_slice(&(n_items as u64).to_le_bytes());
    bytes[16..20].copy_from_slice(&entry.to_le_bytes());
    bytes.extend_from_slice(bytemuck::cast_slice(adjacency));
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Four slots; slot 2 is a hole (not an item); rows of 2.
    fn section(rows: [[u32; 2]; 4], entry: u32) -> Vec<u8> {
        let adjacency: Vec<u32> = rows.iter().flatten().copied().collect();
        encode(&adjacency, 2, entry)
    }

    fn is_item(slot: usize) -> bool {
        slot != 2
    }

    /// Bytes as a mapped section would hold them: 4-byte aligned.
    fn aligned(bytes: &[u8]) -> Vec<u32> {
        bytes
            .chunks_exact(4)
            .map(|c| u32::from_ne_bytes(c.try_into().unwrap()))
            .collect()
    }

    fn check(bytes: &[u8]) -> Result<()> {
        let words = aligned(bytes);
        Graph::parse(bytemuck::cast_slice(&words), 4)?.check(is_item)
    }

    #[test]
    fn a_sound_graph_passes_and_lists_its_neighbours() {
        let bytes = section([[1, 3], [0, NONE], [NONE, NONE], [1, NONE]], 0);
        check(&bytes).unwrap();
        let words = aligned(&bytes);
        let graph = Graph::parse(bytemuck::cast_slice(&words), 4).unwrap();
        assert_eq!(graph.neighbours(0).collect::<Vec<_>>(), [1, 3]);
        assert_eq!(graph.neighbours(1).collect::<Vec<_>>(), [0]);
    }

    #[test]
    fn bad_links_holes_and_unreachable_items_are_found() {
        let out_of_range = section([[1, 9], [0, NONE], [NONE, NONE], [1, NONE]], 0);
        let to_a_hole = section([[1, 2], [3, NONE], [NONE, NONE], [1, NONE]], 0);
        let unreachable = section([[1, NONE], [0, NONE], [NONE, NONE], [1, NONE]], 0);
        let entry_is_a_hole = section([[1, 3], [0, NONE], [0, NONE], [1, NONE]], 2);
        for bytes in [out_of_range, to_a_hole, unreachable, entry_is_a_hole] {
            assert_eq!(check(&bytes).unwrap_err().kind(), crate::ErrorKind::Corrupt);
        }
    }

    #[test]
    fn sizes_that_contradict_the_index_are_refused_at_parse() {
        let bytes = section([[1, 3], [0, NONE], [NONE, NONE], [1, NONE]], 0);
        let words = aligned(&bytes);
        let ok: &[u8] = bytemuck::cast_slice(&words);
        assert!(Graph::parse(ok, 5).is_err(), "row count");
        assert!(Graph::parse(&ok[..ok.len() - 4], 4).is_err(), "truncated");
        assert!(
            Graph::parse(&ok[..10], 4).is_err(),
            "shorter than the header"
        );
        let mut bad = words.clone();
        bad[1] = 0; // degree 0
        assert!(Graph::parse(bytemuck::cast_slice(&bad), 4).is_err());
        let mut bad = words.clone();
        bad[4] = 4; // entry past the slots
        assert!(Graph::parse(bytemuck::cast_slice(&bad), 4).is_err());
        let mut bad = words;
        bad[0] = 2; // version
        assert_eq!(
            Graph::parse(bytemuck::cast_slice(&bad), 4)
                .err()
                .map(|e| e.kind()),
            Some(crate::ErrorKind::UnsupportedVersion)
        );
    }
}
