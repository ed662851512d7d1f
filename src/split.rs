//! Choosing the hyperplane that splits a set of items in two (Annoy's "two means" heuristic).
//!
//! Two centroids start at two random items and move, over 200 random picks, towards the items
//! nearest them, each pick weighted by the centroid's count so both stay balanced. The split is
//! the hyperplane between the centroids. Angular normalises items first so only direction counts.
//!
//! Dot product follows the reduction of Bachrach et al. (2014): each item gains an extra
//! coordinate `sqrt(max_norm² - |v|²)` (Annoy's `dot_factor`), which gives every item the same
//! norm, so the inner-product order for a query `(q, 0)` is the angular order in the augmented
//! space. A query's extra coordinate is 0, so a query can only fall on a meaningful side of a
//! hyperplane that contains the extra axis; splits are chosen among those, by two-means over
//! the items' directions. (General augmented hyperplanes split items by norm, which queries
//! cannot see: on real un-normalised embeddings that cost a quarter of the recall.) The extra
//! coordinate of every split is therefore 0, which is what we store, so Annoy reading our dot
//! files computes exactly our margins. Annoy 1.17.3 instead adds `dot_factor²` of the split to
//! every margin, a bias it applies to queries as well; we apply it when searching Annoy's files.

use crate::distance::{self, angular_from_parts};
use crate::kernels::{self, Kernels};
use crate::metric::Metric;
use crate::node::{Layout, Nodes};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The build's random source: one ChaCha stream per tree, so trees are independent of threads.
pub(crate) struct Random(ChaCha8Rng);

impl Random {
    pub fn for_tree(seed: u64, tree: u64) -> Random {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(tree);
        Random(rng)
    }

    /// Uniform in `0..n`; `n > 0`.
    pub fn index(&mut self, n: usize) -> usize {
        self.0.random_range(0..n)
    }

    pub fn flip(&mut self) -> bool {
        self.0.random_bool(0.5)
    }
}

const TWO_MEANS_ITERATIONS: usize = 200;
/// Random bit positions tried before scanning every bit for a hamming split, as in Annoy.
const HAMMING_RANDOM_TRIES: usize = 20;

/// A splitting hyperplane: `normal · v + offset`.
pub(crate) struct Plane {
    pub normal: Vec<f32>,
    pub offset: f32,
    /// Hamming: the bit position, in Annoy's numbering (see [`hamming_bit_is_set`]).
    pub bit: u64,
}

impl Plane {
    pub fn new(layout: &Layout) -> Plane {
        Plane {
            normal: vec![0.0; layout.words],
            offset: 0.0,
            bit: 0,
        }
    }

    /// The degenerate plane used when no hyperplane separates the items and sides are random.
    pub fn clear(&mut self) {
        self.normal.fill(0.0);
        self.offset = 0.0;
        self.bit = 0;
    }

    /// Writes this plane into a split node's vector (and offset) fields.
    pub fn write(&self, layout: &Layout, node: &mut [u8]) {
        match layout.metric {
            Metric::Hamming => {
                let bits = layout.bits_mut(node);
                bits.fill(0);
                bits[..8].copy_from_slice(&self.bit.to_le_bytes());
            }
            _ => {
                let words = layout.words;
                layout
                    .vector_mut(node)
                    .copy_from_slice(&self.normal[..words]);
                match layout.metric {
                    Metric::Euclidean | Metric::Manhattan => {
                        layout.set_plane_offset(node, self.offset)
                    }
                    // Splits contain the extra axis (see the module doc).
                    Metric::Dot => layout.set_dot_factor(node, 0.0),
                    _ => {}
                }
            }
        }
    }

    /// Signed distance of an item from the plane (hamming: 1.0 when the bit is set, else 0.0).
    pub fn margin(&self, layout: &Layout, k: &Kernels, item: &[u8]) -> f32 {
        match layout.metric {
            Metric::Angular | Metric::Dot => (k.dot)(&self.normal, layout.vector(item)),
            Metric::Euclidean | Metric::Manhattan => {
                self.offset + (k.dot)(&self.normal, layout.vector(item))
            }
            Metric::Hamming => f32::from(u8::from(hamming_bit_is_set(self.bit, layout.bits(item)))),
        }
    }

    /// Which side an item falls on; a tie goes to a random side, as in Annoy.
    pub fn side(&self, layout: &Layout, k: &Kernels, item: &[u8], rng: &mut Random) -> bool {
        let m = self.margin(layout, k, item);
        if layout.metric == Metric::Hamming {
            return m != 0.0;
        }
        if m != 0.0 {
            m > 0.0
        } else {
            rng.flip()
        }
    }
}

/// Which side of the split node `split` (a plane [`Plane::write`] wrote) an item node falls on,
/// as [`Plane::side`] decides it (how an item added after its tree was built finds its leaf),
/// or `None` when it lies on the plane: a tie, which the caller breaks.
#[inline]
pub(crate) fn clear_side(layout: &Layout, k: &Kernels, split: &[u8], item: &[u8]) -> Option<bool> {
    let m = match layout.metric {
        Metric::Hamming => {
            return Some(hamming_bit_is_set(
                layout.split_bit(split),
                layout.bits(item),
            ))
        }
        Metric::Angular | Metric::Dot => (k.dot)(layout.vector(split), layout.vector(item)),
        Metric::Euclidean | Metric::Manhattan => {
            layout.plane_offset(split) + (k.dot)(layout.vector(split), layout.vector(item))
        }
    };
    (m != 0.0).then_some(m > 0.0)
}

/// Annoy's balance measure: the larger side's share (computed in f32 as Annoy does).
pub(crate) fn imbalance(total: usize, right: usize) -> f32 {
    let (ls, rs) = ((total - right) as f64, right as f64);
    let f = (ls / (ls + rs + 1e-9)) as f32;
    f.max(1.0 - f)
}

/// Annoy's rule for splitting a node's items: up to three planes from `try_plane` (which
/// chooses a plane and records each item's side in `sides`, returning how many went right)
/// until one is balanced enough; when none separates the items (duplicates, say), random
/// sides and a null plane. Returns how many items went right (side 1).
pub(crate) fn split_sides(
    plane: &mut Plane,
    sides: &mut [bool],
    rng: &mut Random,
    mut try_plane: impl FnMut(&mut Plane, &mut [bool], &mut Random) -> usize,
) -> usize {
    let total = sides.len();
    let mut right = 0;
    for _ in 0..3 {
        right = try_plane(plane, sides, rng);
        if imbalance(total, right) < 0.95 {
            break;
        }
    }
    while imbalance(total, right) > 0.99 {
        plane.clear();
        right = 0;
        for side in sides.iter_mut() {
            *side = rng.flip();
            right += usize::from(*side);
        }
    }
    right
}

/// Annoy numbers hamming split bits most-significant first within each word: position `p`
/// tests bit `63 - p % 64` of word `p / 64`. Files must agree on this, so we keep it.
pub(crate) fn hamming_bit_is_set(position: u64, bits: &[u8]) -> bool {
    let word = (position / 64) as usize;
    match bits.get(word * 8..word * 8 + 8) {
        Some(w) => {
            let w = u64::from_le_bytes(w.try_into().expect("8 bytes"));
            w & (1u64 << (63 - position % 64)) != 0
        }
        None => false,
    }
}

/// Two centroids and scratch reused across the splits of one tree.
pub(crate) struct Splitter<'a> {
    items: Nodes<'a>,
    k: &'static Kernels,
    p: Vec<f32>,
    q: Vec<f32>,
}

impl<'a> Splitter<'a> {
    pub fn new(items: Nodes<'a>) -> Splitter<'a> {
        let n = items.layout.words;
        Splitter {
            items,
            k: kernels::kernels(),
            p: vec![0.0; n],
            q: vec![0.0; n],
        }
    }

    pub fn kernels(&self) -> &'static Kernels {
        self.k
    }

    /// Chooses a hyperplane for `indices` (at least two items) into `plane`.
    pub fn create_split(&mut self, indices: &[u32], rng: &mut Random, plane: &mut Plane) {
        let layout = *self.items.layout;
        match layout.metric {
            Metric::Hamming => self.hamming_split(indices, rng, plane),
            _ => {
                // Angular and dot compare directions; their planes pass through the origin.
                let cosine = matches!(layout.metric, Metric::Angular | Metric::Dot);
                self.two_means(indices, rng, cosine);
                for ((n, p), q) in plane.normal.iter_mut().zip(&self.p).zip(&self.q) {
                    *n = p - q;
                }
                normalize(self.k, &mut plane.normal);
                // Euclidean and manhattan planes pass through the centroids' midpoint.
                plane.offset = if cosine {
                    0.0
                } else {
                    let n = &plane.normal;
                    n.iter()
                        .zip(&self.p)
                        .zip(&self.q)
                        .map(|((n, p), q)| -n * (p + q) / 2.0)
                        .sum()
                };
            }
        }
    }

    fn load_item(&self, i: u32, out: &mut [f32]) {
        out.copy_from_slice(self.items.layout.vector(self.items.get(i as usize)));
    }

    fn item_norm_sq(&self, node: &[u8]) -> f32 {
        distance::item_norm_sq(self.items.layout, self.k, node)
    }

    /// The distance two-means compares: angular `2 - 2cos` (directions, for dot too),
    /// squared L2, or L1.
    fn centroid_distance(&self, c: &[f32], c_norm_sq: f32, node: &[u8]) -> f32 {
        let layout = self.items.layout;
        let v = layout.vector(node);
        match layout.metric {
            Metric::Euclidean => (self.k.euclidean_sq)(c, v),
            Metric::Manhattan => (self.k.manhattan)(c, v),
            _ => angular_from_parts(c_norm_sq, self.item_norm_sq(node), (self.k.dot)(c, v)),
        }
    }

    fn two_means(&mut self, indices: &[u32], rng: &mut Random, cosine: bool) {
        let count = indices.len();
        debug_assert!(count >= 2);
        let i = rng.index(count);
        let mut j = rng.index(count - 1);
        j += usize::from(j >= i);

        let mut p = std::mem::take(&mut self.p);
        let mut q = std::mem::take(&mut self.q);
        self.load_item(indices[i], &mut p);
        self.load_item(indices[j], &mut q);
        if cosine {
            normalize(self.k, &mut p);
            normalize(self.k, &mut q);
        }
        let mut p_norm = (self.k.dot)(&p, &p);
        let mut q_norm = (self.k.dot)(&q, &q);

        let (mut ic, mut jc) = (1.0f32, 1.0f32);
        // Each pick is drawn one iteration early so its node can be prefetched meanwhile.
        let mut next = indices[rng.index(count)] as usize;
        for l in 0..TWO_MEANS_ITERATIONS {
            let node = self.items.get(next);
            if l + 1 < TWO_MEANS_ITERATIONS {
                next = indices[rng.index(count)] as usize;
                kernels::prefetch(self.items.get(next));
            }
            let di = ic * self.centroid_distance(&p, p_norm, node);
            let dj = jc * self.centroid_distance(&q, q_norm, node);
            let norm = if cosine {
                self.item_norm_sq(node).sqrt()
            } else {
                1.0
            };
            // Zero-norm items carry no direction (and NaN never compares greater): skip them.
            if norm.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
                continue;
            }
            let (c, n, c_norm) = if di < dj {
                (&mut p, &mut ic, &mut p_norm)
            } else if dj < di {
                (&mut q, &mut jc, &mut q_norm)
            } else {
                continue;
            };
            // c = (c * n + x / norm) / (n + 1), with the divisions hoisted out of the loop so
            // it vectorises (this update is most of a split's arithmetic).
            let keep = *n / (*n + 1.0);
            let add = 1.0 / (norm * (*n + 1.0));
            for (c, &x) in c.iter_mut().zip(self.items.layout.vector(node)) {
                *c = *c * keep + x * add;
            }
            *c_norm = (self.k.dot)(c, c);
            *n += 1.0;
        }
        self.p = p;
        self.q = q;
    }

    /// Hamming splits on a single bit that separates the items, tried at random first.
    /// Only real bits are drawn (not the padding of the last word, which never separates).
    fn hamming_split(&mut self, indices: &[u32], rng: &mut Random, plane: &mut Plane) {
        let layout = *self.items.layout;
        let separates = |position: u64| {
            let set = indices
                .iter()
                .filter(|&&i| hamming_bit_is_set(position, layout.bits(self.items.get(i as usize))))
                .count();
            set > 0 && set < indices.len()
        };
        // Bit b of the user's vector (LSB-first packing) sits at Annoy position 64w + 63 - b%64.
        let position_of = |b: usize| ((b / 64) * 64 + 63 - b % 64) as u64;
        for _ in 0..HAMMING_RANDOM_TRIES {
            plane.bit = position_of(rng.index(layout.dim));
            if separates(plane.bit) {
                return;
            }
        }
        for b in 0..layout.dim {
            plane.bit = position_of(b);
            if separates(plane.bit) {
                return;
            }
        }
        // Identical items: no bit separates them; the caller falls back to random sides.
    }
}

/// Scales `v` to unit length (a zero vector stays zero).
pub(crate) fn normalize(k: &Kernels, v: &mut [f32]) {
    let norm = (k.dot)(v, v).sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}
