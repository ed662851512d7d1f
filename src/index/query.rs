//! Queries: by vector, by packed bits, by item, with or without search options.
//!
//! Two families. Annoy's calls (`get_nns_by_*`, `search_*_into`) collect `search_k`
//! candidates and return what those give, as Annoy does. The options calls (`search`,
//! `search_by_item`, `search_batch_with`) take a [`SearchOptions`] (effort and filter) and
//! return exactly `min(n, accepted items)` results.

use super::access::pack_bits;
use super::Index;
use crate::distance::{Neighbor, Query};
use crate::error::Result;
use crate::filter::SearchOptions;
use crate::keys::SlotKeys;
use crate::metric::Metric;
use crate::node::Nodes;
use crate::overlay::{OverlayView, Trees};
use crate::search::{Forest, Request};

/// A query in whatever form the caller gave it.
pub(super) enum QueryArg<'a> {
    Vector(&'a [f32]),
    Bits(&'a [u64]),
    Item(u64),
}

impl Index {
    /// The `n` nearest items to `vector`, nearest first. `search_k` is how many candidate ids
    /// to collect (more: better recall, slower); `None` means `n * n_trees`.
    pub fn get_nns_by_vector(
        &self,
        vector: &[f32],
        n: usize,
        search_k: Option<usize>,
    ) -> Result<Vec<Neighbor>> {
        let mut out = Vec::with_capacity(n.min(1024));
        self.search_vector_into(vector, n, search_k, &mut out)?;
        Ok(out)
    }

    /// As [`Index::get_nns_by_vector`], appending to `out` (no allocation once it has room).
    pub fn search_vector_into(
        &self,
        vector: &[f32],
        n: usize,
        search_k: Option<usize>,
        out: &mut Vec<Neighbor>,
    ) -> Result<()> {
        self.query_into(QueryArg::Vector(vector), &annoy_request(n, search_k), out)
    }

    /// Hamming only: the `n` nearest items to packed `words`.
    pub fn get_nns_by_bits(
        &self,
        words: &[u64],
        n: usize,
        search_k: Option<usize>,
    ) -> Result<Vec<Neighbor>> {
        let mut out = Vec::with_capacity(n.min(1024));
        self.search_bits_into(words, n, search_k, &mut out)?;
        Ok(out)
    }

    /// As [`Index::get_nns_by_bits`], appending to `out`.
    pub fn search_bits_into(
        &self,
        words: &[u64],
        n: usize,
        search_k: Option<usize>,
        out: &mut Vec<Neighbor>,
    ) -> Result<()> {
        self.query_into(QueryArg::Bits(words), &annoy_request(n, search_k), out)
    }

    /// The `n` nearest items to item `key`. The item itself comes first, at distance 0, under
    /// every metric but dot, where items with larger inner products outrank it.
    pub fn get_nns_by_item(
        &self,
        key: u64,
        n: usize,
        search_k: Option<usize>,
    ) -> Result<Vec<Neighbor>> {
        let mut out = Vec::with_capacity(n.min(1024));
        self.search_item_into(key, n, search_k, &mut out)?;
        Ok(out)
    }

    /// As [`Index::get_nns_by_item`], appending to `out`.
    pub fn search_item_into(
        &self,
        key: u64,
        n: usize,
        search_k: Option<usize>,
        out: &mut Vec<Neighbor>,
    ) -> Result<()> {
        self.query_into(QueryArg::Item(key), &annoy_request(n, search_k), out)
    }

    /// The `n` nearest items to `vector` that `options` accepts, nearest first: exactly
    /// `min(n, accepted items)` of them. Only accepted candidates count toward the options'
    /// `search_k`.
    pub fn search(
        &self,
        vector: &[f32],
        n: usize,
        options: &SearchOptions,
    ) -> Result<Vec<Neighbor>> {
        let mut out = Vec::with_capacity(n.min(1024));
        self.search_into(vector, n, options, &mut out)?;
        Ok(out)
    }

    /// As [`Index::search`], appending to `out`.
    pub fn search_into(
        &self,
        vector: &[f32],
        n: usize,
        options: &SearchOptions,
        out: &mut Vec<Neighbor>,
    ) -> Result<()> {
        self.query_into(QueryArg::Vector(vector), &options_request(n, options), out)
    }

    /// As [`Index::search`], with item `key`'s vector as the query.
    pub fn search_by_item(
        &self,
        key: u64,
        n: usize,
        options: &SearchOptions,
    ) -> Result<Vec<Neighbor>> {
        let mut out = Vec::with_capacity(n.min(1024));
        self.query_into(QueryArg::Item(key), &options_request(n, options), &mut out)?;
        Ok(out)
    }

    /// Runs one query of any form: checks it, turns it into a [`Query`], and searches this
    /// index or, sharded, every shard.
    pub(super) fn query_into(
        &self,
        arg: QueryArg,
        request: &Request,
        out: &mut Vec<Neighbor>,
    ) -> Result<()> {
        self.check_built()?;
        let mut stack = [0u64; 32];
        let mut heap = Vec::new();
        let item;
        let live_vector;
        let query = match arg {
            QueryArg::Vector(vector) => {
                self.check_vector(vector)?;
                if self.layout.metric == Metric::Hamming {
                    let words = if self.layout.words <= stack.len() {
                        &mut stack[..self.layout.words]
                    } else {
                        heap.resize(self.layout.words, 0);
                        &mut heap[..]
                    };
                    pack_bits(vector, words);
                    Query::Bits(words)
                } else {
                    Query::floats(self.layout.metric, vector)
                }
            }
            QueryArg::Bits(words) => {
                self.check_bits(words)?;
                Query::Bits(words)
            }
            QueryArg::Item(key) => match self.live() {
                Some(live) => {
                    live_vector = self.live_vector(live, key)?;
                    match self.layout.metric {
                        Metric::Hamming => {
                            heap.resize(self.layout.words, 0);
                            pack_bits(&live_vector, &mut heap);
                            Query::Bits(&heap)
                        }
                        metric => Query::floats(metric, &live_vector),
                    }
                }
                None => {
                    let (owner, slot) = self.locate(key)?;
                    item = owner.forest().nodes.get(slot);
                    match self.layout.metric {
                        Metric::Hamming => Query::Bits(self.layout.words_u64(item)),
                        metric => Query::floats(metric, self.layout.vector(item)),
                    }
                }
            },
        };
        match (self.live(), self.shards()) {
            (Some(live), _) => self.search_live(live, &query, request, out),
            (None, Some(shards)) => self.search_shards(shards, &query, request, out),
            (None, None) => self.forest().search(&query, request, out),
        }
    }

    /// Searches this index's own forest: one part of a live index.
    pub(crate) fn search_part(
        &self,
        query: &Query,
        request: &Request,
        overlay: Option<OverlayView>,
        out: &mut Vec<Neighbor>,
    ) -> Result<()> {
        Forest {
            overlay,
            ..self.forest()
        }
        .search(query, request, out)
    }

    /// Item slots: search numbers an overlay's items from here on.
    pub(crate) fn n_slots(&self) -> usize {
        self.n_items
    }

    /// The trees, for routing other items into them (see `crate::overlay`).
    pub(crate) fn trees(&self) -> Trees<'_> {
        let forest = self.forest();
        Trees {
            nodes: forest.nodes,
            first_root: forest.first_root,
            n_trees: forest.n_trees,
        }
    }

    pub(super) fn forest(&self) -> Forest<'_> {
        let nodes = Nodes {
            layout: &self.layout,
            bytes: self.storage.bytes(),
        };
        Forest {
            // Files end with a copy of every root.
            first_root: nodes.len().saturating_sub(self.n_trees),
            nodes,
            n_items: self.n_items,
            n_trees: self.n_trees,
            codes: self.codes(),
            keys: self
                .sorted_keys()
                .map_or(SlotKeys::Direct, SlotKeys::Sorted),
            graph: self.graph(),
            overlay: None,
        }
    }
}

/// Annoy's calls: `search_k` candidates, whatever they give.
pub(super) fn annoy_request(n: usize, search_k: Option<usize>) -> Request<'static> {
    Request {
        n,
        search_k,
        filter: None,
        complete: false,
        hidden: None,
    }
}

/// The options calls: filter and effort from `options`, and a complete answer.
pub(super) fn options_request(n: usize, options: &SearchOptions) -> Request<'_> {
    Request {
        n,
        search_k: options.search_k,
        filter: Some(options),
        complete: true,
        hidden: None,
    }
}
