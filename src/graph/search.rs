//! Answering a query on the graph: a beam search from the entry, scored on the compact codes
//! when the index has them, whose best accepted nodes `rank` re-ranks exactly (their code
//! scores are kept, not computed again).
//!
//! Effort: the beam width `ef` comes from the search options, or else from `search_k` as
//! `max(n, MIN_DERIVED_EF, search_k / SEARCH_K_PER_EF)`, so that an Annoy-style caller that
//! only passes `search_k` gets at least the recall the forest gives at that `search_k` (a test
//! checks it), in a fraction of the time.
//!
//! Filters: the walk goes through refused nodes (they still lead somewhere) but only accepted
//! ones become candidates. When fewer than `n` are accepted, the beam widens and the search
//! runs again; a complete request that still falls short is answered by the forest's walk,
//! which guarantees `min(n, accepted items)`.

use super::{beam, Graph};
use crate::distance::{self, Query};
use crate::kernels;
use crate::search::{Forest, Scratch};

/// `search_k` candidates of the forest correspond to a beam this many times narrower.
pub(crate) const SEARCH_K_PER_EF: usize = 16;
/// The narrowest beam derived from `search_k`: Annoy's default `search_k` (`n * n_trees`) would
/// otherwise give a beam of `n`, too narrow to find even an item's own vector reliably.
pub(crate) const MIN_DERIVED_EF: usize = 32;
/// How many times a filtered search may widen its beam (by 4x each time).
const WIDENINGS: usize = 3;

/// The beam width for a request of `n` with `search_k` and an optional explicit `ef`.
pub(crate) fn effort(n: usize, search_k: usize, ef: Option<usize>) -> usize {
    ef.unwrap_or_else(|| (search_k / SEARCH_K_PER_EF).max(MIN_DERIVED_EF))
        .max(n)
        .max(1)
}

/// What a walk found.
pub(crate) struct Walk {
    /// At least `n` accepted nodes.
    pub enough: bool,
    /// Their scores are estimates on the codes (to be re-ranked), not exact.
    pub on_codes: bool,
}

/// Fills `s.scored` with the accepted nodes of the final beam and their scores, widening the
/// beam while fewer than `n` are accepted.
pub(crate) fn walk(
    forest: &Forest,
    graph: &Graph,
    s: &mut Scratch,
    query: &Query,
    n: usize,
    ef: usize,
    accepts: &dyn Fn(i32) -> bool,
) -> Walk {
    let k = kernels::kernels();
    let layout = forest.nodes.layout;
    let prepared = match (&forest.codes, query) {
        (Some(codes), Query::Floats { v, .. }) => Some(codes.prepare(k, v, &mut s.weights)),
        _ => None,
    };
    let mut ef = ef;
    for attempt in 0..=WIDENINGS {
        s.begin(forest.n_items);
        let (beam_state, seen, epoch, weights) = s.graph_parts();
        beam::search(
            beam_state,
            graph.adjacency,
            graph.degree,
            graph.entry,
            ef,
            |slot| {
                let first = seen[slot as usize] != epoch;
                seen[slot as usize] = epoch;
                first
            },
            |slot| match (&forest.codes, &prepared) {
                (Some(codes), Some(p)) => codes
                    .score(k, p, weights, slot as usize)
                    .unwrap_or(f32::INFINITY),
                _ => {
                    let node = forest.nodes.get(slot as usize);
                    if layout.n_descendants(node) == 1 {
                        distance::score(layout, k, query, node)
                    } else {
                        f32::INFINITY
                    }
                }
            },
        );
        s.take_beam(accepts);
        if s.scored.len() >= n || attempt == WIDENINGS || ef >= forest.n_items {
            break;
        }
        ef = ef.saturating_mul(4);
    }
    Walk {
        enough: s.scored.len() >= n,
        on_codes: prepared.is_some(),
    }
}
