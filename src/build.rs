//! Growing the forest: random-projection trees built in parallel, appended in tree order.
//!
//! Each tree draws from its own random stream (the seed and the tree number), and trees are
//! appended in tree-number order, so one seed gives the same index whatever the thread count.
//! A tree is built into a buffer of its own, numbering its nodes locally, and relocated when
//! appended; trees are built in batches of a few per thread, so build memory stays close to
//! the final index plus the trees in flight.
//!
//! The threads come from a pool created for this build: the global rayon pool would be
//! unusable in a child process forked after it started.

use crate::codes::{self, Codes};
use crate::error::{Error, Result};
use crate::metric::Metric;
use crate::node::{Layout, Nodes};
use crate::split::{self, Plane, Random, Splitter};
use crate::storage::{HeapNodes, Storage};
use rayon::prelude::*;

/// How many trees: a fixed number, or Annoy's rule (grow until nodes >= 2 x items).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TreeCount {
    Fixed(usize),
    Auto,
}

/// Most nodes an index may have: node references are i32 in Annoy's layout.
const MAX_NODES: usize = i32::MAX as usize;
/// Items ahead to prefetch while assigning sides (items are visited in no memory order).
const PREFETCH_DISTANCE: usize = 4;
/// The same for codes, which are smaller and faster to process.
const CODE_PREFETCH_DISTANCE: usize = 8;
/// Trees are built in batches, appended between batches. Bigger batches leave threads idle
/// less often (every batch waits for its slowest tree); the cost is memory, so a batch holds
/// about this many bytes of trees, and from 1 to `MAX_TREES_PER_THREAD` trees per thread.
const IN_FLIGHT_BYTES: usize = 256 << 20;
const MAX_TREES_PER_THREAD: usize = 8;

/// What a build produces besides the nodes it appends to storage.
pub(crate) struct Built {
    pub n_trees: usize,
    /// The compact-codes section, for metrics that have one.
    pub codes: Option<HeapNodes>,
}

/// Builds the forest after the items (slots `0..n_items` of `storage`) and appends it, followed
/// by copies of every root; encodes the items' compact codes.
pub(crate) fn build_forest(
    layout: &Layout,
    storage: &mut Storage,
    n_items: usize,
    trees: TreeCount,
    threads: usize,
    seed: u64,
) -> Result<Built> {
    if layout.metric == Metric::Dot {
        let items = storage.bytes_mut().expect("building needs writable nodes");
        set_dot_factors(layout, &mut items[..n_items * layout.node_size]);
    }
    let present: Vec<u32> = {
        let items = Nodes {
            layout,
            bytes: &storage.bytes()[..n_items * layout.node_size],
        };
        (0..n_items as u32)
            .filter(|&i| layout.n_descendants(items.get(i as usize)) >= 1)
            .collect()
    };
    crate::pool::with_build_pool(threads, "build", |pool| {
        let codes = pool.install(|| {
            let items = Nodes {
                layout,
                bytes: &storage.bytes()[..n_items * layout.node_size],
            };
            codes::encode(crate::kernels::kernels(), items, n_items, &present)
        })?;

        let mut roots: Vec<usize> = Vec::new();
        let mut next_tree = 0usize;
        // The first batch is one tree per thread, which tells how large a tree is.
        let mut batch = threads;
        'grow: loop {
            let wanted = match trees {
                TreeCount::Fixed(t) => t.saturating_sub(next_tree).min(batch),
                TreeCount::Auto => batch,
            };
            if wanted == 0 || done(trees, roots.len(), storage, layout, n_items) {
                break;
            }
            let built: Vec<Result<Tree>> = {
                let items = Nodes {
                    layout,
                    bytes: &storage.bytes()[..n_items * layout.node_size],
                };
                let codes = codes
                    .as_ref()
                    .and_then(|c| Codes::parse(c.bytes(), layout.metric, layout.dim, n_items).ok())
                    .flatten();
                let present = &present;
                pool.install(|| {
                    (next_tree..next_tree + wanted)
                        .into_par_iter()
                        .map(|t| {
                            let rng = Random::for_tree(seed, t as u64);
                            Tree::build(items, codes, n_items, present, rng)
                        })
                        .collect()
                })
            };
            if next_tree == 0 {
                if let Some(Ok(first)) = built.first() {
                    let tree_bytes = first.len_bytes().max(1);
                    let per_thread =
                        (IN_FLIGHT_BYTES / threads / tree_bytes).clamp(1, MAX_TREES_PER_THREAD);
                    batch = threads * per_thread;
                    if let TreeCount::Auto = trees {
                        // Trees past the target are built for nothing: aim for the few needed.
                        let nodes_needed =
                            (2 * n_items).saturating_sub(storage.bytes().len() / layout.node_size);
                        let trees_needed = nodes_needed.div_ceil(tree_bytes / layout.node_size + 1);
                        batch = batch
                            .min(trees_needed.next_multiple_of(threads))
                            .max(threads);
                    }
                    if let TreeCount::Fixed(t) = trees {
                        // Reserve the whole forest once, estimated from the first tree.
                        let estimate = (first.len_bytes() + layout.node_size) * t * 21 / 20;
                        storage.reserve(estimate)?;
                    }
                }
            }
            next_tree += wanted;
            let built = built.into_iter().collect::<Result<Vec<Tree>>>()?;
            // The trees this batch contributes: all of them, or for Annoy's rule those appended
            // before the index holds twice as many nodes as items.
            let mut n_nodes = storage.bytes().len() / layout.node_size;
            let mut take = 0;
            for tree in &built {
                let enough = match trees {
                    TreeCount::Fixed(t) => roots.len() + take >= t,
                    TreeCount::Auto => n_nodes >= 2 * n_items,
                };
                if enough {
                    break;
                }
                n_nodes += tree.len_bytes() / layout.node_size;
                take += 1;
            }
            let all_taken = take == built.len();
            roots.extend(append_trees(
                layout,
                storage,
                n_items,
                &built[..take],
                pool,
            )?);
            if !all_taken {
                break 'grow;
            }
        }

        let n_nodes = storage.bytes().len() / layout.node_size;
        check_node_count(n_nodes + roots.len())?;
        storage.resize((n_nodes + roots.len()) * layout.node_size)?;
        let nodes = storage.bytes_mut().expect("building needs writable nodes");
        let s = layout.node_size;
        for (i, &root) in roots.iter().enumerate() {
            nodes.copy_within(root * s..(root + 1) * s, (n_nodes + i) * s);
        }
        Ok(Built {
            n_trees: roots.len(),
            codes,
        })
    })
}

fn done(
    trees: TreeCount,
    built: usize,
    storage: &Storage,
    layout: &Layout,
    n_items: usize,
) -> bool {
    match trees {
        TreeCount::Fixed(t) => built >= t,
        TreeCount::Auto => storage.bytes().len() / layout.node_size >= 2 * n_items,
    }
}

fn check_node_count(n: usize) -> Result<()> {
    if n > MAX_NODES {
        return Err(Error::invalid_argument(format!(
            "the index would need {n} nodes, more than the format's limit of {MAX_NODES}; use fewer trees or items"
        )));
    }
    Ok(())
}

/// The dot metric's reduction to angular search: every item gets the extra coordinate
/// `sqrt(max_norm² - |v|²)`, so all items have norm `max_norm` in the augmented space.
fn set_dot_factors(layout: &Layout, items: &mut [u8]) {
    let k = crate::kernels::kernels();
    let norm_sq = |node: &[u8]| {
        let v = layout.vector(node);
        (k.dot)(v, v)
    };
    let max_norm_sq = items
        .chunks_exact(layout.node_size)
        .filter(|n| layout.n_descendants(n) == 1)
        .map(norm_sq)
        .fold(0.0f32, f32::max);
    for node in items.chunks_exact_mut(layout.node_size) {
        if layout.n_descendants(node) == 1 {
            let factor = (max_norm_sq - norm_sq(node)).max(0.0).sqrt();
            layout.set_dot_factor(node, factor);
        }
    }
}

/// Appends trees' nodes after the existing ones, turning their local node numbers into global
/// ones, each tree on its own thread (their regions do not overlap). Returns the global index
/// of each tree's root.
fn append_trees(
    layout: &Layout,
    storage: &mut Storage,
    n_items: usize,
    trees: &[Tree],
    pool: &rayon::ThreadPool,
) -> Result<Vec<usize>> {
    let s = layout.node_size;
    let old_len = storage.bytes().len();
    let mut bases = Vec::with_capacity(trees.len());
    let mut end = old_len / s;
    for tree in trees {
        bases.push(end);
        end += tree.len_bytes() / s;
    }
    check_node_count(end)?;
    storage.resize(end * s)?;
    let mut dest = &mut storage.bytes_mut().expect("building needs writable nodes")[old_len..];
    let mut regions = Vec::with_capacity(trees.len());
    for tree in trees {
        let (region, rest) = dest.split_at_mut(tree.len_bytes());
        regions.push(region);
        dest = rest;
    }
    pool.install(|| {
        regions
            .into_par_iter()
            .zip(trees)
            .zip(&bases)
            .for_each(|((region, tree), &base)| {
                region.copy_from_slice(tree.nodes.bytes());
                for node in region.chunks_exact_mut(s) {
                    if layout.n_descendants(node) > layout.k as i32 {
                        for c in 0..2 {
                            let child = layout.child(node, c) as usize;
                            if child >= n_items {
                                layout.set_child(node, c, (child - n_items + base) as i32);
                            }
                        }
                    }
                }
            })
    });
    Ok(trees
        .iter()
        .zip(bases)
        .map(|(tree, base)| base + tree.root - n_items)
        .collect())
}

/// One tree, its nodes numbered locally: item ids stay `< n_items`, node `j` of this tree is
/// referenced as `n_items + j` until `append_tree` relocates it.
struct Tree {
    nodes: HeapNodes,
    root: usize,
}

impl Tree {
    fn len_bytes(&self) -> usize {
        self.nodes.bytes().len()
    }

    fn build(
        items: Nodes,
        codes: Option<Codes>,
        n_items: usize,
        present: &[u32],
        mut rng: Random,
    ) -> Result<Tree> {
        let mut indices = present.to_vec();
        let mut b = TreeBuilder {
            layout: *items.layout,
            n_items,
            splitter: Splitter::new(items),
            items,
            codes,
            weights: Vec::new(),
            nodes: HeapNodes::default(),
            count: 0,
            sides: vec![false; indices.len()],
        };
        let root = b.make_tree(&mut indices, true, &mut rng)?;
        Ok(Tree {
            nodes: b.nodes,
            root,
        })
    }
}

struct TreeBuilder<'a> {
    layout: Layout,
    n_items: usize,
    items: Nodes<'a>,
    /// The items' compact codes, on which sides are assigned when the metric has them: a
    /// quarter of the bytes of the float vectors, and the build is bound by reading them.
    codes: Option<Codes<'a>>,
    weights: Vec<i16>,
    splitter: Splitter<'a>,
    nodes: HeapNodes,
    count: usize,
    /// Scratch: the side chosen for each index, reused down the recursion.
    sides: Vec<bool>,
}

impl TreeBuilder<'_> {
    /// Appends a node, returning its local reference and its bytes.
    fn push(&mut self) -> Result<(usize, &mut [u8])> {
        let s = self.layout.node_size;
        self.count += 1;
        check_node_count(self.n_items + self.count)?;
        self.nodes.resize(self.count * s)?;
        let node = &mut self.nodes.bytes_mut()[(self.count - 1) * s..];
        Ok((self.n_items + self.count - 1, node))
    }

    /// Annoy's recursion, including its rules for roots: a root records `n_items` descendants
    /// whatever it holds, and is a bucket only when every item fits in one.
    fn make_tree(&mut self, indices: &mut [u32], is_root: bool, rng: &mut Random) -> Result<usize> {
        let (k, n_items) = (self.layout.k, self.n_items);
        let n_desc = if is_root { n_items } else { indices.len() } as i32;
        if indices.len() == 1 && !is_root {
            return Ok(indices[0] as usize);
        }
        if is_root && indices.len() == 1 && n_items > k {
            // One real item among holes: a count above K makes this a split node in Annoy's
            // reading, so it gets two children (the item twice) and a null hyperplane.
            let layout = self.layout;
            let (r, node) = self.push()?;
            layout.set_n_descendants(node, n_desc);
            layout.set_child(node, 0, indices[0] as i32);
            layout.set_child(node, 1, indices[0] as i32);
            return Ok(r);
        }
        if indices.len() <= k && (!is_root || n_items <= k) {
            let layout = self.layout;
            let (r, node) = self.push()?;
            layout.set_n_descendants(node, n_desc);
            for (c, &i) in indices.iter().enumerate() {
                layout.set_child(node, c, i as i32);
            }
            return Ok(r);
        }

        let mut plane = Plane::new(&self.layout);
        let mut sides = std::mem::take(&mut self.sides);
        split::split_sides(
            &mut plane,
            &mut sides[..indices.len()],
            rng,
            |plane, sides, rng| {
                self.splitter.create_split(indices, rng, plane);
                self.assign_sides(indices, plane, sides, rng)
            },
        );
        self.sides = sides;
        let left = partition(indices, &mut self.sides[..indices.len()]);
        let (lo, hi) = indices.split_at_mut(left);
        // Smaller side first, as Annoy does, for locality.
        let (c0, c1) = if lo.len() > hi.len() {
            let c1 = self.make_tree(hi, false, rng)?;
            (self.make_tree(lo, false, rng)?, c1)
        } else {
            let c0 = self.make_tree(lo, false, rng)?;
            (c0, self.make_tree(hi, false, rng)?)
        };
        let layout = self.layout;
        let (r, node) = self.push()?;
        layout.set_n_descendants(node, n_desc);
        plane.write(&layout, node);
        layout.set_child(node, 0, c0 as i32);
        layout.set_child(node, 1, c1 as i32);
        Ok(r)
    }

    /// Records each item's side in `sides`; returns how many went right (side 1).
    fn assign_sides(
        &mut self,
        indices: &[u32],
        plane: &Plane,
        sides: &mut [bool],
        rng: &mut Random,
    ) -> usize {
        let kernels = self.splitter.kernels();
        let mut right = 0;
        if let Some(codes) = self.codes {
            // The plane's normal is prepared like a query; its offset is added exactly.
            let prepared = codes.prepare(kernels, &plane.normal, &mut self.weights);
            for (c, (side, &i)) in sides.iter_mut().zip(indices).enumerate() {
                if let Some(&ahead) = indices.get(c + CODE_PREFETCH_DISTANCE) {
                    codes.prefetch(ahead as usize);
                }
                let m = plane.offset + codes.dot(kernels, &prepared, &self.weights, i as usize);
                *side = if m != 0.0 { m > 0.0 } else { rng.flip() };
                right += usize::from(*side);
            }
            return right;
        }
        for (c, (side, &i)) in sides.iter_mut().zip(indices).enumerate() {
            if let Some(&ahead) = indices.get(c + PREFETCH_DISTANCE) {
                crate::kernels::prefetch(self.items.get(ahead as usize));
            }
            *side = plane.side(&self.layout, kernels, self.items.get(i as usize), rng);
            right += usize::from(*side);
        }
        right
    }
}

/// Moves side-0 indices before side-1 ones (in place); returns the number of side-0 indices.
fn partition(indices: &mut [u32], sides: &mut [bool]) -> usize {
    let (mut i, mut j) = (0, indices.len());
    while i < j {
        if sides[i] {
            j -= 1;
            indices.swap(i, j);
            sides.swap(i, j);
        } else {
            i += 1;
        }
    }
    i
}
