//! The AVX2 family: the 32 float lanes in four 8-lane registers, codes 16 at a time.

use super::{Kernels, CHUNK, LANES};
use std::arch::x86_64::*;

pub(super) const KERNELS: Kernels = Kernels {
    name: "avx2",
    dot,
    euclidean_sq,
    manhattan,
    dot_codes,
};

/// One float kernel: `term` maps two 8-float registers to their 8 terms; `scalar` is the same
/// term for the leftover values.
///
/// # Safety
/// The CPU must support AVX2. Every pointer read is at an index below
/// `min(a.len(), b.len())`: the loops stop at `blocks`, `chunks` and `n`, each at most that.
#[inline(always)]
unsafe fn lanes(
    a: &[f32],
    b: &[f32],
    term: impl Fn(__m256, __m256) -> __m256,
    scalar: impl Fn(f32, f32) -> f32,
) -> f32 {
    let n = a.len().min(b.len());
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    let mut acc = [_mm256_setzero_ps(); LANES / CHUNK];
    let blocks = n - n % LANES;
    let mut i = 0;
    while i < blocks {
        for (r, acc) in acc.iter_mut().enumerate() {
            let x = _mm256_loadu_ps(pa.add(i + r * CHUNK));
            let y = _mm256_loadu_ps(pb.add(i + r * CHUNK));
            *acc = _mm256_add_ps(*acc, term(x, y));
        }
        i += LANES;
    }
    let chunks = blocks + (n - blocks) / CHUNK * CHUNK;
    while i < chunks {
        let x = _mm256_loadu_ps(pa.add(i));
        let y = _mm256_loadu_ps(pb.add(i));
        acc[0] = _mm256_add_ps(acc[0], term(x, y));
        i += CHUNK;
    }
    // Fold in halves, in the portable kernel's order: 32 -> 16 -> 8 -> 4 -> 2 -> 1.
    let a01 = _mm256_add_ps(_mm256_add_ps(acc[0], acc[2]), _mm256_add_ps(acc[1], acc[3]));
    let mut sum = fold8(a01);
    while i < n {
        sum += scalar(*pa.add(i), *pb.add(i));
        i += 1;
    }
    sum
}

/// Folds 8 lanes in halves (8 -> 4 -> 2 -> 1), the portable kernel's order.
///
/// # Safety
/// The CPU must support AVX2.
#[inline(always)]
pub(super) unsafe fn fold8(v: __m256) -> f32 {
    let x4 = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    let x2 = _mm_add_ps(x4, _mm_movehl_ps(x4, x4));
    let x1 = _mm_add_ss(x2, _mm_shuffle_ps(x2, x2, 1));
    _mm_cvtss_f32(x1)
}

/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
unsafe fn dot_avx2(a: &[f32], b: &[f32]) -> f32 {
    lanes(a, b, |x, y| _mm256_mul_ps(x, y), |x, y| x * y)
}

/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
unsafe fn euclidean_sq_avx2(a: &[f32], b: &[f32]) -> f32 {
    lanes(
        a,
        b,
        |x, y| {
            let d = _mm256_sub_ps(x, y);
            _mm256_mul_ps(d, d)
        },
        |x, y| (x - y) * (x - y),
    )
}

/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
unsafe fn manhattan_avx2(a: &[f32], b: &[f32]) -> f32 {
    // |x - y| by clearing the sign bit.
    let sign = _mm256_set1_ps(-0.0);
    lanes(
        a,
        b,
        |x, y| _mm256_andnot_ps(sign, _mm256_sub_ps(x, y)),
        |x, y| (x - y).abs(),
    )
}

/// Codes times weights, 16 per step: u8 widened to i16, `vpmaddwd` into eight i32 lanes,
/// widened into i64 every `BLOCK` codes (each lane then holds at most 128 products of at most
/// 255 x 32768, far below 2^31).
///
/// # Safety
/// The CPU must support AVX2. Reads stop at `min(codes.len(), weights.len())`.
#[target_feature(enable = "avx2")]
unsafe fn dot_codes_avx2(codes: &[u8], weights: &[i16]) -> i64 {
    const STEP: usize = 16;
    const BLOCK: usize = 1024;
    let n = codes.len().min(weights.len());
    let (pc, pw) = (codes.as_ptr(), weights.as_ptr());
    let vectorised = n - n % STEP;
    let mut total = _mm256_setzero_si256();
    let mut i = 0;
    while i < vectorised {
        let end = vectorised.min(i + BLOCK);
        let mut acc = _mm256_setzero_si256();
        while i < end {
            let c = _mm256_cvtepu8_epi16(_mm_loadu_si128(pc.add(i).cast()));
            let w = _mm256_loadu_si256(pw.add(i).cast());
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(c, w));
            i += STEP;
        }
        let lo = _mm256_cvtepi32_epi64(_mm256_castsi256_si128(acc));
        let hi = _mm256_cvtepi32_epi64(_mm256_extracti128_si256(acc, 1));
        total = _mm256_add_epi64(total, _mm256_add_epi64(lo, hi));
    }
    let mut lanes = [0i64; 4];
    _mm256_storeu_si256(lanes.as_mut_ptr().cast(), total);
    let mut sum: i64 = lanes.iter().sum();
    while i < n {
        sum += i64::from(*pc.add(i)) * i64::from(*pw.add(i));
        i += 1;
    }
    sum
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    // SAFETY: `available()` hands out this family only after detecting AVX2 on this CPU, and
    // `lanes` reads only indices below min(a.len(), b.len()).
    unsafe { dot_avx2(a, b) }
}
fn euclidean_sq(a: &[f32], b: &[f32]) -> f32 {
    // SAFETY: as in `dot`.
    unsafe { euclidean_sq_avx2(a, b) }
}
fn manhattan(a: &[f32], b: &[f32]) -> f32 {
    // SAFETY: as in `dot`.
    unsafe { manhattan_avx2(a, b) }
}
fn dot_codes(codes: &[u8], weights: &[i16]) -> i64 {
    // SAFETY: AVX2 was detected (as in `dot`); reads stop at the shorter slice's length.
    unsafe { dot_codes_avx2(codes, weights) }
}
