//! A real full disk: a 3 MiB tmpfs, mounted for the test. Mounting needs root, as CI has;
//! elsewhere the test runs itself again in a user and mount namespace of its own (`unshare`,
//! where unprivileged namespaces are allowed, as on stock Debian), and only where neither works
//! does it say so and pass. A save, an on-disk build, log writes and a
//! compaction that do not fit fail with an I/O error, never a crash (an on-disk build maps its
//! file: without reserving the blocks first, a full disk would be a SIGBUS), and what was there
//! before stays whole. `crash.rs` and `live_crash.rs` do the same under a file size limit.
mod common;

use ann::{ErrorKind, Index, Metric, Writer, WriterOptions};
use common::SplitMix64;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A small tmpfs, unmounted when dropped.
struct SmallDisk {
    _dir: tempfile::TempDir,
    mount: PathBuf,
}

impl SmallDisk {
    fn mount() -> Option<SmallDisk> {
        let dir = tempfile::tempdir().unwrap();
        let mount = dir.path().join("disk");
        std::fs::create_dir(&mount).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=3m", "tmpfs"])
            .arg(&mount)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(SmallDisk { _dir: dir, mount })
    }

    fn path(&self, name: &str) -> PathBuf {
        self.mount.join(name)
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.mount).status();
    }
}

fn index(n: usize, dim: usize, seed: u64) -> Index {
    let mut index = Index::new(dim, Metric::Euclidean).unwrap();
    index.set_seed(seed).unwrap();
    for (i, v) in SplitMix64::new(seed)
        .vectors(n, dim, Metric::Euclidean)
        .iter()
        .enumerate()
    {
        index.add_item(i as u64, v).unwrap();
    }
    index.build(4, 1).unwrap();
    index
}

fn names(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

/// Set in the copy of this test that runs inside its own namespaces.
const IN_NAMESPACE: &str = "ANN_FULL_DISK_IN_NAMESPACE";
const TEST: &str = "a_full_disk_is_an_io_error_and_keeps_what_was_there";

/// Runs this test again as root of a new user namespace, with a mount namespace of its own,
/// where it may mount a tmpfs. `None` when namespaces cannot be made here.
fn run_in_namespace() -> Option<std::process::ExitStatus> {
    let exe = std::env::current_exe().ok()?;
    let works = Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount", "true"])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !works {
        return None;
    }
    Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount"])
        .arg(exe)
        .args(["--exact", TEST, "--nocapture", "--test-threads", "1"])
        .env(IN_NAMESPACE, "1")
        .status()
        .ok()
}

#[test]
fn a_full_disk_is_an_io_error_and_keeps_what_was_there() {
    let Some(disk) = SmallDisk::mount() else {
        if std::env::var_os(IN_NAMESPACE).is_some() {
            panic!("cannot mount a tmpfs even in a namespace of our own");
        }
        match run_in_namespace() {
            Some(status) => assert!(status.success(), "the test in its own namespace: {status}"),
            None => eprintln!(
                "skipped: cannot mount a tmpfs here (needs root or unprivileged user namespaces); crash.rs covers a file size limit"
            ),
        }
        return;
    };
    // A save that does not fit: the old file stays, no temporary file is left.
    let small = disk.path("small.ann");
    index(50, 8, 1).save(&small).unwrap();
    let before = std::fs::read(&small).unwrap();
    let big = index(12_000, 64, 2); // about 4 MB of nodes
    let err = big.save(&small).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io, "{err}");
    assert_eq!(std::fs::read(&small).unwrap(), before);
    assert_eq!(names(&disk.mount), ["small.ann"]);

    // An on-disk build that does not fit: an error, not a SIGBUS.
    let mut on_disk = Index::new(64, Metric::Euclidean).unwrap();
    on_disk.on_disk_build(disk.path("disk.ann")).unwrap();
    let data = SplitMix64::new(3).vectors(12_000, 64, Metric::Euclidean);
    let result = data
        .iter()
        .enumerate()
        .try_for_each(|(i, v)| on_disk.add_item(i as u64, v))
        .and_then(|_| on_disk.build(4, 1));
    let err = result.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io, "{err}");
    assert!(err.message().contains("disk full"), "{err}");
    drop(on_disk);
    let _ = std::fs::remove_file(disk.path("disk.ann"));

    // A live index: writes until the log does not fit, then a compaction that does not fit.
    let dir = disk.path("live");
    let mut options = WriterOptions::new(64, Metric::Euclidean);
    options.n_trees = 2;
    let writer = Writer::open(&dir, &options).unwrap();
    let mut acknowledged = 0u64;
    let failure = loop {
        match writer.upsert(acknowledged, &data[acknowledged as usize % data.len()]) {
            Ok(()) => acknowledged += 1,
            Err(e) => break e,
        }
        assert!(acknowledged < 1_000_000, "the disk never filled");
    };
    assert_eq!(failure.kind(), ErrorKind::Io, "{failure}");
    assert!(acknowledged > 100, "{acknowledged} writes fit");
    let err = writer.compact(1).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io, "{err}");
    // Every acknowledged write is still there, now and after reopening.
    let index = writer.index();
    for key in [0, acknowledged / 2, acknowledged - 1] {
        assert!(index.get_item_vector(key).is_ok(), "key {key}");
    }
    drop(index);
    drop(writer);
    let reopened = Index::open(&dir, false).unwrap();
    assert_eq!(reopened.n_stored(), acknowledged);
    reopened.verify().unwrap();
}
