//! Keys: the 64-bit ids users give items, and the slots (node positions) that hold them.
//!
//! Annoy's layout puts item `i` in node `i`, so its memory and files grow with the largest id.
//! Here any `u64` but `u64::MAX` is a key, and two layouts exist:
//! * **direct**: slot = key, as in Annoy; keys never added are holes (zero nodes). Used while
//!   every key is at most [`MAX_DIRECT_KEY`] and the keys fill at least half of `0..=max key`
//!   (so memory stays within twice the item count). Such files carry no keys section and are
//!   exactly Annoy's layout behind our header: `save_annoy` and Annoy's readers work on them.
//! * **sorted**: items are compact, in ascending key order, and a keys section (the sorted
//!   keys, one `u64` per slot) maps slot -> key by one load and key -> slot by binary search.
//!   Memory and file size grow with the number of items whatever the keys are.
//!
//! While items are being added and the keys stop fitting the direct layout, the index switches
//! to **compact** adding: slots in arrival order, with a hash map from key to slot. `build`
//! then lays the items out directly when the final keys allow it (adding keys 0..n-1 in any
//! order gives Annoy's layout), or sorted otherwise.
//!
//! Keys section (kind 2; little-endian; the section starts 64-byte aligned):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | keys version (1) |
//! | 4 | 4 | reserved, zero |
//! | 8 | 8 | number of keys (= the header's slot count) |
//! | 16 | 48 | reserved, zero |
//! | 64 | 8 x n | the keys, strictly ascending, none equal to `u64::MAX` |

use crate::error::{Error, Result};
// Renamed so the header generator, which reads every type alias, does not mistake this
// two-parameter form for the one-parameter ones elsewhere.
use std::collections::HashMap as StdHashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Hashes a key by Fibonacci multiplication: keys are looked up on every candidate of a
/// live delta search and every write, where SipHash costs several times more.
#[derive(Default, Clone, Copy)]
pub(crate) struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn write_u64(&mut self, key: u64) {
        self.0 = (key ^ (key >> 31)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// A map from keys, hashed as [`KeyHasher`] does.
pub(crate) type KeyMapOf<V> = StdHashMap<u64, V, BuildHasherDefault<KeyHasher>>;

/// A set of slots, one bit each: a live segment's items that newer writes replaced or
/// deleted. A search tests every candidate against it, so it costs one load, not a hash.
#[derive(Default)]
pub(crate) struct SlotSet {
    words: Vec<u64>,
    len: usize,
}

impl SlotSet {
    /// Slots in the set.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    #[inline]
    pub fn contains(&self, slot: usize) -> bool {
        self.words
            .get(slot / 64)
            .is_some_and(|w| w >> (slot % 64) & 1 == 1)
    }

    /// Takes `slot` out; true when it was in the set.
    pub fn remove(&mut self, slot: usize) -> bool {
        match self.words.get_mut(slot / 64) {
            Some(word) if *word >> (slot % 64) & 1 == 1 => {
                *word &= !(1u64 << (slot % 64));
                self.len -= 1;
                true
            }
            _ => false,
        }
    }

    /// Adds `slot`; true when it was not in the set.
    pub fn insert(&mut self, slot: usize) -> bool {
        if self.words.len() <= slot / 64 {
            self.words.resize(slot / 64 + 1, 0);
        }
        let word = &mut self.words[slot / 64];
        let bit = 1u64 << (slot % 64);
        let new = *word & bit == 0;
        *word |= bit;
        self.len += usize::from(new);
        new
    }
}

/// The section kind in the file header's table.
pub(crate) const SECTION_KIND: u32 = 2;
const VERSION: u32 = 1;
const HEADER_LEN: usize = 64;
/// The largest key the direct layout holds: node references are i32 in Annoy's layout.
pub const MAX_DIRECT_KEY: u64 = i32::MAX as u64 - 1;
/// The one value that is not a key: C callers use it for "no result".
pub const NO_KEY: u64 = u64::MAX;

/// Slots the direct layout may use beyond twice the item count: small indexes with a few
/// large ids stay in Annoy's layout, as they always were.
const DIRECT_SLACK: u64 = 1024;

/// True when `keys` items whose largest key is `max_key` fit the direct layout.
pub(crate) fn fits_direct(count: u64, max_key: u64) -> bool {
    max_key <= MAX_DIRECT_KEY && max_key < count.saturating_mul(2).saturating_add(DIRECT_SLACK)
}

/// Refuses the one value that is not a key.
pub(crate) fn check_key(key: u64) -> Result<()> {
    if key == NO_KEY {
        return Err(Error::invalid_argument(
            "key 2^64 - 1 (UINT64_MAX) is reserved to mean \"no key\"; any other 64-bit value is a valid key",
        ));
    }
    Ok(())
}

/// How keys map to slots.
pub(crate) enum KeyMap {
    /// Slot = key; holes are slots whose node was never filled.
    Direct,
    /// Adding in arrival order: `keys[slot]`, and the slot of each key.
    Compact {
        keys: Vec<u64>,
        slots: KeyMapOf<u32>,
    },
    /// Built or loaded: slot `i` holds the `i`-th smallest key.
    Sorted(SortedKeys),
}

/// How a search reads the keys of a forest's slots.
#[derive(Clone, Copy)]
pub(crate) enum SlotKeys<'a> {
    /// Slot = key (the direct layout).
    Direct,
    /// Slot `i` holds the `i`-th smallest key.
    Sorted(&'a [u64]),
    /// Slots in no key order (a live index's delta): `keys[slot]`, and the slot of each key.
    Mapped {
        keys: &'a [u64],
        slots: &'a KeyMapOf<u32>,
    },
}

impl SlotKeys<'_> {
    #[inline]
    pub fn key_of(&self, slot: usize) -> u64 {
        match self {
            SlotKeys::Direct => slot as u64,
            SlotKeys::Sorted(keys) | SlotKeys::Mapped { keys, .. } => keys[slot],
        }
    }

    /// The slot that would hold `key` (the caller checks that an item is there).
    pub fn slot_of(&self, key: u64, n_slots: usize) -> Option<usize> {
        match self {
            SlotKeys::Direct => usize::try_from(key).ok().filter(|&s| s < n_slots),
            SlotKeys::Sorted(keys) => slot_in_sorted(keys, key),
            SlotKeys::Mapped { slots, .. } => slots.get(&key).map(|&s| s as usize),
        }
    }

    /// True when a smaller slot always holds a smaller key, so ties can be broken on slots.
    pub fn ordered(&self) -> bool {
        !matches!(self, SlotKeys::Mapped { .. })
    }
}

/// The keys section of a sorted layout: encoded by `build` (8-byte aligned, so the keys can
/// be read in place), or a byte range of the mapped file (checked for size and alignment when
/// loaded; `verify` checks the order).
pub(crate) enum SortedKeys {
    Owned(crate::storage::HeapNodes),
    Mapped(std::ops::Range<usize>),
}

/// The keys section's bytes for `keys` (ascending).
pub(crate) fn encode(keys: &[u64]) -> Vec<u8> {
    let mut bytes = vec![0u8; HEADER_LEN + 8 * keys.len()];
    bytes[0..4].copy_from_slice(&VERSION.to_le_bytes());
    bytes[8..16].copy_from_slice(&(keys.len() as u64).to_le_bytes());
    bytes[HEADER_LEN..].copy_from_slice(bytemuck::cast_slice(keys));
    bytes
}

/// The keys in a keys section of a file with `n_slots` slots: O(1) checks of version, count
/// and size. (The order is checked by `verify`; a file with unordered keys gives wrong
/// answers for by-key calls, never an out-of-bounds read.)
pub(crate) fn parse(bytes: &[u8], n_slots: usize) -> Result<&[u64]> {
    let bad = |detail: String| Error::corrupt(format!("the keys section is corrupt: {detail}"));
    if bytes.len() < HEADER_LEN {
        return Err(bad(format!(
            "{} bytes, shorter than its header",
            bytes.len()
        )));
    }
    let version = u32::from_le_bytes(bytes[0..4].try_into().expect("4"));
    if version != VERSION {
        return Err(Error::new(
            crate::ErrorKind::UnsupportedVersion,
            format!("keys section version {version} is not supported; upgrade the library"),
        ));
    }
    let count = u64::from_le_bytes(bytes[8..16].try_into().expect("8"));
    let expected = (n_slots as u64)
        .checked_mul(8)
        .and_then(|b| b.checked_add(HEADER_LEN as u64));
    if count != n_slots as u64 || expected != Some(bytes.len() as u64) {
        return Err(bad(format!(
            "it holds {count} keys in {} bytes, the index has {n_slots} items",
            bytes.len()
        )));
    }
    bytemuck::try_cast_slice(&bytes[HEADER_LEN..]).map_err(|_| bad("misaligned keys".into()))
}

/// Checks that sorted keys are strictly ascending and valid: what `verify` runs.
pub(crate) fn check_sorted(keys: &[u64]) -> Result<()> {
    if let Some(i) = keys.windows(2).position(|w| w[0] >= w[1]) {
        return Err(Error::corrupt(format!(
            "the keys section is corrupt: keys {} and {} at slots {i} and {} are not ascending",
            keys[i],
            keys[i + 1],
            i + 1
        )));
    }
    if keys.last() == Some(&NO_KEY) {
        return Err(Error::corrupt(
            "the keys section holds the reserved key 2^64 - 1",
        ));
    }
    Ok(())
}

/// The slot of `key` among ascending `keys`.
pub(crate) fn slot_in_sorted(keys: &[u64], key: u64) -> Option<usize> {
    keys.binary_search(&key).ok()
}
