#!/usr/bin/env bash
# Runs every fuzz target (fuzz/) briefly from its seed corpus, a minute in all, so the
# targets cannot rot: any crash, leak or sanitizer report fails. Needs the nightly toolchain;
# installs cargo-fuzz when it is missing. Without nightly it says so and succeeds.
# Arguments, if any, name the targets to run (default: all).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "fuzz smoke skipped: no nightly toolchain (rustup toolchain install nightly)"
  exit 0
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "== cargo install cargo-fuzz"
  cargo install --quiet cargo-fuzz
fi
seconds=${ANN_FUZZ_SECONDS:-10}
# Leak reports are on, with nothing suppressed (fuzz/README.md says why none is needed).
cargo +nightly fuzz build 2>&1 | tail -n 1
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
  for source in fuzz/fuzz_targets/*.rs; do targets+=("$(basename "$source" .rs)"); done
fi
for target in "${targets[@]}"; do
  echo "== $target: ${seconds}s"
  # A copy of the seeds: what the run adds to its corpus is not kept in the repository.
  corpus=$(mktemp -d)
  cp fuzz/corpus/"$target"/* "$corpus"/
  started=$(mktemp)
  status=0
  # RUST_BACKTRACE=0: on a finding, cargo-fuzz's own error would print its backtrace last,
  # burying the finding. The smoke prints the finding itself below.
  RUST_BACKTRACE=0 cargo +nightly fuzz run "$target" "$corpus" -- -max_total_time="$seconds" \
    -rss_limit_mb=4096 >"$corpus.log" 2>&1 || status=$?
  grep -E '^(#[0-9]+ +DONE|Done|==[0-9]+==ERROR|SUMMARY)' "$corpus.log" || true
  if [[ $status -ne 0 ]]; then
    echo "-- what the fuzzer reported (exit status $status):"
    grep -E -A12 'panicked at|==[0-9]+== ?ERROR|out-of-memory|timeout after' "$corpus.log" | head -n 60
    grep -E '^(SUMMARY|MS:|artifact_prefix)' "$corpus.log" || true
    for finding in $(find fuzz/artifacts/"$target" -type f -newer "$started"); do
      echo "-- $finding, run again:"
      cargo +nightly fuzz run "$target" "$finding" >"$corpus.again" 2>&1 &&
        echo "   it does NOT fail again: a failure that depends on timing" ||
        grep -E -m 3 'panicked at|==[0-9]+== ?ERROR|SUMMARY' "$corpus.again"
      echo "   base64: $(base64 -w 0 "$finding")"
    done
  fi
  rm -rf "$corpus" "$corpus.log" "$corpus.again" "$started"
  if [[ $status -ne 0 ]]; then
    echo "$target failed: see fuzz/artifacts/$target/ (rerun: cargo +nightly fuzz run $target <file>)"
    exit 1
  fi
done
