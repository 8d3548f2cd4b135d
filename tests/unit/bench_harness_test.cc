// The harness on the null backend: sampling, statistics, verdicts, waivers, and what a run
// keeps when a GPU goes away part-way.
#include <gtest/gtest.h>

#include <sched.h>

#include <algorithm>
#include <filesystem>

#include "bench/benchmarks.h"
#include "bench/harness.h"
#include "bench/bench_util.h"
#include "bench/null_backend.h"

namespace dlrig::bench {
namespace {

// A timed operation with a scripted clock: iteration i takes `per_iteration` seconds.
class ScriptedOp final : public TimedOp {
 public:
  explicit ScriptedOp(double per_iteration) : per_iteration_(per_iteration) {}
  Result<double> Time(int iterations) override {
    calls.push_back(iterations);
    if (fail_at && static_cast<int>(calls.size()) >= fail_at) return Fail(ErrorKind::kTimeout, "hung");
    return per_iteration_ * iterations;
  }
  std::vector<int> calls;
  int fail_at = 0;

 private:
  double per_iteration_;
};

TEST(BenchSample, CalibratesIterationsToTheSampleTime) {
  ScriptedOp op(1e-3);  // 1 ms per iteration
  SamplePlan plan{.warmup_seconds = 0.01, .sample_seconds = 0.05, .repeats = 4};
  auto figures = Sample(op, 2.0, plan);
  ASSERT_TRUE(figures) << figures.error().message;
  ASSERT_EQ(figures->size(), 4u);
  for (double f : *figures) EXPECT_NEAR(f, 2.0 / 1e-3, 1e-6);
  // Warm-up doubles 1, 2, 4, 8 (15 ms >= 10 ms), then 50 iterations per sample.
  EXPECT_EQ(op.calls.front(), 1);
  EXPECT_EQ(op.calls.back(), 50);
}

TEST(BenchSample, ReportsTheFailure) {
  ScriptedOp op(1e-3);
  op.fail_at = 3;
  auto figures = Sample(op, 1.0, SamplePlan{.warmup_seconds = 1});
  ASSERT_FALSE(figures);
  EXPECT_EQ(figures.error().kind, ErrorKind::kTimeout);
}

TEST(BenchSample, HeadlinePlanRaisesTheProfileButNotQuick) {
  auto backend = MakeNullBackend(NullOptions{});
  Options options;
  options.profile = Profile::kDefault;
  Context context(*backend, options);
  SamplePlan plan = context.HeadlinePlan(1.0, 0.2, 9);
  EXPECT_DOUBLE_EQ(plan.warmup_seconds, 1.0);
  EXPECT_DOUBLE_EQ(plan.sample_seconds, 0.2);
  EXPECT_EQ(plan.repeats, 9);
  SamplePlan lower = context.HeadlinePlan(0, 0, 1);  // never below the profile's own plan
  EXPECT_DOUBLE_EQ(lower.warmup_seconds, context.plan().warmup_seconds);
  EXPECT_EQ(lower.repeats, context.plan().repeats);
  options.profile = Profile::kQuick;
  Context quick(*backend, options);
  EXPECT_EQ(quick.HeadlinePlan(1.0, 0.2, 9).repeats, quick.plan().repeats);
  EXPECT_DOUBLE_EQ(quick.HeadlinePlan(1.0, 0.2, 9).sample_seconds, quick.plan().sample_seconds);
}

TEST(BenchStats, MedianMinMax) {
  Measurement m{.samples = {5, 1, 4, 2}};
  Summarize(m);
  EXPECT_DOUBLE_EQ(m.median, 3);
  EXPECT_DOUBLE_EQ(m.min, 1);
  EXPECT_DOUBLE_EQ(m.max, 5);
}

TEST(BenchJudge, GoodFairLowAgainstTheFirstLimit) {
  auto judged = [](double median) {
    Measurement m{.samples = {median}};
    Summarize(m);
    m.limits.push_back({.value = 100, .basis = "spec"});
    m.limits.push_back({.value = 50, .basis = "other"});
    Judge(m, 0.8, 0.6);
    return m;
  };
  EXPECT_EQ(judged(85).verdict, Verdict::kGood);
  EXPECT_DOUBLE_EQ(*judged(85).ratio, 0.85);
  EXPECT_EQ(judged(70).verdict, Verdict::kFair);
  EXPECT_EQ(judged(50).verdict, Verdict::kLow);
  Measurement none{.samples = {1}};
  Summarize(none);
  Judge(none, 0.8, 0.6);
  EXPECT_EQ(none.verdict, Verdict::kInfo);
  EXPECT_FALSE(none.ratio);
}

std::vector<Measurement> RunNull(NullOptions null, Options options) {
  auto backend = MakeNullBackend(null);
  return RunBenchmarks(*backend, options, {});
}

const Measurement* Find(const std::vector<Measurement>& all, std::string_view key, std::optional<int> device = {}) {
  for (const Measurement& m : all)
    if (m.key == key && (!device || m.device == device)) return &m;
  return nullptr;
}

TEST(BenchRun, MemoryAgainstTheHbmLimit) {
  auto results = RunNull({.devices = 1}, {.profile = Profile::kQuick, .only = {"memory"}});
  const Measurement* copy = Find(results, "memory.copy", 0);
  ASSERT_NE(copy, nullptr);
  EXPECT_EQ(copy->unit, "GB/s");
  ASSERT_FALSE(copy->limits.empty());
  // 2 x 2619 MHz x 5120 bits / 8 = 3352.3 GB/s (research/benchmarks.md section 6.3, H100 SXM).
  EXPECT_NEAR(copy->limits.front().value, 3352.3, 0.1);
  // The null model moves 2900 GB/s; launch overhead takes a little off.
  EXPECT_GT(copy->median, 2500);
  EXPECT_LT(copy->median, 2950);
  EXPECT_EQ(copy->verdict, Verdict::kGood);
  EXPECT_EQ(copy->telemetry.size(), 1u);
  EXPECT_NE(Find(results, "memory.triad", 0), nullptr);
  EXPECT_EQ(Find(results, "memory.read", 0), nullptr) << "read and write are not in --quick";
}

TEST(BenchRun, PcieHeadlineAndSweep) {
  auto results = RunNull({.devices = 1}, {.profile = Profile::kDefault, .only = {"pcie"}});
  const Measurement* h2d = Find(results, "pcie.h2d.pinned");
  ASSERT_NE(h2d, nullptr);
  ASSERT_FALSE(h2d->limits.empty());
  EXPECT_NEAR(h2d->limits.front().value, 63.0, 0.1);  // Gen5 x16, 128b/130b
  EXPECT_EQ(h2d->params.at("bytes"), std::to_string(512 << 20));
  const Measurement* bidir = Find(results, "pcie.bidir.pinned");
  ASSERT_NE(bidir, nullptr);
  EXPECT_NEAR(bidir->limits.front().value, 126.0, 0.2);
  EXPECT_NEAR(bidir->median, 2 * h2d->median, 0.1 * h2d->median);
  EXPECT_NE(Find(results, "pcie.h2d.pageable"), nullptr);
  EXPECT_NE(Find(results, "pcie.d2h.pinned.1048576"), nullptr);
}

TEST(BenchRun, P2pIsWaivedOnOneGpuAndRunsEveryPairOnTwo) {
  auto one = RunNull({.devices = 1}, {.profile = Profile::kQuick, .only = {"p2p"}});
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].verdict, Verdict::kWaived);
  EXPECT_NE(one[0].message.find("2 GPUs"), std::string::npos);

  auto two = RunNull({.devices = 2}, {.profile = Profile::kDefault, .only = {"p2p"}});
  for (const char* key : {"p2p.0-1.uni", "p2p.1-0.uni", "p2p.0-1.bidir", "p2p.0-1.latency"}) {
    EXPECT_NE(Find(two, key), nullptr) << key;
  }
  const Measurement* uni = Find(two, "p2p.0-1.uni");
  // 18 NVLink 4 links x 25 GB/s = 450 GB/s per direction.
  ASSERT_FALSE(uni->limits.empty());
  EXPECT_NEAR(uni->limits.front().value, 450, 0.5);
  EXPECT_EQ(uni->params.at("path"), "NVLink");
}

TEST(BenchRun, AGpuLostMidRunKeepsWhatFinished) {
  auto results = RunNull({.devices = 1, .fail_after = 12}, {.profile = Profile::kQuick, .only = {"memory", "pcie"}});
  int good = 0, errors = 0;
  for (const Measurement& m : results) {
    if (m.verdict == Verdict::kError) {
      ++errors;
      EXPECT_NE(m.message.find("lost"), std::string::npos) << m.message;
    } else if (!m.samples.empty()) {
      ++good;
    }
  }
  EXPECT_GT(good, 0) << "figures that finished before the loss are kept";
  EXPECT_GT(errors, 0);
}

TEST(BenchRegistry, KeysAreUniqueAndDescribed) {
  std::vector<std::string> keys;
  for (const Benchmark& b : Benchmarks()) {
    EXPECT_NE(std::string(b.description), "");
    EXPECT_NE(std::string(b.formula), "");
    keys.push_back(b.key);
    EXPECT_EQ(FindBenchmark(b.key), &b);
  }
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(std::adjacent_find(keys.begin(), keys.end()), keys.end());
  EXPECT_EQ(FindBenchmark("nonsense"), nullptr);
}

}  // namespace
}  // namespace dlrig::bench

namespace dlrig::bench {
namespace {

// pcie and storage place host memory next to the GPU this way: the thread runs on the node's
// CPUs while in scope and gets its old mask back after.
TEST(BenchNuma, PinsToTheNodeAndRestores) {
  if (!std::filesystem::exists("/sys/devices/system/node/node0/cpulist")) GTEST_SKIP() << "no NUMA node 0 in /sys";
  cpu_set_t before, after;
  ASSERT_EQ(sched_getaffinity(0, sizeof before, &before), 0);
  {
    NumaScope scope(0);
    EXPECT_TRUE(scope.active());
  }
  ASSERT_EQ(sched_getaffinity(0, sizeof after, &after), 0);
  EXPECT_TRUE(CPU_EQUAL(&before, &after));
  EXPECT_FALSE(NumaScope(std::nullopt).active());
  EXPECT_FALSE(NumaScope(4096).active()) << "a node that does not exist leaves the thread alone";
}

}  // namespace
}  // namespace dlrig::bench
