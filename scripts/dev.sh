#!/usr/bin/env bash
# Set-up, build and test in one place; the README's two commands call this.
#   scripts/dev.sh run      install what is missing, build, run `dlrig doctor` here
#   scripts/dev.sh test     install what is missing, build, run every test on the release
#                           build (every fuzz corpus replayed, the hostile suite included)
#   scripts/dev.sh sanitize the same tests built with ASan+UBSan (preset asan); times each step
#   scripts/dev.sh package  build the .deb (CPack)
#   scripts/dev.sh fuzz [S] build the fuzz preset (clang, ASan+UBSan) and run every libFuzzer
#                           target S seconds (default 60) after replaying its corpus
#   scripts/dev.sh bench    speed of `dlrig doctor` (wall time, peak RSS)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)

build() {
  local preset=${1:-release}
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$jobs"
}

# step NAME CMD...: runs CMD, records its wall time and status; the run goes on after a
# failure (the steps that need a failed build are skipped) so one CI run shows every broken
# guard, and fails at the end.
steps=()
failed=0
step() {
  local name=$1 start=$SECONDS rc=0
  shift
  echo "== $name: $*"
  "$@" || rc=$?
  steps+=("$(printf '%-14s %5ds  %s' "$name" $((SECONDS - start)) \
             "$([[ $rc -eq 0 ]] && echo ok || echo "FAILED (exit $rc)")")")
  [[ $rc -eq 0 ]] || failed=1
  return $rc
}
summary() {
  echo "== summary (wall clock, $(nproc 2>/dev/null || echo '?') cores)"
  printf '%s\n' "${steps[@]}"
  return $failed
}

# The sanitizers' settings: a leak, an ASan error or any UBSan report fails the run.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:check_initialization_order=1:strict_init_order=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
# Leaks inside closed NVIDIA libraries only, each with its evidence (tests/lsan.supp).
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/lsan.supp:print_suppressions=0}

case "${1:-}" in
  run)
    scripts/install-deps.sh build
    build
    shift
    ./build/dlrig doctor "$@" ;;
  test)
    scripts/install-deps.sh test
    { step "release build" build release &&
        step "release tests" ctest --preset release -j "$jobs"; } || true
    summary ;;
  sanitize)
    scripts/install-deps.sh test
    { step "asan build" build asan && step "asan tests" ctest --preset asan -j "$jobs"; } || true
    summary ;;
  package)
    scripts/install-deps.sh build
    build
    (cd build && cpack -G DEB) ;;
  fuzz)
    scripts/install-deps.sh test
    build fuzz
    scripts/run-fuzzers.sh build-fuzz "${2:-60}" ;;
  bench)
    scripts/install-deps.sh test
    build
    scripts/bench-doctor.sh ;;
  *)
    sed -n '2,/^set -euo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'
    exit 64 ;;
esac
