//! The optional sections (codes, keys, graph) and the section table, structure-aware: a valid
//! file of each metric with all three sections is built once, then the input patches it and
//! its checksums are repaired, so every patch reaches the section parsers, `verify` and the
//! queries. Input: a byte picking the metric's file, a byte picking the region patched (the
//! section table in the header, the sections, or the node body), then (offset u16, value u8)
//! triples within that region, then optionally a cut: a final byte 0xFF truncates the file
//! at the last patch's offset.

use super::METRICS;
use ann::{Index, Metric};
use std::sync::OnceLock;

/// Per metric: the file's bytes and where its body ends (the sections follow).
fn files() -> &'static Vec<(Vec<u8>, usize)> {
    static FILES: OnceLock<Vec<(Vec<u8>, usize)>> = OnceLock::new();
    FILES.get_or_init(|| METRICS.iter().map(|&m| build(m)).collect())
}

fn build(metric: Metric) -> (Vec<u8>, usize) {
    let dim = if metric == Metric::Hamming { 64 } else { 8 };
    let mut index = Index::new(dim, metric).unwrap();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for i in 0..120u64 {
        let v: Vec<f32> = (0..dim)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1);
                let x = (state >> 40) as f32 / (1u64 << 24) as f32;
                if metric == Metric::Hamming {
                    x.round()
                } else {
                    x - 0.5
                }
            })
            .collect();
        index.add_item(i * 1_000_003 + 7, &v).unwrap(); // sparse: the file has a keys section
    }
    index.build(3, 1).unwrap();
    index.build_graph(8, 1).unwrap();
    let path = super::scratch(&format!("sections-{metric}"));
    index.save(&path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    let end = body_end(&bytes);
    (bytes, end)
}

/// Where a valid file's body ends: its offset plus its length, from the header.
fn body_end(bytes: &[u8]) -> usize {
    let at = |i: usize| u64::from_le_bytes(bytes[i..i + 8].try_into().unwrap()) as usize;
    at(64) + at(72)
}

/// Runs one input.
pub fn run(data: &[u8]) {
    if data.len() < 2 {
        return;
    }
    let (base, body_end) = &files()[data[0] as usize % METRICS.len()];
    let mut file = base.clone();
    let region = match data[1] % 3 {
        0 => 88..480,               // section count and table
        1 => *body_end..file.len(), // the sections
        _ => 512..*body_end,        // the nodes
    };
    let mut last = region.start;
    let patches = &data[2..];
    for patch in patches.chunks_exact(3) {
        let offset =
            region.start + usize::from(u16::from_le_bytes([patch[0], patch[1]])) % region.len();
        file[offset] = patch[2];
        last = offset;
    }
    if patches.len() % 3 == 1 && patches.last() == Some(&0xFF) {
        file.truncate(last);
    }
    super::repair_checksums(&mut file);
    let path = super::write_scratch("sections", &file);
    if let Ok(index) = Index::load(&path, false) {
        super::exercise(&index);
    }
}
