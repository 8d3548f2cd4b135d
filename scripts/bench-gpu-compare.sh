#!/usr/bin/env bash
# Regression comparison for `dlrig bench` (issue 6), in ONE run on the GPU machine:
#   dlrig bench --json  vs  scripts/bench-torch-ref.py (PyTorch), NVIDIA/nvbandwidth (host<->device
#   CE copies, GPU->GPU with 2+ GPUs) and NVIDIA/nccl-tests (all_reduce 8M..8G, all_gather and
#   reduce_scatter at 8G, one process driving every GPU) and fio (scripts/bench-storage.sh:
#   `dlrig bench storage` and fio --ioengine=libaio with the same parameters, alternating), then
#   one side-by-side table (scripts/bench_compare_refs.py): figure, dlrig, reference, ratio, goal met.
#
# The reference binaries are built elsewhere (never committed) and travel with the call:
#   build-refs/bin/{nvbandwidth,all_reduce_perf,all_gather_perf,reduce_scatter_perf}
# or the same four packed as build-refs-xz/refs-bin.tar.xz (unpacked to /tmp here), and fio:
#   build-refs/bin/fio, or build-refs-xz/fio-bin.tar.xz (fio/fio, static), or --fio PATH, or
#   fio on PATH.
#
# Everything raw goes into one tarball under the output folder ($OUT on the device machine):
#   compare.txt, compare.json, bench-compare-raw.tgz
# A reference that fails or runs out of time is reported as missing; the script still ends
# with the table. Each step runs under `timeout`, and the whole run under --budget seconds.
#
# Usage: scripts/bench-gpu-compare.sh [--dlrig build/dlrig] [--refs build-refs] [--out DIR]
#          [--budget 560] [--quick-too] [--skip dlrig,torch,nvbandwidth,nccl,storage]
#          [--dlrig-args "..."] [--torch-args "..."] [--nccl-lib DIR|system] [--torch-cublas]
#          [--storage-dir /tmp/dlrig-storage] [--fio PATH]
#   --nccl-lib: the libnccl.so.2 that nccl-tests AND dlrig load (default: the torch wheel's,
#     nvidia-nccl-cu13, so all three use one NCCL; "system" leaves the loader's default).
#   --torch-cublas: dlrig also loads the cuBLAS(Lt) of the torch wheel, the one PyTorch's
#     matmul uses (default: whatever dlrig finds itself).
#   --storage-dir: a directory on the machine's disk for the storage step (made if absent; a
#     tmpfs there, where O_DIRECT fails, falls back to /var/tmp, then the repo's disk, unless
#     given explicitly). Its df and findmnt go to the raw output.
# Step limits (seconds) from the environment: T_DLRIG=240 T_QUICK=75 T_TORCH=150 T_NVB=90
#   T_NCCL_AR=120 T_NCCL_AG=60 T_NCCL_RS=60 T_STORAGE=300.
# The storage step: STORAGE_PROFILE=default (10 s per run, 1 GiB files; quick: 3 s, 256 MiB),
#   STORAGE_SECONDS (the profile's), STORAGE_REPS=2 pairs per pattern (one dlrig first, one fio
#   first; a pair of 10 s runs with the reads' layout took about 40 s on a virtio disk, so 2
#   pairs of 3 patterns take about 4 min). For more pairs run the step alone, in its own call:
#   T_STORAGE=540 STORAGE_REPS=6 STORAGE_SECONDS=5 scripts/bench-gpu-compare.sh --skip dlrig,torch,nvbandwidth,nccl --budget 580
#   bench-storage.sh rewrites its JSON after each round of pairs: a step cut short keeps those done.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
dlrig="$repo/build/dlrig"
refs="$repo/build-refs"
outdir="${OUT:-/tmp/bench-compare-out}"
budget=560
quick_too=0
skip=""
dlrig_args=""
torch_args=""
nccl_lib="${NCCL_LIB:-}"
torch_cublas=0
storage_dir=/tmp/dlrig-storage
storage_dir_given=0
fio_bin=""

while [ $# -gt 0 ]; do
  case "$1" in
    --dlrig) dlrig=$2; shift 2 ;;
    --refs) refs=$2; shift 2 ;;
    --out) outdir=$2; shift 2 ;;
    --budget) budget=$2; shift 2 ;;
    --quick-too) quick_too=1; shift ;;
    --skip) skip=$2; shift 2 ;;
    --dlrig-args) dlrig_args=$2; shift 2 ;;
    --torch-args) torch_args=$2; shift 2 ;;
    --nccl-lib) nccl_lib=$2; shift 2 ;;
    --torch-cublas) torch_cublas=1; shift ;;
    --storage-dir) storage_dir=$2; storage_dir_given=1; shift 2 ;;
    --fio) fio_bin=$2; shift 2 ;;
    -h|--help) sed -n '2,38p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

# NVLink multicast stays off on the lent machines (KINDS.md): a program that uses it can take the
# host's shared GPUs out of service. Set here for every step, never unset.
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
export CUDA_DEVICE_ORDER=PCI_BUS_ID PYTHONUNBUFFERED=1

start=$(date +%s)
work=$(mktemp -d /tmp/bench-compare.XXXXXX)
raw="$work/raw"
mkdir -p "$raw" "$outdir"
steps="$raw/steps.tsv"
printf 'step\trc\tseconds\tcommand\n' >"$steps"

log() { echo "[compare $(( $(date +%s) - start ))s] $*" >&2; }
skipped() { case ",$skip," in *",$1,"*) return 0 ;; esac; return 1; }
left() { echo $(( budget - ($(date +%s) - start) )); }
pack() { tar -czf "$outdir/bench-compare-raw.tgz" -C "$work" raw 2>/dev/null; }
smi_trace() {
  timeout 15 nvidia-smi --query-gpu=index,clocks.sm,clocks.max.sm,clocks.mem,power.draw,temperature.gpu,clocks_event_reasons.active,memory.used \
    --format=csv,noheader 2>/dev/null | sed "s/^/$(date +%s),$1,/" >>"$raw/smi-trace.csv"
}

# run_step NAME MAX_SECONDS STDOUT_FILE COMMAND...: stderr to NAME.log; rc and time to steps.tsv.
run_step() {
  local name=$1 max=$2 outfile=$3; shift 3
  local avail=$(( $(left) - 30 ))  # keep 30 s for the table and the tarball
  local limit=$(( max < avail ? max : avail ))
  if [ "$limit" -lt 10 ]; then
    log "$name: skipped, out of time (budget ${budget}s)"
    printf '%s\t%s\t%s\t%s\n' "$name" "skipped-out-of-time" 0 "$*" >>"$steps"
    echo "skipped: out of time" >"$raw/$name.log"
    return 124
  fi
  log "$name: up to ${limit}s: $*"
  smi_trace "before-$name"
  local t0 t1 rc
  t0=$(date +%s.%N)
  timeout -k 10 "$limit" "$@" >"$outfile" 2>"$raw/$name.log"
  rc=$?
  t1=$(date +%s.%N)
  smi_trace "after-$name"
  local secs
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}')
  printf '%s\t%s\t%s\t%s\n' "$name" "$rc" "$secs" "$*" >>"$steps"
  if [ "$rc" -eq 124 ]; then log "$name: TIMED OUT after ${limit}s"; else log "$name: rc=$rc in ${secs}s"; fi
  pack
  return "$rc"
}

# --- the machine ------------------------------------------------------------------------------
if [ -n "${CUDA_VISIBLE_DEVICES:-}" ]; then
  ngpus=$(echo "$CUDA_VISIBLE_DEVICES" | tr ',' '\n' | grep -c .)
else
  ngpus=$(timeout 30 nvidia-smi -L 2>/dev/null | grep -c '^GPU ')
fi
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"; echo "uname: $(uname -a)"; echo "gpus: $ngpus"
  echo "budget: ${budget}s  dlrig: $dlrig  refs: $refs"
  echo "--- env"; env | grep -E '^(NCCL|CUDA|TORCH|NVSHMEM|LD_LIBRARY_PATH|PATH)' | sort
  echo "--- nvidia-smi"; timeout 30 nvidia-smi 2>&1
  echo "--- nvidia-smi topo -m"; timeout 30 nvidia-smi topo -m 2>&1
  echo "--- nvidia-smi -q (clocks, power, performance)"; timeout 30 nvidia-smi -q -d CLOCK,POWER,PERFORMANCE 2>&1 | head -200
  echo "--- dlrig"; timeout 10 "$dlrig" --version 2>&1 | head -3
} >"$raw/env.txt" 2>&1
log "$ngpus GPU(s); raw files in $raw"

# --- the reference binaries -------------------------------------------------------------------
refbin=""
if [ -x "$refs/bin/nvbandwidth" ] || [ -x "$refs/bin/all_reduce_perf" ]; then
  refbin="$refs/bin"
else
  for tarball in "$refs"/*.tar.xz "$refs-xz"/*.tar.xz "$repo"/build-refs-xz/*.tar.xz; do
    [ -f "$tarball" ] || continue
    case "$tarball" in */fio-bin.tar.xz) continue ;; esac  # the storage step's, unpacked there
    mkdir -p "$work/refs" && tar -xJf "$tarball" -C "$work/refs" && refbin="$work/refs"
    [ -x "$refbin/nvbandwidth" ] || [ -x "$refbin/bin/nvbandwidth" ] && break
  done
  [ -n "$refbin" ] && [ -d "$refbin/bin" ] && refbin="$refbin/bin"
fi
if [ -n "$refbin" ]; then log "reference binaries: $refbin"; else log "reference binaries: NOT FOUND under $refs"; fi
if [ -n "$refbin" ] && [ -f "$refbin/../MANIFEST.txt" ]; then cp "$refbin/../MANIFEST.txt" "$raw/refs-MANIFEST.txt"; fi

# nccl-tests and dlrig link libnccl.so.2 at run time: give both the NCCL of the torch wheel
# (nvidia-nccl-cu13), the one PyTorch uses, so all three compare on the same library.
# wheel_lib_dir PATTERN: the folder of a torch wheel's library (site-packages/nvidia/*/lib).
wheel_lib_dir() {
  python3 - "$1" 2>/dev/null <<'EOF'
import glob, os, sys
try:
    import nvidia
    roots = list(getattr(nvidia, "__path__", []))
except Exception:
    roots = []
for root in roots:
    hits = sorted(glob.glob(os.path.join(root, "*", "lib", sys.argv[1])))
    if hits:
        print(os.path.dirname(hits[0]))
        break
EOF
}
if [ -z "$nccl_lib" ]; then
  nccl_lib=$(wheel_lib_dir 'libnccl.so.2')
  if [ -z "$nccl_lib" ]; then
    found=$(find /opt/torch/.venv -name 'libnccl.so.2' 2>/dev/null | head -1)
    [ -n "$found" ] && nccl_lib=$(dirname "$found")
  fi
fi
if [ -n "$nccl_lib" ] && [ "$nccl_lib" != system ]; then
  export LD_LIBRARY_PATH="$nccl_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  log "libnccl.so.2 from $nccl_lib"
else
  nccl_lib=system
  log "nccl-tests and dlrig use the loader's default libnccl.so.2"
fi
if [ "$torch_cublas" = 1 ]; then
  cublas_lib=$(wheel_lib_dir 'libcublasLt.so.*')
  if [ -n "$cublas_lib" ]; then
    export LD_LIBRARY_PATH="$cublas_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    log "cuBLASLt for dlrig from $cublas_lib"
  else
    log "torch wheel cuBLASLt not found: dlrig loads its own"
  fi
fi
{
  echo "nccl_lib: $nccl_lib"; echo "LD_LIBRARY_PATH (steps): ${LD_LIBRARY_PATH:-}"
  echo "--- libraries the steps can load"
  lib_path=${LD_LIBRARY_PATH:-}
  for d in ${lib_path//:/ }; do ls -l "$d"/libnccl.so* "$d"/libcublasLt.so* 2>/dev/null; done
  ldconfig -p 2>/dev/null | grep -E 'libnccl\.so|libcublasLt\.so|libcuda\.so\.1|libnvidia-ml\.so\.1'
  echo "--- pip"; timeout 60 python3 -m pip list 2>/dev/null | grep -i -E '^(torch|nvidia-nccl|nvidia-cublas)'
} >>"$raw/env.txt" 2>&1
pack

# --- (a) dlrig bench ----------------------------------------------------------------------------
dlrig_json=""
if ! skipped dlrig; then
  if [ -x "$dlrig" ]; then
    # shellcheck disable=SC2086 # dlrig_args is a word list on purpose
    run_step dlrig-bench "${T_DLRIG:-240}" "$raw/dlrig-bench.json" "$dlrig" bench --json $dlrig_args
    dlrig_json="$raw/dlrig-bench.json"
  else
    log "dlrig binary not found at $dlrig"; echo "not found: $dlrig" >"$raw/dlrig-bench.log"
  fi
fi

# --- (b) PyTorch --------------------------------------------------------------------------------
torch_json=""
if ! skipped torch; then
  # shellcheck disable=SC2086
  run_step torch-ref "${T_TORCH:-150}" "$raw/torch-ref.stdout" \
    python3 "$here/bench-torch-ref.py" -o "$raw/torch-ref.json" $torch_args
  torch_json="$raw/torch-ref.json"
fi

# --- (c) nvbandwidth ----------------------------------------------------------------------------
nvb_json=""
if ! skipped nvbandwidth && [ -n "$refbin" ] && [ -x "$refbin/nvbandwidth" ]; then
  tests=(host_to_device_memcpy_ce device_to_host_memcpy_ce)
  [ "$ngpus" -ge 2 ] && tests+=(device_to_device_memcpy_write_ce device_to_device_bidirectional_memcpy_write_ce)
  # One -t with several names: boost's vector option refuses -t given twice.
  run_step nvbandwidth "${T_NVB:-90}" "$raw/nvbandwidth.json" "$refbin/nvbandwidth" -j -t "${tests[@]}"
  nvb_json="$raw/nvbandwidth.json"
fi

# --- (d) nccl-tests -----------------------------------------------------------------------------
nccl_args=()
if ! skipped nccl && [ "$ngpus" -ge 2 ] && [ -n "$refbin" ]; then
  for spec in "all_reduce:${T_NCCL_AR:-120}:-b 8M -e 8G -f 4" \
              "all_gather:${T_NCCL_AG:-60}:-b 8G -e 8G" \
              "reduce_scatter:${T_NCCL_RS:-60}:-b 8G -e 8G"; do
    coll=${spec%%:*}; rest=${spec#*:}; max=${rest%%:*}; sizes=${rest#*:}
    bin="$refbin/${coll}_perf"
    if [ ! -x "$bin" ]; then log "$bin missing"; continue; fi
    # shellcheck disable=SC2086 # sizes is a word list
    run_step "nccl-$coll" "$max" "$raw/nccl-$coll.txt" \
      "$bin" $sizes -g "$ngpus" -J "$raw/nccl-$coll.json"
    nccl_args+=(--nccl "$coll=$raw/nccl-$coll.txt")
  done
elif [ "$ngpus" -lt 2 ]; then
  log "nccl-tests: waived, needs 2 or more GPUs"
fi

# --- (e) storage: dlrig bench storage beside fio (libaio), same parameters --------------------
storage_json=""
if ! skipped storage; then
  if [ -z "$fio_bin" ]; then
    for cand in "$refs/bin/fio" "$refbin/fio"; do
      [ -n "$cand" ] && [ -x "$cand" ] && { fio_bin=$cand; break; }
    done
  fi
  if [ -z "$fio_bin" ]; then
    for tarball in "$refs"/fio-bin.tar.xz "$refs-xz"/fio-bin.tar.xz "$repo"/build-refs-xz/fio-bin.tar.xz; do
      [ -f "$tarball" ] || continue
      mkdir -p "$work/fio" && tar -xJf "$tarball" -C "$work/fio" && [ -x "$work/fio/fio/fio" ] &&
        { fio_bin="$work/fio/fio/fio"; cp "$work/fio/fio/MANIFEST.txt" "$raw/fio-MANIFEST.txt" 2>/dev/null; break; }
    done
  fi
  [ -z "$fio_bin" ] && fio_bin=$(command -v fio 2>/dev/null)
  # O_DIRECT needs a disk: a tmpfs /tmp sends the default directory elsewhere.
  fstype_of() { findmnt -n -o FSTYPE -T "$1" 2>/dev/null | head -1; }
  mkdir -p "$storage_dir" 2>/dev/null
  if [ "$storage_dir_given" = 0 ]; then
    for cand in "$storage_dir" /var/tmp/dlrig-storage "$repo/.dlrig-storage"; do
      mkdir -p "$cand" 2>/dev/null || continue
      case "$(fstype_of "$cand")" in tmpfs|ramfs) log "storage: $cand is on $(fstype_of "$cand"), not a disk"; continue ;; esac
      storage_dir=$cand; break
    done
  fi
  {
    echo "storage dir: $storage_dir"; echo "fio: ${fio_bin:-NOT FOUND} $( [ -n "$fio_bin" ] && "$fio_bin" --version 2>&1)"
    echo "--- df -h"; df -h "$storage_dir" 2>&1
    echo "--- df -i"; df -i "$storage_dir" 2>&1
    echo "--- findmnt -T"; findmnt -T "$storage_dir" 2>&1
    echo "--- lsblk"; timeout 10 lsblk -o NAME,TYPE,SIZE,ROTA,MODEL,TRAN,MOUNTPOINTS 2>&1 || timeout 10 lsblk 2>&1
    echo "--- queue"; for q in /sys/block/*/queue; do
      case $q in /sys/block/loop*|/sys/block/ram*|/sys/block/zram*) continue ;; esac
      echo "$q: scheduler $(cat "$q/scheduler" 2>/dev/null) nr_requests $(cat "$q/nr_requests" 2>/dev/null) max_sectors_kb $(cat "$q/max_sectors_kb" 2>/dev/null)"
    done
  } >"$raw/storage-disk.txt" 2>&1
  if [ ! -x "$dlrig" ]; then
    log "storage: dlrig binary not found at $dlrig"; echo "not found: $dlrig" >"$raw/storage.log"
  elif [ -z "$fio_bin" ]; then
    log "storage: fio not found (build-refs-xz/fio-bin.tar.xz, --fio, or PATH)"
    echo "fio not found" >"$raw/storage.log"
    storage_json="$raw/storage.json"
    echo '{"error": "fio not found (build-refs-xz/fio-bin.tar.xz, --fio, or PATH)"}' >"$storage_json"
  else
    log "storage: $storage_dir ($(fstype_of "$storage_dir")), fio $fio_bin"
    storage_json="$raw/storage.json"
    run_step storage "${T_STORAGE:-300}" "$raw/storage.txt" \
      env FIO="$fio_bin" DLRIG="$dlrig" PROFILE="${STORAGE_PROFILE:-default}" \
      REPS="${STORAGE_REPS:-2}" JSON_OUT="$storage_json" \
      bash "$here/bench-storage.sh" "$storage_dir" ${STORAGE_SECONDS:-}
    rmdir "$storage_dir" 2>/dev/null  # both tools remove their files; keep a dir that is not empty
  fi
fi

# --- dlrig bench --quick, wall time against the 60 s goal ------------------------------------
quick_args=()
if [ "$quick_too" = 1 ] && ! skipped dlrig && [ -x "$dlrig" ]; then
  if run_step dlrig-bench-quick "${T_QUICK:-75}" "$raw/dlrig-bench-quick.json" "$dlrig" bench --quick --json; then
    quick_args=(--quick-seconds "$(awk -F'\t' '$1 == "dlrig-bench-quick" {s = $3} END {print s}' "$steps")")
  fi
fi

# --- the table ----------------------------------------------------------------------------------
cmp_args=()
[ -n "$dlrig_json" ] && cmp_args+=(--dlrig "$dlrig_json")
[ -n "$torch_json" ] && cmp_args+=(--torch "$torch_json")
[ -n "$nvb_json" ] && cmp_args+=(--nvbandwidth "$nvb_json")
[ -n "$storage_json" ] && cmp_args+=(--storage "$storage_json")
python3 "$here/bench_compare_refs.py" "${cmp_args[@]}" "${nccl_args[@]}" "${quick_args[@]}" \
  --steps "$steps" --json-out "$outdir/compare.json" >"$outdir/compare.txt" 2>"$raw/compare.log"
cmp_rc=$?
cp "$outdir/compare.txt" "$outdir/compare.json" "$raw/" 2>/dev/null
pack
echo "--- steps (rc 124 = timed out)"
column -t -s $'\t' "$steps" 2>/dev/null || cat "$steps"
echo "--- comparison (${ngpus} GPU(s), $(( $(date +%s) - start ))s; raw: $outdir/bench-compare-raw.tgz)"
cat "$outdir/compare.txt"
[ -s "$raw/compare.log" ] && { echo "--- compare.log"; tail -20 "$raw/compare.log"; }
# 0: every goal met or not judged; 1: a goal missed; 2: the comparison itself failed.
[ "$cmp_rc" -le 1 ] && exit "$cmp_rc" || exit 2
