#!/usr/bin/env bash
# Runs the test programs under memory and thread checkers; any report fails the run:
#   1. every C test program (tests/c/) under AddressSanitizer + UndefinedBehaviorSanitizer;
#   2. the same programs once under valgrind's memcheck (definite leaks count);
#   3. the C++ API test (tests/cmake/consumer/cpp_api.cpp) under ASan + UBSan;
#   4. ThreadSanitizer over tests/concurrency.rs (64 threads querying one index while others
#      load, refresh, write, compact and free), with the nightly toolchain and rust-src;
#   5. Miri over the core's unit tests of unsafe code (node access, sections, kernels' scalar
#      paths, keys, graph parsing), with the nightly toolchain and miri.
# The Go binding's tests run with -race in bindings/go/test.sh. Steps whose tool is missing
# are reported as skipped, with the command that installs it.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
results=()
failed=0

step() {
  local name=$1
  shift
  echo "== $name" >&2
  if "$@"; then
    results+=("ok       $name")
  else
    results+=("FAILED   $name")
    failed=1
  fi
}
skip() {
  results+=("skipped  $1 ($2)")
}

step "C programs under ASan + UBSan" \
  env ANN_C_SANITIZE=address,undefined ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:allocator_may_return_null=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 cargo test --release --quiet --test c_api

if command -v valgrind >/dev/null; then
  step "C programs under valgrind" env ANN_C_VALGRIND=1 cargo test --release --quiet --test c_api
else
  skip "C programs under valgrind" "apt-get install valgrind"
fi

cpp_asan() {
  local exe
  exe=$(mktemp -d)/cpp_api
  c++ -std=c++17 -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
    -pthread -Iinclude tests/cmake/consumer/cpp_api.cpp target/release/libann.so \
    -Wl,-rpath,"$root/target/release" -o "$exe" &&
    (cd "$(dirname "$exe")" && ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 "$exe")
}
cargo build --release --quiet
step "C++ API test under ASan + UBSan" cpp_asan

nightly_has() { rustup +nightly component list --installed 2>/dev/null | grep -q "^$1"; }
if nightly_has rust-src; then
  step "ThreadSanitizer over tests/concurrency.rs" \
    env RUSTFLAGS="-Zsanitizer=thread" TSAN_OPTIONS="halt_on_error=1" ANN_TEST_THREADS=64 \
    cargo +nightly test -Zbuild-std --target x86_64-unknown-linux-gnu --quiet \
    --target-dir target/tsan --test concurrency
  step "ThreadSanitizer over the live state's lock (src/live/shared.rs)" \
    env RUSTFLAGS="-Zsanitizer=thread" TSAN_OPTIONS="halt_on_error=1" \
    cargo +nightly test -Zbuild-std --target x86_64-unknown-linux-gnu --quiet \
    --target-dir target/tsan --lib live::shared
else
  skip "ThreadSanitizer" "rustup toolchain install nightly --component rust-src"
fi

if nightly_has miri; then
  step "Miri over the core's unit tests" \
    env MIRIFLAGS="-Zmiri-disable-isolation" cargo +nightly miri test --quiet --lib --target-dir target/miri \
    -- node:: kernels:: codes:: keys:: graph:: format:: filter::
else
  skip "Miri" "rustup +nightly component add miri"
fi

printf '%s\n' "${results[@]}"
exit $failed
