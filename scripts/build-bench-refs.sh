#!/usr/bin/env bash
# Builds the reference tools that scripts/bench-gpu-compare.sh runs beside `dlrig bench`:
# NVIDIA/nvbandwidth and NVIDIA/nccl-tests (all_reduce, all_gather, reduce_scatter), for sm_90
# plus compute_90 PTX, on a machine with the CUDA 13.0 toolkit and no GPU. Their sources are
# never committed here: check them out elsewhere and pass the folders.
#
# Output (ignored by git through /build-*/; carry it to the GPU machine):
#   build-refs/bin/{nvbandwidth,all_reduce_perf,all_gather_perf,reduce_scatter_perf}  stripped
#   build-refs/MANIFEST.txt      source commits, toolchain, build commands, sizes
#   build-refs-xz/refs-bin.tar.xz  the same, packed (about 2 MB instead of 22 MB)
#
# nvbandwidth: CUDA runtime, Boost.program_options, libstdc++ and libgcc linked statically; it
# needs libcuda.so.1 and libnvidia-ml.so.1 (the driver's) and glibc. nvml.h comes from the
# nvidia-nvml-dev wheel; libnvidia-ml is linked against a stub made here (SONAME
# libnvidia-ml.so.1) because the toolkit ships no NVML stub.
# nccl-tests: MPI=0, CUDA runtime static, libnccl.so.2 dynamic (nccl.h of the toolkit at
# build time; on the GPU machine LD_LIBRARY_PATH picks the NCCL to use).
#
# Usage: [FIO_SRC=DIR] scripts/build-bench-refs.sh NVBANDWIDTH_SRC NCCL_TESTS_SRC NVML_INCLUDE_DIR [WORK_DIR]
#   needs: apt-get install libboost-program-options-dev; nvml.h from
#   `pip download --no-deps nvidia-nvml-dev==13.0.*` (unzip nvidia/cu13/include/nvml.h).
set -euo pipefail

nvb_src=$(cd "$1" && pwd)
nt_src=$(cd "$2" && pwd)
nvml_inc=$(cd "$3" && pwd)
work=${4:-/tmp/bench-refs-build}
repo=$(cd "$(dirname "$0")/.." && pwd)
cuda=${CUDA_HOME:-/usr/local/cuda}
jobs=${JOBS:-2}
out="$repo/build-refs"
mkdir -p "$work" "$out/bin" "$repo/build-refs-xz"
export PATH="$cuda/bin:$PATH"

# Link-time NVML stub: the five entry points nvbandwidth calls (nm -u on its objects).
mkdir -p "$work/nvml-stub"
cat >"$work/nvml-stub/stub.c" <<'EOF'
int nvmlDeviceGetHandleByUUID(void) { return 999; }
int nvmlDeviceSetCpuAffinity(void) { return 999; }
const char* nvmlErrorString(void) { return "stub"; }
int nvmlInit_v2(void) { return 999; }
int nvmlSystemGetDriverVersion(void) { return 999; }
EOF
gcc -shared -fPIC -Wl,-soname,libnvidia-ml.so.1 -o "$work/nvml-stub/libnvidia-ml.so" \
  "$work/nvml-stub/stub.c"

nvb_cmd=(cmake -S "$nvb_src" -B "$work/nvbandwidth" -G Ninja -DCMAKE_BUILD_TYPE=Release
  -DCMAKE_CUDA_ARCHITECTURES=90 "-DCMAKE_CUDA_COMPILER=$cuda/bin/nvcc"
  -DCMAKE_CUDA_RUNTIME_LIBRARY=Static
  "-DCMAKE_CXX_FLAGS=-I$nvml_inc" "-DCMAKE_CUDA_FLAGS=-I$nvml_inc"
  "-DCMAKE_EXE_LINKER_FLAGS=-L$cuda/lib64/stubs -L$work/nvml-stub -static-libstdc++ -static-libgcc")
"${nvb_cmd[@]}" >/dev/null
cmake --build "$work/nvbandwidth" -j"$jobs"
strip -o "$out/bin/nvbandwidth" "$work/nvbandwidth/nvbandwidth"

nt_build="$work/nccl-tests"
nt_cmd=(make -C "$nt_src/src" -j"$jobs" MPI=0 "NCCL_HOME=$cuda" CUDARTLIB=cudart_static
  "NVCC_GENCODE=-gencode=arch=compute_90,code=[sm_90,compute_90]" "BUILDDIR=$nt_build"
  os.build "$nt_build/all_reduce_perf" "$nt_build/all_gather_perf" "$nt_build/reduce_scatter_perf")
NVCC_APPEND_FLAGS='-Xcompiler=-static-libstdc++,-static-libgcc' "${nt_cmd[@]}"
for b in all_reduce_perf all_gather_perf reduce_scatter_perf; do
  strip -o "$out/bin/$b" "$nt_build/$b"
done

commit_of() { git -C "$1" rev-parse HEAD 2>/dev/null || cat "$1/.source-commit" 2>/dev/null || echo unknown; }
{
  echo "reference tools for scripts/bench-gpu-compare.sh, built $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "nvbandwidth source: NVIDIA/nvbandwidth $(commit_of "$nvb_src")"
  echo "nccl-tests source:  NVIDIA/nccl-tests $(commit_of "$nt_src")"
  echo "nvcc: $(nvcc --version | grep release)"
  echo "host: $(gcc --version | head -1); $(ldd --version | head -1)"
  grep -E '#define NCCL_(MAJOR|MINOR|PATCH) ' "$cuda/include/nccl.h" | awk '{printf "%s=%s ", $2, $3} END {print "(nccl.h at build time)"}'
  echo "nvbandwidth: ${nvb_cmd[*]}; cmake --build"
  echo "nccl-tests: NVCC_APPEND_FLAGS='-Xcompiler=-static-libstdc++,-static-libgcc' ${nt_cmd[*]}"
  echo "--- binaries (stripped)"
  for b in "$out"/bin/*; do
    printf '%s %s bytes; needs: %s; newest glibc symbol: %s\n' "$(basename "$b")" "$(stat -c %s "$b")" \
      "$(objdump -p "$b" | awk '/NEEDED/ {printf "%s ", $2}')" \
      "$(objdump -T "$b" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)"
  done
} >"$out/MANIFEST.txt"
tar -C "$out" -cf - bin MANIFEST.txt | xz -9e -T1 >"$repo/build-refs-xz/refs-bin.tar.xz"
cat "$out/MANIFEST.txt"
ls -l "$repo/build-refs-xz/refs-bin.tar.xz"

# fio for the storage comparison on machines that lack it (scripts/bench-storage.sh through the
# compare script's storage step): FIO_SRC=<axboe/fio checkout> builds it static with Debian's
# libaio.a (apt-get install libaio-dev), no optional engines, no -march=native, and packs
# build-refs-xz/fio-bin.tar.xz. fio is GPL-2.0: never committed, only carried.
if [[ -n ${FIO_SRC:-} ]]; then
  fio_src=$(cd "$FIO_SRC" && pwd)
  fio_flags=(--build-static --disable-native --disable-numa --disable-rdma --disable-rados
    --disable-rbd --disable-http --disable-gfapi --disable-pmem --disable-xnvme --disable-isal
    --disable-libblkio --disable-libzbc --disable-tcmalloc --disable-dfs)
  (cd "$fio_src" && ./configure "${fio_flags[@]}" >/dev/null && make -j"$jobs" >/dev/null)
  mkdir -p "$work/fio-pack/fio"
  strip -o "$work/fio-pack/fio/fio" "$fio_src/fio"
  {
    echo "fio $("$work/fio-pack/fio/fio" --version), built $(date -u +%Y-%m-%dT%H:%M:%SZ) from $(commit_of "$fio_src")"
    echo "configure: ${fio_flags[*]}"
    echo "binary: $(stat -c %s "$work/fio-pack/fio/fio") bytes, $(file -b "$work/fio-pack/fio/fio" | cut -d, -f1-2)"
  } >"$work/fio-pack/fio/MANIFEST.txt"
  tar -C "$work/fio-pack" -cf - fio | xz -9e -T1 >"$repo/build-refs-xz/fio-bin.tar.xz"
  cat "$work/fio-pack/fio/MANIFEST.txt"
fi
