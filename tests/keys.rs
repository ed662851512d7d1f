//! Any 64-bit key: sparse keys round-trip through files, memory grows with the item count,
//! dense keys keep Annoy's layout byte for byte, and the reserved key is refused.
mod common;

use ann::{ErrorKind, Index, Metric};
use common::*;

const KEYS_SECTION: u32 = 2;

/// Keys no dense layout could hold: huge, scattered, string hashes.
fn sparse_keys(n: usize) -> Vec<u64> {
    let mut rng = SplitMix64::new(77);
    let mut keys: Vec<u64> = vec![1 << 40, (1 << 63) + 5, u64::MAX - 1, 0];
    while keys.len() < n {
        keys.push(rng.next_u64() >> (rng.next_u64() % 40));
    }
    keys.sort_unstable();
    keys.dedup();
    keys.truncate(n);
    // Added in no particular order.
    keys.sort_by_key(|k| k.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    keys
}

fn keyed_index(metric: Metric, dim: usize, keys: &[u64], data: &[Vec<f32>], seed: u64) -> Index {
    let mut index = Index::new(dim, metric).unwrap();
    index.set_seed(seed).unwrap();
    for (key, v) in keys.iter().zip(data) {
        index.add_item(*key, v).unwrap();
    }
    index.build(8, 2).unwrap();
    index
}

#[test]
fn sparse_keys_round_trip_through_save_and_load_for_every_metric() {
    let dir = tempfile::tempdir().unwrap();
    for metric in Metric::ALL {
        let dim = if metric == Metric::Hamming { 64 } else { 12 };
        let keys = sparse_keys(700);
        let data = SplitMix64::new(5).vectors(keys.len(), dim, metric);
        let built = keyed_index(metric, dim, &keys, &data, 3);
        let path = dir.path().join(format!("{metric}.ann"));
        built.save(&path).unwrap();
        let loaded = Index::load(&path, false).unwrap();
        loaded.verify().unwrap();
        let max = *keys.iter().max().unwrap();
        for index in [&built, &loaded] {
            assert_eq!(index.n_stored(), keys.len() as u64, "{metric}");
            assert_eq!(index.n_items(), max + 1, "{metric}: largest key + 1");
            for (key, v) in keys.iter().zip(&data).step_by(37) {
                assert_eq!(
                    &index.get_item_vector(*key).unwrap(),
                    v,
                    "{metric} key {key}"
                );
                let hits = index.get_nns_by_item(*key, 5, Some(100_000)).unwrap();
                assert!(
                    hits.iter().all(|h| keys.contains(&h.id)),
                    "{metric}: unknown key"
                );
                if metric != Metric::Dot {
                    assert_eq!(
                        hits[0].distance, 0.0,
                        "{metric}: the item is nearest itself"
                    );
                }
                for h in &hits {
                    let d = index.get_distance(*key, h.id).unwrap();
                    assert!((d - h.distance).abs() <= 1e-4 * (1.0 + d.abs()), "{metric}");
                }
            }
        }
        // Identical answers from the built index and the loaded file.
        for q in SplitMix64::new(6).vectors(20, dim, metric) {
            assert_eq!(
                built.get_nns_by_vector(&q, 10, None).unwrap(),
                loaded.get_nns_by_vector(&q, 10, None).unwrap()
            );
        }
        // Exhaustive searches are exact, in keys.
        for q in SplitMix64::new(7).vectors(10, dim, metric).iter() {
            let ids: Vec<u64> = loaded
                .get_nns_by_vector(q, 10, Some(1_000_000))
                .unwrap()
                .iter()
                .map(|h| keys.iter().position(|k| *k == h.id).unwrap() as u64)
                .collect();
            assert_eq!(recall(metric, &data, q, &ids, 10), 1.0, "{metric}");
        }
        let header = loaded.file_header().unwrap();
        assert!(
            header.sections.iter().any(|s| s.kind == KEYS_SECTION),
            "{metric}"
        );
        let err = loaded.save_annoy(dir.path().join("x.annoy")).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidState);
        assert!(err.to_string().contains("Annoy's layout"), "{err}");
    }
}

#[test]
fn memory_and_files_grow_with_the_item_count_not_the_largest_key() {
    let dir = tempfile::tempdir().unwrap();
    let data = SplitMix64::new(9).vectors(1000, 16, Metric::Euclidean);
    let dense: Vec<u64> = (0..1000).collect();
    let huge: Vec<u64> = (0..1000u64).map(|i| (i << 50) | 12345).collect();
    let (a, b) = (dir.path().join("dense.ann"), dir.path().join("huge.ann"));
    keyed_index(Metric::Euclidean, 16, &dense, &data, 1)
        .save(&a)
        .unwrap();
    keyed_index(Metric::Euclidean, 16, &huge, &data, 1)
        .save(&b)
        .unwrap();
    let (la, lb) = (
        std::fs::metadata(&a).unwrap().len(),
        std::fs::metadata(&b).unwrap().len(),
    );
    // The keys section costs 8 bytes per item (plus alignment); nothing grows with 2^59.
    assert!(lb > la && lb - la <= 8 * 1000 + 256, "{la} vs {lb}");
}

/// Keys 0..n-1 added in any order give exactly the file an in-order build gives: Annoy's
/// layout, no keys section, readable by save_annoy.
#[test]
fn dense_keys_in_any_order_keep_annoys_layout() {
    let dir = tempfile::tempdir().unwrap();
    let data = SplitMix64::new(10).vectors(3000, 8, Metric::Angular);
    let in_order: Vec<u64> = (0..3000).collect();
    let mut shuffled = in_order.clone();
    shuffled.sort_by_key(|k| k.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let reordered: Vec<Vec<f32>> = shuffled.iter().map(|&k| data[k as usize].clone()).collect();
    let (a, b) = (dir.path().join("a.ann"), dir.path().join("b.ann"));
    keyed_index(Metric::Angular, 8, &in_order, &data, 4)
        .save(&a)
        .unwrap();
    let index = keyed_index(Metric::Angular, 8, &shuffled, &reordered, 4);
    index.save(&b).unwrap();
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    let loaded = Index::load(&b, false).unwrap();
    assert!(loaded
        .file_header()
        .unwrap()
        .sections
        .iter()
        .all(|s| s.kind != KEYS_SECTION));
    loaded.save_annoy(dir.path().join("b.annoy")).unwrap();

    // Annoy's holes stay too: every other key, as Annoy users add them.
    let mut holes = Index::new(8, Metric::Angular).unwrap();
    for (i, v) in data.iter().enumerate().take(500) {
        holes.add_item(2 * i as u64, v).unwrap();
    }
    holes.build(4, 1).unwrap();
    assert_eq!((holes.n_items(), holes.n_stored()), (999, 500));
    holes.save_annoy(dir.path().join("holes.annoy")).unwrap();
    let err = holes.get_item_vector(3).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.to_string().contains("never added"), "{err}");
}

#[test]
fn replacing_unbuilding_and_building_on_disk_keep_keys() {
    let dir = tempfile::tempdir().unwrap();
    let keys = sparse_keys(400);
    let data = SplitMix64::new(11).vectors(keys.len() + 1, 6, Metric::Euclidean);
    let mut index = keyed_index(Metric::Euclidean, 6, &keys, &data, 2);
    index.unbuild().unwrap();
    // Replace one key's vector, add a new key, build again.
    index.add_item(keys[3], &data[400]).unwrap();
    index.add_item(42, &data[0]).unwrap();
    index.build(8, 2).unwrap();
    assert_eq!(index.n_stored(), 401);
    assert_eq!(index.get_item_vector(keys[3]).unwrap(), data[400]);
    assert_eq!(index.get_item_vector(42).unwrap(), data[0]);

    // The same items built straight into a file give the same bytes as save.
    let in_memory = dir.path().join("mem.ann");
    keyed_index(Metric::Euclidean, 6, &keys, &data, 2)
        .save(&in_memory)
        .unwrap();
    let on_disk = dir.path().join("disk.ann");
    let mut disk = Index::new(6, Metric::Euclidean).unwrap();
    disk.set_seed(2).unwrap();
    disk.on_disk_build(&on_disk).unwrap();
    for (key, v) in keys.iter().zip(&data) {
        disk.add_item(*key, v).unwrap();
    }
    disk.build(8, 2).unwrap();
    assert_eq!(
        std::fs::read(&in_memory).unwrap(),
        std::fs::read(&on_disk).unwrap()
    );
    assert_eq!(disk.get_item_vector(keys[7]).unwrap(), data[7]);
}

#[test]
fn the_reserved_key_and_keys_never_added_are_refused() {
    let mut index = Index::new(3, Metric::Dot).unwrap();
    let err = index.add_item(u64::MAX, &[1.0, 0.0, 0.0]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    index.add_item(u64::MAX - 1, &[1.0, 0.0, 0.0]).unwrap();
    index.add_item(1 << 40, &[0.0, 1.0, 0.0]).unwrap();
    index.build(2, 1).unwrap();
    for key in [0u64, 1 << 41, u64::MAX, u64::MAX - 2] {
        let err = index.get_nns_by_item(key, 1, None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{key}");
        assert_eq!(
            index.get_item_vector(key).unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
    }
    let hits = index.get_nns_by_vector(&[0.0, 1.0, 0.0], 5, None).unwrap();
    assert_eq!(
        hits.iter().map(|h| h.id).collect::<Vec<_>>(),
        [1 << 40, u64::MAX - 1]
    );
}

/// `verify` checks the keys are ascending; a damaged order is reported, never trusted.
#[test]
fn verify_finds_keys_out_of_order() {
    use xxhash_rust::xxh3::xxh3_64 as xxh3;
    let dir = tempfile::tempdir().unwrap();
    let keys = sparse_keys(50);
    let data = SplitMix64::new(12).vectors(keys.len(), 4, Metric::Euclidean);
    let path = dir.path().join("k.ann");
    keyed_index(Metric::Euclidean, 4, &keys, &data, 1)
        .save(&path)
        .unwrap();
    let header = Index::load(&path, false)
        .unwrap()
        .file_header()
        .unwrap()
        .clone();
    let (i, section) = header
        .sections
        .iter()
        .enumerate()
        .find(|(_, s)| s.kind == KEYS_SECTION)
        .unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    let at = section.offset as usize + 64;
    let (first, second) = (at, at + 8);
    let a: [u8; 8] = bytes[first..first + 8].try_into().unwrap();
    bytes.copy_within(second..second + 8, first);
    bytes[second..second + 8].copy_from_slice(&a);
    let range = section.offset as usize..(section.offset + section.length) as usize;
    let sum = xxh3(&bytes[range]);
    let entry = 96 + 32 * i;
    bytes[entry + 24..entry + 32].copy_from_slice(&sum.to_le_bytes());
    let h = xxh3(&bytes[..504]);
    bytes[504..512].copy_from_slice(&h.to_le_bytes());
    std::fs::write(&path, bytes).unwrap();
    let damaged = Index::load(&path, false).unwrap();
    let err = damaged.verify().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt);
    assert!(err.to_string().contains("not ascending"), "{err}");
}
