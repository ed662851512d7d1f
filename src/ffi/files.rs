//! Telling what a file is before loading it.

use super::args::{out_slot, path_arg};
use super::status::{ann_metric, ann_status, run};
use crate::annoy_file::{file_info, FileKind};
use std::ffi::c_char;

/// `ann_file_summary.kind`: empty, or a size no index can have.
pub const ANN_FILE_UNKNOWN: u32 = 0;
/// `ann_file_summary.kind`: a file with this library's header; every field is filled.
pub const ANN_FILE_NATIVE: u32 = 1;
/// `ann_file_summary.kind`: no header, and a size that is a positive multiple of 4. Probably a
/// header-less Annoy file: load it with `ann_load_annoy` and its dimension and metric.
pub const ANN_FILE_ANNOY: u32 = 2;

/// What `ann_file_info` found. For kinds other than `ANN_FILE_NATIVE`, only `kind` and
/// `file_size` are meaningful; the other fields are 0.
#[repr(C)]
#[allow(non_camel_case_types)]
pub struct ann_file_summary {
    /// `ANN_FILE_UNKNOWN`, `ANN_FILE_NATIVE` or `ANN_FILE_ANNOY`.
    pub kind: u32,
    pub format_version: u32,
    pub metric: ann_metric,
    /// Floats per vector, or bits for hamming.
    pub dim: u32,
    pub node_size: u32,
    pub n_trees: u32,
    /// The header's item slots: the largest key + 1 for a file in Annoy's layout; the number
    /// of items for a file with a keys section (sparse keys). `ann_get_n_items` on the loaded
    /// index gives the largest key + 1 in both cases.
    pub n_items: u64,
    pub n_nodes: u64,
    /// The seed the index was built with.
    pub seed: u64,
    pub file_size: u64,
}

/// Tells what the file at `path` is without loading it, into `*out`. A native file's header
/// is validated in full.
///
/// Errors: `ANN_STATUS_NULL_POINTER`; `ANN_STATUS_IO` (missing file); `ANN_STATUS_CORRUPT_FILE`
/// for a native file with a damaged header (the message says what is wrong).
#[no_mangle]
pub extern "C" fn ann_file_info(path: *const c_char, out: *mut ann_file_summary) -> ann_status {
    run("ann_file_info", || {
        let slot = out_slot(out, "out")?;
        let info = file_info(path_arg(path, "path")?)?;
        let kind = match info.kind {
            FileKind::Native => ANN_FILE_NATIVE,
            FileKind::Annoy => ANN_FILE_ANNOY,
            _ => ANN_FILE_UNKNOWN,
        };
        let h = info.header.as_ref();
        *slot = ann_file_summary {
            kind,
            format_version: h.map_or(0, |h| h.format_version),
            metric: h.map_or(0, |h| h.metric.code()),
            dim: h.map_or(0, |h| h.dim),
            node_size: h.map_or(0, |h| h.node_size),
            n_trees: h.map_or(0, |h| h.n_trees),
            n_items: h.map_or(0, |h| h.n_items),
            n_nodes: h.map_or(0, |h| h.n_nodes),
            seed: h.map_or(0, |h| h.seed),
            file_size: info.size,
        };
        Ok(())
    })
}
