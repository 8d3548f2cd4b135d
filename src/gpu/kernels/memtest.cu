// Memory test kernels after cuda_memtest (ComputationalRadiationPhysics/cuda_memtest, tests.cpp):
// one kernel writes a pattern, a second reads it back, checks it and writes its complement, a
// third checks the complement; separate launches, so every check reads what an earlier kernel
// left in memory. Bulk patterns move 16 bytes per access in grid-stride loops, so a pass runs at
// the speed of the memory. Errors are counted per 32-bit word; the first kMaxRecorded bad word
// addresses are kept (cuda_memtest keeps the last 10 of each block, overwriting in a ring).
#include "common.cuh"
#include "memtest_patterns.cuh"

using namespace dlrig_kernels;
using namespace dlrig_memtest;

namespace {

// record: [0] errors, [1] slots taken, [2..] addresses. The slot counter is read first so that
// a GPU full of errors does not serialise every thread on one atomic.
__device__ __forceinline__ void Record(unsigned long long* record, uint64_t address) {
  if (*reinterpret_cast<volatile unsigned long long*>(record + 1) >= kMaxRecorded) return;
  unsigned long long slot = atomicAdd(record + 1, 1ULL);
  if (slot < kMaxRecorded) record[2 + slot] = address;
}

template <uint32_t K>
__device__ __forceinline__ uint4 Expected(const uint4* at, size_t i, uint32_t value,
                                          uint32_t offset, uint32_t flip) {
  uint32_t w = static_cast<uint32_t>(i * 4);
  uint64_t a = reinterpret_cast<uint64_t>(at);
  return make_uint4(PatternWord(K, value, offset, w, a) ^ flip,
                    PatternWord(K, value, offset, w + 1, a + 4) ^ flip,
                    PatternWord(K, value, offset, w + 2, a + 8) ^ flip,
                    PatternWord(K, value, offset, w + 3, a + 12) ^ flip);
}

template <uint32_t K>
__device__ __forceinline__ void Write(uint4* p, size_t n, uint32_t value, uint32_t offset,
                                      uint32_t flip) {
  size_t stride = GridThreads();
  for (size_t i = GlobalThread(); i < n; i += stride)
    p[i] = Expected<K>(p + i, i, value, offset, flip);
}

__device__ __forceinline__ unsigned long long Compare(uint32_t got, uint32_t want, const uint4* at,
                                                      int lane, unsigned long long* record) {
  if (got == want) return 0;
  Record(record, reinterpret_cast<uint64_t>(at) + 4 * lane);
  return 1;
}

template <uint32_t K>
__device__ __forceinline__ void Check(uint4* p, size_t n, uint32_t value, uint32_t offset,
                                      uint32_t flip, uint32_t rewrite, unsigned long long* record) {
  size_t stride = GridThreads();
  unsigned long long errors = 0;
  for (size_t i = GlobalThread(); i < n; i += stride) {
    uint4 got = p[i];
    uint4 want = Expected<K>(p + i, i, value, offset, flip);
    errors += Compare(got.x, want.x, p + i, 0, record) + Compare(got.y, want.y, p + i, 1, record) +
              Compare(got.z, want.z, p + i, 2, record) + Compare(got.w, want.w, p + i, 3, record);
    if (rewrite) p[i] = make_uint4(~want.x, ~want.y, ~want.z, ~want.w);
  }
  if (errors) atomicAdd(record, errors);
}

}  // namespace

// Entries: n = 16-byte units in the chunk; flip = 0 for the pattern, ~0 for its complement;
// rewrite = 1 to leave the complement of what was checked.
#define DLRIG_MEMTEST_ENTRIES(name, kind)                                                   \
  extern "C" __global__ void dlrig_memtest_write_##name(uint4* p, size_t n, uint32_t value, \
                                                        uint32_t offset, uint32_t flip) {   \
    Write<kind>(p, n, value, offset, flip);                                                 \
  }                                                                                         \
  extern "C" __global__ void dlrig_memtest_check_##name(                                    \
      uint4* p, size_t n, uint32_t value, uint32_t offset, uint32_t flip, uint32_t rewrite, \
      unsigned long long* record) {                                                         \
    Check<kind>(p, n, value, offset, flip, rewrite, record);                                \
  }

DLRIG_MEMTEST_ENTRIES(fill, kFill)
DLRIG_MEMTEST_ENTRIES(address, kOwnAddress)
DLRIG_MEMTEST_ENTRIES(random, kRandom)
DLRIG_MEMTEST_ENTRIES(modulo, kModulo20)

// Walking ones (cuda_memtest test 0): in every span of 2^span_log2 words, word 0 and each word
// 2^k hold distinct one-bit values. A broken address line makes two of them the same cell, and
// the one written last is read back at the other's place. One thread per span.
extern "C" __global__ void dlrig_memtest_walk_write(uint32_t* p, size_t words, uint32_t span_log2,
                                                    uint32_t flip) {
  size_t spans = (words + (size_t{1} << span_log2) - 1) >> span_log2;
  for (size_t s = GlobalThread(); s < spans; s += GridThreads()) {
    size_t base = s << span_log2;
    uint32_t slots = WalkSlots(words - base, span_log2);
    for (uint32_t k = 0; k < slots; ++k) p[base + WalkWord(k)] = WalkValue(k) ^ flip;
  }
}

extern "C" __global__ void dlrig_memtest_walk_check(uint32_t* p, size_t words, uint32_t span_log2,
                                                    uint32_t flip, uint32_t rewrite,
                                                    unsigned long long* record) {
  size_t spans = (words + (size_t{1} << span_log2) - 1) >> span_log2;
  unsigned long long errors = 0;
  for (size_t s = GlobalThread(); s < spans; s += GridThreads()) {
    size_t base = s << span_log2;
    uint32_t slots = WalkSlots(words - base, span_log2);
    for (uint32_t k = 0; k < slots; ++k) {
      uint32_t* at = p + base + WalkWord(k);
      uint32_t want = WalkValue(k) ^ flip;
      if (*at != want) {
        ++errors;
        Record(record, reinterpret_cast<uint64_t>(at));
      }
      if (rewrite) *at = ~want;
    }
  }
  if (errors) atomicAdd(record, errors);
}
