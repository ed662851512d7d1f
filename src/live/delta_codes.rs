//! Compact codes for the delta, so that its candidates cost what a segment's do.
//!
//! A segment scores its candidates on 8-bit codes and re-ranks a few exactly (see `codes`);
//! a delta scoring every candidate on its float vector reads four times the bytes, and a
//! large delta made queries several times slower. The delta encodes each item as it is
//! written, with the quantiser of a segment built from enough items (the same data, so the
//! same ranges), or, in a directory without one, a quantiser derived from the delta's own
//! first [`DERIVE_AT`] items, its ranges widened a little. Values outside the ranges saturate:
//! that only blurs the estimate, and the exact re-rank still orders the answer.

use crate::codes::{self, Codes, Quantiser};
use crate::kernels;
use crate::node::{Layout, Nodes};

/// Items from which a quantiser is trusted (borrowed from a segment, or derived here).
pub(crate) const DERIVE_AT: usize = 1024;
/// How far a derived range is widened on each side, as a fraction of its width.
const WIDEN: f32 = 1.0 / 16.0;

pub(crate) struct DeltaCodes {
    quantiser: Option<Quantiser>,
    stride: usize,
    /// One row per slot.
    rows: Vec<u8>,
    /// Per slot: the codes' per-item term, NaN for a slot without a code.
    aux: Vec<f32>,
    scratch: Vec<f32>,
}

impl DeltaCodes {
    /// Codes for a delta of `layout`'s items, encoding with `borrowed` when given.
    pub fn new(layout: &Layout, borrowed: Option<Quantiser>) -> DeltaCodes {
        DeltaCodes {
            quantiser: borrowed.filter(|_| codes::supports(layout.metric)),
            stride: codes::stride_for(layout.dim),
            rows: Vec::new(),
            aux: Vec::new(),
            scratch: vec![0.0; 2 * layout.dim],
        }
    }

    /// Encodes the item in `slot` of `nodes`, once a quantiser exists.
    pub fn set(&mut self, nodes: Nodes, slot: usize) {
        let Some(quantiser) = &self.quantiser else {
            return;
        };
        if self.aux.len() <= slot {
            let len = (slot + 1).next_power_of_two();
            self.aux.resize(len, f32::NAN);
            self.rows.resize(len * self.stride, 0);
        }
        let row = &mut self.rows[slot * self.stride..(slot + 1) * self.stride];
        let k = kernels::kernels();
        self.aux[slot] = quantiser.encode(nodes.layout, k, nodes.get(slot), row, &mut self.scratch);
    }

    /// Forgets the code of `slot`.
    pub fn clear(&mut self, slot: usize) {
        if let Some(aux) = self.aux.get_mut(slot) {
            *aux = f32::NAN;
        }
    }

    /// True once items are encoded as they come.
    pub fn encoding(&self) -> bool {
        self.quantiser.is_some()
    }

    /// Derives a quantiser from the items in `slots` when there is none yet, the metric has
    /// codes and there are enough items, and encodes them all.
    pub fn derive_if_due(&mut self, nodes: Nodes, slots: &[usize]) {
        let layout = nodes.layout;
        if self.quantiser.is_some() || !codes::supports(layout.metric) || slots.len() < DERIVE_AT {
            return;
        }
        let k = kernels::kernels();
        let dim = layout.dim;
        let (mut min, mut max) = (vec![f32::INFINITY; dim], vec![f32::NEG_INFINITY; dim]);
        let mut v = vec![0.0f32; dim];
        for &slot in slots {
            codes::encoded_vector(layout, k, nodes.get(slot), &mut v);
            for ((lo, hi), &x) in min.iter_mut().zip(&mut max).zip(&v) {
                *lo = lo.min(x);
                *hi = hi.max(x);
            }
        }
        for (lo, hi) in min.iter_mut().zip(&mut max) {
            let margin = (*hi - *lo) * WIDEN;
            *lo -= margin;
            *hi += margin;
        }
        self.quantiser = Some(Quantiser::from_range(min, &max));
        for &slot in slots {
            self.set(nodes, slot);
        }
    }

    /// The codes as search reads them, once a quantiser exists.
    pub fn view(&self, layout: &Layout) -> Option<Codes<'_>> {
        let quantiser = self.quantiser.as_ref()?;
        Some(Codes::from_parts(
            layout.metric,
            quantiser,
            self.stride,
            &self.aux,
            &self.rows,
        ))
    }
}
