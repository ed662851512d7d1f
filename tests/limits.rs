//! Limits: vectors of 65,536 dimensions go through every path (build, graph, save, mmap load,
//! queries, a live index with its log and compaction), keys at the top of the range work, and
//! what is past a limit is refused with a clear error.
mod common;

use ann::{ErrorKind, Index, Metric, SearchOptions, Writer, WriterOptions};
use common::SplitMix64;

const WIDE: usize = 65_536;

#[test]
fn sixty_five_thousand_dimensions_build_save_load_and_answer() {
    let dir = tempfile::tempdir().unwrap();
    for metric in [
        Metric::Angular,
        Metric::Euclidean,
        Metric::Dot,
        Metric::Manhattan,
        Metric::Hamming,
    ] {
        let data = SplitMix64::new(3).vectors(40, WIDE, metric);
        let mut index = Index::new(WIDE, metric).unwrap();
        for (i, v) in data.iter().enumerate() {
            index.add_item(i as u64, v).unwrap();
        }
        index.build(3, 2).unwrap();
        if metric != Metric::Hamming {
            index.build_graph(8, 2).unwrap();
        }
        let path = dir.path().join(format!("{metric}.ann"));
        index.save(&path).unwrap();
        let loaded = Index::load(&path, false).unwrap();
        loaded.verify().unwrap();
        assert_eq!(loaded.dim(), WIDE);
        for key in [0u64, 17, 39] {
            let v = loaded.get_item_vector(key).unwrap();
            assert_eq!(
                v, data[key as usize],
                "{metric}: the stored vector comes back"
            );
            // A complete search returns every item; the item itself comes first (under dot, a
            // longer vector can outscore an item's own product, so that metric is not asked).
            let hits = loaded.search(&v, 40, &SearchOptions::new()).unwrap();
            assert_eq!(hits.len(), 40, "{metric}: every item, once");
            if metric != Metric::Dot {
                assert_eq!(hits[0].id, key, "{metric}: the item is its own nearest");
            }
        }
    }
}

#[test]
fn a_live_index_of_sixty_five_thousand_dimensions_logs_and_compacts() {
    let dir = tempfile::tempdir().unwrap();
    let mut options = WriterOptions::new(WIDE, Metric::Euclidean);
    options.n_trees = 2;
    let data = SplitMix64::new(5).vectors(60, WIDE, Metric::Euclidean);
    let keys: Vec<u64> = (0..60).collect();
    {
        let writer = Writer::open(dir.path(), &options).unwrap();
        writer
            .upsert_batch(&keys[..50], &data[..50].concat())
            .unwrap();
        writer.compact(2).unwrap();
        for (key, v) in keys.iter().zip(&data).skip(50) {
            writer.upsert(*key, v).unwrap();
        }
        assert!(writer.delete(7).unwrap());
    }
    // Reopened: the segment, and the log's records replayed.
    let writer = Writer::open(dir.path(), &options).unwrap();
    let index = writer.index();
    assert_eq!(index.n_stored(), 59);
    for key in [3u64, 55, 59] {
        let hits = index
            .get_nns_by_vector(&data[key as usize], 1, Some(usize::MAX))
            .unwrap();
        assert_eq!(hits[0].id, key);
    }
    index.verify().unwrap();
    let reader = Index::open(dir.path(), false).unwrap();
    assert_eq!(reader.n_stored(), 59);
}

#[test]
fn keys_at_the_top_of_the_range_work_and_the_reserved_one_is_refused() {
    let data = SplitMix64::new(7).vectors(30, 8, Metric::Angular);
    let mut index = Index::new(8, Metric::Angular).unwrap();
    let top = u64::MAX - 1;
    for (i, v) in data.iter().enumerate() {
        index.add_item(top - i as u64, v).unwrap();
    }
    let err = index.add_item(u64::MAX, &data[0]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    index.build(4, 1).unwrap();
    let hits = index.get_nns_by_vector(&data[0], 1, None).unwrap();
    assert_eq!(hits[0].id, top);
    assert_eq!(index.get_item_vector(top - 29).unwrap(), data[29]);
}

#[test]
fn dimensions_past_the_limit_are_refused() {
    for dim in [0usize, (1 << 24) + 1, usize::MAX] {
        let err = Index::new(dim, Metric::Euclidean).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "dim {dim}");
        assert!(err.to_string().contains("dimension"), "{err}");
        let err = Writer::open(
            tempfile::tempdir().unwrap().path().join("live"),
            &WriterOptions::new(dim, Metric::Euclidean),
        )
        .err()
        .expect("refused");
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "writer, dim {dim}");
    }
}
