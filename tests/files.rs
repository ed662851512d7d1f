//! Index files: damaged files are refused with the right error and never crash; saving is
//! atomic; on-disk builds produce the same index as in-memory ones.
mod common;

use ann::{ErrorKind, Index, Metric};
use common::*;
use std::path::{Path, PathBuf};

fn saved_index(dir: &Path, metric: Metric) -> (PathBuf, Vec<Vec<f32>>) {
    let dim = if metric == Metric::Hamming { 64 } else { 8 };
    let data = SplitMix64::new(7).vectors(500, dim, metric);
    let path = dir.join(format!("{metric}.ann"));
    build_index(metric, dim, &data, 4, 1, 1)
        .save(&path)
        .unwrap();
    (path, data)
}

fn load_kind(path: &Path) -> ErrorKind {
    Index::load(path, false).unwrap_err().kind()
}

fn rewrite(path: &Path, f: impl FnOnce(&mut Vec<u8>)) -> PathBuf {
    let mut bytes = std::fs::read(path).unwrap();
    f(&mut bytes);
    let out = path.with_extension("bad");
    std::fs::write(&out, bytes).unwrap();
    out
}

#[test]
fn damaged_headers_are_refused_with_the_right_error() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = saved_index(dir.path(), Metric::Angular);
    let len = std::fs::metadata(&path).unwrap().len() as usize;

    assert_eq!(
        load_kind(&rewrite(&path, |b| b[1] = b'X')),
        ErrorKind::BadMagic
    );
    assert_eq!(
        load_kind(&rewrite(&path, |b| b[8] = 9)),
        ErrorKind::UnsupportedVersion
    );
    assert_eq!(
        load_kind(&rewrite(&path, |b| b[20] ^= 1)),
        ErrorKind::ChecksumMismatch
    );
    assert_eq!(
        load_kind(&rewrite(&path, |b| b.truncate(len - 1))),
        ErrorKind::Truncated
    );
    assert_eq!(
        load_kind(&rewrite(&path, |b| b.truncate(300))),
        ErrorKind::Truncated
    );
    assert_eq!(
        load_kind(&rewrite(&path, |b| b.truncate(0))),
        ErrorKind::Truncated
    );
    assert_eq!(
        load_kind(&rewrite(&path, |b| b.extend([0; 8]))),
        ErrorKind::SizeMismatch
    );
    let missing = Index::load(dir.path().join("missing.ann"), false).unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::Io);
    assert!(missing.to_string().contains("missing.ann"), "{missing}");
    let text = rewrite(&path, |b| {
        *b = b"hello, this is not an index at all".to_vec()
    });
    let err = Index::load(&text, false).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadMagic);
    assert!(err.to_string().contains("not an ann index"), "{err}");
}

/// Flips bytes all over the body: loading stays O(1) and succeeds, `verify` reports the damage,
/// and queries either work or return an error; nothing crashes or reads out of bounds.
#[test]
fn damaged_bodies_are_caught_by_verify_and_never_crash_queries() {
    let dir = tempfile::tempdir().unwrap();
    for metric in Metric::ALL {
        let (path, data) = saved_index(dir.path(), metric);
        let len = std::fs::metadata(&path).unwrap().len() as usize;
        let mut rng = SplitMix64::new(metric as u64);
        for round in 0..40 {
            let bad = rewrite(&path, |b| {
                for _ in 0..1 + round % 5 {
                    let at = 512 + (rng.next_u64() as usize) % (len - 512);
                    b[at] ^= 1 << (rng.next_u64() % 8);
                }
            });
            let index = Index::load(&bad, false).unwrap();
            assert_eq!(
                index.verify().unwrap_err().kind(),
                ErrorKind::ChecksumMismatch
            );
            for q in &data[..5] {
                let _ = index.get_nns_by_vector(q, 10, Some(5000));
            }
            let _ = index.get_nns_by_item(3, 10, None);
        }
    }
}

/// A file whose checksums are right but whose structure is wrong (as a buggy writer might
/// make): references out of range and cycles give `Corrupt`, from queries and from verify.
#[test]
fn structurally_broken_files_give_corrupt_errors() {
    let dir = tempfile::tempdir().unwrap();
    let dim = 2;
    let mut index = Index::new(dim, Metric::Euclidean).unwrap();
    for i in 0..40 {
        index.add_item(i, &[i as f32, (i * i % 7) as f32]).unwrap();
    }
    index.build(1, 1).unwrap();
    let path = dir.path().join("s.ann");
    index.save(&path).unwrap();
    let header = Index::load(&path, false)
        .unwrap()
        .file_header()
        .unwrap()
        .clone();
    let node_size = header.node_size as usize;
    let root = 512 + (header.n_nodes as usize - 1) * node_size;

    // Re-sign a modified file so only the structure is wrong.
    let body_end = 512 + header.body_length as usize;
    let resign = |bytes: &mut Vec<u8>| {
        let body = xxh3(&bytes[512..body_end]);
        bytes[80..88].copy_from_slice(&body.to_le_bytes());
        let h = xxh3(&bytes[..504]);
        bytes[504..512].copy_from_slice(&h.to_le_bytes());
    };
    // The root's first child points far outside the index.
    let out_of_range = rewrite(&path, |b| {
        b[root + 8..root + 12].copy_from_slice(&1_000_000i32.to_le_bytes());
        resign(b);
    });
    let broken = Index::load(&out_of_range, false).unwrap();
    assert_eq!(broken.verify().unwrap_err().kind(), ErrorKind::Corrupt);
    let q = [1.0, 1.0];
    let err = broken.get_nns_by_vector(&q, 40, Some(10_000)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt);

    // The root points at itself: a cycle.
    let cycle = rewrite(&path, |b| {
        let me = (header.n_nodes - 1) as i32;
        b[root + 8..root + 12].copy_from_slice(&me.to_le_bytes());
        b[root + 12..root + 16].copy_from_slice(&me.to_le_bytes());
        resign(b);
    });
    let broken = Index::load(&cycle, false).unwrap();
    assert_eq!(broken.verify().unwrap_err().kind(), ErrorKind::Corrupt);
    assert_eq!(
        broken
            .get_nns_by_vector(&q, 5, Some(10_000))
            .unwrap_err()
            .kind(),
        ErrorKind::Corrupt
    );

    // A root that does not record n_items is refused at load.
    let bad_root = rewrite(&path, |b| {
        b[root..root + 4].copy_from_slice(&3i32.to_le_bytes());
        resign(b);
    });
    assert_eq!(load_kind(&bad_root), ErrorKind::Corrupt);
}

/// The format's published checksum (xxh3-64), so the test can forge well-signed bad files.
fn xxh3(bytes: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(bytes)
}

#[test]
fn saving_over_a_mapped_file_leaves_its_readers_working() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("live.ann");
    let data = SplitMix64::new(1).vectors(1000, 12, Metric::Euclidean);
    let old = build_index(Metric::Euclidean, 12, &data, 5, 1, 1);
    old.save(&path).unwrap();
    let reader = Index::load(&path, true).unwrap();
    let before: Vec<_> = data[..20]
        .iter()
        .map(|q| reader.get_nns_by_vector(q, 5, None).unwrap())
        .collect();

    // A different index replaces the file while `reader` has the old one mapped.
    let other = SplitMix64::new(2).vectors(300, 12, Metric::Euclidean);
    let new = build_index(Metric::Euclidean, 12, &other, 3, 1, 1);
    new.save(&path).unwrap();

    let after: Vec<_> = data[..20]
        .iter()
        .map(|q| reader.get_nns_by_vector(q, 5, None).unwrap())
        .collect();
    assert_eq!(before, after, "the old mapping must be untouched");
    assert_eq!(reader.n_items(), 1000);
    reader.verify().unwrap();
    let fresh = Index::load(&path, false).unwrap();
    assert_eq!(fresh.n_items(), 300);
    // No temporary files are left behind.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("live.ann")]);
}

#[test]
fn saving_into_a_missing_directory_fails_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let data = SplitMix64::new(1).vectors(10, 3, Metric::Angular);
    let index = build_index(Metric::Angular, 3, &data, 2, 1, 1);
    let err = index
        .save(dir.path().join("no/such/dir/x.ann"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io);
}

#[test]
fn on_disk_build_matches_the_in_memory_build() {
    let dir = tempfile::tempdir().unwrap();
    for metric in Metric::ALL {
        let dim = if metric == Metric::Hamming { 96 } else { 10 };
        let data = SplitMix64::new(4).vectors(2000, dim, metric);
        let in_memory = dir.path().join(format!("mem-{metric}.ann"));
        build_index(metric, dim, &data, 6, 2, 3)
            .save(&in_memory)
            .unwrap();

        let on_disk = dir.path().join(format!("disk-{metric}.ann"));
        let mut index = Index::new(dim, metric).unwrap();
        index.set_seed(3).unwrap();
        // Some items before switching to disk, the rest after: both must land in the file.
        for (i, v) in data.iter().enumerate().take(100) {
            index.add_item(i as u64, v).unwrap();
        }
        index.on_disk_build(&on_disk).unwrap();
        for (i, v) in data.iter().enumerate().skip(100) {
            index.add_item(i as u64, v).unwrap();
        }
        // Until the build finishes, the file is not a loadable index.
        assert_eq!(load_kind(&on_disk), ErrorKind::BadMagic);
        index.build(6, 2).unwrap();
        assert_eq!(index.file_path(), Some(on_disk.as_path()));
        assert_eq!(
            std::fs::read(&in_memory).unwrap(),
            std::fs::read(&on_disk).unwrap(),
            "{metric}"
        );
        // Queries work on the finished on-disk index, and it is read-only now.
        let fresh = build_index(metric, dim, &data, 6, 2, 3);
        assert_eq!(
            index.get_nns_by_item(5, 10, None).unwrap(),
            fresh.get_nns_by_item(5, 10, None).unwrap()
        );
        assert_eq!(
            index.add_item(0, &data[0]).unwrap_err().kind(),
            ErrorKind::InvalidState
        );
        index.verify().unwrap();
        // Saving it elsewhere copies it.
        let copy = dir.path().join(format!("copy-{metric}.ann"));
        index.save(&copy).unwrap();
        assert_eq!(
            std::fs::read(&copy).unwrap(),
            std::fs::read(&on_disk).unwrap()
        );
    }
}
