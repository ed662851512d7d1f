//! Several files searched as one: results equal one index holding the same items when
//! search_k covers everything, filters and item calls work across shards, bad sets refused.
mod common;

use ann::{ErrorKind, Index, Metric, SearchOptions};
use common::*;
use std::path::PathBuf;

/// Items 0..n split over `parts` files by key (keys i * 1000 + 7), and one index of them all.
fn shards(
    dir: &std::path::Path,
    metric: Metric,
    n: usize,
    parts: usize,
) -> (Vec<PathBuf>, Index, Vec<Vec<f32>>) {
    let dim = if metric == Metric::Hamming { 64 } else { 10 };
    let data = SplitMix64::new(60).vectors(n, dim, metric);
    let key = |i: usize| i as u64 * 1000 + 7;
    let mut whole = Index::new(dim, metric).unwrap();
    let mut paths = Vec::new();
    for p in 0..parts {
        let mut shard = Index::new(dim, metric).unwrap();
        for i in (p..n).step_by(parts) {
            shard.add_item(key(i), &data[i]).unwrap();
        }
        shard.build(6, 1).unwrap();
        let path = dir.join(format!("{metric}-{p}.ann"));
        shard.save(&path).unwrap();
        paths.push(path);
    }
    for (i, v) in data.iter().enumerate() {
        whole.add_item(key(i), v).unwrap();
    }
    whole.build(6, 1).unwrap();
    (paths, whole, data)
}

#[test]
fn exhaustive_sharded_results_equal_one_index() {
    let dir = tempfile::tempdir().unwrap();
    for metric in Metric::ALL {
        let (paths, whole, data) = shards(dir.path(), metric, 1500, 3);
        let sharded = Index::open_shards(&paths, false).unwrap();
        assert_eq!(sharded.n_stored(), 1500);
        assert_eq!(sharded.n_items(), whole.n_items());
        assert_eq!(sharded.n_trees(), 18);
        sharded.verify().unwrap();
        let everything = Some(1500 * 6 * 4);
        for q in SplitMix64::new(61).vectors(25, whole.dim(), metric) {
            assert_eq!(
                sharded.get_nns_by_vector(&q, 15, everything).unwrap(),
                whole.get_nns_by_vector(&q, 15, everything).unwrap(),
                "{metric}"
            );
        }
        for i in [0usize, 700, 1499] {
            let key = i as u64 * 1000 + 7;
            assert_eq!(
                sharded.get_item_vector(key).unwrap(),
                whole.get_item_vector(key).unwrap()
            );
            assert_eq!(
                sharded.get_nns_by_item(key, 10, everything).unwrap(),
                whole.get_nns_by_item(key, 10, everything).unwrap(),
                "{metric}"
            );
            let other = 3 * 1000 + 7; // in another shard than key 0's for i = 0
            assert_eq!(
                sharded.get_distance(key, other).unwrap(),
                whole.get_distance(key, other).unwrap()
            );
        }
        assert_eq!(
            sharded.get_item_vector(8).unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
        let _ = data;
    }
}

#[test]
fn filters_and_batches_work_across_shards() {
    let dir = tempfile::tempdir().unwrap();
    let (paths, whole, _) = shards(dir.path(), Metric::Euclidean, 3000, 4);
    let sharded = Index::open_shards(&paths, true).unwrap();
    let mut options = SearchOptions::new();
    options
        .set_filter(|k| (k / 1000) % 7 == 0)
        .set_search_k(Some(3000 * 24 * 4));
    let queries = SplitMix64::new(62).vectors(20, 10, Metric::Euclidean);
    for q in &queries {
        let a = sharded.search(q, 12, &options).unwrap();
        assert_eq!(a, whole.search(q, 12, &options).unwrap());
        assert_eq!(a.len(), 12);
        assert!(a.iter().all(|h| (h.id / 1000) % 7 == 0));
    }
    let flat: Vec<f32> = queries.iter().flatten().copied().collect();
    let (mut ids, mut counts) = (vec![0u64; 20 * 5], vec![0usize; 20]);
    sharded
        .search_batch_with(&flat, 5, &options, 2, &mut ids, None, &mut counts)
        .unwrap();
    for (q, query) in queries.iter().enumerate() {
        let single: Vec<u64> = sharded
            .search(query, 5, &options)
            .unwrap()
            .iter()
            .map(|h| h.id)
            .collect();
        assert_eq!(&ids[q * 5..q * 5 + 5], single.as_slice());
    }
}

#[test]
fn bad_shard_sets_are_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let (paths, _, _) = shards(dir.path(), Metric::Angular, 600, 2);
    let none: [PathBuf; 0] = [];
    assert_eq!(
        Index::open_shards(&none, false).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );

    // The same file twice: every key is in two shards.
    let twice = [paths[0].clone(), paths[0].clone()];
    let err = Index::open_shards(&twice, false).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.to_string().contains("must not repeat"), "{err}");

    // Another dimension.
    let mut other = Index::new(11, Metric::Angular).unwrap();
    other.add_item(1, &[0.5; 11]).unwrap();
    other.build(1, 1).unwrap();
    let odd = dir.path().join("odd.ann");
    other.save(&odd).unwrap();
    let err = Index::open_shards(&[paths[0].clone(), odd], false).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.to_string().contains("dim"), "{err}");

    // A missing file is the loader's I/O error.
    let missing = [paths[0].clone(), dir.path().join("missing.ann")];
    assert_eq!(
        Index::open_shards(&missing, false).unwrap_err().kind(),
        ErrorKind::Io
    );

    // A sharded index is read-only.
    let mut sharded = Index::open_shards(&paths, false).unwrap();
    assert_eq!(
        sharded.save(dir.path().join("x.ann")).unwrap_err().kind(),
        ErrorKind::InvalidState
    );
    assert_eq!(
        sharded
            .save_annoy(dir.path().join("x.annoy"))
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidState
    );
    assert_eq!(
        sharded.add_item(5, &[0.0; 10]).unwrap_err().kind(),
        ErrorKind::InvalidState
    );
    assert_eq!(
        sharded.build(1, 1).unwrap_err().kind(),
        ErrorKind::InvalidState
    );
    assert_eq!(
        sharded.unbuild().unwrap_err().kind(),
        ErrorKind::InvalidState
    );
}
