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
if command -v tmux >/dev/null; then
  scripts/bench-top.sh "$dlrig" 30 >"$out/bench-top.txt" 2>&1
elif command -v script >/dev/null; then
  # No tmux there: a pseudo-terminal from util-linux's script, 80x24, top at 1 Hz for 30 s.
  TERM=xterm script -qfc "stty cols 80 rows 24; exec $dlrig top --interval 1s" /dev/null </dev/zero >/dev/null 2>&1 &
  sh_pid=$!
  sleep 4
  top_pid=$(pgrep -f "$dlrig top --interval" | head -1)
  ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
  kids() { cat /proc/"$1"/task/*/children 2>/dev/null | tr ' ' '\n' | grep . ; }
  child=$(kids "$top_pid" | head -1)
  a=$(ticks "$top_pid"); c0=$(ticks "$child"); t0=$(date +%s%N); sleep 30
  b=$(ticks "$top_pid"); c1=$(ticks "$child"); t1=$(date +%s%N)
  hz=$(getconf CLK_TCK)
  awk -v t=$((b - a)) -v c=$((c1 - c0)) -v hz="$hz" -v w=$(( (t1 - t0) / 1000000 )) 'BEGIN {
    printf "top_process_cpu_percent %.3f\nnvml_child_cpu_percent %.3f\ntotal_cpu_percent %.3f\nwindow_ms %d\n",
      100 * t / hz / (w / 1000), 100 * c / hz / (w / 1000), 100 * (t + c) / hz / (w / 1000), w }' >"$out/bench-top.txt"
  kill "$top_pid" "$sh_pid" 2>/dev/null
fi
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
# Issue 4 on the same machine: the plan dlrig makes for it, beside what is installed.
"$dlrig" plan torch torchvision --explain >"$out/plan.txt" 2>&1
"$dlrig" plan torch torchvision --json >"$out/plan.json" 2>&1
"$python" -c 'import torch; print("installed torch", torch.__version__, "cuda", torch.version.cuda)' >>"$out/plan.txt" 2>&1
grep -iE "temp|threshold|tlimit" "$out/nvidia-smi-q.xml" >"$out/nvidia-smi-temperatures.txt"
ls -la "$out"
