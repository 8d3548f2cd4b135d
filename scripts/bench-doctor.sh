#!/usr/bin/env bash
# Speed of `dlrig doctor`: wall time (median of N runs) and peak RSS, on this machine, on the
# H100 capture, and on the capture plus 100 synthetic conda envs. Prints figures beside the
# targets (<= 100 ms and <= 30 MB; <= 1 s with 100 envs) and the reference tools' figures.
# Usage: scripts/bench-doctor.sh [runs]   (DLRIG=path/to/dlrig to use another binary)
set -euo pipefail
cd "$(dirname "$0")/.."
dlrig=${DLRIG:-./build/dlrig}
runs=${1:-11}
capture=../shared/captures/h100-ubuntu2404-torch211

# median wall ms and max RSS MB of "$@" over $runs runs
measure() {
  local walls=() rss=0 start end kb out
  out=$(mktemp)
  for ((i = 0; i < runs; i++)); do
    start=$(date +%s%N)
    /usr/bin/time -f '%M' -o "$out" "$@" >/dev/null 2>&1
    end=$(date +%s%N)
    kb=$(tail -1 "$out")
    walls+=($(( (end - start) / 1000 )))
    (( kb > rss )) && rss=$kb
  done
  rm -f "$out"
  local median
  median=$(printf '%s\n' "${walls[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p")
  awk -v us="$median" -v kb="$rss" 'BEGIN { printf "%8.1f ms  %6.1f MB", us / 1000, kb / 1024 }'
}

synthetic_envs() {
  local dir=$1 n=$2
  cp -r "$capture"/. "$dir"/
  chmod -R u+w "$dir"
  mkdir -p "$dir/root/.conda"
  : >"$dir/root/.conda/environments.txt"
  for ((e = 0; e < n; e++)); do
    local env="$dir/opt/conda/envs/env$e"
    mkdir -p "$env/conda-meta" "$env/bin" "$env/lib/python3.11/site-packages"
    for p in python-3.11.9-h955ad1f_0 pytorch-2.3.1-py3.11_cuda12.1_cudnn8.9.2_0 \
             pytorch-cuda-12.1-ha16c6d3_5 cuda-cudart-12.1.105-0 cuda-version-12.1-h1d6eff3_3 \
             cudnn-8.9.2.26-cuda12_0 nccl-2.21.5.1-h3a97aeb_0 numpy-1.26.4-py311h08b1b3b_0 \
             libcublas-12.1.0.26-0 libcufft-11.0.2.4-0 libcurand-10.3.2.56-0 \
             libcusolver-11.4.4.55-0 libcusparse-12.0.2.55-0 openssl-3.0.14-h5eee18b_0; do
      echo '{}' >"$env/conda-meta/$p.json"
    done
    echo "/opt/conda/envs/env$e" >>"$dir/root/.conda/environments.txt"
  done
}

[[ -x $dlrig ]] || { echo "build first: $dlrig not found" >&2; exit 1; }
echo "dlrig doctor speed, $(date -u +%F), $(uname -m), $(nproc) CPUs, median of $runs runs"
echo "target: <= 100 ms and <= 30 MB (this machine, capture); <= 1 s with 100 conda envs"
printf '%-42s %s\n' "this machine" "$(measure "$dlrig" doctor --json)"
if [[ -d $capture ]]; then
  printf '%-42s %s\n' "H100 capture (--root)" "$(measure "$dlrig" doctor --root "$capture" --json)"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  synthetic_envs "$tmp" 100
  envs=$("$dlrig" doctor --root "$tmp" --json | python3 -c \
    'import json,sys; print(sum(e["kind"] == "conda" for e in json.load(sys.stdin)["python"]["environments"]))')
  printf '%-42s %s  (%s conda envs seen)\n' "H100 capture + 100 conda envs" \
    "$(measure "$dlrig" doctor --root "$tmp" --json)" "$envs"
fi
if [[ -d $capture ]]; then
  rules=$(for i in 1 2 3 4 5; do "$dlrig" doctor --root "$capture" --json | python3 -c \
    'import json,sys; print(json.load(sys.stdin)["timings_ms"]["rules"])'; done | sort -n | sed -n 3p)
  printf '%-42s %8.2f ms  (target <= 20 ms; median of 5)\n' "rules alone, H100 capture" "$rules"
fi
echo "reference (H100 machine, capture README): nvidia-smi 90 ms; torch collect_env 9370 ms, 620 MB"
