//! The optional sections an index writes after its body (compact codes, keys): where their
//! bytes are, how the header lists them, and the checks made when a file is loaded or verified.

use super::{Index, SectionBytes};
use crate::codes::{self, Codes, Quantiser};
use crate::error::{Error, ErrorKind, Result};
use crate::format::{self, Header, Section, SECTION_ALIGN};
use crate::graph::{self, Graph};
use crate::keys::{self, KeyMap, SortedKeys};
use crate::storage::Storage;
use std::ops::Range;
use std::sync::OnceLock;

impl Index {
    /// The bytes of each section this index has, with its kind, in file order.
    fn section_payloads(&self) -> Vec<(u32, &[u8])> {
        let mut payloads = Vec::new();
        if let Some(bytes) = self.codes_bytes() {
            payloads.push((codes::SECTION_KIND, bytes));
        }
        if let Some(bytes) = self.keys_bytes() {
            payloads.push((keys::SECTION_KIND, bytes));
        }
        if let Some(bytes) = self.graph_bytes() {
            payloads.push((graph::SECTION_KIND, bytes));
        }
        payloads
    }

    /// Header entries for the sections, laid out from `body_end` on, each aligned.
    pub(super) fn section_entries(&self, body_end: usize) -> Vec<Section> {
        let mut at = body_end;
        self.section_payloads()
            .into_iter()
            .map(|(kind, bytes)| {
                let offset = at.next_multiple_of(SECTION_ALIGN);
                at = offset + bytes.len();
                Section {
                    kind,
                    flags: 0,
                    offset: offset as u64,
                    length: bytes.len() as u64,
                    checksum: format::body_checksum(bytes),
                }
            })
            .collect()
    }

    /// The sections' bytes with the file offsets `header` gives them.
    pub(super) fn sections(&self, header: &Header) -> Vec<(usize, &[u8])> {
        header
            .sections
            .iter()
            .zip(self.section_payloads())
            .map(|(s, (_, bytes))| (s.offset as usize, bytes))
            .collect()
    }

    /// Points the sections at their ranges in a file with this header (checked by the header
    /// to lie inside it), and records what the layout implies about the stored count.
    pub(super) fn map_sections(&mut self, header: &Header) {
        let range = |kind: u32| {
            header
                .sections
                .iter()
                .find(|s| s.kind == kind)
                .map(|s| s.offset as usize..(s.offset + s.length) as usize)
        };
        self.codes = range(codes::SECTION_KIND).map_or(SectionBytes::None, SectionBytes::Mapped);
        self.graph = range(graph::SECTION_KIND).map_or(SectionBytes::None, SectionBytes::Mapped);
        if let Some(r) = range(keys::SECTION_KIND) {
            self.keys = KeyMap::Sorted(SortedKeys::Mapped(r));
            // A sorted layout has no holes: every slot is an item.
            self.stored = OnceLock::from(self.n_items);
        } else if !matches!(self.keys, KeyMap::Direct) {
            self.keys = KeyMap::Direct;
        }
    }

    /// O(1) checks of the sections a loaded file has: sizes and offsets agree with the index.
    pub(super) fn check_sections(&self) -> Result<()> {
        if let Some(bytes) = self.codes_bytes() {
            let (metric, dim) = (self.layout.metric, self.layout.dim);
            Codes::parse(bytes, metric, dim, self.n_items)?;
        }
        if let Some(bytes) = self.keys_bytes() {
            keys::parse(bytes, self.n_items)?;
        }
        if let Some(bytes) = self.graph_bytes() {
            Graph::parse(bytes, self.n_items)?;
        }
        Ok(())
    }

    /// Every section's checksum against the header's: part of `verify`.
    pub(super) fn check_section_checksums(&self, header: &Header) -> Result<()> {
        for (kind, bytes) in self.section_payloads() {
            let Some(s) = header.sections.iter().find(|s| s.kind == kind) else {
                continue;
            };
            if format::body_checksum(bytes) != s.checksum {
                let what = match s.kind {
                    codes::SECTION_KIND => "compact-codes",
                    keys::SECTION_KIND => "keys",
                    graph::SECTION_KIND => "graph",
                    _ => "a",
                };
                return Err(Error::new(
                    ErrorKind::ChecksumMismatch,
                    format!(
                        "the {what} section's checksum does not match: the index file is damaged"
                    ),
                ));
            }
        }
        Ok(())
    }

    /// `range` of the mapped file, for a mapped index.
    pub(super) fn mapped_bytes(&self, range: Range<usize>) -> Option<&[u8]> {
        match &self.storage {
            Storage::Mapped(m) => m.file_bytes().get(range),
            _ => None,
        }
    }

    /// The bytes of the graph section, wherever they are.
    pub(super) fn graph_bytes(&self) -> Option<&[u8]> {
        match &self.graph {
            SectionBytes::Owned(bytes) => Some(bytes.bytes()),
            SectionBytes::Mapped(range) => self.mapped_bytes(range.clone()),
            SectionBytes::None => None,
        }
    }

    /// The graph, when the index has one (checked at load, so parsing cannot fail here).
    pub(super) fn graph(&self) -> Option<Graph<'_>> {
        Graph::parse(self.graph_bytes()?, self.n_items).ok()
    }

    /// The bytes of the compact-codes section, wherever they are.
    pub(super) fn codes_bytes(&self) -> Option<&[u8]> {
        match &self.codes {
            SectionBytes::Owned(bytes) => Some(bytes.bytes()),
            SectionBytes::Mapped(range) => self.mapped_bytes(range.clone()),
            SectionBytes::None => None,
        }
    }

    /// The bytes of the keys section of a sorted layout.
    pub(super) fn keys_bytes(&self) -> Option<&[u8]> {
        match &self.keys {
            KeyMap::Sorted(SortedKeys::Owned(section)) => Some(section.bytes()),
            KeyMap::Sorted(SortedKeys::Mapped(range)) => self.mapped_bytes(range.clone()),
            _ => None,
        }
    }

    /// The parameters of this index's codes, to encode other items the same way.
    pub(crate) fn quantiser(&self) -> Option<Quantiser> {
        self.codes().map(|c| c.quantiser())
    }

    /// The compact codes, if the index has them in a version this library reads.
    pub(super) fn codes(&self) -> Option<Codes<'_>> {
        let bytes = self.codes_bytes()?;
        let (metric, dim) = (self.layout.metric, self.layout.dim);
        Codes::parse(bytes, metric, dim, self.n_items)
            .ok()
            .flatten()
    }
}
