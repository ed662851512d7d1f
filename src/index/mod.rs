//! The index users hold: add items, build, save, load, query.
//!
//! An index moves through these states, and every call checks that it fits:
//! * **adding**: items may be added (in memory, or into a file after `on_disk_build`);
//! * **built**: trees exist in memory; queries and `save` work; `unbuild` returns to adding;
//! * **mapped**: loaded from (or built into) a file, read-only and shared between processes;
//! * **sharded**: several mapped files searched as one (`open_shards`), read-only.
//!
//! Items are identified by 64-bit keys; `keyed.rs` maps them to node slots.

use crate::build::{build_forest, TreeCount};
use crate::error::{Error, Result};
use crate::format::Header;
use crate::keys::KeyMap;
use crate::metric::Metric;
use crate::node::Layout;
use crate::storage::{HeapNodes, Storage};
use std::ops::Range;
use std::path::Path;
use std::sync::OnceLock;

mod access;
mod batch;
mod files;
mod graph;
mod keyed;
mod live;
pub(crate) use live::Recipe;
mod query;
mod sections;
mod shards;

/// The seed used until `set_seed` is called (Annoy's default, so builds are repeatable).
pub const DEFAULT_SEED: u64 = 1_234_567_890_987_654_321;

/// The largest key Annoy's layout (slot = key) can hold; larger keys are stored compactly.
pub const MAX_ID: u64 = crate::keys::MAX_DIRECT_KEY;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Adding,
    Built,
    Mapped,
    Sharded,
    Live,
}

/// An approximate nearest-neighbour index: a forest of random-projection trees.
///
/// Queries take `&self` and may run from any number of threads at once; everything that
/// changes the index takes `&mut self`.
pub struct Index {
    layout: Layout,
    seed: u64,
    state: State,
    storage: Storage,
    /// Item slots: nodes `0..n_items` hold items (or holes). What users see as `n_items` is
    /// one more than the largest key (see `keyed.rs`).
    n_items: usize,
    n_trees: usize,
    /// The header read from, or written to, the file behind a mapped index.
    header: Option<Header>,
    codes: SectionBytes,
    /// The graph section, when `build_graph` made one or the file has one.
    graph: SectionBytes,
    keys: KeyMap,
    /// The number of items stored; counted on first use for a loaded direct-layout file.
    stored: OnceLock<usize>,
    /// The indexes searched as one by a sharded index (empty otherwise).
    shards: Vec<Index>,
    /// The state of a live index directory, for a live index.
    live: Option<Box<crate::live::Live>>,
}

/// Where an optional section of an index (codes, graph) lives, if it has one.
enum SectionBytes {
    None,
    /// Encoded by `build`, not yet in a file.
    Owned(HeapNodes),
    /// This byte range of the mapped file, checked when the file was loaded.
    Mapped(Range<usize>),
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index")
            .field("metric", &self.layout.metric)
            .field("dim", &self.layout.dim)
            .field("n_items", &self.n_items)
            .field("n_trees", &self.n_trees)
            .field("state", &self.state)
            .finish()
    }
}

impl Index {
    /// A new, empty index for vectors of `dim` values (bits, for hamming).
    pub fn new(dim: usize, metric: Metric) -> Result<Index> {
        Ok(Index {
            layout: Layout::new(metric, dim)?,
            seed: DEFAULT_SEED,
            state: State::Adding,
            storage: Storage::Heap(HeapNodes::default()),
            n_items: 0,
            n_trees: 0,
            header: None,
            codes: SectionBytes::None,
            graph: SectionBytes::None,
            keys: KeyMap::Direct,
            stored: OnceLock::from(0),
            shards: Vec::new(),
            live: None,
        })
    }

    pub fn dim(&self) -> usize {
        self.layout.dim
    }

    pub fn metric(&self) -> Metric {
        self.layout.metric
    }

    pub fn n_trees(&self) -> usize {
        match self.live() {
            Some(live) => self.live_trees(live),
            None => self.n_trees,
        }
    }

    /// The seed the next build uses (or, for a loaded index, the one it was built with).
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// True once queries are possible: built in memory, or mapped from a file.
    pub fn is_built(&self) -> bool {
        self.state != State::Adding
    }

    /// The header of the file behind a loaded or on-disk-built index.
    pub fn file_header(&self) -> Option<&Header> {
        self.header.as_ref()
    }

    /// The file behind the index: the one it was loaded from or is being built into.
    pub fn file_path(&self) -> Option<&Path> {
        match &self.storage {
            Storage::Heap(_) => None,
            Storage::Disk(d) => Some(d.path()),
            Storage::Mapped(m) => Some(m.path()),
        }
    }

    /// Sets the seed for the next build: one seed gives one index, whatever the thread count.
    /// A loaded, sharded or live index is never built again here, and keeps the seed it was
    /// built with: setting one is an `InvalidState` error.
    pub fn set_seed(&mut self, seed: u64) -> Result<()> {
        if matches!(self.state, State::Mapped | State::Sharded | State::Live) {
            return Err(Error::invalid_state(
                "a loaded, sharded or live index keeps the seed it was built with: set the seed before build, on an index you add items to",
            ));
        }
        self.seed = seed;
        Ok(())
    }

    /// Adds (or replaces) item `key` (any value but `u64::MAX`). `vector` has `dim` values; for
    /// hamming, values > 0.5 are 1.
    pub fn add_item(&mut self, key: u64, vector: &[f32]) -> Result<()> {
        self.check_vector(vector)?;
        let layout = self.layout;
        let node = self.new_item_node(key)?;
        layout.fill_item(node, vector);
        Ok(())
    }

    /// Hamming only: adds item `id` from packed words, bit `j` of word `i` being bit `64i + j`.
    pub fn add_item_bits(&mut self, id: u64, words: &[u64]) -> Result<()> {
        self.check_bits(words)?;
        let layout = self.layout;
        let node = self.new_item_node(id)?;
        let bytes = layout.bits_mut(node);
        for (chunk, w) in bytes.chunks_exact_mut(8).zip(words) {
            chunk.copy_from_slice(&w.to_le_bytes());
        }
        Ok(())
    }

    /// Checks state and key, makes room, and returns the zeroed node for item `key`.
    fn new_item_node(&mut self, key: u64) -> Result<&mut [u8]> {
        self.check_adding()?;
        let slot = self.slot_for_new_item(key)?;
        let s = self.layout.node_size;
        let nodes = self
            .storage
            .bytes_mut()
            .expect("adding needs writable nodes");
        Ok(&mut nodes[slot * s..(slot + 1) * s])
    }

    /// Builds the forest. `n_trees = -1` grows trees until the index has twice as many nodes
    /// as items (Annoy's rule); `n_threads = -1` uses every core.
    pub fn build(&mut self, n_trees: i32, n_threads: i32) -> Result<()> {
        match self.state {
            State::Adding => {}
            State::Built => {
                return Err(Error::invalid_state(
                    "the index is already built; call unbuild first to build it again",
                ))
            }
            State::Mapped | State::Sharded | State::Live => {
                return Err(Error::invalid_state(
                    "cannot build a loaded index: it is a read-only file mapping",
                ))
            }
        }
        let trees = match n_trees {
            -1 => TreeCount::Auto,
            t if t >= 1 => TreeCount::Fixed(t as usize),
            t => {
                return Err(Error::invalid_argument(format!(
                    "n_trees must be -1 (automatic) or at least 1, got {t}"
                )))
            }
        };
        let threads = thread_count(n_threads)?;
        if let Err(e) = self.lay_out_keys() {
            self.reopen_for_adding();
            return Err(e);
        }
        let built = build_forest(
            &self.layout,
            &mut self.storage,
            self.n_items,
            trees,
            threads,
            self.seed,
        );
        match built {
            Ok(built) => {
                self.n_trees = built.n_trees;
                self.codes = built.codes.map_or(SectionBytes::None, SectionBytes::Owned);
            }
            Err(e) => {
                // Drop the partial forest: the items are intact and the index stays addable.
                let _ = self.storage.resize(self.n_items * self.layout.node_size);
                self.reopen_for_adding();
                return Err(e);
            }
        }
        self.state = State::Built;
        if matches!(self.storage, Storage::Disk(_)) {
            self.finish_on_disk()?;
        }
        Ok(())
    }

    /// Drops the trees, keeping the items, so more can be added and the index built again.
    /// Does nothing on an index that is not built.
    pub fn unbuild(&mut self) -> Result<()> {
        match self.state {
            State::Adding => Ok(()),
            State::Built => {
                self.storage.resize(self.n_items * self.layout.node_size)?;
                self.n_trees = 0;
                self.codes = SectionBytes::None;
                self.graph = SectionBytes::None;
                self.reopen_for_adding();
                self.state = State::Adding;
                Ok(())
            }
            State::Mapped | State::Sharded | State::Live => Err(Error::invalid_state(
                "cannot unbuild a loaded index: it is a read-only file mapping",
            )),
        }
    }

    fn check_built(&self) -> Result<()> {
        if self.state == State::Adding {
            return Err(Error::invalid_state(
                "the index is not built; call build first (or load an index file)",
            ));
        }
        Ok(())
    }
}

/// The threads a call may use: `-1` means every core; 0 and other negatives are errors.
fn thread_count(n_threads: i32) -> Result<usize> {
    match n_threads {
        -1 => Ok(std::thread::available_parallelism().map_or(1, |n| n.get())),
        t if t >= 1 => Ok(t as usize),
        t => Err(Error::invalid_argument(format!(
            "n_threads must be -1 (all cores) or at least 1, got {t}"
        ))),
    }
}
