//! The self-describing file: a fixed 512-byte header, then Annoy's node body, byte for byte.
//!
//! Annoy files carry no header, so loading one with the wrong dimension or metric silently
//! gives garbage. Ours state everything a reader relies on and are checked before use:
//!
//! | offset | size | field                                                          |
//! |--------|------|----------------------------------------------------------------|
//! | 0      | 8    | magic `\x89ANNIDX\n` (the high byte and newline catch text-mode mangling) |
//! | 8      | 4    | format version (1)                                             |
//! | 12     | 4    | header size (512)                                              |
//! | 16     | 4    | metric code (0 angular, 1 euclidean, 2 manhattan, 3 dot, 4 hamming) |
//! | 20     | 4    | dim (bits for hamming)                                         |
//! | 24     | 4    | node size in bytes                                             |
//! | 28     | 4    | leaf capacity K                                                |
//! | 32     | 8    | n_items (max id + 1)                                           |
//! | 40     | 8    | n_nodes                                                        |
//! | 48     | 4    | n_trees; the roots are the last n_trees nodes                  |
//! | 52     | 4    | flags (bit 0: body checksum present)                           |
//! | 56     | 8    | build seed                                                     |
//! | 64     | 8    | body offset (512)                                              |
//! | 72     | 8    | body length (n_nodes × node size)                              |
//! | 80     | 8    | body checksum, xxh3-64                                         |
//! | 88     | 4    | number of used section entries                                 |
//! | 92     | 4    | reserved, zero                                                 |
//! | 96     | 384  | 12 section entries of 32 bytes: kind u32, flags u32 (bit 0: required), offset u64, length u64, checksum u64 |
//! | 480    | 24   | reserved, zero                                                 |
//! | 504    | 8    | header checksum, xxh3-64 of bytes 0..504                       |
//!
//! Sections sit after the body, each at a 64-byte-aligned offset: kind 1 is the compact codes
//! (`codes.rs`); later features (keys, deletions, graphs) add kinds. A reader skips sections
//! it does not know unless they are marked required.
//! All integers are little-endian.

use crate::error::{Error, ErrorKind, Result};
use crate::metric::Metric;
use crate::node::Layout;
use xxhash_rust::xxh3::xxh3_64;

pub(crate) const MAGIC: [u8; 8] = *b"\x89ANNIDX\n";
pub(crate) const FORMAT_VERSION: u32 = 1;
pub(crate) const HEADER_SIZE: usize = 512;
const CHECKSUMMED: usize = HEADER_SIZE - 8;
const SECTION_TABLE: usize = 96;
const SECTION_ENTRY: usize = 32;
/// Most sections one header can describe.
pub const MAX_SECTIONS: usize = 12;
/// Sections start at multiples of this in the file, so their arrays are cache-line aligned.
pub(crate) const SECTION_ALIGN: usize = 64;

/// Flag bit: the body checksum field is meaningful.
pub(crate) const FLAG_BODY_CHECKSUM: u32 = 1;
const KNOWN_FLAGS: u32 = FLAG_BODY_CHECKSUM;
/// Section flag bit: a reader that does not know this section kind must refuse the file.
pub const SECTION_REQUIRED: u32 = 1;

/// An optional region of the file after the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Section {
    pub kind: u32,
    pub flags: u32,
    pub offset: u64,
    pub length: u64,
    pub checksum: u64,
}

/// Everything a file's header says, after validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub format_version: u32,
    pub metric: Metric,
    pub dim: u32,
    pub node_size: u32,
    pub leaf_capacity: u32,
    pub n_items: u64,
    pub n_nodes: u64,
    pub n_trees: u32,
    pub flags: u32,
    pub seed: u64,
    pub body_offset: u64,
    pub body_length: u64,
    pub body_checksum: u64,
    pub sections: Vec<Section>,
}

impl Header {
    pub(crate) fn encode(&self) -> [u8; HEADER_SIZE] {
        let mut b = [0u8; HEADER_SIZE];
        let mut put = |at: usize, bytes: &[u8]| b[at..at + bytes.len()].copy_from_slice(bytes);
        put(0, &MAGIC);
        put(8, &self.format_version.to_le_bytes());
        put(12, &(HEADER_SIZE as u32).to_le_bytes());
        put(16, &self.metric.code().to_le_bytes());
        put(20, &self.dim.to_le_bytes());
        put(24, &self.node_size.to_le_bytes());
        put(28, &self.leaf_capacity.to_le_bytes());
        put(32, &self.n_items.to_le_bytes());
        put(40, &self.n_nodes.to_le_bytes());
        put(48, &self.n_trees.to_le_bytes());
        put(52, &self.flags.to_le_bytes());
        put(56, &self.seed.to_le_bytes());
        put(64, &self.body_offset.to_le_bytes());
        put(72, &self.body_length.to_le_bytes());
        put(80, &self.body_checksum.to_le_bytes());
        put(88, &(self.sections.len() as u32).to_le_bytes());
        for (i, s) in self.sections.iter().take(MAX_SECTIONS).enumerate() {
            let at = SECTION_TABLE + i * SECTION_ENTRY;
            put(at, &s.kind.to_le_bytes());
            put(at + 4, &s.flags.to_le_bytes());
            put(at + 8, &s.offset.to_le_bytes());
            put(at + 16, &s.length.to_le_bytes());
            put(at + 24, &s.checksum.to_le_bytes());
        }
        let sum = xxh3_64(&b[..CHECKSUMMED]);
        b[CHECKSUMMED..].copy_from_slice(&sum.to_le_bytes());
        b
    }

    /// Reads and validates the header of a file whose bytes are `file`.
    ///
    /// Checks everything loading relies on, in O(1): magic, version, header checksum, that
    /// sizes agree with the metric and dimension, that counts are consistent, and that the file
    /// holds exactly the body and sections the header describes.
    pub(crate) fn decode(file: &[u8]) -> Result<Header> {
        if file.is_empty() {
            return Err(Error::new(
                ErrorKind::Truncated,
                "the file is empty (0 bytes)",
            ));
        }
        let prefix = file.len().min(MAGIC.len());
        if file[..prefix] != MAGIC[..prefix] {
            return Err(Error::new(
                ErrorKind::BadMagic,
                "not an ann index file (wrong magic bytes); for a header-less Annoy file use the Annoy loader, or the file is an unfinished on-disk build",
            ));
        }
        if file.len() < HEADER_SIZE {
            return Err(Error::new(
                ErrorKind::Truncated,
                format!(
                    "the file is truncated: {} bytes, shorter than the {HEADER_SIZE}-byte header",
                    file.len()
                ),
            ));
        }
        let u32_at = |at: usize| u32::from_le_bytes(file[at..at + 4].try_into().expect("4"));
        let u64_at = |at: usize| u64::from_le_bytes(file[at..at + 8].try_into().expect("8"));

        let version = u32_at(8);
        if version == 0 || version > FORMAT_VERSION {
            return Err(Error::new(
                ErrorKind::UnsupportedVersion,
                format!(
                    "file format version {version} is not supported (this library reads version {FORMAT_VERSION}); upgrade the library"
                ),
            ));
        }
        let stored_sum = u64_at(CHECKSUMMED);
        if xxh3_64(&file[..CHECKSUMMED]) != stored_sum {
            return Err(Error::new(
                ErrorKind::ChecksumMismatch,
                "the header checksum does not match: the file is damaged",
            ));
        }
        let header_size = u32_at(12) as usize;
        if header_size != HEADER_SIZE {
            return Err(corrupt(format!(
                "header size {header_size} is not {HEADER_SIZE}"
            )));
        }
        let metric = Metric::from_code(u32_at(16)).ok_or_else(|| {
            Error::new(
                ErrorKind::UnsupportedVersion,
                format!(
                    "unknown metric code {} (written by a newer library?)",
                    u32_at(16)
                ),
            )
        })?;
        let flags = u32_at(52);
        if flags & !KNOWN_FLAGS != 0 {
            return Err(Error::new(
                ErrorKind::UnsupportedVersion,
                format!("unknown header flags {flags:#x} (written by a newer library?)"),
            ));
        }
        let n_sections = u32_at(88) as usize;
        if n_sections > MAX_SECTIONS {
            return Err(corrupt(format!(
                "{n_sections} sections, at most {MAX_SECTIONS}"
            )));
        }
        let sections: Vec<Section> = (0..n_sections)
            .map(|i| {
                let at = SECTION_TABLE + i * SECTION_ENTRY;
                Section {
                    kind: u32_at(at),
                    flags: u32_at(at + 4),
                    offset: u64_at(at + 8),
                    length: u64_at(at + 16),
                    checksum: u64_at(at + 24),
                }
            })
            .collect();
        let header = Header {
            format_version: version,
            metric,
            dim: u32_at(20),
            node_size: u32_at(24),
            leaf_capacity: u32_at(28),
            n_items: u64_at(32),
            n_nodes: u64_at(40),
            n_trees: u32_at(48),
            flags,
            seed: u64_at(56),
            body_offset: u64_at(64),
            body_length: u64_at(72),
            body_checksum: u64_at(80),
            sections,
        };
        header.check_consistency(file.len() as u64)?;
        Ok(header)
    }

    fn check_consistency(&self, file_len: u64) -> Result<()> {
        let layout = Layout::new(self.metric, self.dim as usize)
            .map_err(|e| corrupt(format!("bad dimension: {e}")))?;
        if self.node_size as usize != layout.node_size || self.leaf_capacity as usize != layout.k {
            return Err(corrupt(format!(
                "node size {} and leaf capacity {} do not match metric {} with dim {} ({} and {})",
                self.node_size,
                self.leaf_capacity,
                self.metric,
                self.dim,
                layout.node_size,
                layout.k
            )));
        }
        // Our builds have n_items + 2 * n_trees nodes at least, but files converted from Annoy
        // keep Annoy's root count, which can include original roots (and, for one item, the
        // item itself): require only what reading relies on.
        let max = i32::MAX as u64;
        let too_few = self.n_nodes < self.n_items || self.n_nodes < u64::from(self.n_trees);
        if self.n_items > max || self.n_nodes > max || too_few {
            return Err(corrupt(format!(
                "impossible counts: {} items, {} nodes, {} trees",
                self.n_items, self.n_nodes, self.n_trees
            )));
        }
        if self.n_trees == 0 && self.n_items > 0 {
            return Err(corrupt("an index with items but no trees"));
        }
        if self.body_offset != HEADER_SIZE as u64
            || Some(self.body_length) != self.n_nodes.checked_mul(u64::from(self.node_size))
        {
            return Err(Error::new(
                ErrorKind::SizeMismatch,
                format!(
                    "body of {} bytes at offset {} does not match {} nodes of {} bytes after the header",
                    self.body_length, self.body_offset, self.n_nodes, self.node_size
                ),
            ));
        }
        let mut end = self.body_offset + self.body_length;
        for s in &self.sections {
            if s.flags & SECTION_REQUIRED != 0 {
                return Err(Error::new(
                    ErrorKind::UnsupportedVersion,
                    format!(
                        "the file needs section kind {} which this library does not know; upgrade the library",
                        s.kind
                    ),
                ));
            }
            let s_end = s.offset.checked_add(s.length);
            match s_end {
                Some(s_end) if s.offset >= self.body_offset + self.body_length => {
                    end = end.max(s_end)
                }
                _ => {
                    return Err(corrupt(format!(
                        "section kind {} overlaps the body",
                        s.kind
                    )))
                }
            }
        }
        if file_len < end {
            return Err(Error::new(
                ErrorKind::Truncated,
                format!("the file is truncated: {file_len} bytes, its header describes {end}"),
            ));
        }
        if file_len > end {
            return Err(Error::new(
                ErrorKind::SizeMismatch,
                format!("the file has {file_len} bytes, its header describes {end}"),
            ));
        }
        Ok(())
    }
}

fn corrupt(detail: impl std::fmt::Display) -> Error {
    Error::corrupt(format!("the index file is corrupt: {detail}"))
}

/// Checksum of an index body.
pub(crate) fn body_checksum(body: &[u8]) -> u64 {
    xxh3_64(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(body_len: u64) -> Header {
        let layout = Layout::new(Metric::Euclidean, 3).unwrap();
        Header {
            format_version: FORMAT_VERSION,
            metric: Metric::Euclidean,
            dim: 3,
            node_size: layout.node_size as u32,
            leaf_capacity: layout.k as u32,
            n_items: 1,
            n_nodes: body_len / layout.node_size as u64,
            n_trees: 1,
            flags: FLAG_BODY_CHECKSUM,
            seed: 7,
            body_offset: HEADER_SIZE as u64,
            body_length: body_len,
            body_checksum: 0,
            sections: vec![],
        }
    }

    #[test]
    fn round_trips_and_rejects_each_problem() {
        let h = sample(3 * 28);
        let mut file = h.encode().to_vec();
        file.extend(vec![0u8; 3 * 28]);
        assert_eq!(Header::decode(&file).unwrap(), h);

        let kind = |f: &[u8]| Header::decode(f).unwrap_err().kind();
        assert_eq!(kind(&file[..file.len() - 1]), ErrorKind::Truncated);
        assert_eq!(kind(&file[..100]), ErrorKind::Truncated);
        assert_eq!(kind(&[]), ErrorKind::Truncated);
        let mut longer = file.clone();
        longer.push(0);
        assert_eq!(kind(&longer), ErrorKind::SizeMismatch);
        let mut bad = file.clone();
        bad[0] = b'X';
        assert_eq!(kind(&bad), ErrorKind::BadMagic);
        let mut bad = file.clone();
        bad[8] = 2;
        assert_eq!(kind(&bad), ErrorKind::UnsupportedVersion);
        let mut bad = file.clone();
        bad[33] ^= 1;
        assert_eq!(kind(&bad), ErrorKind::ChecksumMismatch);
    }
}
