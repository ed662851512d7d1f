#!/usr/bin/env bash
# Lints and tests the Python binding: this source tree's `ann` package, against the library
# named by ANN_LIB (default: target/release/libann.so of this checkout). Runs from any cwd.
# Nothing is compiled; caches go to build/ (git-ignored). Exits non-zero on any failure.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
python="${PYTHON:-python3}"

export ANN_LIB="${ANN_LIB:-$repo/target/release/libann.so}"
if [[ ! -f "$ANN_LIB" ]]; then
    echo "test.sh: no library at $ANN_LIB: run \`cargo build --release\` or set ANN_LIB" >&2
    exit 1
fi
# The sources under test come first, whatever version of ann pip installed.
export PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONDONTWRITEBYTECODE=1
mkdir -p "$here/build"

# Linters, when installed (.ci/run installs only what the tests need).
if "$python" -m ruff --version >/dev/null 2>&1; then
    RUFF_CACHE_DIR="$here/build/ruff-cache" "$python" -m ruff check "$here"
else
    echo "test.sh: ruff is not installed: skipping it (pip install ruff)" >&2
fi
if "$python" -m black --version >/dev/null 2>&1; then
    "$python" -m black --check --quiet "$here"
else
    echo "test.sh: black is not installed: skipping it (pip install black)" >&2
fi

"$python" -m pytest "$here/tests" -q -o cache_dir="$here/build/pytest-cache" "$@"
