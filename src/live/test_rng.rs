//! The live module's tests' random numbers: a seeded xorshift, the same stream on every run.

/// Uniform values in -0.5..0.5 from `seed`.
pub(crate) fn rng(seed: u64) -> impl FnMut() -> f32 {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    }
}
