//! Best-first search over the forest, exactly as Annoy 1.17.3 orders and counts it.
//!
//! One max-heap holds nodes of all trees, keyed by the smallest margin met on the way down
//! (roots start at +infinity): the most promising branch anywhere in the forest is explored
//! next. Leaves add their item ids to the candidates until `search_k` ids were collected
//! (duplicates included, as Annoy counts them); a per-thread epoch array drops duplicates as
//! they arrive, without sorting. Candidates are then scored and the best `n` returned, ties
//! going to the smaller id:
//! * with compact codes (see `codes`), every candidate is scored on its code, then the best
//!   [`rerank_depth`] are scored again exactly on their float vectors, which give the order and
//!   the distances returned;
//! * without (Annoy's files, manhattan, hamming), every candidate is scored exactly.
//!
//! Scratch space is per thread and reused, so a query allocates nothing once the buffers have
//! grown, and any number of threads can query one index at once.

use crate::codes::Codes;
use crate::error::{Error, Result};
use crate::kernels::{self, Kernels};
use crate::metric::Metric;
use crate::node::{Layout, Nodes};
use crate::split::{angular_from_parts, hamming_bit_is_set};
use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// One search result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Neighbor {
    pub id: u64,
    /// Distance as Annoy reports it; for the dot metric, the inner product (larger is nearer).
    pub distance: f32,
}

/// A query vector ready for scoring: floats with their squared norm, or packed bits.
pub(crate) enum Query<'a> {
    Floats { v: &'a [f32], norm_sq: f32 },
    Bits(&'a [u64]),
}

impl<'a> Query<'a> {
    /// A float query; only angular scoring needs its norm, so only angular computes it.
    pub fn floats(metric: Metric, v: &'a [f32]) -> Query<'a> {
        let norm_sq = match metric {
            Metric::Angular => (kernels::kernels().dot)(v, v),
            _ => 0.0,
        };
        Query::Floats { v, norm_sq }
    }
}

/// An item's squared norm: angular items cache it, and files from old Annoy versions leave
/// that cache at 0, meaning "not cached"; other metrics compute it.
pub(crate) fn item_norm_sq(layout: &Layout, k: &Kernels, item: &[u8]) -> f32 {
    match layout.metric {
        Metric::Angular if layout.norm_sq(item) != 0.0 => layout.norm_sq(item),
        _ => {
            let x = layout.vector(item);
            (k.dot)(x, x)
        }
    }
}

/// The score candidates are ranked by (smaller is nearer): Annoy's internal distance.
pub(crate) fn score(layout: &Layout, k: &Kernels, q: &Query, item: &[u8]) -> f32 {
    match (q, layout.metric) {
        (Query::Bits(words), _) => kernels::hamming(words, layout.bits(item)) as f32,
        (Query::Floats { v, norm_sq }, metric) => {
            let x = layout.vector(item);
            match metric {
                Metric::Angular => {
                    angular_from_parts(*norm_sq, item_norm_sq(layout, k, item), (k.dot)(v, x))
                }
                Metric::Euclidean => (k.euclidean_sq)(v, x),
                Metric::Manhattan => (k.manhattan)(v, x),
                Metric::Dot => -(k.dot)(v, x),
                Metric::Hamming => unreachable!("hamming queries are packed bits"),
            }
        }
    }
}

/// Turns a score into the distance users see.
pub(crate) fn user_distance(metric: Metric, score: f32) -> f32 {
    match metric {
        Metric::Angular | Metric::Euclidean => score.max(0.0).sqrt(),
        Metric::Manhattan => score.max(0.0),
        Metric::Dot => -score,
        Metric::Hamming => score,
    }
}

/// Which side of a split node the query lies on, and how far.
fn margin(layout: &Layout, k: &Kernels, node: &[u8], q: &Query) -> f32 {
    match q {
        Query::Bits(words) => {
            let bytes: &[u8] = bytemuck::cast_slice(words);
            f32::from(u8::from(hamming_bit_is_set(layout.split_bit(node), bytes)))
        }
        Query::Floats { v, .. } => {
            let d = (k.dot)(layout.vector(node), v);
            match layout.metric {
                Metric::Euclidean | Metric::Manhattan => layout.plane_offset(node) + d,
                // Our files store 0 here (see `split`); Annoy's own files need the term.
                Metric::Dot => d + layout.dot_factor(node).powi(2),
                _ => d,
            }
        }
    }
}

/// Priority of a child given its parent's priority and the margin.
fn child_priority(metric: Metric, parent: f32, margin: f32, child: usize) -> f32 {
    if metric == Metric::Hamming {
        // Annoy counts the steps to the side the bit disagrees with; fewer is better.
        parent
            - if (margin != 0.0) != (child == 1) {
                1.0
            } else {
                0.0
            }
    } else {
        parent.min(if child == 0 { -margin } else { margin })
    }
}

/// How many candidates ahead of scoring to prefetch: enough to cover memory latency.
const PREFETCH_DISTANCE: usize = 4;
/// The same for codes, which are smaller and scored faster.
const CODE_PREFETCH_DISTANCE: usize = 8;

#[derive(Clone, Copy)]
struct Pending {
    priority: f32,
    node: i32,
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pending {
    /// Annoy's `std::pair<T, S>` order: priority, then node index.
    fn cmp(&self, other: &Self) -> Ordering {
        self.priority
            .total_cmp(&other.priority)
            .then(self.node.cmp(&other.node))
    }
}

/// How many candidates, best first by their codes, are scored again exactly: enough that the
/// true nearest `n` among the candidates are almost never lost to quantisation error.
pub(crate) fn rerank_depth(n: usize) -> usize {
    n.saturating_mul(RERANK_FACTOR).max(RERANK_MIN)
}
const RERANK_FACTOR: usize = 3;
const RERANK_MIN: usize = 32;

#[derive(Default)]
struct Scratch {
    heap: BinaryHeap<Pending>,
    /// `seen[id] == epoch` when `id` is already a candidate of the current query.
    seen: Vec<u16>,
    epoch: u16,
    /// Distinct candidate ids, in the order leaves produced them.
    candidates: Vec<i32>,
    scored: Vec<(f32, i32)>,
    weights: Vec<i16>,
}

impl Scratch {
    /// Starts a query over `n_items` ids: a new epoch, so no id counts as seen.
    fn begin(&mut self, n_items: usize) {
        self.heap.clear();
        self.candidates.clear();
        self.scored.clear();
        if self.seen.len() < n_items {
            self.seen.resize(n_items, 0);
        }
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            self.seen.fill(0);
            self.epoch = 1;
        }
    }

    /// Adds `id` to the candidates unless it already is one; `id` was checked in range.
    #[inline]
    fn add(&mut self, id: i32) {
        let seen = &mut self.seen[id as usize];
        if *seen != self.epoch {
            *seen = self.epoch;
            self.candidates.push(id);
        }
    }
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// The forest as search sees it.
pub(crate) struct Forest<'a> {
    pub nodes: Nodes<'a>,
    pub n_items: usize,
    pub n_trees: usize,
    /// Compact codes of the items, when the index has them.
    pub codes: Option<Codes<'a>>,
}

impl Forest<'_> {
    /// Appends the `n` nearest items to `query` to `out`, nearest first.
    pub fn search(
        &self,
        query: &Query,
        n: usize,
        search_k: Option<usize>,
        out: &mut Vec<Neighbor>,
    ) -> Result<()> {
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut scratch) => self.search_with(&mut scratch, query, n, search_k, out),
            // Only reachable if a search ran inside a search on this thread; stay correct.
            Err(_) => self.search_with(&mut Scratch::default(), query, n, search_k, out),
        })
    }

    fn search_with(
        &self,
        s: &mut Scratch,
        query: &Query,
        n: usize,
        search_k: Option<usize>,
        out: &mut Vec<Neighbor>,
    ) -> Result<()> {
        if n == 0 || self.n_items == 0 {
            return Ok(());
        }
        let layout = self.nodes.layout;
        let k = kernels::kernels();
        let metric = layout.metric;
        let search_k = search_k.unwrap_or(n.saturating_mul(self.n_trees));
        let n_nodes = self.nodes.len();

        s.begin(self.n_items);
        let start = if metric == Metric::Hamming {
            0.0
        } else {
            f32::INFINITY
        };
        for root in n_nodes - self.n_trees..n_nodes {
            s.heap.push(Pending {
                priority: start,
                node: root as i32,
            });
        }

        // Ids collected, duplicates included: Annoy's measure of search effort.
        let mut collected = 0usize;
        // A valid forest pops each node at most once; more pops means a cycle in a bad file.
        let mut pops = 0usize;
        while collected < search_k {
            let Some(Pending { priority, node: i }) = s.heap.pop() else {
                break;
            };
            pops += 1;
            if pops > n_nodes {
                return Err(Error::corrupt(
                    "the index contains a cycle; the file is damaged (run verify)",
                ));
            }
            let node = self.nodes.checked(i)?;
            let n_desc = layout.n_descendants(node);
            if n_desc == 1 && (i as usize) < self.n_items {
                collected += 1;
                s.add(i);
            } else if n_desc <= layout.k as i32 {
                if n_desc < 0 {
                    return Err(Error::corrupt(format!(
                        "node {i} has a negative descendant count; the file is damaged"
                    )));
                }
                collected += n_desc as usize;
                for c in 0..n_desc as usize {
                    let id = layout.child(node, c);
                    if id < 0 || id as usize >= self.n_items {
                        return Err(Error::corrupt(format!(
                            "a leaf lists item {id}, outside 0..{}; the file is damaged",
                            self.n_items
                        )));
                    }
                    s.add(id);
                }
            } else {
                let m = margin(layout, k, node, query);
                for child in [1, 0] {
                    s.heap.push(Pending {
                        priority: child_priority(metric, priority, m, child),
                        node: layout.child(node, child),
                    });
                }
            }
        }

        match (&self.codes, query) {
            (Some(codes), Query::Floats { v, .. }) => {
                self.score_codes(s, codes, v);
                let depth = rerank_depth(n);
                if s.scored.len() > depth {
                    s.scored.select_nth_unstable_by(depth - 1, by_score_then_id);
                    s.scored.truncate(depth);
                }
                let scored = &mut s.scored;
                for c in 0..scored.len() {
                    if let Some(&(_, ahead)) = scored.get(c + PREFETCH_DISTANCE) {
                        kernels::prefetch(self.nodes.get(ahead as usize));
                    }
                    let id = scored[c].1;
                    scored[c].0 = score(layout, k, query, self.nodes.get(id as usize));
                }
            }
            _ => self.score_exactly(s, query),
        }
        let p = n.min(s.scored.len());
        if p < s.scored.len() && p > 0 {
            s.scored.select_nth_unstable_by(p - 1, by_score_then_id);
        }
        s.scored[..p].sort_unstable_by(by_score_then_id);
        out.extend(s.scored[..p].iter().map(|&(score, id)| Neighbor {
            id: id as u64,
            distance: user_distance(metric, score),
        }));
        Ok(())
    }

    /// Scores every candidate exactly, skipping holes (ids never added, which can appear in
    /// root buckets padded with zeros).
    fn score_exactly(&self, s: &mut Scratch, query: &Query) {
        let layout = self.nodes.layout;
        let k = kernels::kernels();
        for (c, &id) in s.candidates.iter().enumerate() {
            if let Some(&ahead) = s.candidates.get(c + PREFETCH_DISTANCE) {
                kernels::prefetch(self.nodes.get(ahead as usize));
            }
            let item = self.nodes.get(id as usize);
            if layout.n_descendants(item) == 1 {
                s.scored.push((score(layout, k, query, item), id));
            }
        }
    }

    /// Scores every candidate on its code (holes have none).
    fn score_codes(&self, s: &mut Scratch, codes: &Codes, query: &[f32]) {
        let k = kernels::kernels();
        let prepared = codes.prepare(k, query, &mut s.weights);
        for (c, &id) in s.candidates.iter().enumerate() {
            if let Some(&ahead) = s.candidates.get(c + CODE_PREFETCH_DISTANCE) {
                codes.prefetch(ahead as usize);
            }
            if let Some(score) = codes.score(k, &prepared, &s.weights, id as usize) {
                s.scored.push((score, id));
            }
        }
    }
}

fn by_score_then_id(a: &(f32, i32), b: &(f32, i32)) -> Ordering {
    a.0.total_cmp(&b.0).then(a.1.cmp(&b.1))
}
