//! The graph section: recall against brute force, identical answers after save/load and
//! across build thread counts, every item reachable, filters and their exact counts, and
//! damaged sections refused.

mod common;

use ann::{ErrorKind, Index, Metric, SearchOptions};
use common::{build_index, recall, SplitMix64};

/// Clustered unit-ish vectors, the shape of sentence embeddings: 40 topics, spread around.
fn embeddings(n: usize, dim: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut rng = SplitMix64::new(seed);
    let topics: Vec<Vec<f64>> = (0..40)
        .map(|_| (0..dim).map(|_| rng.gaussian()).collect())
        .collect();
    (0..n)
        .map(|_| {
            let t = &topics[(rng.next_u64() % 40) as usize];
            let v: Vec<f64> = t.iter().map(|c| c + 0.8 * rng.gaussian()).collect();
            let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
            v.iter().map(|x| (x / norm) as f32).collect()
        })
        .collect()
}

fn with_ef(ef: usize) -> SearchOptions {
    let mut o = SearchOptions::new();
    o.set_ef(Some(ef));
    o
}

fn answers(index: &Index, queries: &[Vec<f32>], options: &SearchOptions) -> Vec<Vec<(u64, u32)>> {
    queries
        .iter()
        .map(|q| {
            index
                .search(q, 10, options)
                .unwrap()
                .iter()
                .map(|nb| (nb.id, nb.distance.to_bits()))
                .collect()
        })
        .collect()
}

#[test]
fn a_wide_beam_finds_the_true_neighbours_for_every_metric() {
    for metric in [
        Metric::Angular,
        Metric::Euclidean,
        Metric::Dot,
        Metric::Manhattan,
        Metric::Hamming,
    ] {
        let dim = if metric == Metric::Hamming { 64 } else { 32 };
        let base: Vec<Vec<f32>> = if metric == Metric::Hamming {
            SplitMix64::new(3).vectors(3000, dim, metric)
        } else {
            embeddings(3000, dim, 3)
        };
        let queries = embeddings(100, dim, 4);
        let queries: Vec<Vec<f32>> = if metric == Metric::Hamming {
            SplitMix64::new(4).vectors(100, dim, metric)
        } else {
            queries
        };
        let mut index = build_index(metric, dim, &base, 2, -1, 11);
        index.build_graph(0, -1).unwrap();
        assert!(index.has_graph());
        let options = with_ef(200);
        let mean: f64 = queries
            .iter()
            .map(|q| {
                let ids: Vec<u64> = index
                    .search(q, 10, &options)
                    .unwrap()
                    .iter()
                    .map(|n| n.id)
                    .collect();
                recall(metric, &base, q, &ids, 10)
            })
            .sum::<f64>()
            / queries.len() as f64;
        assert!(mean >= 0.99, "{metric:?}: recall {mean} at ef 200");
        index.verify().unwrap();
    }
}

#[test]
fn search_k_alone_gets_at_least_the_forests_recall() {
    let base = embeddings(4000, 32, 5);
    let queries = embeddings(100, 32, 6);
    let forest = build_index(Metric::Angular, 32, &base, 10, -1, 11);
    let mut graph = build_index(Metric::Angular, 32, &base, 10, -1, 11);
    graph.build_graph(0, -1).unwrap();
    for search_k in [100, 400, 1600] {
        let mean = |index: &Index| {
            queries
                .iter()
                .map(|q| {
                    let ids: Vec<u64> = index
                        .get_nns_by_vector(q, 10, Some(search_k))
                        .unwrap()
                        .iter()
                        .map(|nb| nb.id)
                        .collect();
                    recall(Metric::Angular, &base, q, &ids, 10)
                })
                .sum::<f64>()
                / queries.len() as f64
        };
        let (f, g) = (mean(&forest), mean(&graph));
        assert!(g >= f, "search_k {search_k}: graph {g} < forest {f}");
    }
}

#[test]
fn answers_are_identical_after_save_and_load_and_across_thread_counts() {
    let base = embeddings(3000, 24, 7);
    let queries = embeddings(50, 24, 8);
    let mut one = build_index(Metric::Euclidean, 24, &base, 3, 1, 99);
    one.build_graph(16, 1).unwrap();
    let mut two = build_index(Metric::Euclidean, 24, &base, 3, 2, 99);
    two.build_graph(16, 2).unwrap();
    let options = with_ef(40);
    let expected = answers(&one, &queries, &options);
    assert_eq!(answers(&two, &queries, &options), expected);

    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("one.ann"), dir.path().join("two.ann"));
    one.save(&a).unwrap();
    two.save(&b).unwrap();
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    let loaded = Index::load(&a, false).unwrap();
    assert!(loaded.has_graph());
    loaded.verify().unwrap();
    assert_eq!(answers(&loaded, &queries, &options), expected);
    // Annoy's format has no place for it: the forest alone is written.
    let annoy = dir.path().join("forest.annoy");
    loaded.save_annoy(&annoy).unwrap();
    let plain = Index::load_annoy(&annoy, 24, Metric::Euclidean, false).unwrap();
    assert!(!plain.has_graph());
}

#[test]
fn filtered_graph_searches_return_exactly_min_n_accepted() {
    let base = embeddings(3000, 24, 9);
    let mut index = build_index(Metric::Angular, 24, &base, 3, -1, 1);
    index.build_graph(0, -1).unwrap();
    let q = &embeddings(1, 24, 10)[0];
    for accepted in [1u64, 7, 25, 300, 1500] {
        let mut options = with_ef(16);
        options.set_filter(move |key| key % (3000 / accepted) == 0);
        let found = index.search(q, 10, &options).unwrap();
        let expected = (0..3000u64)
            .filter(|k| k % (3000 / accepted) == 0)
            .count()
            .min(10);
        assert_eq!(found.len(), expected, "{accepted} accepted");
        assert!(found.iter().all(|nb| nb.id % (3000 / accepted) == 0));
    }
    let mut deny = with_ef(16);
    let nearest = index.search(q, 1, &with_ef(16)).unwrap()[0].id;
    deny.set_deny_list(&[nearest]);
    assert!(index
        .search(q, 10, &deny)
        .unwrap()
        .iter()
        .all(|nb| nb.id != nearest));
}

#[test]
fn sparse_keys_work_with_the_graph() {
    let base = embeddings(2000, 16, 12);
    let mut index = Index::new(16, Metric::Euclidean).unwrap();
    for (i, v) in base.iter().enumerate() {
        index.add_item(1_000_000_007 * (i as u64 + 1), v).unwrap();
    }
    index.build(2, -1).unwrap();
    index.build_graph(0, -1).unwrap();
    let found = index
        .search_by_item(1_000_000_007 * 5, 3, &with_ef(50))
        .unwrap();
    assert_eq!(found[0].id, 1_000_000_007 * 5);
    assert_eq!(found[0].distance, 0.0);
}

#[test]
fn bad_calls_and_damaged_sections_are_refused() {
    let base = embeddings(1500, 16, 13);
    let mut unbuilt = Index::new(16, Metric::Angular).unwrap();
    unbuilt.add_item(0, &base[0]).unwrap();
    assert_eq!(
        unbuilt.build_graph(0, 1).unwrap_err().kind(),
        ErrorKind::InvalidState
    );
    let mut index = build_index(Metric::Angular, 16, &base, 2, -1, 1);
    assert_eq!(
        index.build_graph(10_000, 1).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    assert_eq!(
        index.build_graph(0, 0).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    index.build_graph(8, -1).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.ann");
    index.save(&path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let header = Index::load(&path, false)
        .unwrap()
        .file_header()
        .cloned()
        .unwrap();
    let section = header.sections.iter().find(|s| s.kind == 3).unwrap();
    let (start, len) = (section.offset as usize, section.length as usize);

    // A link to a slot past the end, in the entry's row, which every query expands: loads
    // (the check is O(n)), refused by verify, and never followed.
    let entry = u32::from_le_bytes(bytes[start + 16..start + 20].try_into().unwrap()) as usize;
    let row = start + 64 + entry * 8 * 4;
    let mut damaged = bytes.clone();
    damaged[row..row + 4].copy_from_slice(&5_000_000u32.to_le_bytes());
    let bad = dir.path().join("bad.ann");
    std::fs::write(&bad, &damaged).unwrap();
    let loaded = Index::load(&bad, false).unwrap();
    let err = loaded.verify().unwrap_err();
    assert!(matches!(
        err.kind(),
        ErrorKind::ChecksumMismatch | ErrorKind::Corrupt
    ));
    for q in embeddings(20, 16, 14) {
        assert_eq!(loaded.search(&q, 5, &with_ef(30)).unwrap().len(), 5);
    }
    // Sizes that contradict the index: refused at load.
    let mut wrong_degree = bytes.clone();
    wrong_degree[start + 4..start + 8].copy_from_slice(&9u32.to_le_bytes());
    std::fs::write(&bad, &wrong_degree).unwrap();
    assert_eq!(
        Index::load(&bad, false).unwrap_err().kind(),
        ErrorKind::Corrupt
    );
    let mut wrong_entry = bytes.clone();
    wrong_entry[start + 16..start + 20].copy_from_slice(&u32::MAX.to_le_bytes());
    std::fs::write(&bad, &wrong_entry).unwrap();
    assert_eq!(
        Index::load(&bad, false).unwrap_err().kind(),
        ErrorKind::Corrupt
    );
    assert!(len > 64);
}

/// A live index whose writer asks for a graph: compaction builds it into the segment (readers
/// in other handles walk it too), deleted keys stay out of graph answers, the export carries
/// it, and a writer reopened without the option compacts to a forest only.
#[test]
fn live_indexes_compact_and_export_with_a_graph() {
    let dir = tempfile::tempdir().unwrap();
    let base = embeddings(2000, 16, 21);
    let queries = embeddings(30, 16, 22);
    let mut settings = ann::WriterOptions::new(16, Metric::Euclidean);
    settings.n_trees = 4;
    settings.graph_degree = Some(0); // the default degree
    let writer = ann::Writer::open(dir.path(), &settings).unwrap();
    for (i, v) in base.iter().enumerate() {
        writer.upsert(i as u64 * 5, v).unwrap();
    }
    let index = writer.index();
    assert!(
        !index.has_graph(),
        "the delta has no graph until compaction"
    );
    writer.compact(2).unwrap();
    assert!(index.has_graph());
    let manifest = std::fs::read_to_string(dir.path().join("MANIFEST")).unwrap();
    assert!(manifest.contains("\ngraph_degree 32\n"), "{manifest}");
    let reader = Index::open(dir.path(), false).unwrap();
    assert!(reader.has_graph());
    reader.verify().unwrap();

    // Compaction and export build the same file from the same items and seed.
    let exported = dir.path().join("export.ann");
    reader.export(&exported, 1).unwrap();
    let file = Index::load(&exported, false).unwrap();
    assert!(file.has_graph());
    file.verify().unwrap();
    let options = with_ef(200);
    assert_eq!(
        answers(&file, &queries, &options),
        answers(&index, &queries, &options)
    );

    // Deleted keys never come back from the graph walk; everything else is still found.
    let deleted: Vec<u64> = (0..2000u64).step_by(3).map(|i| i * 5).collect();
    writer.delete_batch(&deleted).unwrap();
    let mut total = 0.0;
    for q in &queries {
        let found = index.search(q, 10, &options).unwrap();
        assert_eq!(found.len(), 10);
        assert!(found.iter().all(|nb| (nb.id / 5) % 3 != 0), "a deleted key");
        let mut truth: Vec<(f64, u64)> = (0..2000u64)
            .filter(|i| i % 3 != 0)
            .map(|i| {
                (
                    common::true_distance(Metric::Euclidean, q, &base[i as usize]),
                    i * 5,
                )
            })
            .collect();
        truth.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let truth: Vec<u64> = truth.iter().take(10).map(|(_, k)| *k).collect();
        total += found.iter().filter(|nb| truth.contains(&nb.id)).count() as f64 / 10.0;
    }
    assert!(
        total / queries.len() as f64 >= 0.99,
        "recall {}",
        total / 30.0
    );

    // A writer reopened without the option builds forests only.
    drop(index);
    drop(writer);
    settings.graph_degree = None;
    let writer = ann::Writer::open(dir.path(), &settings).unwrap();
    writer.compact(1).unwrap();
    assert!(!writer.index().has_graph());
    let manifest = std::fs::read_to_string(dir.path().join("MANIFEST")).unwrap();
    assert!(!manifest.contains("graph_degree"), "{manifest}");
    settings.graph_degree = Some(257);
    drop(writer);
    let refused = ann::Writer::open(dir.path(), &settings).err();
    assert_eq!(refused.map(|e| e.kind()), Some(ErrorKind::InvalidArgument));
}
