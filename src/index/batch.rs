//! Batch queries: many query vectors searched on several threads, into caller buffers.

use super::query::{annoy_request, options_request, QueryArg};
use super::Index;
use crate::error::{Error, Result};
use crate::filter::SearchOptions;
use crate::search::Request;

impl Index {
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
        distances: Option<&mut [f32]>,
        counts: &mut [usize],
    ) -> Result<()> {
        let request = annoy_request(n, search_k);
        self.batch(queries, &request, n_threads, ids, distances, counts)
    }

    /// As [`Index::search_batch`], each query searched as [`Index::search`] does with `options`:
    /// exactly `min(n, accepted items)` results per query.
    #[allow(clippy::too_many_arguments)]
    pub fn search_batch_with(
        &self,
        queries: &[f32],
        n: usize,
        options: &SearchOptions,
        n_threads: i32,
        ids: &mut [u64],
        distances: Option<&mut [f32]>,
        counts: &mut [usize],
    ) -> Result<()> {
        let request = options_request(n, options);
        self.batch(queries, &request, n_threads, ids, distances, counts)
    }

    fn batch(
        &self,
        queries: &[f32],
        request: &Request,
        n_threads: i32,
        ids: &mut [u64],
        mut distances: Option<&mut [f32]>,
        counts: &mut [usize],
    ) -> Result<()> {
        let n = request.n;
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
        // Always on threads of our own, even for one block: a predicate is then never called
        // on the caller's thread during a batch, which bindings rely on (Python keeps one
        // interpreter thread state per worker thread, and the caller's thread has its own).
        std::thread::scope(|scope| {
            let workers: Vec<_> = blocks
                .map(|(((qs, ids), counts), dists)| {
                    scope.spawn(move || self.search_block(qs, request, ids, dists, counts))
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
        request: &Request,
        ids: &mut [u64],
        distances: &mut Option<&mut [f32]>,
        counts: &mut [usize],
    ) -> Result<()> {
        let n = request.n;
        let mut results = Vec::with_capacity(n);
        for (q, query) in queries.chunks(self.layout.dim).enumerate() {
            results.clear();
            self.query_into(QueryArg::Vector(query), request, &mut results)?;
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
}
