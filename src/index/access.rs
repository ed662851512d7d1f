//! Reading items: vectors, packed bits, distances between items; and the checks every call
//! taking a vector makes.

use super::Index;
use crate::distance::{self, Query};
use crate::error::{Error, Result};
use crate::metric::Metric;

impl Index {
    /// The stored vector of item `key` (for hamming, `dim` values of 0.0 or 1.0).
    pub fn get_item_vector(&self, key: u64) -> Result<Vec<f32>> {
        let mut out = vec![0.0; self.layout.dim];
        self.item_vector_into(key, &mut out)?;
        Ok(out)
    }

    /// Writes item `key`'s vector into `out`, which holds exactly `dim` values.
    pub fn item_vector_into(&self, key: u64, out: &mut [f32]) -> Result<()> {
        if out.len() != self.layout.dim {
            return Err(Error::invalid_argument(format!(
                "index has dim {}, output has room for {} values",
                self.layout.dim,
                out.len()
            )));
        }
        if let Some(live) = self.live() {
            out.copy_from_slice(&self.live_vector(live, key)?);
            return Ok(());
        }
        let node = self.item_node(key)?;
        match self.layout.metric {
            Metric::Hamming => unpack_bits(self.layout.words_u64(node), out),
            _ => out.copy_from_slice(self.layout.vector(node)),
        }
        Ok(())
    }

    /// Hamming only: item `key`'s packed words.
    pub fn get_item_bits(&self, key: u64) -> Result<Vec<u64>> {
        if self.layout.metric != Metric::Hamming {
            return Err(Error::invalid_argument(
                "packed bits exist only for the hamming metric",
            ));
        }
        if let Some(live) = self.live() {
            let mut words = vec![0u64; self.layout.words];
            pack_bits(&self.live_vector(live, key)?, &mut words);
            return Ok(words);
        }
        Ok(self.layout.words_u64(self.item_node(key)?).to_vec())
    }

    /// Distance between items `i` and `j`, as a query would report it.
    pub fn get_distance(&self, i: u64, j: u64) -> Result<f32> {
        if let Some(live) = self.live() {
            return self.live_distance(live, i, j);
        }
        let (a, b) = (self.item_node(i)?, self.item_node(j)?);
        let layout = &self.layout;
        let k = crate::kernels::kernels();
        // Annoy uses item i's stored norm here (where a by-item query recomputes it).
        let query = Query::of_item(layout, k, a);
        let score = distance::score(layout, k, &query, b);
        Ok(distance::user_distance(layout.metric, score))
    }

    /// The node of item `key` (in whichever shard holds it), or an error for keys never added.
    pub(super) fn item_node(&self, key: u64) -> Result<&[u8]> {
        let (owner, slot) = self.locate(key)?;
        Ok(owner.forest().nodes.get(slot))
    }

    /// The index holding item `key` (this one, or the shard that has it) and its slot there.
    pub(super) fn locate(&self, key: u64) -> Result<(&Index, usize)> {
        match self.shards() {
            None => Ok((self, self.slot_of(key)?)),
            Some(shards) => shards
                .iter()
                .find_map(|shard| shard.slot_of(key).ok().map(|slot| (shard, slot)))
                .ok_or_else(|| {
                    Error::invalid_argument(format!(
                        "item {key} does not exist: that key was never added to any shard"
                    ))
                }),
        }
    }

    pub(super) fn check_vector(&self, vector: &[f32]) -> Result<()> {
        if vector.len() != self.layout.dim {
            return Err(Error::invalid_argument(format!(
                "index has dim {}, vector has {} values",
                self.layout.dim,
                vector.len()
            )));
        }
        if let Some(at) = vector.iter().position(|x| !x.is_finite()) {
            return Err(Error::invalid_argument(format!(
                "vector value {at} is {}; only finite values can be indexed or queried",
                vector[at]
            )));
        }
        Ok(())
    }

    pub(super) fn check_bits(&self, words: &[u64]) -> Result<()> {
        let layout = &self.layout;
        if layout.metric != Metric::Hamming {
            return Err(Error::invalid_argument(
                "packed bits are accepted only by the hamming metric",
            ));
        }
        if words.len() != layout.words {
            return Err(Error::invalid_argument(format!(
                "index has {} bits in {} words, got {} words",
                layout.dim,
                layout.words,
                words.len()
            )));
        }
        let used = layout.dim % 64;
        if used != 0 && words[layout.words - 1] >> used != 0 {
            return Err(Error::invalid_argument(format!(
                "bits beyond the index's {} bits are set in the last word",
                layout.dim
            )));
        }
        Ok(())
    }
}

/// Packs `dim` floats into words, LSB first: value `j` > 0.5 sets bit `j % 64` of word `j / 64`.
pub(super) fn pack_bits(values: &[f32], words: &mut [u64]) {
    words.fill(0);
    for (j, &x) in values.iter().enumerate() {
        if x > 0.5 {
            words[j / 64] |= 1 << (j % 64);
        }
    }
}

fn unpack_bits(words: &[u64], out: &mut [f32]) {
    for (j, x) in out.iter_mut().enumerate() {
        *x = ((words[j / 64] >> (j % 64)) & 1) as f32;
    }
}
