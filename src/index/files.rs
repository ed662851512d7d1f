//! Files: saving and loading native and Annoy files, building on disk, verifying.

use super::{CodesSection, Index, State, DEFAULT_SEED};
use crate::annoy_file;
use crate::codes::{self, Codes};
use crate::error::{Error, ErrorKind, Result};
use crate::format::{self, Header, Section, FLAG_BODY_CHECKSUM, FORMAT_VERSION, HEADER_SIZE};
use crate::metric::Metric;
use crate::node::{Layout, Nodes};
use crate::storage::{write_atomically, DiskNodes, HeapNodes, MappedFile, Storage};
use crate::verify;
use std::path::Path;

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
                self.codes = codes_range(&header);
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
        let body = self.storage.bytes();
        let header = self.make_header(body);
        let encoded = header.encode();
        let mut chunks: Vec<&[u8]> = vec![&encoded, body];
        let padding = [0u8; codes::ALIGN];
        let mut end = HEADER_SIZE + body.len();
        for (at, bytes) in self.sections(&header) {
            chunks.push(&padding[..at - end]);
            chunks.push(bytes);
            end = at + bytes.len();
        }
        write_atomically(path.as_ref(), &chunks)
    }

    /// The sections after the body, each with its offset in the file (as `header` records).
    fn sections(&self, header: &Header) -> Vec<(usize, &[u8])> {
        let codes = self.codes_bytes();
        header
            .sections
            .iter()
            .filter(|s| s.kind == codes::SECTION_KIND)
            .zip(codes)
            .map(|(s, bytes)| (s.offset as usize, bytes))
            .collect()
    }

    /// The bytes of the compact-codes section, wherever they are.
    pub(super) fn codes_bytes(&self) -> Option<&[u8]> {
        match (&self.codes, &self.storage) {
            (CodesSection::Owned(bytes), _) => Some(bytes.bytes()),
            (CodesSection::Mapped(range), Storage::Mapped(m)) => m.file_bytes().get(range.clone()),
            _ => None,
        }
    }

    /// The compact codes, if the index has them in a version this library reads.
    pub(super) fn codes(&self) -> Option<Codes<'_>> {
        let bytes = self.codes_bytes()?;
        let (metric, dim) = (self.layout.metric, self.layout.dim);
        Codes::parse(bytes, metric, dim, self.n_items)
            .ok()
            .flatten()
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
            sections: self
                .codes_bytes()
                .map(|bytes| Section {
                    kind: codes::SECTION_KIND,
                    flags: 0,
                    offset: (HEADER_SIZE + body.len()).next_multiple_of(codes::ALIGN) as u64,
                    length: bytes.len() as u64,
                    checksum: format::body_checksum(bytes),
                })
                .into_iter()
                .collect(),
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
            codes: codes_range(&header),
            header: Some(header),
        };
        verify::check_roots(&index.forest())?;
        if let Some(bytes) = index.codes_bytes() {
            let (metric, dim) = (index.layout.metric, index.layout.dim);
            Codes::parse(bytes, metric, dim, index.n_items).map_err(|e| {
                Error::new(
                    e.kind(),
                    format!("cannot load {}: {}", path.display(), e.message()),
                )
            })?;
        }
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
            codes: CodesSection::None,
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
            for s in h.sections.iter().filter(|s| s.kind == codes::SECTION_KIND) {
                let bytes = self.codes_bytes().unwrap_or_default();
                if format::body_checksum(bytes) != s.checksum {
                    return Err(Error::new(
                        ErrorKind::ChecksumMismatch,
                        "the compact-codes section's checksum does not match: the index file is damaged",
                    ));
                }
            }
        }
        verify::check_forest(&self.forest())
    }
}

/// The byte range of the compact-codes section a header lists (header checks made sure it
/// lies inside the file).
fn codes_range(header: &Header) -> CodesSection {
    header
        .sections
        .iter()
        .find(|s| s.kind == codes::SECTION_KIND)
        .map_or(CodesSection::None, |s| {
            CodesSection::Mapped(s.offset as usize..(s.offset + s.length) as usize)
        })
}
