// The device-copy sweep behind dlrig's memory.copy kernels (docs/validation.md, issue 6):
// cudaMemcpyAsync D2D (the kernel tensor.copy_ ends in) against every launch shape of a tiled
// LDG/STG copy (words per thread x cache hints x threads x blocks per SM), TMA bulk copies
// (cp.async.bulk global -> shared -> global) and destination placements. Standalone: CUDA
// runtime, sm_90 (TMA needs Hopper). Prints one line per configuration, GB/s = 2 x bytes / t.
//
//   nvcc -arch=sm_90 -O3 -std=c++17 -o /tmp/copy-sweep scripts/bench-copy-sweep.cu && /tmp/copy-sweep
//
// Timing: 3 warm-up copies, then the median of 7 samples of (20 GiB / bytes) copies between
// CUDA events. Arrays of 1 GiB filled with hashed (non-zero) words.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#define CK(x)                                                              \
  do {                                                                     \
    cudaError_t e = (x);                                                   \
    if (e != cudaSuccess) {                                                \
      std::printf("%s: %s\n", #x, cudaGetErrorString(e));                  \
      std::exit(1);                                                        \
    }                                                                      \
  } while (0)

// Load hints: 0 plain, 1 .cs, 2 .nc (__ldg), 3 .lu, 4 .nc.L1::no_allocate.
template <int H>
__device__ __forceinline__ int4 Load(const int4* p) {
  if (H == 0) return *p;
  if (H == 1) return __ldcs(p);
  if (H == 2) return __ldg(p);
  if (H == 3) return __ldlu(p);
  int4 v;
  asm volatile("ld.global.nc.L1::no_allocate.v4.s32 {%0,%1,%2,%3}, [%4];"
               : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w) : "l"(p));
  return v;
}

// Store hints: 0 plain, 1 .cs, 2 .wt, 3 L1::no_allocate.
template <int H>
__device__ __forceinline__ void Store(int4* p, int4 v) {
  if (H == 0) {
    *p = v;
  } else if (H == 1) {
    __stcs(p, v);
  } else if (H == 2) {
    __stwt(p, v);
  } else {
    asm volatile("st.global.L1::no_allocate.v4.s32 [%0], {%1,%2,%3,%4};"
                 :: "l"(p), "r"(v.x), "r"(v.y), "r"(v.z), "r"(v.w));
  }
}

// U words per thread, all loaded before any is stored; a block per tile, or fewer looping.
template <int U, int LH, int SH>
__global__ void Tile(const int4* __restrict__ src, int4* __restrict__ dst, size_t n) {
  size_t t = static_cast<size_t>(blockDim.x) * U;
  for (size_t base = blockIdx.x * t; base < n; base += static_cast<size_t>(gridDim.x) * t) {
    int4 v[U];
    if (base + t <= n) {
#pragma unroll
      for (int k = 0; k < U; ++k) v[k] = Load<LH>(src + base + threadIdx.x + static_cast<size_t>(k) * blockDim.x);
#pragma unroll
      for (int k = 0; k < U; ++k) Store<SH>(dst + base + threadIdx.x + static_cast<size_t>(k) * blockDim.x, v[k]);
    } else {
      for (int k = 0; k < U; ++k) {
        size_t i = base + threadIdx.x + static_cast<size_t>(k) * blockDim.x;
        if (i < n) Store<SH>(dst + i, Load<LH>(src + i));
      }
    }
  }
}

__device__ __forceinline__ uint32_t Smem(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

// One thread per CTA drives S stages of B-byte bulk copies global -> shared -> global. Chunks are
// interleaved across CTAs, or (kContig) each CTA takes one contiguous range; kHint adds an L2
// evict-first policy to both directions.
template <int S, bool kContig, bool kHint>
__global__ void Bulk(const char* __restrict__ src, char* __restrict__ dst, size_t chunks, unsigned B) {
  extern __shared__ __align__(128) char smem[];
  __shared__ __align__(8) uint64_t bar[S];
  if (threadIdx.x != 0) return;
  for (int s = 0; s < S; ++s) asm volatile("mbarrier.init.shared::cta.b64 [%0], 1;" :: "r"(Smem(&bar[s])));
  asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
  uint64_t policy = 0;
  if (kHint) asm volatile("createpolicy.fractional.L2::evict_first.b64 %0, 1.0;" : "=l"(policy));
  size_t per = (chunks + gridDim.x - 1) / gridDim.x;
  size_t begin = kContig ? blockIdx.x * per : blockIdx.x;
  size_t end = kContig ? min(chunks, begin + per) : chunks;
  size_t step = kContig ? 1 : gridDim.x;
  size_t count = begin >= end ? 0 : (end - begin + step - 1) / step;
  auto chunk = [&](size_t j) { return begin + j * step; };
  auto load = [&](size_t j) {
    int s = j % S;
    const char* g = src + chunk(j) * B;
    asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" :: "r"(Smem(&bar[s])), "r"(B) : "memory");
    if (kHint)
      asm volatile("cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes.L2::cache_hint [%0], [%1], %2, [%3], %4;"
                   :: "r"(Smem(smem + static_cast<size_t>(s) * B)), "l"(g), "r"(B), "r"(Smem(&bar[s])), "l"(policy) : "memory");
    else
      asm volatile("cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];"
                   :: "r"(Smem(smem + static_cast<size_t>(s) * B)), "l"(g), "r"(B), "r"(Smem(&bar[s])) : "memory");
  };
  for (size_t j = 0; j < count && j < S; ++j) load(j);
  for (size_t j = 0; j < count; ++j) {
    int s = j % S;
    uint32_t parity = (j / S) & 1;
    asm volatile("{ .reg .pred p; W: mbarrier.try_wait.parity.shared::cta.b64 p, [%0], %1; @!p bra W; }"
                 :: "r"(Smem(&bar[s])), "r"(parity) : "memory");
    char* g = dst + chunk(j) * B;
    if (kHint)
      asm volatile("cp.async.bulk.global.shared::cta.bulk_group.L2::cache_hint [%0], [%1], %2, %3;"
                   :: "l"(g), "r"(Smem(smem + static_cast<size_t>(s) * B)), "r"(B), "l"(policy) : "memory");
    else
      asm volatile("cp.async.bulk.global.shared::cta.bulk_group [%0], [%1], %2;"
                   :: "l"(g), "r"(Smem(smem + static_cast<size_t>(s) * B)), "r"(B) : "memory");
    asm volatile("cp.async.bulk.commit_group;" ::: "memory");
    if (j >= 1 && j - 1 + S < count) {  // the store one step back has read its stage: refill it
      asm volatile("cp.async.bulk.wait_group.read 1;" ::: "memory");
      load(j - 1 + S);
    }
  }
  asm volatile("cp.async.bulk.wait_group 0;" ::: "memory");
}

__global__ void Fill(uint32_t* p, size_t n, uint32_t seed) {
  for (size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<size_t>(gridDim.x) * blockDim.x) {
    uint32_t x = static_cast<uint32_t>(i) * 2654435761u ^ seed;
    x ^= x >> 13;
    x *= 0x5bd1e995;
    x ^= x >> 15;
    p[i] = x;
  }
}

// GB/s (read + written) of `copy`, or -1 when it cannot be launched.
template <class F>
double Time(F copy, size_t bytes) {
  cudaEvent_t a, b;
  CK(cudaEventCreate(&a));
  CK(cudaEventCreate(&b));
  for (int i = 0; i < 3; ++i) copy();
  double result = -1;
  if (cudaGetLastError() == cudaSuccess && cudaDeviceSynchronize() == cudaSuccess) {
    int iters = static_cast<int>(std::max<size_t>(4, (20ull << 30) / bytes));
    std::vector<double> v;
    for (int r = 0; r < 7; ++r) {
      CK(cudaEventRecord(a));
      for (int i = 0; i < iters; ++i) copy();
      CK(cudaEventRecord(b));
      CK(cudaEventSynchronize(b));
      float ms = 0;
      CK(cudaEventElapsedTime(&ms, a, b));
      v.push_back(2.0 * bytes * iters / (ms * 1e-3) / 1e9);
    }
    CK(cudaGetLastError());
    std::sort(v.begin(), v.end());
    result = v[3];
  }
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  return result;
}

using Kernel = void (*)(const int4*, int4*, size_t);
struct Shape {
  const char* name;  // words per thread / load hint, store hint
  Kernel kernel;
  int words;
};
#define SHAPE(U, L, S) {#U "/" #L #S, Tile<U, L, S>, U}

int main() {
  const size_t bytes = 1ull << 30, big = 4ull << 30;
  cudaDeviceProp p;
  CK(cudaGetDeviceProperties(&p, 0));
  const int sms = p.multiProcessorCount;
  std::printf("# %s, %d SMs, L2 %d MiB; GB/s = 2 x bytes / t\n", p.name, sms, p.l2CacheSize >> 20);
  char *src, *dst;
  CK(cudaMalloc(&src, big));
  CK(cudaMalloc(&dst, big));
  Fill<<<4 * sms, 256>>>(reinterpret_cast<uint32_t*>(src), big / 4, 1);
  Fill<<<4 * sms, 256>>>(reinterpret_cast<uint32_t*>(dst), big / 4, 2);
  CK(cudaDeviceSynchronize());
  auto memcpy_at = [&](size_t b, char* to) {
    return Time([&] { cudaMemcpyAsync(to, src, b, cudaMemcpyDeviceToDevice); }, b);
  };
  auto tile_at = [&](Kernel k, int words, unsigned threads, int per_sm, size_t b, char* to) {
    size_t n = b / 16;
    unsigned grid = per_sm ? sms * per_sm : static_cast<unsigned>((n + threads * words - 1) / (threads * words));
    return Time([&] { k<<<grid, threads>>>(reinterpret_cast<const int4*>(src), reinterpret_cast<int4*>(to), n); }, b);
  };
  const double ref = memcpy_at(bytes, dst);
  std::printf("memcpyAsync 1 GiB %.1f\n", ref);

  // Tiles: words per thread x hints x threads x (one block per tile | blocks per SM).
  const Shape shapes[] = {SHAPE(1, 1, 1), SHAPE(1, 0, 0), SHAPE(1, 2, 1), SHAPE(1, 4, 3), SHAPE(1, 1, 0),
                          SHAPE(1, 0, 1), SHAPE(1, 1, 3), SHAPE(1, 3, 1), SHAPE(1, 2, 2), SHAPE(2, 1, 1),
                          SHAPE(2, 0, 0), SHAPE(2, 4, 3), SHAPE(4, 1, 1), SHAPE(8, 1, 1), SHAPE(16, 1, 1),
                          SHAPE(32, 1, 1), SHAPE(8, 0, 0), SHAPE(16, 0, 0), SHAPE(8, 2, 1), SHAPE(16, 2, 1),
                          SHAPE(8, 4, 3), SHAPE(16, 4, 3), SHAPE(16, 4, 1), SHAPE(8, 3, 1), SHAPE(16, 1, 0),
                          SHAPE(16, 0, 1), SHAPE(16, 1, 3), SHAPE(8, 1, 2)};
  double best = 0;
  for (const Shape& s : shapes)
    for (unsigned threads : {64u, 128u, 256u, 512u, 1024u})
      for (int per_sm : {0, 4, 8, 16}) {
        if (per_sm && per_sm * threads > 2048) continue;
        double g = tile_at(s.kernel, s.words, threads, per_sm, bytes, dst);
        if (g < 0) continue;  // too many registers for this block size
        best = std::max(best, g);
        std::printf("tile %-6s threads %4u per-SM %2d %8.1f %.4f of memcpy\n", s.name, threads, per_sm, g, g / ref);
      }
  std::printf("best tile %.1f (%.4f of memcpy)\n", best, best / ref);

  // Destination placement inside one allocation (dst = src + 1 GiB + offset).
  for (size_t off : {0ul, 4096ul, 65536ul, 1ul << 20, (1ul << 20) + 8192, 3ul << 20, 24ul << 20, 96ul << 20})
    std::printf("placement +%-9zu tile 1/11 x1024 %8.1f  memcpy %8.1f\n", off,
                tile_at(Tile<1, 1, 1>, 1, 1024, 0, bytes, src + bytes + off), memcpy_at(bytes, src + bytes + off));

  // TMA bulk copies: stages x chunk bytes x CTAs per SM.
  auto bulk = [&](auto kernel, const char* name, int stages, unsigned chunk, int per_sm) {
    size_t shared = static_cast<size_t>(stages) * chunk;
    if (shared > p.sharedMemPerBlockOptin / per_sm - 1024) return;
    CK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(shared)));
    unsigned grid = sms * per_sm;
    double g = Time([&] { kernel<<<grid, 32, shared>>>(src, dst, bytes / chunk, chunk); }, bytes);
    std::printf("bulk %-9s stages %d chunk %6u per-SM %d %8.1f %.4f of memcpy\n", name, stages, chunk, per_sm, g, g / ref);
  };
  for (unsigned chunk : {8192u, 16384u, 32768u, 49152u})
    for (int per_sm : {1, 2, 4}) {
      bulk(Bulk<2, false, false>, "interleaved", 2, chunk, per_sm);
      bulk(Bulk<4, false, false>, "interleaved", 4, chunk, per_sm);
      bulk(Bulk<6, false, false>, "interleaved", 6, chunk, per_sm);
      bulk(Bulk<4, true, false>, "contiguous", 4, chunk, per_sm);
      bulk(Bulk<4, false, true>, "evict-first", 4, chunk, per_sm);
    }

  // The copy size: memcpy against the one-word tile and an 8-word tile.
  for (size_t b : {256ull << 20, 1ull << 30, 2ull << 30, 4ull << 30}) {
    double m = memcpy_at(b, dst), one = tile_at(Tile<1, 1, 1>, 1, 1024, 0, b, dst),
           eight = tile_at(Tile<8, 1, 1>, 8, 256, 0, b, dst);
    std::printf("size %5zu MiB memcpy %8.1f  1/11 x1024 %8.1f (%.4f)  8/11 x256 %8.1f (%.4f)\n", b >> 20, m, one,
                one / m, eight, eight / m);
  }
  std::printf("memcpyAsync 1 GiB again %.1f\n", memcpy_at(bytes, dst));
}
