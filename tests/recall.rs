//! Recall against brute force, for every metric.
mod common;

use ann::Metric;
use common::*;

/// Annoy 1.17.3's recall@10 on the reference data (3000 points, 20 trees, default search_k),
/// the mean over seeds 1..10, measured by `tests/reference/annoy_recall.py`.
fn annoy_reference_recall(metric: Metric) -> f64 {
    match metric {
        Metric::Angular => 0.62965,
        Metric::Euclidean => 0.55690,
        Metric::Manhattan => 0.49190,
        Metric::Dot => 0.51190,
        Metric::Hamming => 0.41815,
    }
}

fn mean_recall(metric: Metric, search_k: Option<usize>, seed: u64) -> f64 {
    let (dim, base, queries) = reference_data(metric);
    let index = build_index(metric, dim, &base, 20, 2, seed);
    let total: f64 = queries
        .iter()
        .map(|q| {
            let ids: Vec<u64> = index
                .get_nns_by_vector(q, 10, search_k)
                .unwrap()
                .iter()
                .map(|n| n.id)
                .collect();
            recall(metric, &base, q, &ids, 10)
        })
        .sum();
    total / queries.len() as f64
}

#[test]
fn full_search_is_exact_for_every_metric() {
    for metric in Metric::ALL {
        let r = mean_recall(metric, Some(3000 * 20), 1);
        assert_eq!(
            r, 1.0,
            "{metric}: recall {r} with search_k covering every item"
        );
    }
}

#[test]
fn default_search_matches_annoy_for_every_metric() {
    for metric in Metric::ALL {
        // Average over seeds 1..10, as the reference does.
        let r = (1..=10).map(|s| mean_recall(metric, None, s)).sum::<f64>() / 10.0;
        let reference = annoy_reference_recall(metric);
        eprintln!("{metric}: recall@10 {r:.4} (Annoy 1.17.3: {reference:.4})");
        assert!(
            r >= reference - 0.015,
            "{metric}: recall {r:.4} below Annoy's {reference:.4}"
        );
    }
}

#[test]
fn data_matches_the_reference_script() {
    // First values printed by tests/reference/annoy_recall.py.
    let (_, base, queries) = reference_data(Metric::Euclidean);
    assert_eq!(&base[0][..3], &[0.414_719_76, -0.891_886_23, 1.729_593]);
    assert_eq!(
        &queries[0][..3],
        &[0.037_003_312, -1.246_743_6, 0.854_822_75]
    );
    let (_, bits, _) = reference_data(Metric::Hamming);
    let first: String = bits[0][..16]
        .iter()
        .map(|&b| if b > 0.5 { '1' } else { '0' })
        .collect();
    assert_eq!(first, "1011000100100101");
}
