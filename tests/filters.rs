//! Filtered search: exactly min(n, accepted) results at every selectivity, none refused, and
//! recall under a 10% allow-list close to the unfiltered recall at the same search_k.
mod common;

use ann::{Index, Metric, SearchOptions};
use common::*;
use std::collections::HashSet;

const N_ITEMS: usize = 4000;

fn index(metric: Metric, keys: &[u64]) -> (Index, Vec<Vec<f32>>) {
    let dim = if metric == Metric::Hamming { 64 } else { 16 };
    let data = SplitMix64::new(31).vectors(keys.len(), dim, metric);
    let mut index = Index::new(dim, metric).unwrap();
    for (k, v) in keys.iter().zip(&data) {
        index.add_item(*k, v).unwrap();
    }
    index.build(10, 2).unwrap();
    (index, data)
}

/// `count` keys out of `keys`, picked at random.
fn pick(keys: &[u64], count: usize, seed: u64) -> Vec<u64> {
    let mut rng = SplitMix64::new(seed);
    let mut chosen: Vec<u64> = keys.to_vec();
    for i in 0..count.min(keys.len()) {
        let j = i + (rng.next_u64() % (keys.len() - i) as u64) as usize;
        chosen.swap(i, j);
    }
    chosen.truncate(count);
    chosen
}

/// Every way of saying "these keys", at selectivities from one item to all of them: the
/// answer is exactly min(n, accepted) keys, all accepted, for dense and sparse keys, with and
/// without compact codes.
#[test]
fn filtered_searches_return_exactly_min_n_accepted() {
    for metric in [Metric::Angular, Metric::Manhattan, Metric::Hamming] {
        for keys in [
            (0..N_ITEMS as u64).collect::<Vec<_>>(),
            (0..N_ITEMS as u64).map(|i| (i << 44) + 7).collect(),
        ] {
            let (index, _) = index(metric, &keys);
            let dim = index.dim();
            let queries = SplitMix64::new(32).vectors(8, dim, metric);
            for accepted_count in [1, 4, N_ITEMS / 1000, N_ITEMS / 10, N_ITEMS] {
                let accepted: HashSet<u64> = pick(&keys, accepted_count, 33).into_iter().collect();
                let allowed: Vec<u64> = accepted.iter().copied().collect();
                let denied: Vec<u64> = keys
                    .iter()
                    .copied()
                    .filter(|k| !accepted.contains(k))
                    .collect();
                let set = accepted.clone();
                let mut by_allow = SearchOptions::new();
                by_allow.set_allow_list(&allowed);
                let mut by_deny = SearchOptions::new();
                by_deny.set_deny_list(&denied);
                let mut by_predicate = SearchOptions::new();
                by_predicate.set_filter(move |k| set.contains(&k));
                for (how, options) in [
                    ("allow", &by_allow),
                    ("deny", &by_deny),
                    ("predicate", &by_predicate),
                ] {
                    for n in [1, 10, 50] {
                        for q in &queries {
                            let hits = index.search(q, n, options).unwrap();
                            let what = format!("{metric} {how} {accepted_count} accepted, n {n}");
                            assert_eq!(hits.len(), n.min(accepted.len()), "{what}");
                            assert!(hits.iter().all(|h| accepted.contains(&h.id)), "{what}");
                            let distinct: HashSet<u64> = hits.iter().map(|h| h.id).collect();
                            assert_eq!(distinct.len(), hits.len(), "{what}: repeated key");
                        }
                        let by_item = index.search_by_item(keys[0], n, options).unwrap();
                        assert_eq!(by_item.len(), n.min(accepted.len()));
                        assert!(by_item.iter().all(|h| accepted.contains(&h.id)));
                    }
                }
            }
        }
    }
}

/// Against the exact filtered answer, recall under a random 10% allow-list stays within 0.02
/// of the unfiltered recall at the same search_k.
#[test]
fn recall_under_a_ten_percent_allow_list_matches_unfiltered_recall() {
    let metric = Metric::Euclidean;
    let keys: Vec<u64> = (0..N_ITEMS as u64).collect();
    let (index, data) = index(metric, &keys);
    let queries = SplitMix64::new(40).vectors(200, 16, metric);
    let allowed = pick(&keys, N_ITEMS / 10, 41);
    let allowed_set: HashSet<u64> = allowed.iter().copied().collect();
    for search_k in [200, 800] {
        let mut plain = SearchOptions::new();
        plain.set_search_k(Some(search_k));
        let mut filtered = plain.clone();
        filtered.set_allow_list(&allowed);
        let (mut unfiltered_recall, mut filtered_recall) = (0.0, 0.0);
        for q in &queries {
            let ids: Vec<u64> = index
                .search(q, 10, &plain)
                .unwrap()
                .iter()
                .map(|h| h.id)
                .collect();
            unfiltered_recall += recall(metric, &data, q, &ids, 10);
            // The exact filtered answer: brute force over the allowed items only.
            let mut exact: Vec<(f64, u64)> = allowed
                .iter()
                .map(|&k| (true_distance(metric, q, &data[k as usize]), k))
                .collect();
            exact.sort_by(|a, b| a.partial_cmp(b).unwrap());
            let kth = exact[9].0;
            let hits = index.search(q, 10, &filtered).unwrap();
            assert!(hits.iter().all(|h| allowed_set.contains(&h.id)));
            let good = hits
                .iter()
                .filter(|h| true_distance(metric, q, &data[h.id as usize]) <= kth + 1e-6)
                .count();
            filtered_recall += good as f64 / 10.0;
        }
        let (u, f) = (unfiltered_recall / 200.0, filtered_recall / 200.0);
        eprintln!("search_k {search_k}: unfiltered recall {u:.3}, 10% allow-list recall {f:.3}");
        assert!(
            f >= u - 0.02,
            "search_k {search_k}: filtered {f:.3} vs unfiltered {u:.3}"
        );
    }
}

#[test]
fn batch_searches_with_options_equal_single_searches() {
    let keys: Vec<u64> = (0..N_ITEMS as u64).map(|i| i * 3 + 1).collect();
    let (index, _) = index(Metric::Angular, &keys);
    let queries = SplitMix64::new(50).vectors(40, 16, Metric::Angular);
    let flat: Vec<f32> = queries.iter().flatten().copied().collect();
    let mut options = SearchOptions::new();
    options.set_search_k(Some(300)).set_filter(|k| k % 2 == 0);
    let n = 7;
    let (mut ids, mut dists, mut counts) =
        (vec![0u64; 40 * n], vec![0f32; 40 * n], vec![0usize; 40]);
    index
        .search_batch_with(
            &flat,
            n,
            &options,
            2,
            &mut ids,
            Some(&mut dists),
            &mut counts,
        )
        .unwrap();
    for (q, query) in queries.iter().enumerate() {
        let single = index.search(query, n, &options).unwrap();
        assert_eq!(counts[q], single.len());
        assert_eq!(
            &ids[q * n..q * n + single.len()],
            single.iter().map(|h| h.id).collect::<Vec<_>>().as_slice()
        );
        assert!(single.iter().all(|h| h.id % 2 == 0));
    }
}

/// The Annoy-style calls keep Annoy's semantics; `search` with default options returns n.
#[test]
fn default_options_return_n_even_with_a_tiny_search_k() {
    let keys: Vec<u64> = (0..N_ITEMS as u64).collect();
    let (index, _) = index(Metric::Euclidean, &keys);
    let q = vec![0.1f32; 16];
    let mut tiny = SearchOptions::new();
    tiny.set_search_k(Some(1));
    assert_eq!(index.search(&q, 25, &tiny).unwrap().len(), 25);
    assert!(index.get_nns_by_vector(&q, 25, Some(1)).unwrap().len() <= 25);
    // An empty allow-list accepts nothing; an empty deny-list refuses nothing.
    let mut none = SearchOptions::new();
    none.set_allow_list(&[]);
    assert!(index.search(&q, 5, &none).unwrap().is_empty());
    let mut all = SearchOptions::new();
    all.set_deny_list(&[]);
    assert_eq!(index.search(&q, 5, &all).unwrap().len(), 5);
    // Keys in the allow-list that were never added are ignored.
    let mut ghosts = SearchOptions::new();
    ghosts.set_allow_list(&[3, 1 << 50, 3, u64::MAX]);
    let hits = index.search(&q, 5, &ghosts).unwrap();
    assert_eq!(hits.iter().map(|h| h.id).collect::<Vec<_>>(), [3]);
}
