//! Files: saving and loading native and Annoy files, building on disk, verifying.

use super::{Index, SectionBytes, State, DEFAULT_SEED};
use crate::annoy_file;
use crate::error::{Error, ErrorKind, Result};
use crate::format::{self, Header, FLAG_BODY_CHECKSUM, FORMAT_VERSION, HEADER_SIZE, SECTION_ALIGN};
use crate::keys::KeyMap;
use crate::metric::Metric;
use crate::node::{Layout, Nodes};
use crate::storage::{write_atomically, DiskNodes, HeapNodes, MappedFile, Storage};
use crate::verify;
use std::path::Path;
use std::sync::OnceLock;

impl Index {
    /// Writes the header that makes an on-disk build a valid file, and maps it read-only.
    /// If that fails the file is left without a valid header, and the index is reset.
    pub(super) fn finish_on_disk(&mut self) -> Result<()> {
        let empty = Storage::Heap(HeapNodes::default());
        let Storage::Disk(disk) = std::mem::replace(&mut self.storage, empty) else {
            return Ok(());
        };
        let header = self.make_header(disk.bytes());
        let sections = self.sections(&header);
        match disk.finish(&header.encode(), &sections) {
            Ok(mut mapped) => {
                mapped.set_body(HEADER_SIZE, header.body_length as usize);
                self.map_sections(&header);
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
        self.check_not_sharded("save")?;
        let body = self.storage.bytes();
        let header = self.make_header(body);
        let encoded = header.encode();
        let mut chunks: Vec<&[u8]> = vec![&encoded, body];
        let padding = [0u8; SECTION_ALIGN];
        let mut end = HEADER_SIZE + body.len();
        for (at, bytes) in self.sections(&header) {
            chunks.push(&padding[..at - end]);
            chunks.push(bytes);
            end = at + bytes.len();
        }
        write_atomically(path.as_ref(), &chunks)
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
            sections: self.section_entries(HEADER_SIZE + body.len()),
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
        let mut index = Index {
            layout: Layout::new(header.metric, header.dim as usize)?,
            seed: header.seed,
            state: State::Mapped,
            storage: Storage::Mapped(mapped),
            n_items: header.n_items as usize,
            n_trees: header.n_trees as usize,
            codes: SectionBytes::None,
            graph: SectionBytes::None,
            keys: KeyMap::Direct,
            stored: OnceLock::new(),
            header: None,
            shards: Vec::new(),
            live: None,
        };
        index.map_sections(&header);
        index.header = Some(header);
        verify::check_roots(&index.forest())?;
        index.check_sections().map_err(|e| {
            Error::new(
                e.kind(),
                format!("cannot load {}: {}", path.display(), e.message()),
            )
        })?;
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
            codes: SectionBytes::None,
            graph: SectionBytes::None,
            keys: KeyMap::Direct,
            stored: OnceLock::new(),
            shards: Vec::new(),
            live: None,
        })
    }

    /// Saves the header-less body that Annoy 1.17.3 loads (atomically, like `save`). The
    /// dimension, metric and seed are not recorded: whoever loads the file must know them.
    pub fn save_annoy(&self, path: impl AsRef<Path>) -> Result<()> {
        self.check_built()?;
        self.check_not_sharded("save_annoy")?;
        if !matches!(self.keys, KeyMap::Direct) {
            return Err(Error::invalid_state(
                "this index's keys do not fit Annoy's layout (keys from 0 up to 2^31 - 2, filling at least half of that range), so Annoy's format cannot hold it; use save",
            ));
        }
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
        if let Some(shards) = self.shards() {
            return shards.iter().try_for_each(Index::verify);
        }
        if let Some(live) = self.live() {
            return self.verify_live(live);
        }
        if let Some(h) = &self.header {
            if h.flags & FLAG_BODY_CHECKSUM != 0
                && format::body_checksum(self.storage.bytes()) != h.body_checksum
            {
                return Err(Error::new(
                    ErrorKind::ChecksumMismatch,
                    "the body checksum does not match: the index file is damaged",
                ));
            }
            self.check_section_checksums(h)?;
        }
        if let Some(sorted) = self.sorted_keys() {
            crate::keys::check_sorted(sorted)?;
        }
        verify::check_forest(&self.forest())?;
        self.check_graph()
    }
}

impl Index {
    fn check_not_sharded(&self, what: &str) -> Result<()> {
        if self.shards().is_some() {
            return Err(Error::invalid_state(format!(
                "cannot {what} a sharded index: it is several read-only files searched as one; export writes them as one file"
            )));
        }
        if self.live().is_some() {
            return Err(Error::invalid_state(format!(
                "cannot {what} a live index: it is a directory its writer keeps; export writes its items as one file"
            )));
        }
        Ok(())
    }
}
