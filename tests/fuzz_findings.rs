//! Every input a fuzz target ever failed on, replayed through exactly what the fuzzer ran
//! (`tests/common/fuzz/`): each must now run to the end without a panic. The inputs are in
//! `tests/fixtures/fuzz/<target>/`, named after what they found; `fuzz/README.md` says how
//! the targets run.
#[path = "common/fuzz/mod.rs"]
mod fuzz;

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/fuzz")
        .join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return 0;
    };
    let mut replayed = 0;
    for entry in entries.flatten() {
        let bytes = std::fs::read(entry.path()).unwrap();
        eprintln!("{target}: {}", entry.file_name().to_string_lossy());
        run(&bytes);
        replayed += 1;
    }
    replayed
}

#[test]
fn every_kept_finding_runs_cleanly() {
    let total: usize = fuzz::TARGETS
        .iter()
        .map(|(name, run)| replay(name, *run))
        .sum();
    fuzz::remove_scratch();
    eprintln!("{total} findings replayed");
}

/// Each target's corpus runs through it too: the seeds (valid files of every metric, a live
/// directory, shards, query inputs) and what minimised fuzzing kept (about 700 inputs that
/// between them reach every edge the fuzzer reached), so the harness cannot rot between fuzz
/// runs and the normal suite covers what fuzzing covered.
#[test]
fn the_corpora_run_through_their_targets() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    for (name, run) in fuzz::TARGETS {
        let mut count = 0;
        for entry in std::fs::read_dir(corpus.join(name)).unwrap().flatten() {
            run(&std::fs::read(entry.path()).unwrap());
            count += 1;
        }
        assert!(count > 0, "{name} has no corpus");
    }
    fuzz::remove_scratch();
}
