//! Files written by the real Annoy 1.17.3 (tests/fixtures/annoy, made by make_fixtures.py):
//! loaded here, they give Annoy's roots, item count, vectors, distances and query results, so
//! the format is tested even where Annoy is not installed.

use ann::{ErrorKind, FileKind, Index, Metric};
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/annoy")
}

const CASES: [&str; 8] = [
    "angular",
    "angular_holes",
    "angular_old_norms",
    "euclidean",
    "euclidean_small",
    "manhattan",
    "dot",
    "hamming",
];

/// One `.expected` file: what Annoy reported for its own file.
struct Expected {
    metric: Metric,
    dim: usize,
    n_items: usize,
    n_trees: usize,
    lines: Vec<String>,
}

fn floats(s: &str) -> Vec<f32> {
    s.split_whitespace()
        .map(|x| x.parse::<f64>().unwrap() as f32)
        .collect()
}

fn ints(s: &str) -> Vec<u64> {
    s.split_whitespace().map(|x| x.parse().unwrap()).collect()
}

fn read_expected(case: &str) -> Expected {
    let text = std::fs::read_to_string(fixtures().join(format!("{case}.expected"))).unwrap();
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    let field = |name: &str| {
        lines
            .iter()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .unwrap_or_else(|| panic!("{case}: no {name} line"))
            .to_string()
    };
    Expected {
        metric: field("metric").parse().unwrap(),
        dim: field("dim").parse().unwrap(),
        n_items: field("n_items").parse().unwrap(),
        n_trees: field("n_trees").parse().unwrap(),
        lines,
    }
}

/// Distances agree to 1e-5 relative. Angular distances are sqrt(2 - 2cos) computed in f32,
/// which near 0 amplifies one ulp of cos into ~4e-4 (Annoy's own resolution there), so they
/// are compared as 2 - 2cos, to a few ulps of 2.
fn close(metric: Metric, a: f32, b: f32) -> bool {
    let relative = (a - b).abs() <= 1e-5 * a.abs().max(b.abs()).max(1e-30);
    relative || (metric == Metric::Angular && (a * a - b * b).abs() <= 8.0 * f32::EPSILON)
}

/// Our results equal Annoy's, except where candidates' distances tie within float rounding.
fn assert_same_results(
    metric: Metric,
    case: &str,
    what: &str,
    ours: &[ann::Neighbor],
    ids: &[u64],
    dists: &[f32],
) {
    let close = |a, b| close(metric, a, b);
    assert_eq!(ours.len(), ids.len(), "{case} {what}: result count");
    for (i, n) in ours.iter().enumerate() {
        assert!(
            close(n.distance, dists[i]),
            "{case} {what}: distance {i}: {} vs Annoy {}",
            n.distance,
            dists[i]
        );
        if n.id != ids[i] {
            // A different id is fine only inside a group of tied distances (or at the cut).
            let tied = ids
                .iter()
                .zip(dists)
                .any(|(&id, &d)| id == n.id && close(d, n.distance))
                || close(*dists.last().unwrap(), n.distance);
            assert!(
                tied,
                "{case} {what}: ids {:?} vs Annoy {ids:?}",
                ours.iter().map(|n| n.id).collect::<Vec<_>>()
            );
        }
    }
}

#[test]
fn annoy_files_give_annoys_answers() {
    for case in CASES {
        let e = read_expected(case);
        let index = Index::load_annoy(
            fixtures().join(format!("{case}.annoy")),
            e.dim,
            e.metric,
            false,
        )
        .unwrap();
        assert_eq!(
            (index.n_items(), index.n_trees()),
            (e.n_items as u64, e.n_trees),
            "{case}"
        );
        index.verify().unwrap();
        let mut checked = 0;
        for line in &e.lines {
            let mut parts = line.split(" | ");
            let head: Vec<&str> = parts.next().unwrap().split_whitespace().collect();
            match head[0] {
                "query" => {
                    let (search_k, n): (i64, usize) =
                        (head[1].parse().unwrap(), head[2].parse().unwrap());
                    let v = floats(&head[3..].join(" "));
                    let k = usize::try_from(search_k).ok();
                    let ours = index.get_nns_by_vector(&v, n, k).unwrap();
                    assert_same_results(
                        e.metric,
                        case,
                        line,
                        &ours,
                        &ints(parts.next().unwrap()),
                        &floats(parts.next().unwrap()),
                    );
                }
                "item" => {
                    let (id, search_k, n) = (
                        head[1].parse().unwrap(),
                        head[2].parse::<i64>().unwrap(),
                        head[3].parse().unwrap(),
                    );
                    let ours = index
                        .get_nns_by_item(id, n, usize::try_from(search_k).ok())
                        .unwrap();
                    assert_same_results(
                        e.metric,
                        case,
                        line,
                        &ours,
                        &ints(parts.next().unwrap()),
                        &floats(parts.next().unwrap()),
                    );
                }
                "distance" => {
                    let d = index
                        .get_distance(head[1].parse().unwrap(), head[2].parse().unwrap())
                        .unwrap();
                    assert!(
                        close(e.metric, d, head[3].parse().unwrap()),
                        "{case}: {line}: {d}"
                    );
                }
                "vector" => {
                    let v = index.get_item_vector(head[1].parse().unwrap()).unwrap();
                    assert_eq!(v, floats(&head[2..].join(" ")), "{case}: {line}");
                }
                _ => continue,
            }
            checked += 1;
        }
        assert!(checked >= 40, "{case}: only {checked} checks");
    }
}

#[test]
fn annoy_files_round_trip_byte_for_byte_and_convert_to_native() {
    let dir = tempfile::tempdir().unwrap();
    for case in CASES {
        let e = read_expected(case);
        let source = fixtures().join(format!("{case}.annoy"));
        let index = Index::load_annoy(&source, e.dim, e.metric, true).unwrap();
        let copy = dir.path().join(format!("{case}.annoy"));
        index.save_annoy(&copy).unwrap();
        assert_eq!(
            std::fs::read(&copy).unwrap(),
            std::fs::read(&source).unwrap(),
            "{case}"
        );

        // Saved natively, the same body gains a header, and loads without dim or metric.
        let native = dir.path().join(format!("{case}.ann"));
        index.save(&native).unwrap();
        let loaded = Index::load(&native, false).unwrap();
        assert_eq!(
            (loaded.dim(), loaded.metric(), loaded.n_items()),
            (e.dim, e.metric, e.n_items as u64)
        );
        let q = index.get_item_vector(0).unwrap();
        assert_eq!(
            loaded.get_nns_by_vector(&q, 5, None).unwrap(),
            index.get_nns_by_vector(&q, 5, None).unwrap()
        );
    }
}

#[test]
fn file_info_tells_native_from_annoy() {
    let annoy = ann::file_info(fixtures().join("angular.annoy")).unwrap();
    assert_eq!((annoy.kind, annoy.size), (FileKind::Annoy, 33280));
    assert!(annoy.header.is_none());

    let dir = tempfile::tempdir().unwrap();
    let native = dir.path().join("x.ann");
    let e = read_expected("dot");
    Index::load_annoy(fixtures().join("dot.annoy"), e.dim, e.metric, false)
        .unwrap()
        .save(&native)
        .unwrap();
    let info = ann::file_info(&native).unwrap();
    assert_eq!(info.kind, FileKind::Native);
    let h = info.header.unwrap();
    assert_eq!(
        (
            h.metric,
            h.dim as usize,
            h.n_items as usize,
            h.n_trees as usize
        ),
        (Metric::Dot, 10, 300, e.n_trees)
    );

    let odd = dir.path().join("odd");
    std::fs::write(&odd, b"abc").unwrap();
    assert_eq!(ann::file_info(&odd).unwrap().kind, FileKind::Unknown);
    std::fs::write(&odd, b"").unwrap();
    assert_eq!(ann::file_info(&odd).unwrap().kind, FileKind::Unknown);
    let mut damaged = std::fs::read(&native).unwrap();
    damaged[40] ^= 1;
    std::fs::write(&odd, damaged).unwrap();
    assert_eq!(
        ann::file_info(&odd).unwrap_err().kind(),
        ErrorKind::ChecksumMismatch
    );
    assert_eq!(
        ann::file_info(dir.path().join("missing"))
            .unwrap_err()
            .kind(),
        ErrorKind::Io
    );
}

#[test]
fn bad_annoy_loads_are_refused_clearly() {
    let path = fixtures().join("angular.annoy"); // 640 nodes of 52 bytes (angular, dim 10)
                                                 // A dimension that changes the node size: the size is no whole number of nodes.
    let err = Index::load_annoy(&path, 11, Metric::Angular, false).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::SizeMismatch);
    assert!(
        err.to_string().contains("check the dimension and metric"),
        "{err}"
    );
    // A dimension whose nodes divide the size but whose roots make no sense.
    let err = Index::load_annoy(&path, 3, Metric::Angular, false).unwrap_err();
    assert!(err.kind().is_corrupt_file(), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.annoy");
    std::fs::write(&empty, b"").unwrap();
    assert_eq!(
        Index::load_annoy(&empty, 10, Metric::Angular, false)
            .unwrap_err()
            .kind(),
        ErrorKind::Truncated
    );
    // Nodes that are all holes: no trees.
    let holes = dir.path().join("holes.annoy");
    std::fs::write(&holes, vec![0u8; 52 * 4]).unwrap();
    let err = Index::load_annoy(&holes, 10, Metric::Angular, false).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt);
    assert!(err.to_string().contains("no trees"), "{err}");
    // A native file is not an Annoy file, and an Annoy file is not a native one.
    assert_eq!(
        Index::load(&path, false).unwrap_err().kind(),
        ErrorKind::BadMagic
    );
}

#[test]
fn batch_queries_equal_single_queries() {
    let e = read_expected("euclidean");
    let index =
        Index::load_annoy(fixtures().join("euclidean.annoy"), e.dim, e.metric, false).unwrap();
    let queries: Vec<f32> = (0..37u64)
        .flat_map(|i| index.get_item_vector(i * 7).unwrap())
        .collect();
    for threads in [1, 3, -1] {
        let (n, q) = (12, 37);
        let mut ids = vec![0u64; n * q];
        let mut dists = vec![0f32; n * q];
        let mut counts = vec![0usize; q];
        index
            .search_batch(
                &queries,
                n,
                Some(500),
                threads,
                &mut ids,
                Some(&mut dists),
                &mut counts,
            )
            .unwrap();
        for (row, query) in queries.chunks(e.dim).enumerate() {
            let single = index.get_nns_by_vector(query, n, Some(500)).unwrap();
            assert_eq!(counts[row], single.len());
            assert_eq!(
                &ids[row * n..row * n + single.len()],
                single.iter().map(|r| r.id).collect::<Vec<_>>().as_slice()
            );
            assert_eq!(
                &dists[row * n..row * n + single.len()],
                single
                    .iter()
                    .map(|r| r.distance)
                    .collect::<Vec<_>>()
                    .as_slice()
            );
        }
    }
    // Fewer items than asked: the rest of the row is padded.
    let small = read_expected("euclidean_small");
    let tiny = Index::load_annoy(
        fixtures().join("euclidean_small.annoy"),
        small.dim,
        small.metric,
        false,
    )
    .unwrap();
    let (mut ids, mut counts) = (vec![0u64; 5], vec![0usize; 1]);
    tiny.search_batch(&[0.0; 4], 5, None, 1, &mut ids, None, &mut counts)
        .unwrap();
    assert_eq!(counts[0], 3);
    assert_eq!(&ids[3..], &[u64::MAX, u64::MAX]);
    let err = tiny
        .search_batch(
            &[0.0, f32::NAN, 0.0, 0.0],
            5,
            None,
            1,
            &mut ids,
            None,
            &mut counts,
        )
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
}
