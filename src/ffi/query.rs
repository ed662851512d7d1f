//! Nearest-neighbour queries.

use super::args::{ann_index, index_ref, out_slot, slice, slice_mut};
use super::options::{ann_search_options, options_ref};
use super::status::{ann_status, run, Failure};
use crate::distance::Neighbor;
use crate::filter::SearchOptions;
use std::cell::RefCell;

thread_local! {
    /// Results are gathered here before being copied out, so queries allocate nothing.
    static RESULTS: RefCell<Vec<Neighbor>> = const { RefCell::new(Vec::new()) };
}

/// `-1` means the default (`n * n_trees`); other negative values are errors.
pub(crate) fn parse_search_k(value: i64) -> Result<Option<usize>, Failure> {
    match value {
        -1 => Ok(None),
        v if v >= 0 => Ok(Some(usize::try_from(v).unwrap_or(usize::MAX))),
        v => Err(Failure::invalid(format!(
            "search_k must be -1 (default) or at least 0, got {v}"
        ))),
    }
}

/// Runs `search` into the thread's result buffer and copies the results out. All output
/// pointers are checked before searching; nothing is written on failure.
fn collect_results(
    n: usize,
    out_ids: *mut u64,
    out_distances: *mut f32,
    out_count: *mut usize,
    search: impl FnOnce(&mut Vec<Neighbor>) -> crate::Result<()>,
) -> Result<(), Failure> {
    let ids = slice_mut(out_ids, n, "out_ids")?;
    let distances = if out_distances.is_null() {
        None
    } else {
        Some(slice_mut(out_distances, n, "out_distances")?)
    };
    let count = out_slot(out_count, "out_count")?;
    let run_search = |results: &mut Vec<Neighbor>| -> Result<(), Failure> {
        results.clear();
        search(results)?;
        for (slot, r) in ids.iter_mut().zip(results.iter()) {
            *slot = r.id;
        }
        if let Some(distances) = distances {
            for (slot, r) in distances.iter_mut().zip(results.iter()) {
                *slot = r.distance;
            }
        }
        *count = results.len();
        Ok(())
    };
    RESULTS.with(|cell| match cell.try_borrow_mut() {
        Ok(mut results) => run_search(&mut results),
        Err(_) => run_search(&mut Vec::new()),
    })
}

/// Finds the `n` items nearest to `query` (`dim` floats; 0/1 values for hamming), nearest first.
///
/// `search_k` is the number of candidates to collect: larger gives better recall and slower
/// queries, and -1 means `n * n_trees`. `out_ids` receives up to `n` ids. `out_distances`
/// (which may be NULL) receives the matching distances. For dot, that is the inner product,
/// largest first. `*out_count` receives the number written, fewer than `n` when the index has
/// fewer items. Safe to call from any number of threads at once on one index.
///
/// Errors: `ANN_STATUS_NULL_POINTER` (index, query, out_ids when n > 0, out_count);
/// `ANN_STATUS_INVALID_ARGUMENT` (NaN in the query, search_k below -1);
/// `ANN_STATUS_INVALID_STATE` if not built; `ANN_STATUS_CORRUPT_FILE` if a damaged file is
/// detected during the search.
#[no_mangle]
pub extern "C" fn ann_get_nns(
    index: *const ann_index,
    query: *const f32,
    n: usize,
    search_k: i64,
    out_ids: *mut u64,
    out_distances: *mut f32,
    out_count: *mut usize,
) -> ann_status {
    run("ann_get_nns", || {
        let index = index_ref(index)?;
        let vector = slice(query, index.dim(), "query")?;
        let k = parse_search_k(search_k)?;
        collect_results(n, out_ids, out_distances, out_count, |r| {
            index.search_vector_into(vector, n, k, r)
        })
    })
}

/// Finds the `n` items nearest to item `id`, nearest first. Outputs and `search_k` work as in
/// `ann_get_nns`. The item itself comes first, at distance 0, for every metric but dot.
///
/// Errors: as `ann_get_nns`, plus `ANN_STATUS_INVALID_ARGUMENT` if `id` was never added.
#[no_mangle]
pub extern "C" fn ann_get_nns_by_item(
    index: *const ann_index,
    id: u64,
    n: usize,
    search_k: i64,
    out_ids: *mut u64,
    out_distances: *mut f32,
    out_count: *mut usize,
) -> ann_status {
    run("ann_get_nns_by_item", || {
        let index = index_ref(index)?;
        let k = parse_search_k(search_k)?;
        collect_results(n, out_ids, out_distances, out_count, |r| {
            index.search_item_into(id, n, k, r)
        })
    })
}

/// Hamming only: as `ann_get_nns`, for a query of `n_words` packed 64-bit words (see
/// `ann_add_item_packed`).
///
/// Errors: as `ann_get_nns`, plus `ANN_STATUS_INVALID_ARGUMENT` for another metric or a
/// wrong `n_words`.
#[no_mangle]
pub extern "C" fn ann_get_nns_packed(
    index: *const ann_index,
    query_words: *const u64,
    n_words: usize,
    n: usize,
    search_k: i64,
    out_ids: *mut u64,
    out_distances: *mut f32,
    out_count: *mut usize,
) -> ann_status {
    run("ann_get_nns_packed", || {
        let index = index_ref(index)?;
        let words = slice(query_words, n_words, "query_words")?;
        let k = parse_search_k(search_k)?;
        collect_results(n, out_ids, out_distances, out_count, |r| {
            index.search_bits_into(words, n, k, r)
        })
    })
}

/// Searches for the `n` items nearest to `query` (`dim` floats; 0/1 values for hamming) that
/// `options` accepts (NULL: defaults, no filter), nearest first. Unlike `ann_get_nns`, it
/// returns exactly min(n, number of stored items the filter accepts) results, every one
/// accepted: only accepted candidates count toward `search_k`, the walk goes on until it has
/// `n` of them, and a very selective filter ends in an exact scan of the accepted items (an
/// allow-list no longer than `search_k` is scored directly). Outputs as in `ann_get_nns`.
/// Safe to call from any number of threads at once, with shared options.
///
/// Errors: as `ann_get_nns`; `ANN_STATUS_INVALID_ARGUMENT` for options that are not live.
#[no_mangle]
pub extern "C" fn ann_search(
    index: *const ann_index,
    query: *const f32,
    n: usize,
    options: *const ann_search_options,
    out_ids: *mut u64,
    out_distances: *mut f32,
    out_count: *mut usize,
) -> ann_status {
    run("ann_search", || {
        let index = index_ref(index)?;
        let vector = slice(query, index.dim(), "query")?;
        let defaults = SearchOptions::new();
        let options = options_ref(options)?.unwrap_or(&defaults);
        collect_results(n, out_ids, out_distances, out_count, |r| {
            index.search_into(vector, n, options, r)
        })
    })
}

/// As `ann_search`, with item `key`'s vector as the query (the item itself is returned too,
/// if the filter accepts it).
///
/// Errors: as `ann_search`, plus `ANN_STATUS_INVALID_ARGUMENT` if `key` was never added.
#[no_mangle]
pub extern "C" fn ann_search_by_item(
    index: *const ann_index,
    key: u64,
    n: usize,
    options: *const ann_search_options,
    out_ids: *mut u64,
    out_distances: *mut f32,
    out_count: *mut usize,
) -> ann_status {
    run("ann_search_by_item", || {
        let index = index_ref(index)?;
        let defaults = SearchOptions::new();
        let options = options_ref(options)?.unwrap_or(&defaults);
        collect_results(n, out_ids, out_distances, out_count, |r| {
            let found = index.search_by_item(key, n, options)?;
            r.extend(found);
            Ok(())
        })
    })
}

/// Queries `n_queries` vectors at once (`queries` holds `n_queries * dim` floats, row after
/// row) on `n_threads` threads (-1: every core). Row `q` of `out_ids` and of `out_distances`
/// (which may be NULL) has `n` slots and receives query `q`'s neighbours, nearest first.
/// `out_counts[q]` receives how many. Unused slots get id `UINT64_MAX` and distance NaN.
///
/// Errors: as `ann_get_nns`, plus `ANN_STATUS_INVALID_ARGUMENT` for `n_threads` of 0 or below -1.
#[no_mangle]
pub extern "C" fn ann_get_nns_batch(
    index: *const ann_index,
    queries: *const f32,
    n_queries: usize,
    n: usize,
    search_k: i64,
    n_threads: i32,
    out_ids: *mut u64,
    out_distances: *mut f32,
    out_counts: *mut usize,
) -> ann_status {
    run("ann_get_nns_batch", || {
        let index = index_ref(index)?;
        let k = parse_search_k(search_k)?;
        let b = batch_buffers(
            index.dim(),
            queries,
            n_queries,
            n,
            out_ids,
            out_distances,
            out_counts,
        )?;
        Ok(index.search_batch(b.queries, n, k, n_threads, b.ids, b.distances, b.counts)?)
    })
}

/// As `ann_get_nns_batch`, each query searched as `ann_search` does with `options` (NULL:
/// defaults): `out_counts[q]` is min(n, accepted items) for every query.
///
/// Errors: as `ann_get_nns_batch` and `ann_search`.
#[no_mangle]
pub extern "C" fn ann_search_batch(
    index: *const ann_index,
    queries: *const f32,
    n_queries: usize,
    n: usize,
    options: *const ann_search_options,
    n_threads: i32,
    out_ids: *mut u64,
    out_distances: *mut f32,
    out_counts: *mut usize,
) -> ann_status {
    run("ann_search_batch", || {
        let index = index_ref(index)?;
        let defaults = SearchOptions::new();
        let options = options_ref(options)?.unwrap_or(&defaults);
        let b = batch_buffers(
            index.dim(),
            queries,
            n_queries,
            n,
            out_ids,
            out_distances,
            out_counts,
        )?;
        Ok(index.search_batch_with(
            b.queries,
            n,
            options,
            n_threads,
            b.ids,
            b.distances,
            b.counts,
        )?)
    })
}

/// The arguments of a batch query, checked: `n_queries` rows of `dim` floats in, and rows of
/// `n` ids (and distances, unless NULL) and one count per query out.
struct BatchBuffers<'a> {
    queries: &'a [f32],
    ids: &'a mut [u64],
    distances: Option<&'a mut [f32]>,
    counts: &'a mut [usize],
}

fn batch_buffers<'a>(
    dim: usize,
    queries: *const f32,
    n_queries: usize,
    n: usize,
    out_ids: *mut u64,
    out_distances: *mut f32,
    out_counts: *mut usize,
) -> Result<BatchBuffers<'a>, Failure> {
    let total = |per: usize, what: &str| {
        n_queries
            .checked_mul(per)
            .ok_or_else(|| Failure::invalid(format!("n_queries * {what} overflows")))
    };
    Ok(BatchBuffers {
        queries: slice(queries, total(dim, "dim")?, "queries")?,
        ids: slice_mut(out_ids, total(n, "n")?, "out_ids")?,
        distances: if out_distances.is_null() {
            None
        } else {
            Some(slice_mut(out_distances, total(n, "n")?, "out_distances")?)
        },
        counts: slice_mut(out_counts, n_queries, "out_counts")?,
    })
}
