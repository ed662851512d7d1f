//! Compact codes: an 8-bit copy of every item vector, stored as an optional section of the
//! file, on which search scores its candidates before re-ranking the best few exactly.
//!
//! Why: a query at useful recall scores thousands of candidates, each an item node of
//! `12 + 4 * dim` bytes read from memory in no predictable order, so queries are bound by the
//! bytes read per candidate, not by arithmetic. A code is `dim` bytes, a quarter of that. The
//! Annoy body is untouched (Annoy's readers and `save_annoy` never see the section), and the
//! final distances still come from the float vectors.
//!
//! The encoding is scalar quantisation per dimension (SQ8): `code = round((x - min) / scale)`
//! with `min` and `scale = (max - min) / 255` taken over all items. Angular indexes encode
//! unit vectors (only direction matters), euclidean and dot the vectors as stored. A query is
//! turned into i16 weights `round(q * scale * s)`, so that for any item with decoded vector
//! `x' = min + scale * code`, `q · x' = offset + (weights · code) / s`: the sum over codes is
//! an exact integer product, identical on every CPU. Scores follow: angular and dot
//! `-(q · x')`, euclidean `|x'|² - 2 q · x'` (the query's own norm is the same for every
//! candidate). Manhattan and hamming indexes have no codes.
//!
//! Section layout (little-endian, offsets from the section's start, which is 64-byte aligned
//! in the file):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | codes version (1) |
//! | 4 | 4 | encoding (1: SQ8 per dimension) |
//! | 8 | 4 | dim |
//! | 12 | 4 | row stride in bytes (at least dim) |
//! | 16 | 8 | n_items (rows) |
//! | 24 | 8 | offset of `min[dim]` then `scale[dim]` (f32) |
//! | 32 | 8 | offset of `aux[n_items]` (f32: euclidean `\|x'\|²`, else 0; NaN: an id never added) |
//! | 40 | 8 | offset of the rows (`n_items` x stride bytes, 64-byte aligned) |
//! | 48 | 16 | reserved, zero |

use crate::error::{Error, Result};
use crate::kernels::Kernels;
use crate::metric::Metric;
use crate::node::{Layout, Nodes};
use crate::storage::HeapNodes;
use rayon::prelude::*;

/// The section kind in the file header's table.
pub(crate) const SECTION_KIND: u32 = 1;
const VERSION: u32 = 1;
const ENCODING_SQ8: u32 = 1;
const HEADER_LEN: usize = 64;
/// Largest query weight: keeps `255 * weight` sums over 256 codes inside an i32 (see kernels).
const MAX_WEIGHT: f32 = 32767.0;

/// True for the metrics whose scores codes can estimate.
pub(crate) fn supports(metric: Metric) -> bool {
    matches!(metric, Metric::Angular | Metric::Euclidean | Metric::Dot)
}

/// Bytes per code row: cache-line multiples from 64 dimensions up, so rows never straddle more
/// lines than they must; 16-byte multiples below.
pub(crate) fn stride_for(dim: usize) -> usize {
    dim.next_multiple_of(if dim >= 64 { 64 } else { 16 })
}

/// A codes section, read in place from a file or from a just-built index's buffer.
#[derive(Clone, Copy)]
pub(crate) struct Codes<'a> {
    metric: Metric,
    dim: usize,
    stride: usize,
    n_items: usize,
    min: &'a [f32],
    scale: &'a [f32],
    aux: &'a [f32],
    rows: &'a [u8],
}

/// A query prepared for scoring codes: integer weights and the terms that turn their product
/// with a code back into an inner product.
pub(crate) struct Prepared {
    offset: f32,
    inverse: f32,
}

impl<'a> Codes<'a> {
    /// Reads a section for an index of `metric`, `dim` and `n_items`, checking every size and
    /// offset with checked arithmetic: O(1) apart from nothing. Returns `Ok(None)` for a version
    /// or encoding this library does not know (search then scores the float vectors), and a
    /// corrupt-file error for a section that contradicts itself or the index.
    pub fn parse(
        bytes: &'a [u8],
        metric: Metric,
        dim: usize,
        n_items: usize,
    ) -> Result<Option<Codes<'a>>> {
        let bad =
            |detail: String| Error::corrupt(format!("the codes section is corrupt: {detail}"));
        if bytes.len() < HEADER_LEN {
            return Err(bad(format!(
                "{} bytes, shorter than its header",
                bytes.len()
            )));
        }
        let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4"));
        let u64_at = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8"));
        if u32_at(0) != VERSION || u32_at(4) != ENCODING_SQ8 || !supports(metric) {
            return Ok(None);
        }
        let stride = u32_at(12) as usize;
        if u32_at(8) as usize != dim || u64_at(16) != n_items as u64 || stride < dim {
            return Err(bad(format!(
                "it describes {} items of dim {} in rows of {stride} bytes, the index has {n_items} of dim {dim}",
                u64_at(16),
                u32_at(8)
            )));
        }
        let region = |offset: u64,
                      len: Option<usize>,
                      align: usize,
                      what: &str|
         -> Result<std::ops::Range<usize>> {
            let start = usize::try_from(offset).ok();
            let end = start.zip(len).and_then(|(s, l)| s.checked_add(l));
            match (start, end) {
                (Some(s), Some(e)) if s >= HEADER_LEN && e <= bytes.len() && s % align == 0 => {
                    Ok(s..e)
                }
                _ => Err(bad(format!(
                    "its {what} lie outside the section or are misaligned"
                ))),
            }
        };
        let params = region(u64_at(24), dim.checked_mul(8), 4, "quantiser parameters")?;
        let aux = region(u64_at(32), n_items.checked_mul(4), 4, "per-item terms")?;
        let rows = region(u64_at(40), n_items.checked_mul(stride), 1, "rows")?;
        let floats = |r: std::ops::Range<usize>| -> Result<&'a [f32]> {
            bytemuck::try_cast_slice(&bytes[r]).map_err(|_| bad("misaligned floats".into()))
        };
        let params = floats(params)?;
        Ok(Some(Codes {
            metric,
            dim,
            stride,
            n_items,
            min: &params[..dim],
            scale: &params[dim..],
            aux: floats(aux)?,
            rows: &bytes[rows],
        }))
    }

    /// Codes over rows and terms held elsewhere (a live index's delta): `aux` has one term per
    /// row, NaN for an empty one, and `rows` one `stride`-byte row per term.
    pub fn from_parts(
        metric: Metric,
        quantiser: &'a Quantiser,
        stride: usize,
        aux: &'a [f32],
        rows: &'a [u8],
    ) -> Codes<'a> {
        assert!(rows.len() >= aux.len() * stride && stride >= quantiser.min.len());
        Codes {
            metric,
            dim: quantiser.min.len(),
            stride,
            n_items: aux.len(),
            min: &quantiser.min,
            scale: &quantiser.scale,
            aux,
            rows,
        }
    }

    /// Items (rows) the codes cover.
    pub fn len(&self) -> usize {
        self.n_items
    }

    /// A copy of the parameters, to encode more items as these were.
    pub fn quantiser(&self) -> Quantiser {
        Quantiser::from_params(self.min.to_vec(), self.scale.to_vec())
    }

    /// The code of item `id` (`dim` bytes); `id < n_items`.
    #[inline]
    pub fn row(&self, id: usize) -> &'a [u8] {
        &self.rows[id * self.stride..id * self.stride + self.dim]
    }

    /// Starts loading item `id`'s code into cache.
    #[inline]
    pub fn prefetch(&self, id: usize) {
        if id < self.n_items {
            crate::kernels::prefetch(self.row(id));
        }
    }

    /// Turns `query` into integer weights (into `weights`, resized to `dim`) for [`Codes::score`].
    pub fn prepare(&self, k: &Kernels, query: &[f32], weights: &mut Vec<i16>) -> Prepared {
        weights.clear();
        let largest = query
            .iter()
            .zip(self.scale)
            .map(|(q, s)| (q * s).abs())
            .fold(0.0f32, f32::max);
        // All-zero (or non-finite) terms: every weight is 0 and codes add nothing.
        let s = if largest > 0.0 && largest.is_finite() {
            MAX_WEIGHT / largest
        } else {
            1.0
        };
        // Rounds half away from zero by truncating `x ± 0.5`: inline and vectorised, where
        // `f32::round` is a library call. `as i16` saturates, so weights stay in range.
        weights.extend(query.iter().zip(self.scale).map(|(q, sc)| {
            let x = q * sc * s;
            (x + 0.5f32.copysign(x)) as i16
        }));
        Prepared {
            offset: (k.dot)(query, self.min),
            inverse: 1.0 / s,
        }
    }

    /// The estimated inner product of the prepared vector with item `id`'s decoded vector
    /// (for angular, with the item's direction); `id < n_items`.
    #[inline]
    pub fn dot(&self, k: &Kernels, p: &Prepared, weights: &[i16], id: usize) -> f32 {
        p.offset + (k.dot_codes)(self.row(id), weights) as f32 * p.inverse
    }

    /// The estimated score of item `id` (smaller is nearer, like `distance::score`), or `None`
    /// for an id that was never added; `id < n_items`.
    #[inline]
    pub fn score(&self, k: &Kernels, p: &Prepared, weights: &[i16], id: usize) -> Option<f32> {
        let aux = self.aux[id];
        if aux.is_nan() {
            return None;
        }
        let dot = self.dot(k, p, weights, id);
        Some(match self.metric {
            Metric::Euclidean => aux - 2.0 * dot,
            _ => -dot,
        })
    }
}

/// Encodes the items of an index into a codes section, or `None` for metrics without codes.
/// `present` lists the ids that were added. Runs on the current rayon pool. Deterministic: the
/// same items give the same bytes on every CPU and thread count.
pub(crate) fn encode(
    k: &Kernels,
    items: Nodes,
    n_items: usize,
    present: &[u32],
) -> Result<Option<HeapNodes>> {
    let layout: &Layout = items.layout;
    if !supports(layout.metric) || present.is_empty() {
        return Ok(None);
    }
    let dim = layout.dim;
    // Per-dimension range over every item, in parallel (min and max are order-free).
    let (min, max) = present
        .par_chunks(4096)
        .map(|ids| {
            let mut v = vec![0.0f32; dim];
            let (mut min, mut max) = (vec![f32::INFINITY; dim], vec![f32::NEG_INFINITY; dim]);
            for &id in ids {
                encoded_vector(layout, k, items.get(id as usize), &mut v);
                for ((lo, hi), &x) in min.iter_mut().zip(&mut max).zip(&v) {
                    *lo = lo.min(x);
                    *hi = hi.max(x);
                }
            }
            (min, max)
        })
        .reduce_with(|(mut min, mut max), (lo, hi)| {
            min.iter_mut().zip(lo).for_each(|(a, b)| *a = a.min(b));
            max.iter_mut().zip(hi).for_each(|(a, b)| *a = a.max(b));
            (min, max)
        })
        .expect("present is not empty");
    let quantiser = Quantiser::from_range(min, &max);

    let stride = stride_for(dim);
    let params_at = HEADER_LEN;
    let aux_at = (params_at + 8 * dim).next_multiple_of(crate::format::SECTION_ALIGN);
    let rows_at = (aux_at + 4 * n_items).next_multiple_of(crate::format::SECTION_ALIGN);
    let total = n_items
        .checked_mul(stride)
        .and_then(|r| r.checked_add(rows_at))
        .ok_or_else(|| Error::out_of_memory("compact codes", usize::MAX))?;
    let mut section = HeapNodes::default();
    section.resize(total)?;
    let bytes = section.bytes_mut();
    let mut put = |at: usize, field: &[u8]| bytes[at..at + field.len()].copy_from_slice(field);
    put(0, &VERSION.to_le_bytes());
    put(4, &ENCODING_SQ8.to_le_bytes());
    put(8, &(dim as u32).to_le_bytes());
    put(12, &(stride as u32).to_le_bytes());
    put(16, &(n_items as u64).to_le_bytes());
    put(24, &(params_at as u64).to_le_bytes());
    put(32, &(aux_at as u64).to_le_bytes());
    put(40, &(rows_at as u64).to_le_bytes());
    put(params_at, bytemuck::cast_slice(&quantiser.min));
    put(params_at + 4 * dim, bytemuck::cast_slice(&quantiser.scale));

    let (head, rows) = bytes.split_at_mut(rows_at);
    let aux: &mut [f32] = bytemuck::cast_slice_mut(&mut head[aux_at..aux_at + 4 * n_items]);
    aux.fill(f32::NAN);
    // Each row on whichever thread takes it; ids never added keep a zero row and a NaN term.
    rows.par_chunks_mut(stride)
        .zip(aux.par_iter_mut())
        .enumerate()
        .for_each_init(
            || vec![0.0f32; 2 * dim],
            |scratch, (id, (row, aux))| {
                let node = items.get(id);
                if layout.n_descendants(node) == 1 {
                    *aux = quantiser.encode(layout, k, node, row, scratch);
                }
            },
        );
    Ok(Some(section))
}

/// The vector a metric's codes encode for item `node`: angular items as unit vectors (only
/// direction matters), the others as stored.
pub(crate) fn encoded_vector(layout: &Layout, k: &Kernels, node: &[u8], out: &mut [f32]) {
    let v = layout.vector(node);
    if layout.metric != Metric::Angular {
        out.copy_from_slice(v);
        return;
    }
    let norm = crate::distance::item_norm_sq(layout, k, node).sqrt();
    let inverse = if norm > 0.0 { 1.0 / norm } else { 0.0 };
    for (o, &x) in out.iter_mut().zip(v) {
        *o = x * inverse;
    }
}

/// SQ8 parameters per dimension: `code = round((x - min) / scale)`, saturating at 0 and 255.
#[derive(Clone)]
pub(crate) struct Quantiser {
    pub min: Vec<f32>,
    pub scale: Vec<f32>,
    /// `1 / scale`, or 0 for a dimension with a single value (every code 0, decoding to `min`).
    inverse: Vec<f32>,
}

impl Quantiser {
    /// Parameters spreading 256 levels over `min..=max` in each dimension.
    pub fn from_range(min: Vec<f32>, max: &[f32]) -> Quantiser {
        let scale = min
            .iter()
            .zip(max)
            .map(|(lo, hi)| (hi - lo) / 255.0)
            .collect();
        Quantiser::from_params(min, scale)
    }

    fn from_params(min: Vec<f32>, scale: Vec<f32>) -> Quantiser {
        let inverse = scale
            .iter()
            .map(|&s| if s > 0.0 { 1.0 / s } else { 0.0 })
            .collect();
        Quantiser {
            min,
            scale,
            inverse,
        }
    }

    /// Encodes item `node` into `row` (`dim` bytes) and returns its per-item term; `scratch`
    /// holds `2 * dim` floats.
    pub fn encode(
        &self,
        layout: &Layout,
        k: &Kernels,
        node: &[u8],
        row: &mut [u8],
        scratch: &mut [f32],
    ) -> f32 {
        let (v, decoded) = scratch.split_at_mut(layout.dim);
        encoded_vector(layout, k, node, v);
        let params = self.min.iter().zip(&self.scale).zip(&self.inverse);
        for (((code, decoded_x), &x), ((&lo, &step), &inverse)) in row
            .iter_mut()
            .zip(decoded.iter_mut())
            .zip(v.iter())
            .zip(params)
        {
            // `as u8` saturates at 0 and 255 (and maps NaN to 0), so adding 0.5 and
            // truncating rounds, and vectorises where `f32::round` is a library call.
            *code = ((x - lo) * inverse + 0.5) as u8;
            *decoded_x = lo + step * f32::from(*code);
        }
        match layout.metric {
            Metric::Euclidean => (k.dot)(decoded, decoded),
            _ => 0.0,
        }
    }
}
