//! A live index directory from arbitrary bytes: its manifest, its log (replayed on open) and
//! one segment file. Readers open it, a writer opens it (which may cut a torn log tail), writes
//! and compacts, and every query kind runs on whatever opened.
//!
//! Input: a flags byte (bit 0: repair the manifest's, the log's and the segment's checksums,
//! so mutations reach the parsers behind them; bit 1: also open a writer; bit 2: and compact),
//! then the manifest (u16 length, bytes), the log (u16 length, bytes), and the rest is the
//! segment. The files are named as generation 1 names them: `wal-000001.log`,
//! `seg-000001.ann`.

use ann::{Index, Metric, Writer, WriterOptions};
use std::path::Path;
use xxhash_rust::xxh3::xxh3_64;

fn take<'a>(data: &mut &'a [u8]) -> Option<&'a [u8]> {
    let (len, rest) = data.split_first_chunk::<2>()?;
    let len = usize::from(u16::from_le_bytes(*len)).min(rest.len());
    let (part, rest) = rest.split_at(len);
    *data = rest;
    Some(part)
}

/// The manifest with its checksum line recomputed over the lines before it.
fn repair_manifest(text: &[u8]) -> Vec<u8> {
    let body_end = text
        .windows(9)
        .rposition(|w| w == b"checksum ")
        .unwrap_or(text.len());
    let mut out = text[..body_end].to_vec();
    let sum = xxh3_64(&out);
    out.extend_from_slice(format!("checksum {sum:016x}\n").as_bytes());
    out
}

/// The log with its header's and every record's checksums recomputed.
fn repair_log(log: &mut [u8]) {
    if log.len() < 64 {
        return;
    }
    let sum = xxh3_64(&log[..40]);
    log[40..48].copy_from_slice(&sum.to_le_bytes());
    let mut at = 64usize;
    while at + 8 <= log.len() {
        let len = u32::from_le_bytes(log[at..at + 4].try_into().unwrap()) as usize;
        let Some(end) = (at + 8).checked_add(len).filter(|&e| e <= log.len()) else {
            break;
        };
        let sum = xxh3_64(&log[at + 8..end]) as u32;
        log[at + 4..at + 8].copy_from_slice(&sum.to_le_bytes());
        at = end;
    }
}

/// The metric and dimension the manifest states, for a writer that must match them.
fn settings(manifest: &[u8]) -> Option<(Metric, usize)> {
    let text = std::str::from_utf8(manifest).ok()?;
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
    };
    let metric = field("metric")?.parse::<Metric>().ok()?;
    let dim = field("dim")?
        .parse::<usize>()
        .ok()
        .filter(|&d| (1..=1024).contains(&d))?;
    Some((metric, dim))
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::write(dir.join(name), bytes).expect("the scratch directory can be written");
}

/// Runs one input.
pub fn run(data: &[u8]) {
    let Some((&flags, mut data)) = data.split_first() else {
        return;
    };
    let (Some(manifest), Some(log)) = (take(&mut data), take(&mut data)) else {
        return;
    };
    let (mut manifest, mut log, mut segment) = (manifest.to_vec(), log.to_vec(), data.to_vec());
    if flags & 1 == 1 {
        manifest = repair_manifest(&manifest);
        repair_log(&mut log);
        super::repair_checksums(&mut segment);
    }
    let dir = super::scratch("live");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("the scratch directory can be made");
    write(&dir, "MANIFEST", &manifest);
    write(&dir, "wal-000001.log", &log);
    if !segment.is_empty() {
        write(&dir, "seg-000001.ann", &segment);
    }
    if let Ok(reader) = Index::open(&dir, false) {
        super::exercise(&reader);
        let _ = reader.refresh();
    }
    if flags & 2 == 0 {
        return;
    }
    let Some((metric, dim)) = settings(&manifest) else {
        return;
    };
    let mut options = WriterOptions::new(dim, metric);
    options.n_trees = 2;
    let Ok(writer) = Writer::open(&dir, &options) else {
        return;
    };
    let _ = writer.upsert(3, &vec![0.25; dim]);
    let _ = writer.delete(0);
    let index = writer.index();
    super::exercise(&index);
    if flags & 4 == 4 && index.n_stored() <= 500 {
        let _ = writer.compact(1);
        super::exercise(&index);
    }
    let _ = writer.sync();
}
