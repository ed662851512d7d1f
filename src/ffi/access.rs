//! Reading items and properties of an index.

use super::args::{ann_index, index_ref, out_slot, slice_mut};
use super::status::{ann_metric, ann_status, run, Failure, ANN_STATUS_BUFFER_TOO_SMALL};
use crate::metric::Metric;

/// Copies item `id`'s vector (`dim` floats; 0.0/1.0 for hamming) into `out_vector`.
///
/// Errors: `ANN_STATUS_NULL_POINTER` (index, out_vector); `ANN_STATUS_INVALID_ARGUMENT` if
/// `id` was never added.
#[no_mangle]
pub extern "C" fn ann_get_item_vector(
    index: *const ann_index,
    id: u64,
    out_vector: *mut f32,
) -> ann_status {
    run("ann_get_item_vector", || {
        let index = index_ref(index)?;
        let dest = slice_mut(out_vector, index.dim(), "out_vector")?;
        Ok(index.item_vector_into(id, dest)?)
    })
}

/// Hamming only: copies item `id`'s packed words into `out_words`, which has room for
/// `n_words` words, and stores the number written in `*out_count`.
///
/// Errors: `ANN_STATUS_NULL_POINTER`; `ANN_STATUS_INVALID_ARGUMENT` for another metric or an
/// id never added; `ANN_STATUS_BUFFER_TOO_SMALL` if `n_words < ceil(dim / 64)`, the number
/// of words needed.
#[no_mangle]
pub extern "C" fn ann_get_item_packed(
    index: *const ann_index,
    id: u64,
    out_words: *mut u64,
    n_words: usize,
    out_count: *mut usize,
) -> ann_status {
    run("ann_get_item_packed", || {
        let index = index_ref(index)?;
        let count = out_slot(out_count, "out_count")?;
        let words = index.get_item_bits(id)?;
        if n_words < words.len() {
            return Err(Failure::new(
                ANN_STATUS_BUFFER_TOO_SMALL,
                format!(
                    "item {id} has {} words (ceil(dim / 64)), the buffer holds {n_words}",
                    words.len()
                ),
            ));
        }
        slice_mut(out_words, n_words, "out_words")?[..words.len()].copy_from_slice(&words);
        *count = words.len();
        Ok(())
    })
}

/// Stores in `*out_distance` the distance between items `i` and `j`, as a query would report it.
///
/// Errors: `ANN_STATUS_NULL_POINTER`; `ANN_STATUS_INVALID_ARGUMENT` if either id was never
/// added.
#[no_mangle]
pub extern "C" fn ann_get_distance(
    index: *const ann_index,
    i: u64,
    j: u64,
    out_distance: *mut f32,
) -> ann_status {
    run("ann_get_distance", || {
        let index = index_ref(index)?;
        let slot = out_slot(out_distance, "out_distance")?;
        *slot = index.get_distance(i, j)?;
        Ok(())
    })
}

/// Stores in `*out` the largest key added plus 1 (0 when empty): Annoy's `n_items` for keys
/// added densely from 0, keys never added included. `ann_get_n_stored` counts the items.
///
/// Errors: `ANN_STATUS_NULL_POINTER`.
#[no_mangle]
pub extern "C" fn ann_get_n_items(index: *const ann_index, out: *mut u64) -> ann_status {
    run("ann_get_n_items", || {
        let index = index_ref(index)?;
        *out_slot(out, "out")? = index.n_items();
        Ok(())
    })
}

/// Stores in `*out` the number of items stored (each key counted once).
///
/// Errors: `ANN_STATUS_NULL_POINTER`.
#[no_mangle]
pub extern "C" fn ann_get_n_stored(index: *const ann_index, out: *mut u64) -> ann_status {
    run("ann_get_n_stored", || {
        let index = index_ref(index)?;
        *out_slot(out, "out")? = index.n_stored();
        Ok(())
    })
}

/// Stores in `*out` the number of trees (0 before the index is built).
///
/// Errors: `ANN_STATUS_NULL_POINTER`.
#[no_mangle]
pub extern "C" fn ann_get_n_trees(index: *const ann_index, out: *mut u32) -> ann_status {
    run("ann_get_n_trees", || {
        let index = index_ref(index)?;
        *out_slot(out, "out")? = index.n_trees() as u32;
        Ok(())
    })
}

/// Stores in `*out` whether the index has a graph (`ann_build_graph`, or a file saved with one).
///
/// Errors: `ANN_STATUS_NULL_POINTER`.
#[no_mangle]
pub extern "C" fn ann_has_graph(index: *const ann_index, out: *mut bool) -> ann_status {
    run("ann_has_graph", || {
        let index = index_ref(index)?;
        *out_slot(out, "out")? = index.has_graph();
        Ok(())
    })
}

/// Stores in `*out` the dimension: floats per vector, or bits for hamming.
///
/// Errors: `ANN_STATUS_NULL_POINTER`.
#[no_mangle]
pub extern "C" fn ann_get_dim(index: *const ann_index, out: *mut u32) -> ann_status {
    run("ann_get_dim", || {
        let index = index_ref(index)?;
        *out_slot(out, "out")? = index.dim() as u32;
        Ok(())
    })
}

/// Stores in `*out` the metric, an `ANN_METRIC_*` value.
///
/// Errors: `ANN_STATUS_NULL_POINTER`.
#[no_mangle]
pub extern "C" fn ann_get_metric(index: *const ann_index, out: *mut ann_metric) -> ann_status {
    run("ann_get_metric", || {
        let index = index_ref(index)?;
        *out_slot(out, "out")? = index.metric().code();
        Ok(())
    })
}

/// Stores in `*out` the seed: the one the next build uses, or, for a loaded index, the one it
/// was built with.
///
/// Errors: `ANN_STATUS_NULL_POINTER`.
#[no_mangle]
pub extern "C" fn ann_get_seed(index: *const ann_index, out: *mut u64) -> ann_status {
    run("ann_get_seed", || {
        let index = index_ref(index)?;
        *out_slot(out, "out")? = index.seed();
        Ok(())
    })
}

/// Stores in `*out` the metric named `name`: "angular" (or "cosine"), "euclidean",
/// "manhattan", "dot" or "hamming".
///
/// Errors: `ANN_STATUS_NULL_POINTER`; `ANN_STATUS_INVALID_ARGUMENT` for an unknown name.
#[no_mangle]
pub extern "C" fn ann_metric_from_name(
    name: *const std::ffi::c_char,
    out: *mut ann_metric,
) -> ann_status {
    run("ann_metric_from_name", || {
        let slot = out_slot(out, "out")?;
        let metric: Metric = super::args::string(name, "name")?.parse()?;
        *slot = metric.code();
        Ok(())
    })
}
