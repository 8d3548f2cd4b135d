#!/usr/bin/env bash
# The history's write cost: µs per snapshot of 8 GPUs (every column filled) and how much the
# file grows per GPU-day at 1 Hz. Runs the disabled HistoryBench test of the unit binary.
# Usage: scripts/bench-history.sh [BUILD_DIR] [DIR_FOR_THE_FILE]   (env DLRIG_BENCH_SNAPSHOTS)
set -euo pipefail
build=${1:-build}
export DLRIG_BENCH_DIR=${2:-${TMPDIR:-/tmp}}
export DLRIG_BENCH_SNAPSHOTS=${DLRIG_BENCH_SNAPSHOTS:-5000}
"$build/tests/dlrig_tests" --gtest_also_run_disabled_tests \
  --gtest_filter='HistoryBench.DISABLED_WriteCostOfEightGpus' | grep '^history '
echo "filesystem: $(df -T "$DLRIG_BENCH_DIR" | awk 'NR==2 {print $2}') ($DLRIG_BENCH_DIR)"
