//! Distance kernels: inner product, squared L2, L1 and bit-difference counts.
//!
//! Every kernel sums into 32 independent lanes (blocks of 32 values, then leftover blocks of 8
//! into the first 8 lanes), folds the lanes in halves (32 -> 16 -> 8 -> 4 -> 2 -> 1), then adds
//! the last few values one by one, without fused multiply-add. The AVX2 kernels do exactly this
//! with four 8-lane registers, so they return the same bits as the portable code: an index
//! built from one seed is identical on every x86-64 machine. The AVX2 kernels are chosen once,
//! at first use, after detecting the CPU feature.

use std::sync::OnceLock;

const LANES: usize = 32;
const CHUNK: usize = 8;

/// The kernels chosen for this CPU.
pub(crate) struct Kernels {
    pub dot: fn(&[f32], &[f32]) -> f32,
    pub euclidean_sq: fn(&[f32], &[f32]) -> f32,
    pub manhattan: fn(&[f32], &[f32]) -> f32,
}

/// The fastest kernels this CPU supports, detected once.
pub(crate) fn kernels() -> &'static Kernels {
    static CHOSEN: OnceLock<Kernels> = OnceLock::new();
    CHOSEN.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            return Kernels {
                dot: x86::dot,
                euclidean_sq: x86::euclidean_sq,
                manhattan: x86::manhattan,
            };
        }
        PORTABLE
    })
}

/// The kernels for any CPU; the reference the SIMD kernels must match bit for bit.
const PORTABLE: Kernels = Kernels {
    dot: |a, b| lanes(a, b, |x, y| x * y),
    // Differences first, never |a|^2 + |b|^2 - 2ab: that cancels catastrophically for close points.
    euclidean_sq: |a, b| lanes(a, b, |x, y| (x - y) * (x - y)),
    manhattan: |a, b| lanes(a, b, |x, y| (x - y).abs()),
};

fn lanes(a: &[f32], b: &[f32], term: impl Fn(f32, f32) -> f32) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    let n = a.len().min(b.len());
    let mut acc = [0.0f32; LANES];
    let blocks = n - n % LANES;
    for (ca, cb) in a[..blocks]
        .chunks_exact(LANES)
        .zip(b[..blocks].chunks_exact(LANES))
    {
        for l in 0..LANES {
            acc[l] += term(ca[l], cb[l]);
        }
    }
    let chunks = blocks + (n - blocks) / CHUNK * CHUNK;
    for (ca, cb) in a[blocks..chunks]
        .chunks_exact(CHUNK)
        .zip(b[blocks..chunks].chunks_exact(CHUNK))
    {
        for l in 0..CHUNK {
            acc[l] += term(ca[l], cb[l]);
        }
    }
    let mut width = LANES / 2;
    while width > 0 {
        for i in 0..width {
            acc[i] += acc[i + width];
        }
        width /= 2;
    }
    a[chunks..n]
        .iter()
        .zip(&b[chunks..n])
        .fold(acc[0], |sum, (&x, &y)| sum + term(x, y))
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{CHUNK, LANES};
    use std::arch::x86_64::*;

    /// One AVX2 kernel: `term` maps two 8-float registers to their 8 terms; `scalar` is the
    /// same term for the leftover values.
    ///
    /// # Safety
    /// The CPU must support AVX2. Every pointer read is at an index below
    /// `min(a.len(), b.len())`: the loops stop at `blocks`, `chunks` and `n`, each at most that.
    #[inline(always)]
    unsafe fn lanes_avx2(
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
        let x4 = _mm_add_ps(_mm256_castps256_ps128(a01), _mm256_extractf128_ps(a01, 1));
        let x2 = _mm_add_ps(x4, _mm_movehl_ps(x4, x4));
        let x1 = _mm_add_ss(x2, _mm_shuffle_ps(x2, x2, 1));
        let mut sum = _mm_cvtss_f32(x1);
        while i < n {
            sum += scalar(*pa.add(i), *pb.add(i));
            i += 1;
        }
        sum
    }

    /// # Safety
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    unsafe fn dot_avx2(a: &[f32], b: &[f32]) -> f32 {
        lanes_avx2(a, b, |x, y| _mm256_mul_ps(x, y), |x, y| x * y)
    }

    /// # Safety
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    unsafe fn euclidean_sq_avx2(a: &[f32], b: &[f32]) -> f32 {
        lanes_avx2(
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
        lanes_avx2(
            a,
            b,
            |x, y| _mm256_andnot_ps(sign, _mm256_sub_ps(x, y)),
            |x, y| (x - y).abs(),
        )
    }

    pub(super) fn dot(a: &[f32], b: &[f32]) -> f32 {
        // SAFETY: `kernels()` hands out this function only after detecting AVX2 on this CPU, and
        // `lanes_avx2` reads only indices below min(a.len(), b.len()).
        unsafe { dot_avx2(a, b) }
    }
    pub(super) fn euclidean_sq(a: &[f32], b: &[f32]) -> f32 {
        // SAFETY: as in `dot`.
        unsafe { euclidean_sq_avx2(a, b) }
    }
    pub(super) fn manhattan(a: &[f32], b: &[f32]) -> f32 {
        // SAFETY: as in `dot`.
        unsafe { manhattan_avx2(a, b) }
    }
}

/// Asks the CPU to start loading `bytes` into cache: scoring visits candidate nodes in an
/// order the hardware cannot predict, and without this every node's first access waits on
/// memory.
#[inline(always)]
pub(crate) fn prefetch(bytes: &[u8]) {
    #[cfg(target_arch = "x86_64")]
    for line in bytes.chunks(64) {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: prefetching is a hint that never faults; the address is inside a live slice.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(line.as_ptr().cast()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = bytes;
}

/// Number of differing bits between packed words `a` and little-endian words stored in `b`.
#[inline]
pub(crate) fn hamming(a: &[u64], b: &[u8]) -> u32 {
    a.iter()
        .zip(b.chunks_exact(8))
        .map(|(&x, y)| (x ^ u64::from_le_bytes(y.try_into().expect("8-byte chunk"))).count_ones())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(a: &[f32], b: &[f32], term: impl Fn(f32, f32) -> f32) -> f64 {
        a.iter().zip(b).map(|(&x, &y)| term(x, y) as f64).sum()
    }

    #[test]
    fn kernels_agree_with_naive_sums_and_each_other() {
        for n in [
            0usize, 1, 7, 8, 15, 16, 17, 31, 32, 33, 47, 64, 100, 384, 1001,
        ] {
            let a: Vec<f32> = (0..n).map(|i| ((i * 37 % 11) as f32 - 5.0) * 0.3).collect();
            let b: Vec<f32> = (0..n).map(|i| ((i * 13 % 7) as f32 - 3.0) * 0.7).collect();
            let k = kernels();
            let close = |x: f32, y: f64| (x as f64 - y).abs() <= 1e-4 * (1.0 + y.abs());
            assert!(close((k.dot)(&a, &b), naive(&a, &b, |x, y| x * y)));
            assert!(close(
                (k.euclidean_sq)(&a, &b),
                naive(&a, &b, |x, y| (x - y) * (x - y))
            ));
            assert!(close(
                (k.manhattan)(&a, &b),
                naive(&a, &b, |x, y| (x - y).abs())
            ));
            // The dispatched kernels and the portable ones give the same bits.
            assert_eq!((k.dot)(&a, &b).to_bits(), (PORTABLE.dot)(&a, &b).to_bits());
            assert_eq!(
                (k.euclidean_sq)(&a, &b).to_bits(),
                (PORTABLE.euclidean_sq)(&a, &b).to_bits()
            );
            assert_eq!(
                (k.manhattan)(&a, &b).to_bits(),
                (PORTABLE.manhattan)(&a, &b).to_bits()
            );
        }
    }

    #[test]
    fn hamming_counts_bits() {
        let a = [0b1011u64, u64::MAX];
        let mut b = Vec::new();
        b.extend_from_slice(&0b0001u64.to_le_bytes());
        b.extend_from_slice(&0u64.to_le_bytes());
        assert_eq!(hamming(&a, &b), 2 + 64);
    }
}
