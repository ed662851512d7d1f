//! The byte layout of index nodes, identical to Annoy 1.17.3's `Node` structs (little-endian).
//!
//! Every node has the same size. Its first field, `n_descendants` (i32), says what it is:
//! * `1` in slots `0..n_items`: an item, holding the item's vector;
//! * `0` in slots `0..n_items`: a hole, an id that was never added (zero-filled);
//! * `2..=K`: a leaf bucket, listing that many item ids in the children array, which then spills
//!   over the vector field (that is why K, the leaf capacity, depends on the dimension);
//! * `> K`: a split node, with two children and a hyperplane in the vector field;
//! * roots record `n_items` whatever they hold, as Annoy does; they are the last `n_trees` nodes.
//!
//! | metric              | fields (byte offset)                                      | size     | K      |
//! |---------------------|-----------------------------------------------------------|----------|--------|
//! | angular             | n_desc 0, children 4 (items: \|v\|² at 4 instead), v 12   | 12 + 4f  | f + 2  |
//! | euclidean/manhattan | n_desc 0, plane offset `a` 4, children 8, v 16            | 16 + 4f  | f + 2  |
//! | dot                 | n_desc 0, children 4, dot_factor 12, v 16                 | 16 + 4f  | f + 3  |
//! | hamming             | n_desc 0, children 4, (padding), v 16 as u64 words        | 16 + 8w  | 2w + 3 |

use crate::error::{Error, Result};
use crate::metric::Metric;

/// Node sizes, offsets and leaf capacity for one metric and dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Layout {
    pub metric: Metric,
    /// The dimension users see: floats per vector, or bits for hamming.
    pub dim: usize,
    /// Stored vector elements: `dim` floats, or `ceil(dim / 64)` u64 words for hamming.
    pub words: usize,
    pub node_size: usize,
    /// Leaf capacity: the most item ids a bucket node can list.
    pub k: usize,
    children_offset: usize,
    vector_offset: usize,
}

/// Largest dimension accepted: keeps node sizes and offsets far from any overflow.
pub(crate) const MAX_DIM: usize = 1 << 24;

impl Layout {
    pub fn new(metric: Metric, dim: usize) -> Result<Layout> {
        if dim == 0 || dim > MAX_DIM {
            return Err(Error::invalid_argument(format!(
                "dimension must be between 1 and {MAX_DIM}, got {dim}"
            )));
        }
        let (words, element, children_offset, vector_offset) = match metric {
            Metric::Angular => (dim, 4, 4, 12),
            Metric::Euclidean | Metric::Manhattan => (dim, 4, 8, 16),
            Metric::Dot => (dim, 4, 4, 16),
            Metric::Hamming => (dim.div_ceil(64), 8, 4, 16),
        };
        let node_size = vector_offset + words * element;
        Ok(Layout {
            metric,
            dim,
            words,
            node_size,
            k: (node_size - children_offset) / 4,
            children_offset,
            vector_offset,
        })
    }

    pub fn n_descendants(&self, node: &[u8]) -> i32 {
        read_i32(node, 0)
    }

    pub fn child(&self, node: &[u8], i: usize) -> i32 {
        read_i32(node, self.children_offset + 4 * i)
    }

    /// The item vector or hyperplane normal of a float-metric node.
    pub fn vector<'a>(&self, node: &'a [u8]) -> &'a [f32] {
        let start = self.vector_offset;
        // Nodes start at multiples of 4 inside 8-aligned buffers, so the cast cannot fail.
        bytemuck::cast_slice(&node[start..start + 4 * self.words])
    }

    /// The packed little-endian u64 words of a hamming node.
    pub fn bits<'a>(&self, node: &'a [u8]) -> &'a [u8] {
        &node[self.vector_offset..self.vector_offset + 8 * self.words]
    }

    /// The hamming words as u64s. The vector field sits at offset 16 of nodes whose size is a
    /// multiple of 8, inside 8-aligned buffers, so the cast cannot fail.
    pub fn words_u64<'a>(&self, node: &'a [u8]) -> &'a [u64] {
        bytemuck::cast_slice(self.bits(node))
    }

    /// Angular items: the cached squared norm (0 in old Annoy files means "not cached").
    pub fn norm_sq(&self, node: &[u8]) -> f32 {
        read_f32(node, 4)
    }

    /// Euclidean and manhattan split nodes: the hyperplane's offset.
    pub fn plane_offset(&self, node: &[u8]) -> f32 {
        read_f32(node, 4)
    }

    /// Dot: an item's extra coordinate sqrt(max_norm² - |v|²) in the angular reduction.
    pub fn dot_factor(&self, node: &[u8]) -> f32 {
        read_f32(node, 12)
    }

    /// The hamming split node's bit position, in Annoy's numbering.
    pub fn split_bit(&self, node: &[u8]) -> u64 {
        u64::from_le_bytes(self.bits(node)[..8].try_into().expect("8 bytes"))
    }

    pub fn set_n_descendants(&self, node: &mut [u8], n: i32) {
        node[..4].copy_from_slice(&n.to_le_bytes());
    }

    pub fn set_child(&self, node: &mut [u8], i: usize, child: i32) {
        let at = self.children_offset + 4 * i;
        node[at..at + 4].copy_from_slice(&child.to_le_bytes());
    }

    pub fn vector_mut<'a>(&self, node: &'a mut [u8]) -> &'a mut [f32] {
        let start = self.vector_offset;
        bytemuck::cast_slice_mut(&mut node[start..start + 4 * self.words])
    }

    pub fn bits_mut<'a>(&self, node: &'a mut [u8]) -> &'a mut [u8] {
        &mut node[self.vector_offset..self.vector_offset + 8 * self.words]
    }

    pub fn set_norm_sq(&self, node: &mut [u8], v: f32) {
        node[4..8].copy_from_slice(&v.to_le_bytes());
    }

    pub fn set_plane_offset(&self, node: &mut [u8], v: f32) {
        node[4..8].copy_from_slice(&v.to_le_bytes());
    }

    pub fn set_dot_factor(&self, node: &mut [u8], v: f32) {
        node[12..16].copy_from_slice(&v.to_le_bytes());
    }

    /// Makes `node` the item node of `vector` (`dim` checked, finite values): the vector (for
    /// hamming, packed bits: a value above 0.5 is 1), and angular's cached squared norm.
    pub fn fill_item(&self, node: &mut [u8], vector: &[f32]) {
        node.fill(0);
        self.set_n_descendants(node, 1);
        match self.metric {
            Metric::Hamming => {
                let bits = self.bits_mut(node);
                for (j, _) in vector.iter().enumerate().filter(|(_, &x)| x > 0.5) {
                    bits[j / 8] |= 1 << (j % 8);
                }
            }
            metric => {
                self.vector_mut(node).copy_from_slice(vector);
                if metric == Metric::Angular {
                    let norm = (crate::kernels::kernels().dot)(vector, vector);
                    self.set_norm_sq(node, norm);
                }
            }
        }
    }
}

fn read_i32(node: &[u8], at: usize) -> i32 {
    i32::from_le_bytes(node[at..at + 4].try_into().expect("4 bytes"))
}

fn read_f32(node: &[u8], at: usize) -> f32 {
    f32::from_le_bytes(node[at..at + 4].try_into().expect("4 bytes"))
}

/// A read-only view of consecutive nodes.
#[derive(Clone, Copy)]
pub(crate) struct Nodes<'a> {
    pub layout: &'a Layout,
    pub bytes: &'a [u8],
}

impl<'a> Nodes<'a> {
    pub fn len(&self) -> usize {
        self.bytes.len() / self.layout.node_size
    }

    /// Node `i`; the caller has checked `i < len()`.
    #[inline]
    pub fn get(&self, i: usize) -> &'a [u8] {
        let s = self.layout.node_size;
        &self.bytes[i * s..(i + 1) * s]
    }

    /// Node `i`, or a corruption error when a stored reference points outside the index.
    #[inline]
    pub fn checked(&self, i: i32) -> Result<&'a [u8]> {
        match usize::try_from(i) {
            Ok(i) if i < self.len() => Ok(self.get(i)),
            _ => Err(Error::corrupt(format!(
                "node reference {i} is outside the index ({} nodes); the file is damaged",
                self.len()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_leaf_capacity_match_annoy() {
        let check = |m, f, size, k| {
            let l = Layout::new(m, f).unwrap();
            assert_eq!((l.node_size, l.k), (size, k), "{m} f={f}");
        };
        check(Metric::Angular, 10, 52, 12);
        check(Metric::Euclidean, 10, 56, 12);
        check(Metric::Manhattan, 3, 28, 5);
        check(Metric::Dot, 10, 56, 13);
        check(Metric::Hamming, 64, 24, 5);
        check(Metric::Hamming, 65, 32, 7);
        assert!(Layout::new(Metric::Angular, 0).is_err());
    }
}
