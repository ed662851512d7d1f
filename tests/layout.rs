//! The body of a saved file follows Annoy 1.17.3's node layout, checked here by parsing it
//! independently, field by field, as Annoy's C++ structs lay it out.
mod common;

use ann::{Index, Metric};
use common::*;

struct Body {
    bytes: Vec<u8>,
    node_size: usize,
}

impl Body {
    fn read(path: &std::path::Path) -> (Body, ann::Header) {
        let header = Index::load(path, false)
            .unwrap()
            .file_header()
            .unwrap()
            .clone();
        // The body only: optional sections (compact codes) follow it.
        let body = 512..512 + header.body_length as usize;
        let bytes = std::fs::read(path).unwrap()[body].to_vec();
        (
            Body {
                bytes,
                node_size: header.node_size as usize,
            },
            header,
        )
    }
    fn node(&self, i: usize) -> &[u8] {
        &self.bytes[i * self.node_size..(i + 1) * self.node_size]
    }
    fn n_nodes(&self) -> usize {
        self.bytes.len() / self.node_size
    }
    fn i32_at(&self, i: usize, at: usize) -> i32 {
        i32::from_le_bytes(self.node(i)[at..at + 4].try_into().unwrap())
    }
    fn f32_at(&self, i: usize, at: usize) -> f32 {
        f32::from_le_bytes(self.node(i)[at..at + 4].try_into().unwrap())
    }
    /// Annoy's loader: roots are the trailing run of nodes with equal n_descendants, minus the
    /// last tree's own root when it directly precedes the copies.
    fn annoy_roots(&self, children_offset: usize) -> (Vec<usize>, i32) {
        let mut roots = Vec::new();
        let mut m = -1;
        for i in (0..self.n_nodes()).rev() {
            let k = self.i32_at(i, 0);
            if m == -1 || k == m {
                roots.push(i);
                m = k;
            } else {
                break;
            }
        }
        if roots.len() > 1
            && self.i32_at(roots[0], children_offset)
                == self.i32_at(*roots.last().unwrap(), children_offset)
        {
            roots.pop();
        }
        (roots, m)
    }
}

#[test]
fn bodies_follow_annoys_node_layout() {
    let dir = tempfile::tempdir().unwrap();
    // (metric, dim, node size, K, offset of children, offset of the vector)
    let layouts = [
        (Metric::Angular, 6, 12 + 24, 8, 4, 12),
        (Metric::Euclidean, 6, 16 + 24, 8, 8, 16),
        (Metric::Manhattan, 6, 16 + 24, 8, 8, 16),
        (Metric::Dot, 6, 16 + 24, 9, 4, 16),
        (Metric::Hamming, 100, 16 + 16, 7, 4, 16),
    ];
    for (metric, dim, node_size, k, children, vector) in layouts {
        let data = SplitMix64::new(9).vectors(300, dim, metric);
        let path = dir.path().join(format!("{metric}.ann"));
        build_index(metric, dim, &data, 5, 2, 1)
            .save(&path)
            .unwrap();
        let (body, header) = Body::read(&path);
        assert_eq!(
            (header.node_size as usize, header.leaf_capacity as usize),
            (node_size, k),
            "{metric}"
        );

        // Items: slots 0..n_items, n_descendants 1, the vector at its offset.
        let max_norm_sq = data
            .iter()
            .map(|v| v.iter().map(|x| x * x).sum::<f32>())
            .fold(0.0, f32::max);
        for (i, v) in data.iter().enumerate() {
            assert_eq!(body.i32_at(i, 0), 1);
            match metric {
                Metric::Hamming => {
                    let word =
                        u64::from_le_bytes(body.node(i)[vector..vector + 8].try_into().unwrap());
                    for (j, &bit) in v.iter().take(64).enumerate() {
                        assert_eq!((word >> j) & 1 == 1, bit > 0.5, "bit {j} of item {i}");
                    }
                }
                _ => {
                    let stored: Vec<f32> =
                        (0..dim).map(|z| body.f32_at(i, vector + 4 * z)).collect();
                    assert_eq!(&stored, v);
                }
            }
            let norm_sq: f32 = v.iter().map(|x| x * x).sum();
            if metric == Metric::Angular {
                assert!(
                    (body.f32_at(i, 4) - norm_sq).abs() < 1e-4 * norm_sq,
                    "angular keeps |v|^2"
                );
            }
            if metric == Metric::Dot {
                let expected = (max_norm_sq - norm_sq).max(0.0).sqrt();
                assert!(
                    (body.f32_at(i, 12) - expected).abs() < 1e-3,
                    "dot_factor at 12"
                );
            }
        }

        // Roots: the last n_trees nodes, copies of roots inside the body, recording n_items.
        let n_trees = header.n_trees as usize;
        let first_copy = body.n_nodes() - n_trees;
        for r in first_copy..body.n_nodes() {
            assert_eq!(body.i32_at(r, 0), 300);
            assert!(
                (300..first_copy).any(|i| body.node(i) == body.node(r)),
                "root copy without original"
            );
        }
        // Annoy's own root scan finds the same roots and item count.
        let (roots, n_items) = body.annoy_roots(children);
        assert_eq!(n_items, 300);
        assert_eq!(roots.len(), n_trees, "{metric}");

        // Every other node is a bucket of at most K item ids or a split node with two children.
        for i in 300..first_copy {
            let n = body.i32_at(i, 0);
            assert!(n >= 2, "{metric}: node {i} records {n}");
            if n as usize <= k {
                for c in 0..n as usize {
                    let id = body.i32_at(i, children + 4 * c);
                    assert!((0..300).contains(&id));
                }
            } else {
                for c in 0..2 {
                    let child = body.i32_at(i, children + 4 * c);
                    assert!((0..first_copy as i32).contains(&child));
                }
            }
        }
    }
}

#[test]
fn small_indexes_have_a_bucket_root_like_annoy() {
    // With n_items <= K the whole index is one bucket per tree, recording n_items.
    let data = SplitMix64::new(2).vectors(5, 6, Metric::Euclidean);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("small.ann");
    build_index(Metric::Euclidean, 6, &data, 3, 1, 1)
        .save(&path)
        .unwrap();
    let (body, header) = Body::read(&path);
    assert_eq!(
        (header.n_items, header.n_trees, header.n_nodes),
        (5, 3, 5 + 3 + 3)
    );
    for r in 5..11 {
        assert_eq!(body.i32_at(r, 0), 5);
        let mut ids: Vec<i32> = (0..5).map(|c| body.i32_at(r, 8 + 4 * c)).collect();
        ids.sort();
        assert_eq!(ids, vec![0, 1, 2, 3, 4]);
    }
}
