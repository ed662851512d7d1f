//! Creating, filling, building, saving, loading and freeing indexes.

use super::args::{ann_index, index_mut, index_ref, out_slot, path_arg, slice};
use super::status::{ann_metric, ann_status, metric_from_code, run};
use crate::index::Index;
use std::ffi::c_char;

/// Creates an empty index for vectors of `dim` values (bits, for hamming).
///
/// On success `*out` receives a new handle, owned by the caller and released with `ann_free`.
/// Errors: `ANN_STATUS_NULL_POINTER` if `out` is NULL; `ANN_STATUS_INVALID_ARGUMENT` if `dim`
/// is 0 or above 2^24 or `metric` is not an `ANN_METRIC_*` value.
#[no_mangle]
pub extern "C" fn ann_new(dim: u32, metric: ann_metric, out: *mut *mut ann_index) -> ann_status {
    run("ann_new", || {
        let slot = out_slot(out, "out")?;
        let index = Index::new(dim as usize, metric_from_code(metric)?)?;
        *slot = ann_index::boxed(index);
        Ok(())
    })
}

/// Releases an index and everything it holds (memory, file mapping). NULL is a no-op, and so
/// is a handle that was already freed (or any pointer that is not a live index). The handle
/// must not be used afterwards: calls with it are `ANN_STATUS_INVALID_ARGUMENT`.
#[no_mangle]
pub extern "C" fn ann_free(index: *mut ann_index) {
    // A panic here cannot be reported; catching it keeps it from unwinding into C.
    let _ = std::panic::catch_unwind(|| ann_index::free(index));
}

/// Adds, or replaces, the item with key `id` (any 64-bit value but `UINT64_MAX`) with `dim`
/// floats read from `vector`. For hamming, values above 0.5 are 1-bits. Memory grows with the
/// number of items, not the largest key: keys up to 2^31 - 2 that fill at least half of
/// `0..max key` are kept in Annoy's layout (slot = key, keys never added are holes that queries
/// skip, and `ann_save_annoy` works); other keys are stored compactly with a keys section.
///
/// Errors: `ANN_STATUS_NULL_POINTER` (index, vector); `ANN_STATUS_INVALID_ARGUMENT` for the key
/// `UINT64_MAX` or a NaN or infinite value; `ANN_STATUS_INVALID_STATE` if the index is built
/// (call `ann_unbuild` first) or loaded; `ANN_STATUS_OUT_OF_MEMORY`.
#[no_mangle]
pub extern "C" fn ann_add_item(index: *mut ann_index, id: u64, vector: *const f32) -> ann_status {
    run("ann_add_item", || {
        let index = index_mut(index)?;
        let vector = slice(vector, index.dim(), "vector")?;
        Ok(index.add_item(id, vector)?)
    })
}

/// Hamming only: adds item `id` from `n_words` packed 64-bit words, where bit `j` of word `i`
/// is bit `64 * i + j`. `n_words` must be `ceil(dim / 64)`, and bits past `dim` must be 0.
///
/// Errors: as `ann_add_item`, plus `ANN_STATUS_INVALID_ARGUMENT` for another metric or a wrong
/// `n_words`.
#[no_mangle]
pub extern "C" fn ann_add_item_packed(
    index: *mut ann_index,
    id: u64,
    words: *const u64,
    n_words: usize,
) -> ann_status {
    run("ann_add_item_packed", || {
        let index = index_mut(index)?;
        let words = slice(words, n_words, "words")?;
        Ok(index.add_item_bits(id, words)?)
    })
}

/// Sets the seed of the next build. One seed always gives the same index, whatever the number
/// of threads. The default is fixed, so builds are repeatable without calling this.
///
/// Errors: `ANN_STATUS_NULL_POINTER` if `index` is NULL; `ANN_STATUS_INVALID_STATE` on a
/// loaded, sharded or live index, which keeps the seed it was built with.
#[no_mangle]
pub extern "C" fn ann_set_seed(index: *mut ann_index, seed: u64) -> ann_status {
    run("ann_set_seed", || Ok(index_mut(index)?.set_seed(seed)?))
}

/// Builds the forest of `n_trees` trees (-1: add trees until the index has twice as many
/// nodes as items) on `n_threads` threads (-1: every core). More trees: better recall, larger
/// file.
///
/// Errors: `ANN_STATUS_NULL_POINTER`; `ANN_STATUS_INVALID_ARGUMENT` for `n_trees` or
/// `n_threads` of 0 or below -1; `ANN_STATUS_INVALID_STATE` if already built (call
/// `ann_unbuild` first) or loaded; `ANN_STATUS_IO` while finishing an `ann_on_disk_build` file;
/// `ANN_STATUS_OUT_OF_MEMORY`.
#[no_mangle]
pub extern "C" fn ann_build(index: *mut ann_index, n_trees: i32, n_threads: i32) -> ann_status {
    run("ann_build", || {
        Ok(index_mut(index)?.build(n_trees, n_threads)?)
    })
}

/// Adds a proximity graph over the items of a built or loaded index (see the README's "Graph
/// search"); queries then walk it instead of the forest, and `ann_save` writes it into the
/// file, where `ann_load` maps it. `degree` is the most neighbours per item: 0 picks the
/// default (32), up to 256. `n_threads`: -1 uses every core; one seed gives the same graph
/// whatever the thread count. Replaces an earlier graph. `ann_save_annoy` still writes the
/// forest only.
///
/// Errors: `ANN_STATUS_NULL_POINTER`; `ANN_STATUS_INVALID_ARGUMENT` for a degree above 256 or
/// `n_threads` of 0 or below -1; `ANN_STATUS_INVALID_STATE` before `ann_build`, and for sharded
/// and live indexes (build it on each file, or on an exported one); `ANN_STATUS_OUT_OF_MEMORY`.
#[no_mangle]
pub extern "C" fn ann_build_graph(
    index: *mut ann_index,
    degree: u32,
    n_threads: i32,
) -> ann_status {
    run("ann_build_graph", || {
        Ok(index_mut(index)?.build_graph(degree as usize, n_threads)?)
    })
}

/// Drops the trees but keeps the items, so more items can be added and the index built again.
/// Does nothing on an index that is not built.
///
/// Errors: `ANN_STATUS_NULL_POINTER`; `ANN_STATUS_INVALID_STATE` for a loaded index.
#[no_mangle]
pub extern "C" fn ann_unbuild(index: *mut ann_index) -> ann_status {
    run("ann_unbuild", || Ok(index_mut(index)?.unbuild()?))
}

/// Releases the index's memory or file mapping and leaves it empty, with the same metric and
/// dimension, ready for new items. The handle stays valid. On a read handle of a live index
/// it detaches the handle, which then no longer follows the directory.
///
/// Errors: `ANN_STATUS_NULL_POINTER`.
#[no_mangle]
pub extern "C" fn ann_unload(index: *mut ann_index) -> ann_status {
    run("ann_unload", || {
        index_mut(index)?.unload();
        Ok(())
    })
}

/// Saves a built index to `path`. The write is atomic: a temporary file beside `path` is
/// written and synced, then renamed over `path`. Processes that mapped the old file keep
/// working, and a crash never leaves a half-written index.
///
/// Errors: `ANN_STATUS_NULL_POINTER` (index, path); `ANN_STATUS_INVALID_STATE` if not built;
/// `ANN_STATUS_IO`.
#[no_mangle]
pub extern "C" fn ann_save(index: *const ann_index, path: *const c_char) -> ann_status {
    run("ann_save", || {
        let index = index_ref(index)?;
        Ok(index.save(path_arg(path, "path")?)?)
    })
}

/// Memory-maps the index file at `path` read-only. Loading costs O(1) and checks the header.
/// `ann_verify` checks the whole file. `prefault` reads the whole file in now, rather than a
/// page at a time on first use. Processes that load one file share its pages.
///
/// On success `*out` receives a new handle, owned by the caller (`ann_free`).
/// Errors: `ANN_STATUS_NULL_POINTER` (path, out); `ANN_STATUS_IO` (missing file,
/// permissions); `ANN_STATUS_CORRUPT_FILE` (not an index, unknown version, truncated, size or
/// checksum mismatch).
#[no_mangle]
pub extern "C" fn ann_load(
    path: *const c_char,
    prefault: bool,
    out: *mut *mut ann_index,
) -> ann_status {
    run("ann_load", || {
        let slot = out_slot(out, "out")?;
        let index = Index::load(path_arg(path, "path")?, prefault)?;
        *slot = ann_index::boxed(index);
        Ok(())
    })
}

/// Maps the `n_paths` index files at `paths` (native files of one metric and dimension, no key
/// stored in two of them) as one read-only index. Every query form, filters and batches
/// included, searches every shard with the same `n` and `search_k`, and merges the results as
/// one index would order them (by distance, ties to the smaller key). Item calls find the
/// shard holding the key. `ann_get_n_items` is the largest key + 1 over all shards,
/// `ann_get_n_stored` and `ann_get_n_trees` their sums. Adding, building and saving are
/// `ANN_STATUS_INVALID_STATE`. Checking that keys do not repeat reads every shard's keys
/// (O(n) in the items, unlike `ann_load`). The paths are not kept after the call.
///
/// On success `*out` receives a new handle, owned by the caller (`ann_free`).
/// Errors: `ANN_STATUS_NULL_POINTER` (paths when n_paths > 0, any path, out);
/// `ANN_STATUS_INVALID_ARGUMENT` (no paths; shards that differ in metric or dimension; a key
/// in two shards); and as `ann_load` for each file.
#[no_mangle]
pub extern "C" fn ann_open_shards(
    paths: *const *const c_char,
    n_paths: usize,
    prefault: bool,
    out: *mut *mut ann_index,
) -> ann_status {
    run("ann_open_shards", || {
        let slot = out_slot(out, "out")?;
        let pointers = slice(paths, n_paths, "paths")?;
        let paths = pointers
            .iter()
            .enumerate()
            .map(|(i, &p)| path_arg(p, &format!("paths[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        let index = Index::open_shards(&paths, prefault)?;
        *slot = ann_index::boxed(index);
        Ok(())
    })
}

/// Builds straight into the file at `path`, which is created or truncated, instead of into
/// memory. Use it for indexes larger than RAM. Call it before `ann_build`. Items added before or
/// after the call go to the file. `ann_build` then finishes the file and maps it read-only.
/// Until then the file has no valid header, so no reader mistakes it for an index.
///
/// Errors: `ANN_STATUS_NULL_POINTER`; `ANN_STATUS_INVALID_STATE` if built, loaded or already
/// building on disk; `ANN_STATUS_IO`.
#[no_mangle]
pub extern "C" fn ann_on_disk_build(index: *mut ann_index, path: *const c_char) -> ann_status {
    run("ann_on_disk_build", || {
        let index = index_mut(index)?;
        Ok(index.on_disk_build(path_arg(path, "path")?)?)
    })
}

/// Checks a built or loaded index completely: the body checksum, then every tree's
/// structure. Reads the whole file.
///
/// Errors: `ANN_STATUS_NULL_POINTER`; `ANN_STATUS_INVALID_STATE` if not built;
/// `ANN_STATUS_CORRUPT_FILE` with the damage in the message.
#[no_mangle]
pub extern "C" fn ann_verify(index: *const ann_index) -> ann_status {
    run("ann_verify", || Ok(index_ref(index)?.verify()?))
}

/// Memory-maps a header-less index file written by Annoy 1.17.3, zero-copy. Annoy files do
/// not record their dimension and metric, so pass the ones the file was built with. Roots
/// and item count are found as Annoy finds them, and queries return Annoy's results.
///
/// On success `*out` receives a new handle, owned by the caller (`ann_free`).
/// Errors: `ANN_STATUS_NULL_POINTER`; `ANN_STATUS_INVALID_ARGUMENT` (dim, metric);
/// `ANN_STATUS_IO`; `ANN_STATUS_CORRUPT_FILE` for an empty file, a size that is not a whole
/// number of nodes for this dim and metric, or a file without trees.
#[no_mangle]
pub extern "C" fn ann_load_annoy(
    path: *const c_char,
    dim: u32,
    metric: ann_metric,
    prefault: bool,
    out: *mut *mut ann_index,
) -> ann_status {
    run("ann_load_annoy", || {
        let slot = out_slot(out, "out")?;
        let metric = metric_from_code(metric)?;
        let index = Index::load_annoy(path_arg(path, "path")?, dim as usize, metric, prefault)?;
        *slot = ann_index::boxed(index);
        Ok(())
    })
}

/// Saves a built index as the header-less body that Annoy 1.17.3 loads (atomically, like
/// `ann_save`). The dimension, metric and seed are not recorded in that form.
///
/// Errors: `ANN_STATUS_NULL_POINTER`; `ANN_STATUS_INVALID_STATE` if not built; `ANN_STATUS_IO`.
#[no_mangle]
pub extern "C" fn ann_save_annoy(index: *const ann_index, path: *const c_char) -> ann_status {
    run("ann_save_annoy", || {
        let index = index_ref(index)?;
        Ok(index.save_annoy(path_arg(path, "path")?)?)
    })
}
