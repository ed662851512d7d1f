#!/usr/bin/env bash
# Lints and tests the Go binding against the library named by ANN_LIB (default: the
# repository's target/release/libann.so): gofmt, go vet, then go test -race on every package.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
export ANN_LIB="${ANN_LIB:-$repo/target/release/libann.so}"
if [[ ! -f "$ANN_LIB" ]]; then
    echo "test.sh: $ANN_LIB is missing: run \`cargo build --release\` in $repo, or set ANN_LIB" >&2
    exit 1
fi
cd "$here"
mkdir -p build

unformatted="$(gofmt -l .)"
if [[ -n "$unformatted" ]]; then
    echo "gofmt: these files need formatting (run gofmt -w):" >&2
    echo "$unformatted" >&2
    exit 1
fi
go vet ./...
go build -o build/interop ./cmd/interop

log=build/test.log
status=0
go test -race -count=1 -v ./... >"$log" 2>&1 || status=$?
# The failures in full, then go test's per-package lines, then a count.
grep -E -B2 -A20 '^\s*--- FAIL' "$log" || true
grep -E '^(ok|FAIL|panic:|---)|^\S+\.go:[0-9]+' "$log" | grep -v -- '--- PASS' || true
passed="$(grep -cE '^\s*--- PASS' "$log" || true)"
failed="$(grep -cE '^\s*--- FAIL' "$log" || true)"
skipped="$(grep -cE '^\s*--- SKIP' "$log" || true)"
echo "go test -race: $passed passed, $failed failed, $skipped skipped (log: $here/$log)"
if [[ $status -ne 0 ]]; then
    echo "go test failed (exit $status); see $here/$log" >&2
fi
exit "$status"
