//! Writes the seed corpora, `fuzz/corpus/<target>/`: small real files of every metric (plain,
//! with sparse keys, with a graph), Annoy files, a live directory after a compaction and more
//! writes, shards, and query inputs, each in the input layout its target's doc describes.
//!
//!     cargo +nightly run --manifest-path fuzz/Cargo.toml --bin make_seeds

use ann::{Index, Metric, Writer, WriterOptions};
use std::path::{Path, PathBuf};

const METRICS: [Metric; 5] = [
    Metric::Angular,
    Metric::Euclidean,
    Metric::Manhattan,
    Metric::Dot,
    Metric::Hamming,
];

fn corpus(target: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn seed(target: &str, name: &str, parts: &[&[u8]]) {
    std::fs::write(corpus(target).join(name), parts.concat()).unwrap();
}

fn vectors(metric: Metric, n: usize, seed: u64) -> (usize, Vec<Vec<f32>>) {
    let dim = if metric == Metric::Hamming { 16 } else { 4 };
    let mut state = seed | 1;
    let rows = (0..n)
        .map(|_| {
            (0..dim)
                .map(|_| {
                    state = state
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1_442_695_040_888_963_407);
                    let x = (state >> 40) as f32 / (1u64 << 24) as f32;
                    if metric == Metric::Hamming {
                        x.round()
                    } else {
                        x * 2.0 - 1.0
                    }
                })
                .collect()
        })
        .collect();
    (dim, rows)
}

fn index(metric: Metric, keys: impl Iterator<Item = u64>, seed: u64) -> Index {
    let keys: Vec<u64> = keys.collect();
    let (dim, rows) = vectors(metric, keys.len(), seed);
    let mut index = Index::new(dim, metric).unwrap();
    for (key, v) in keys.iter().zip(&rows) {
        index.add_item(*key, v).unwrap();
    }
    index.build(2, 1).unwrap();
    index
}

fn saved(index: &Index, work: &Path, name: &str) -> Vec<u8> {
    let path = work.join(name);
    index.save(&path).unwrap();
    std::fs::read(path).unwrap()
}

fn main() {
    let work = tempdir();
    for metric in METRICS {
        let plain = index(metric, 0..24, 1);
        let sparse = index(metric, (0..24).map(|i| i * 1_000_003 + 9), 2);
        let mut graph = index(metric, 0..24, 3);
        graph.build_graph(4, 1).unwrap();
        for (kind, file) in [
            ("plain", saved(&plain, &work, "plain.ann")),
            ("sparse", saved(&sparse, &work, "sparse.ann")),
            ("graph", saved(&graph, &work, "graph.ann")),
        ] {
            seed("native_file", &format!("{metric}-{kind}"), &[&[1], &file]);
        }
        let annoy = work.join("plain.annoy");
        plain.save_annoy(&annoy).unwrap();
        let code = METRICS.iter().position(|&m| m == metric).unwrap() as u8;
        let dim = (plain.dim() as u16 - 1).to_le_bytes();
        seed(
            "annoy_file",
            &format!("{metric}"),
            &[&[code], &dim, &std::fs::read(&annoy).unwrap()],
        );
        seed(
            "sections",
            &format!("{metric}-table"),
            &[&[code, 0], &[8, 0, 2]],
        );
        seed(
            "sections",
            &format!("{metric}-sections"),
            &[&[code, 1], &[40, 0, 255, 9, 1, 0]],
        );
        seed(
            "sections",
            &format!("{metric}-nodes"),
            &[&[code, 2], &[100, 0, 7]],
        );

        let first = index(metric, 0..12, 4);
        let second = index(metric, 100..112, 5);
        let (a, b) = (
            saved(&first, &work, "a.ann"),
            saved(&second, &work, "b.ann"),
        );
        seed(
            "shards",
            &format!("{metric}"),
            &[&[1], &a, b"\xFF\xFFSHARD", &b],
        );

        seed(
            "search_inputs",
            &format!("{metric}-plain"),
            &[&[code * 4, 10, 0, 200, 0, 0, 0, 0, 0, 0, 0, 1, 0], &[0; 24]],
        );
        seed(
            "search_inputs",
            &format!("{metric}-graph-allow"),
            &[
                &[code * 4 + 1, 5, 0, 255, 255, 255, 255, 16, 1, 2],
                &3u64.to_le_bytes(),
                &7u64.to_le_bytes(),
                &[2, 1],
                &1.5f32.to_le_bytes(),
            ],
        );
        seed(
            "search_inputs",
            &format!("{metric}-sparse-deny-nan"),
            &[
                &[code * 4 + 2, 3, 0, 50, 0, 0, 0, 0, 2, 1],
                &5u64.to_le_bytes(),
                &[0, 0],
                &f32::NAN.to_le_bytes(),
            ],
        );
    }
    for (metric, name) in [(Metric::Euclidean, "euclidean"), (Metric::Dot, "dot")] {
        let dir = work.join(format!("live-{name}"));
        let (dim, rows) = vectors(metric, 40, 6);
        let mut options = WriterOptions::new(dim, metric);
        options.n_trees = 2;
        options.graph_degree = (metric == Metric::Dot).then_some(4);
        {
            let writer = Writer::open(&dir, &options).unwrap();
            for (i, v) in rows.iter().enumerate().take(30) {
                writer.upsert(i as u64 * 3, v).unwrap();
            }
            writer.compact(1).unwrap();
            for (i, v) in rows.iter().enumerate().skip(30) {
                writer.upsert(i as u64, v).unwrap();
            }
            writer.delete_batch(&[0, 3, 999]).unwrap();
        }
        let manifest = std::fs::read(dir.join("MANIFEST")).unwrap();
        let log = std::fs::read(dir.join("wal-000001.log")).unwrap();
        let segment = std::fs::read(dir.join("seg-000001.ann")).unwrap();
        let len = |b: &[u8]| (b.len() as u16).to_le_bytes();
        for flags in [1u8, 3, 7] {
            seed(
                "live_dir",
                &format!("{name}-{flags}"),
                &[
                    &[flags],
                    &len(&manifest),
                    &manifest,
                    &len(&log),
                    &log,
                    &segment,
                ],
            );
        }
    }
    let _ = std::fs::remove_dir_all(&work);
    println!(
        "seeds written under {}",
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("corpus")
            .display()
    );
}

fn tempdir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ann-fuzz-seeds-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
