//! Live indexes: writes visible at once and durable, one writer and many readers, compaction
//! equal to a fresh build, and damage refused. The crash and full-disk tests are in
//! `live_crash.rs`.
mod common;

use ann::{Durability, ErrorKind, Index, Metric, SearchOptions, Writer, WriterOptions};
use common::*;
use std::collections::HashMap;

const DIM: usize = 8;

fn options(metric: Metric) -> WriterOptions {
    let mut o = WriterOptions::new(DIM, metric);
    o.n_trees = 8;
    o
}

/// The vector a key gets in these tests (a replaced key gets another).
fn vector_for(key: u64, version: u64) -> Vec<f32> {
    let mut rng = SplitMix64::new(key.wrapping_mul(31).wrapping_add(version));
    (0..DIM).map(|_| rng.gaussian() as f32).collect()
}

/// Exhaustive answers from an oracle of live items, as (key, distance) nearest first.
fn oracle(items: &HashMap<u64, Vec<f32>>, q: &[f32], n: usize) -> Vec<u64> {
    let mut scored: Vec<(f64, u64)> = items
        .iter()
        .map(|(&k, v)| (true_distance(Metric::Euclidean, q, v), k))
        .collect();
    scored.sort_by(|a, b| a.partial_cmp(b).unwrap());
    scored.into_iter().take(n).map(|(_, k)| k).collect()
}

fn everything() -> SearchOptions {
    let mut o = SearchOptions::new();
    o.set_search_k(Some(1 << 30));
    o
}

/// Random upserts (many replacing), deletes and queries against an oracle, through the
/// writer's handle, a reader in the same process, after compaction and after reopening.
#[test]
fn writes_are_visible_at_once_and_equal_an_oracle() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("live");
    let mut model: HashMap<u64, Vec<f32>> = HashMap::new();
    let mut rng = SplitMix64::new(5);
    {
        let writer = Writer::open(&path, &options(Metric::Euclidean)).unwrap();
        let index = writer.index();
        for step in 0..3000u64 {
            let key = (rng.next_u64() % 1500) << 20; // sparse keys, often replaced
            if rng.next_u64().is_multiple_of(5) {
                let existed = writer.delete(key).unwrap();
                assert_eq!(existed, model.remove(&key).is_some(), "step {step}");
                if step % 50 == 0 {
                    assert!(
                        index.get_item_vector(key).is_err(),
                        "a deleted key is gone at once"
                    );
                }
            } else {
                let v = vector_for(key, step);
                writer.upsert(key, &v).unwrap();
                if step % 50 == 0 {
                    assert_eq!(index.get_item_vector(key).unwrap(), v, "visible at once");
                    let hits = index.search(&v, 1, &everything()).unwrap();
                    assert_eq!(hits[0].id, key);
                }
                model.insert(key, v);
            }
            if step == 1500 {
                writer.compact(2).unwrap();
            }
        }
        assert_eq!(index.n_stored() as usize, model.len());
        let queries = SplitMix64::new(6).vectors(30, DIM, Metric::Euclidean);
        let check = |index: &Index, what: &str| {
            for q in &queries {
                let got: Vec<u64> = index
                    .search(q, 10, &everything())
                    .unwrap()
                    .iter()
                    .map(|h| h.id)
                    .collect();
                assert_eq!(got, oracle(&model, q, 10), "{what}");
            }
        };
        check(&index, "writer's handle");
        let reader = Index::open(&path, false).unwrap();
        check(&reader, "reader");
        writer.compact(-1).unwrap();
        check(&index, "after compaction");
        assert!(reader.refresh().unwrap());
        check(&reader, "reader after refresh");
        assert_eq!(writer.stats().2, 0, "compaction empties the delta");
    }
    // Reopened: every write is still there, from the segment and the log.
    let writer = Writer::open(&path, &options(Metric::Euclidean)).unwrap();
    assert_eq!(writer.torn_bytes(), 0);
    let index = writer.index();
    assert_eq!(index.n_stored() as usize, model.len());
    for (key, v) in model.iter().take(200) {
        assert_eq!(&index.get_item_vector(*key).unwrap(), v);
    }
    index.verify().unwrap();
}

#[test]
fn filters_and_exact_counts_on_live_indexes() {
    let dir = tempfile::tempdir().unwrap();
    let writer = Writer::open(dir.path(), &options(Metric::Angular)).unwrap();
    let data = SplitMix64::new(7).vectors(3000, DIM, Metric::Angular);
    let keys: Vec<u64> = (0..3000u64).collect();
    writer
        .upsert_batch(&keys[..2000], &data[..2000].concat())
        .unwrap();
    writer.compact(2).unwrap();
    writer
        .upsert_batch(&keys[2000..], &data[2000..].concat())
        .unwrap(); // the delta
    assert_eq!(writer.delete_batch(&keys[..100]).unwrap(), 100); // from the segment
    assert_eq!(writer.delete_batch(&[2500, 2501, 1 << 50]).unwrap(), 2); // delta; unknown
    let index = writer.index();
    assert_eq!(index.n_stored(), 3000 - 102);
    for accepted in [1usize, 7, 300, 3000] {
        let allow: Vec<u64> = (0..accepted as u64).map(|i| (i * 7919) % 3000).collect();
        let live = allow
            .iter()
            .filter(|&&k| k >= 100 && k != 2500 && k != 2501)
            .count();
        let mut o = SearchOptions::new();
        o.set_allow_list(&allow);
        for q in data.iter().take(10) {
            let hits = index.search(q, 10, &o).unwrap();
            assert_eq!(hits.len(), 10.min(live), "{accepted} accepted");
            assert!(hits
                .iter()
                .all(|h| allow.contains(&h.id) && h.id >= 100 && h.id != 2500));
        }
    }
    // Annoy's calls never return deleted keys either.
    for q in data.iter().take(20) {
        let hits = index.get_nns_by_vector(q, 50, None).unwrap();
        assert!(hits
            .iter()
            .all(|h| h.id >= 100 && h.id != 2500 && h.id != 2501));
    }
}

#[test]
fn one_writer_per_directory_and_matching_settings() {
    let dir = tempfile::tempdir().unwrap();
    let first = Writer::open(dir.path(), &options(Metric::Dot)).unwrap();
    let err = Writer::open(dir.path(), &options(Metric::Dot))
        .err()
        .unwrap();
    assert_eq!(err.kind(), ErrorKind::InvalidState);
    assert!(
        err.to_string().contains("already open for writing"),
        "{err}"
    );
    drop(first);
    let mut other = options(Metric::Dot);
    other.dim = DIM + 1;
    let err = Writer::open(dir.path(), &other).err().unwrap();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    let writer = Writer::open(dir.path(), &options(Metric::Dot)).unwrap();
    let err = writer.upsert(1, &[f32::NAN; DIM]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert_eq!(
        writer.upsert(u64::MAX, &[0.0; DIM]).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    // The reserved key is never a key: deleting it is a mistake too, and a batch holding it
    // is refused whole.
    assert_eq!(
        writer.delete(u64::MAX).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    assert_eq!(
        writer.delete_batch(&[1, u64::MAX]).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    assert_eq!(
        writer.upsert(1, &[0.0; DIM - 1]).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    assert!(
        !writer.delete(12345).unwrap(),
        "deleting an unknown key is not an error"
    );
    // A read handle refuses changes; a plain file opens as a read-only index.
    let mut handle = writer.index();
    assert_eq!(
        handle.add_item(1, &[0.0; DIM]).unwrap_err().kind(),
        ErrorKind::InvalidState
    );
    assert_eq!(
        handle.save(dir.path().join("x.ann")).unwrap_err().kind(),
        ErrorKind::InvalidState
    );
}

#[test]
fn readers_follow_the_writer_across_refreshes_and_compactions() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = options(Metric::Euclidean);
    o.durability = Durability::Timer;
    o.flush_ms = 5;
    let writer = Writer::open(dir.path(), &o).unwrap();
    writer.upsert(1, &vector_for(1, 0)).unwrap();
    let reader = Index::open(dir.path(), true).unwrap();
    assert_eq!(reader.n_stored(), 1);
    assert!(!reader.refresh().unwrap(), "nothing new");
    writer.upsert(2, &vector_for(2, 0)).unwrap();
    writer.delete(1).unwrap();
    assert!(reader.refresh().unwrap());
    assert_eq!(reader.n_stored(), 1);
    assert!(reader.get_item_vector(1).is_err());
    for k in 3..500 {
        writer.upsert(k, &vector_for(k, 0)).unwrap();
    }
    writer.compact(1).unwrap();
    writer.upsert(1000, &vector_for(1000, 0)).unwrap();
    // Queries on the old generation keep working while the files are replaced...
    let q = vector_for(7, 0);
    let before = reader.search(&q, 5, &everything()).unwrap();
    assert_eq!(before.len(), 1, "the reader still sees what it had: key 2");
    // ...and a refresh moves to the new one, plus the write made after the compaction.
    assert!(reader.refresh().unwrap());
    assert_eq!(reader.n_stored(), 499);
    assert_eq!(reader.get_item_vector(1000).unwrap(), vector_for(1000, 0));
    writer.sync().unwrap();
    // Exports give one immutable file with every live item.
    let exported = dir.path().join("export.ann");
    reader.export(&exported, 1).unwrap();
    let file = Index::load(&exported, false).unwrap();
    assert_eq!(file.n_stored(), 499);
    assert_eq!(file.get_item_vector(1000).unwrap(), vector_for(1000, 0));
}

/// After compaction, the segment is exactly a fresh build of the live items with the same
/// seed and trees: same answers, so the same recall.
#[test]
fn compaction_equals_a_fresh_build() {
    let dir = tempfile::tempdir().unwrap();
    let writer = Writer::open(dir.path(), &options(Metric::Euclidean)).unwrap();
    let data = SplitMix64::new(8).vectors(2500, DIM, Metric::Euclidean);
    for (i, v) in data.iter().enumerate() {
        writer.upsert(i as u64 * 3, v).unwrap();
    }
    writer
        .delete_batch(&(0..300u64).map(|i| i * 3).collect::<Vec<_>>())
        .unwrap();
    writer.compact(2).unwrap();
    let compacted = writer.index();
    let exported = dir.path().join("fresh.ann");
    compacted.export(&exported, 2).unwrap();
    let fresh = Index::load(&exported, false).unwrap();
    for q in SplitMix64::new(9).vectors(50, DIM, Metric::Euclidean) {
        assert_eq!(
            compacted.get_nns_by_vector(&q, 10, Some(400)).unwrap(),
            fresh.get_nns_by_vector(&q, 10, Some(400)).unwrap()
        );
    }
}

#[test]
fn torn_and_damaged_logs() {
    let dir = tempfile::tempdir().unwrap();
    {
        let writer = Writer::open(dir.path(), &options(Metric::Euclidean)).unwrap();
        for k in 0..20 {
            writer.upsert(k, &vector_for(k, 0)).unwrap();
        }
    }
    let log = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "log"))
        .unwrap();
    let good = std::fs::read(&log).unwrap();
    // A torn last record (the first 30 bytes of one, as a crash mid-write leaves): cut, and
    // every earlier write kept. A record here is 8 + 16 + 8 + 4 * DIM = 64 bytes.
    let mut torn = good.clone();
    torn.extend_from_slice(&good[good.len() - 64..good.len() - 34]);
    std::fs::write(&log, &torn).unwrap();
    let writer = Writer::open(dir.path(), &options(Metric::Euclidean)).unwrap();
    assert_eq!(writer.torn_bytes(), 30);
    assert_eq!(writer.index().n_stored(), 20);
    drop(writer);
    // A damaged record with more records after it: refused, nothing cut.
    let mut damaged = good.clone();
    damaged[100] ^= 0x40;
    std::fs::write(&log, &damaged).unwrap();
    let err = Writer::open(dir.path(), &options(Metric::Euclidean))
        .err()
        .unwrap();
    assert_eq!(err.kind(), ErrorKind::Corrupt);
    assert_eq!(std::fs::read(&log).unwrap(), damaged);
    std::fs::write(&log, &good).unwrap();
    // A damaged manifest is refused too.
    let manifest = dir.path().join("MANIFEST");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, text.replace("dim 8", "dim 9")).unwrap();
    assert_eq!(
        Index::open(dir.path(), false).err().unwrap().kind(),
        ErrorKind::Corrupt
    );
    std::fs::write(&manifest, text).unwrap();
    assert_eq!(Index::open(dir.path(), false).unwrap().n_stored(), 20);
}

#[test]
fn the_delta_stays_searchable_as_it_grows() {
    let dir = tempfile::tempdir().unwrap();
    let writer = Writer::open(dir.path(), &options(Metric::Euclidean)).unwrap();
    let data = SplitMix64::new(10).vectors(6000, DIM, Metric::Euclidean);
    let keys: Vec<u64> = (0..6000u64).collect();
    // Batches grow the delta past several flushes into forests.
    for chunk in keys.chunks(700) {
        let vectors: Vec<f32> = chunk
            .iter()
            .flat_map(|&k| data[k as usize].clone())
            .collect();
        writer.upsert_batch(chunk, &vectors).unwrap();
    }
    let index = writer.index();
    assert_eq!(writer.stats().2, 6000);
    let model: HashMap<u64, Vec<f32>> = keys
        .iter()
        .map(|&k| (k, data[k as usize].clone()))
        .collect();
    for q in SplitMix64::new(11).vectors(20, DIM, Metric::Euclidean) {
        let got: Vec<u64> = index
            .search(&q, 10, &everything())
            .unwrap()
            .iter()
            .map(|h| h.id)
            .collect();
        assert_eq!(got, oracle(&model, &q, 10));
    }
    index.verify().unwrap();
}

/// A log record with a valid checksum but an item no writer logs (the reserved key, or a value
/// that is not finite) is damage: replay stops before it, so it is never applied, and a writer
/// cuts it as a torn tail. (A fuzzer found the reserved key making `n_items` overflow.)
#[test]
fn a_checksummed_record_of_an_impossible_item_is_never_applied() {
    for (key, value) in [(u64::MAX, 0.5f32), (7, f32::NAN), (8, f32::INFINITY)] {
        let dir = tempfile::tempdir().unwrap();
        {
            let writer = Writer::open(dir.path(), &options(Metric::Euclidean)).unwrap();
            for k in 0..5 {
                writer.upsert(k, &vector_for(k, 0)).unwrap();
            }
        }
        // Record 6, framed and checksummed as the writer frames its own.
        let record = framed_upsert(6, key, &[value; DIM]);
        let log = dir.path().join("wal-000000.log");
        let mut bytes = std::fs::read(&log).unwrap();
        bytes.extend_from_slice(&record);
        std::fs::write(&log, bytes).unwrap();

        let reader = Index::open(dir.path(), false).unwrap();
        assert_eq!((reader.n_stored(), reader.n_items()), (5, 5), "key {key}");
        drop(reader);
        let writer = Writer::open(dir.path(), &options(Metric::Euclidean)).unwrap();
        assert_eq!(writer.torn_bytes(), record.len() as u64);
        assert_eq!(writer.index().n_stored(), 5);
        assert!(writer.index().get_item_vector(key).is_err());
    }
}

/// A log record as the writer frames it: an upsert of `key` with `vector` at `lsn`.
fn framed_upsert(lsn: u64, key: u64, vector: &[f32]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&lsn.to_le_bytes());
    body.extend_from_slice(&1u32.to_le_bytes()); // upsert
    body.extend_from_slice(&1u32.to_le_bytes()); // one entry
    body.extend_from_slice(&key.to_le_bytes());
    for x in vector {
        body.extend_from_slice(&x.to_le_bytes());
    }
    let mut record = (body.len() as u32).to_le_bytes().to_vec();
    record.extend_from_slice(&(xxhash_rust::xxh3::xxh3_64(&body) as u32).to_le_bytes());
    record.extend_from_slice(&body);
    record
}

/// Recomputes a log header's checksum (the xxh3 of bytes 0..40, at 40).
fn seal_log_header(bytes: &mut [u8]) {
    let sum = xxhash_rust::xxh3::xxh3_64(&bytes[..40]);
    bytes[40..48].copy_from_slice(&sum.to_le_bytes());
}

/// Rewrites generation 0's log to start at `first_lsn` (header checksum recomputed), holding
/// `records`.
fn rewrite_log(dir: &std::path::Path, first_lsn: u64, records: &[Vec<u8>]) {
    let path = dir.join("wal-000000.log");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.truncate(64);
    bytes[32..40].copy_from_slice(&first_lsn.to_le_bytes());
    seal_log_header(&mut bytes);
    bytes.extend(records.concat());
    std::fs::write(&path, bytes).unwrap();
}

/// Rewrites the manifest's generation and its log header's (checksums recomputed).
fn rewrite_generation(dir: &std::path::Path, generation: u64) {
    let path = dir.join("MANIFEST");
    let text = std::fs::read_to_string(&path).unwrap();
    let body: String = text
        .lines()
        .filter(|l| !l.starts_with("checksum "))
        .map(|l| match l.starts_with("generation ") {
            true => format!("generation {generation}\n"),
            false => format!("{l}\n"),
        })
        .collect();
    let sum = xxhash_rust::xxh3::xxh3_64(body.as_bytes());
    std::fs::write(&path, format!("{body}checksum {sum:016x}\n")).unwrap();
    let log = dir.join("wal-000000.log");
    let mut bytes = std::fs::read(&log).unwrap();
    bytes[24..32].copy_from_slice(&generation.to_le_bytes());
    seal_log_header(&mut bytes);
    std::fs::write(&log, bytes).unwrap();
}

/// Sequence numbers and generations a damaged (checksum-valid) file states out of range are
/// refused; at their bounds (2^62, beyond any real directory's life) the index still opens and
/// the write or compaction that would pass the bound is refused, leaving the index as it was.
/// (A fuzzer found a log starting at LSN 0 or `u64::MAX` overflowing the writer's arithmetic.)
#[test]
fn sequence_numbers_and_generations_stay_in_range() {
    const BOUND: u64 = 1 << 62;
    let fresh = || {
        let dir = tempfile::tempdir().unwrap();
        Writer::open(dir.path(), &options(Metric::Euclidean)).unwrap();
        dir
    };
    for first_lsn in [0, BOUND + 2, u64::MAX] {
        let dir = fresh();
        rewrite_log(dir.path(), first_lsn, &[]);
        let e = Index::open(dir.path(), false).err().unwrap();
        assert_eq!(e.kind(), ErrorKind::Corrupt, "{first_lsn}: {e}");
        assert!(e.to_string().contains("LSN"), "{e}");
        let e = Writer::open(dir.path(), &options(Metric::Euclidean))
            .err()
            .unwrap();
        assert_eq!(e.kind(), ErrorKind::Corrupt, "{first_lsn}: {e}");
    }

    // The last LSN: its record is applied; a record past it is damage, cut as a torn tail.
    let dir = fresh();
    let past = framed_upsert(BOUND + 1, 2, &vector_for(2, 0));
    rewrite_log(
        dir.path(),
        BOUND,
        &[framed_upsert(BOUND, 1, &vector_for(1, 0)), past.clone()],
    );
    assert_eq!(Index::open(dir.path(), false).unwrap().n_stored(), 1);
    let writer = Writer::open(dir.path(), &options(Metric::Euclidean)).unwrap();
    assert_eq!(writer.torn_bytes(), past.len() as u64);
    let e = writer.upsert(3, &vector_for(3, 0)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidState, "{e}");
    assert!(e.to_string().contains("sequence number"), "{e}");
    assert_eq!(writer.index().n_stored(), 1);
    // Compaction carries on from there: its log starts one past the last LSN, and reopens.
    writer.compact(1).unwrap();
    drop(writer);
    let reader = Index::open(dir.path(), false).unwrap();
    assert_eq!(reader.get_item_vector(1).unwrap(), vector_for(1, 0));

    for generation in [BOUND + 1, u64::MAX] {
        let dir = fresh();
        rewrite_generation(dir.path(), generation);
        let e = Index::open(dir.path(), false).err().unwrap();
        assert_eq!(e.kind(), ErrorKind::Corrupt, "{generation}: {e}");
        assert!(e.to_string().contains("generation"), "{e}");
    }
    let dir = fresh();
    rewrite_generation(dir.path(), BOUND);
    let writer = Writer::open(dir.path(), &options(Metric::Euclidean)).unwrap();
    writer.upsert(5, &vector_for(5, 0)).unwrap();
    let e = writer.compact(1).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidState, "{e}");
    drop(writer);
    assert_eq!(Index::open(dir.path(), false).unwrap().n_stored(), 1);
}
