//! The AVX-512 family (`avx512f` + `avx512bw`): the 32 float lanes in two 16-lane registers,
//! codes 32 at a time.

use super::{avx2::fold8, Kernels, CHUNK, LANES};
use std::arch::x86_64::*;

pub(super) const KERNELS: Kernels = Kernels {
    name: "avx512",
    dot,
    euclidean_sq,
    manhattan,
    dot_codes,
};

const WIDE: usize = 16;

/// One float kernel, as the AVX2 one with 16-lane registers: lanes 0-15 in `acc[0]`, 16-31 in
/// `acc[1]`; leftover blocks of 8 go into lanes 0-7 only (a masked add leaves 8-15 untouched).
///
/// # Safety
/// The CPU must support AVX-512F and AVX2. Full loads stop at `blocks`; the masked loads of
/// leftover blocks read 8 values below `chunks`; the scalar tail stops at `n`.
#[inline(always)]
unsafe fn lanes(
    a: &[f32],
    b: &[f32],
    term: impl Fn(__m512, __m512) -> __m512,
    scalar: impl Fn(f32, f32) -> f32,
) -> f32 {
    let n = a.len().min(b.len());
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    let mut acc = [_mm512_setzero_ps(); LANES / WIDE];
    let blocks = n - n % LANES;
    let mut i = 0;
    while i < blocks {
        for (r, acc) in acc.iter_mut().enumerate() {
            let x = _mm512_loadu_ps(pa.add(i + r * WIDE));
            let y = _mm512_loadu_ps(pb.add(i + r * WIDE));
            *acc = _mm512_add_ps(*acc, term(x, y));
        }
        i += LANES;
    }
    let chunks = blocks + (n - blocks) / CHUNK * CHUNK;
    const LOW8: __mmask16 = 0x00ff;
    while i < chunks {
        let x = _mm512_maskz_loadu_ps(LOW8, pa.add(i));
        let y = _mm512_maskz_loadu_ps(LOW8, pb.add(i));
        acc[0] = _mm512_mask_add_ps(acc[0], LOW8, acc[0], term(x, y));
        i += CHUNK;
    }
    // Fold in halves, in the portable kernel's order: 32 -> 16 -> 8, then 8 -> 1 as AVX2 does.
    let s16 = _mm512_add_ps(acc[0], acc[1]);
    let high = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(s16), 1));
    let mut sum = fold8(_mm256_add_ps(_mm512_castps512_ps256(s16), high));
    while i < n {
        sum += scalar(*pa.add(i), *pb.add(i));
        i += 1;
    }
    sum
}

/// # Safety
/// The CPU must support AVX-512F and AVX2.
#[target_feature(enable = "avx512f,avx2")]
unsafe fn dot_avx512(a: &[f32], b: &[f32]) -> f32 {
    lanes(a, b, |x, y| _mm512_mul_ps(x, y), |x, y| x * y)
}

/// # Safety
/// The CPU must support AVX-512F and AVX2.
#[target_feature(enable = "avx512f,avx2")]
unsafe fn euclidean_sq_avx512(a: &[f32], b: &[f32]) -> f32 {
    lanes(
        a,
        b,
        |x, y| {
            let d = _mm512_sub_ps(x, y);
            _mm512_mul_ps(d, d)
        },
        |x, y| (x - y) * (x - y),
    )
}

/// # Safety
/// The CPU must support AVX-512F and AVX2.
#[target_feature(enable = "avx512f,avx2")]
unsafe fn manhattan_avx512(a: &[f32], b: &[f32]) -> f32 {
    lanes(
        a,
        b,
        |x, y| _mm512_abs_ps(_mm512_sub_ps(x, y)),
        |x, y| (x - y).abs(),
    )
}

/// Codes times weights, 32 per step, widened into i64 every `BLOCK` codes (each i32 lane then
/// holds at most 128 products).
///
/// # Safety
/// The CPU must support AVX-512F and AVX-512BW. Reads stop at the shorter slice's length.
#[target_feature(enable = "avx512f,avx512bw")]
unsafe fn dot_codes_avx512(codes: &[u8], weights: &[i16]) -> i64 {
    const STEP: usize = 32;
    const BLOCK: usize = 2048;
    let n = codes.len().min(weights.len());
    let (pc, pw) = (codes.as_ptr(), weights.as_ptr());
    let vectorised = n - n % STEP;
    let mut total = _mm512_setzero_si512();
    let mut i = 0;
    while i < vectorised {
        let end = vectorised.min(i + BLOCK);
        let mut acc = _mm512_setzero_si512();
        while i < end {
            let c = _mm512_cvtepu8_epi16(_mm256_loadu_si256(pc.add(i).cast()));
            let w = _mm512_loadu_si512(pw.add(i).cast());
            acc = _mm512_add_epi32(acc, _mm512_madd_epi16(c, w));
            i += STEP;
        }
        let lo = _mm512_cvtepi32_epi64(_mm512_castsi512_si256(acc));
        let hi = _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(acc, 1));
        total = _mm512_add_epi64(total, _mm512_add_epi64(lo, hi));
    }
    let mut sum = _mm512_reduce_add_epi64(total);
    while i < n {
        sum += i64::from(*pc.add(i)) * i64::from(*pw.add(i));
        i += 1;
    }
    sum
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    // SAFETY: `available()` hands out this family only after detecting AVX-512F and AVX-512BW
    // (which imply AVX2), and `lanes` reads only indices below min(a.len(), b.len()).
    unsafe { dot_avx512(a, b) }
}
fn euclidean_sq(a: &[f32], b: &[f32]) -> f32 {
    // SAFETY: as in `dot`.
    unsafe { euclidean_sq_avx512(a, b) }
}
fn manhattan(a: &[f32], b: &[f32]) -> f32 {
    // SAFETY: as in `dot`.
    unsafe { manhattan_avx512(a, b) }
}
fn dot_codes(codes: &[u8], weights: &[i16]) -> i64 {
    // SAFETY: as in `dot`; reads stop at the shorter slice's length.
    unsafe { dot_codes_avx512(codes, weights) }
}
