//! Crash safety of index files: a process killed with SIGKILL at random moments (hundreds of
//! times) while saving leaves the previous file whole (it loads and verifies, old content or
//! new, never a mixture), and while building on disk leaves a file that no loader takes for a
//! good index unless it is complete; a full disk (a file size limit) during a save or an
//! on-disk build is an I/O error that leaves the previous file intact.
//!
//! The child processes are this test binary again, run with `ANN_CRASH_CHILD` set. Live
//! indexes have their own crash tests in `live_crash.rs`.
mod common;

use ann::{ErrorKind, Index, Metric};
use common::*;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const DIM: usize = 8;
const ITEMS: u64 = 2000;
const DISK_ITEMS: u64 = 300;

/// The index every save writes, differing only in its seed (so its trees), which tells the
/// versions apart after a crash.
fn index_with_seed(seed: u64) -> Index {
    let mut index = Index::new(DIM, Metric::Euclidean).unwrap();
    index.set_seed(seed).unwrap();
    let data = SplitMix64::new(5).vectors(ITEMS as usize, DIM, Metric::Euclidean);
    for (i, v) in data.iter().enumerate() {
        index.add_item(i as u64, v).unwrap();
    }
    index.build(8, 1).unwrap();
    index
}

/// Where a child reports, line by line, in a file that survives its SIGKILL.
fn report() -> std::fs::File {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(std::env::var("ANN_CRASH_OUT").unwrap())
        .unwrap()
}

/// In a child: saves seeds 1 and 2 in turn over `path`, forever.
fn child_saves(path: &Path) -> ! {
    let versions = [index_with_seed(1), index_with_seed(2)];
    let mut out = report();
    writeln!(out, "ready").unwrap();
    for round in 0.. {
        versions[round % 2].save(path).unwrap();
    }
    unreachable!()
}

/// In a child: builds into `path` on disk, forever, each build from scratch (smaller builds
/// than the saves', so that kills land in every phase: removing, adding, building, done).
/// Each build is followed by a pause as long as half a build, so that some kills find it
/// done however fast or slow this machine is: the `ready` line tells the parent how long a
/// build took, and the parent picks its moments over two whole cycles.
fn child_builds_on_disk(path: &Path) -> ! {
    let data = SplitMix64::new(6).vectors(DISK_ITEMS as usize, DIM, Metric::Euclidean);
    let build = || {
        let _ = std::fs::remove_file(path);
        let mut index = Index::new(DIM, Metric::Euclidean).unwrap();
        index.on_disk_build(path).unwrap();
        for (i, v) in data.iter().enumerate() {
            index.add_item(i as u64, v).unwrap();
        }
        index.build(3, 1).unwrap();
    };
    let started = Instant::now();
    build();
    let took = started.elapsed();
    let mut out = report();
    out.write_all(format!("ready {}\n", took.as_micros()).as_bytes())
        .unwrap();
    loop {
        build();
        std::thread::sleep(took / 2);
    }
}

/// In a child with a file size limit below the index's size: a save over an existing small
/// file, and an on-disk build, must both fail with an I/O error and leave the old file whole.
fn child_full_disk(dir: &Path) -> ! {
    // SAFETY: ignoring SIGXFSZ so an over-limit write fails with EFBIG instead of killing us.
    unsafe { libc::signal(libc::SIGXFSZ, libc::SIG_IGN) };
    let small = dir.join("small.ann");
    let limit = std::fs::metadata(&small).unwrap().len() + 4096;
    let rlimit = libc::rlimit {
        rlim_cur: limit,
        rlim_max: libc::RLIM_INFINITY,
    };
    // SAFETY: setrlimit with a valid, initialised struct.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_FSIZE, &rlimit) }, 0);
    let mut out = report();
    let big = index_with_seed(3);
    let err = big.save(&small).unwrap_err();
    writeln!(out, "save {:?} {}", err.kind(), err.message()).unwrap();
    let mut disk = Index::new(DIM, Metric::Euclidean).unwrap();
    let result = disk.on_disk_build(dir.join("disk.ann")).and_then(|_| {
        let data = SplitMix64::new(6).vectors(ITEMS as usize, DIM, Metric::Euclidean);
        for (i, v) in data.iter().enumerate() {
            disk.add_item(i as u64, v)?;
        }
        disk.build(6, 1)
    });
    let err = result.unwrap_err();
    writeln!(out, "disk {:?} {}", err.kind(), err.message()).unwrap();
    writeln!(out, "done").unwrap();
    std::process::exit(0)
}

fn child_main() {
    let Ok(target) = std::env::var("ANN_CRASH_CHILD") else {
        return;
    };
    let target = PathBuf::from(target);
    match std::env::var("ANN_CRASH_MODE").as_deref() {
        Ok("save") => child_saves(&target),
        Ok("disk") => child_builds_on_disk(&target),
        Ok("full_disk") => child_full_disk(&target),
        _ => panic!("unknown child mode"),
    }
}

fn child(target: &Path, mode: &str, out: &Path) -> std::process::Child {
    let _ = std::fs::remove_file(out);
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_process_entry",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env("ANN_CRASH_CHILD", target)
        .env("ANN_CRASH_MODE", mode)
        .env("ANN_CRASH_OUT", out)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn report_lines(out: &Path) -> Vec<String> {
    std::fs::read_to_string(out)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// Starts a child in `mode`, waits until it is ready (its setup is not what is tested), lets
/// it run for a random moment and kills it. The moment is under `most_us`, or under two of
/// the child's cycles when its `ready` line states one (in microseconds).
fn kill_at_random(target: &Path, mode: &str, out: &Path, rng: &mut SplitMix64, most_us: u64) {
    let mut process = child(target, mode, out);
    let ready = loop {
        // Whole lines only: the child may be writing this one.
        let text = std::fs::read_to_string(out).unwrap_or_default();
        let whole = text.split_inclusive('\n').filter(|l| l.ends_with('\n'));
        if let Some(l) = whole.map(str::trim_end).find(|l| l.starts_with("ready")) {
            break l.to_string();
        }
        assert!(process.try_wait().unwrap().is_none(), "the child died");
        std::thread::sleep(Duration::from_millis(1));
    };
    let most_us = match ready.strip_prefix("ready ") {
        Some(build_us) => 3 * build_us.parse::<u64>().unwrap().max(1),
        None => most_us,
    };
    std::thread::sleep(Duration::from_micros(rng.next_u64() % most_us));
    // SAFETY: kill(2) with SIGKILL on our own child process id.
    unsafe { libc::kill(process.id() as i32, libc::SIGKILL) };
    process.wait().unwrap();
}

/// The entry point child processes run (a no-op in the normal test run).
#[test]
fn child_process_entry() {
    child_main();
}

#[test]
fn a_save_killed_at_random_moments_leaves_the_old_file_or_the_new_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("index.ann");
    let out = dir.path().join("report.txt");
    index_with_seed(1).save(&path).unwrap();
    let mut rng = SplitMix64::new(17);
    let mut seen = [0usize; 3];
    for round in 0..150 {
        kill_at_random(&path, "save", &out, &mut rng, 30_000);
        let index = Index::load(&path, false)
            .unwrap_or_else(|e| panic!("round {round}: the file does not load: {e}"));
        index
            .verify()
            .unwrap_or_else(|e| panic!("round {round}: the file is damaged: {e}"));
        assert_eq!(index.n_items(), ITEMS);
        seen[index.seed() as usize] += 1;
    }
    eprintln!("old / new file after a kill: {} / {}", seen[1], seen[2]);
    // Only the index and leftover temporary files (named so no one loads them by mistake).
    for entry in std::fs::read_dir(dir.path()).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        assert!(
            name == "index.ann" || name == "report.txt" || name.starts_with(".index.ann.tmp-"),
            "{name}"
        );
    }
}

#[test]
fn an_on_disk_build_killed_at_random_moments_is_never_taken_for_an_index() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("disk.ann");
    let out = dir.path().join("report.txt");
    let mut rng = SplitMix64::new(23);
    let (mut complete, mut refused) = (0, 0);
    for round in 0..100 {
        // The moments span two of the child's build cycles, whatever they take here.
        kill_at_random(&path, "disk", &out, &mut rng, 0);
        match Index::load(&path, false) {
            Ok(index) => {
                index
                    .verify()
                    .unwrap_or_else(|e| panic!("round {round}: a file that loads is damaged: {e}"));
                assert_eq!(index.n_items(), DISK_ITEMS);
                complete += 1;
            }
            Err(e) => {
                assert!(
                    e.kind().is_corrupt_file() || e.kind() == ErrorKind::Io,
                    "round {round}: {e}"
                );
                refused += 1;
            }
        }
    }
    eprintln!("complete / refused after a kill: {complete} / {refused}");
    assert!(refused > 0, "some kills interrupt a build");
    assert!(complete > 0, "some kills come between builds");
}

#[test]
fn a_full_disk_during_save_or_on_disk_build_is_an_io_error_and_keeps_the_old_file() {
    let dir = tempfile::tempdir().unwrap();
    let small = dir.path().join("small.ann");
    let mut tiny = Index::new(DIM, Metric::Euclidean).unwrap();
    tiny.set_seed(9).unwrap();
    for i in 0..10u64 {
        tiny.add_item(i, &[i as f32; DIM]).unwrap();
    }
    tiny.build(2, 1).unwrap();
    tiny.save(&small).unwrap();
    let before = std::fs::read(&small).unwrap();
    let out = dir.path().join("report.txt");
    let status = child(dir.path(), "full_disk", &out).wait().unwrap();
    let lines = report_lines(&out);
    assert!(status.success(), "{status:?}: {lines:?}");
    assert!(lines[0].starts_with("save Io "), "{lines:?}");
    assert!(lines[1].starts_with("disk Io "), "{lines:?}");
    assert_eq!(
        std::fs::read(&small).unwrap(),
        before,
        "the old file is untouched"
    );
    let index = Index::load(&small, false).unwrap();
    index.verify().unwrap();
    assert_eq!(index.seed(), 9);
    // No temporary file is left behind by a failed save.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.contains(".tmp-")), "{names:?}");
}
