#!/usr/bin/env bash
# Is a pinned host<->device figure low because of the host, or because of dlrig? On a GPU machine:
# nvbandwidth's CE copies alone, then while nvidia-smi polls the GPU at 10 Hz (as dlrig's
# telemetry sampler does during a run), ROUNDS times, then dlrig's own pcie figures with every
# sample (docs/validation.md, "PCIe noise").
#
# Usage: scripts/pcie-noise.sh [nvbandwidth] [dlrig]
#   nvbandwidth: the binary, default build-refs/bin/nvbandwidth, or unpacked from
#   build-refs-xz/refs-bin.tar.xz (scripts/build-bench-refs.sh makes both).
#   ROUNDS (3), ITERATIONS (15: nvbandwidth's -i, it reports their median).
set -euo pipefail
nvb=${1:-build-refs/bin/nvbandwidth}
dlrig=${2:-build/dlrig}
if [[ ! -x $nvb && -f build-refs-xz/refs-bin.tar.xz ]]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  tar -xJf build-refs-xz/refs-bin.tar.xz -C "$tmp"
  nvb=$(find "$tmp" -name nvbandwidth -type f | head -1)
fi
[[ -x $nvb ]] || { echo "no nvbandwidth binary (scripts/build-bench-refs.sh)" >&2; exit 1; }

# "h2d d2h" GB/s from one nvbandwidth run.
copies() {
  "$nvb" -t host_to_device_memcpy_ce device_to_host_memcpy_ce -i "${ITERATIONS:-15}" 2>&1 |
    awk '/^ *0 +[0-9]/ {printf "%s ", $2} END {print ""}'
}

for ((i = 1; i <= ${ROUNDS:-3}; i++)); do
  echo "round $i alone:            h2d d2h $(copies)"
  nvidia-smi --query-gpu=clocks.sm,clocks.mem,power.draw,temperature.gpu,clocks_event_reasons.active,utilization.gpu,memory.used \
    --format=csv -lms 100 >/dev/null &
  poll=$!
  sleep 0.5
  echo "round $i nvidia-smi 10 Hz: h2d d2h $(copies)"
  kill "$poll"
  wait "$poll" 2>/dev/null || true
done
"$dlrig" bench pcie --json --no-history --sizes 1G 2>/dev/null | python3 -c '
import json, sys
for r in json.load(sys.stdin)["results"]:
    if r["key"] in ("pcie.h2d.pinned", "pcie.d2h.pinned"):
        print("dlrig", r["key"], "median %.2f" % r["median"], "samples", " ".join("%.1f" % x for x in r["samples"]))'
