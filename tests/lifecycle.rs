//! The behaviour users rely on across an index's life: build, query, save, load, rebuild,
//! and the edge cases (holes, zero vectors, duplicates, tiny indexes, bad input, wrong state).
mod common;

use ann::{ErrorKind, Index, Metric, Neighbor};
use common::*;

fn small_data(metric: Metric, n: usize, seed: u64) -> (usize, Vec<Vec<f32>>) {
    let dim = if metric == Metric::Hamming { 72 } else { 16 };
    (dim, SplitMix64::new(seed).vectors(n, dim, metric))
}

fn all_results(index: &Index, queries: &[Vec<f32>], search_k: Option<usize>) -> Vec<Vec<Neighbor>> {
    queries
        .iter()
        .map(|q| index.get_nns_by_vector(q, 10, search_k).unwrap())
        .collect()
}

#[test]
fn results_are_identical_after_save_and_load() {
    let dir = tempfile::tempdir().unwrap();
    for metric in Metric::ALL {
        let (dim, data) = small_data(metric, 1500, 3);
        let index = build_index(metric, dim, &data, 10, 2, 11);
        let path = dir.path().join(format!("{metric}.ann"));
        index.save(&path).unwrap();
        for prefault in [false, true] {
            let loaded = Index::load(&path, prefault).unwrap();
            assert_eq!((loaded.n_items(), loaded.n_trees()), (1500, 10));
            assert_eq!(
                (loaded.dim(), loaded.metric(), loaded.seed()),
                (dim, metric, 11)
            );
            assert_eq!(
                all_results(&index, &data[..50], None),
                all_results(&loaded, &data[..50], None)
            );
            for id in [0u64, 17, 1499] {
                assert_eq!(
                    index.get_nns_by_item(id, 5, Some(200)).unwrap(),
                    loaded.get_nns_by_item(id, 5, Some(200)).unwrap()
                );
                assert_eq!(
                    index.get_item_vector(id).unwrap(),
                    loaded.get_item_vector(id).unwrap()
                );
            }
            loaded.verify().unwrap();
        }
    }
}

#[test]
fn one_seed_gives_one_index_whatever_the_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    for metric in Metric::ALL {
        let (dim, data) = small_data(metric, 2000, 5);
        for trees in [7, -1] {
            let files: Vec<Vec<u8>> = [1, 2, 8]
                .iter()
                .map(|&threads| {
                    let path = dir.path().join(format!("{metric}-{trees}-{threads}.ann"));
                    build_index(metric, dim, &data, trees, threads, 99)
                        .save(&path)
                        .unwrap();
                    std::fs::read(&path).unwrap()
                })
                .collect();
            assert!(
                files.windows(2).all(|w| w[0] == w[1]),
                "{metric} trees={trees}: builds differ"
            );
        }
        let other_seed = dir.path().join("other.ann");
        build_index(metric, dim, &data, 7, 2, 100)
            .save(&other_seed)
            .unwrap();
        let same_seed = dir.path().join("same.ann");
        build_index(metric, dim, &data, 7, 2, 99)
            .save(&same_seed)
            .unwrap();
        assert_ne!(
            std::fs::read(other_seed).unwrap(),
            std::fs::read(same_seed).unwrap()
        );
    }
}

#[test]
fn automatic_tree_count_follows_annoys_rule() {
    let (dim, data) = small_data(Metric::Euclidean, 1000, 8);
    let index = build_index(Metric::Euclidean, dim, &data, -1, 2, 1);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("auto.ann");
    index.save(&path).unwrap();
    let h = Index::load(&path, false)
        .unwrap()
        .file_header()
        .unwrap()
        .clone();
    let trees = h.n_trees as u64;
    // Trees were added until the nodes (items + tree nodes) reached twice the items.
    let nodes_before_copies = h.n_nodes - trees;
    assert!(nodes_before_copies >= 2 * h.n_items, "{h:?}");
    assert!(trees > 1);
}

#[test]
fn state_rules_are_enforced() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.ann");
    let mut index = Index::new(3, Metric::Angular).unwrap();
    let kind = |r: ann::Result<()>| r.unwrap_err().kind();

    assert_eq!(
        kind(index.get_nns_by_vector(&[1.0, 0.0, 0.0], 1, None).map(drop)),
        ErrorKind::InvalidState
    );
    assert_eq!(kind(index.save(&path)), ErrorKind::InvalidState);
    index.add_item(0, &[1.0, 0.0, 0.0]).unwrap();
    index.add_item(1, &[0.0, 1.0, 0.0]).unwrap();
    index.build(2, 1).unwrap();
    assert_eq!(kind(index.build(2, 1)), ErrorKind::InvalidState);
    let err = index.add_item(2, &[0.0, 0.0, 1.0]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidState);
    assert!(err.to_string().contains("unbuild"), "{err}");

    // unbuild, add more, build again: the new item is found.
    index.unbuild().unwrap();
    index.add_item(2, &[0.0, 0.0, 1.0]).unwrap();
    index.build(2, 1).unwrap();
    assert_eq!(
        index.get_nns_by_vector(&[0.0, 0.1, 1.0], 1, None).unwrap()[0].id,
        2
    );
    index.save(&path).unwrap();

    let mut loaded = Index::load(&path, false).unwrap();
    assert_eq!(
        kind(loaded.add_item(3, &[1.0, 1.0, 1.0])),
        ErrorKind::InvalidState
    );
    assert_eq!(kind(loaded.build(2, 1)), ErrorKind::InvalidState);
    assert_eq!(kind(loaded.unbuild()), ErrorKind::InvalidState);
    assert_eq!(
        kind(loaded.on_disk_build(dir.path().join("x.ann"))),
        ErrorKind::InvalidState
    );
    loaded.unload();
    assert_eq!((loaded.n_items(), loaded.is_built()), (0, false));
    loaded.add_item(0, &[1.0, 2.0, 3.0]).unwrap();
}

#[test]
fn bad_arguments_get_clear_errors() {
    let mut index = Index::new(3, Metric::Euclidean).unwrap();
    let err = index.add_item(0, &[1.0, 2.0]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert_eq!(err.to_string(), "index has dim 3, vector has 2 values");
    assert_eq!(
        index.add_item(0, &[1.0, f32::NAN, 0.0]).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    assert_eq!(
        index
            .add_item(0, &[1.0, f32::INFINITY, 0.0])
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidArgument
    );
    // Every key is valid but u64::MAX, which means "no key".
    let err = index.add_item(u64::MAX, &[0.0; 3]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.to_string().contains("reserved"), "{err}");
    assert_eq!(
        index.build(0, 1).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    assert_eq!(
        index.build(-2, 1).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    assert_eq!(
        index.build(1, 0).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    assert_eq!(
        Index::new(0, Metric::Angular).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    assert!(
        index.add_item_bits(0, &[1]).is_err(),
        "packed bits on a float metric"
    );

    index.add_item(0, &[1.0, 2.0, 3.0]).unwrap();
    index.build(1, 1).unwrap();
    assert_eq!(
        index.get_nns_by_vector(&[1.0], 1, None).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    assert_eq!(
        index.get_nns_by_item(1, 1, None).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    assert_eq!(
        index.get_item_vector(5).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    assert_eq!(
        index.get_distance(0, 9).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    assert!(index
        .get_nns_by_vector(&[1.0, 2.0, 3.0], 0, None)
        .unwrap()
        .is_empty());

    let mut bits = Index::new(70, Metric::Hamming).unwrap();
    assert_eq!(
        bits.add_item_bits(0, &[1]).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    assert_eq!(
        bits.add_item_bits(0, &[1, 1 << 6]).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    bits.add_item_bits(0, &[u64::MAX, (1 << 6) - 1]).unwrap();
}

#[test]
fn holes_are_never_returned_and_cannot_be_read() {
    for metric in Metric::ALL {
        let (dim, data) = small_data(metric, 400, 21);
        let mut index = Index::new(dim, metric).unwrap();
        // Only even ids: every odd id below the largest is a hole.
        for (i, v) in data.iter().enumerate().filter(|(i, _)| i % 2 == 0) {
            index.add_item(i as u64, v).unwrap();
        }
        index.build(5, 2).unwrap();
        assert_eq!(index.n_items(), 399);
        let got = index
            .get_nns_by_vector(&data[1], 399, Some(100_000))
            .unwrap();
        assert_eq!(got.len(), 200, "{metric}");
        assert!(got.iter().all(|n| n.id % 2 == 0));
        assert_eq!(
            index.get_item_vector(3).unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
        assert_eq!(
            index.get_nns_by_item(3, 1, None).unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
        index.verify().unwrap();
    }
    // A single item far beyond id 0: the root must still lead to it.
    for metric in Metric::ALL {
        let dim = if metric == Metric::Hamming { 64 } else { 4 };
        let mut index = Index::new(dim, metric).unwrap();
        index.add_item(500, &vec![1.0; dim]).unwrap();
        index.build(3, 1).unwrap();
        let got = index.get_nns_by_vector(&vec![1.0; dim], 5, None).unwrap();
        assert_eq!(
            got.iter().map(|n| n.id).collect::<Vec<_>>(),
            vec![500],
            "{metric}"
        );
        index.verify().unwrap();
    }
}

#[test]
fn zero_vectors_have_defined_distances() {
    let mut index = Index::new(3, Metric::Angular).unwrap();
    index.add_item(0, &[0.0, 0.0, 0.0]).unwrap();
    index.add_item(1, &[1.0, 0.0, 0.0]).unwrap();
    index.add_item(2, &[0.0, 2.0, 0.0]).unwrap();
    index.build(4, 1).unwrap();
    // sqrt(2) whenever either side is zero.
    assert_eq!(index.get_distance(0, 1).unwrap(), 2f32.sqrt());
    let got = index
        .get_nns_by_vector(&[0.0, 0.0, 0.0], 3, Some(100))
        .unwrap();
    assert_eq!(got.len(), 3);
    assert!(got.iter().all(|n| n.distance == 2f32.sqrt()));
    assert_eq!(
        got.iter().map(|n| n.id).collect::<Vec<_>>(),
        vec![0, 1, 2],
        "ties by smaller id"
    );
    assert!((index.get_distance(1, 2).unwrap() - 2f32.sqrt()).abs() < 1e-6);

    for metric in [Metric::Euclidean, Metric::Manhattan, Metric::Dot] {
        let mut index = Index::new(2, metric).unwrap();
        index.add_item(0, &[0.0, 0.0]).unwrap();
        index.add_item(1, &[3.0, 4.0]).unwrap();
        index.build(2, 1).unwrap();
        let expected = match metric {
            Metric::Euclidean => 5.0,
            Metric::Manhattan => 7.0,
            _ => 0.0,
        };
        assert_eq!(index.get_distance(0, 1).unwrap(), expected, "{metric}");
    }
}

#[test]
fn duplicate_vectors_are_all_found() {
    for metric in Metric::ALL {
        let dim = if metric == Metric::Hamming { 64 } else { 8 };
        let v: Vec<f32> = (0..dim).map(|i| (i % 3) as f32 * 0.5).collect();
        let mut index = Index::new(dim, metric).unwrap();
        for id in 0..300 {
            index.add_item(id, &v).unwrap();
        }
        index.build(3, 2).unwrap();
        index.verify().unwrap();
        let got = index.get_nns_by_vector(&v, 300, Some(10_000)).unwrap();
        let mut ids: Vec<u64> = got.iter().map(|n| n.id).collect();
        assert_eq!(
            ids,
            (0..300).collect::<Vec<_>>(),
            "{metric}: equal distances sort by id"
        );
        ids.dedup();
        assert_eq!(ids.len(), 300);
    }
}

#[test]
fn tiny_indexes_work() {
    let dir = tempfile::tempdir().unwrap();
    for metric in Metric::ALL {
        let dim = if metric == Metric::Hamming { 10 } else { 5 };
        let v = vec![1.0; dim];

        let mut one = Index::new(dim, metric).unwrap();
        one.add_item(0, &v).unwrap();
        one.build(-1, -1).unwrap();
        let got = one.get_nns_by_item(0, 10, None).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].id, 0);
        let path = dir.path().join(format!("one-{metric}.ann"));
        one.save(&path).unwrap();
        let loaded = Index::load(&path, false).unwrap();
        assert_eq!(
            loaded.get_nns_by_vector(&v, 3, None).unwrap(),
            one.get_nns_by_vector(&v, 3, None).unwrap()
        );
        loaded.verify().unwrap();

        let mut empty = Index::new(dim, metric).unwrap();
        empty.build(-1, 1).unwrap();
        assert!(empty.get_nns_by_vector(&v, 5, None).unwrap().is_empty());
        let path = dir.path().join(format!("empty-{metric}.ann"));
        empty.save(&path).unwrap();
        let loaded = Index::load(&path, false).unwrap();
        assert_eq!((loaded.n_items(), loaded.n_trees()), (0, 0));
        assert!(loaded.get_nns_by_vector(&v, 5, None).unwrap().is_empty());
        loaded.verify().unwrap();

        let mut empty = Index::new(dim, metric).unwrap();
        empty.build(3, 1).unwrap();
        assert!(empty.get_nns_by_vector(&v, 5, None).unwrap().is_empty());
    }
}

#[test]
fn get_nns_by_item_includes_the_item_and_distances_match_get_distance() {
    for metric in Metric::ALL {
        let (dim, data) = small_data(metric, 800, 31);
        let index = build_index(metric, dim, &data, 10, 2, 3);
        for id in [0u64, 100, 799] {
            let got = index.get_nns_by_item(id, 10, Some(50_000)).unwrap();
            // Under the dot metric another item can have a larger product than the item itself.
            if metric != Metric::Dot {
                assert_eq!(
                    got[0].id, id,
                    "{metric}: item {id} is not its own nearest neighbour"
                );
                assert_eq!(got[0].distance, 0.0);
            }
            for n in &got {
                let d = index.get_distance(id, n.id).unwrap();
                assert!(
                    (d - n.distance).abs() <= 1e-5 * (1.0 + d.abs()),
                    "{metric}: {d} vs {}",
                    n.distance
                );
                let exact = reported_distance(metric, &data[id as usize], &data[n.id as usize]);
                assert!(
                    (d as f64 - exact).abs() <= 1e-3 * (1.0 + exact.abs()),
                    "{metric}: {d} vs exact {exact}"
                );
            }
            // Sorted nearest first (dot: larger products first).
            let sorted = got.windows(2).all(|w| {
                if metric == Metric::Dot {
                    w[0].distance >= w[1].distance
                } else {
                    w[0].distance <= w[1].distance
                }
            });
            assert!(sorted, "{metric}: {got:?}");
        }
    }
}

#[test]
fn item_vectors_round_trip() {
    let mut index = Index::new(4, Metric::Dot).unwrap();
    index.add_item(2, &[1.5, -2.0, 0.25, 8.0]).unwrap();
    assert_eq!(
        index.get_item_vector(2).unwrap(),
        vec![1.5, -2.0, 0.25, 8.0]
    );
    index.add_item(2, &[0.0, 1.0, 0.0, 0.0]).unwrap();
    assert_eq!(
        index.get_item_vector(2).unwrap(),
        vec![0.0, 1.0, 0.0, 0.0],
        "re-adding replaces"
    );

    let bits: Vec<f32> = (0..70).map(|i| f32::from(u8::from(i % 3 == 0))).collect();
    let mut h = Index::new(70, Metric::Hamming).unwrap();
    h.add_item(0, &bits).unwrap();
    assert_eq!(h.get_item_vector(0).unwrap(), bits);
    let words = h.get_item_bits(0).unwrap();
    assert_eq!(
        words[0] & 0b1001,
        0b1001,
        "bit j of word 0 is value j, LSB first"
    );
    let mut other = bits.clone();
    other[1] = 1.0;
    other[69] = 1.0 - other[69];
    h.add_item(1, &other).unwrap();
    h.build(2, 1).unwrap();
    assert_eq!(h.get_distance(0, 1).unwrap(), 2.0);
    assert_eq!(h.get_nns_by_bits(&words, 1, None).unwrap()[0].id, 0);
}

#[test]
fn concurrent_queries_on_one_index_agree_with_serial_ones() {
    let (dim, data) = small_data(Metric::Angular, 3000, 41);
    let index = build_index(Metric::Angular, dim, &data, 10, 2, 5);
    let serial = all_results(&index, &data[..200], None);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| s.spawn(|| all_results(&index, &data[..200], None)))
            .collect();
        for h in handles {
            assert_eq!(h.join().unwrap(), serial);
        }
    });
}
