//! A forest that takes items after it is built, one at a time: the delta of a live index.
//!
//! A built forest is never changed (it may be mapped by other processes), so recent writes
//! need a structure of their own, searchable at once and cheap to add to. Rebuilding small
//! forests as the delta grows costs each item a build per doubling; here an item is instead
//! added to every tree in place, as FLANN's kd-forests take points: it walks from the root to
//! a leaf, choosing sides on the existing split planes, and joins that leaf. A leaf that would
//! hold more than `K` items becomes a split node over two new leaves, its plane chosen by
//! two-means over its items, exactly as a build splits a node of that size. Every plane is
//! therefore chosen from the items present when it is made: as a build draws only 200 items
//! per split anyway, trees grown this way search as well as built ones as long as items do
//! not arrive sorted along some direction (a live index's compaction rebuilds them anyway).
//!
//! An item leaves by the leaf each tree put it in (recorded per slot and tree), so a replaced
//! or deleted item leaves nothing behind and its slot is reused.
//!
//! Nodes keep Annoy's layout, so the one search walks them: item slots `0..capacity`, then the
//! roots (one per tree, so they never move), then the other tree nodes. When the slots run
//! out, the tree nodes move up to make room, doubling the capacity (each item is moved O(1)
//! times amortised); only references to tree nodes change.

use crate::error::{Error, Result};
use crate::node::{Layout, Nodes};
use crate::overlay::Trees;
use crate::split::{self, Plane, Random, Splitter};
use crate::storage::HeapNodes;

/// Node references are i32 in Annoy's layout.
const MAX_NODES: usize = i32::MAX as usize;
/// Item slots of the first allocation.
const MIN_CAPACITY: usize = 64;

pub(crate) struct GrowingForest {
    layout: Layout,
    n_trees: usize,
    /// Item slots: nodes `0..capacity`.
    capacity: usize,
    nodes: HeapNodes,
    /// Nodes after the item slots: the roots, then the others.
    tree_nodes: usize,
    /// `leaf_of[slot * n_trees + t]`: the node of tree `t` whose list holds `slot`.
    leaf_of: Vec<u32>,
    rng: Random,
    /// Scratch for leaf splits.
    indices: Vec<u32>,
    sides: Vec<bool>,
}

impl GrowingForest {
    /// An empty forest of `n_trees` trees (each root an empty leaf).
    pub fn new(layout: Layout, n_trees: usize, seed: u64) -> Result<GrowingForest> {
        let mut nodes = HeapNodes::default();
        nodes.resize(n_trees * layout.node_size)?;
        Ok(GrowingForest {
            layout,
            n_trees,
            capacity: 0,
            nodes,
            tree_nodes: n_trees,
            leaf_of: Vec::new(),
            rng: Random::for_tree(seed, 0),
            indices: Vec::new(),
            sides: Vec::new(),
        })
    }

    pub fn n_trees(&self) -> usize {
        self.n_trees
    }

    /// Item slots available without moving the tree nodes.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Every node: the item slots, then the tree nodes (roots first).
    pub fn nodes(&self) -> Nodes<'_> {
        Nodes {
            layout: &self.layout,
            bytes: self.nodes.bytes(),
        }
    }

    /// The first root (the roots are consecutive).
    pub fn first_root(&self) -> usize {
        self.capacity
    }

    /// Makes room for item slots up to `capacity` (at least doubling what there is).
    pub fn grow(&mut self, capacity: usize) -> Result<()> {
        if capacity <= self.capacity {
            return Ok(());
        }
        let capacity = capacity.max(2 * self.capacity).max(MIN_CAPACITY);
        let total = capacity
            .checked_add(self.tree_nodes)
            .filter(|&n| n <= MAX_NODES)
            .ok_or_else(|| {
                Error::invalid_state(format!(
                    "the delta cannot grow past {} nodes; compact the live index",
                    MAX_NODES
                ))
            })?;
        let s = self.layout.node_size;
        let shift = capacity - self.capacity;
        // In place: the items stay where they are (a large allocation grows by remapping its
        // pages, not copying them); only the tree nodes, a tenth of the bytes, move up.
        let (items, trees) = (self.capacity * s, self.tree_nodes * s);
        self.nodes.resize(total * s)?;
        let bytes = self.nodes.bytes_mut();
        bytes.copy_within(items..items + trees, capacity * s);
        bytes[items..(capacity * s).min(items + trees)].fill(0);
        for node in bytes[capacity * s..].chunks_exact_mut(s) {
            if self.layout.n_descendants(node) > self.layout.k as i32 {
                // Split nodes point at tree nodes only: leaves hold the items.
                for c in 0..2 {
                    let child = self.layout.child(node, c) as usize + shift;
                    self.layout.set_child(node, c, child as i32);
                }
            }
        }
        for leaf in &mut self.leaf_of {
            *leaf += shift as u32;
        }
        self.leaf_of.resize(capacity * self.n_trees, 0);
        self.capacity = capacity;
        Ok(())
    }

    /// Stores `vector` in the empty slot `slot` (below the capacity) and adds it to every tree.
    pub fn insert(&mut self, slot: usize, vector: &[f32]) -> Result<()> {
        debug_assert!(slot < self.capacity);
        let s = self.layout.node_size;
        self.layout.fill_item(
            &mut self.nodes.bytes_mut()[slot * s..(slot + 1) * s],
            vector,
        );
        // Down every tree at once, so that the nodes' reads overlap (see `Trees::route`).
        let leaves = Trees {
            nodes: self.nodes(),
            first_root: self.capacity,
            n_trees: self.n_trees,
        }
        .route(&[&self.nodes.bytes()[slot * s..(slot + 1) * s]]);
        for (t, &leaf) in leaves[0].iter().enumerate() {
            self.join(leaf as usize, slot, t)?;
        }
        Ok(())
    }

    /// Takes the item in `slot` out of every tree and empties the slot.
    pub fn remove(&mut self, slot: usize) {
        self.detach(slot);
        self.clear(slot);
    }

    /// Empties `slot` (an item in no tree).
    pub fn clear(&mut self, slot: usize) {
        let s = self.layout.node_size;
        self.nodes.bytes_mut()[slot * s..(slot + 1) * s].fill(0);
    }

    /// Takes the item in `slot` out of every tree; it stays stored.
    pub fn detach(&mut self, slot: usize) {
        let (layout, s) = (self.layout, self.layout.node_size);
        for t in 0..self.n_trees {
            let leaf = self.leaf_of[slot * self.n_trees + t] as usize;
            let node = &mut self.nodes.bytes_mut()[leaf * s..(leaf + 1) * s];
            let n = layout.n_descendants(node) as usize;
            if let Some(c) = (0..n).find(|&c| layout.child(node, c) as usize == slot) {
                let last = layout.child(node, n - 1);
                layout.set_child(node, c, last);
                layout.set_n_descendants(node, (n - 1) as i32);
            } else {
                debug_assert!(false, "slot {slot} missing from its leaf in tree {t}");
            }
        }
    }

    /// Adds `slot` to the list of leaf `leaf` of tree `t`, splitting the leaf when it is full.
    fn join(&mut self, leaf: usize, slot: usize, t: usize) -> Result<()> {
        let (layout, s) = (self.layout, self.layout.node_size);
        let node = &mut self.nodes.bytes_mut()[leaf * s..(leaf + 1) * s];
        let n = layout.n_descendants(node) as usize;
        if n < layout.k {
            layout.set_child(node, n, slot as i32);
            layout.set_n_descendants(node, (n + 1) as i32);
            self.leaf_of[slot * self.n_trees + t] = leaf as u32;
            return Ok(());
        }
        let mut indices = std::mem::take(&mut self.indices);
        let mut sides = std::mem::take(&mut self.sides);
        indices.clear();
        indices.extend((0..n).map(|c| layout.child(node, c) as u32));
        indices.push(slot as u32);
        sides.clear();
        sides.resize(indices.len(), false);
        let result = self.split_leaf(leaf, t, &indices, &mut sides);
        self.indices = indices;
        self.sides = sides;
        result
    }

    /// Turns leaf `leaf` of tree `t` into a split node over two new leaves that share
    /// `indices` (one more than a leaf holds) as a build would split them.
    fn split_leaf(
        &mut self,
        leaf: usize,
        t: usize,
        indices: &[u32],
        sides: &mut [bool],
    ) -> Result<()> {
        let (layout, s) = (self.layout, self.layout.node_size);
        let mut plane = Plane::new(&layout);
        {
            let items = Nodes {
                layout: &layout,
                bytes: &self.nodes.bytes()[..self.capacity * s],
            };
            let mut splitter = Splitter::new(items);
            let k = splitter.kernels();
            split::split_sides(&mut plane, sides, &mut self.rng, |plane, sides, rng| {
                splitter.create_split(indices, rng, plane);
                let mut right = 0;
                for (side, &i) in sides.iter_mut().zip(indices) {
                    *side = plane.side(&layout, k, items.get(i as usize), rng);
                    right += usize::from(*side);
                }
                right
            });
        }
        let children = [self.push_node()?, self.push_node()?];
        let bytes = self.nodes.bytes_mut();
        for (&i, &side) in indices.iter().zip(sides.iter()) {
            let child = children[usize::from(side)];
            let node = &mut bytes[child * s..(child + 1) * s];
            let n = layout.n_descendants(node) as usize;
            layout.set_child(node, n, i as i32);
            layout.set_n_descendants(node, (n + 1) as i32);
            self.leaf_of[i as usize * self.n_trees + t] = child as u32;
        }
        let node = &mut bytes[leaf * s..(leaf + 1) * s];
        node.fill(0);
        // A split node counts its items (more than K); later changes below it do not update
        // the count, which search reads only to tell splits from leaves.
        layout.set_n_descendants(node, indices.len() as i32);
        plane.write(&layout, node);
        layout.set_child(node, 0, children[0] as i32);
        layout.set_child(node, 1, children[1] as i32);
        Ok(())
    }

    /// Appends an empty leaf; returns its node number.
    fn push_node(&mut self) -> Result<usize> {
        let i = self.capacity + self.tree_nodes;
        if i >= MAX_NODES {
            return Err(Error::invalid_state(
                "the delta has too many nodes; compact the live index",
            ));
        }
        self.nodes.resize((i + 1) * self.layout.node_size)?;
        self.tree_nodes += 1;
        Ok(i)
    }

    /// Checks the structure: every tree lists each stored item for which `in_trees` holds
    /// exactly once, in the leaf recorded for it, and no other, and reaches no node twice.
    pub fn check(&self, in_trees: impl Fn(usize) -> bool) -> Result<()> {
        let (layout, nodes) = (&self.layout, self.nodes());
        let bad = |what: String| Err(Error::corrupt(format!("the live delta is damaged: {what}")));
        let stored: Vec<usize> = (0..self.capacity)
            .filter(|&i| layout.n_descendants(nodes.get(i)) == 1 && in_trees(i))
            .collect();
        for t in 0..self.n_trees {
            let mut listed = vec![0u32; self.capacity];
            let mut reached = vec![false; nodes.len()];
            let mut stack = vec![self.capacity + t];
            while let Some(at) = stack.pop() {
                if at < self.capacity
                    || at >= nodes.len()
                    || std::mem::replace(&mut reached[at], true)
                {
                    return bad(format!("tree {t} reaches node {at} wrongly"));
                }
                let node = nodes.get(at);
                let n = layout.n_descendants(node);
                if n > layout.k as i32 {
                    stack.extend((0..2).map(|c| layout.child(node, c) as usize));
                    continue;
                }
                for c in 0..n.max(0) as usize {
                    let slot = layout.child(node, c) as usize;
                    if slot >= self.capacity || self.leaf_of[slot * self.n_trees + t] as usize != at
                    {
                        return bad(format!("tree {t} lists slot {slot} in the wrong leaf"));
                    }
                    listed[slot] += 1;
                }
            }
            if let Some(&slot) = stored.iter().find(|&&slot| listed[slot] != 1) {
                return bad(format!(
                    "tree {t} lists item slot {slot} {} times",
                    listed[slot]
                ));
            }
            if listed.iter().map(|&c| c as usize).sum::<usize>() != stored.len() {
                return bad(format!("tree {t} lists empty or detached slots"));
            }
        }
        Ok(())
    }
}
