//! # ann: approximate nearest neighbours in shared, memory-mapped index files
//!
//! A forest of random-projection trees (the algorithm of Spotify's Annoy), stored in a file
//! whose body is byte-compatible with Annoy 1.17.3 behind a self-describing, checksummed header.
//! Indexes are built in parallel and deterministically, then saved and memory-mapped read-only
//! so many processes share one copy; queries run concurrently from any number of threads.
//!
//! ```
//! use ann::{Index, Metric};
//!
//! let mut index = Index::new(3, Metric::Euclidean)?;
//! index.add_item(0, &[0.0, 0.0, 1.0])?;
//! index.add_item(1, &[0.0, 1.0, 0.0])?;
//! index.add_item(2, &[1.0, 0.0, 0.0])?;
//! index.build(10, -1)?;
//! let nearest = index.get_nns_by_vector(&[0.1, 0.0, 0.9], 2, None)?;
//! assert_eq!(nearest[0].id, 0);
//! # Ok::<(), ann::Error>(())
//! ```
//!
//! The modules follow the data: [`metric`] names the distances, `kernels` computes them,
//! `node` lays nodes out in bytes, `split` chooses hyperplanes, `build` grows the forest (on a
//! `pool` of its own), `search` walks it (with an `overlay` of items listed at its nodes), `graph` adds a proximity graph, `format` reads and
//! writes the file header, `storage` holds the bytes (heap, file under construction, or
//! read-only mapping), `live` keeps a directory of segments and a log, `ffi` is the C API, and
//! [`Index`] ties them together.

#[cfg(target_endian = "big")]
compile_error!(
    "ann's file format is little-endian and read in place; big-endian targets are not supported"
);

mod annoy_file;
mod build;
mod codes;
mod distance;
mod error;
pub mod ffi;
mod filter;
mod fork;
mod format;
mod graph;
mod index;
mod kernels;
mod keys;
mod live;
pub mod metric;
mod node;
mod overlay;
mod pool;
mod rank;
mod search;
mod split;
mod storage;
mod verify;

/// Compiles and runs the README's Rust examples as doctests, so the quickstart cannot rot.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

pub use annoy_file::{file_info, FileInfo, FileKind};
pub use distance::Neighbor;
pub use error::{Error, ErrorKind, Result};
pub use filter::SearchOptions;
pub use format::{Header, Section, MAX_SECTIONS, SECTION_REQUIRED};
pub use index::{Index, DEFAULT_SEED, MAX_ID};
pub use live::{Durability, Writer, WriterOptions};
pub use metric::Metric;
