//! Best-first search over the forest, as Annoy 1.17.3 orders and counts it.
//!
//! One max-heap holds nodes of all trees, keyed by the smallest margin met on the way down
//! (roots start at +infinity): the most promising branch anywhere in the forest is explored
//! next. Leaves add their items to the candidates until `search_k` were collected (duplicates
//! included, as Annoy counts them); a per-thread epoch array drops duplicates as they arrive,
//! without sorting. `rank` then scores the candidates and keeps the best `n`.
//!
//! With a filter ([`SearchOptions`]), only accepted candidates count toward `search_k`, and a
//! complete search ([`Request::complete`]) returns exactly `min(n, accepted items)` results:
//! * an allow-list no longer than `search_k` (or `n`) is scored directly, without a walk;
//! * the walk continues until it holds `n` accepted candidates (or has seen every item);
//! * a walk that has looked at twice as many ids as there are items (a very selective
//!   filter) stops and scans every item instead, which costs less than walking on.
//!
//! Scratch space is per thread and reused, so a query allocates nothing once the buffers have
//! grown, and any number of threads can query one index at once.

use crate::codes::Codes;
use crate::distance::{Neighbor, Query};
use crate::error::{Error, Result};
use crate::filter::SearchOptions;
use crate::graph::{self, Graph};
use crate::kernels::{self, Kernels};
use crate::keys::{SlotKeys, SlotSet};
use crate::metric::Metric;
use crate::node::{Layout, Nodes};
use crate::overlay::OverlayView;
use crate::rank;
use crate::split::hamming_bit_is_set;
pub(crate) use scratch::Scratch;
use scratch::SCRATCH;
use std::cmp::Ordering;

mod scratch;

/// What a search is asked for.
#[derive(Clone, Copy)]
pub(crate) struct Request<'a> {
    pub n: usize,
    /// Accepted candidates to collect; `None` means `n * n_trees`.
    pub search_k: Option<usize>,
    /// Which keys may be returned; `None` accepts all.
    pub filter: Option<&'a SearchOptions>,
    /// Return exactly `min(n, accepted items)` results, walking past `search_k` if needed
    /// (the `ann_search` family); otherwise what `search_k` candidates give (Annoy's calls).
    pub complete: bool,
    /// Slots this index must not return whatever the filter says: in a live index, the
    /// copies that newer writes replaced or deleted.
    pub hidden: Option<&'a SlotSet>,
}

impl Request<'_> {
    /// True when some key may be refused.
    fn filters(&self) -> bool {
        self.filter.is_some_and(SearchOptions::filters)
            || self.hidden.is_some_and(|h| !h.is_empty())
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

/// The forest as search sees it.
pub(crate) struct Forest<'a> {
    pub nodes: Nodes<'a>,
    /// Item slots: nodes `0..n_items`.
    pub n_items: usize,
    pub n_trees: usize,
    /// Compact codes of the items, when the index has them.
    pub codes: Option<Codes<'a>>,
    /// The first of the `n_trees` roots, which are consecutive nodes (the last ones, in files).
    pub first_root: usize,
    /// Which key each slot holds.
    pub keys: SlotKeys<'a>,
    /// The graph over the items, when the index has one: queries walk it instead.
    pub graph: Option<Graph<'a>>,
    /// Items listed at the forest's nodes but stored elsewhere (see `overlay`): search numbers
    /// them from `n_items` on.
    pub overlay: Option<OverlayView<'a>>,
}

impl Forest<'_> {
    #[inline]
    pub fn key_of(&self, id: usize) -> u64 {
        match &self.overlay {
            Some(o) if id >= self.n_items => o.keys.key_of(id - self.n_items),
            _ => self.keys.key_of(id),
        }
    }

    /// Ids a search may meet: the slots, then the overlay's.
    pub fn n_ids(&self) -> usize {
        self.n_items + self.overlay.as_ref().map_or(0, OverlayView::slots)
    }

    /// The item node of id `id` (`id < n_ids()`).
    #[inline]
    pub fn item_node(&self, id: usize) -> &[u8] {
        match &self.overlay {
            Some(o) if id >= self.n_items => o.nodes.get(id - self.n_items),
            _ => self.nodes.get(id),
        }
    }

    /// The slot of item `key`, if such an item is stored.
    pub fn slot_of(&self, key: u64) -> Option<usize> {
        let slot = self.keys.slot_of(key, self.n_items)?;
        self.is_item(slot).then_some(slot)
    }

    #[inline]
    fn is_item(&self, id: usize) -> bool {
        match &self.overlay {
            Some(o) if id >= self.n_items => o.is_item(id - self.n_items),
            _ => self.nodes.layout.n_descendants(self.nodes.get(id)) == 1,
        }
    }

    /// The ids of `key`: its slot, and its overlay slot (a forest and its overlay may both
    /// hold a key; the caller's hidden set refuses the forest's copy then).
    fn ids_of(&self, key: u64) -> impl Iterator<Item = usize> + '_ {
        let own = self.slot_of(key);
        let extra = self.overlay.as_ref().and_then(|o| {
            let slot = o.keys.slot_of(key, o.slots())?;
            o.is_item(slot).then_some(self.n_items + slot)
        });
        own.into_iter().chain(extra)
    }

    /// Appends the nearest items to `query` to `out`, nearest first (keys and distances).
    pub fn search(&self, query: &Query, request: &Request, out: &mut Vec<Neighbor>) -> Result<()> {
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut scratch) => self.search_with(&mut scratch, query, request, out),
            // Only reachable if a search ran inside a search on this thread (a filter that
            // searches); stay correct.
            Err(_) => self.search_with(&mut Scratch::default(), query, request, out),
        })
    }

    fn search_with(
        &self,
        s: &mut Scratch,
        query: &Query,
        request: &Request,
        out: &mut Vec<Neighbor>,
    ) -> Result<()> {
        let n = request.n;
        if n == 0 || self.n_items == 0 {
            return Ok(());
        }
        let search_k = request.search_k.unwrap_or(n.saturating_mul(self.n_trees));
        let hidden = request.hidden.filter(|h| !h.is_empty());
        let filter = request.filter.filter(|f| f.filters());
        let accepts = |id: i32| {
            hidden.is_none_or(|h| !h.contains(id as usize))
                && filter.is_none_or(|f| f.accepts(self.key_of(id as usize)))
        };
        s.begin(self.n_ids());

        let short_allow_list = request
            .filter
            .and_then(|f| f.allow.as_ref())
            .filter(|allow| allow.len() <= search_k.max(n));
        if let Some(allow) = short_allow_list {
            for &key in allow.keys() {
                for id in self.ids_of(key) {
                    if accepts(id as i32) {
                        s.candidates.push(id as i32);
                    }
                }
            }
        } else if self.graph_answered(s, query, request, search_k, &accepts, out) {
            return Ok(());
        } else if self.walk(s, query, request, search_k, &accepts)? {
            // The walk gave up on a very selective filter: score every accepted item.
            s.candidates.clear();
            for id in 0..self.n_ids() {
                if self.is_item(id) && accepts(id as i32) {
                    s.candidates.push(id as i32);
                }
            }
        }
        rank::rank(self, s, query, n, out);
        Ok(())
    }

    /// Answers from the graph, when the index has one: its beam's accepted nodes, already
    /// scored by the walk, are ranked into `out`. False when there is no graph, or a complete
    /// request found fewer than `n` accepted nodes there: the forest's walk then answers (with
    /// a fresh scratch epoch).
    fn graph_answered(
        &self,
        s: &mut Scratch,
        query: &Query,
        request: &Request,
        search_k: usize,
        accepts: &dyn Fn(i32) -> bool,
        out: &mut Vec<Neighbor>,
    ) -> bool {
        let Some(graph) = self.graph.as_ref().filter(|_| self.overlay.is_none()) else {
            return false;
        };
        let ef = graph::search::effort(request.n, search_k, request.filter.and_then(|f| f.ef));
        let walk = graph::search::walk(self, graph, s, query, request.n, ef, accepts);
        if walk.enough || !request.complete {
            rank::finish(self, s, query, request.n, walk.on_codes, out);
            return true;
        }
        s.begin(self.n_items);
        false
    }

    /// Walks the forest, collecting accepted candidates into `s.candidates`. Returns true when
    /// it stopped because a filter refuses almost everything (see the module doc).
    fn walk(
        &self,
        s: &mut Scratch,
        query: &Query,
        request: &Request,
        search_k: usize,
        accepts: &dyn Fn(i32) -> bool,
    ) -> Result<bool> {
        let layout = self.nodes.layout;
        let k = kernels::kernels();
        let metric = layout.metric;
        let n_nodes = self.nodes.len();
        let start = if metric == Metric::Hamming {
            0.0
        } else {
            f32::INFINITY
        };
        for root in self.first_root..self.first_root + self.n_trees {
            s.heap.push(Pending {
                priority: start,
                node: root as i32,
            });
        }
        let filtering = request.filters();
        // Accepted ids collected, duplicates included: Annoy's measure of search effort.
        let mut collected = 0usize;
        // Every id a leaf gave, refused ones too: the cost that decides when to scan instead.
        let mut looked_at = 0usize;
        let give_up = if filtering {
            self.n_ids().saturating_mul(2)
        } else {
            usize::MAX
        };
        // A valid forest pops each node at most once; more pops means a cycle in a bad file.
        let mut pops = 0usize;
        loop {
            if collected >= search_k && (!request.complete || s.candidates.len() >= request.n) {
                return Ok(false);
            }
            if looked_at > give_up {
                return Ok(true);
            }
            let Some(Pending { priority, node: i }) = s.heap.pop() else {
                return Ok(false);
            };
            pops += 1;
            if pops > n_nodes {
                return Err(Error::corrupt(
                    "the index contains a cycle; the file is damaged (run verify)",
                ));
            }
            let node = self.nodes.checked(i)?;
            if let Some(o) = &self.overlay {
                for &slot in o.overlay.at(i as usize) {
                    let id = (self.n_items + slot as usize) as i32;
                    looked_at += 1;
                    collected += s.meet(id, accepts);
                }
            }
            let n_desc = layout.n_descendants(node);
            let item_node = n_desc == 1 && (i as usize) < self.n_items;
            let leaf_items = if item_node {
                1
            } else if n_desc <= layout.k as i32 {
                if n_desc < 0 {
                    return Err(Error::corrupt(format!(
                        "node {i} has a negative descendant count; the file is damaged"
                    )));
                }
                n_desc as usize
            } else {
                let m = margin(layout, k, node, query);
                for child in [1, 0] {
                    s.heap.push(Pending {
                        priority: child_priority(metric, priority, m, child),
                        node: layout.child(node, child),
                    });
                }
                continue;
            };
            for c in 0..leaf_items {
                let id = if item_node { i } else { layout.child(node, c) };
                if id < 0 || id as usize >= self.n_items {
                    return Err(Error::corrupt(format!(
                        "a leaf lists item {id}, outside 0..{}; the file is damaged",
                        self.n_items
                    )));
                }
                looked_at += 1;
                collected += s.meet(id, accepts);
            }
        }
    }
}
