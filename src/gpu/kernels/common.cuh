// Shared by the device kernels in this directory (compiled to PTX, see CMakeLists.txt).
#pragma once

#include <stdint.h>

namespace dlrig_kernels {

// The GPU's nanosecond timer, for timeouts inside kernels that wait on the host.
__device__ __forceinline__ unsigned long long GlobalTimer() {
  unsigned long long t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}

// SplitMix64 (Steele, Lea, Flood 2014): a counter-based generator, so that every element's
// value depends only on (seed, index) and any grid shape gives the same data.
__device__ __forceinline__ uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

__device__ __forceinline__ size_t GlobalThread() {
  return static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}

__device__ __forceinline__ size_t GridThreads() {
  return static_cast<size_t>(gridDim.x) * blockDim.x;
}

}  // namespace dlrig_kernels
