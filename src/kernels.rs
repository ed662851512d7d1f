//! Distance kernels: inner product, squared L2, L1 and bit-difference counts.
//!
//! Every kernel sums into 16 independent lanes and reduces them in one fixed order, without
//! fused multiply-add. Lane-wise arithmetic gives the same bits whether the compiler emits SSE2,
//! AVX2 or AVX-512 for it, so an index built from one seed is identical on every x86-64 machine,
//! while the wide lanes keep the kernels fast. The AVX2 copies exist only so the compiler may use
//! 256-bit registers; they are chosen once, at first use, after detecting the CPU feature.

use std::sync::OnceLock;

const LANES: usize = 16;

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
        Kernels {
            dot: dot_lanes,
            euclidean_sq: euclidean_sq_lanes,
            manhattan: manhattan_lanes,
        }
    })
}

/// Reduces the lanes pairwise in a fixed order, then adds the tail sequentially.
#[inline(always)]
fn fold(mut acc: [f32; LANES], tail: impl Iterator<Item = f32>) -> f32 {
    let mut width = LANES / 2;
    while width > 0 {
        for i in 0..width {
            acc[i] += acc[i + width];
        }
        width /= 2;
    }
    tail.fold(acc[0], |sum, x| sum + x)
}

#[inline(always)]
fn lanes(a: &[f32], b: &[f32], term: impl Fn(f32, f32) -> f32) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f32; LANES];
    let body = n - n % LANES;
    for (ca, cb) in a[..body]
        .chunks_exact(LANES)
        .zip(b[..body].chunks_exact(LANES))
    {
        for l in 0..LANES {
            acc[l] += term(ca[l], cb[l]);
        }
    }
    let tail = a[body..].iter().zip(&b[body..]).map(|(&x, &y)| term(x, y));
    fold(acc, tail)
}

#[inline(always)]
fn dot_lanes(a: &[f32], b: &[f32]) -> f32 {
    lanes(a, b, |x, y| x * y)
}

#[inline(always)]
fn euclidean_sq_lanes(a: &[f32], b: &[f32]) -> f32 {
    // Differences first, never |a|^2 + |b|^2 - 2ab: that cancels catastrophically for close points.
    lanes(a, b, |x, y| (x - y) * (x - y))
}

#[inline(always)]
fn manhattan_lanes(a: &[f32], b: &[f32]) -> f32 {
    lanes(a, b, |x, y| (x - y).abs())
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    #[target_feature(enable = "avx2")]
    fn dot_avx2(a: &[f32], b: &[f32]) -> f32 {
        super::dot_lanes(a, b)
    }
    #[target_feature(enable = "avx2")]
    fn euclidean_sq_avx2(a: &[f32], b: &[f32]) -> f32 {
        super::euclidean_sq_lanes(a, b)
    }
    #[target_feature(enable = "avx2")]
    fn manhattan_avx2(a: &[f32], b: &[f32]) -> f32 {
        super::manhattan_lanes(a, b)
    }

    pub(super) fn dot(a: &[f32], b: &[f32]) -> f32 {
        // SAFETY: `kernels()` hands out this function only after detecting AVX2 on this CPU.
        unsafe { dot_avx2(a, b) }
    }
    pub(super) fn euclidean_sq(a: &[f32], b: &[f32]) -> f32 {
        // SAFETY: as in `dot`, only reachable once AVX2 was detected.
        unsafe { euclidean_sq_avx2(a, b) }
    }
    pub(super) fn manhattan(a: &[f32], b: &[f32]) -> f32 {
        // SAFETY: as in `dot`, only reachable once AVX2 was detected.
        unsafe { manhattan_avx2(a, b) }
    }
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
        for n in [0usize, 1, 7, 15, 16, 17, 33, 100, 384] {
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
            // The dispatched kernel and the portable one give the same bits.
            assert_eq!((k.dot)(&a, &b).to_bits(), dot_lanes(&a, &b).to_bits());
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
