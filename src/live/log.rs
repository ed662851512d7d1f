//! The write-ahead log of a live index: every upsert and delete, appended and synced before
//! the call that made it returns (in the default durability), replayed on open.
//!
//! A log file belongs to one generation of the directory (`wal-<generation>.log`). It starts
//! with a 64-byte header, then records, each framed so a torn or damaged one is recognised:
//!
//! | bytes | field |
//! |---|---|
//! | 4 | body length |
//! | 4 | checksum: the low 32 bits of the body's xxh3 |
//! | 8 | log sequence number (LSN), one more than the previous record's |
//! | 4 | operation: 1 upsert, 2 delete |
//! | 4 | count of entries |
//! | ... | upsert: count x (key u64, dim x f32); delete: count x key u64 |
//!
//! A batch is one record, so it is applied whole or not at all. Header: magic `ANNLOG1\n`,
//! version u32, metric u32, dim u32, reserved u32, generation u64, first LSN u64, then the
//! xxh3 of bytes 0..40 at 40; the rest is zero. All integers are little-endian.

use crate::error::{Error, Result};
use crate::metric::Metric;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use xxhash_rust::xxh3::xxh3_64;

const MAGIC: &[u8; 8] = b"ANNLOG1\n";
const VERSION: u32 = 1;
pub(crate) const HEADER_LEN: u64 = 64;
const FRAME: usize = 8;
/// A record body larger than this is damage, not data (a batch of 2^30 bytes is far beyond
/// what any call writes at once).
const MAX_BODY: usize = 1 << 30;
/// The largest LSN a record may have. LSNs count from 1, one per write; 2^62 is beyond any
/// log's life (a billion writes a second for 146 years), and the bound keeps every `+ 1` on
/// them far from overflow whatever a damaged header says. A header's first LSN (the next
/// record's) is at most one more.
pub(crate) const MAX_LSN: u64 = 1 << 62;

pub(crate) const OP_UPSERT: u32 = 1;
pub(crate) const OP_DELETE: u32 = 2;

/// One decoded record.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Op {
    /// Keys and their vectors, `dim` floats each, in order.
    Upsert {
        keys: Vec<u64>,
        vectors: Vec<f32>,
    },
    Delete {
        keys: Vec<u64>,
    },
}

/// The body of a record (everything after the frame), for an operation at `lsn`.
pub(crate) fn encode(lsn: u64, op: &Op) -> Vec<u8> {
    let (code, count) = match op {
        Op::Upsert { keys, .. } => (OP_UPSERT, keys.len()),
        Op::Delete { keys } => (OP_DELETE, keys.len()),
    };
    let mut body = Vec::with_capacity(16 + count * 8);
    body.extend_from_slice(&lsn.to_le_bytes());
    body.extend_from_slice(&code.to_le_bytes());
    body.extend_from_slice(&(count as u32).to_le_bytes());
    match op {
        Op::Upsert { keys, vectors } => {
            let dim = vectors.len() / keys.len().max(1);
            for (key, vector) in keys.iter().zip(vectors.chunks(dim.max(1))) {
                body.extend_from_slice(&key.to_le_bytes());
                body.extend_from_slice(bytemuck::cast_slice(vector));
            }
        }
        Op::Delete { keys } => keys
            .iter()
            .for_each(|k| body.extend_from_slice(&k.to_le_bytes())),
    }
    let mut record = Vec::with_capacity(FRAME + body.len());
    record.extend_from_slice(&(body.len() as u32).to_le_bytes());
    record.extend_from_slice(&(xxh3_64(&body) as u32).to_le_bytes());
    record.extend_from_slice(&body);
    record
}

/// Decodes a record body (checksum already checked) for vectors of `dim` values.
fn decode(body: &[u8], dim: usize) -> Option<(u64, Op)> {
    let u32_at = |at: usize| u32::from_le_bytes(body[at..at + 4].try_into().expect("4"));
    if body.len() < 16 {
        return None;
    }
    let lsn = u64::from_le_bytes(body[0..8].try_into().expect("8"));
    let (code, count) = (u32_at(8), u32_at(12) as usize);
    let entries = &body[16..];
    let key_at = |at: usize| u64::from_le_bytes(entries[at..at + 8].try_into().expect("8"));
    match code {
        OP_UPSERT => {
            let entry = 8 + 4 * dim;
            if entries.len() != count.checked_mul(entry)? {
                return None;
            }
            let mut keys = Vec::with_capacity(count);
            let mut vectors = Vec::with_capacity(count * dim);
            for e in entries.chunks_exact(entry) {
                keys.push(u64::from_le_bytes(e[..8].try_into().expect("8")));
                vectors.extend(
                    e[8..]
                        .chunks_exact(4)
                        .map(|b| f32::from_le_bytes(b.try_into().expect("4"))),
                );
            }
            // The writer logs only valid items: a reserved key or a value that is not finite is
            // damage, even under a matching checksum.
            if keys.contains(&u64::MAX) || vectors.iter().any(|x| !x.is_finite()) {
                return None;
            }
            Some((lsn, Op::Upsert { keys, vectors }))
        }
        OP_DELETE if entries.len() == count.checked_mul(8)? => Some((
            lsn,
            Op::Delete {
                keys: (0..count).map(|i| key_at(8 * i)).collect(),
            },
        )),
        _ => None,
    }
}

/// What a log file's header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LogHeader {
    pub metric: Metric,
    pub dim: usize,
    pub generation: u64,
    pub first_lsn: u64,
}

impl LogHeader {
    fn encode(&self) -> [u8; HEADER_LEN as usize] {
        let mut b = [0u8; HEADER_LEN as usize];
        b[0..8].copy_from_slice(MAGIC);
        b[8..12].copy_from_slice(&VERSION.to_le_bytes());
        b[12..16].copy_from_slice(&self.metric.code().to_le_bytes());
        b[16..20].copy_from_slice(&(self.dim as u32).to_le_bytes());
        b[24..32].copy_from_slice(&self.generation.to_le_bytes());
        b[32..40].copy_from_slice(&self.first_lsn.to_le_bytes());
        let sum = xxh3_64(&b[..40]);
        b[40..48].copy_from_slice(&sum.to_le_bytes());
        b
    }

    fn decode(b: &[u8], path: &Path) -> Result<LogHeader> {
        let bad =
            |what: &str| Error::corrupt(format!("the log {} is corrupt: {what}", path.display()));
        if b.len() < HEADER_LEN as usize || &b[0..8] != MAGIC {
            return Err(bad("it does not start with a log header"));
        }
        let u32_at = |at: usize| u32::from_le_bytes(b[at..at + 4].try_into().expect("4"));
        let u64_at = |at: usize| u64::from_le_bytes(b[at..at + 8].try_into().expect("8"));
        if u64_at(40) != xxh3_64(&b[..40]) {
            return Err(bad("its header checksum does not match"));
        }
        if u32_at(8) != VERSION {
            return Err(bad("its version is not one this library reads"));
        }
        let metric = Metric::from_code(u32_at(12)).ok_or_else(|| bad("unknown metric"))?;
        let first_lsn = u64_at(32);
        if !(1..=MAX_LSN + 1).contains(&first_lsn) {
            return Err(bad(&format!("its first LSN {first_lsn} is out of range")));
        }
        Ok(LogHeader {
            metric,
            dim: u32_at(16) as usize,
            generation: u64_at(24),
            first_lsn,
        })
    }
}

/// Creates a new, empty log file (synced, with its directory entry).
pub(crate) fn create(path: &Path, header: &LogHeader) -> Result<File> {
    let io = |what: &str, e| Error::io(format!("cannot {what} {}", path.display()), e);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .map_err(|e| io("create", e))?;
    file.write_all(&header.encode())
        .map_err(|e| io("write", e))?;
    file.sync_all().map_err(|e| io("sync", e))?;
    Ok(file)
}

/// Reads a log from its start: the header, and every whole, intact record in LSN order.
pub(crate) struct Replay {
    pub header: LogHeader,
    /// The records read, with their LSNs.
    pub records: Vec<(u64, Op)>,
    /// Where the intact records end: a writer appends here; bytes after it did not form an
    /// intact record (a torn or damaged tail).
    pub end: u64,
}

/// Reads the log at `path` from byte `from` (the header is always read), for vectors of the
/// header's dimension. Records must continue the LSN sequence from `next_lsn` (the header's
/// first LSN when reading from the start).
pub(crate) fn replay(path: &Path, from: Option<(u64, u64)>) -> Result<Replay> {
    let io = |e| Error::io(format!("cannot read {}", path.display()), e);
    let mut file = File::open(path).map_err(io)?;
    let mut head = [0u8; HEADER_LEN as usize];
    let len = file.metadata().map_err(io)?.len();
    if len < HEADER_LEN {
        return Err(Error::corrupt(format!(
            "the log {} is truncated: {len} bytes, shorter than its header",
            path.display()
        )));
    }
    file.read_exact(&mut head).map_err(io)?;
    let header = LogHeader::decode(&head, path)?;
    let (start, mut next_lsn) = from.unwrap_or((HEADER_LEN, header.first_lsn));
    file.seek(SeekFrom::Start(start)).map_err(io)?;
    let mut rest = Vec::with_capacity(len.saturating_sub(start) as usize);
    file.read_to_end(&mut rest).map_err(io)?;
    let mut at = 0usize;
    let mut records = Vec::new();
    while rest.len() - at >= FRAME {
        let body_len = u32::from_le_bytes(rest[at..at + 4].try_into().expect("4")) as usize;
        let sum = u32::from_le_bytes(rest[at + 4..at + 8].try_into().expect("4"));
        if body_len > MAX_BODY || rest.len() - at - FRAME < body_len {
            break;
        }
        let body = &rest[at + FRAME..at + FRAME + body_len];
        if xxh3_64(body) as u32 != sum {
            break;
        }
        match decode(body, header.dim) {
            Some((lsn, op)) if lsn == next_lsn && lsn <= MAX_LSN => {
                records.push((lsn, op));
                next_lsn += 1;
                at += FRAME + body_len;
            }
            _ => break,
        }
    }
    Ok(Replay {
        header,
        records,
        end: start + at as u64,
    })
}

/// The path of generation `g`'s log in `dir`.
pub(crate) fn path_for(dir: &Path, generation: u64) -> PathBuf {
    dir.join(format!("wal-{generation:06}.log"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_torn_tails_are_cut() {
        let dir = tempfile::tempdir().unwrap();
        let path = path_for(dir.path(), 3);
        let header = LogHeader {
            metric: Metric::Dot,
            dim: 2,
            generation: 3,
            first_lsn: 10,
        };
        let mut file = create(&path, &header).unwrap();
        let ops = [
            Op::Upsert {
                keys: vec![1, 1 << 40],
                vectors: vec![1.0, 2.0, 3.0, 4.0],
            },
            Op::Delete { keys: vec![7] },
        ];
        for (i, op) in ops.iter().enumerate() {
            file.write_all(&encode(10 + i as u64, op)).unwrap();
        }
        let whole = replay(&path, None).unwrap();
        assert_eq!(whole.header, header);
        assert_eq!(
            whole.records,
            vec![(10, ops[0].clone()), (11, ops[1].clone())]
        );
        assert_eq!(whole.end, std::fs::metadata(&path).unwrap().len());
        // A partial record at the end is not applied, and reported.
        file.write_all(&encode(12, &ops[1])[..9]).unwrap();
        let torn = replay(&path, None).unwrap();
        assert_eq!((torn.records.len(), torn.end), (2, whole.end));
        assert_eq!(std::fs::metadata(&path).unwrap().len() - torn.end, 9);
        // Reading on from the end sees nothing new.
        let tail = replay(&path, Some((whole.end, 12))).unwrap();
        assert!(tail.records.is_empty());
        // A flipped bit stops the replay at the damaged record.
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[HEADER_LEN as usize + 20] ^= 1;
        std::fs::write(&path, bytes).unwrap();
        assert!(replay(&path, None).unwrap().records.is_empty());
    }
}
