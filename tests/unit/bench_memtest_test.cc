#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <map>
#include <set>
#include <vector>

#include "bench/benchmarks.h"
#include "bench/null_backend.h"
#include "gpu/kernels/memtest_patterns.cuh"

namespace dlrig::bench {
namespace {

namespace mt = dlrig_memtest;

std::vector<Measurement> RunMemtest(const NullOptions& null, Profile profile) {
  auto backend = MakeNullBackend(null);
  Options options{.profile = profile};
  Context context(*backend, options);
  EXPECT_FALSE(kMemtestBenchmark.waived(context).has_value());
  kMemtestBenchmark.run(context);
  return context.results();
}

std::vector<std::string> KeysOf(const std::vector<Measurement>& results, int device) {
  std::vector<std::string> keys;
  for (const Measurement& m : results) {
    if (m.device == device) keys.push_back(m.key);
  }
  return keys;
}

TEST(BenchMemtest, DefaultRunsTheFastPatternsOnceOnEveryGpu) {
  auto results = RunMemtest({.devices = 2}, Profile::kDefault);
  std::vector<std::string> fast = {"memtest.walking_ones", "memtest.own_address",
                                   "memtest.moving_inversions", "memtest.random"};
  EXPECT_EQ(KeysOf(results, 0), fast);
  EXPECT_EQ(KeysOf(results, 1), fast);
  for (const Measurement& m : results) {
    EXPECT_EQ(m.bench, "memtest");
    EXPECT_EQ(m.unit, "errors");
    EXPECT_EQ(m.verdict, Verdict::kPassed) << m.key << ": " << m.message;
    EXPECT_EQ(m.message, "");
    EXPECT_EQ(m.median, 0);
    EXPECT_EQ(m.params.at("iterations"), "1 of 1");
    EXPECT_GT(std::stoull(m.params.at("bytes")), 0u);
    EXPECT_GT(std::stoll(m.params.at("words_checked")), 0);
    EXPECT_EQ(m.telemetry.size(), 1u);
  }
}

TEST(BenchMemtest, FullRunsEveryPatternTwiceWithTwoSeeds) {
  auto results = RunMemtest({.devices = 1}, Profile::kFull);
  std::vector<std::string> all = {
      "memtest.walking_ones",           "memtest.own_address", "memtest.moving_inversions",
      "memtest.moving_inversions_8bit", "memtest.random",      "memtest.modulo_20"};
  EXPECT_EQ(KeysOf(results, 0), all);
  for (const Measurement& m : results) {
    EXPECT_EQ(m.params.at("iterations"), "2 of 2");
    const std::string& seeds = m.params.at("seeds");
    auto comma = seeds.find(',');
    ASSERT_NE(comma, std::string::npos) << seeds;
    EXPECT_NE(seeds.substr(0, comma), seeds.substr(comma + 1));
  }
}

TEST(BenchMemtest, TheRateIsWordsCheckedOverDeviceTime) {
  auto results = RunMemtest({.devices = 1}, Profile::kDefault);
  for (const Measurement& m : results) {
    if (m.key == "memtest.walking_ones") {
      EXPECT_FALSE(m.params.count("checked_gb_per_s"));  // a sparse pattern has no rate
      continue;
    }
    double words = std::stod(m.params.at("words_checked"));
    double seconds = std::stod(m.params.at("device_seconds"));
    double rate = std::stod(m.params.at("checked_gb_per_s"));
    EXPECT_NEAR(rate, 4 * words / seconds / 1e9, rate * 0.01) << m.key;
  }
}

TEST(BenchMemtest, IsNotPartOfQuickButOfDefault) {
  EXPECT_FALSE(kMemtestBenchmark.quick);
  EXPECT_TRUE(kMemtestBenchmark.defaults);
  auto backend = MakeNullBackend({.devices = 1});
  auto quick = RunBenchmarks(*backend, {.profile = Profile::kQuick}, {});
  EXPECT_TRUE(std::none_of(quick.begin(), quick.end(),
                           [](const Measurement& m) { return m.bench == "memtest"; }));
  auto only = RunBenchmarks(*backend, {.profile = Profile::kDefault, .only = {"memtest"}}, {});
  EXPECT_EQ(only.size(), 4u);
}

TEST(BenchMemtest, ErrorsFailTheGpuAndNameTheAddresses) {
  auto results = RunMemtest({.devices = 1, .errors = 3}, Profile::kDefault);
  ASSERT_EQ(results.size(), 4u);
  for (const Measurement& m : results) {
    EXPECT_EQ(m.verdict, Verdict::kFailed) << m.key;
    EXPECT_EQ(m.median, 3);
    // The null backend reports its errors at 0x1000, 0x2000, 0x3000.
    EXPECT_NE(m.message.find("0x000000001000"), std::string::npos) << m.message;
    EXPECT_NE(m.message.find("0x000000003000"), std::string::npos) << m.message;
    EXPECT_EQ(m.message.find("0x000000004000"), std::string::npos) << m.message;
  }
}

TEST(BenchMemtest, ManyErrorsShowAFewAddressesAndCountTheRest) {
  auto results = RunMemtest({.devices = 1, .errors = 1000}, Profile::kFull);
  const Measurement& m = results.front();
  EXPECT_EQ(m.median, 2000);  // two iterations
  EXPECT_NE(m.message.find("2000 words read back wrong"), std::string::npos) << m.message;
  EXPECT_NE(m.message.find("and 1992 more"), std::string::npos) << m.message;
}

TEST(BenchMemtest, ALostGpuKeepsThePatternsItFinished) {
  // Each pattern is one timed operation on the null backend: the third fails.
  auto results = RunMemtest({.devices = 2, .fail_after = 2}, Profile::kDefault);
  ASSERT_EQ(KeysOf(results, 0).size(), 3u);
  EXPECT_EQ(results[0].verdict, Verdict::kPassed);
  EXPECT_EQ(results[1].verdict, Verdict::kPassed);
  const Measurement& lost = results[2];
  EXPECT_EQ(lost.key, "memtest.moving_inversions");
  EXPECT_EQ(lost.verdict, Verdict::kError);
  EXPECT_TRUE(lost.samples.empty());
  EXPECT_NE(lost.message.find("GPU is lost"), std::string::npos) << lost.message;
  EXPECT_NE(lost.message.find("not run on this GPU: random"), std::string::npos) << lost.message;
  // The second GPU is still asked; on the null backend it fails at once.
  ASSERT_EQ(KeysOf(results, 1).size(), 1u);
  EXPECT_EQ(results[3].verdict, Verdict::kError);
}

TEST(BenchMemtest, ErrorsFoundBeforeTheGpuWasLostStillFailIt) {
  auto results = RunMemtest({.devices = 1, .fail_after = 1, .errors = 2}, Profile::kFull);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].verdict, Verdict::kFailed);
  EXPECT_EQ(results[0].median, 2);
  EXPECT_NE(results[0].message.find("stopped after 1 of 2 iterations"), std::string::npos)
      << results[0].message;
}

TEST(BenchMemtest, NoGpuIsAWaiver) {
  auto backend = MakeNullBackend({.devices = 0});
  Options options;
  Context context(*backend, options);
  EXPECT_TRUE(kMemtestBenchmark.waived(context).has_value());
}

// The pattern arithmetic the kernels run (memtest_patterns.cuh), checked on the host.

TEST(MemtestPatterns, OwnAddressWordsHoldTheAddressOfTheirDoubleWord) {
  uint64_t base = 0x7f12'3456'7000ULL;
  for (uint32_t w = 0; w < 64; w += 2) {
    uint64_t at = base + 4ull * w;
    uint32_t lo = mt::PatternWord(mt::kOwnAddress, 0, 0, w, at);
    uint32_t hi = mt::PatternWord(mt::kOwnAddress, 0, 0, w + 1, at + 4);
    EXPECT_EQ((uint64_t{hi} << 32) | lo, at);
  }
}

TEST(MemtestPatterns, ModuloTwentyHasOneWordInTwentyThatDiffers) {
  for (uint32_t offset = 0; offset < mt::kModulo; ++offset) {
    int hits = 0;
    for (uint32_t w = 1000; w < 1000 + 5 * mt::kModulo; ++w) {
      uint32_t v = mt::PatternWord(mt::kModulo20, 0xa5a5'0f0fU, offset, w, 0);
      ASSERT_TRUE(v == 0xa5a5'0f0fU || v == ~0xa5a5'0f0fU);
      if (v == 0xa5a5'0f0fU) {
        ++hits;
        EXPECT_EQ(w % 20, offset);
      }
    }
    EXPECT_EQ(hits, 5);
  }
}

TEST(MemtestPatterns, RandomWordsAreBalancedAndDifferBySeedAndChunk) {
  uint32_t a = mt::ChunkKey(1, 0);
  uint32_t b = mt::ChunkKey(2, 0);
  uint32_t c = mt::ChunkKey(1, 1);
  EXPECT_NE(a, b);
  EXPECT_NE(a, c);
  constexpr uint32_t kWords = 1 << 16;
  long long ones = 0;
  int same_ab = 0;
  int same_ac = 0;
  std::set<uint32_t> distinct;
  for (uint32_t w = 0; w < kWords; ++w) {
    uint32_t v = mt::PatternWord(mt::kRandom, a, 0, w, 0);
    ones += std::popcount(v);
    distinct.insert(v);
    same_ab += v == mt::PatternWord(mt::kRandom, b, 0, w, 0);
    same_ac += v == mt::PatternWord(mt::kRandom, c, 0, w, 0);
  }
  EXPECT_NEAR(static_cast<double>(ones) / (32.0 * kWords), 0.5, 0.005);
  EXPECT_EQ(distinct.size(), kWords);  // a bijection of the word index
  EXPECT_LT(same_ab, 4);
  EXPECT_LT(same_ac, 4);
}

TEST(MemtestPatterns, EightBitPatternSetsOneBitPerByteAtTheStep) {
  for (uint32_t step = 0; step < 8; ++step) {
    uint32_t p = mt::EightBitPattern(step);
    for (int byte = 0; byte < 4; ++byte) EXPECT_EQ((p >> (8 * byte)) & 0xff, 1u << step);
  }
}

TEST(MemtestPatterns, WalkingOnesSlotsAreOneAddressBitApartWithDistinctValues) {
  std::set<uint32_t> values;
  for (uint32_t slot = 0; slot <= 28; ++slot) {
    EXPECT_EQ(std::popcount(mt::WalkValue(slot)), 1);
    values.insert(mt::WalkValue(slot));
    if (slot > 0) {
      EXPECT_EQ(std::popcount(mt::WalkWord(slot)), 1);
    }
  }
  EXPECT_EQ(values.size(), 29u);
  EXPECT_EQ(mt::WalkSlots(1u << 18, 18), 19u);  // word 0 and 2^0 .. 2^17
  EXPECT_EQ(mt::WalkSlots(5, 18), 4u);          // words 0, 1, 2, 4
  EXPECT_EQ(mt::WalkSlots(0, 18), 0u);
  EXPECT_EQ(mt::WalkWordsInChunk(1ull << 28, 18), 1024u * 19);     // a 1 GiB chunk
  EXPECT_EQ(mt::WalkWordsInChunk((1ull << 18) + 3, 18), 19u + 3);  // and words 0, 1, 2 of the rest
}

// A memory whose address bit `bit` (of the word index) is stuck at 0: the cell at an address
// with the bit set is the same as the one without it.
struct StuckAddressBit {
  std::vector<uint32_t> cells;
  uint32_t bit;
  uint32_t& operator[](uint64_t word) { return cells[word & ~(uint64_t{1} << bit)]; }
};

// The host twin of dlrig_memtest_walk_write / walk_check (memtest.cu): returns the errors.
long long WalkOnce(StuckAddressBit& memory, uint64_t words, uint32_t span_log2) {
  uint64_t spans = (words + (uint64_t{1} << span_log2) - 1) >> span_log2;
  for (uint64_t s = 0; s < spans; ++s) {
    uint64_t base = s << span_log2;
    for (uint32_t k = 0; k < mt::WalkSlots(words - base, span_log2); ++k)
      memory[base + mt::WalkWord(k)] = mt::WalkValue(k);
  }
  long long errors = 0;
  for (uint64_t s = 0; s < spans; ++s) {
    uint64_t base = s << span_log2;
    for (uint32_t k = 0; k < mt::WalkSlots(words - base, span_log2); ++k) {
      errors += memory[base + mt::WalkWord(k)] != mt::WalkValue(k);
    }
  }
  return errors;
}

TEST(MemtestPatterns, WalkingOnesFindsEveryStuckAddressLine) {
  constexpr uint32_t kLog2 = 20;  // 4 MiB of words, four walking-ones blocks
  for (uint32_t bit = 0; bit < kLog2; ++bit) {
    StuckAddressBit memory{std::vector<uint32_t>(size_t{1} << kLog2), bit};
    long long errors = WalkOnce(memory, uint64_t{1} << kLog2, kLog2) +
                       WalkOnce(memory, uint64_t{1} << kLog2, mt::kBlockWordsLog2);
    EXPECT_GT(errors, 0) << "address bit " << bit;
  }
}

}  // namespace
}  // namespace dlrig::bench
