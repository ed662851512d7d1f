//! The delta of a live index: items written since the last compaction, searchable at once.
//!
//! New items go to a flat buffer of item nodes, scanned exactly; when it holds `FLAT_MAX`
//! items they become a small forest, and forests of similar size merge (a binary counter), so
//! every item is rebuilt O(log(delta / FLAT_MAX)) times and a query searches at most that many
//! small forests plus the flat buffer. A forest is never changed: a replaced or deleted item
//! of a forest is hidden by that forest's `dead` set until the forest is merged.

use crate::distance::{score, user_distance, Neighbor, Query};
use crate::error::Result;
use crate::index::Index;
use crate::kernels;
use crate::keys::{KeyMapOf, KeySet};
use crate::metric::Metric;
use crate::node::Layout;
use crate::search::Request;
use crate::storage::HeapNodes;

/// Items scanned exactly before they become a forest: small enough that the scan costs a few
/// tens of microseconds (a 384-d scan of 256 items reads about 400 KB).
const FLAT_MAX: usize = 256;
/// Trees of a delta forest: delta forests are small and rebuilt often.
const FOREST_TREES: i32 = 10;

/// A forest over earlier delta items, with the keys replaced or deleted since it was built.
pub(crate) struct DeltaForest {
    pub index: Index,
    pub dead: KeySet,
    id: u64,
}

impl DeltaForest {
    pub fn live(&self) -> usize {
        self.index.n_stored() as usize - self.dead.len()
    }
}

/// Where a delta key's live copy is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    Flat(usize),
    Forest(u64),
}

pub(crate) struct Delta {
    layout: Layout,
    seed: u64,
    flat: HeapNodes,
    flat_keys: Vec<u64>,
    places: KeyMapOf<Place>,
    pub forests: Vec<DeltaForest>,
    next_forest: u64,
}

impl Delta {
    pub fn new(layout: Layout, seed: u64) -> Delta {
        Delta {
            layout,
            seed,
            flat: HeapNodes::default(),
            flat_keys: Vec::new(),
            places: KeyMapOf::default(),
            forests: Vec::new(),
            next_forest: 0,
        }
    }

    /// Live items in the delta.
    pub fn len(&self) -> usize {
        self.places.len()
    }

    /// Adds or replaces `key` (vector checked by the caller).
    pub fn upsert(&mut self, key: u64, vector: &[f32]) -> Result<()> {
        let s = self.layout.node_size;
        let slot = match self.places.get(&key) {
            Some(&Place::Flat(slot)) => slot,
            other => {
                if let Some(&Place::Forest(id)) = other {
                    self.forest_mut(id).dead.insert(key);
                }
                let slot = self.flat_keys.len();
                self.flat.resize((slot + 1) * s)?;
                self.flat_keys.push(key);
                self.places.insert(key, Place::Flat(slot));
                slot
            }
        };
        self.layout
            .fill_item(&mut self.flat.bytes_mut()[slot * s..(slot + 1) * s], vector);
        if self.flat_keys.len() >= FLAT_MAX {
            self.flush()?;
        }
        Ok(())
    }

    /// Removes `key`; true when the delta held it.
    pub fn delete(&mut self, key: u64) -> bool {
        match self.places.remove(&key) {
            Some(Place::Flat(slot)) => {
                let s = self.layout.node_size;
                let last = self.flat_keys.len() - 1;
                if slot != last {
                    self.flat
                        .bytes_mut()
                        .copy_within(last * s..(last + 1) * s, slot * s);
                    let moved = self.flat_keys[last];
                    self.flat_keys[slot] = moved;
                    self.places.insert(moved, Place::Flat(slot));
                }
                self.flat_keys.pop();
                let _ = self.flat.resize(last * s);
                true
            }
            Some(Place::Forest(id)) => {
                self.forest_mut(id).dead.insert(key);
                true
            }
            None => false,
        }
    }

    /// The stored vector of `key`, if the delta holds it.
    pub fn vector(&self, key: u64) -> Option<Vec<f32>> {
        match *self.places.get(&key)? {
            Place::Flat(slot) => Some(self.node_vector(slot)),
            Place::Forest(id) => self
                .forests
                .iter()
                .find(|f| f.id == id)?
                .index
                .get_item_vector(key)
                .ok(),
        }
    }

    fn node_vector(&self, slot: usize) -> Vec<f32> {
        let s = self.layout.node_size;
        let node = &self.flat.bytes()[slot * s..(slot + 1) * s];
        match self.layout.metric {
            Metric::Hamming => {
                let bits = self.layout.bits(node);
                (0..self.layout.dim)
                    .map(|j| f32::from((bits[j / 8] >> (j % 8)) & 1))
                    .collect()
            }
            _ => self.layout.vector(node).to_vec(),
        }
    }

    /// Every live item, as (key, vector).
    pub fn items(&self) -> impl Iterator<Item = (u64, Vec<f32>)> + '_ {
        self.places
            .keys()
            .filter_map(move |&k| Some((k, self.vector(k)?)))
    }

    /// The largest live key.
    pub fn max_key(&self) -> Option<u64> {
        self.places.keys().copied().max()
    }

    fn forest_mut(&mut self, id: u64) -> &mut DeltaForest {
        self.forests
            .iter_mut()
            .find(|f| f.id == id)
            .expect("places name live forests")
    }

    /// Turns the flat buffer into a forest, then merges forests of similar size.
    fn flush(&mut self) -> Result<()> {
        let items: Vec<(u64, Vec<f32>)> = (0..self.flat_keys.len())
            .map(|slot| (self.flat_keys[slot], self.node_vector(slot)))
            .collect();
        let forest = self.forest_of(&items)?;
        self.flat_keys.clear();
        self.flat.resize(0)?;
        self.forests.push(forest);
        while self.forests.len() >= 2 {
            let n = self.forests.len();
            if self.forests[n - 2].live() > 2 * self.forests[n - 1].live() {
                break;
            }
            let (b, a) = (
                self.forests.pop().expect("two"),
                self.forests.pop().expect("two"),
            );
            let mut items: Vec<(u64, Vec<f32>)> = Vec::with_capacity(a.live() + b.live());
            for f in [&a, &b] {
                let keys = f.index.stored_keys();
                items.extend(
                    keys.into_iter()
                        .filter(|k| !f.dead.contains(k))
                        .filter_map(|k| Some((k, f.index.get_item_vector(k).ok()?))),
                );
            }
            let merged = self.forest_of(&items)?;
            self.forests.push(merged);
        }
        Ok(())
    }

    /// A new forest over `items`, recorded as their place.
    fn forest_of(&mut self, items: &[(u64, Vec<f32>)]) -> Result<DeltaForest> {
        let mut index = Index::new(self.layout.dim, self.layout.metric)?;
        index.set_seed(self.seed ^ self.next_forest);
        for (key, vector) in items {
            index.add_item(*key, vector)?;
        }
        index.build(FOREST_TREES, -1)?;
        let id = self.next_forest;
        self.next_forest += 1;
        for (key, _) in items {
            self.places.insert(*key, Place::Forest(id));
        }
        Ok(DeltaForest {
            index,
            dead: KeySet::default(),
            id,
        })
    }

    /// Exact scan of the flat buffer: the best `n` accepted items, appended to `out`.
    pub fn scan(&self, query: &Query, request: &Request, out: &mut Vec<Neighbor>) {
        let (layout, k, s) = (&self.layout, kernels::kernels(), self.layout.node_size);
        let start = out.len();
        let mut scored: Vec<(f32, u64)> = self
            .flat_keys
            .iter()
            .enumerate()
            .filter(|(_, &key)| request.accepts(key))
            .map(|(slot, &key)| {
                (
                    score(
                        layout,
                        k,
                        query,
                        &self.flat.bytes()[slot * s..(slot + 1) * s],
                    ),
                    key,
                )
            })
            .collect();
        let keep = request.n.min(scored.len());
        if keep > 0 && keep < scored.len() {
            scored.select_nth_unstable_by(keep - 1, |a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        }
        scored.truncate(keep);
        out.extend(scored.into_iter().map(|(score, id)| Neighbor {
            id,
            distance: user_distance(layout.metric, score),
        }));
        debug_assert!(out.len() - start <= request.n);
    }
}
