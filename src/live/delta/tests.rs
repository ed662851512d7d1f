//! The delta's forest grown in place: structure, exact answers with an unlimited search,
//! recall with a bounded one, and replace/delete leaving nothing behind.

use super::*;
use crate::distance::{score, user_distance};
use crate::kernels;
use crate::live::test_rng::rng;
use crate::search::Request;

/// Clustered vectors, so that neighbours mean something.
fn vectors(n: usize, dim: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut r = rng(seed);
    let centres: Vec<Vec<f32>> = (0..16).map(|_| (0..dim).map(|_| r()).collect()).collect();
    (0..n)
        .map(|i| centres[i % 16].iter().map(|c| c + 0.3 * r()).collect())
        .collect()
}

/// The query that item `key` makes, as a by-item query does.
fn query_of<'a>(delta: &'a Delta, key: u64) -> Query<'a> {
    let node = delta.forest.nodes().get(delta.slots[&key] as usize);
    Query::of_item(&delta.layout, kernels::kernels(), node)
}

/// The exact nearest `n` live items, as (key, distance), ties to the smaller key.
fn brute_force(delta: &Delta, query: &Query, n: usize) -> Vec<(u64, f32)> {
    let nodes = delta.forest.nodes();
    let mut all: Vec<(f32, u64)> = delta
        .slots
        .iter()
        .map(|(&key, &slot)| {
            let s = score(
                &delta.layout,
                kernels::kernels(),
                query,
                nodes.get(slot as usize),
            );
            (s, key)
        })
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    all.truncate(n);
    all.into_iter()
        .map(|(s, key)| (key, user_distance(delta.layout.metric, s)))
        .collect()
}

fn search(delta: &Delta, query: &Query, n: usize, search_k: usize) -> Vec<(u64, f32)> {
    let request = Request {
        n,
        search_k: Some(search_k),
        filter: None,
        complete: true,
        hidden: None,
    };
    let mut out = Vec::new();
    delta.search(query, &request, &mut out).unwrap();
    out.into_iter().map(|nb| (nb.id, nb.distance)).collect()
}

fn filled(metric: Metric, n: usize, dim: usize) -> Delta {
    let layout = Layout::new(metric, dim).unwrap();
    let mut delta = Delta::new(layout, 7, None, None).unwrap();
    for (i, v) in vectors(n, dim, 1).iter().enumerate() {
        delta.upsert(1000 + 3 * i as u64, v).unwrap();
    }
    delta.check().unwrap();
    delta
}

#[test]
fn an_unlimited_search_is_exact_for_every_metric() {
    for metric in [
        Metric::Angular,
        Metric::Euclidean,
        Metric::Manhattan,
        Metric::Dot,
        Metric::Hamming,
    ] {
        let delta = filled(metric, 1500, 24);
        assert_eq!(delta.len(), 1500);
        for key in (0..1500u64).step_by(97).map(|i| 1000 + 3 * i) {
            let query = query_of(&delta, key);
            let exact = brute_force(&delta, &query, 10);
            let found = search(&delta, &query, 10, usize::MAX);
            // Codes choose which candidates are re-ranked; with every item a candidate the
            // nearest ten are among the re-ranked ones, so distances match exactly.
            let d = |r: &[(u64, f32)]| r.iter().map(|x| x.1).collect::<Vec<_>>();
            assert_eq!(d(&found), d(&exact), "{metric:?}, query {key}");
        }
    }
}

#[test]
fn a_bounded_search_finds_most_neighbours() {
    let delta = filled(Metric::Angular, 5000, 32);
    let (mut hits, mut total) = (0, 0);
    for key in (0..5000u64).step_by(50).map(|i| 1000 + 3 * i) {
        let query = query_of(&delta, key);
        let exact: Vec<u64> = brute_force(&delta, &query, 10)
            .iter()
            .map(|x| x.0)
            .collect();
        let found = search(&delta, &query, 10, 10 * DELTA_TREES * 10);
        hits += found.iter().filter(|x| exact.contains(&x.0)).count();
        total += 10;
    }
    let recall = hits as f64 / total as f64;
    assert!(recall >= 0.9, "recall {recall}");
}

#[test]
fn identical_items_beyond_a_leaf_stay_findable() {
    let layout = Layout::new(Metric::Euclidean, 8).unwrap();
    let mut delta = Delta::new(layout, 3, None, None).unwrap();
    let n = 3 * layout.k + 5;
    for key in 0..n as u64 {
        delta.upsert(key, &[0.25; 8]).unwrap();
    }
    delta.check().unwrap();
    let query = query_of(&delta, 0);
    let found = search(&delta, &query, n, usize::MAX);
    assert_eq!(found.len(), n);
    assert!(found.iter().all(|x| x.1 == 0.0));
}

#[test]
fn replaced_and_deleted_items_leave_nothing_behind() {
    let mut delta = filled(Metric::Euclidean, 3000, 16);
    let fresh = vectors(3000, 16, 9);
    for i in 0..3000u64 {
        let key = 1000 + 3 * i;
        match i % 3 {
            0 => assert!(delta.delete(key)),
            1 => delta.upsert(key, &fresh[i as usize]).unwrap(),
            _ => {}
        }
    }
    assert!(!delta.delete(1000));
    delta.check().unwrap();
    assert_eq!(delta.len(), 2000);
    // New keys reuse the freed slots: no growth.
    let capacity = delta.forest.capacity();
    for i in 0..1000u64 {
        delta.upsert(10_000_000 + i, &fresh[i as usize]).unwrap();
    }
    assert_eq!(delta.forest.capacity(), capacity);
    delta.check().unwrap();
    for i in (0..3000u64).step_by(7) {
        let key = 1000 + 3 * i;
        let query = query_of_vector(&delta, &fresh[i as usize]);
        let found = search(&delta, &query, 3000, usize::MAX);
        assert_eq!(found.len(), 3000);
        assert!(i % 3 != 0 || found.iter().all(|x| x.0 != key));
        if i % 3 == 1 {
            assert_eq!(delta.vector(key).unwrap(), fresh[i as usize]);
            assert_eq!(found[0].1, 0.0, "the replaced vector is the one found");
        }
    }
}

fn query_of_vector<'a>(delta: &Delta, v: &'a [f32]) -> Query<'a> {
    Query::floats(delta.layout.metric, v)
}
