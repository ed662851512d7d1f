//! Live indexes through the C ABI: writer options, the writer, upserts and deletes, sync,
//! compaction, read handles, opening files or directories, refresh and export.

use super::args::{
    ann_index, boxed, free, handle_mut, handle_ref, index_ref, out_slot, path_arg, slice, Handle,
};
use super::status::{ann_metric, ann_status, metric_from_code, run, Failure};
use crate::graph::{DEFAULT_DEGREE, MAX_DEGREE};
use crate::index::Index;
use crate::live::{Durability, Writer, WriterOptions};
use std::ffi::c_char;
use std::sync::Arc;

/// `ann_writer_options_set_durability`: a write returns once it is in the log and the log is
/// synced (concurrent writes share one sync). Survives a process crash and a power loss.
pub const ANN_DURABILITY_SYNC: u32 = 0;
/// `ann_writer_options_set_durability`: a write returns once it is in the log; the log is
/// synced every `flush_ms` milliseconds. Survives a process crash; a power loss can lose the
/// writes of the last `flush_ms`.
pub const ANN_DURABILITY_TIMER: u32 = 1;

/// Options for `ann_writer_open`: made by `ann_writer_options_new`, released by
/// `ann_writer_options_free`.
#[allow(non_camel_case_types)]
pub struct ann_writer_options {
    options: WriterOptions,
}

/// The one writer of a live index directory: made by `ann_writer_open`, released by
/// `ann_writer_free`. Its functions may be called from several threads at once.
#[allow(non_camel_case_types)]
pub struct ann_writer {
    writer: Arc<Writer>,
}

impl Handle for ann_writer_options {
    const TAG: u64 = u64::from_be_bytes(*b"ANN_WOPT");
    const WHAT: &'static str = "ann_writer_options_new";
}

impl Handle for ann_writer {
    const TAG: u64 = u64::from_be_bytes(*b"ANN_WRTR");
    const WHAT: &'static str = "ann_writer_open";
}

fn options_mut<'a>(options: *mut ann_writer_options) -> Result<&'a mut WriterOptions, Failure> {
    Ok(&mut handle_mut(options, "options")?.options)
}

/// The writer behind a handle: its functions are internally synchronised, so shared use is
/// fine even through the `ann_writer *` the header gives them.
fn writer_ref<'a>(writer: *const ann_writer) -> Result<&'a Writer, Failure> {
    Ok(&handle_ref(writer, "writer")?.writer)
}

/// Creates writer options for vectors of `dim` values and `metric`, with the defaults:
/// `ANN_DURABILITY_SYNC`, a timer of 100 ms, 50 trees per compacted segment.
///
/// Errors: `ANN_STATUS_NULL_POINTER` (out); `ANN_STATUS_INVALID_ARGUMENT` (dim, metric).
#[no_mangle]
pub extern "C" fn ann_writer_options_new(
    dim: u32,
    metric: ann_metric,
    out: *mut *mut ann_writer_options,
) -> ann_status {
    run("ann_writer_options_new", || {
        let slot = out_slot(out, "out")?;
        let metric = metric_from_code(metric)?;
        Index::new(dim as usize, metric)?; // checks dim
        *slot = boxed(ann_writer_options {
            options: WriterOptions::new(dim as usize, metric),
        });
        Ok(())
    })
}

/// Releases writer options (NULL, or a handle already freed: no-op). Writers opened with them
/// are unaffected.
#[no_mangle]
pub extern "C" fn ann_writer_options_free(options: *mut ann_writer_options) {
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| free(options)));
}

/// Sets when a write counts as done: `ANN_DURABILITY_SYNC` or `ANN_DURABILITY_TIMER`.
///
/// Errors: `ANN_STATUS_NULL_POINTER`; `ANN_STATUS_INVALID_ARGUMENT` for another value.
#[no_mangle]
pub extern "C" fn ann_writer_options_set_durability(
    options: *mut ann_writer_options,
    durability: u32,
) -> ann_status {
    run("ann_writer_options_set_durability", || {
        let options = options_mut(options)?;
        options.durability = match durability {
            ANN_DURABILITY_SYNC => Durability::Sync,
            ANN_DURABILITY_TIMER => Durability::Timer,
            d => {
                return Err(Failure::invalid(format!(
                    "unknown durability {d}: use ANN_DURABILITY_SYNC or ANN_DURABILITY_TIMER"
                )))
            }
        };
        Ok(())
    })
}

/// Timer durability: milliseconds between log syncs (1 to 60000).
///
/// Errors: `ANN_STATUS_NULL_POINTER`; `ANN_STATUS_INVALID_ARGUMENT` out of range.
#[no_mangle]
pub extern "C" fn ann_writer_options_set_flush_ms(
    options: *mut ann_writer_options,
    flush_ms: u32,
) -> ann_status {
    run("ann_writer_options_set_flush_ms", || {
        let options = options_mut(options)?;
        if !(1..=60_000).contains(&flush_ms) {
            return Err(Failure::invalid(format!(
                "flush_ms must be between 1 and 60000, got {flush_ms}"
            )));
        }
        options.flush_ms = flush_ms;
        Ok(())
    })
}

/// Trees of the segments compaction builds (at least 1; -1: Annoy's automatic count).
///
/// Errors: `ANN_STATUS_NULL_POINTER`; `ANN_STATUS_INVALID_ARGUMENT` for 0 or below -1.
#[no_mangle]
pub extern "C" fn ann_writer_options_set_n_trees(
    options: *mut ann_writer_options,
    n_trees: i32,
) -> ann_status {
    run("ann_writer_options_set_n_trees", || {
        let options = options_mut(options)?;
        if n_trees == 0 || n_trees < -1 {
            return Err(Failure::invalid(format!(
                "n_trees must be -1 or at least 1, got {n_trees}"
            )));
        }
        options.n_trees = n_trees;
        Ok(())
    })
}

/// Whether compaction (and `ann_export` of the live index) builds a graph into each new
/// segment, as `ann_build_graph` would, so queries on compacted items walk the graph:
/// `enabled` false (the default) builds none; `degree` is the most neighbours per item (0:
/// the default, 32; at most 256). Compaction takes longer by the graph's build time.
///
/// Errors: `ANN_STATUS_NULL_POINTER`; `ANN_STATUS_INVALID_ARGUMENT` for a degree above 256.
#[no_mangle]
pub extern "C" fn ann_writer_options_set_graph(
    options: *mut ann_writer_options,
    enabled: bool,
    degree: u32,
) -> ann_status {
    run("ann_writer_options_set_graph", || {
        let options = options_mut(options)?;
        let degree = degree as usize;
        if degree > MAX_DEGREE {
            return Err(Failure::invalid(format!(
                "degree {degree} is above the largest, {MAX_DEGREE}; 0 picks the default ({DEFAULT_DEGREE})"
            )));
        }
        options.graph_degree = match (enabled, degree) {
            (false, _) => None,
            (true, 0) => Some(DEFAULT_DEGREE),
            (true, d) => Some(d),
        };
        Ok(())
    })
}

/// Opens the live index directory `dir` for writing, creating it (and its parents) when
/// missing. An existing directory must hold vectors of the options' dim and metric. Opening
/// replays the log: every acknowledged write is back, and a torn last record (a crash mid-
/// write) is cut. One writer per directory: a second one, in any process, gets
/// `ANN_STATUS_INVALID_STATE` until the first is freed.
///
/// Errors: `ANN_STATUS_NULL_POINTER`; `ANN_STATUS_INVALID_ARGUMENT` (dim or metric differ);
/// `ANN_STATUS_INVALID_STATE` (another writer); `ANN_STATUS_IO`; `ANN_STATUS_CORRUPT_FILE` (a
/// damaged manifest, segment or log).
#[no_mangle]
pub extern "C" fn ann_writer_open(
    dir: *const c_char,
    options: *const ann_writer_options,
    out: *mut *mut ann_writer,
) -> ann_status {
    run("ann_writer_open", || {
        let slot = out_slot(out, "out")?;
        let dir = path_arg(dir, "dir")?;
        let options = &handle_ref(options, "options")?.options;
        let writer = Writer::open(dir, options)?;
        *slot = boxed(ann_writer { writer });
        Ok(())
    })
}

/// Syncs the log, releases the directory's lock and frees the writer (NULL, or a writer
/// already freed: no-op). Read handles from `ann_writer_index` stay usable (and stop
/// changing).
#[no_mangle]
pub extern "C" fn ann_writer_free(writer: *mut ann_writer) {
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| free(writer)));
}

/// Adds or replaces the item `key` (any value but `UINT64_MAX`) with `dim` floats from
/// `vector`. Returns once the write is logged (and, with `ANN_DURABILITY_SYNC`, synced); it is
/// visible to the writer's read handles at once, and to readers after `ann_refresh`.
///
/// Errors: `ANN_STATUS_NULL_POINTER`; `ANN_STATUS_INVALID_ARGUMENT` (the reserved key, NaN or
/// infinite values); `ANN_STATUS_IO` (the log could not be written or synced: nothing changed).
#[no_mangle]
pub extern "C" fn ann_upsert(writer: *mut ann_writer, key: u64, vector: *const f32) -> ann_status {
    run("ann_upsert", || {
        let writer = writer_ref(writer)?;
        let dim = writer.dim();
        Ok(writer.upsert(key, slice(vector, dim, "vector")?)?)
    })
}

/// As `ann_upsert` for `n` keys and `n * dim` floats (row `i` for `keys[i]`), logged as one
/// record: after a crash, all of them are there or none.
#[no_mangle]
pub extern "C" fn ann_upsert_batch(
    writer: *mut ann_writer,
    keys: *const u64,
    vectors: *const f32,
    n: usize,
) -> ann_status {
    run("ann_upsert_batch", || {
        let writer = writer_ref(writer)?;
        let dim = writer.dim();
        let total = n
            .checked_mul(dim)
            .ok_or_else(|| Failure::invalid("n * dim overflows"))?;
        Ok(writer.upsert_batch(slice(keys, n, "keys")?, slice(vectors, total, "vectors")?)?)
    })
}

/// Deletes the item `key`; `*out_existed` (which may be NULL) says whether it was there.
/// Deleting a key that is not there is not an error; the reserved key `UINT64_MAX` is
/// (`ANN_STATUS_INVALID_ARGUMENT`, as for `ann_upsert`). Durable as `ann_upsert`.
#[no_mangle]
pub extern "C" fn ann_delete(
    writer: *mut ann_writer,
    key: u64,
    out_existed: *mut bool,
) -> ann_status {
    run("ann_delete", || {
        let writer = writer_ref(writer)?;
        let existed = writer.delete(key)?;
        if !out_existed.is_null() {
            *out_slot(out_existed, "out_existed")? = existed;
        }
        Ok(())
    })
}

/// Deletes `n` keys as one record; `*out_deleted` (which may be NULL) receives how many were
/// there. A batch holding the reserved key `UINT64_MAX` is refused whole.
#[no_mangle]
pub extern "C" fn ann_delete_batch(
    writer: *mut ann_writer,
    keys: *const u64,
    n: usize,
    out_deleted: *mut usize,
) -> ann_status {
    run("ann_delete_batch", || {
        let writer = writer_ref(writer)?;
        let deleted = writer.delete_batch(slice(keys, n, "keys")?)?;
        if !out_deleted.is_null() {
            *out_slot(out_deleted, "out_deleted")? = deleted;
        }
        Ok(())
    })
}

/// Syncs the log now: every write made so far is on disk when it returns (useful with
/// `ANN_DURABILITY_TIMER`).
#[no_mangle]
pub extern "C" fn ann_sync(writer: *mut ann_writer) -> ann_status {
    run("ann_sync", || Ok(writer_ref(writer)?.sync()?))
}

/// Folds every live item into one new segment, built on `n_threads` threads (-1: all cores),
/// then switches the directory to it and removes the old files (readers that map them keep
/// them until they refresh). It runs on the calling thread: call it from a thread of your
/// choosing; writes and queries on other threads go on meanwhile. On failure (a full disk,
/// say) the directory keeps its current state, and the message says why.
#[no_mangle]
pub extern "C" fn ann_compact(writer: *mut ann_writer, n_threads: i32) -> ann_status {
    run(
        "ann_compact",
        || Ok(writer_ref(writer)?.compact(n_threads)?),
    )
}

/// A read-only index handle on the writer's live index that sees every write as soon as the
/// write call returns. Owned by the caller (`ann_free`); it may outlive the writer.
#[no_mangle]
pub extern "C" fn ann_writer_index(
    writer: *mut ann_writer,
    out: *mut *mut ann_index,
) -> ann_status {
    run("ann_writer_index", || {
        let slot = out_slot(out, "out")?;
        *slot = ann_index::boxed(writer_ref(writer)?.index());
        Ok(())
    })
}

/// Opens `path` read-only: an index file (as `ann_load`), or a live index directory, read
/// without a lock: it sees every write acknowledged before the open, and later ones after
/// `ann_refresh`.
///
/// Errors: as `ann_load`; `ANN_STATUS_IO` for a directory with no MANIFEST.
#[no_mangle]
pub extern "C" fn ann_open(
    path: *const c_char,
    prefault: bool,
    out: *mut *mut ann_index,
) -> ann_status {
    run("ann_open", || {
        let slot = out_slot(out, "out")?;
        *slot = ann_index::boxed(Index::open(path_arg(path, "path")?, prefault)?);
        Ok(())
    })
}

/// Brings a reader of a live directory up to date: the writes logged since, or the new
/// generation after a compaction. `*out_changed` (which may be NULL) says whether anything
/// changed. Queries running on other threads finish on the state they started with. For
/// other indexes (files, writer handles, shards) it changes nothing.
#[no_mangle]
pub extern "C" fn ann_refresh(index: *mut ann_index, out_changed: *mut bool) -> ann_status {
    run("ann_refresh", || {
        let changed = index_ref(index)?.refresh()?;
        if !out_changed.is_null() {
            *out_slot(out_changed, "out_changed")? = changed;
        }
        Ok(())
    })
}

/// Writes every item of `index` into one new immutable index file at `path`, atomically: the
/// live items of a live index (compacted: a fresh build with its settings, with a graph when
/// `ann_writer_options_set_graph` asked for one), every shard's items (with a graph when a
/// shard has one), or a plain index as it is (with its graph).
#[no_mangle]
pub extern "C" fn ann_export(index: *const ann_index, path: *const c_char) -> ann_status {
    run("ann_export", || {
        let index = index_ref(index)?;
        Ok(index.export(path_arg(path, "path")?, -1)?)
    })
}
