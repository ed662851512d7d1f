#!/bin/sh
# Checks and tests the Ruby binding against the libann named by ANN_LIB (default:
# <repo>/target/release/libann.so): syntax and warnings, style, minitest, a GC.stress run in
# its own process, and `gem build`. Writes only into bindings/ruby/build. Runs from any cwd.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
ANN_LIB=${ANN_LIB:-$repo/target/release/libann.so}
export ANN_LIB
build=$here/build
mkdir -p "$build"
cd "$here"

if [ ! -f "$ANN_LIB" ]; then
    echo "test.sh: $ANN_LIB does not exist: run \`cargo build --release\` or set ANN_LIB" >&2
    exit 1
fi

files=$(find lib test script examples -name '*.rb' | sort)
echo "== ruby -wc (syntax and warnings)"
for file in $files ann.gemspec interop; do
    if ! ruby -wc "$file" >/dev/null 2>"$build/syntax.err" || [ -s "$build/syntax.err" ]; then
        cat "$build/syntax.err" >&2
        echo "test.sh: $file has syntax errors or warnings" >&2
        exit 1
    fi
done

echo "== style (script/lint.rb)"
# shellcheck disable=SC2086 # the file list is meant to split
ruby script/lint.rb $files ann.gemspec interop

echo "== minitest"
ruby -w -e 'files = ARGV.dup; ARGV.clear; files.each { |file| require File.expand_path(file) }' test/*_test.rb

echo "== minitest under GC.stress (its own process)"
ruby -w test/gc_stress.rb

echo "== gem build"
gem build ann.gemspec --output "$build/ann.gem" --silent
ruby -e 'require "rubygems/package"; spec = Gem::Package.new(ARGV[0]).spec
         missing = %w[lib/ann.rb lib/ann/index.rb README.md] - spec.files
         abort "gem lacks #{missing}" unless missing.empty?
         puts "built #{spec.full_name} (#{spec.files.size} files)"' "$build/ann.gem"
