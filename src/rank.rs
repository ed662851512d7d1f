//! Ranking a search's candidates: score them, keep the best `n`, nearest first, ties going
//! to the smaller key.
//!
//! * With compact codes (see `codes`), every candidate is scored on its code, then the best
//!   [`rerank_depth`] are scored again exactly on their float vectors, which give the order
//!   and the distances returned.
//! * Without (Annoy's files, manhattan, hamming), every candidate is scored exactly; ids that
//!   were never added (holes, which root buckets of tiny indexes can list) are skipped.

use crate::codes::Codes;
use crate::distance::{score, user_distance, Neighbor, Query};
use crate::kernels;
use crate::search::{Forest, Scratch};

/// How many candidates ahead of scoring to prefetch: enough to cover memory latency.
const PREFETCH_DISTANCE: usize = 4;
/// The same for codes, which are smaller and scored faster.
const CODE_PREFETCH_DISTANCE: usize = 8;
const RERANK_FACTOR: usize = 3;
const RERANK_MIN: usize = 32;

/// How many candidates, best first by their codes, are scored again exactly: enough that the
/// true nearest `n` among the candidates are almost never lost to quantisation error.
pub(crate) fn rerank_depth(n: usize) -> usize {
    n.saturating_mul(RERANK_FACTOR).max(RERANK_MIN)
}

/// Scores `s.candidates` and appends the best `n` to `out`, as keys with user distances.
pub(crate) fn rank(
    forest: &Forest,
    s: &mut Scratch,
    query: &Query,
    n: usize,
    out: &mut Vec<Neighbor>,
) {
    let layout = forest.nodes.layout;
    let k = kernels::kernels();
    s.scored.clear();
    match (&forest.codes, query) {
        (Some(codes), Query::Floats { v, .. }) => {
            score_codes(forest, s, codes, query, v);
            finish(forest, s, query, n, true, out);
        }
        _ => {
            for (c, &slot) in s.candidates.iter().enumerate() {
                if let Some(&ahead) = s.candidates.get(c + PREFETCH_DISTANCE) {
                    kernels::prefetch(forest.item_node(ahead as usize));
                }
                let item = forest.item_node(slot as usize);
                if layout.n_descendants(item) == 1 {
                    s.scored.push((score(layout, k, query, item), slot));
                }
            }
            finish(forest, s, query, n, false, out);
        }
    }
}

/// Appends the best `n` of `s.scored` (candidates already scored: on their codes when
/// `on_codes`, which are then re-ranked exactly, or exactly) to `out`.
pub(crate) fn finish(
    forest: &Forest,
    s: &mut Scratch,
    query: &Query,
    n: usize,
    on_codes: bool,
    out: &mut Vec<Neighbor>,
) {
    let layout = forest.nodes.layout;
    let k = kernels::kernels();
    // Ties go to the smaller key: the smaller slot, unless slots are in no key order.
    let ordered = forest.keys.ordered() && forest.overlay.is_none();
    let by_score_then_key = |a: &(f32, i32), b: &(f32, i32)| {
        a.0.total_cmp(&b.0).then_with(|| {
            if ordered {
                a.1.cmp(&b.1)
            } else {
                forest
                    .key_of(a.1 as usize)
                    .cmp(&forest.key_of(b.1 as usize))
            }
        })
    };
    if on_codes {
        let depth = rerank_depth(n);
        if s.scored.len() > depth {
            s.scored
                .select_nth_unstable_by(depth - 1, by_score_then_key);
            s.scored.truncate(depth);
        }
        let scored = &mut s.scored;
        for c in 0..scored.len() {
            if let Some(&(_, ahead)) = scored.get(c + PREFETCH_DISTANCE) {
                kernels::prefetch(forest.item_node(ahead as usize));
            }
            let slot = scored[c].1 as usize;
            scored[c].0 = score(layout, k, query, forest.item_node(slot));
        }
    }
    let p = n.min(s.scored.len());
    if p < s.scored.len() && p > 0 {
        s.scored.select_nth_unstable_by(p - 1, by_score_then_key);
    }
    s.scored[..p].sort_unstable_by(by_score_then_key);
    out.extend(s.scored[..p].iter().map(|&(score, slot)| Neighbor {
        id: forest.key_of(slot as usize),
        distance: user_distance(layout.metric, score),
    }));
}

/// Scores every candidate on its code (holes have none). An overlay's items are scored on
/// their codes too, which share the forest's quantiser, or exactly when they have none.
fn score_codes(forest: &Forest, s: &mut Scratch, codes: &Codes, query: &Query, v: &[f32]) {
    let k = kernels::kernels();
    let prepared = codes.prepare(k, v, &mut s.weights);
    let n_items = forest.n_items;
    for (c, &id) in s.candidates.iter().enumerate() {
        if let Some(&ahead) = s.candidates.get(c + CODE_PREFETCH_DISTANCE) {
            match &forest.overlay {
                Some(o) if ahead as usize >= n_items => {
                    if let Some(extra) = &o.codes {
                        extra.prefetch(ahead as usize - n_items);
                    }
                }
                _ => codes.prefetch(ahead as usize),
            }
        }
        let score = match &forest.overlay {
            Some(o) if id as usize >= n_items => {
                let slot = id as usize - n_items;
                match &o.codes {
                    Some(extra) if slot < extra.len() => {
                        extra.score(k, &prepared, &s.weights, slot)
                    }
                    Some(_) => None,
                    None => o
                        .is_item(slot)
                        .then(|| score(forest.nodes.layout, k, query, o.nodes.get(slot))),
                }
            }
            _ => codes.score(k, &prepared, &s.weights, id as usize),
        };
        if let Some(score) = score {
            s.scored.push((score, id));
        }
    }
}
