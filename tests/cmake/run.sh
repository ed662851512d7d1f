#!/usr/bin/env bash
# Tests ann as C and C++ users consume it, from outside the cargo build:
#  - cmake/install.cmake lays out a prefix; a separate CMake project finds it with
#    find_package(ann <major.minor> REQUIRED CONFIG) and ctest runs its C program (linked to
#    ann::ann and to ann::ann_static) and its C++ program (ann.hpp, as C++17 and C++20);
#  - the same after moving the prefix, and once through add_subdirectory(<repo>);
#  - a request for an incompatible version fails to configure;
#  - pkg-config compiles the README's C quickstart, shared and static;
#  - the README's CMake snippet and C++ quickstart build and run as written;
#  - rustc's native-static-libs list still equals the one cmake/annTargets.cmake declares.
# Needs cargo, cmake, pkg-config, a C and C++ compiler, readelf and python3.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0

# step <name> <command...>: runs one check, its output to a log shown only on failure.
step() {
  local name=$1
  shift
  if "$@" >"$work/log" 2>&1; then
    passed=$((passed + 1))
    echo "ok      $name"
  else
    failed=$((failed + 1))
    echo "FAILED  $name"
    sed 's/^/        /' "$work/log"
  fi
}

version=$(sed -n 's/^version = "\([0-9]*\.[0-9]*\.[0-9]*\)"$/\1/p' "$root/Cargo.toml" | head -n 1)
major=${version%%.*}
minor=${version#*.}
minor=${minor%%.*}
abi=$(sed -n 's/^#define ANN_ABI_VERSION \([0-9]*\)$/\1/p' "$root/include/ann.h")
readme_block() { python3 "$root/tests/cmake/readme_block.py" "$root/README.md" "$@"; }

build_library() { cargo build --release --lib --quiet --manifest-path "$root/Cargo.toml"; }

install_prefix() { cmake -DCMAKE_INSTALL_PREFIX="$1" -P "$root/cmake/install.cmake"; }

# consumer <build dir> <cmake args...>: configures, builds and runs the consumer's ctest.
consumer() {
  local build=$1
  shift
  cmake -S "$root/tests/cmake/consumer" -B "$build" "$@" &&
    cmake --build "$build" -j 2 &&
    ctest --test-dir "$build" --output-on-failure
}

# rustc's list, without -lc (every C link adds it), against the one the CMake files declare.
native_static_libs_match() {
  local printed declared
  printed=$(cargo rustc --lib --quiet --crate-type staticlib --manifest-path "$root/Cargo.toml" \
    --target-dir "$root/target/native-static-libs" -- --print native-static-libs 2>&1 |
    sed -n 's/.*native-static-libs: //p' | tr ' ' '\n' | grep -vx -- '-lc' | sed 's/^-l//' | xargs)
  declared=$(sed -n 's/^set(ANN_NATIVE_STATIC_LIBS \(.*\))$/\1/p' "$root/cmake/annTargets.cmake")
  echo "rustc: '$printed'; cmake/annTargets.cmake: '$declared'"
  [ -n "$printed" ] && [ "$printed" = "$declared" ]
}

# version_request <wanted> <accepted|refused> <prefix>: only configures the consumer.
version_request() {
  local wanted=$1 expected=$2 outcome=accepted
  cmake -S "$root/tests/cmake/consumer" -B "$work/version-$wanted" \
    -DCMAKE_PREFIX_PATH="$3" -DANN_WANT="$wanted" >"$work/version.log" 2>&1 || outcome=refused
  cat "$work/version.log"
  echo "find_package(ann $wanted): $outcome, expected $expected"
  [ "$outcome" = "$expected" ] || return 1
  [ "$expected" = accepted ] && return 0
  # CMake's own message, which names the version it found.
  tr -s ' \n' ' ' <"$work/version.log" |
    grep -q "compatible with requested version \"$wanted\".*annConfig.cmake, version: $version"
}

needed_libann() { readelf -d "$1" | sed -n 's/.*Shared library: \[\(libann[^]]*\)\].*/\1/p'; }

# The README's C quickstart, compiled with the flags pkg-config gives, linked shared then static.
pkg_config_quickstart() {
  local dir=$work/pkg-config-$1
  mkdir -p "$dir" && cd "$dir" || return 1
  export PKG_CONFIG_PATH=$2/lib/pkgconfig
  readme_block "C quickstart" c >quickstart.c || return 1
  local libdir
  libdir=$(pkg-config --variable=libdir ann) || return 1
  [ "$(pkg-config --modversion ann)" = "$version" ] || return 1
  # shellcheck disable=SC2046 # pkg-config's output is a list of flags
  cc -std=c99 -Wall -Wextra -Werror -pedantic quickstart.c $(pkg-config --cflags --libs ann) \
    -Wl,-rpath,"$libdir" -o quickstart-shared || return 1
  [ "$(needed_libann quickstart-shared)" = "libann.so.$abi" ] || return 1
  ./quickstart-shared | tee out-shared.txt && grep -q '^id 3 at distance' out-shared.txt || return 1
  local static_libs
  static_libs=$(pkg-config --static --libs-only-l ann | sed "s|-lann\b|$libdir/libann.a|")
  # shellcheck disable=SC2046,SC2086
  cc -std=c99 -Wall -Wextra -Werror -pedantic quickstart.c $(pkg-config --cflags ann) $static_libs \
    -o quickstart-static || return 1
  [ -z "$(needed_libann quickstart-static)" ] || return 1
  ./quickstart-static >out-static.txt && cmp out-shared.txt out-static.txt
}

# The README's CMakeLists.txt snippet and C++ quickstart, as a project of their own.
readme_cmake_quickstart() {
  local dir=$work/readme-cpp
  mkdir -p "$dir" &&
    readme_block "Use from C and C++" cmake >"$dir/CMakeLists.txt" &&
    readme_block "C++ quickstart" cpp >"$dir/main.cpp" &&
    cmake -S "$dir" -B "$dir/build" -DCMAKE_PREFIX_PATH="$1" \
      -DCMAKE_CXX_FLAGS="-Wall -Wextra -Werror -pedantic" &&
    cmake --build "$dir/build" &&
    (cd "$dir/build" && ./app | tee out.txt) &&
    grep -q '^id 3 at distance' "$dir/build/out.txt" &&
    grep -q '^ANN_STATUS_INVALID_STATE: ' "$dir/build/out.txt"
}

step "cargo build --release --lib" build_library
step "native-static-libs unchanged" native_static_libs_match
step "cmake -P cmake/install.cmake" install_prefix "$work/prefix"
step "find_package(ann $major.$minor): ctest" consumer "$work/installed" \
  -DCMAKE_PREFIX_PATH="$work/prefix" -DANN_WANT="$major.$minor"
step "pkg-config: README C quickstart" pkg_config_quickstart installed "$work/prefix"
mv "$work/prefix" "$work/moved"
step "static program runs with no libann anywhere" "$work/installed/c_static"
step "moved prefix: find_package ctest" consumer "$work/relocated" \
  -DCMAKE_PREFIX_PATH="$work/moved" -DANN_WANT="$major.$minor"
step "moved prefix: pkg-config" pkg_config_quickstart moved "$work/moved"
step "README CMake snippet and C++ quickstart" readme_cmake_quickstart "$work/moved"
step "find_package(ann $version) accepted" version_request "$version" accepted "$work/moved"
for wanted in "$major.$((minor + 1))" "$((major + 1)).$minor" "$major.$minor.99"; do
  step "find_package(ann $wanted) refused" version_request "$wanted" refused "$work/moved"
done
step "add_subdirectory(<repo>): ctest" consumer "$work/vendored" \
  -DANN_SOURCE_DIR="$root" -DANN_CARGO_TARGET_DIR="$root/target"

echo "packaging: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
