#!/usr/bin/env bash
# Runs every libFuzzer target in BUILD_DIR: first over its corpus (tests/fuzz/corpus/<name>),
# then SECONDS of fuzzing from there. Any crash, leak, sanitizer report, input slower than
# 25 s or over 2.5 GB fails the run, after every target has had its turn; what failed and the
# input that did it are kept in BUILD_DIR/fuzz-failures/.
set -euo pipefail
build=${1:-build-fuzz}
seconds=${2:-60}
cd "$(dirname "$0")/.."
failures=$build/fuzz-failures
rm -rf "$failures"
mkdir -p "$failures"
failed=()
shopt -s nullglob
targets=("$build"/*_fuzz)
if [[ ${#targets[@]} -eq 0 ]]; then
  echo "no fuzz targets in $build: build them with cmake --preset fuzz" >&2
  exit 1
fi
for bin in "${targets[@]}"; do
  name=$(basename "$bin" _fuzz)
  corpus=tests/fuzz/corpus/$name
  work=$(mktemp -d)
  [[ -d $corpus ]] && cp -r "$corpus"/. "$work"/
  echo "== $name ($seconds s after $(find "$work" -type f | wc -l) corpus inputs)"
  log=$failures/$name.log
  rc=0
  "$bin" -max_total_time="$seconds" -max_len=65536 -timeout=25 -rss_limit_mb=2560 \
    -print_final_stats=1 -artifact_prefix="$failures/$name-" "$work" >"$log" 2>&1 || rc=$?
  rm -rf "$work"
  grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|INFO: seed corpus)' "$log" | tail -2 || true
  if [[ $rc -ne 0 ]]; then
    echo "   FAILED (exit $rc); the report:"
    grep -E 'ERROR|SUMMARY|runtime error|Assertion|==[0-9]+==' "$log" | head -20 | sed 's/^/   /'
    failed+=("$name")
  else
    rm -f "$log"
  fi
done
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzz targets that failed: ${failed[*]} (logs and inputs in $failures)" >&2
  exit 1
fi
echo "every fuzz target ran clean"
