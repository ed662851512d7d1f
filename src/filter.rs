//! Search options: how hard to search, and which keys a search may return.
//!
//! A filter is an allow-list, a deny-list, a predicate, or any combination; a key is accepted
//! when it is in the allow-list (if there is one), not in the deny-list, and the predicate
//! (if any) returns true. Filtered searches keep two promises (see `search`): they return
//! exactly `min(n, accepted items)` results, all accepted, and only accepted candidates count
//! toward `search_k`. Options are immutable while searches use them, so one object may serve
//! any number of concurrent searches.

use std::sync::Arc;

/// A predicate on keys, called from the searching threads (possibly several at once).
pub type Predicate = Arc<dyn Fn(u64) -> bool + Send + Sync>;

/// How to search: effort and filter. The default searches with `n * n_trees` candidates and
/// accepts every key.
#[derive(Clone, Default)]
pub struct SearchOptions {
    pub(crate) search_k: Option<usize>,
    pub(crate) ef: Option<usize>,
    pub(crate) allow: Option<KeySet>,
    pub(crate) deny: Option<KeySet>,
    pub(crate) predicate: Option<Predicate>,
}

impl std::fmt::Debug for SearchOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchOptions")
            .field("search_k", &self.search_k)
            .field("ef", &self.ef)
            .field("allow", &self.allow.as_ref().map(KeySet::len))
            .field("deny", &self.deny.as_ref().map(KeySet::len))
            .field("predicate", &self.predicate.is_some())
            .finish()
    }
}

impl SearchOptions {
    pub fn new() -> SearchOptions {
        SearchOptions::default()
    }

    /// Candidates to collect (only accepted ones count); `None` means `n * n_trees`.
    pub fn set_search_k(&mut self, search_k: Option<usize>) -> &mut Self {
        self.search_k = search_k;
        self
    }

    /// The beam width of a graph search (see `graph`): the nodes kept while walking, at least
    /// `n`. `None` derives it from `search_k`. Indexes without a graph ignore it.
    pub fn set_ef(&mut self, ef: Option<usize>) -> &mut Self {
        self.ef = ef;
        self
    }

    /// Only these keys may be returned (in any order, repeats ignored). An empty list accepts
    /// nothing. Replaces an earlier allow-list.
    pub fn set_allow_list(&mut self, keys: &[u64]) -> &mut Self {
        self.allow = Some(KeySet::new(keys));
        self
    }

    /// These keys may not be returned. Replaces an earlier deny-list.
    pub fn set_deny_list(&mut self, keys: &[u64]) -> &mut Self {
        self.deny = Some(KeySet::new(keys));
        self
    }

    /// Only keys for which `accept` returns true may be returned. `accept` may be called from
    /// several threads at once. Replaces an earlier predicate.
    pub fn set_filter(
        &mut self,
        accept: impl Fn(u64) -> bool + Send + Sync + 'static,
    ) -> &mut Self {
        self.predicate = Some(Arc::new(accept));
        self
    }

    /// Removes the allow-list, the deny-list and the predicate.
    pub fn clear_filters(&mut self) -> &mut Self {
        self.allow = None;
        self.deny = None;
        self.predicate = None;
        self
    }

    /// True when some key may be refused.
    pub(crate) fn filters(&self) -> bool {
        self.allow.is_some() || self.deny.is_some() || self.predicate.is_some()
    }

    /// Whether the search may return `key`.
    #[inline]
    pub(crate) fn accepts(&self, key: u64) -> bool {
        self.allow.as_ref().is_none_or(|a| a.contains(key))
            && !self.deny.as_ref().is_some_and(|d| d.contains(key))
            && self.predicate.as_ref().is_none_or(|p| p(key))
    }
}

/// A set of keys with O(1) membership: open addressing in a power-of-two table, `u64::MAX`
/// (never a key) marking empty places, and at most half the places used.
#[derive(Clone)]
pub(crate) struct KeySet {
    /// The distinct keys, ascending.
    sorted: Vec<u64>,
    table: Vec<u64>,
    shift: u32,
}

const EMPTY: u64 = u64::MAX;

impl KeySet {
    pub fn new(keys: &[u64]) -> KeySet {
        let mut sorted: Vec<u64> = keys.iter().copied().filter(|&k| k != EMPTY).collect();
        sorted.sort_unstable();
        sorted.dedup();
        let bits = (sorted.len() * 2)
            .max(2)
            .next_power_of_two()
            .trailing_zeros();
        let mut set = KeySet {
            table: vec![EMPTY; 1 << bits],
            shift: 64 - bits,
            sorted,
        };
        for i in 0..set.sorted.len() {
            let key = set.sorted[i];
            let mut at = set.place(key);
            while set.table[at] != EMPTY {
                at = (at + 1) & (set.table.len() - 1);
            }
            set.table[at] = key;
        }
        set
    }

    /// Where `key` starts its probe: Fibonacci hashing, the high bits of a multiplication.
    #[inline]
    fn place(&self, key: u64) -> usize {
        (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }

    #[inline]
    pub fn contains(&self, key: u64) -> bool {
        if key == EMPTY {
            return false;
        }
        let mask = self.table.len() - 1;
        let mut at = self.place(key) & mask;
        loop {
            match self.table[at] {
                EMPTY => return false,
                k if k == key => return true,
                _ => at = (at + 1) & mask,
            }
        }
    }

    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    /// The distinct keys, ascending.
    pub fn keys(&self) -> &[u64] {
        &self.sorted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_sets_hold_exactly_their_keys() {
        let keys = [5u64, 1 << 40, 5, u64::MAX - 1, 0, (1 << 63) + 5, u64::MAX];
        let set = KeySet::new(&keys);
        assert_eq!(set.keys(), &[0, 5, 1 << 40, (1 << 63) + 5, u64::MAX - 1]);
        for k in set.keys() {
            assert!(set.contains(*k));
        }
        for k in [1u64, 4, 6, 1 << 41, u64::MAX, u64::MAX - 2] {
            assert!(!set.contains(k), "{k}");
        }
        let empty = KeySet::new(&[]);
        assert!(!empty.contains(0) && empty.len() == 0);
        let many: Vec<u64> = (0..10_000u64).map(|i| i * 7919).collect();
        let set = KeySet::new(&many);
        assert!((0..70_000u64).all(|k| set.contains(k) == (k % 7919 == 0 && k / 7919 < 10_000)));
    }

    #[test]
    fn options_combine_allow_deny_and_predicate() {
        let mut o = SearchOptions::new();
        assert!(!o.filters() && o.accepts(3));
        o.set_allow_list(&[1, 2, 3, 4])
            .set_deny_list(&[2])
            .set_filter(|k| k != 4);
        assert!(o.filters());
        let accepted: Vec<u64> = (0..6).filter(|&k| o.accepts(k)).collect();
        assert_eq!(accepted, [1, 3]);
        o.clear_filters();
        assert!(!o.filters());
    }
}
