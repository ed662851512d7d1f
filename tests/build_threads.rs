//! A build leaves no thread behind: when `build` or `build_graph` returns, every thread it
//! started has exited, not merely finished its work (a thread still exiting frees its last
//! memory after; a process that forks, or a leak checker, would see it). Alone in this binary,
//! so no other test's build threads are counted.
mod common;

use ann::{Index, Metric};
use common::*;

/// The names of this process's threads that a build names (`ann-build-<i>`, `ann-graph-<i>`).
fn build_threads() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("comm")).ok())
        .map(|name| name.trim_end().to_string())
        .filter(|name| name.starts_with("ann-build") || name.starts_with("ann-graph"))
        .collect()
}

#[test]
fn every_build_thread_has_exited_when_a_build_returns() {
    let data = SplitMix64::new(3).vectors(500, 8, Metric::Euclidean);
    for round in 0..20 {
        let mut index = Index::new(8, Metric::Euclidean).unwrap();
        for (i, v) in data.iter().enumerate() {
            index.add_item(i as u64, v).unwrap();
        }
        index.build(8, 4).unwrap();
        assert_eq!(
            build_threads(),
            Vec::<String>::new(),
            "round {round}, after build"
        );
        index.build_graph(16, 4).unwrap();
        assert_eq!(
            build_threads(),
            Vec::<String>::new(),
            "round {round}, after the graph"
        );
    }
}
