//! Crash safety of live indexes: a writer killed with SIGKILL at random moments (during
//! writes and during compactions) reopens with every acknowledged write, and a full disk
//! (a file size limit) during a log write or a compaction leaves the last good state.
//!
//! The child processes are this test binary again, run with `ANN_LIVE_CHILD` set.
mod common;

use ann::{ErrorKind, Index, Writer, WriterOptions};
use common::*;
use std::collections::HashMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

const DIM: usize = 6;
/// Kills per run of the random-kill test: each one lands in a write, a sync or a compaction.
const ROUNDS: usize = 120;

fn options() -> WriterOptions {
    let mut o = WriterOptions::new(DIM, ann::Metric::Euclidean);
    o.n_trees = 4;
    o
}

fn vector_for(key: u64) -> Vec<f32> {
    let mut rng = SplitMix64::new(key.wrapping_mul(0x9E37_79B9));
    (0..DIM).map(|_| rng.gaussian() as f32).collect()
}

/// In a child process: writes forever from key `start`, printing each acknowledged write,
/// deleting now and then, compacting every 400 writes.
fn child_writes(dir: &str, start: u64) -> ! {
    let writer = Writer::open(dir, &options()).unwrap();
    let mut out = report();
    let mut key = start;
    loop {
        writer.upsert(key, &vector_for(key)).unwrap();
        writeln!(out, "ack {key}").unwrap();
        if key % 7 == 3 {
            // Announced first: killed between the delete and its report, the key may be
            // either way, and the parent accepts both.
            writeln!(out, "deleting {}", key - 2).unwrap();
            writer.delete(key - 2).unwrap();
            writeln!(out, "del {}", key - 2).unwrap();
        }
        out.flush().unwrap();
        if key.is_multiple_of(400) {
            writer.compact(1).unwrap();
        }
        key += 1;
    }
}

/// In a child process: fills the disk (a file size limit) during log writes and during a
/// compaction, checking the index keeps working; prints what was acknowledged.
fn child_full_disk(dir: &str) -> ! {
    // SAFETY: ignoring SIGXFSZ so an over-limit write fails with EFBIG instead of killing us.
    unsafe { libc::signal(libc::SIGXFSZ, libc::SIG_IGN) };
    let writer = Writer::open(dir, &options()).unwrap();
    let mut out = report();
    for key in 0..3000u64 {
        writer.upsert(key, &vector_for(key)).unwrap();
    }
    writeln!(out, "acked 3000").unwrap();
    // A limit a little above the log's size: below what a segment of 3000 items needs.
    let log_len = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".log"))
        .map(|e| e.metadata().unwrap().len())
        .max()
        .unwrap();
    let limit = libc::rlimit {
        rlim_cur: log_len + 16384,
        rlim_max: libc::RLIM_INFINITY,
    };
    // SAFETY: setrlimit with a valid struct; it only lowers this process's file size limit.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_FSIZE, &limit) }, 0);
    let err = writer.compact(1).unwrap_err();
    writeln!(out, "compact {:?}", err.kind()).unwrap();
    assert_eq!(
        writer.index().n_stored(),
        3000,
        "the live index keeps its state"
    );
    let mut key = 3000u64;
    let err = loop {
        match writer.upsert(key, &vector_for(key)) {
            Ok(()) => writeln!(out, "ack {key}").unwrap(),
            Err(e) => break e,
        }
        key += 1;
    };
    writeln!(out, "upsert {:?}", err.kind()).unwrap();
    let q = vector_for(5);
    assert_eq!(
        writer.index().get_nns_by_vector(&q, 1, None).unwrap()[0].id,
        5
    );
    out.flush().unwrap();
    std::process::exit(0)
}

/// Where a child reports, line by line: a file, written through at once, that survives the
/// child's SIGKILL (the test harness owns the child's standard output).
fn report() -> std::fs::File {
    let path = std::env::var("ANN_LIVE_OUT").unwrap();
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap()
}

fn child_main() {
    if let Ok(dir) = std::env::var("ANN_LIVE_CHILD") {
        match std::env::var("ANN_LIVE_MODE").as_deref() {
            Ok("writes") => child_writes(
                &dir,
                std::env::var("ANN_LIVE_START").unwrap().parse().unwrap(),
            ),
            Ok("full_disk") => child_full_disk(&dir),
            _ => panic!("unknown child mode"),
        }
    }
}

/// Starts a child in `mode`, reporting to `out`.
fn child(
    dir: &std::path::Path,
    mode: &str,
    start: u64,
    out: &std::path::Path,
) -> std::process::Child {
    let _ = std::fs::remove_file(out);
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_process_entry",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env("ANN_LIVE_CHILD", dir)
        .env("ANN_LIVE_MODE", mode)
        .env("ANN_LIVE_START", start.to_string())
        .env("ANN_LIVE_OUT", out)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn lines(out: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(out)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// The entry point child processes run (a no-op in the normal test run).
#[test]
fn child_process_entry() {
    child_main();
}

#[test]
fn a_writer_killed_at_random_moments_loses_no_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let mut model: HashMap<u64, bool> = HashMap::new(); // key -> live
    let mut rng = SplitMix64::new(99);
    let mut next = 1u64;
    for round in 0..ROUNDS {
        let out = dir.path().join("report.txt");
        let mut process = child(dir.path(), "writes", next, &out);
        std::thread::sleep(Duration::from_millis(5 + rng.next_u64() % 120));
        // SAFETY: kill(2) with SIGKILL on our own child process id.
        unsafe { libc::kill(process.id() as i32, libc::SIGKILL) };
        process.wait().unwrap();
        let mut acked = 0;
        for line in lines(&out) {
            // The last line may be cut short by the kill: only whole lines count.
            let Some((what, key)) = line.split_once(' ') else {
                continue;
            };
            let Ok(key) = key.parse::<u64>() else {
                continue;
            };
            match what {
                "ack" => {
                    model.insert(key, true);
                    next = next.max(key + 1);
                    acked += 1;
                }
                "deleting" => {
                    model.remove(&key); // unknown until "del" confirms it
                }
                "del" => {
                    model.insert(key, false);
                }
                _ => unreachable!(),
            }
        }
        // Keys written but not acknowledged before the kill may or may not be there.
        next += 1;
        let writer = Writer::open(dir.path(), &options()).unwrap();
        let index = writer.index();
        index.verify().unwrap();
        for (&key, &live) in &model {
            let got = index.get_item_vector(key);
            if live {
                assert_eq!(
                    got.unwrap(),
                    vector_for(key),
                    "round {round}: acknowledged key {key}"
                );
            } else {
                assert_eq!(
                    got.unwrap_err().kind(),
                    ErrorKind::InvalidArgument,
                    "round {round}: deleted key {key}"
                );
            }
        }
        eprintln!(
            "round {round}: {acked} writes acknowledged, torn bytes cut: {}",
            writer.torn_bytes()
        );
        // A reader sees the same.
        drop(index);
        drop(writer);
        let reader = Index::open(dir.path(), false).unwrap();
        assert!(model
            .iter()
            .filter(|(_, &l)| l)
            .all(|(&k, _)| reader.get_item_vector(k).is_ok()));
    }
    assert!(model.len() > 100, "the children wrote something");
    // Only the current generation's files remain.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().filter(|n| n.ends_with(".log")).count() == 1,
        "{names:?}"
    );
    assert!(
        names.iter().filter(|n| n.ends_with(".ann")).count() <= 1,
        "{names:?}"
    );
}

#[test]
fn a_full_disk_keeps_the_last_good_state() {
    let dir = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("report.txt");
    let mut process = child(dir.path(), "full_disk", 0, &out);
    let status = process.wait().unwrap();
    let lines = lines(&out);
    assert!(status.success(), "the child's checks failed: {lines:?}");
    assert!(lines.contains(&"compact Io".to_string()), "{lines:?}");
    assert!(lines.contains(&"upsert Io".to_string()), "{lines:?}");
    let acked: Vec<u64> = lines
        .iter()
        .filter_map(|l| l.strip_prefix("ack "))
        .map(|k| k.parse().unwrap())
        .collect();
    let writer = Writer::open(dir.path(), &options()).unwrap();
    let index = writer.index();
    assert_eq!(
        writer.torn_bytes(),
        0,
        "a failed append leaves no partial record"
    );
    for key in (0..3000).chain(acked) {
        assert_eq!(
            index.get_item_vector(key).unwrap(),
            vector_for(key),
            "key {key}"
        );
    }
    writer.compact(1).unwrap();
    index.verify().unwrap();
}
