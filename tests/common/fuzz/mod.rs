//! The fuzz targets: what each one does with its input, and what they share (a scratch path
//! per process, checksum repair so mutated files get past the header check and into the
//! parsers behind it, and `exercise`, which runs every kind of query on whatever loaded). A
//! target passes when nothing panics, hangs, leaks or reads out of bounds; errors are the
//! expected answer to most inputs.
//!
//! Each target is a module with `run(data)`, used by `fuzz/fuzz_targets/` and by the normal
//! test suite's `tests/fuzz_findings.rs` on every kept finding.

pub mod annoy_file;
pub mod live_dir;
pub mod native_file;
pub mod search_inputs;
pub mod sections;
pub mod shards;

/// A fuzz target: its name (its directory under `fuzz/corpus/`) and what runs one input.
pub type Target = (&'static str, fn(&[u8]));

/// Every target.
pub const TARGETS: [Target; 6] = [
    ("native_file", native_file::run),
    ("annoy_file", annoy_file::run),
    ("sections", sections::run),
    ("live_dir", live_dir::run),
    ("shards", shards::run),
    ("search_inputs", search_inputs::run),
];

/// Every metric, in their codes' order.
pub const METRICS: [Metric; 5] = [
    Metric::Angular,
    Metric::Euclidean,
    Metric::Manhattan,
    Metric::Dot,
    Metric::Hamming,
];

use ann::{Index, Metric, SearchOptions};
use std::path::{Path, PathBuf};
use xxhash_rust::xxh3::xxh3_64;

/// The native header's size and the offsets of the fields `repair_checksums` reads and writes
/// (see `src/format.rs`).
const HEADER: usize = 512;
const BODY_OFFSET: usize = 64;
const BODY_LENGTH: usize = 72;
const BODY_CHECKSUM: usize = 80;
const SECTION_COUNT: usize = 88;
const SECTION_TABLE: usize = 96;
const SECTION_ENTRY: usize = 32;
const MAX_SECTIONS: usize = 12;
const HEADER_CHECKSUM: usize = 504;

/// A path for this thread's scratch file or directory `name`, on tmpfs when there is one
/// (per thread: the test suite replays findings on several threads of one process).
pub fn scratch(name: &str) -> PathBuf {
    let base = if Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    let thread = format!("{:?}", std::thread::current().id());
    let thread: String = thread.chars().filter(char::is_ascii_digit).collect();
    base.join(format!("ann-fuzz-{}-{thread}-{name}", std::process::id()))
}

/// Removes this thread's scratch files and directories.
pub fn remove_scratch() {
    let probe = scratch("");
    let (Some(dir), Some(prefix)) = (probe.parent(), probe.file_name()) else {
        return;
    };
    let prefix = prefix.to_string_lossy().into_owned();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            let path = entry.path();
            let _ = std::fs::remove_dir_all(&path).or_else(|_| std::fs::remove_file(&path));
        }
    }
}

/// Writes `bytes` to the scratch file `name` and returns its path.
pub fn write_scratch(name: &str, bytes: &[u8]) -> PathBuf {
    let path = scratch(name);
    std::fs::write(&path, bytes).expect("the scratch file can be written");
    path
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

fn put_u64(b: &mut [u8], at: usize, value: u64) {
    b[at..at + 8].copy_from_slice(&value.to_le_bytes());
}

/// The bytes `offset..offset + length` of `b`, when they lie inside it.
fn range(b: &[u8], offset: u64, length: u64) -> Option<std::ops::Range<usize>> {
    let end = offset.checked_add(length)?;
    (end <= b.len() as u64).then_some(offset as usize..end as usize)
}

/// Recomputes the checksums a native file carries, as a writer would: each section's and the
/// body's (where their ranges lie inside the file), then the header's.
pub fn repair_checksums(bytes: &mut [u8]) {
    if bytes.len() < HEADER {
        return;
    }
    if let Some(body) = range(
        bytes,
        u64_at(bytes, BODY_OFFSET),
        u64_at(bytes, BODY_LENGTH),
    ) {
        let sum = xxh3_64(&bytes[body]);
        put_u64(bytes, BODY_CHECKSUM, sum);
    }
    let count = u32::from_le_bytes(bytes[SECTION_COUNT..SECTION_COUNT + 4].try_into().unwrap());
    for i in 0..(count as usize).min(MAX_SECTIONS) {
        let entry = SECTION_TABLE + i * SECTION_ENTRY;
        if let Some(r) = range(bytes, u64_at(bytes, entry + 8), u64_at(bytes, entry + 16)) {
            let sum = xxh3_64(&bytes[r]);
            put_u64(bytes, entry + 24, sum);
        }
    }
    let sum = xxh3_64(&bytes[..HEADER_CHECKSUM]);
    put_u64(bytes, HEADER_CHECKSUM, sum);
}

/// Query vectors of `dim` values a hostile caller or a damaged file might meet: zeros, ones,
/// huge values, and alternating signs.
fn probes(dim: usize) -> Vec<Vec<f32>> {
    vec![
        vec![0.0; dim],
        vec![1.0; dim],
        vec![3.0e38; dim],
        (0..dim)
            .map(|i| if i % 2 == 0 { 0.5 } else { -2.0 })
            .collect(),
    ]
}

/// Every query kind, with bounded effort, on an index that loaded: `verify`, item calls on the
/// first ids, Annoy's calls, searches with `ef`, allow- and deny-lists and a predicate, and a
/// batch. Their results are ignored: only crashes, hangs and bad reads count.
pub fn exercise(index: &Index) {
    let _ = index.verify();
    let dim = index.dim();
    let n_items = index.n_items();
    let _ = (
        index.n_stored(),
        index.n_trees(),
        index.has_graph(),
        index.metric(),
    );
    for id in 0..n_items.min(4) {
        let _ = index.get_item_vector(id);
        let _ = index.get_distance(id, n_items - 1);
        let _ = index.get_nns_by_item(id, 5, Some(64));
    }
    let _ = index.get_nns_by_item(u64::MAX, 5, Some(64));
    let mut options = SearchOptions::new();
    options.set_search_k(Some(200)).set_ef(Some(16));
    let mut allowed = SearchOptions::new();
    allowed
        .set_search_k(Some(100))
        .set_allow_list(&[0, 1, 2, n_items, u64::MAX - 1]);
    let mut denied = SearchOptions::new();
    denied.set_search_k(Some(100)).set_deny_list(&[0, 1]);
    let mut predicate = SearchOptions::new();
    predicate
        .set_search_k(Some(100))
        .set_filter(|key| key % 3 == 0);
    for q in probes(dim) {
        let _ = index.get_nns_by_vector(&q, 10, Some(200));
        for o in [&options, &allowed, &denied, &predicate] {
            let _ = index.search(&q, 10, o);
        }
    }
    if n_items > 0 {
        let _ = index.search_by_item(0, 3, &allowed);
    }
    let queries: Vec<f32> = probes(dim).concat();
    let mut ids = vec![0u64; 4 * 5];
    let mut counts = vec![0usize; 4];
    let _ = index.search_batch(&queries, 5, Some(50), 1, &mut ids, None, &mut counts);
}
