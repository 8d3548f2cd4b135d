// Device-memory bandwidth kernels: 16-byte accesses, grid-stride loops unrolled four deep so
// that each thread keeps several loads in flight. Bytes moved = bytes read + bytes written.
#include "common.cuh"

using namespace dlrig_kernels;

extern "C" __global__ void dlrig_copy(const int4* __restrict__ src, int4* __restrict__ dst, size_t n) {
  size_t stride = GridThreads();
  size_t i = GlobalThread();
  for (; i + 3 * stride < n; i += 4 * stride) {
    int4 a = src[i], b = src[i + stride], c = src[i + 2 * stride], d = src[i + 3 * stride];
    dst[i] = a;
    dst[i + stride] = b;
    dst[i + 2 * stride] = c;
    dst[i + 3 * stride] = d;
  }
  for (; i < n; i += stride) dst[i] = src[i];
}

// The same copy in tiles: each block moves blockDim x U contiguous 16-byte words per pass, all
// loads of a thread issued before its stores, with streaming cache hints (the data is touched
// once, so it should not displace anything in L2). Launched with one block per tile, as
// PyTorch's elementwise kernels are, or fewer with the outer loop.
// One tile: the thread's U words loaded before any is stored.
template <int U, bool kStreaming>
__device__ __forceinline__ void CopyTile(const int4* __restrict__ src, int4* __restrict__ dst, size_t base,
                                         size_t end) {
  int4 v[U];
#pragma unroll
  for (int k = 0; k < U; ++k) {
    size_t i = base + threadIdx.x + static_cast<size_t>(k) * blockDim.x;
    if (i < end) v[k] = kStreaming ? __ldcs(src + i) : src[i];
  }
#pragma unroll
  for (int k = 0; k < U; ++k) {
    size_t i = base + threadIdx.x + static_cast<size_t>(k) * blockDim.x;
    if (i < end) {
      if (kStreaming) {
        __stcs(dst + i, v[k]);
      } else {
        dst[i] = v[k];
      }
    }
  }
}

template <int U, bool kStreaming = true>
__device__ __forceinline__ void CopyTiles(const int4* __restrict__ src, int4* __restrict__ dst, size_t n) {
  size_t tile = static_cast<size_t>(blockDim.x) * U;
  for (size_t base = static_cast<size_t>(blockIdx.x) * tile; base < n; base += static_cast<size_t>(gridDim.x) * tile) {
    CopyTile<U, kStreaming>(src, dst, base, n);
  }
}

// One word per thread and one block per tile of blockDim words: the shape of PyTorch's
// elementwise kernels. With 1024-thread blocks it beat every deeper tile and cudaMemcpy's own
// kernel on an H100 (docs/validation.md).
extern "C" __global__ void dlrig_copy_tile1(const int4* __restrict__ src, int4* __restrict__ dst, size_t n) {
  CopyTiles<1>(src, dst, n);
}

extern "C" __global__ void dlrig_copy_tile4(const int4* __restrict__ src, int4* __restrict__ dst, size_t n) {
  CopyTiles<4>(src, dst, n);
}

extern "C" __global__ void dlrig_copy_tile16(const int4* __restrict__ src, int4* __restrict__ dst, size_t n) {
  CopyTiles<16>(src, dst, n);
}

// Each block streams through one contiguous chunk of the arrays (n / gridDim words), tile by
// tile, instead of tiles interleaved across the whole grid: fewer DRAM pages open at once.
template <int U, bool kStreaming>
__device__ __forceinline__ void CopyChunk(const int4* __restrict__ src, int4* __restrict__ dst, size_t n) {
  size_t tile = static_cast<size_t>(blockDim.x) * U;
  size_t chunk = (n + gridDim.x - 1) / gridDim.x;
  chunk = (chunk + tile - 1) / tile * tile;
  size_t begin = static_cast<size_t>(blockIdx.x) * chunk;
  size_t end = begin + chunk < n ? begin + chunk : n;
  for (size_t base = begin; base < end; base += tile) CopyTile<U, kStreaming>(src, dst, base, end);
}

extern "C" __global__ void dlrig_copy_chunk8(const int4* __restrict__ src, int4* __restrict__ dst, size_t n) {
  CopyChunk<8, true>(src, dst, n);
}

extern "C" __global__ void dlrig_copy_chunk8_plain(const int4* __restrict__ src, int4* __restrict__ dst, size_t n) {
  CopyChunk<8, false>(src, dst, n);
}

// Without cache hints: which is faster depends on the GPU's L2 policy.
extern "C" __global__ void dlrig_copy_tile16_plain(const int4* __restrict__ src, int4* __restrict__ dst, size_t n) {
  CopyTiles<16, false>(src, dst, n);
}

extern "C" __global__ void dlrig_copy_tile8_plain(const int4* __restrict__ src, int4* __restrict__ dst, size_t n) {
  CopyTiles<8, false>(src, dst, n);
}

extern "C" __global__ void dlrig_copy_tile8(const int4* __restrict__ src, int4* __restrict__ dst, size_t n) {
  CopyTiles<8>(src, dst, n);
}

// STREAM's triad in tiles, as above.
template <int U>
__device__ __forceinline__ void TriadTiles(float4* __restrict__ a, const float4* __restrict__ b,
                                           const float4* __restrict__ c, float s, size_t n) {
  size_t tile = static_cast<size_t>(blockDim.x) * U;
  for (size_t base = static_cast<size_t>(blockIdx.x) * tile; base < n; base += static_cast<size_t>(gridDim.x) * tile) {
    float4 x[U], y[U];
#pragma unroll
    for (int k = 0; k < U; ++k) {
      size_t i = base + threadIdx.x + static_cast<size_t>(k) * blockDim.x;
      if (i < n) {
        x[k] = __ldcs(b + i);
        y[k] = __ldcs(c + i);
      }
    }
#pragma unroll
    for (int k = 0; k < U; ++k) {
      size_t i = base + threadIdx.x + static_cast<size_t>(k) * blockDim.x;
      if (i < n) {
        __stcs(a + i, make_float4(x[k].x + s * y[k].x, x[k].y + s * y[k].y, x[k].z + s * y[k].z,
                                  x[k].w + s * y[k].w));
      }
    }
  }
}

extern "C" __global__ void dlrig_triad_tile4(float4* __restrict__ a, const float4* __restrict__ b,
                                             const float4* __restrict__ c, float s, size_t n) {
  TriadTiles<4>(a, b, c, s, n);
}

extern "C" __global__ void dlrig_triad_tile1(float4* __restrict__ a, const float4* __restrict__ b,
                                             const float4* __restrict__ c, float s, size_t n) {
  TriadTiles<1>(a, b, c, s, n);
}

// STREAM's triad a = b + s * c on float4.
extern "C" __global__ void dlrig_triad(float4* __restrict__ a, const float4* __restrict__ b,
                                       const float4* __restrict__ c, float s, size_t n) {
  size_t stride = GridThreads();
  for (size_t i = GlobalThread(); i < n; i += stride) {
    float4 x = b[i], y = c[i];
    a[i] = make_float4(x.x + s * y.x, x.y + s * y.y, x.z + s * y.z, x.w + s * y.w);
  }
}

// Reads everything; the sum is stored only if it equals an impossible value, which the
// compiler cannot know, so no load is removed.
extern "C" __global__ void dlrig_read(const int4* __restrict__ src, size_t n, int4* sink) {
  size_t stride = GridThreads();
  int4 acc = make_int4(0, 0, 0, 0);
  size_t i = GlobalThread();
  for (; i + 3 * stride < n; i += 4 * stride) {
    int4 a = src[i], b = src[i + stride], c = src[i + 2 * stride], d = src[i + 3 * stride];
    acc.x ^= a.x ^ b.x ^ c.x ^ d.x;
    acc.y ^= a.y ^ b.y ^ c.y ^ d.y;
    acc.z ^= a.z ^ b.z ^ c.z ^ d.z;
    acc.w ^= a.w ^ b.w ^ c.w ^ d.w;
  }
  for (; i < n; i += stride) {
    int4 a = src[i];
    acc.x ^= a.x;
    acc.y ^= a.y;
    acc.z ^= a.z;
    acc.w ^= a.w;
  }
  if (acc.x == 0x7fffffff && acc.y == 0x7ffffffe && acc.z == 0x7ffffffd && acc.w == 0x7ffffffc) *sink = acc;
}

extern "C" __global__ void dlrig_write(int4* __restrict__ dst, size_t n, int v) {
  size_t stride = GridThreads();
  int4 x = make_int4(v, v + 1, v + 2, v + 3);
  for (size_t i = GlobalThread(); i < n; i += stride) dst[i] = x;
}

// Holds its stream until the host sets *flag (or timeout_ns passes), so that timed work queued
// behind it starts at once (nvbandwidth's method).
extern "C" __global__ void dlrig_spin(const volatile unsigned* flag, unsigned long long timeout_ns) {
  unsigned long long start = GlobalTimer();
  while (*flag == 0) {
    if (GlobalTimer() - start > timeout_ns) break;
  }
}
