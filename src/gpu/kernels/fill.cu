// Random input data generated on the device: N(0,1) for floating types (Box-Muller over two
// SplitMix64 uniforms), uniform over the whole range for bytes and int8. Random data matters:
// a GEMM on zeros draws less power and so runs at higher clocks than real work.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp8.h>

#include "common.cuh"

using namespace dlrig_kernels;

namespace {

__device__ __forceinline__ float Normal(uint64_t seed, size_t i) {
  uint64_t r = Mix(seed ^ Mix(i));
  // Two 24-bit uniforms in (0, 1].
  float u1 = (static_cast<float>(r & 0xffffff) + 1.0f) / 16777216.0f;
  float u2 = static_cast<float>((r >> 24) & 0xffffff) / 16777216.0f;
  return sqrtf(-2.0f * logf(u1)) * cospif(2.0f * u2);
}

}  // namespace

extern "C" __global__ void dlrig_fill_f64(double* p, size_t n, uint64_t seed) {
  for (size_t i = GlobalThread(); i < n; i += GridThreads()) p[i] = Normal(seed, i);
}

extern "C" __global__ void dlrig_fill_f32(float* p, size_t n, uint64_t seed) {
  for (size_t i = GlobalThread(); i < n; i += GridThreads()) p[i] = Normal(seed, i);
}

extern "C" __global__ void dlrig_fill_f16(__half* p, size_t n, uint64_t seed) {
  for (size_t i = GlobalThread(); i < n; i += GridThreads()) p[i] = __float2half_rn(Normal(seed, i));
}

extern "C" __global__ void dlrig_fill_bf16(__nv_bfloat16* p, size_t n, uint64_t seed) {
  for (size_t i = GlobalThread(); i < n; i += GridThreads()) p[i] = __float2bfloat16_rn(Normal(seed, i));
}

extern "C" __global__ void dlrig_fill_e4m3(__nv_fp8_storage_t* p, size_t n, uint64_t seed) {
  for (size_t i = GlobalThread(); i < n; i += GridThreads()) {
    p[i] = __nv_cvt_float_to_fp8(Normal(seed, i), __NV_SATFINITE, __NV_E4M3);
  }
}

extern "C" __global__ void dlrig_fill_u32(uint32_t* p, size_t n, uint64_t seed) {
  for (size_t i = GlobalThread(); i < n; i += GridThreads()) p[i] = static_cast<uint32_t>(Mix(seed ^ Mix(i)));
}
