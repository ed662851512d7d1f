//! A delta routed into its host: exact answers with an unlimited search whatever the items'
//! places (in the delta's trees, routed, replaced, deleted), the recall of a compacted index
//! with a bounded one, and stale routes refused.

use super::*;
use crate::distance::{score, user_distance};
use crate::filter::SearchOptions;
use crate::kernels;
use crate::live::test_rng::rng;

const DIM: usize = 16;

/// Clustered vectors, so that neighbours mean something: around 24 centres drawn from
/// `centres`, with noise drawn from `seed`.
fn clustered(n: usize, centres: u64, seed: u64) -> Vec<Vec<f32>> {
    let mut c = rng(centres);
    let centres: Vec<Vec<f32>> = (0..24).map(|_| (0..DIM).map(|_| c()).collect()).collect();
    let mut r = rng(seed);
    (0..n)
        .map(|i| {
            centres[(i * 7) % 24]
                .iter()
                .map(|c| c + 0.25 * r())
                .collect()
        })
        .collect()
}

/// Vectors like the segments' (the same clusters).
fn vectors(n: usize, seed: u64) -> Vec<Vec<f32>> {
    clustered(n, 1, seed)
}

/// `data[i]` under key `i`.
fn keyed(data: &[Vec<f32>]) -> Vec<(u64, Vec<f32>)> {
    data.iter()
        .cloned()
        .enumerate()
        .map(|(i, v)| (i as u64, v))
        .collect()
}

/// The routes of a batch's items, worked out as the router does.
fn routes_of(batch: &Batch) -> Vec<Vec<u32>> {
    let nodes: Vec<&[u8]> = batch.items.iter().map(|i| i.node.as_slice()).collect();
    batch.trees().route(&nodes)
}

fn built(metric: Metric, items: &[(u64, Vec<f32>)], n_trees: i32) -> Index {
    let mut index = Index::new(DIM, metric).unwrap();
    for (key, v) in items {
        index.add_item(*key, v).unwrap();
    }
    index.build(n_trees, 1).unwrap();
    index
}

/// A state over one segment of keys `0..n` (a host, when large enough), generation 1.
fn state_over(metric: Metric, data: &[Vec<f32>], n_trees: i32) -> LiveState {
    let items = keyed(data);
    let recipe = Recipe {
        n_trees,
        graph_degree: None,
        seed: 42,
    };
    let layout = Layout::new(metric, DIM).unwrap();
    LiveState::new(layout, vec![built(metric, &items, n_trees)], 1, 1, recipe).unwrap()
}

fn upsert(state: &mut LiveState, keys: &[u64], vectors: &[Vec<f32>]) {
    let op = Op::Upsert {
        keys: keys.to_vec(),
        vectors: vectors.concat(),
    };
    state.apply(&op).unwrap();
}

/// What the router does, here on the caller's thread: every waiting item routed.
fn route_all(state: &mut LiveState) -> usize {
    let mut moved = 0;
    while let Some(batch) = state.batch_to_route(37) {
        let routes = routes_of(&batch);
        moved += state.settle(batch.generation, &batch.items, &routes);
    }
    moved
}

fn search(
    state: &LiveState,
    q: &[f32],
    n: usize,
    search_k: Option<usize>,
    filter: Option<&SearchOptions>,
) -> Vec<(u64, f32)> {
    let query = Query::floats(state.layout.metric, q);
    let request = Request {
        n,
        search_k,
        filter,
        complete: true,
        hidden: None,
    };
    let mut out = Vec::new();
    state.search(&query, &request, &mut out).unwrap();
    out.into_iter().map(|nb| (nb.id, nb.distance)).collect()
}

/// The exact nearest `n` live items accepted by `accept`, ties to the smaller key.
fn brute_force(
    state: &LiveState,
    q: &[f32],
    n: usize,
    accept: impl Fn(u64) -> bool,
) -> Vec<(u64, f32)> {
    let layout = state.layout;
    let query = Query::floats(layout.metric, q);
    let mut node = vec![0u8; layout.node_size];
    let all: Vec<(f32, u64)> = state
        .items()
        .into_iter()
        .filter(|(key, _)| accept(*key))
        .map(|(key, v)| {
            layout.fill_item(&mut node, &v);
            (score(&layout, kernels::kernels(), &query, &node), key)
        })
        .collect();
    // As the live search orders its merged answer: by the distance returned, then key.
    let mut all: Vec<(u64, f32)> = all
        .into_iter()
        .map(|(s, key)| (key, user_distance(layout.metric, s)))
        .collect();
    let nearer = |d: f32| if layout.metric == Metric::Dot { -d } else { d };
    all.sort_by(|a, b| nearer(a.1).total_cmp(&nearer(b.1)).then(a.0.cmp(&b.0)));
    all.truncate(n);
    all
}

fn same(found: &[(u64, f32)], exact: &[(u64, f32)]) -> bool {
    found.len() == exact.len()
        && found
            .iter()
            .zip(exact)
            .all(|(a, b)| a.0 == b.0 && (a.1 - b.1).abs() <= 1e-4 * (1.0 + b.1.abs()))
}

#[test]
fn an_unlimited_search_is_exact_wherever_the_items_are() {
    for metric in [
        Metric::Angular,
        Metric::Euclidean,
        Metric::Manhattan,
        Metric::Dot,
    ] {
        let data = vectors(3000, 1);
        let mut state = state_over(metric, &data, 8);
        assert!(
            state.host.is_some(),
            "{metric}: a 3,000-item segment hosts the delta"
        );
        let fresh = vectors(900, 2);
        // Replacements of segment keys, and new keys.
        let keys: Vec<u64> = (0..300u64).map(|i| i * 7).chain(5000..5600).collect();
        upsert(&mut state, &keys, &fresh);
        let moved = route_all(&mut state);
        assert!(
            moved > 800,
            "{metric}: items like the host's are routed ({moved})"
        );
        // More writes after routing: some replace routed items, some stay in the delta's trees.
        let more = vectors(200, 3);
        let keys2: Vec<u64> = (5000..5100).chain(6000..6100).collect();
        upsert(&mut state, &keys2, &more);
        assert_eq!(
            state
                .apply(&Op::Delete {
                    keys: vec![7, 5200, 6050, 1]
                })
                .unwrap(),
            4
        );
        state.delta.check().unwrap();
        let total = state.n_live();
        for q in vectors(8, 9) {
            let found = search(&state, &q, total + 5, Some(usize::MAX), None);
            let exact = brute_force(&state, &q, total + 5, |_| true);
            assert_eq!(found.len(), total, "{metric}: every live item once");
            assert!(
                same(&found, &exact),
                "{metric}: exact order and distances {:?}",
                found.iter().zip(&exact).find(|(a, b)| a != b)
            );
            // A short allow list and a deny list see the routed items too.
            let allow: Vec<u64> = vec![5300, 14, 5000, 6001, 7, 2999];
            let mut options = SearchOptions::new();
            options.set_allow_list(&allow);
            let found = search(&state, &q, 10, Some(100), Some(&options));
            let exact = brute_force(&state, &q, 10, |k| allow.contains(&k));
            assert!(
                same(&found, &exact),
                "{metric}: allow list {found:?} vs {exact:?}"
            );
            let mut options = SearchOptions::new();
            options.set_deny_list(&(5000..5600).collect::<Vec<_>>());
            let found = search(&state, &q, total, Some(usize::MAX), Some(&options));
            let exact = brute_force(&state, &q, total, |k| !(5000..5600).contains(&k));
            assert!(same(&found, &exact), "{metric}: deny list");
        }
    }
}

/// Recall@10 at `search_k` over `queries`: of the live state, and of a fresh build of its
/// items (the compacted index).
fn recalls(state: &LiveState, queries: &[Vec<f32>], search_k: usize) -> (f64, f64) {
    let compacted = built(state.layout.metric, &state.items(), state.n_trees);
    let (mut live_hits, mut compacted_hits) = (0, 0);
    for q in queries {
        let exact: Vec<u64> = brute_force(state, q, 10, |_| true)
            .iter()
            .map(|h| h.0)
            .collect();
        let live = search(state, q, 10, Some(search_k), None);
        let query = Query::floats(state.layout.metric, q);
        let mut out = Vec::new();
        let request = Request {
            n: 10,
            search_k: Some(search_k),
            filter: None,
            complete: true,
            hidden: None,
        };
        compacted
            .search_part(&query, &request, None, &mut out)
            .unwrap();
        live_hits += live.iter().filter(|h| exact.contains(&h.0)).count();
        compacted_hits += out.iter().filter(|h| exact.contains(&h.id)).count();
    }
    let total = (queries.len() * 10) as f64;
    (live_hits as f64 / total, compacted_hits as f64 / total)
}

#[test]
fn routed_items_are_found_as_a_compacted_index_finds_them() {
    let data = vectors(6000, 4);
    let mut state = state_over(Metric::Angular, &data, 10);
    // A third of the keys rewritten with new vectors from the same clusters.
    let fresh = vectors(2000, 5);
    let keys: Vec<u64> = (0..2000u64).map(|i| i * 3).collect();
    upsert(&mut state, &keys, &fresh);
    assert!(route_all(&mut state) > 1900);
    let (live, compacted) = recalls(&state, &vectors(200, 6), 400);
    assert!(
        live >= compacted - 0.02,
        "routed recall {live} against compacted {compacted}"
    );
}

#[test]
fn routing_items_unlike_the_hosts_costs_no_recall() {
    // New clusters, which the host's planes do not divide: the ones that would crowd a few
    // leaves stay where the delta's own trees split them.
    let data = vectors(6000, 4);
    let mut state = state_over(Metric::Angular, &data, 10);
    let fresh = clustered(2000, 77, 5);
    let keys: Vec<u64> = (0..2000u64).map(|i| i * 3).collect();
    upsert(&mut state, &keys, &fresh);
    let queries = clustered(200, 77, 6);
    let (unrouted, _) = recalls(&state, &queries, 400);
    route_all(&mut state);
    let (live, _) = recalls(&state, &queries, 400);
    assert!(
        live >= unrouted - 0.03,
        "after routing {live}, before {unrouted}"
    );
    state.delta.check().unwrap();
}

#[test]
fn a_route_worked_out_for_an_older_write_is_dropped() {
    let data = vectors(2000, 7);
    let mut state = state_over(Metric::Euclidean, &data, 6);
    let fresh = vectors(3, 8);
    upsert(&mut state, &[10_000, 10_001, 10_002], &fresh);
    let batch = state.batch_to_route(10).unwrap();
    assert_eq!(batch.items.len(), 3);
    // Written again and deleted while the batch was being routed.
    upsert(&mut state, &[10_000], &fresh[2..]);
    state.apply(&Op::Delete { keys: vec![10_001] }).unwrap();
    let routes = routes_of(&batch);
    assert_eq!(
        state.settle(batch.generation, &batch.items, &routes),
        1,
        "only 10_002 moves"
    );
    state.delta.check().unwrap();
    assert_eq!(
        route_all(&mut state),
        1,
        "the rewrite of 10_000 is routed next"
    );
    state.delta.check().unwrap();
    assert_eq!(state.vector(10_000).unwrap(), fresh[2]);
    // A batch from another generation is never applied.
    upsert(&mut state, &[10_005], &fresh[..1]);
    let batch = state.batch_to_route(10).unwrap();
    let routes = routes_of(&batch);
    assert_eq!(state.settle(batch.generation + 1, &batch.items, &routes), 0);
    let q = &fresh[0];
    let total = state.n_live();
    let found = search(&state, q, total, Some(usize::MAX), None);
    assert!(same(&found, &brute_force(&state, q, total, |_| true)));
}

#[test]
fn small_segments_and_graphs_host_nothing() {
    let data = vectors(500, 10);
    let state = state_over(Metric::Angular, &data, 5);
    assert!(state.host.is_none(), "500 items are too few to host");
    let mut with_graph = built(Metric::Angular, &keyed(&data), 5);
    with_graph.build_graph(8, 1).unwrap();
    let layout = Layout::new(Metric::Angular, DIM).unwrap();
    let recipe = Recipe {
        n_trees: 5,
        graph_degree: Some(8),
        seed: 1,
    };
    let state = LiveState::new(layout, vec![with_graph], 1, 1, recipe).unwrap();
    assert!(
        state.host.is_none(),
        "a graph's walk does not read the trees"
    );
}

#[test]
fn routing_survives_a_damaged_tree() {
    // Routes through structure that cannot be followed list the item at the tree's root,
    // where every walk starts: a complete search still finds it.
    let data = vectors(2000, 11);
    let index = built(Metric::Euclidean, &keyed(&data), 4);
    let trees = index.trees();
    let layout = Layout::new(Metric::Euclidean, DIM).unwrap();
    let mut bytes = trees.nodes.bytes.to_vec();
    let root = trees.first_root;
    let s = layout.node_size;
    layout.set_child(&mut bytes[root * s..(root + 1) * s], 0, i32::MAX);
    layout.set_child(&mut bytes[root * s..(root + 1) * s], 1, -5);
    let damaged = crate::overlay::Trees {
        nodes: crate::node::Nodes {
            layout: &layout,
            bytes: &bytes,
        },
        ..trees
    };
    let mut node = vec![0u8; s];
    layout.fill_item(&mut node, &data[3]);
    let route = damaged.route(&[&node]);
    assert_eq!(
        route[0][0] as usize, root,
        "the damaged tree lists it at its root"
    );
    assert_eq!(
        route[0][1..],
        trees.route(&[&node])[0][1..],
        "the other trees are unaffected"
    );
}
