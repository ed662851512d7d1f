#!/usr/bin/env bash
# Runs every fuzz target (fuzz/) briefly from its seed corpus, a minute in all, so the
# targets cannot rot: any crash, leak or sanitizer report fails. Needs the nightly toolchain;
# installs cargo-fuzz when it is missing. Without nightly it says so and succeeds.
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
# Leak reports are on, less one known false positive (see fuzz/lsan.supp).
export LSAN_OPTIONS="suppressions=$(pwd)/fuzz/lsan.supp"
cargo +nightly fuzz build 2>&1 | tail -n 1
for source in fuzz/fuzz_targets/*.rs; do
  target=$(basename "$source" .rs)
  echo "== $target: ${seconds}s"
  # A copy of the seeds: what the run adds to its corpus is not kept in the repository.
  corpus=$(mktemp -d)
  cp fuzz/corpus/"$target"/* "$corpus"/
  status=0
  cargo +nightly fuzz run "$target" "$corpus" -- -max_total_time="$seconds" -rss_limit_mb=2048 \
    >"$corpus.log" 2>&1 || status=$?
  grep -E '^(#[0-9]+ +DONE|Done|==[0-9]+==ERROR|SUMMARY)' "$corpus.log" || true
  [[ $status -eq 0 ]] || tail -n 60 "$corpus.log"
  rm -rf "$corpus" "$corpus.log"
  if [[ $status -ne 0 ]]; then
    echo "$target failed: see fuzz/artifacts/$target/ (rerun: cargo +nightly fuzz run $target <file>)"
    exit 1
  fi
done
