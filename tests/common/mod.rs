//! Shared helpers for integration tests: reproducible data and exact ground truth.
#![allow(dead_code)]

use ann::Metric;

/// SplitMix64, specified exactly so `tests/reference/annoy_recall.py` regenerates the same data.
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (-53f64).exp2()
    }

    /// Box-Muller, cosine half only.
    pub fn gaussian(&mut self) -> f64 {
        let u1 = self.uniform().max(1e-300);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }

    /// `n` vectors of `dim` values: gaussian floats, or bits (1.0 when gaussian > 0) for hamming.
    pub fn vectors(&mut self, n: usize, dim: usize, metric: Metric) -> Vec<Vec<f32>> {
        (0..n)
            .map(|_| {
                (0..dim)
                    .map(|_| {
                        let g = self.gaussian();
                        if metric == Metric::Hamming {
                            f32::from(u8::from(g > 0.0))
                        } else {
                            g as f32
                        }
                    })
                    .collect()
            })
            .collect()
    }
}

/// The reference data set: 3000 base and 200 query vectors from `SplitMix64(42)`;
/// dim 24 for float metrics, 128 bits for hamming.
pub fn reference_data(metric: Metric) -> (usize, Vec<Vec<f32>>, Vec<Vec<f32>>) {
    let dim = if metric == Metric::Hamming { 128 } else { 24 };
    let mut rng = SplitMix64::new(42);
    let base = rng.vectors(3000, dim, metric);
    let queries = rng.vectors(200, dim, metric);
    (dim, base, queries)
}

/// Exact distance in f64, oriented so smaller is nearer (dot: negated inner product;
/// angular: 1 - cos).
pub fn true_distance(metric: Metric, a: &[f32], b: &[f32]) -> f64 {
    let pairs = a.iter().zip(b).map(|(&x, &y)| (x as f64, y as f64));
    match metric {
        Metric::Angular => {
            let (mut ab, mut aa, mut bb) = (0.0, 0.0, 0.0);
            for (x, y) in pairs {
                ab += x * y;
                aa += x * x;
                bb += y * y;
            }
            if aa == 0.0 || bb == 0.0 {
                1.0
            } else {
                1.0 - ab / (aa.sqrt() * bb.sqrt())
            }
        }
        Metric::Euclidean => pairs.map(|(x, y)| (x - y) * (x - y)).sum::<f64>().sqrt(),
        Metric::Manhattan => pairs.map(|(x, y)| (x - y).abs()).sum(),
        Metric::Dot => -pairs.map(|(x, y)| x * y).sum::<f64>(),
        Metric::Hamming => pairs.filter(|(x, y)| (*x > 0.5) != (*y > 0.5)).count() as f64,
    }
}

/// The distance the index reports for two vectors, computed independently in f64.
pub fn reported_distance(metric: Metric, a: &[f32], b: &[f32]) -> f64 {
    match metric {
        Metric::Angular => {
            let d = true_distance(metric, a, b);
            (2.0 * d).max(0.0).sqrt()
        }
        Metric::Dot => -true_distance(metric, a, b),
        _ => true_distance(metric, a, b),
    }
}

/// Recall@k with ties tolerated: a returned id is a hit when its true distance is within the
/// true k-th best distance.
pub fn recall(metric: Metric, base: &[Vec<f32>], query: &[f32], returned: &[u64], k: usize) -> f64 {
    let mut all: Vec<f64> = base
        .iter()
        .map(|b| true_distance(metric, query, b))
        .collect();
    all.sort_by(f64::total_cmp);
    let kth = all[k.min(all.len()) - 1];
    let hits = returned
        .iter()
        .take(k)
        .filter(|&&id| true_distance(metric, query, &base[id as usize]) <= kth + 1e-6)
        .count();
    hits as f64 / k as f64
}

pub fn build_index(
    metric: Metric,
    dim: usize,
    base: &[Vec<f32>],
    trees: i32,
    threads: i32,
    seed: u64,
) -> ann::Index {
    let mut index = ann::Index::new(dim, metric).unwrap();
    index.set_seed(seed).unwrap();
    for (i, v) in base.iter().enumerate() {
        index.add_item(i as u64, v).unwrap();
    }
    index.build(trees, threads).unwrap();
    index
}
