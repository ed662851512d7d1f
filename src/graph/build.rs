//! Building the graph: Vamana's search-and-prune, in deterministic parallel batches.
//!
//! Items are inserted in a seeded random order. Each one is searched for on the graph built so
//! far (beam of [`BUILD_EF`] from the entry); the nodes the search expanded are its candidate
//! neighbours, pruned to R with alpha (a candidate is dropped when a kept neighbour is nearer to
//! it, by a factor alpha, than the item is: so edges spread in every direction, and some reach
//! far). Each kept neighbour then links back, and a row that overflows is pruned the same way.
//!
//! Determinism: items are inserted in batches that double in size up to [`MAX_BATCH`]. Within
//! a batch every search and prune reads the graph as it was when the batch began, and the
//! results are applied in insertion order, so the graph is identical for any number of
//! threads. Distances are taken on the compact codes when the index has them (a quarter of the
//! bytes), exactly otherwise.
//!
//! Finally every item is made reachable from the entry: an unreachable item is linked from the
//! nearest reachable one a search finds.

use super::beam::{self, Beam, NONE};
use crate::codes::{self, Codes, Prepared};
use crate::distance::{self, Query};
use crate::error::{Error, Result};
use crate::kernels::{self, Kernels};
use crate::metric::Metric;
use crate::node::Nodes;
use rayon::prelude::*;

/// Beam width of the build's searches: enough candidates for a good prune (DiskANN's L).
const BUILD_EF: usize = 64;
/// Largest batch, so that late items still see most of the graph.
const MAX_BATCH: usize = 2048;
/// Prune factor, applied to squared distances.
const ALPHA_SQ: f32 = 1.2 * 1.2;
/// Rows may grow to this many times the degree before a back link makes them pruned
/// (DiskANN's slack), so that most back links cost no prune; all are pruned to the degree at
/// the end.
const SLACK_PERCENT: usize = 130;
/// Rounds of reconnection before giving up on an item (never reached in practice).
const MAX_REPAIR_ROUNDS: usize = 8;

/// A built graph: `degree` slots per item slot, padded with `NONE`.
pub(crate) struct Built {
    pub adjacency: Vec<u32>,
    pub degree: usize,
    pub entry: u32,
}

/// Distances between items, on codes or exact; non-negative except for dot.
struct Scorer<'a> {
    nodes: Nodes<'a>,
    codes: Option<Codes<'a>>,
    k: &'static Kernels,
    alpha_sq: f32,
}

/// An item prepared as a query.
#[derive(Default)]
struct Point {
    slot: usize,
    weights: Vec<i16>,
    prepared: Option<Prepared>,
    encoded: Vec<f32>,
    norm_sq: f32,
}

impl<'a> Scorer<'a> {
    fn new(nodes: Nodes<'a>, codes: Option<Codes<'a>>) -> Scorer<'a> {
        let metric = nodes.layout.metric;
        Scorer {
            nodes,
            codes: codes.filter(|_| metric != Metric::Hamming),
            k: kernels::kernels(),
            alpha_sq: if metric == Metric::Dot { 1.0 } else { ALPHA_SQ },
        }
    }

    fn prepare(&self, slot: usize, p: &mut Point) {
        p.slot = slot;
        let layout = self.nodes.layout;
        let Some(codes) = &self.codes else {
            return;
        };
        // The vector as the codes encode it: angular items as unit vectors, whose distance
        // `2 - 2cos` follows from the codes' inner product alone.
        p.encoded.resize(layout.dim, 0.0);
        codes::encoded_vector(layout, self.k, self.nodes.get(slot), &mut p.encoded);
        p.norm_sq = (self.k.dot)(&p.encoded, &p.encoded);
        p.prepared = Some(codes.prepare(self.k, &p.encoded, &mut p.weights));
    }

    /// The exact distance between two items (as `distance` estimates it), on their vectors.
    #[inline]
    fn exact(&self, a: u32, b: u32) -> f32 {
        let layout = self.nodes.layout;
        let query = Query::of_item(layout, self.k, self.nodes.get(a as usize));
        distance::score(layout, self.k, &query, self.nodes.get(b as usize))
    }

    #[inline]
    fn distance(&self, p: &Point, other: u32) -> f32 {
        let layout = self.nodes.layout;
        match (&self.codes, &p.prepared) {
            (Some(codes), Some(prepared)) => {
                let score = codes
                    .score(self.k, prepared, &p.weights, other as usize)
                    .unwrap_or(f32::INFINITY);
                match layout.metric {
                    Metric::Angular => 2.0 + 2.0 * score,
                    Metric::Euclidean => p.norm_sq + score,
                    _ => score,
                }
            }
            _ => self.exact(p.slot as u32, other),
        }
    }
}

/// Per-thread scratch of the build.
#[derive(Default)]
struct Work {
    beam: Beam,
    seen: Vec<u32>,
    stamp: u32,
    expanded: Vec<(f32, u32)>,
    point: Point,
}

impl Work {
    /// Searches `graph` (rows `width` wide) from `entry` for item `item`, leaving the nearest
    /// nodes met, other than the item itself, in the beam.
    fn search_for(&mut self, scorer: &Scorer, graph: &[u32], width: usize, entry: u32, item: u32) {
        let n = graph.len() / width;
        if self.seen.len() < n {
            self.seen.resize(n, 0);
        }
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            self.seen.fill(0);
            self.stamp = 1;
        }
        scorer.prepare(item as usize, &mut self.point);
        let (seen, stamp, point) = (&mut self.seen, self.stamp, &self.point);
        seen[item as usize] = stamp;
        beam::search(
            &mut self.beam,
            graph,
            width,
            entry,
            BUILD_EF,
            |s| std::mem::replace(&mut seen[s as usize], stamp) != stamp,
            |s| scorer.distance(point, s),
        );
    }

    /// `row` (the neighbours of `slot`) pruned to `degree` if it is longer.
    fn reprune(&mut self, scorer: &Scorer, slot: u32, row: Vec<u32>, degree: usize) -> Vec<u32> {
        if row.len() <= degree {
            return row;
        }
        scorer.prepare(slot as usize, &mut self.point);
        self.expanded.clear();
        self.expanded
            .extend(row.iter().map(|&s| (scorer.distance(&self.point, s), s)));
        prune(scorer, &self.point, &mut self.expanded, degree)
    }
}

/// Builds the graph over the item slots `items` (ascending) of an index of `n_items` slots.
pub(crate) fn build(
    nodes: Nodes,
    codes: Option<Codes>,
    n_items: usize,
    items: &[u32],
    degree: usize,
    seed: u64,
    pool: &rayon::ThreadPool,
) -> Result<Built> {
    if items.is_empty() {
        return Err(Error::invalid_state("the index has no items to link"));
    }
    let scorer = Scorer::new(nodes, codes);
    let entry = pool.install(|| medoid(&scorer, items));
    let width = (degree * SLACK_PERCENT / 100).max(degree + 1);
    let mut wide = vec![NONE; n_items * width];
    let order = shuffled(items, seed);
    let mut done = 0;
    let mut batch = 1;
    while done < order.len() {
        let end = (done + batch).min(order.len());
        let rows = &order[done..end];
        pool.install(|| insert_batch(&scorer, &mut wide, width, degree, entry, rows));
        done = end;
        batch = (batch * 2).min(MAX_BATCH);
    }
    let mut adjacency = pool.install(|| narrow(&scorer, &wide, width, degree));
    drop(wide);
    pool.install(|| repair(&scorer, &mut adjacency, degree, entry, items));
    Ok(Built {
        adjacency,
        degree,
        entry,
    })
}

/// The item nearest the mean of all items (exactly, on the float vectors): a central entry.
fn medoid(scorer: &Scorer, items: &[u32]) -> u32 {
    let layout = scorer.nodes.layout;
    if layout.metric == Metric::Hamming {
        return items[0];
    }
    let dim = layout.dim;
    let sum = items
        .par_chunks(4096)
        .map(|chunk| {
            let mut sum = vec![0.0f64; dim];
            for &i in chunk {
                for (s, &x) in sum
                    .iter_mut()
                    .zip(layout.vector(scorer.nodes.get(i as usize)))
                {
                    *s += f64::from(x);
                }
            }
            sum
        })
        .reduce(
            || vec![0.0; dim],
            |a, b| a.iter().zip(&b).map(|(x, y)| x + y).collect(),
        );
    let mean: Vec<f32> = sum
        .iter()
        .map(|s| (s / items.len() as f64) as f32)
        .collect();
    let query = Query::floats(layout.metric, &mean);
    let k = scorer.k;
    items
        .par_iter()
        .map(|&i| {
            (
                distance::score(layout, k, &query, scorer.nodes.get(i as usize)),
                i,
            )
        })
        .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)))
        .map_or(items[0], |(_, i)| i)
}

/// `items` in a seeded random order (Fisher-Yates with a splitmix generator).
fn shuffled(items: &[u32], seed: u64) -> Vec<u32> {
    let mut order = items.to_vec();
    let mut state = seed ^ 0x6A09_E667_F3BC_C908;
    for i in (1..order.len()).rev() {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        order.swap(i, (z % (i as u64 + 1)) as usize);
    }
    order
}

/// Prunes every row of a `width`-wide graph to `degree`, giving a `degree`-wide one.
fn narrow(scorer: &Scorer, wide: &[u32], width: usize, degree: usize) -> Vec<u32> {
    let mut adjacency = vec![NONE; wide.len() / width * degree];
    adjacency
        .par_chunks_mut(degree)
        .zip(wide.par_chunks(width))
        .enumerate()
        .for_each_init(Work::default, |w, (slot, (dst, src))| {
            let row: Vec<u32> = src.iter().copied().take_while(|&s| s != NONE).collect();
            let row = w.reprune(scorer, slot as u32, row, degree);
            dst[..row.len()].copy_from_slice(&row);
        });
    adjacency
}

/// Searches for and links one batch of items, reading the graph as it was before the batch.
/// Rows are `width` wide; new rows and overflowing ones are pruned to `degree`.
fn insert_batch(
    scorer: &Scorer,
    adjacency: &mut [u32],
    width: usize,
    degree: usize,
    entry: u32,
    batch: &[u32],
) {
    let graph: &[u32] = adjacency;
    let rows: Vec<Vec<u32>> = batch
        .par_iter()
        .map_init(Work::default, |w, &item| {
            w.search_for(scorer, graph, width, entry, item);
            w.expanded.clear();
            w.expanded.extend_from_slice(w.beam.entries());
            // The entry itself is a candidate even when the search could not start from it
            // (the first item of all).
            if entry != item && !w.expanded.iter().any(|&(_, s)| s == entry) {
                w.expanded.push((scorer.distance(&w.point, entry), entry));
            }
            prune(scorer, &w.point, &mut w.expanded, degree)
        })
        .collect();
    // Apply in insertion order: the item's row, then its back links, grouped by target.
    let mut back: Vec<(u32, u32)> = Vec::new();
    for (&item, row) in batch.iter().zip(&rows) {
        write_row(adjacency, width, item, row);
        back.extend(row.iter().map(|&t| (t, item)));
    }
    back.sort_by_key(|&(t, _)| t); // stable: sources stay in insertion order
    let groups: Vec<&[(u32, u32)]> = back.chunk_by(|a, b| a.0 == b.0).collect();
    let graph: &[u32] = adjacency;
    let updates: Vec<(u32, Vec<u32>)> = groups
        .par_iter()
        .map_init(Work::default, |w, group| {
            let target = group[0].0;
            let row = &graph[target as usize * width..(target as usize + 1) * width];
            let mut merged: Vec<u32> = row.iter().copied().take_while(|&s| s != NONE).collect();
            for &(_, source) in group.iter() {
                if !merged.contains(&source) {
                    merged.push(source);
                }
            }
            if merged.len() <= width {
                return (target, merged);
            }
            (target, w.reprune(scorer, target, merged, degree))
        })
        .collect();
    for (target, row) in updates {
        write_row(adjacency, width, target, &row);
    }
}

fn write_row(adjacency: &mut [u32], degree: usize, slot: u32, row: &[u32]) {
    let dst = &mut adjacency[slot as usize * degree..(slot as usize + 1) * degree];
    dst.fill(NONE);
    dst[..row.len()].copy_from_slice(row);
}

/// RobustPrune: from `candidates` (distance to `p`, slot), keeps up to `degree`, nearest first,
/// dropping one that a kept neighbour occludes. A first pass occludes strictly (alpha 1); a
/// second, with alpha, fills the row with the long edges the first dropped. Distances between
/// candidates are exact: preparing each kept one as a query would cost more than it saves.
fn prune(scorer: &Scorer, p: &Point, candidates: &mut Vec<(f32, u32)>, degree: usize) -> Vec<u32> {
    candidates.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    candidates.dedup_by_key(|c| c.1);
    candidates.retain(|c| c.1 as usize != p.slot && c.0.is_finite());
    let mut row: Vec<u32> = Vec::with_capacity(degree);
    let mut used = vec![false; candidates.len()];
    // Dot scores are not distances: one strict pass only (alpha_sq is 1 there).
    let passes = if scorer.alpha_sq > 1.0 { 2 } else { 1 };
    for alpha_sq in [1.0, scorer.alpha_sq].into_iter().take(passes) {
        for (c, &(d, slot)) in candidates.iter().enumerate() {
            if row.len() >= degree {
                break;
            }
            if used[c] {
                continue;
            }
            let occluded = row.iter().any(|&r| alpha_sq * scorer.exact(r, slot) <= d);
            if !occluded {
                used[c] = true;
                row.push(slot);
            }
        }
    }
    row
}

/// Links every item that the entry cannot reach from the nearest reachable item a search finds
/// (taking that item's last, farthest, slot when its row is full), until all are reachable.
fn repair(scorer: &Scorer, adjacency: &mut [u32], degree: usize, entry: u32, items: &[u32]) {
    let mut w = Work::default();
    for _ in 0..MAX_REPAIR_ROUNDS {
        let reached = super::reachable(adjacency, degree, entry);
        let lost: Vec<u32> = items
            .iter()
            .copied()
            .filter(|&i| !reached[i as usize])
            .collect();
        if lost.is_empty() {
            return;
        }
        for item in lost {
            w.search_for(scorer, adjacency, degree, entry, item);
            let Some(&(_, from)) = w.beam.entries().iter().find(|&&(_, s)| reached[s as usize])
            else {
                continue;
            };
            let row = &mut adjacency[from as usize * degree..(from as usize + 1) * degree];
            match row.iter().position(|&s| s == NONE) {
                Some(free) => row[free] = item,
                None => row[degree - 1] = item,
            }
        }
    }
}
