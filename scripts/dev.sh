#!/usr/bin/env bash
# Set-up, build and test in one place; the README's two commands call this.
#   scripts/dev.sh run      install what is missing, build, run `dlrig doctor` here
#   scripts/dev.sh test     install what is missing, build, run every test
#   scripts/dev.sh package  build the .deb (CPack)
#   scripts/dev.sh fuzz [S] run every libFuzzer target S seconds (default 60)
#   scripts/dev.sh bench    speed of `dlrig doctor` (wall time, peak RSS)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)

build() {
  cmake --preset release >/dev/null
  cmake --build --preset release -j "$jobs"
}

case "${1:-}" in
  run)
    scripts/install-deps.sh build
    build
    shift
    ./build/dlrig doctor "$@" ;;
  test)
    scripts/install-deps.sh test
    build
    ctest --preset release -j "$jobs" ;;
  package)
    scripts/install-deps.sh build
    build
    (cd build && cpack -G DEB) ;;
  fuzz)
    scripts/install-deps.sh test
    cmake --preset fuzz >/dev/null
    cmake --build --preset fuzz -j "$jobs"
    scripts/run-fuzzers.sh build-fuzz "${2:-60}" ;;
  bench)
    scripts/install-deps.sh test
    build
    scripts/bench-doctor.sh ;;
  *)
    sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
    exit 64 ;;
esac
