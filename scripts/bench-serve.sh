#!/usr/bin/env bash
# Speed of `dlrig serve`'s /metrics under load: 100 scrapes/s for 20 s (open loop, 4 keep-alive
# connections), p50/p90/p99/max latency and the server's CPU. Target: p99 <= 5 ms (issue 5).
# Without a GPU it serves the fault-injection NVML with 8 GPUs; with --real, the machine's NVML.
# Usage: scripts/bench-serve.sh [--real] [--naming native|dcgm] [--rate N] [--duration S]
#        (DLRIG=path/to/dlrig, FAKE_NVML=path/to/libnvidia-ml.so.1 to use other builds)
set -euo pipefail
cd "$(dirname "$0")/.."
dlrig=${DLRIG:-./build/dlrig}
fake=${FAKE_NVML:-$(dirname "$dlrig")/tests/fakenvml/libnvidia-ml.so.1}
real=0 naming=native rate=100 duration=20
while [[ $# -gt 0 ]]; do
  case $1 in
    --real) real=1 ;;
    --naming) naming=$2; shift ;;
    --rate) rate=$2; shift ;;
    --duration) duration=$2; shift ;;
    *) echo "usage: $0 [--real] [--naming native|dcgm] [--rate N] [--duration S]" >&2; exit 64 ;;
  esac
  shift
done

work=$(mktemp -d)
server=
cleanup() {
  [[ -n $server ]] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

env_args=()
if [[ $real == 0 ]]; then
  [[ -e $fake ]] || { echo "no fake NVML at $fake (build the tests, or set FAKE_NVML)" >&2; exit 1; }
  {
    echo "driver_version=580.159.04"; echo "cuda_version=13000"; echo "device_count=8"
    for i in 0 1 2 3 4 5 6 7; do
      echo "gpu$i.name=NVIDIA H100 80GB HBM3"; echo "gpu$i.uuid=GPU-bench-000$i"
      echo "gpu$i.pci_bus_id=00000000:1$i:00.0"; echo "gpu$i.memory_total=85520809984"
      echo "gpu$i.memory_used=1048576000"; echo "gpu$i.temperature=4$i"; echo "gpu$i.power=7123$i"
      echo "gpu$i.power_limit=700000"; echo "gpu$i.util_gpu=9$i"; echo "gpu$i.util_mem=3$i"
      echo "gpu$i.clock_sm=1980"; echo "gpu$i.clock_mem=2619"; echo "gpu$i.energy=12345678$i"
      echo "gpu$i.ecc_mode=1"; echo "gpu$i.pcie_gen=5"; echo "gpu$i.pcie_width=16"
    done
  } > "$work/fake-nvml.conf"
  env_args=(DLRIG_NVML_LIBRARY="$fake" DLRIG_FAKE_NVML="$work/fake-nvml.conf")
fi

env "${env_args[@]}" "$dlrig" serve --listen 127.0.0.1:0 --interval 1s --naming "$naming" \
  2> "$work/serve.log" &
server=$!
port=
for _ in $(seq 100); do
  port=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$work/serve.log")
  [[ -n $port ]] && break
  sleep 0.1
done
[[ -n $port ]] || { cat "$work/serve.log" >&2; exit 1; }
sleep 2  # a first sample
bytes=$(python3 -c "import urllib.request,sys; print(len(urllib.request.urlopen(sys.argv[1]).read()))" \
  "http://127.0.0.1:$port/metrics")
echo "dlrig serve ($naming naming, $([[ $real == 1 ]] && echo "real NVML" || echo "fake NVML, 8 GPUs")):" \
  "/metrics is $bytes bytes; $(nproc) CPUs, $(uname -r)"
python3 scripts/bench_serve_load.py --port "$port" --rate "$rate" --duration "$duration" --pid "$server"
echo "target: p99 <= 5 ms"
