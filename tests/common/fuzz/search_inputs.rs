//! Query inputs on valid indexes: any vector (NaN and infinity included), `n`, `search_k`,
//! `ef`, allow- and deny-lists, predicates, keys never added, batch shapes and buffer sizes.
//! The indexes (each metric, forest only or with a graph, dense or sparse keys) are built
//! once. Each call must return a result or an error, never panic or read out of bounds.
//!
//! Input: index choice, n (u16), search_k (u32; u32::MAX: the default), ef (u8; 0: from
//! search_k), filter kind, list length (u8), that many keys (u64), batch threads and a buffer
//! shortfall, then the query vector as f32 values (zero-padded to the dimension).

use super::METRICS;
use ann::{Index, Metric, SearchOptions};
use std::sync::OnceLock;

fn indexes() -> &'static Vec<Index> {
    static INDEXES: OnceLock<Vec<Index>> = OnceLock::new();
    INDEXES.get_or_init(|| {
        let mut all = Vec::new();
        for metric in METRICS {
            for (graph, sparse) in [(false, false), (true, false), (false, true), (true, true)] {
                all.push(build(metric, graph, sparse));
            }
        }
        all
    })
}

fn build(metric: Metric, graph: bool, sparse: bool) -> Index {
    let dim = if metric == Metric::Hamming { 70 } else { 6 };
    let mut index = Index::new(dim, metric).unwrap();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for i in 0..150u64 {
        let v: Vec<f32> = (0..dim)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let x = (state >> 40) as f32 / (1u64 << 24) as f32;
                if metric == Metric::Hamming {
                    x.round()
                } else {
                    x * 2.0 - 1.0
                }
            })
            .collect();
        let key = if sparse { i * 0x1_0000_0001 + 5 } else { i };
        index.add_item(key, &v).unwrap();
    }
    index.build(3, 1).unwrap();
    if graph {
        index.build_graph(8, 1).unwrap();
    }
    index
}

struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        let n = N.min(self.0.len());
        out[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        out
    }
    fn u8(&mut self) -> u8 {
        self.bytes::<1>()[0]
    }
}

/// Runs one input.
pub fn run(data: &[u8]) {
    let mut input = Input(data);
    let all = indexes();
    let index = &all[usize::from(input.u8()) % all.len()];
    let n = usize::from(u16::from_le_bytes(input.bytes())) % 1000;
    let search_k = match u32::from_le_bytes(input.bytes()) {
        u32::MAX => None,
        k => Some(k as usize % 100_000),
    };
    let ef = match input.u8() {
        0 => None,
        e => Some(usize::from(e)),
    };
    let filter = input.u8();
    let keys: Vec<u64> = (0..input.u8() % 32)
        .map(|_| u64::from_le_bytes(input.bytes()))
        .collect();
    let threads = i32::from(input.u8() % 4) - 1; // -1 (every core), then 0 (refused), 1, 2
    let shortfall = usize::from(input.u8() % 3);
    let dim = index.dim();
    let mut q: Vec<f32> = input
        .0
        .chunks(4)
        .map(|c| {
            let mut b = [0u8; 4];
            b[..c.len()].copy_from_slice(c);
            f32::from_le_bytes(b)
        })
        .take(dim)
        .collect();
    q.resize(dim, 0.0);

    let mut options = SearchOptions::new();
    options.set_search_k(search_k).set_ef(ef);
    match filter % 4 {
        1 => {
            options.set_allow_list(&keys);
        }
        2 => {
            options.set_deny_list(&keys);
        }
        3 => {
            let mask = u64::from(filter >> 2);
            options.set_filter(move |key| key & mask == 0);
        }
        _ => {}
    }
    let _ = index.search(&q, n, &options);
    let _ = index.get_nns_by_vector(&q, n, search_k);
    let first = keys.first().copied().unwrap_or(0);
    let _ = index.search_by_item(first, n, &options);
    let _ = index.get_nns_by_item(first, n, search_k);
    let _ = index.get_distance(first, keys.last().copied().unwrap_or(1));
    let _ = index.get_item_vector(first);

    let rows = 3;
    let queries: Vec<f32> = q.iter().copied().cycle().take(rows * dim).collect();
    let mut ids = vec![0u64; (rows * n).saturating_sub(shortfall)];
    let mut distances = vec![0f32; rows * n];
    let mut counts = vec![0usize; rows];
    let _ = index.search_batch(
        &queries,
        n,
        search_k,
        threads,
        &mut ids,
        Some(&mut distances),
        &mut counts,
    );
}
