//! Header-less index files written by Annoy 1.17.3, and telling file kinds apart.
//!
//! An Annoy file is only the node body, so the caller must supply the dimension and metric.
//! Annoy finds the roots by a heuristic: the trailing run of nodes that record the same number
//! of descendants (roots record `n_items`), minus one when the last tree's own root directly
//! precedes the root copies. We apply the same heuristic, so an Annoy file gives the same roots,
//! `n_items` and results here as in Annoy. Then we check what Annoy does not: the size, and that
//! the roots' references stay inside the file. A wrong dimension or metric is caught when it
//! changes the node size, and most often otherwise.

use crate::error::{Error, ErrorKind, Result};
use crate::format::{Header, MAGIC};
use crate::node::{Layout, Nodes};
use crate::storage::MappedFile;
use std::path::Path;

/// Where the forest sits in a header-less body: the roots are the last `n_trees` nodes.
pub(crate) struct AnnoyForest {
    pub n_items: usize,
    pub n_trees: usize,
}

/// Finds the roots and item count of an Annoy body, as Annoy 1.17.3's `load` does.
pub(crate) fn find_forest(nodes: &Nodes) -> Result<AnnoyForest> {
    let layout = nodes.layout;
    let n = nodes.len();
    let bad = |detail: String| {
        Error::corrupt(format!(
            "not a valid Annoy {} index with dim {}: {detail}; check the dimension and metric the file was built with",
            layout.metric, layout.dim
        ))
    };
    if n == 0 {
        return Err(bad("the file holds no nodes".into()));
    }
    // Node ids are i32 (in Annoy too, and search starts from the roots' ids): roots past
    // i32::MAX would wrap around to other nodes. Native files have the same limit.
    if n > i32::MAX as usize {
        return Err(bad(format!(
            "it has {n} nodes, more than the {} that 32-bit node ids can address",
            i32::MAX
        )));
    }
    let last = layout.n_descendants(nodes.get(n - 1));
    let mut count = 1;
    while count < n && layout.n_descendants(nodes.get(n - 1 - count)) == last {
        count += 1;
    }
    // Annoy drops the last tree's own root when it directly precedes the copies.
    if count > 1 && layout.child(nodes.get(n - 1), 0) == layout.child(nodes.get(n - count), 0) {
        count -= 1;
    }
    if last < 1 {
        return Err(bad(format!(
            "it has no trees (its last node records {last} items)"
        )));
    }
    let n_items = last as usize;
    if n_items > n {
        return Err(bad(format!(
            "its roots record {n_items} items but it has {n} nodes"
        )));
    }
    for root in n - count..n {
        let node = nodes.get(root);
        if root < n_items || layout.n_descendants(node) as usize <= layout.k {
            continue;
        }
        for c in 0..2 {
            let child = layout.child(node, c);
            if child < 0 || child as usize >= n {
                return Err(bad(format!(
                    "root {root} points at node {child}, outside the file"
                )));
            }
        }
    }
    Ok(AnnoyForest {
        n_items,
        n_trees: count,
    })
}

/// Checks a header-less body's size against the node size of `layout`.
pub(crate) fn check_size(layout: &Layout, len: usize) -> Result<()> {
    if len == 0 {
        return Err(Error::new(
            ErrorKind::Truncated,
            "the file is empty (0 bytes)",
        ));
    }
    if !len.is_multiple_of(layout.node_size) {
        return Err(Error::new(
            ErrorKind::SizeMismatch,
            format!(
                "the file's {len} bytes are not a whole number of {}-byte nodes, the node size of a {} index with dim {}; check the dimension and metric the file was built with",
                layout.node_size, layout.metric, layout.dim
            ),
        ));
    }
    Ok(())
}

/// What a file appears to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FileKind {
    /// Neither: empty, or a size no Annoy file can have.
    Unknown,
    /// An index with this library's header; its fields are in [`FileInfo::header`].
    Native,
    /// No header, and a size that is a positive multiple of 4: probably a header-less Annoy
    /// file. Load it with [`crate::Index::load_annoy`], giving its dimension and metric.
    Annoy,
}

/// The result of [`file_info`].
#[derive(Debug, Clone)]
pub struct FileInfo {
    pub kind: FileKind,
    pub size: u64,
    /// The validated header of a native file.
    pub header: Option<Header>,
}

/// Tells what the file at `path` is without loading it. A native file's header is fully
/// validated: a damaged one is an error, not `Unknown`.
pub fn file_info(path: impl AsRef<Path>) -> Result<FileInfo> {
    let path = path.as_ref();
    let mapped = MappedFile::open(path, false)?;
    let bytes = mapped.file_bytes();
    let size = bytes.len() as u64;
    let prefix = bytes.len().min(MAGIC.len());
    if prefix > 0 && bytes[..prefix] == MAGIC[..prefix] {
        let header = Header::decode(bytes)
            .map_err(|e| Error::new(e.kind(), format!("{}: {}", path.display(), e.message())))?;
        return Ok(FileInfo {
            kind: FileKind::Native,
            size,
            header: Some(header),
        });
    }
    let kind = if size > 0 && size.is_multiple_of(4) {
        FileKind::Annoy
    } else {
        FileKind::Unknown
    };
    Ok(FileInfo {
        kind,
        size,
        header: None,
    })
}
