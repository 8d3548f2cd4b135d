#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "bench/benchmarks.h"
#include "bench/burn.h"
#include "bench/null_backend.h"

namespace dlrig::bench {
namespace {

std::vector<Measurement> RunBurn(const NullOptions& null, Options options) {
  auto backend = MakeNullBackend(null);
  Context context(*backend, options);
  EXPECT_FALSE(kBurnBenchmark.waived(context).has_value());
  kBurnBenchmark.run(context);
  return context.results();
}

TEST(BenchBurn, DtypesCheckTensorAndFp32UnitsWhereThereAreBoth) {
  EXPECT_EQ(BurnDTypesFor(9, 0), (std::vector<DType>{DType::kBf16, DType::kFp32}));
  EXPECT_EQ(BurnDTypesFor(8, 6), (std::vector<DType>{DType::kBf16, DType::kFp32}));
  EXPECT_EQ(BurnDTypesFor(7, 0), (std::vector<DType>{DType::kFp16, DType::kFp32}));
  EXPECT_EQ(BurnDTypesFor(6, 1), (std::vector<DType>{DType::kFp32}));
  EXPECT_TRUE(BurnDTypeMissing(DType::kFp8E4M3, 9, 0).has_value());
  EXPECT_TRUE(BurnDTypeMissing(DType::kInt8, 9, 0).has_value());
  EXPECT_TRUE(BurnDTypeMissing(DType::kBf16, 7, 5).has_value());
  EXPECT_FALSE(BurnDTypeMissing(DType::kFp64, 8, 6).has_value());
  EXPECT_EQ(BurnKey(DType::kBf16), "burn.bf16");
}

TEST(BenchBurn, SecondsFromTheProfileUnlessGiven) {
  EXPECT_EQ(BurnSeconds({.profile = Profile::kDefault}), 30);
  EXPECT_EQ(BurnSeconds({.profile = Profile::kFull}), 600);
  EXPECT_EQ(BurnSeconds({.profile = Profile::kFull, .burn_seconds = 5}), 5);
  const Benchmark* burn = FindBenchmark("burn");
  ASSERT_NE(burn, nullptr);
  EXPECT_FALSE(burn->quick);
  EXPECT_TRUE(burn->defaults);
}

// Any difference a 16-bit result can hold is a fault: the tolerance is below one unit in the
// last place (bf16: 8 significand bits, fp16: 11), at every magnitude (relative to max(1,|x|)).
TEST(BenchBurn, SixteenBitToleranceIsBelowOneUlp) {
  EXPECT_LT(BurnTolerance(DType::kBf16), std::ldexp(1.0, -8));
  EXPECT_LT(BurnTolerance(DType::kFp16), std::ldexp(1.0, -11));
  // fp32 and fp64 stay within a few units in the last place: gpu-burn's checks, made relative.
  EXPECT_LT(BurnTolerance(DType::kFp32), 16 * std::ldexp(1.0, -23));
  EXPECT_LT(BurnTolerance(DType::kFp64), 1e-11);
  EXPECT_EQ(BurnTolerance(DType::kTf32), BurnTolerance(DType::kFp32));  // fp32 results
}

TEST(BenchBurn, AHealthyGpuPassesWithATimeline) {
  auto results = RunBurn({.devices = 2}, {.profile = Profile::kDefault, .burn_seconds = 0.05});
  ASSERT_EQ(results.size(), 4u);
  for (int device : {0, 1}) {
    for (const char* key : {"burn.bf16", "burn.fp32"}) {
      const Measurement* m = nullptr;
      for (const auto& r : results) {
        if (r.key == key && r.device == device) m = &r;
      }
      ASSERT_NE(m, nullptr) << key << " on " << device;
      EXPECT_EQ(m->verdict, Verdict::kPassed) << m->message;
      EXPECT_EQ(m->bench, "burn");
      EXPECT_EQ(m->unit, "TFLOP/s");
      EXPECT_FALSE(m->timeline.empty());
      EXPECT_LE(m->timeline.size(), std::stoull(m->params.at("steps")));
      EXPECT_EQ(m->params.at("errors"), "0");
      for (size_t i = 1; i < m->timeline.size(); ++i)
        EXPECT_GE(m->timeline[i].t, m->timeline[i - 1].t);
      ASSERT_EQ(m->telemetry.size(), 1u);
      // Every step's watch is in the run's telemetry (the null watch reports 1 sample each).
      EXPECT_EQ(std::to_string(m->telemetry[0].samples), m->params.at("steps"));
    }
  }
}

// The null model runs bf16 at 760e12 FLOP/s: a step of 8 slots of 2 n^3 must read back so.
TEST(BenchBurn, TheStepFigureIsFlopOverDeviceTime) {
  auto results =
      RunBurn({.devices = 1},
              {.profile = Profile::kDefault, .burn_seconds = 0.02, .dtypes = {DType::kBf16}});
  ASSERT_EQ(results.size(), 1u);
  ASSERT_FALSE(results[0].timeline.empty());
  EXPECT_NEAR(results[0].timeline[0].figure, 760, 760 * 0.02);
  EXPECT_NEAR(results[0].median, 760, 760 * 0.02);
  EXPECT_EQ(results[0].params.at("slots"), "8");
}

// The run's clock is the device's where that runs ahead of the wall: the null model reports
// 11.6 ms per bf16 step (8 x 2 x 8192^3 at 760e12) and spends none, so 30 s is about 2590
// steps done at once, not a 30 s spin, gathered into a point per second.
TEST(BenchBurn, TheRunEndsOnDeviceTimeWhenTheBackendModelsIt) {
  auto results = RunBurn(
      {.devices = 1}, {.profile = Profile::kDefault, .burn_seconds = 30, .dtypes = {DType::kBf16}});
  ASSERT_EQ(results.size(), 1u);
  const long long steps = std::stoll(results[0].params.at("steps"));
  EXPECT_GT(steps, 2550);
  EXPECT_LT(steps, 2640);
  // One timeline point per second of the run, not one per step.
  EXPECT_GE(results[0].timeline.size(), 29u);
  EXPECT_LE(results[0].timeline.size(), 31u);
  EXPECT_GE(results[0].timeline.back().t, 30);
  EXPECT_LT(results[0].timeline.back().t, 30.1);
  EXPECT_LT(results[0].seconds, 5);
}

TEST(BenchBurn, MismatchesFailTheGpu) {
  auto results =
      RunBurn({.devices = 1, .errors = 3},
              {.profile = Profile::kDefault, .burn_seconds = 0.02, .dtypes = {DType::kFp32}});
  ASSERT_EQ(results.size(), 1u);
  const Measurement& m = results[0];
  EXPECT_EQ(m.verdict, Verdict::kFailed);
  EXPECT_EQ(std::stoll(m.params.at("errors")), 3 * std::stoll(m.params.at("steps")));
  EXPECT_NE(m.message.find("differed"), std::string::npos) << m.message;
}

TEST(BenchBurn, AGpuLostMidRunKeepsTheStepsFinished) {
  // Every step is one timed operation of the null model: five succeed, the sixth fails; the
  // second dtype is not started on a GPU that failed.
  auto results = RunBurn({.devices = 1, .fail_after = 5},
                         {.profile = Profile::kDefault, .burn_seconds = 1000});
  ASSERT_EQ(results.size(), 1u);
  const Measurement& m = results[0];
  EXPECT_EQ(m.key, "burn.bf16");
  EXPECT_EQ(m.verdict, Verdict::kError);
  EXPECT_EQ(m.params.at("steps"), "5");
  ASSERT_FALSE(m.timeline.empty());  // the 5 steps' point
  EXPECT_EQ(m.telemetry.at(0).samples, 5);
  EXPECT_NE(m.message.find("stopped after 5 steps"), std::string::npos) << m.message;
  EXPECT_NE(m.message.find("GPU is lost"), std::string::npos) << m.message;
  EXPECT_LT(m.seconds, 5);  // it stopped, it did not wait out the time
}

TEST(BenchBurn, ErrorsFoundBeforeTheGpuWasLostStillFailIt) {
  auto results =
      RunBurn({.devices = 1, .fail_after = 3, .errors = 1},
              {.profile = Profile::kDefault, .burn_seconds = 30, .dtypes = {DType::kFp32}});
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].verdict, Verdict::kFailed);
  EXPECT_EQ(results[0].params.at("errors"), "3");
  EXPECT_NE(results[0].message.find("stopped after 3 steps"), std::string::npos);
}

// --dtypes names gemm's types: burn runs those it can and skips fp8 and int8.
TEST(BenchBurn, DtypesAskedForTakeWhatBurnCanRun) {
  auto results = RunBurn({.devices = 1}, {.profile = Profile::kDefault,
                                          .burn_seconds = 0.01,
                                          .dtypes = {DType::kFp8E4M3, DType::kFp64}});
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].key, "burn.fp64");
  EXPECT_EQ(results[0].verdict, Verdict::kPassed);

  auto defaults =
      RunBurn({.devices = 1},
              {.profile = Profile::kDefault, .burn_seconds = 0.01, .dtypes = {DType::kFp8E4M3}});
  ASSERT_EQ(defaults.size(), 2u);
  EXPECT_EQ(defaults[0].key, "burn.bf16");
  EXPECT_EQ(defaults[1].key, "burn.fp32");
}

}  // namespace
}  // namespace dlrig::bench
