// What each memtest pattern writes, as a function of a word's place. Shared by the device
// kernels (memtest.cu) and the host tests, so the tests check the very arithmetic the GPU runs.
// Plain C++ outside nvcc: no CUDA header is needed to include it.
#pragma once

#include <stdint.h>

#if defined(__CUDACC__)
#define DLRIG_MEMTEST_FN __host__ __device__ __forceinline__
#else
#define DLRIG_MEMTEST_FN inline
#endif

namespace dlrig_memtest {

/// The walking-ones block of cuda_memtest (BLOCKSIZE 1 MiB), in 32-bit words, as a power of two.
constexpr uint32_t kBlockWordsLog2 = 18;
/// Bad word addresses a pass records; errors beyond are only counted.
constexpr uint32_t kMaxRecorded = 64;
/// The error record in device memory, 64-bit words: [0] errors, [1] slots taken, then addresses.
constexpr uint32_t kRecordWords = 2 + kMaxRecorded;
/// cuda_memtest's MOD_SZ: one word in 20 differs from its neighbours.
constexpr uint32_t kModulo = 20;

/// The bulk patterns: each word's value is known from (pattern, value, offset, its place).
enum Kind : uint32_t {
  kFill = 0,        ///< every word = value (moving inversions 0/1 and 8-bit)
  kOwnAddress = 1,  ///< every 64-bit word = its own device address (cuda_memtest test 1)
  kRandom = 2,      ///< a pseudo-random word sequence keyed by value
  kModulo20 = 3,    ///< value at words == offset (mod 20), ~value elsewhere (test 8)
};

/// Lowbias32 (C. Wellons, "Prospecting for hash functions", 2018): a 32-bit bijective mixer;
/// 32-bit only, as 64-bit multiplies cost several instructions on the GPU.
DLRIG_MEMTEST_FN uint32_t Mix32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352dU;
  x ^= x >> 15;
  x *= 0x846ca68bU;
  x ^= x >> 16;
  return x;
}

/// The key of the random sequence in one chunk: chunks differ, and so do seeds.
DLRIG_MEMTEST_FN uint32_t ChunkKey(uint32_t seed, uint32_t chunk) {
  return Mix32(seed ^ Mix32(chunk * 0x9e3779b9U + 0x6d656d74U));
}

/// The value of a pattern's 32-bit word: `word` is its index in its chunk, `address` its
/// device byte address (used by kOwnAddress only: low half, then high half of the address of
/// the 64-bit word it belongs to).
DLRIG_MEMTEST_FN uint32_t PatternWord(uint32_t kind, uint32_t value, uint32_t offset, uint32_t word,
                                      uint64_t address) {
  switch (kind) {
    case kOwnAddress: {
      uint64_t own = address & ~static_cast<uint64_t>(7);
      return (address & 4) ? static_cast<uint32_t>(own >> 32) : static_cast<uint32_t>(own);
    }
    case kRandom:
      return Mix32(word * 0x9e3779b9U + value);
    case kModulo20:
      return word % kModulo == offset ? value : ~value;
    default:
      return value;
  }
}

/// cuda_memtest test 3's byte pattern, walked: bit `step` (0..7) set in every byte.
DLRIG_MEMTEST_FN uint32_t EightBitPattern(uint32_t step) { return 0x01010101U << (step & 7); }

/// Walking ones over the address lines of a span of 2^span_log2 words: slot 0 is word 0, slot
/// k + 1 is word 2^k, so each word differs from word 0 in exactly one address bit.
DLRIG_MEMTEST_FN uint64_t WalkWord(uint32_t slot) {
  return slot == 0 ? 0 : static_cast<uint64_t>(1) << (slot - 1);
}

/// The value at a slot: one bit, a different one for every slot (cuda_memtest gives word 0 and
/// word 1 the same value, so a fault of address bit 2 would go unseen; here it cannot).
DLRIG_MEMTEST_FN uint32_t WalkValue(uint32_t slot) { return 1U << (slot & 31); }

/// Slots a span uses: word 0 and every 2^k below the span and below the words left.
DLRIG_MEMTEST_FN uint32_t WalkSlots(uint64_t words_left, uint32_t span_log2) {
  uint32_t slots = words_left ? 1 : 0;
  for (uint32_t k = 0; k < span_log2 && (static_cast<uint64_t>(1) << k) < words_left; ++k) ++slots;
  return slots;
}

/// Words the walking-ones kernels touch in a chunk of `words`, cut into spans of 2^span_log2.
DLRIG_MEMTEST_FN uint64_t WalkWordsInChunk(uint64_t words, uint32_t span_log2) {
  uint64_t span = static_cast<uint64_t>(1) << span_log2;
  uint64_t full = words >> span_log2;
  uint64_t total = full * WalkSlots(span, span_log2);
  if (words & (span - 1)) total += WalkSlots(words & (span - 1), span_log2);
  return total;
}

}  // namespace dlrig_memtest
