//! Queries and item access.

use super::Index;
use crate::error::{Error, Result};
use crate::metric::Metric;
use crate::node::Nodes;
use crate::search::{self, Forest, Neighbor, Query};

impl Index {
    /// The `n` nearest items to `vector`, nearest first. `search_k` is how many candidate ids
    /// to collect (more: better recall, slower); `None` means `n * n_trees`.
    pub fn get_nns_by_vector(
        &self,
        vector: &[f32],
        n: usize,
        search_k: Option<usize>,
    ) -> Result<Vec<Neighbor>> {
        let mut out = Vec::with_capacity(n.min(self.n_items));
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
        self.check_built()?;
        self.check_vector(vector)?;
        if self.layout.metric == Metric::Hamming {
            let mut stack = [0u64; 32];
            let mut heap = Vec::new();
            let words = if self.layout.words <= stack.len() {
                &mut stack[..self.layout.words]
            } else {
                heap.resize(self.layout.words, 0);
                &mut heap[..]
            };
            pack_bits(vector, words);
            return self.forest().search(&Query::Bits(words), n, search_k, out);
        }
        self.forest()
            .search(&Query::floats(self.layout.metric, vector), n, search_k, out)
    }

    /// Queries many vectors at once on `n_threads` threads (-1: every core). `queries` holds
    /// `dim` values per query, row after row. Row `q` of `ids` and `distances` (`n` slots each)
    /// receives query `q`'s neighbours, and `counts[q]` how many. Unused slots get id
    /// `u64::MAX` and distance NaN. Arguments are checked before anything is written; only a
    /// damaged file found mid-search can leave rows written on error.
    #[allow(clippy::too_many_arguments)]
    pub fn search_batch(
        &self,
        queries: &[f32],
        n: usize,
        search_k: Option<usize>,
        n_threads: i32,
        ids: &mut [u64],
        mut distances: Option<&mut [f32]>,
        counts: &mut [usize],
    ) -> Result<()> {
        self.check_built()?;
        let dim = self.layout.dim;
        if !queries.len().is_multiple_of(dim) {
            return Err(Error::invalid_argument(format!(
                "index has dim {dim}, queries hold {} values, not a multiple of it",
                queries.len()
            )));
        }
        let n_queries = queries.len() / dim;
        let needed = n_queries.checked_mul(n).ok_or_else(|| {
            Error::invalid_argument("n_queries * n does not fit in memory".to_string())
        })?;
        if ids.len() != needed
            || counts.len() != n_queries
            || distances.as_ref().is_some_and(|d| d.len() != needed)
        {
            return Err(Error::invalid_argument(format!(
                "{n_queries} queries of {n} results need {needed} ids (and distances) and {n_queries} counts"
            )));
        }
        let threads = super::thread_count(n_threads)?;
        // Validate every query first, so a bad one cannot fail the call after rows were written.
        if let Some(at) = queries.iter().position(|x| !x.is_finite()) {
            return Err(Error::invalid_argument(format!(
                "query {} value {} is {}; only finite values can be queried",
                at / dim,
                at % dim,
                queries[at]
            )));
        }
        if n_queries == 0 || n == 0 {
            counts.fill(0);
            return Ok(());
        }
        // Contiguous blocks of queries per thread; each writes only its own rows.
        let per_thread = n_queries.div_ceil(threads.min(n_queries));
        let mut dist_blocks: Vec<Option<&mut [f32]>> = match distances.as_mut() {
            Some(d) => d.chunks_mut(per_thread * n).map(Some).collect(),
            None => (0..n_queries.div_ceil(per_thread)).map(|_| None).collect(),
        };
        let blocks = queries
            .chunks(per_thread * dim)
            .zip(ids.chunks_mut(per_thread * n))
            .zip(counts.chunks_mut(per_thread))
            .zip(dist_blocks.iter_mut());
        std::thread::scope(|scope| {
            let workers: Vec<_> = blocks
                .map(|(((qs, ids), counts), dists)| {
                    scope.spawn(move || self.search_block(qs, n, search_k, ids, dists, counts))
                })
                .collect();
            workers
                .into_iter()
                .try_for_each(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
        })
    }

    fn search_block(
        &self,
        queries: &[f32],
        n: usize,
        search_k: Option<usize>,
        ids: &mut [u64],
        distances: &mut Option<&mut [f32]>,
        counts: &mut [usize],
    ) -> Result<()> {
        let mut results = Vec::with_capacity(n);
        for (q, query) in queries.chunks(self.layout.dim).enumerate() {
            results.clear();
            self.search_vector_into(query, n, search_k, &mut results)?;
            let row = q * n..(q + 1) * n;
            for (slot, r) in ids[row.clone()].iter_mut().zip(
                results
                    .iter()
                    .map(|r| r.id)
                    .chain(std::iter::repeat(u64::MAX)),
            ) {
                *slot = r;
            }
            if let Some(d) = distances.as_deref_mut() {
                let values = results
                    .iter()
                    .map(|r| r.distance)
                    .chain(std::iter::repeat(f32::NAN));
                for (slot, v) in d[row].iter_mut().zip(values) {
                    *slot = v;
                }
            }
            counts[q] = results.len();
        }
        Ok(())
    }

    /// Hamming only: the `n` nearest items to packed `words`.
    pub fn get_nns_by_bits(
        &self,
        words: &[u64],
        n: usize,
        search_k: Option<usize>,
    ) -> Result<Vec<Neighbor>> {
        let mut out = Vec::with_capacity(n.min(self.n_items));
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
        self.check_built()?;
        self.check_bits(words)?;
        self.forest().search(&Query::Bits(words), n, search_k, out)
    }

    /// The `n` nearest items to item `id`. The item itself comes first, at distance 0, under
    /// every metric but dot, where items with larger inner products outrank it.
    pub fn get_nns_by_item(
        &self,
        id: u64,
        n: usize,
        search_k: Option<usize>,
    ) -> Result<Vec<Neighbor>> {
        let mut out = Vec::with_capacity(n.min(self.n_items));
        self.search_item_into(id, n, search_k, &mut out)?;
        Ok(out)
    }

    /// As [`Index::get_nns_by_item`], appending to `out`.
    pub fn search_item_into(
        &self,
        id: u64,
        n: usize,
        search_k: Option<usize>,
        out: &mut Vec<Neighbor>,
    ) -> Result<()> {
        self.check_built()?;
        let node = self.item_node(id)?;
        let query = match self.layout.metric {
            Metric::Hamming => Query::Bits(self.layout.words_u64(node)),
            _ => Query::floats(self.layout.metric, self.layout.vector(node)),
        };
        self.forest().search(&query, n, search_k, out)
    }

    /// The stored vector of item `id` (for hamming, `dim` values of 0.0 or 1.0).
    pub fn get_item_vector(&self, id: u64) -> Result<Vec<f32>> {
        let mut out = vec![0.0; self.layout.dim];
        self.item_vector_into(id, &mut out)?;
        Ok(out)
    }

    /// Writes item `id`'s vector into `out`, which holds exactly `dim` values.
    pub fn item_vector_into(&self, id: u64, out: &mut [f32]) -> Result<()> {
        if out.len() != self.layout.dim {
            return Err(Error::invalid_argument(format!(
                "index has dim {}, output has room for {} values",
                self.layout.dim,
                out.len()
            )));
        }
        let node = self.item_node(id)?;
        match self.layout.metric {
            Metric::Hamming => unpack_bits(self.layout.words_u64(node), out),
            _ => out.copy_from_slice(self.layout.vector(node)),
        }
        Ok(())
    }

    /// Hamming only: item `id`'s packed words.
    pub fn get_item_bits(&self, id: u64) -> Result<Vec<u64>> {
        if self.layout.metric != Metric::Hamming {
            return Err(Error::invalid_argument(
                "packed bits exist only for the hamming metric",
            ));
        }
        Ok(self.layout.words_u64(self.item_node(id)?).to_vec())
    }

    /// Distance between items `i` and `j`, as a query would report it.
    pub fn get_distance(&self, i: u64, j: u64) -> Result<f32> {
        let (a, b) = (self.item_node(i)?, self.item_node(j)?);
        let layout = &self.layout;
        let k = crate::kernels::kernels();
        // Annoy uses item i's stored norm here (where a by-item query recomputes it).
        let query = match layout.metric {
            Metric::Hamming => Query::Bits(layout.words_u64(a)),
            Metric::Angular => Query::Floats {
                v: layout.vector(a),
                norm_sq: search::item_norm_sq(layout, k, a),
            },
            metric => Query::floats(metric, layout.vector(a)),
        };
        let score = search::score(layout, k, &query, b);
        Ok(search::user_distance(layout.metric, score))
    }

    /// The node of item `id`, or an error for ids out of range and holes.
    pub(super) fn item_node(&self, id: u64) -> Result<&[u8]> {
        if id >= self.n_items as u64 {
            return Err(Error::invalid_argument(format!(
                "item {id} does not exist: the index has ids 0..{}",
                self.n_items
            )));
        }
        let node = self.forest().nodes.get(id as usize);
        if self.layout.n_descendants(node) != 1 {
            return Err(Error::invalid_argument(format!(
                "item {id} does not exist: that id was never added"
            )));
        }
        Ok(node)
    }

    pub(super) fn forest(&self) -> Forest<'_> {
        Forest {
            nodes: Nodes {
                layout: &self.layout,
                bytes: self.storage.bytes(),
            },
            n_items: self.n_items,
            n_trees: self.n_trees,
            codes: self.codes(),
        }
    }

    pub(super) fn check_vector(&self, vector: &[f32]) -> Result<()> {
        if vector.len() != self.layout.dim {
            return Err(Error::invalid_argument(format!(
                "index has dim {}, vector has {} values",
                self.layout.dim,
                vector.len()
            )));
        }
        if let Some(at) = vector.iter().position(|x| !x.is_finite()) {
            return Err(Error::invalid_argument(format!(
                "vector value {at} is {}; only finite values can be indexed or queried",
                vector[at]
            )));
        }
        Ok(())
    }

    pub(super) fn check_bits(&self, words: &[u64]) -> Result<()> {
        let layout = &self.layout;
        if layout.metric != Metric::Hamming {
            return Err(Error::invalid_argument(
                "packed bits are accepted only by the hamming metric",
            ));
        }
        if words.len() != layout.words {
            return Err(Error::invalid_argument(format!(
                "index has {} bits in {} words, got {} words",
                layout.dim,
                layout.words,
                words.len()
            )));
        }
        let used = layout.dim % 64;
        if used != 0 && words[layout.words - 1] >> used != 0 {
            return Err(Error::invalid_argument(format!(
                "bits beyond the index's {} bits are set in the last word",
                layout.dim
            )));
        }
        Ok(())
    }
}

/// Packs `dim` floats into words, LSB first: value `j` > 0.5 sets bit `j % 64` of word `j / 64`.
pub(super) fn pack_bits(values: &[f32], words: &mut [u64]) {
    words.fill(0);
    for (j, &x) in values.iter().enumerate() {
        if x > 0.5 {
            words[j / 64] |= 1 << (j % 64);
        }
    }
}

fn unpack_bits(words: &[u64], out: &mut [f32]) {
    for (j, x) in out.iter_mut().enumerate() {
        *x = ((words[j / 64] >> (j % 64)) & 1) as f32;
    }
}
