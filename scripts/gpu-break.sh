#!/usr/bin/env bash
# On a GPU machine: break the stack on purpose, one way at a time, and put what dlrig predicts
# (nothing imported) beside what `import torch` really does in the same state.
# Usage: scripts/gpu-break.sh [path/to/dlrig] [python-with-torch]   Results: $OUT/break.txt
set -uo pipefail
dlrig=$(realpath "${1:-./build/dlrig}")
py=${2:-python3}
out=${OUT:-./out}
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# What torch does: the CUDA libraries it mapped, or the exception it raised.
torch_probe() {
  "$@" - <<'PY' 2>&1 | tail -4
import json
try:
    import torch
    n = torch.cuda.device_count()
    ok = torch.cuda.is_available()
    cudnn = None
    if ok:
        torch.zeros(1, device="cuda")
        try:  # the first cuDNN use runs torch's own runtime-vs-compile version check
            cudnn = {"runtime": torch.backends.cudnn.version(),
                     "compiled": list(torch._C._cudnn.getCompileVersion())}
        except Exception as e:
            cudnn = {"error": f"{type(e).__name__}: {e}"[:300]}
    maps = {l.split()[-1] for l in open("/proc/self/maps") if "libcudart" in l or "libcudnn.so" in l or "libnccl" in l}
    print(json.dumps({"import": "ok", "is_available": ok, "device_count": n,
                      "cudnn": cudnn, "mapped": sorted(maps)}))
except Exception as e:
    print(json.dumps({"import": "failed", "error": f"{type(e).__name__}: {e}"[:400]}))
PY
}

# What dlrig says: root findings (and consequences) and the CUDA libraries it predicts.
cat >"$work/findings.py" <<'PY'
import json, sys
d = json.load(sys.stdin)
for f in d["findings"]:
    cause = " <- " + f["caused_by"] if f.get("caused_by") else ""
    print("  %-8s %s%s: %s" % (f["severity"], f["id"], cause, f["title"]))
    for e in f.get("evidence", [])[:4]:
        print("             evidence:", e)
if not d["findings"]:
    print("  (no findings)")
for e in d["python"]["environments"]:
    for fw in e.get("frameworks", []):
        for l in fw.get("loads", []):
            print("  predicts", fw["name"], "in", e["prefix"], l["soname"], "->", l.get("path"), "(%s)" % l.get("step"))
PY
dlrig_findings() { "$dlrig" doctor --json "$@" | python3 "$work/findings.py"; }

prefix=$("$py" -c 'import sys; print(sys.prefix)')
site=$("$py" -c 'import torch, os; print(os.path.dirname(os.path.dirname(torch.__file__)))')
{
  echo "== date $(date -u +%FT%TZ); python $py (prefix $prefix); site-packages $site"
  echo
  echo "== 1. as installed"
  echo "torch:"; torch_probe "$py"
  echo "dlrig:"; dlrig_findings --env "$prefix"

  echo
  echo "== 2. CUDA_VISIBLE_DEVICES=''"
  echo "torch:"; CUDA_VISIBLE_DEVICES= torch_probe "$py"
  echo "dlrig:"; CUDA_VISIBLE_DEVICES= dlrig_findings --env "$prefix"

  # An older CUDA runtime of the same soname first in LD_LIBRARY_PATH (copied out of the
  # toolkit or wheel that has one); torch's DT_RPATH (cu13 wheels) is searched before it.
  old=$(ls /usr/local/cuda-*/lib64/libcudart.so.1[0-9].* 2>/dev/null | head -1)
  if [ -n "$old" ]; then
    mkdir -p "$work/oldcudart"
    cp "$old" "$work/oldcudart/"
    ln -s "$(basename "$old")" "$work/oldcudart/$(basename "$old" | sed -E 's/(\.so\.[0-9]+).*/\1/')"
    echo
    echo "== 3. LD_LIBRARY_PATH=$work/oldcudart ($(ls "$work/oldcudart" | tr '\n' ' '))"
    echo "torch:"; LD_LIBRARY_PATH=$work/oldcudart torch_probe "$py"
    echo "dlrig:"; LD_LIBRARY_PATH=$work/oldcudart dlrig_findings --env "$prefix"
  fi

  # A venv whose torch lacks one of its nvidia-* wheels (cuDNN): torch copied, the rest linked.
  v=$work/venv
  "$py" -m venv --without-pip "$v" >/dev/null 2>&1
  vsite=$(ls -d "$v"/lib/python3*/site-packages)
  for e in "$site"/*; do
    name=$(basename "$e")
    case "$name" in
      torch) cp -a "$e" "$vsite/" ;;
      nvidia) mkdir "$vsite/nvidia"; for n in "$e"/*; do [ "$(basename "$n")" = cudnn ] || ln -s "$n" "$vsite/nvidia/"; done ;;
      nvidia_cudnn*) ;;
      *) ln -s "$e" "$vsite/$name" ;;
    esac
  done
  echo
  echo "== 4. venv without nvidia-cudnn ($v)"
  echo "torch:"; torch_probe "$v/bin/python"
  echo "dlrig:"; dlrig_findings --env "$v"

  echo
  echo "== 5. GPU code in libtorch_cuda.so: dlrig's fatbin scan, cuobjdump, torch.cuda.get_arch_list()"
  lib=$site/torch/lib/libtorch_cuda.so
  echo "$(stat -c '%s bytes' "$lib") $lib"
  echo "dlrig:"; "$dlrig" doctor --json --env "$prefix" | python3 -c '
import json, sys
for e in json.load(sys.stdin)["python"]["environments"]:
    for fw in e.get("frameworks", []):
        if fw.get("kernels"): print("  ", e["prefix"], fw["kernels"])'
  cuobjdump=$(command -v cuobjdump || ls /usr/local/cuda*/bin/cuobjdump 2>/dev/null | head -1)
  if [ -n "$cuobjdump" ]; then
    s=$(date +%s%N)
    echo "cuobjdump sass: $(timeout 300 "$cuobjdump" --list-elf "$lib" 2>/dev/null | grep -oE 'sm_[0-9]+[af]?' | sort -uV | tr '\n' ' ')"
    echo "cuobjdump ptx:  $(timeout 300 "$cuobjdump" --list-ptx "$lib" 2>/dev/null | grep -oE 'sm_[0-9]+[af]?' | sort -uV | tr '\n' ' ')"
    echo "cuobjdump took $(( ($(date +%s%N) - s) / 1000000 )) ms for both lists"
  fi
  echo "torch:"; "$py" -c 'import torch; print("  ", torch.cuda.get_arch_list())'
} >"$out/break.txt" 2>&1
cat "$out/break.txt"
