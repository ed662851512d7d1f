//! Items listed at the nodes of a forest they are not stored in: a live index's recent writes,
//! routed into the trees of its largest segment.
//!
//! A separate forest for recent writes costs every query a second walk (its own descents from
//! its own roots) and finds its items in coarse leaves: a delta of a sixth of the items holds
//! them in leaves as full as the segment's, where a compacted index would have mixed them a
//! sixth into each. Routing each new item down every tree of the segment, on the planes the
//! segment was built with, and listing it at the leaf where it lands, puts it where a rebuild
//! would most likely have put it: a query walks the segment's trees once and meets the new
//! items in the leaves it visits anyway. The segment file is never changed; the lists live in
//! memory beside it.
//!
//! An item's route is one terminal node per tree (a leaf, or a node holding one item). A tree
//! whose structure cannot be followed (a damaged file) lists the item at its root, which every
//! walk visits first, so a complete search still finds every item.

use crate::codes::Codes;
use crate::kernels;
use crate::keys::{SlotKeys, SlotSet};
use crate::node::Nodes;
use crate::split;
use std::collections::HashMap;
use std::hash::BuildHasherDefault;

type NodeMap<V> = HashMap<u32, V, BuildHasherDefault<crate::keys::KeyHasher>>;

/// The forest an overlay routes into: its nodes and its roots.
#[derive(Clone, Copy)]
pub(crate) struct Trees<'a> {
    pub nodes: Nodes<'a>,
    pub first_root: usize,
    pub n_trees: usize,
}

impl Trees<'_> {
    /// The terminal node of each tree that each of `items` (nodes in the layout's item form)
    /// falls in: `routes[i][t]` for item `i` and tree `t`.
    ///
    /// The items go down every tree together, a level at a time, split between the children
    /// at each node: a node is read once for all the items reaching it, and the nodes of the
    /// next level are prefetched while the rest of this level is worked on, since below the
    /// top levels they are rarely in cache and waiting for them one after another would cost
    /// far more than the dot products. A tie (an item on a plane) goes by a hash of the item
    /// and the node, so an item's route does not depend on the batch it came in.
    pub fn route(&self, items: &[&[u8]]) -> Vec<Vec<u32>> {
        let layout = self.nodes.layout;
        let k = kernels::kernels();
        let (n_nodes, m) = (self.nodes.len(), items.len());
        let mut routes = vec![vec![0u32; self.n_trees]; m];
        // Tree t's items are `order[t * m..(t + 1) * m]`, grouped by the node they reached.
        let mut order: Vec<usize> = (0..self.n_trees).flat_map(|_| 0..m).collect();
        let mut sides = vec![false; m];
        // (tree, node, range of `order`)
        let mut level: Vec<(usize, usize, usize, usize)> = (0..self.n_trees)
            .map(|t| (t, self.first_root + t, t * m, (t + 1) * m))
            .collect();
        let mut next = Vec::new();
        // A valid tree is shallower than it has nodes; a deeper descent is a cycle.
        for depth in 0.. {
            if level.is_empty() {
                break;
            }
            for &(t, at, lo, hi) in &level {
                let root = self.first_root + t;
                let usable = at < n_nodes && depth < n_nodes;
                let node = usable.then(|| self.nodes.get(at));
                let split = node.filter(|n| layout.n_descendants(n) > layout.k as i32);
                let children = split.and_then(|n| {
                    let c = |side| usize::try_from(layout.child(n, side)).ok();
                    c(0).zip(c(1))
                });
                let (Some(node), Some((c0, c1))) = (split, children) else {
                    // A terminal node, or structure that cannot be followed: the root then.
                    let listed = if usable && split.is_none() { at } else { root };
                    for &i in &order[lo..hi] {
                        routes[i][t] = listed as u32;
                    }
                    continue;
                };
                for &i in &order[lo..hi] {
                    sides[i] = split::clear_side(layout, k, node, items[i])
                        .unwrap_or_else(|| tie(items[i], at));
                }
                let mut mid = lo;
                for j in lo..hi {
                    if !sides[order[j]] {
                        order.swap(mid, j);
                        mid += 1;
                    }
                }
                for (child, a, b) in [(c0, lo, mid), (c1, mid, hi)] {
                    if a < b {
                        if child < n_nodes {
                            kernels::prefetch(self.nodes.get(child));
                        }
                        next.push((t, child, a, b));
                    }
                }
            }
            std::mem::swap(&mut level, &mut next);
            next.clear();
        }
        routes
    }
}

/// The side an item on a split plane goes to: a hash of its bytes and the node.
fn tie(item: &[u8], node: usize) -> bool {
    let mut h = (node as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    for chunk in item.chunks(8).take(8) {
        let mut word = [0u8; 8];
        word[..chunk.len()].copy_from_slice(chunk);
        h = (h ^ u64::from_le_bytes(word)).wrapping_mul(0x0100_0000_01b3);
    }
    h >> 63 == 1
}

/// Which extra slots each node of a forest lists, and where each slot is listed.
#[derive(Default)]
pub(crate) struct Overlay {
    n_trees: usize,
    /// `route_of[slot * n_trees + t]`: the node of tree `t` listing `slot`.
    route_of: Vec<u32>,
    lists: NodeMap<Vec<u32>>,
    /// Nodes that list anything (or once did): one bit test per node a walk pops.
    marked: SlotSet,
}

impl Overlay {
    pub fn new(n_trees: usize) -> Overlay {
        Overlay {
            n_trees,
            ..Overlay::default()
        }
    }

    pub fn n_trees(&self) -> usize {
        self.n_trees
    }

    /// Lists `slot` (not listed now) at the nodes of `route`, one per tree.
    pub fn add(&mut self, slot: usize, route: &[u32]) {
        debug_assert_eq!(route.len(), self.n_trees);
        let end = (slot + 1) * self.n_trees;
        if self.route_of.len() < end {
            self.route_of.resize(end.next_power_of_two(), u32::MAX);
        }
        self.route_of[slot * self.n_trees..end].copy_from_slice(route);
        for &node in route {
            self.lists.entry(node).or_default().push(slot as u32);
            self.marked.insert(node as usize);
        }
    }

    /// Takes `slot` off every node listing it.
    pub fn remove(&mut self, slot: usize) {
        let Some(route) = self
            .route_of
            .get(slot * self.n_trees..(slot + 1) * self.n_trees)
        else {
            return;
        };
        for &node in route {
            if let Some(list) = self.lists.get_mut(&node) {
                if let Some(at) = list.iter().position(|&s| s as usize == slot) {
                    list.swap_remove(at);
                }
            }
        }
        self.route_of[slot * self.n_trees..(slot + 1) * self.n_trees].fill(u32::MAX);
    }

    /// The slots listed at `node`.
    #[inline]
    pub fn at(&self, node: usize) -> &[u32] {
        if !self.marked.contains(node) {
            return &[];
        }
        self.lists.get(&(node as u32)).map_or(&[], Vec::as_slice)
    }

    /// True when every slot of `slots` is listed once in each tree, at the node its route says.
    pub fn lists_exactly(&self, slots: &[usize]) -> bool {
        let listed: usize = self.lists.values().map(Vec::len).sum();
        listed == slots.len() * self.n_trees
            && slots.iter().all(|&slot| {
                (0..self.n_trees).all(|t| {
                    self.route_of
                        .get(slot * self.n_trees + t)
                        .is_some_and(|node| self.at(*node as usize).contains(&(slot as u32)))
                })
            })
    }
}

/// An overlay as a search reads it: the lists, and the extra items' nodes, codes and keys.
/// Search numbers an extra slot `s` as id `n_items + s` of the forest it is laid over.
#[derive(Clone, Copy)]
pub(crate) struct OverlayView<'a> {
    pub overlay: &'a Overlay,
    /// Item nodes of the extra slots (empty slots are zero nodes); only those in `listed` are
    /// the overlay's (the others are found elsewhere).
    pub nodes: Nodes<'a>,
    pub listed: &'a SlotSet,
    /// Codes of the extra slots, encoded with the forest's quantiser.
    pub codes: Option<Codes<'a>>,
    pub keys: SlotKeys<'a>,
}

impl OverlayView<'_> {
    pub fn slots(&self) -> usize {
        self.nodes.len()
    }

    /// True when `slot` holds one of the overlay's items.
    #[inline]
    pub fn is_item(&self, slot: usize) -> bool {
        self.listed.contains(slot)
    }
}
