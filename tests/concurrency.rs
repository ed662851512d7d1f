//! Many threads on shared indexes: 64 threads query one mapped index (forest, graph, sparse
//! keys, filters, batches) while other threads load, query and free other indexes, and a
//! live index is written, refreshed and compacted under its readers. Every answer must equal
//! the one computed before the threads started. `tests/sanitize.sh` runs this test under
//! ThreadSanitizer as well, where the nightly toolchain is present.
mod common;

use ann::{Index, Metric, SearchOptions, Writer, WriterOptions};
use common::SplitMix64;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Barrier;

const DIM: usize = 12;

fn answers(index: &Index, queries: &[Vec<f32>], options: &SearchOptions) -> Vec<Vec<u64>> {
    queries
        .iter()
        .map(|q| {
            index
                .search(q, 10, options)
                .unwrap()
                .iter()
                .map(|n| n.id)
                .collect()
        })
        .collect()
}

#[test]
fn sixty_four_threads_query_while_others_load_refresh_and_free() {
    let threads: usize = std::env::var("ANN_TEST_THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(64);
    let dir = tempfile::tempdir().unwrap();
    let data = SplitMix64::new(1).vectors(1500, DIM, Metric::Angular);
    let replacements = SplitMix64::new(2).vectors(200, DIM, Metric::Angular);
    let mut index = Index::new(DIM, Metric::Angular).unwrap();
    for (i, v) in data.iter().enumerate() {
        index.add_item(i as u64 * 977 + 3, v).unwrap(); // sparse keys
    }
    index.build(4, 2).unwrap();
    index.build_graph(12, 2).unwrap();
    let shared_path = dir.path().join("shared.ann");
    index.save(&shared_path).unwrap();
    let other_path = dir.path().join("other.ann");
    let mut other = Index::new(DIM, Metric::Angular).unwrap();
    for (i, v) in data.iter().take(300).enumerate() {
        other.add_item(i as u64, v).unwrap();
    }
    other.build(3, 1).unwrap();
    other.save(&other_path).unwrap();

    let shared = Index::load(&shared_path, false).unwrap();
    let queries = SplitMix64::new(2).vectors(8, DIM, Metric::Angular);
    let mut graph = SearchOptions::new();
    graph.set_ef(Some(24));
    let mut forest_filtered = SearchOptions::new();
    forest_filtered
        .set_search_k(Some(300))
        .set_filter(|key| key % 2 == 1);
    let expected_graph = answers(&shared, &queries, &graph);
    let expected_filtered = answers(&shared, &queries, &forest_filtered);
    let flat: Vec<f32> = queries.concat();
    let (mut batch_ids, mut batch_counts) = (vec![0u64; 8 * 10], vec![0usize; 8]);
    shared
        .search_batch(
            &flat,
            10,
            Some(400),
            1,
            &mut batch_ids,
            None,
            &mut batch_counts,
        )
        .unwrap();

    let mut live_options = WriterOptions::new(DIM, Metric::Angular);
    live_options.n_trees = 2;
    let writer = Writer::open(dir.path().join("live"), &live_options).unwrap();
    for (i, v) in data.iter().take(1100).enumerate() {
        writer.upsert(i as u64, v).unwrap();
    }
    // A segment large enough to host the delta: the router moves new writes into its trees
    // on its own thread while everything else runs.
    writer.compact(1).unwrap();

    let stop = AtomicBool::new(false);
    let start = Barrier::new(threads + 3);
    std::thread::scope(|s| {
        for t in 0..threads {
            let (shared, queries, start, stop) = (&shared, &queries, &start, &stop);
            let (graph, filtered, flat) = (&graph, &forest_filtered, &flat);
            let (expected_graph, expected_filtered) = (&expected_graph, &expected_filtered);
            let (batch_ids, batch_counts) = (&batch_ids, &batch_counts);
            s.spawn(move || {
                start.wait();
                let mut rounds = 0;
                while rounds < 3 || !stop.load(Ordering::Relaxed) {
                    match (t + rounds) % 3 {
                        0 => assert_eq!(&answers(shared, queries, graph), expected_graph),
                        1 => assert_eq!(&answers(shared, queries, filtered), expected_filtered),
                        _ => {
                            let (mut ids, mut counts) = (vec![0u64; 80], vec![0usize; 8]);
                            shared
                                .search_batch(flat, 10, Some(400), 1, &mut ids, None, &mut counts)
                                .unwrap();
                            assert_eq!((&ids, &counts), (batch_ids, batch_counts));
                        }
                    }
                    rounds += 1;
                }
            });
        }
        // Loads, queries and frees another index, over and over.
        s.spawn(|| {
            start.wait();
            for _ in 0..30 {
                let index = Index::load(&other_path, false).unwrap();
                assert_eq!(index.get_nns_by_item(5, 1, Some(10_000)).unwrap()[0].id, 5);
                drop(index);
            }
        });
        // A reader of the live directory refreshes while the writer writes and compacts.
        s.spawn(|| {
            start.wait();
            let reader = Index::open(dir.path().join("live"), false).unwrap();
            for _ in 0..30 {
                reader.refresh().unwrap();
                assert!(reader.n_stored() >= 1100);
                let found = reader.get_nns_by_vector(&data[7], 1, Some(10_000)).unwrap();
                assert_eq!(found[0].id, 7);
            }
        });
        s.spawn(|| {
            start.wait();
            let live = writer.index();
            for (i, v) in data.iter().enumerate().skip(1100).take(200) {
                writer.upsert(i as u64, v).unwrap();
                // And a replacement of an older key (not 7, which the reader looks for), which
                // may be routed already.
                let old = 100 + (i * 7) % 1000;
                writer.upsert(old as u64, &replacements[i - 1100]).unwrap();
                let found = live.get_nns_by_vector(v, 1, Some(100_000)).unwrap();
                assert_eq!(found[0].id, i as u64, "a write is found by the next query");
                if i % 100 == 0 {
                    writer.compact(1).unwrap();
                }
            }
            stop.store(true, Ordering::Relaxed);
        });
    });
    assert_eq!(writer.index().n_stored(), 1300);
    writer.index().verify().unwrap();
}
