//! The compact-codes section: which indexes have one, that scoring on it changes no result,
//! and that a damaged section is refused rather than trusted.
mod common;

use ann::{ErrorKind, Index, Metric};
use common::*;
use std::path::{Path, PathBuf};
use xxhash_rust::xxh3::xxh3_64 as xxh3;

const CODES: u32 = 1;

fn saved(dir: &Path, metric: Metric, n: usize, dim: usize) -> (PathBuf, Vec<Vec<f32>>) {
    let data = SplitMix64::new(11).vectors(n, dim, metric);
    let path = dir.join(format!("{metric}.ann"));
    build_index(metric, dim, &data, 8, 2, 5)
        .save(&path)
        .unwrap();
    (path, data)
}

fn codes_section(path: &Path) -> Option<ann::Section> {
    let index = Index::load(path, false).unwrap();
    let header = index.file_header().unwrap();
    header.sections.iter().copied().find(|s| s.kind == CODES)
}

#[test]
fn angular_euclidean_and_dot_files_carry_codes_and_the_others_do_not() {
    let dir = tempfile::tempdir().unwrap();
    for metric in Metric::ALL {
        let dim = if metric == Metric::Hamming { 64 } else { 24 };
        let (path, _) = saved(dir.path(), metric, 500, dim);
        let section = codes_section(&path);
        let expected = matches!(metric, Metric::Angular | Metric::Euclidean | Metric::Dot);
        assert_eq!(section.is_some(), expected, "{metric}");
        if let Some(s) = section {
            assert_eq!(s.offset % 64, 0, "sections are cache-line aligned");
            assert_eq!(s.flags, 0, "old readers may skip the section");
            // A code per item (24 bytes, in 32-byte rows) plus parameters and per-item terms.
            assert!(s.length >= 500 * 32, "{metric}: {} bytes", s.length);
        }
    }
}

/// The same trees searched with codes (the native file) and without (the same body loaded as
/// an Annoy file): identical ids and distances, for every search effort.
#[test]
fn scoring_on_codes_then_reranking_changes_no_result() {
    let dir = tempfile::tempdir().unwrap();
    for metric in [Metric::Angular, Metric::Euclidean, Metric::Dot] {
        let (dim, n) = (32, 3000);
        let (path, data) = saved(dir.path(), metric, n, dim);
        let with_codes = Index::load(&path, false).unwrap();
        let annoy_path = path.with_extension("annoy");
        with_codes.save_annoy(&annoy_path).unwrap();
        let exact = Index::load_annoy(&annoy_path, dim, metric, false).unwrap();
        let queries = SplitMix64::new(12).vectors(150, dim, metric);
        for search_k in [None, Some(200), Some(2000), Some(n * 8)] {
            for q in &queries {
                let a = with_codes.get_nns_by_vector(q, 10, search_k).unwrap();
                let b = exact.get_nns_by_vector(q, 10, search_k).unwrap();
                assert_eq!(a, b, "{metric}, search_k {search_k:?}");
            }
            for item in (0..n as u64).step_by(97) {
                let a = with_codes.get_nns_by_item(item, 10, search_k).unwrap();
                let b = exact.get_nns_by_item(item, 10, search_k).unwrap();
                assert_eq!(a, b, "{metric}, item {item}, search_k {search_k:?}");
            }
        }
        // Exhaustive search with codes is exact.
        for q in queries.iter().take(30) {
            let ids: Vec<u64> = with_codes
                .get_nns_by_vector(q, 10, Some(n * 8))
                .unwrap()
                .iter()
                .map(|r| r.id)
                .collect();
            assert_eq!(recall(metric, &data, q, &ids, 10), 1.0, "{metric}");
        }
    }
}

/// Ids that were never added have no code and are never returned.
#[test]
fn holes_are_never_returned() {
    let mut index = Index::new(8, Metric::Euclidean).unwrap();
    let data = SplitMix64::new(3).vectors(300, 8, Metric::Euclidean);
    for (i, v) in data.iter().enumerate() {
        index.add_item(3 * i as u64, v).unwrap();
    }
    index.build(5, 1).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("holes.ann");
    index.save(&path).unwrap();
    let loaded = Index::load(&path, false).unwrap();
    for q in data.iter().take(50) {
        for hit in loaded.get_nns_by_vector(q, 20, Some(100_000)).unwrap() {
            assert_eq!(hit.id % 3, 0, "id {} was never added", hit.id);
        }
    }
}

/// Rewrites a saved file with `edit` applied to its codes section, then fixes the header's
/// checksum (and, with `resign_section`, the section's) so only the edit is wrong.
fn with_edited_codes(path: &Path, resign_section: bool, edit: impl Fn(&mut [u8])) -> PathBuf {
    let section = codes_section(path).unwrap();
    let mut bytes = std::fs::read(path).unwrap();
    let range = section.offset as usize..(section.offset + section.length) as usize;
    edit(&mut bytes[range.clone()]);
    if resign_section {
        let entry = 96; // the first section entry; its checksum is its last 8 bytes
        let sum = xxh3(&bytes[range]);
        bytes[entry + 24..entry + 32].copy_from_slice(&sum.to_le_bytes());
    }
    let h = xxh3(&bytes[..504]);
    bytes[504..512].copy_from_slice(&h.to_le_bytes());
    let out = path.with_extension(format!("edited-{}", rand_suffix()));
    std::fs::write(&out, bytes).unwrap();
    out
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

#[test]
fn a_damaged_codes_section_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (path, data) = saved(dir.path(), Metric::Angular, 400, 16);
    let put_u32 =
        |at: usize, v: u32| move |s: &mut [u8]| s[at..at + 4].copy_from_slice(&v.to_le_bytes());
    let put_u64 =
        |at: usize, v: u64| move |s: &mut [u8]| s[at..at + 8].copy_from_slice(&v.to_le_bytes());

    // Contradicting the index (dim, item count, stride) or pointing outside the section: the
    // loader refuses the file.
    for (what, file) in [
        ("dim", with_edited_codes(&path, true, put_u32(8, 17))),
        ("n_items", with_edited_codes(&path, true, put_u64(16, 401))),
        ("stride", with_edited_codes(&path, true, put_u32(12, 3))),
        (
            "rows offset",
            with_edited_codes(&path, true, put_u64(40, u64::MAX - 7)),
        ),
        (
            "parameters offset",
            with_edited_codes(&path, true, put_u64(24, 1 << 40)),
        ),
        (
            "misaligned terms",
            with_edited_codes(&path, true, put_u64(32, 66)),
        ),
    ] {
        let err = Index::load(&file, false).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Corrupt, "{what}: {err}");
        assert!(err.to_string().contains("codes section"), "{what}: {err}");
    }

    // Damaged bytes inside the rows: loading is O(1) and does not see them; verify does, and
    // queries never read out of bounds.
    let flipped = with_edited_codes(&path, false, |s| {
        let last = s.len() - 1;
        s[last] ^= 0xff;
    });
    let index = Index::load(&flipped, false).unwrap();
    assert_eq!(
        index.verify().unwrap_err().kind(),
        ErrorKind::ChecksumMismatch
    );
    index.get_nns_by_vector(&data[0], 10, None).unwrap();

    // A codes version this library does not know is ignored: queries score the float vectors.
    let future = with_edited_codes(&path, true, put_u32(0, 2));
    let index = Index::load(&future, false).unwrap();
    index.verify().unwrap();
    let original = Index::load(&path, false).unwrap();
    for q in data.iter().take(20) {
        assert_eq!(
            index.get_nns_by_vector(q, 10, None).unwrap(),
            original.get_nns_by_vector(q, 10, None).unwrap()
        );
    }
}

/// The section is written by every route that writes a native file, and unbuild drops it.
#[test]
fn codes_follow_the_index_through_unbuild_and_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    let data = SplitMix64::new(8).vectors(600, 12, Metric::Euclidean);
    let mut index = build_index(Metric::Euclidean, 12, &data, 4, 1, 9);
    let first = dir.path().join("first.ann");
    index.save(&first).unwrap();
    index.unbuild().unwrap();
    index.add_item(600, &data[0]).unwrap();
    index.build(4, 1).unwrap();
    let second = dir.path().join("second.ann");
    index.save(&second).unwrap();
    let (a, b) = (
        codes_section(&first).unwrap(),
        codes_section(&second).unwrap(),
    );
    assert!(b.length > a.length, "the rebuilt index has one more code");
    let loaded = Index::load(&second, false).unwrap();
    loaded.verify().unwrap();
    // Item 600 duplicates item 0: both at distance 0, the smaller id first.
    let hits = loaded.get_nns_by_item(600, 2, Some(10_000)).unwrap();
    assert_eq!((hits[0].id, hits[1].id), (0, 600));
    assert_eq!((hits[0].distance, hits[1].distance), (0.0, 0.0));
}
