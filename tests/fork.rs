//! A process that forks after loading, building or opening a live index must still build and
//! query in the child: builds use a pool created for the build, never rayon's global pool,
//! whose threads a child would lack, and the live index's state and the C boundary's handle
//! registry are not left locked by a thread the child does not have; a child's queries do not
//! wait for writes its parent had pending, and it cannot write with its parent's writer. This
//! is its own test binary so no other test's threads exist when it forks.
mod common;

use ann::{Durability, ErrorKind, Index, Metric, Writer, WriterOptions};
use common::*;

#[test]
fn a_forked_child_builds_and_queries() {
    let data = SplitMix64::new(3).vectors(2000, 16, Metric::Angular);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("parent.ann");
    let mut parent = build_index(Metric::Angular, 16, &data, 8, 2, 1);
    let forest_expected = parent.get_nns_by_vector(&data[0], 10, None).unwrap();
    parent.build_graph(0, 2).unwrap(); // the child's queries walk the mapped graph
    parent.save(&path).unwrap();
    let loaded = Index::load(&path, false).unwrap();
    assert!(loaded.has_graph());
    let expected = loaded.get_nns_by_vector(&data[0], 10, None).unwrap();
    // A live index, written and read in the parent, with a thread querying it at the fork.
    let mut options = WriterOptions::new(16, Metric::Angular);
    options.n_trees = 4;
    options.durability = Durability::Timer;
    let writer = Writer::open(dir.path().join("live"), &options).unwrap();
    for (i, v) in data.iter().take(300).enumerate() {
        writer.upsert(i as u64, v).unwrap();
    }
    let live = writer.index();
    let reader = Index::open(dir.path().join("live"), false).unwrap();
    let live_expected = live.get_nns_by_vector(&data[5], 3, Some(10_000)).unwrap();
    // A C handle too, so the handle registry is in use when the process forks.
    let mut c_index = std::ptr::null_mut();
    let c_path = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    assert_eq!(ann::ffi::ann_load(c_path.as_ptr(), false, &mut c_index), 0);
    let c_handle = c_index as usize;
    // While the process forks, threads query the reader, the C handle and the writer's own
    // handle, and another writes: the child must not inherit a lock one of them held (in the
    // live state, or in the C boundary's handle registry), nor wait for a write that was
    // pending in the parent (its writer is not in the child). Several forks, so that some
    // happen with writes pending and queries running.
    let (reader, live) = (std::sync::Arc::new(reader), std::sync::Arc::new(live));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let running = |work: Box<dyn Fn() + Send>| {
        let stop = stop.clone();
        std::thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                work();
            }
        })
    };
    let threads = [
        {
            let (reader, query) = (reader.clone(), data[1].clone());
            running(Box::new(move || {
                let _ = reader.get_nns_by_vector(&query, 3, Some(100)).unwrap();
                let mut n = 0u64;
                assert_eq!(ann::ffi::ann_get_n_items(c_handle as *const _, &mut n), 0);
            }))
        },
        {
            let (live, query) = (live.clone(), data[2].clone());
            running(Box::new(move || {
                let _ = live.get_nns_by_vector(&query, 3, Some(1000)).unwrap();
            }))
        },
        {
            // Replaces keys with their own vectors: the answers stay the same.
            let (writer, data) = (writer.clone(), data.clone());
            let next = std::sync::atomic::AtomicUsize::new(0);
            running(Box::new(move || {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 300;
                writer.upsert(i as u64, &data[i]).unwrap();
            }))
        },
    ];
    std::thread::sleep(std::time::Duration::from_millis(20));
    for _ in 0..8 {
        // SAFETY: fork in a test binary that runs this single test; the child only builds,
        // queries and exits without unwinding into the harness.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            // A deadlocked child (threads that did not survive the fork) dies of SIGALRM.
            // SAFETY: alarm only schedules a signal.
            unsafe { libc::alarm(20) };
            let ok = std::panic::catch_unwind(|| {
                let child = build_index(Metric::Angular, 16, &data, 8, 2, 1);
                let mut n_items = 0u64;
                child.get_nns_by_vector(&data[0], 10, None).unwrap() == forest_expected
                    && loaded.get_nns_by_vector(&data[0], 10, None).unwrap() == expected
                    && live.get_nns_by_vector(&data[5], 3, Some(10_000)).unwrap() == live_expected
                    && reader.get_nns_by_vector(&data[5], 3, Some(10_000)).unwrap()
                        == live_expected
                    && ann::ffi::ann_get_n_items(c_handle as *const _, &mut n_items) == 0
                    && n_items == 2000
                    // The parent's writer is the parent's: the child may not write with it.
                    && writer.upsert(0, &data[0]).unwrap_err().kind() == ErrorKind::InvalidState
                    && writer.sync().unwrap_err().kind() == ErrorKind::InvalidState
            });
            // SAFETY: ends the child immediately, skipping the parent's atexit handlers.
            unsafe { libc::_exit(if matches!(ok, Ok(true)) { 0 } else { 1 }) };
        }
        let mut status = 0;
        // SAFETY: waits for the child we just forked; `status` is a valid out-pointer.
        assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
        assert!(
            libc::WIFEXITED(status),
            "child did not exit normally (deadlock or crash)"
        );
        assert_eq!(
            libc::WEXITSTATUS(status),
            0,
            "child built or queried wrongly"
        );
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    ann::ffi::ann_free(c_index);
}
