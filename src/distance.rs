//! Distances between a query and an item node, as Annoy computes and reports them: the code
//! every module that scores items shares (search, ranking, splitting, item access).

use crate::kernels::{self, Kernels};
use crate::metric::Metric;
use crate::node::Layout;

/// One search result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Neighbor {
    pub id: u64,
    /// Distance as Annoy reports it; for the dot metric, the inner product (larger is nearer).
    pub distance: f32,
}

/// A query vector ready for scoring: floats with their squared norm, or packed bits.
pub(crate) enum Query<'a> {
    Floats { v: &'a [f32], norm_sq: f32 },
    Bits(&'a [u64]),
}

impl<'a> Query<'a> {
    /// A float query; only angular scoring needs its norm, so only angular computes it.
    pub fn floats(metric: Metric, v: &'a [f32]) -> Query<'a> {
        let norm_sq = match metric {
            Metric::Angular => (kernels::kernels().dot)(v, v),
            _ => 0.0,
        };
        Query::Floats { v, norm_sq }
    }

    /// Item `node` as a query, with its stored norm (as Annoy's `get_distance` uses it).
    pub fn of_item(layout: &Layout, k: &Kernels, node: &'a [u8]) -> Query<'a> {
        match layout.metric {
            Metric::Hamming => Query::Bits(layout.words_u64(node)),
            Metric::Angular => Query::Floats {
                v: layout.vector(node),
                norm_sq: item_norm_sq(layout, k, node),
            },
            metric => Query::floats(metric, layout.vector(node)),
        }
    }
}

/// An item's squared norm: angular items cache it, and files from old Annoy versions leave
/// that cache at 0, meaning "not cached"; other metrics compute it.
pub(crate) fn item_norm_sq(layout: &Layout, k: &Kernels, item: &[u8]) -> f32 {
    match layout.metric {
        Metric::Angular if layout.norm_sq(item) != 0.0 => layout.norm_sq(item),
        _ => {
            let x = layout.vector(item);
            (k.dot)(x, x)
        }
    }
}

/// The score candidates are ranked by (smaller is nearer): Annoy's internal distance.
pub(crate) fn score(layout: &Layout, k: &Kernels, q: &Query, item: &[u8]) -> f32 {
    match (q, layout.metric) {
        (Query::Bits(words), _) => kernels::hamming(words, layout.bits(item)) as f32,
        (Query::Floats { v, norm_sq }, metric) => {
            let x = layout.vector(item);
            match metric {
                Metric::Angular => {
                    angular_from_parts(*norm_sq, item_norm_sq(layout, k, item), (k.dot)(v, x))
                }
                Metric::Euclidean => (k.euclidean_sq)(v, x),
                Metric::Manhattan => (k.manhattan)(v, x),
                Metric::Dot => -(k.dot)(v, x),
                Metric::Hamming => unreachable!("hamming queries are packed bits"),
            }
        }
    }
}

/// Turns a score into the distance users see.
pub(crate) fn user_distance(metric: Metric, score: f32) -> f32 {
    match metric {
        Metric::Angular | Metric::Euclidean => score.max(0.0).sqrt(),
        Metric::Manhattan => score.max(0.0),
        Metric::Dot => -score,
        Metric::Hamming => score,
    }
}

/// `2 - 2cos` from squared norms and the inner product; 2 when either vector is zero.
///
/// Annoy evaluates `2.0 - 2.0 * pq / sqrt(pp * qq)` with double constants and a float square
/// root; we do the same so distances agree to the last bit with Annoy's.
pub(crate) fn angular_from_parts(pp: f32, qq: f32, pq: f32) -> f32 {
    let ppqq = pp * qq;
    if ppqq > 0.0 {
        (2.0 - 2.0 * f64::from(pq) / f64::from(ppqq.sqrt())) as f32
    } else {
        2.0
    }
}
