// Copy kernels for Ampere and later (compiled for compute_80, loaded only on such GPUs): loads
// that skip L1 and ask L2 to fetch 256 bytes at a time, which keeps more of HBM's bursts in
// flight per request than the compute_75 kernels can ask for.
#include "common.cuh"

using namespace dlrig_kernels;

namespace {

__device__ __forceinline__ int4 LoadWide(const int4* p) {
  int4 v;
  asm volatile("ld.global.L1::no_allocate.L2::256B.v4.s32 {%0, %1, %2, %3}, [%4];"
               : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
               : "l"(p));
  return v;
}

template <int U, bool kStreamingStore>
__device__ __forceinline__ void CopyTilesWide(const int4* __restrict__ src, int4* __restrict__ dst, size_t n) {
  size_t tile = static_cast<size_t>(blockDim.x) * U;
  for (size_t base = static_cast<size_t>(blockIdx.x) * tile; base < n; base += static_cast<size_t>(gridDim.x) * tile) {
    int4 v[U];
#pragma unroll
    for (int k = 0; k < U; ++k) {
      size_t i = base + threadIdx.x + static_cast<size_t>(k) * blockDim.x;
      if (i < n) v[k] = LoadWide(src + i);
    }
#pragma unroll
    for (int k = 0; k < U; ++k) {
      size_t i = base + threadIdx.x + static_cast<size_t>(k) * blockDim.x;
      if (i < n) {
        if (kStreamingStore) {
          __stcs(dst + i, v[k]);
        } else {
          dst[i] = v[k];
        }
      }
    }
  }
}

}  // namespace

extern "C" __global__ void dlrig_copy_wide8(const int4* __restrict__ src, int4* __restrict__ dst, size_t n) {
  CopyTilesWide<8, true>(src, dst, n);
}

extern "C" __global__ void dlrig_copy_wide16(const int4* __restrict__ src, int4* __restrict__ dst, size_t n) {
  CopyTilesWide<16, true>(src, dst, n);
}

extern "C" __global__ void dlrig_copy_wide8_plain(const int4* __restrict__ src, int4* __restrict__ dst, size_t n) {
  CopyTilesWide<8, false>(src, dst, n);
}
