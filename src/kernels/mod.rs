//! Distance kernels: inner product, squared L2 and L1 on floats, the exact integer product
//! that scores compact codes, and bit-difference counts.
//!
//! Three families, chosen once at run time for the CPU at hand (one release binary, no
//! `-march=native`): AVX-512 (`avx512f` + `avx512bw`), AVX2, and the portable code below,
//! which other architectures compile (written so the compiler can auto-vectorise it) and
//! which is the reference the SIMD families are tested against on every machine.
//!
//! Every family returns the same bits:
//! * float kernels sum into 32 independent lanes (blocks of 32 values, then leftover blocks of
//!   8 into the first 8 lanes), fold the lanes in halves (32 -> 16 -> 8 -> 4 -> 2 -> 1), then
//!   add the last few values one by one, without fused multiply-add. AVX2 holds the 32 lanes in
//!   four 8-lane registers, AVX-512 in two 16-lane ones, and both fold in that same order;
//! * the code kernel multiplies u8 codes by i16 weights and sums in integers, which is exact in
//!   any order.
//!
//! So an index built from one seed is identical on every x86-64 machine, and a query returns
//! the same results on every machine. (FMA would be faster by a few percent on arithmetic, but
//! rounds differently from a multiply then an add, and these kernels are bound by memory, not
//! arithmetic.) `ANN_KERNELS=portable|avx2|avx512` caps the family, to compare paths on one
//! machine; an unknown value or a family the CPU lacks falls back to the best one below it.

use std::sync::OnceLock;

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;

const LANES: usize = 32;
const CHUNK: usize = 8;
/// Codes per block whose partial sum fits in an i32: 256 x 255 x 32767 < 2^31.
const CODE_BLOCK: usize = 256;

/// One family of kernels.
pub(crate) struct Kernels {
    /// "avx512", "avx2" or "portable".
    pub name: &'static str,
    pub dot: fn(&[f32], &[f32]) -> f32,
    pub euclidean_sq: fn(&[f32], &[f32]) -> f32,
    pub manhattan: fn(&[f32], &[f32]) -> f32,
    /// `sum(codes[j] * weights[j])` over the shorter length, exactly.
    pub dot_codes: fn(&[u8], &[i16]) -> i64,
}

/// The fastest family this CPU supports (capped by `ANN_KERNELS`), chosen once.
pub(crate) fn kernels() -> &'static Kernels {
    static CHOSEN: OnceLock<&'static Kernels> = OnceLock::new();
    CHOSEN.get_or_init(|| {
        let cap = std::env::var("ANN_KERNELS").unwrap_or_default();
        let families = available();
        let rank = |name: &str| {
            ["portable", "avx2", "avx512"]
                .iter()
                .position(|&n| n == name)
        };
        let limit = rank(&cap).unwrap_or(usize::MAX);
        families
            .into_iter()
            .rev()
            .find(|k| rank(k.name).is_some_and(|r| r <= limit))
            .unwrap_or(&PORTABLE)
    })
}

/// Every family this CPU can run, portable first.
pub(crate) fn available() -> Vec<&'static Kernels> {
    #[allow(unused_mut)]
    let mut families = vec![&PORTABLE];
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            families.push(&avx2::KERNELS);
        }
        if std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512bw")
        {
            families.push(&avx512::KERNELS);
        }
    }
    families
}

/// The kernels for any CPU; the reference the SIMD kernels must match bit for bit.
pub(crate) const PORTABLE: Kernels = Kernels {
    name: "portable",
    dot: |a, b| lanes(a, b, |x, y| x * y),
    // Differences first, never |a|^2 + |b|^2 - 2ab: that cancels catastrophically for close points.
    euclidean_sq: |a, b| lanes(a, b, |x, y| (x - y) * (x - y)),
    manhattan: |a, b| lanes(a, b, |x, y| (x - y).abs()),
    dot_codes,
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

fn dot_codes(codes: &[u8], weights: &[i16]) -> i64 {
    let n = codes.len().min(weights.len());
    codes[..n]
        .chunks(CODE_BLOCK)
        .zip(weights[..n].chunks(CODE_BLOCK))
        .map(|(c, w)| {
            let block: i32 = c
                .iter()
                .zip(w)
                .map(|(&c, &w)| i32::from(c) * i32::from(w))
                .sum();
            i64::from(block)
        })
        .sum()
}

/// Asks the CPU to start loading `bytes` into cache: scoring visits candidates in an order
/// the hardware cannot predict, and without this every candidate's first access waits on
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

    const LENGTHS: [usize; 19] = [
        0, 1, 7, 8, 15, 16, 17, 31, 32, 33, 47, 64, 100, 255, 256, 257, 384, 1001, 2100,
    ];

    #[test]
    fn float_kernels_agree_with_naive_sums() {
        for n in LENGTHS {
            let a: Vec<f32> = (0..n).map(|i| ((i * 37 % 11) as f32 - 5.0) * 0.3).collect();
            let b: Vec<f32> = (0..n).map(|i| ((i * 13 % 7) as f32 - 3.0) * 0.7).collect();
            let k = &PORTABLE;
            let close = |x: f32, y: f64| (x as f64 - y).abs() <= 1e-4 * (1.0 + y.abs());
            assert!(close((k.dot)(&a, &b), naive(&a, &b, |x, y| x * y)));
            let l2 = naive(&a, &b, |x, y| (x - y) * (x - y));
            assert!(close((k.euclidean_sq)(&a, &b), l2));
            assert!(close(
                (k.manhattan)(&a, &b),
                naive(&a, &b, |x, y| (x - y).abs())
            ));
        }
    }

    /// Every family this machine can run gives the portable family's bits; the test names
    /// the families it could not check here.
    #[test]
    fn every_family_matches_the_portable_one_bit_for_bit() {
        let families = available();
        eprintln!(
            "kernel families on this CPU: {:?} (chosen: {})",
            families.iter().map(|k| k.name).collect::<Vec<_>>(),
            kernels().name
        );
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for n in LENGTHS {
            for round in 0..4 {
                let a: Vec<f32> = (0..n)
                    .map(|_| (next() % 20_001) as f32 / 1e4 - 1.0)
                    .collect();
                let b: Vec<f32> = (0..n)
                    .map(|_| (next() % 20_001) as f32 / 3e3 - 3.0)
                    .collect();
                let codes: Vec<u8> = (0..n)
                    .map(|_| if round == 0 { 255 } else { next() as u8 })
                    .collect();
                let weights: Vec<i16> = (0..n)
                    .map(|_| match round {
                        0 => 32767,
                        1 => -32767,
                        _ => next() as i16 / 2,
                    })
                    .collect();
                for k in &families {
                    let pairs = [
                        ("dot", k.dot, PORTABLE.dot),
                        ("euclidean", k.euclidean_sq, PORTABLE.euclidean_sq),
                        ("manhattan", k.manhattan, PORTABLE.manhattan),
                    ];
                    for (what, simd, portable) in pairs {
                        let (x, y) = (simd(&a, &b), portable(&a, &b));
                        assert_eq!(x.to_bits(), y.to_bits(), "{} {what}, n = {n}", k.name);
                    }
                    let exact: i64 = codes
                        .iter()
                        .zip(&weights)
                        .map(|(&c, &w)| i64::from(c) * i64::from(w))
                        .sum();
                    assert_eq!(
                        (k.dot_codes)(&codes, &weights),
                        exact,
                        "{} codes, n = {n}",
                        k.name
                    );
                }
            }
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
