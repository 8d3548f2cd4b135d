#!/usr/bin/env bash
# Runs every libFuzzer target in BUILD_DIR for SECONDS each, seeded from tests/fuzz/corpus.
set -euo pipefail
build=${1:-build-fuzz}
seconds=${2:-60}
cd "$(dirname "$0")/.."
for bin in "$build"/*_fuzz; do
  name=$(basename "$bin" _fuzz)
  corpus=tests/fuzz/corpus/$name
  work=$(mktemp -d)
  [[ -d $corpus ]] && cp -r "$corpus"/. "$work"/
  echo "== $name ($seconds s)"
  "$bin" -max_total_time="$seconds" -max_len=65536 "$work" 2>&1 | tail -3
  rm -rf "$work"
done
