//! The index users hold: add items, build, save, load, query.
//!
//! An index moves through three states, and every call checks that it fits:
//! * **adding**: items may be added (in memory, or into a file after `on_disk_build`);
//! * **built**: trees exist in memory; queries and `save` work; `unbuild` returns to adding;
//! * **mapped**: loaded from (or built into) a file, read-only and shared between processes.

use crate::annoy_file;
use crate::build::{build_forest, TreeCount};
use crate::error::{Error, ErrorKind, Result};
use crate::format::{self, Header, FLAG_BODY_CHECKSUM, FORMAT_VERSION, HEADER_SIZE};
use crate::metric::Metric;
use crate::node::{Layout, Nodes};
use crate::search::{self, Forest, Neighbor, Query};
use crate::storage::{write_atomically, DiskNodes, HeapNodes, MappedFile, Storage};
use crate::verify;
use std::path::Path;

/// The seed used until `set_seed` is called (Annoy's default, so builds are repeatable).
pub const DEFAULT_SEED: u64 = 1_234_567_890_987_654_321;

/// Largest item id: `n_items = id + 1` must fit Annoy's i32 node references.
pub const MAX_ID: u64 = i32::MAX as u64 - 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Adding,
    Built,
    Mapped,
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
    n_items: usize,
    n_trees: usize,
    /// The header read from, or written to, the file behind a mapped index.
    header: Option<Header>,
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
        })
    }

    pub fn dim(&self) -> usize {
        self.layout.dim
    }

    pub fn metric(&self) -> Metric {
        self.layout.metric
    }

    /// One more than the largest id added (ids are dense, as in Annoy; unused ids are holes).
    pub fn n_items(&self) -> usize {
        self.n_items
    }

    pub fn n_trees(&self) -> usize {
        self.n_trees
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
    pub fn set_seed(&mut self, seed: u64) {
        self.seed = seed;
    }

    /// Adds (or replaces) item `id`. `vector` has `dim` values; for hamming, values > 0.5 are 1.
    pub fn add_item(&mut self, id: u64, vector: &[f32]) -> Result<()> {
        self.check_vector(vector)?;
        if self.layout.metric == Metric::Hamming {
            let mut words = vec![0u64; self.layout.words];
            pack_bits(vector, &mut words);
            return self.add_item_bits(id, &words);
        }
        let layout = self.layout;
        let node = self.new_item_node(id)?;
        layout.vector_mut(node).copy_from_slice(vector);
        if layout.metric == Metric::Angular {
            let norm = (crate::kernels::kernels().dot)(vector, vector);
            layout.set_norm_sq(node, norm);
        }
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

    /// Checks state and id, makes room, and returns the zeroed node for item `id`.
    fn new_item_node(&mut self, id: u64) -> Result<&mut [u8]> {
        match self.state {
            State::Adding => {}
            State::Built => {
                return Err(Error::invalid_state(
                    "cannot add items to a built index; call unbuild first",
                ))
            }
            State::Mapped => {
                return Err(Error::invalid_state(
                    "cannot add items to a loaded index: it is a read-only file mapping; build a new index instead",
                ))
            }
        }
        if id > MAX_ID {
            return Err(Error::invalid_argument(format!(
                "id {id} is too large: ids are dense and at most {MAX_ID}"
            )));
        }
        let id = id as usize;
        let s = self.layout.node_size;
        if id >= self.n_items {
            self.storage.resize((id + 1) * s)?;
            self.n_items = id + 1;
        }
        let node = &mut self
            .storage
            .bytes_mut()
            .expect("adding needs writable nodes")[id * s..(id + 1) * s];
        node.fill(0);
        self.layout.set_n_descendants(node, 1);
        Ok(node)
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
            State::Mapped => {
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
        let threads = match n_threads {
            -1 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            t if t >= 1 => t as usize,
            t => {
                return Err(Error::invalid_argument(format!(
                    "n_threads must be -1 (all cores) or at least 1, got {t}"
                )))
            }
        };
        let built = build_forest(
            &self.layout,
            &mut self.storage,
            self.n_items,
            trees,
            threads,
            self.seed,
        );
        match built {
            Ok(n) => self.n_trees = n,
            Err(e) => {
                // Drop the partial forest: the items are intact and the index stays addable.
                let _ = self.storage.resize(self.n_items * self.layout.node_size);
                return Err(e);
            }
        }
        self.state = State::Built;
        if matches!(self.storage, Storage::Disk(_)) {
            self.finish_on_disk()?;
        }
        Ok(())
    }

    /// Writes the header that makes an on-disk build a valid file, and maps it read-only.
    /// If that fails the file is left without a valid header, and the index is reset.
    fn finish_on_disk(&mut self) -> Result<()> {
        let empty = Storage::Heap(HeapNodes::default());
        let Storage::Disk(disk) = std::mem::replace(&mut self.storage, empty) else {
            return Ok(());
        };
        let header = self.make_header(disk.bytes());
        match disk.finish(&header.encode()) {
            Ok(mut mapped) => {
                mapped.set_body(HEADER_SIZE, header.body_length as usize);
                self.storage = Storage::Mapped(mapped);
                self.header = Some(header);
                self.state = State::Mapped;
                Ok(())
            }
            Err(e) => {
                self.unload();
                Err(e)
            }
        }
    }

    /// Drops the trees, keeping the items, so more can be added and the index built again.
    /// Does nothing on an index that is not built.
    pub fn unbuild(&mut self) -> Result<()> {
        match self.state {
            State::Adding => Ok(()),
            State::Built => {
                self.storage.resize(self.n_items * self.layout.node_size)?;
                self.n_trees = 0;
                self.state = State::Adding;
                Ok(())
            }
            State::Mapped => Err(Error::invalid_state(
                "cannot unbuild a loaded index: it is a read-only file mapping",
            )),
        }
    }

    /// Builds the index straight into `path` instead of memory, for indexes larger than RAM:
    /// items added from now on (and any added before) go to the file, and `build` finishes it.
    /// Until then the file has no valid header, so no reader mistakes it for an index.
    pub fn on_disk_build(&mut self, path: impl AsRef<Path>) -> Result<()> {
        if self.state != State::Adding {
            return Err(Error::invalid_state(
                "on_disk_build must be called before build, on an index that is not built or loaded",
            ));
        }
        if matches!(self.storage, Storage::Disk(_)) {
            return Err(Error::invalid_state(
                "this index is already being built on disk",
            ));
        }
        let mut disk = DiskNodes::create(path.as_ref(), HEADER_SIZE)?;
        let existing = self.storage.bytes();
        disk.resize(existing.len())?;
        disk.bytes_mut().copy_from_slice(existing);
        self.storage = Storage::Disk(disk);
        Ok(())
    }

    /// Saves to `path` atomically: written to a temporary file beside it, synced, then renamed
    /// over it. Processes that mapped the old file keep using it undisturbed.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        self.check_built()?;
        let body = self.storage.bytes();
        let header = self.make_header(body);
        write_atomically(path.as_ref(), &[&header.encode(), body])
    }

    fn make_header(&self, body: &[u8]) -> Header {
        let layout = &self.layout;
        Header {
            format_version: FORMAT_VERSION,
            metric: layout.metric,
            dim: layout.dim as u32,
            node_size: layout.node_size as u32,
            leaf_capacity: layout.k as u32,
            n_items: self.n_items as u64,
            n_nodes: (body.len() / layout.node_size) as u64,
            n_trees: self.n_trees as u32,
            flags: FLAG_BODY_CHECKSUM,
            seed: self.seed,
            body_offset: HEADER_SIZE as u64,
            body_length: body.len() as u64,
            body_checksum: format::body_checksum(body),
            sections: Vec::new(),
        }
    }

    /// Memory-maps an index file read-only. `prefault` reads the whole file in now rather
    /// than page by page on first use. Loading checks the header, not the body: O(1).
    pub fn load(path: impl AsRef<Path>, prefault: bool) -> Result<Index> {
        let path = path.as_ref();
        let mut mapped = MappedFile::open(path, prefault)?;
        let header = Header::decode(mapped.file_bytes()).map_err(|e| {
            Error::new(
                e.kind(),
                format!("cannot load {}: {}", path.display(), e.message()),
            )
        })?;
        mapped.set_body(header.body_offset as usize, header.body_length as usize);
        let index = Index {
            layout: Layout::new(header.metric, header.dim as usize)?,
            seed: header.seed,
            state: State::Mapped,
            storage: Storage::Mapped(mapped),
            n_items: header.n_items as usize,
            n_trees: header.n_trees as usize,
            header: Some(header),
        };
        verify::check_roots(&index.forest())?;
        Ok(index)
    }

    /// Memory-maps a header-less index file written by Annoy 1.17.3 (zero-copy). Annoy files
    /// do not record their dimension and metric, so the caller gives them. Roots and `n_items`
    /// are found as Annoy finds them, and queries return what Annoy returns on the same file.
    pub fn load_annoy(
        path: impl AsRef<Path>,
        dim: usize,
        metric: Metric,
        prefault: bool,
    ) -> Result<Index> {
        let path = path.as_ref();
        let layout = Layout::new(metric, dim)?;
        let in_context = |e: Error| {
            Error::new(
                e.kind(),
                format!("cannot load {}: {}", path.display(), e.message()),
            )
        };
        let mut mapped = MappedFile::open(path, prefault)?;
        let len = mapped.file_bytes().len();
        annoy_file::check_size(&layout, len).map_err(in_context)?;
        mapped.set_body(0, len);
        let forest = annoy_file::find_forest(&Nodes {
            layout: &layout,
            bytes: mapped.bytes(),
        })
        .map_err(in_context)?;
        Ok(Index {
            layout,
            seed: DEFAULT_SEED,
            state: State::Mapped,
            storage: Storage::Mapped(mapped),
            n_items: forest.n_items,
            n_trees: forest.n_trees,
            header: None,
        })
    }

    /// Saves the header-less body that Annoy 1.17.3 loads (atomically, like `save`). The
    /// dimension, metric and seed are not recorded: whoever loads the file must know them.
    pub fn save_annoy(&self, path: impl AsRef<Path>) -> Result<()> {
        self.check_built()?;
        write_atomically(path.as_ref(), &[self.storage.bytes()])
    }

    /// Releases the file or memory and leaves an empty index of the same metric and dimension.
    pub fn unload(&mut self) {
        *self = Index {
            seed: self.seed,
            ..Index::new(self.layout.dim, self.layout.metric).expect("layout already valid")
        };
    }

    /// Full check of a loaded file: the body checksum, then every tree's structure (all
    /// references in range, reachable nodes well-formed, no cycles). Reads the whole index.
    pub fn verify(&self) -> Result<()> {
        self.check_built()?;
        if let Some(h) = &self.header {
            if h.flags & FLAG_BODY_CHECKSUM != 0
                && format::body_checksum(self.storage.bytes()) != h.body_checksum
            {
                return Err(Error::new(
                    ErrorKind::ChecksumMismatch,
                    "the body checksum does not match: the index file is damaged",
                ));
            }
        }
        verify::check_forest(&self.forest())
    }

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
            .search(&Query::floats(vector), n, search_k, out)
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
        if queries.len() % dim != 0 {
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
        let threads = match n_threads {
            -1 => std::thread::available_parallelism().map_or(1, |t| t.get()),
            t if t >= 1 => t as usize,
            t => {
                return Err(Error::invalid_argument(format!(
                    "n_threads must be -1 (all cores) or at least 1, got {t}"
                )))
            }
        };
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
            _ => Query::floats(self.layout.vector(node)),
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
        let query = match layout.metric {
            Metric::Hamming => Query::Bits(layout.words_u64(a)),
            Metric::Angular => Query::Floats {
                v: layout.vector(a),
                norm_sq: match layout.norm_sq(a) {
                    0.0 => (crate::kernels::kernels().dot)(layout.vector(a), layout.vector(a)),
                    cached => cached,
                },
            },
            _ => Query::floats(layout.vector(a)),
        };
        let score = search::score(layout, crate::kernels::kernels(), &query, b);
        Ok(search::user_distance(layout.metric, score))
    }

    /// The node of item `id`, or an error for ids out of range and holes.
    fn item_node(&self, id: u64) -> Result<&[u8]> {
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

    fn forest(&self) -> Forest<'_> {
        Forest {
            nodes: Nodes {
                layout: &self.layout,
                bytes: self.storage.bytes(),
            },
            n_items: self.n_items,
            n_trees: self.n_trees,
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

    fn check_vector(&self, vector: &[f32]) -> Result<()> {
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

    fn check_bits(&self, words: &[u64]) -> Result<()> {
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
fn pack_bits(values: &[f32], words: &mut [u64]) {
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
