#!/usr/bin/env bash
# Run on a GPU machine with the carried binary: dlrig's inventory beside nvidia-smi's and
# PyTorch's view of the same machine, plus doctor's speed there. Results go to $OUT (or ./out).
# Usage: scripts/gpu-validate.sh [path/to/dlrig]
set -uo pipefail
dlrig=${1:-./build/dlrig}
out=${OUT:-./out}
mkdir -p "$out"
{
  echo "== date: $(date -u +%FT%TZ)"; uname -a
  echo "== ldd"; ldd "$dlrig"
  echo "== newest GLIBC symbol"; objdump -T "$dlrig" | grep -o 'GLIBC_[0-9.]*' | sort -V | tail -1
} >"$out/env.txt" 2>&1
"$dlrig" doctor --no-color >"$out/doctor.txt" 2>&1; echo "doctor exit $?" >>"$out/env.txt"
"$dlrig" doctor --json >"$out/doctor.json" 2>>"$out/env.txt"
nvidia-smi -q -x >"$out/nvidia-smi-q.xml" 2>&1
python3 - >"$out/torch.json" 2>&1 <<'PY'
import json, os, torch
info = {"torch": torch.__version__, "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version(), "device_count": torch.cuda.device_count(),
        "devices": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())],
        "capability": [list(torch.cuda.get_device_capability(i)) for i in range(torch.cuda.device_count())],
        "driver_cuda": torch._C._cuda_getDriverVersion() if hasattr(torch._C, "_cuda_getDriverVersion") else None,
        "torch_file": torch.__file__, "nccl": list(torch.cuda.nccl.version())}
maps = open("/proc/self/maps").read().splitlines()
info["loaded"] = sorted({l.split()[-1] for l in maps if any(k in l for k in ("libcudart", "libcudnn.so", "libnccl", "libcuda.so", "libcublas.so"))})
print(json.dumps(info, indent=1))
PY
{
  for i in 1 2 3 4 5 6 7 8 9; do
    s=$(date +%s%N); "$dlrig" doctor --json >/dev/null 2>&1; e=$(date +%s%N)
    echo "doctor_wall_ms $(( (e - s) / 1000000 ))"
  done
  /usr/bin/time -v "$dlrig" doctor --json 2>&1 >/dev/null | grep -E 'Maximum resident|Elapsed'
  for i in 1 2 3 4 5; do
    s=$(date +%s%N); "$dlrig" doctor --json --no-dlopen >/dev/null 2>&1; e=$(date +%s%N)
    echo "doctor_no_dlopen_wall_ms $(( (e - s) / 1000000 ))"
  done
  for i in 1 2 3; do
    s=$(date +%s%N); nvidia-smi >/dev/null; e=$(date +%s%N); echo "nvidia_smi_wall_ms $(( (e - s) / 1000000 ))"
    s=$(date +%s%N); nvidia-smi -q -x >/dev/null; e=$(date +%s%N); echo "nvidia_smi_q_x_wall_ms $(( (e - s) / 1000000 ))"
  done
  for i in 1 2 3 4 5 6 7 8 9; do
    s=$(date +%s%N); "$dlrig" gpus --json >/dev/null 2>&1; e=$(date +%s%N)
    echo "gpus_wall_ms $(( (e - s) / 1000000 ))"
  done
  python3 -c 'import json,sys; print("timings_ms", json.load(open(sys.argv[1]))["timings_ms"])' "$out/doctor.json"
} >"$out/speed.txt" 2>&1
"$dlrig" capture -o "$out/capture.tar.gz" >>"$out/env.txt" 2>&1
# What the driver query reports when the stack is broken on purpose (no GPU hidden for real).
{
  echo "== CUDA_VISIBLE_DEVICES=''"
  # the driver answers and, indented under each, every call that failed
  CUDA_VISIBLE_DEVICES= "$dlrig" doctor --no-color | sed -n '/^user-space driver/,/^toolkits/p' |
    grep -vE '^  (file|libcuda.so.1|libnvidia-ml.so.1) '
  echo "== DLRIG_CUDA_LIBRARY=/nonexistent/libcuda.so.1"
  DLRIG_CUDA_LIBRARY=/nonexistent/libcuda.so.1 "$dlrig" doctor --no-color | grep -E '^  libcuda  '
} >"$out/broken.txt" 2>&1
ls -la "$out"
python3 "$(dirname "$0")/compare-inventory.py" "$out/doctor.json" "$out/nvidia-smi-q.xml" \
  "$out/torch.json" | tee "$out/compare.txt"
# dlrig gpus beside nvidia-smi -q -x taken right after it.
"$dlrig" gpus --json >"$out/gpus.json" 2>>"$out/env.txt"
nvidia-smi -q -x >"$out/nvidia-smi-q-after-gpus.xml" 2>&1
python3 "$(dirname "$0")/compare-gpus.py" "$out/gpus.json" "$out/nvidia-smi-q-after-gpus.xml" |
  tee -a "$out/compare.txt"
