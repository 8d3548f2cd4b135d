#!/usr/bin/env bash
# Issue 5 on a GPU machine, with the carried binary: `dlrig gpus --json` beside nvidia-smi -q -x
# (and topo -m) while a PyTorch job keeps GPU 0 busy, so processes, utilisation, clocks and
# throttle reasons are live; the speed of gpus against nvidia-smi; top's CPU at 1 Hz; /metrics
# latency under 100 scrapes/s; history recording. Results go to $OUT (or ./out).
# Usage: scripts/gpu-monitor-validate.sh [path/to/dlrig] [python with torch]
set -uo pipefail
cd "$(dirname "$0")/.."
dlrig=$(realpath "${1:-./build/dlrig}")
python=${2:-python3}
out=${OUT:-./out}
mkdir -p "$out"
nvidia-smi -L >"$out/gpus-list.txt" 2>&1
nvidia-smi --query-gpu=driver_version --format=csv,noheader >>"$out/gpus-list.txt" 2>&1

# A matmul loop on GPU 0 for the length of the checks below (killed at the end).
"$python" - >"$out/load.txt" 2>&1 <<'PY' &
import time, torch
a = torch.randn(8192, 8192, device="cuda"); b = torch.randn(8192, 8192, device="cuda")
end = time.time() + 100
while time.time() < end:
    for _ in range(20): c = a @ b
    torch.cuda.synchronize()
PY
load=$!
trap 'kill $load 2>/dev/null' EXIT
sleep 12  # torch import and CUDA init

"$dlrig" gpus --json >"$out/gpus.json" 2>"$out/gpus.err"
nvidia-smi -q -x >"$out/nvidia-smi-q.xml" 2>&1
nvidia-smi topo -m >"$out/topo.txt" 2>&1
"$dlrig" gpus --no-color >"$out/gpus.txt" 2>&1
python3 scripts/compare-gpus.py "$out/gpus.json" "$out/nvidia-smi-q.xml" >"$out/compare-gpus.txt" 2>&1
echo "compare exit $?" >>"$out/compare-gpus.txt"
{
  for i in 1 2 3 4 5; do
    s=$(date +%s%N); "$dlrig" gpus --json >/dev/null 2>&1; e=$(date +%s%N)
    echo "gpus_wall_ms $(( (e - s) / 1000000 ))"
    s=$(date +%s%N); nvidia-smi -q -x >/dev/null 2>&1; e=$(date +%s%N)
    echo "nvidia_smi_q_x_wall_ms $(( (e - s) / 1000000 ))"
    s=$(date +%s%N); nvidia-smi >/dev/null 2>&1; e=$(date +%s%N)
    echo "nvidia_smi_wall_ms $(( (e - s) / 1000000 ))"
  done
} >"$out/speed.txt" 2>&1
COLUMNS=80 "$dlrig" top --once --no-color >"$out/top-once.txt" 2>&1
[[ -x scripts/bench-top.sh ]] && scripts/bench-top.sh "$dlrig" 30 >"$out/bench-top.txt" 2>&1
[[ -x scripts/bench-serve.sh ]] && DLRIG="$dlrig" scripts/bench-serve.sh --real --duration 20 >"$out/bench-serve.txt" 2>&1
[[ -x scripts/bench-serve.sh ]] && DLRIG="$dlrig" scripts/bench-serve.sh --real --naming dcgm --duration 10 >"$out/bench-serve-dcgm.txt" 2>&1
db=$(mktemp -d)/h.db
"$dlrig" history record --db "$db" --duration 5s --interval 1s >"$out/history.txt" 2>&1
"$dlrig" history --db "$db" --since 1h >>"$out/history.txt" 2>&1
kill $load 2>/dev/null; wait $load 2>/dev/null
sleep 2
"$dlrig" gpus --json >"$out/gpus-idle.json" 2>/dev/null
nvidia-smi -q -x >"$out/nvidia-smi-q-idle.xml" 2>&1
python3 scripts/compare-gpus.py "$out/gpus-idle.json" "$out/nvidia-smi-q-idle.xml" >"$out/compare-gpus-idle.txt" 2>&1
ls -la "$out"
