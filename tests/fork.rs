//! A process that forks after building must still build and query in the child: builds use a
//! pool created for the build, never rayon's global pool, whose threads a child would lack.
//! This is its own test binary so no other test's threads exist when it forks.
mod common;

use ann::{Index, Metric};
use common::*;

#[test]
fn a_forked_child_builds_and_queries() {
    let data = SplitMix64::new(3).vectors(2000, 16, Metric::Angular);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("parent.ann");
    build_index(Metric::Angular, 16, &data, 8, 2, 1)
        .save(&path)
        .unwrap();
    let loaded = Index::load(&path, false).unwrap();
    let expected = loaded.get_nns_by_vector(&data[0], 10, None).unwrap();

    // SAFETY: fork in a test binary that runs this single test; the child only builds,
    // queries and exits without unwinding into the harness.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        // A deadlocked child (threads that did not survive the fork) dies of SIGALRM instead.
        // SAFETY: alarm only schedules a signal.
        unsafe { libc::alarm(60) };
        let ok = std::panic::catch_unwind(|| {
            let child = build_index(Metric::Angular, 16, &data, 8, 2, 1);
            child.get_nns_by_vector(&data[0], 10, None).unwrap() == expected
                && loaded.get_nns_by_vector(&data[0], 10, None).unwrap() == expected
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
