#!/usr/bin/env bash
# Builds the Java binding and runs its linters and tests against the libann named by ANN_LIB
# (default: <repo>/target/release/libann.so). Everything goes to build/ (git-ignored):
#   build/native/libann_jni.so   the JNI glue (cc -Wall -Wextra -Wpedantic -Werror)
#   build/ann.jar                the binding, with the glue inside (javac -Xlint:all -Werror)
#   build/examples, build/test-classes
# Then runs JUnit 5 with Debian's console launcher, and prints "N passed, N failed" last.
# With --build-only it stops after the build (the interop script uses that).
set -euo pipefail
build_only=false
if [[ "${1:-}" == "--build-only" ]]; then
    build_only=true
fi

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
build="$here/build"
export ANN_LIB="${ANN_LIB:-$repo/target/release/libann.so}"
junit="${JUNIT_CONSOLE:-/usr/share/java/junit-platform-console-standalone.jar}"

if [[ ! -f "$ANN_LIB" ]]; then
    echo "test.sh: ANN_LIB=$ANN_LIB does not exist; run \`cargo build --release\` first" >&2
    exit 1
fi
if [[ ! -f "$junit" ]]; then
    echo "test.sh: $junit not found; install Debian's junit5 package" >&2
    exit 1
fi
javac_path="$(readlink -f "$(command -v javac)")"
java_home="${JAVA_HOME:-$(dirname "$(dirname "$javac_path")")}"
java="$java_home/bin/java"
javac="$java_home/bin/javac"
jar="$java_home/bin/jar"

rm -rf "$build"
mkdir -p "$build/native" "$build/classes" "$build/examples" "$build/test-classes"

echo "== JNI glue"
cc -std=gnu11 -O2 -g -Wall -Wextra -Wpedantic -Wshadow -Werror -shared -fPIC \
    -I"$java_home/include" -I"$java_home/include/linux" -I"$repo/include" \
    "$here/src/main/c/ann_jni.c" -ldl -o "$build/native/libann_jni.so"

echo "== javac (main, examples, tests)"
lint=(--release 17 -Xlint:all -Werror -encoding UTF-8)
"$javac" "${lint[@]}" -Xdoclint:all,-missing -d "$build/classes" $(find "$here/src/main/java" -name '*.java')
os="$("$java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *os\.name = //p' | tr '[:upper:]' '[:lower:]')"
arch="$("$java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *os\.arch = //p')"
mkdir -p "$build/classes/io/github/ann/native/$os-$arch"
cp "$build/native/libann_jni.so" "$build/classes/io/github/ann/native/$os-$arch/"
printf 'Automatic-Module-Name: io.github.ann\n' > "$build/manifest.txt"
"$jar" --create --file "$build/ann.jar" --manifest "$build/manifest.txt" -C "$build/classes" .

"$javac" "${lint[@]}" -cp "$build/ann.jar" -d "$build/examples" $(find "$here/src/examples/java" -name '*.java')
"$javac" "${lint[@]}" -cp "$build/ann.jar:$build/examples:$junit" -d "$build/test-classes" \
    $(find "$here/src/test/java" -name '*.java')

if $build_only; then
    exit 0
fi

echo "== JUnit (ANN_LIB=$ANN_LIB)"
status=0
"$java" -Dann.repo="$repo" -Dann.build="$build" -jar "$junit" \
    --class-path "$build/ann.jar:$build/examples:$build/test-classes" \
    --scan-class-path "$build/test-classes" \
    --disable-banner --disable-ansi-colors --details=tree --fail-if-no-tests 2>&1 | tee "$build/junit.log" || status=$?

# CI reads this line: the launcher's counts of successful and failed tests (skipped and
# aborted ones are neither).
count() {
    local n
    n="$(sed -n "s/^.*\[ *\([0-9][0-9]*\) tests $1 *\].*$/\1/p" "$build/junit.log" | tail -1)"
    echo "${n:-0}"
}
passed="$(count successful)"
failed="$(count failed)"
echo "$passed passed, $failed failed"
if [[ $status -ne 0 || $passed -eq 0 || $failed -ne 0 ]]; then
    exit 1
fi
