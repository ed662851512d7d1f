//! Index files larger than 4 GiB. Users rely on such files working, header-less Annoy files
//! and native ones alike: they load mapped (in O(1), without reading the body), nodes at and
//! past the 4 GiB boundary read back exactly, queries find those items, and `verify` answers;
//! and on a file whose size or node count disagrees with what it claims (or that has more
//! nodes than 32-bit node ids address) being refused at load with a corrupt-file error kind:
//! no integer overflow or truncation on the way.
//!
//! The files are sparse: `File::set_len` makes the hole, and only a few nodes are written
//! (angular, dim 1024: nodes of 12 + 4 * 1024 bytes), so they take almost no disk. `verify`
//! reads every item slot, so the Annoy test maps ~4 GiB of the hole's zero pages (page cache,
//! freed with the file); the tests take about a second.

mod common;

use ann::{ErrorKind, FileKind, Index, Metric};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

const GIB4: u64 = 1 << 32;
const DIM: usize = 1024;
/// Angular node: n_descendants, then children (or an item's cached |v|²), then the vector.
const NODE: u64 = 12 + 4 * DIM as u64;
/// Leaf capacity: the ids a leaf's children array holds, spilling over the vector field.
const K: u32 = DIM as u32 + 2;
const HEADER: u64 = 512;

/// A node of `size` bytes: `n_descendants`, two `i32`s at offset 4 (children, or a leaf's ids
/// from there on), and the vector at offset 12.
fn node(size: u64, n_descendants: i32, ids: &[i32], vector: &[f32]) -> Vec<u8> {
    let mut b = vec![0u8; size as usize];
    b[..4].copy_from_slice(&n_descendants.to_le_bytes());
    for (i, id) in ids.iter().enumerate() {
        b[4 + 4 * i..8 + 4 * i].copy_from_slice(&id.to_le_bytes());
    }
    for (i, x) in vector.iter().enumerate() {
        b[12 + 4 * i..16 + 4 * i].copy_from_slice(&x.to_le_bytes());
    }
    b
}

/// The forest written into a sparse body: items in slots `0..n_items` (the others holes), two
/// leaves after them split by the sign of coordinate 0, and the root, last, recording
/// `n_items` (Annoy's loader takes the roots from the end of the file).
struct Body {
    /// The slot whose node straddles 4 GiB of the body, and one wholly past it.
    straddle: u64,
    far: u64,
    items: Vec<(u64, Vec<f32>)>,
    n_items: u64,
    n_nodes: u64,
}

fn body() -> Body {
    let straddle = GIB4 / NODE;
    assert!(straddle * NODE < GIB4 && (straddle + 1) * NODE > GIB4);
    let far = straddle + 1000;
    let mut rng = common::SplitMix64::new(7);
    let items: Vec<(u64, Vec<f32>)> = [0, 1, 12_345, straddle, far]
        .into_iter()
        .enumerate()
        .map(|(i, slot)| {
            let mut v = rng.vectors(1, DIM, Metric::Angular).remove(0);
            // Items 0 and 2 go to the root's child 0, the others (the far ones) to child 1.
            v[0] = if i % 2 == 0 && i < 3 { -1.0 } else { 1.0 };
            (slot, v)
        })
        .collect();
    Body {
        straddle,
        far,
        items,
        n_items: far + 1,
        n_nodes: far + 4,
    }
}

/// Creates `path` as a sparse file of `len` bytes and writes `body`'s nodes at `base`.
fn write_sparse(path: &Path, len: u64, base: u64, body: &Body) -> File {
    let file = File::create(path).unwrap();
    file.set_len(len).unwrap();
    let put = |slot: u64, bytes: &[u8]| file.write_all_at(bytes, base + slot * NODE).unwrap();
    // Item nodes: |v|² left at 0, "not cached", as older Annoy versions wrote.
    for (slot, v) in &body.items {
        put(*slot, &node(NODE, 1, &[], v));
    }
    let side = |negative: bool| -> Vec<i32> {
        let items = body.items.iter().filter(|(_, v)| (v[0] < 0.0) == negative);
        items.map(|(slot, _)| *slot as i32).collect()
    };
    let leaves = [side(true), side(false)];
    for (i, ids) in leaves.iter().enumerate() {
        put(
            body.n_items + i as u64,
            &node(NODE, ids.len() as i32, ids, &[]),
        );
    }
    let (leaf0, leaf1) = (body.n_items as i32, body.n_items as i32 + 1);
    let mut plane = vec![0.0; DIM];
    plane[0] = 1.0;
    let root = node(NODE, body.n_items as i32, &[leaf0, leaf1], &plane);
    put(body.n_nodes - 1, &root);
    file
}

/// What users rely on for either kind of file: items past 4 GiB read back and are found.
fn check_queries(index: &Index, body: &Body) {
    assert_eq!(index.n_items(), body.n_items);
    assert_eq!(index.n_trees(), 1);
    for (slot, v) in &body.items {
        assert_eq!(&index.get_item_vector(*slot).unwrap(), v, "item {slot}");
    }
    assert!(index.get_item_vector(body.far - 1).is_err(), "a hole");
    for (slot, v) in body.items.iter().filter(|(s, _)| *s >= body.straddle) {
        // All candidates: every item, this one first at distance 0.
        let all = index.get_nns_by_vector(v, 10, Some(usize::MAX)).unwrap();
        assert_eq!(all.len(), body.items.len());
        assert_eq!(all[0].id, *slot);
        assert!(all[0].distance < 1e-3, "{:?}", all[0]);
        // Annoy's default effort: one leaf, the side of the root's plane the query is on.
        let one = index.get_nns_by_vector(v, 1, None).unwrap();
        assert_eq!(one[0].id, *slot);
        assert_eq!(index.get_nns_by_item(*slot, 1, None).unwrap()[0].id, *slot);
    }
}

#[test]
fn annoy_file_larger_than_4_gib_loads_and_answers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("large.annoy");
    let body = body();
    let len = body.n_nodes * NODE;
    assert!(len > GIB4 + 1000 * NODE);
    drop(write_sparse(&path, len, 0, &body));

    let info = ann::file_info(&path).unwrap();
    assert_eq!((info.kind, info.size), (FileKind::Annoy, len));
    let index = Index::load_annoy(&path, DIM, Metric::Angular, false).unwrap();
    check_queries(&index, &body);
    // `verify` walks the tree (references in range, items where items belong) and reads every
    // item slot: holes (ids never added, which Annoy allows) are fine, so this file passes.
    index.verify().unwrap();

    // One byte more than whole nodes; then one node more, so the last node is a hole
    // recording 0 items and the file has no roots: each a clear refusal.
    let file = File::options().write(true).open(&path).unwrap();
    file.set_len(len + 1).unwrap();
    let err = Index::load_annoy(&path, DIM, Metric::Angular, false).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::SizeMismatch, "{err}");
    file.set_len(len + NODE).unwrap();
    let err = Index::load_annoy(&path, DIM, Metric::Angular, false).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
}

/// Node ids are `i32`s (in Annoy too): a file with more nodes than they can address is
/// refused at load, not searched from a root whose id wrapped around.
#[test]
fn annoy_file_with_more_nodes_than_32_bit_ids_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("many.annoy");
    // Angular dim 1: 16-byte nodes, leaves of 3 ids; 2^31 nodes make 32 GiB (all hole).
    let size = 16;
    for n in [i32::MAX as u64, i32::MAX as u64 + 1] {
        let file = File::create(&path).unwrap();
        file.set_len(n * size).unwrap();
        let put = |at: u64, bytes: Vec<u8>| file.write_all_at(&bytes, at * size).unwrap();
        for (slot, x) in [(0, 1.0), (1, 2.0), (2, -1.0), (3, -2.0)] {
            put(slot, node(size, 1, &[], &[x]));
        }
        put(n - 3, node(size, 2, &[2, 3], &[]));
        put(n - 2, node(size, 2, &[0, 1], &[]));
        put(
            n - 1,
            node(size, 4, &[(n - 3) as i32, (n - 2) as i32], &[1.0]),
        );
        drop(file);
        let loaded = Index::load_annoy(&path, 1, Metric::Angular, false);
        if n <= i32::MAX as u64 {
            let index = loaded.unwrap();
            assert_eq!(index.n_items(), 4);
            let found = index.get_nns_by_vector(&[3.0], 2, None).unwrap();
            let mut ids: Vec<u64> = found.iter().map(|nb| nb.id).collect();
            ids.sort_unstable();
            assert_eq!(ids, [0, 1]);
        } else {
            let err = loaded.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
            assert!(err.message().contains("32-bit node ids"), "{err}");
        }
    }
}

/// A native header for `body`'s forest; `n_nodes` and `body_length` as given.
fn header(body: &Body, n_nodes: u64, body_length: u64) -> [u8; HEADER as usize] {
    let mut h = [0u8; HEADER as usize];
    let mut put = |at: usize, bytes: &[u8]| h[at..at + bytes.len()].copy_from_slice(bytes);
    put(0, b"\x89ANNIDX\n");
    put(8, &1u32.to_le_bytes()); // format version
    put(12, &(HEADER as u32).to_le_bytes());
    put(16, &0u32.to_le_bytes()); // angular
    put(20, &(DIM as u32).to_le_bytes());
    put(24, &(NODE as u32).to_le_bytes());
    put(28, &K.to_le_bytes());
    put(32, &body.n_items.to_le_bytes());
    put(40, &n_nodes.to_le_bytes());
    put(48, &1u32.to_le_bytes()); // one tree
    put(52, &0u32.to_le_bytes()); // flags: no body checksum (one would read all 4 GiB)
    put(64, &HEADER.to_le_bytes());
    put(72, &body_length.to_le_bytes());
    let sum = xxhash_rust::xxh3::xxh3_64(&h[..504]);
    h[504..].copy_from_slice(&sum.to_le_bytes());
    h
}

#[test]
fn native_file_larger_than_4_gib_loads_and_answers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("large.ann");
    let body = body();
    let body_len = body.n_nodes * NODE;
    let len = HEADER + body_len;
    let file = write_sparse(&path, len, HEADER, &body);
    file.write_all_at(&header(&body, body.n_nodes, body_len), 0)
        .unwrap();

    let info = ann::file_info(&path).unwrap();
    assert_eq!((info.kind, info.size), (FileKind::Native, len));
    let h = info.header.unwrap();
    assert_eq!((h.n_nodes, h.body_length), (body.n_nodes, body_len));
    let index = Index::load(&path, false).unwrap();
    check_queries(&index, &body);
    // (`verify` is the Annoy test's: it reads every item slot, 4 GiB of the hole's zero pages.)
    drop(index);

    // Headers that do not fit the file, each refused with a corrupt-file kind.
    let n = body.n_nodes;
    let cases = [
        // One node more than the file holds: the body would end past it.
        (n + 1, (n + 1) * NODE, ErrorKind::Truncated),
        // One node fewer: the file is longer than the header says.
        (n - 1, (n - 1) * NODE, ErrorKind::SizeMismatch),
        // A body length that is not n_nodes nodes (here: 4 GiB less, as if truncated to u32).
        (n, body_len - GIB4, ErrorKind::SizeMismatch),
        // Counts whose body length would overflow 64 bits.
        (
            u64::MAX / NODE + 1,
            (u64::MAX / NODE + 1).wrapping_mul(NODE),
            ErrorKind::Corrupt,
        ),
        (u64::MAX, u64::MAX, ErrorKind::Corrupt),
    ];
    for (n_nodes, length, kind) in cases {
        file.write_all_at(&header(&body, n_nodes, length), 0)
            .unwrap();
        let err = Index::load(&path, false).unwrap_err();
        assert_eq!(
            err.kind(),
            kind,
            "n_nodes {n_nodes}, length {length}: {err}"
        );
        assert!(err.kind().is_corrupt_file());
        let err = ann::file_info(&path).unwrap_err();
        assert_eq!(err.kind(), kind, "file_info: {err}");
    }
}
