//! Several index files searched as one: the building block for indexes bigger than one
//! build. Every shard is mapped read-only; queries (all forms, filters, batches) run on each
//! shard and the results are merged exactly as one index would order them: by distance (dot:
//! largest first), ties going to the smaller key. Keys must not repeat across shards.

use super::{Index, SectionBytes, State};
use crate::distance::{Neighbor, Query};
use crate::error::{Error, Result};
use crate::keys::KeyMap;
use crate::metric::Metric;
use crate::search::Request;
use crate::storage::{HeapNodes, Storage};
use std::path::Path;
use std::sync::OnceLock;

impl Index {
    /// Maps the index files at `paths` (native files of one metric and dimension, with no key
    /// in two of them) as one read-only index. Checking the keys reads each file's keys: O(n)
    /// in the items, unlike loading one file.
    pub fn open_shards<P: AsRef<Path>>(paths: &[P], prefault: bool) -> Result<Index> {
        if paths.is_empty() {
            return Err(Error::invalid_argument(
                "open_shards needs at least one index file",
            ));
        }
        let shards = paths
            .iter()
            .map(|p| Index::load(p, prefault))
            .collect::<Result<Vec<Index>>>()?;
        let first = &shards[0];
        for (shard, path) in shards.iter().zip(paths).skip(1) {
            if shard.layout.metric != first.layout.metric || shard.layout.dim != first.layout.dim {
                return Err(Error::invalid_argument(format!(
                    "shard {} is a {} index of dim {}, but {} is {} of dim {}: shards must share metric and dimension",
                    path.as_ref().display(),
                    shard.layout.metric,
                    shard.layout.dim,
                    paths[0].as_ref().display(),
                    first.layout.metric,
                    first.layout.dim
                )));
            }
        }
        check_disjoint(&shards, paths)?;
        Ok(Index {
            layout: first.layout,
            seed: first.seed,
            state: State::Sharded,
            storage: Storage::Heap(HeapNodes::default()),
            n_items: 0,
            n_trees: shards.iter().map(|s| s.n_trees).sum(),
            header: None,
            codes: SectionBytes::None,
            graph: SectionBytes::None,
            keys: KeyMap::Direct,
            stored: OnceLock::new(),
            shards,
            live: None,
        })
    }

    /// The shards of a sharded index.
    pub(super) fn shards(&self) -> Option<&[Index]> {
        (self.state == State::Sharded).then_some(&self.shards[..])
    }

    /// Searches every shard and keeps the best `n` of all their results.
    pub(super) fn search_shards(
        &self,
        shards: &[Index],
        query: &Query,
        request: &Request,
        out: &mut Vec<Neighbor>,
    ) -> Result<()> {
        let start = out.len();
        for shard in shards {
            shard.forest().search(query, request, out)?;
        }
        let nearest_first = |a: &Neighbor, b: &Neighbor| {
            let (x, y) = match self.layout.metric {
                Metric::Dot => (-a.distance, -b.distance),
                _ => (a.distance, b.distance),
            };
            x.total_cmp(&y).then(a.id.cmp(&b.id))
        };
        out[start..].sort_unstable_by(nearest_first);
        out.truncate(start + request.n.min(out.len() - start));
        Ok(())
    }
}

/// No key may be in two shards: every shard's keys, sorted together, must be distinct.
fn check_disjoint<P: AsRef<Path>>(shards: &[Index], paths: &[P]) -> Result<()> {
    let mut all: Vec<(u64, usize)> = Vec::new();
    for (i, shard) in shards.iter().enumerate() {
        all.extend(shard.stored_keys().into_iter().map(|k| (k, i)));
    }
    all.sort_unstable();
    if let Some(w) = all.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(Error::invalid_argument(format!(
            "key {} is in both {} and {}: keys must not repeat across shards",
            w[0].0,
            paths[w[0].1].as_ref().display(),
            paths[w[1].1].as_ref().display()
        )));
    }
    Ok(())
}
