// gpu-burn's check (wilicc/gpu-burn compare.cu): every result slot holds the same product, so
// each element of slot i must equal slot 0's; one that differs beyond the tolerance is a fault
// of the GPU. Slot 0 is read once per element and compared with every other slot; each thread
// adds its count to the device counter once.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "common.cuh"

using namespace dlrig_kernels;

namespace {

// Faulty unless |a - ref| <= eps * max(1, |ref|); NaN anywhere is faulty.
__device__ __forceinline__ bool Differs(double ref, double a, double eps) {
  double scale = fabs(ref) > 1.0 ? fabs(ref) : 1.0;
  return !(fabs(a - ref) <= eps * scale);
}

__device__ __forceinline__ bool Differs(float ref, float a, float eps) {
  float scale = fabsf(ref) > 1.0f ? fabsf(ref) : 1.0f;
  return !(fabsf(a - ref) <= eps * scale);
}

__device__ __forceinline__ double Widen(double v) { return v; }
__device__ __forceinline__ float Widen(float v) { return v; }
__device__ __forceinline__ float Widen(__half v) { return __half2float(v); }
__device__ __forceinline__ float Widen(__nv_bfloat16 v) { return __bfloat162float(v); }

template <class T, class Acc>
__device__ void Compare(const T* slots, size_t per_slot, int slot_count, Acc eps,
                        unsigned long long* faults) {
  unsigned long long mine = 0;
  for (size_t e = GlobalThread(); e < per_slot; e += GridThreads()) {
    Acc ref = Widen(slots[e]);
    for (int s = 1; s < slot_count; ++s) {
      Acc v = Widen(slots[static_cast<size_t>(s) * per_slot + e]);
      if (Differs(ref, v, eps)) ++mine;
    }
  }
  if (mine) atomicAdd(faults, mine);
}

}  // namespace

extern "C" __global__ void dlrig_burn_compare_f64(const double* slots, size_t per_slot,
                                                  int slot_count, double eps,
                                                  unsigned long long* faults) {
  Compare<double, double>(slots, per_slot, slot_count, eps, faults);
}

extern "C" __global__ void dlrig_burn_compare_f32(const float* slots, size_t per_slot,
                                                  int slot_count, float eps,
                                                  unsigned long long* faults) {
  Compare<float, float>(slots, per_slot, slot_count, eps, faults);
}

extern "C" __global__ void dlrig_burn_compare_f16(const __half* slots, size_t per_slot,
                                                  int slot_count, float eps,
                                                  unsigned long long* faults) {
  Compare<__half, float>(slots, per_slot, slot_count, eps, faults);
}

extern "C" __global__ void dlrig_burn_compare_bf16(const __nv_bfloat16* slots, size_t per_slot,
                                                   int slot_count, float eps,
                                                   unsigned long long* faults) {
  Compare<__nv_bfloat16, float>(slots, per_slot, slot_count, eps, faults);
}
