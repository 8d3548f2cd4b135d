#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <vector>

#include "bench/benchmarks.h"
#include "bench/gemm.h"
#include "bench/null_backend.h"

namespace dlrig::bench {
namespace {

// The null backend with other GPUs: its devices' compute capability replaced, and gemm of the
// listed dtypes refused as cuBLASLt refuses a dtype it has no kernel for.
class OtherGpus final : public Backend {
 public:
  OtherGpus(std::unique_ptr<Backend> inner, int cc_major, int cc_minor,
            std::set<DType> refused = {})
      : inner_(std::move(inner)), devices_(inner_->devices()), refused_(std::move(refused)) {
    for (DeviceInfo& d : devices_) {
      d.cc_major = cc_major;
      d.cc_minor = cc_minor;
    }
  }
  std::string name() const override { return inner_->name(); }
  const std::vector<DeviceInfo>& devices() const override { return devices_; }
  std::vector<std::pair<std::string, std::string>> libraries() const override {
    return inner_->libraries();
  }
  Result<std::unique_ptr<Buffer>> Allocate(Memory memory, int device, size_t bytes) override {
    return inner_->Allocate(memory, device, bytes);
  }
  Result<void> FillRandom(Buffer& b, DType dtype, uint64_t seed) override {
    return inner_->FillRandom(b, dtype, seed);
  }
  void* HostData(Buffer& b) override { return inner_->HostData(b); }
  Result<void> Upload(const void* src, size_t bytes, Buffer& d) override {
    return inner_->Upload(src, bytes, d);
  }
  PeerLink Peer(int a, int b) override { return inner_->Peer(a, b); }
  Result<std::unique_ptr<TimedOp>> Copy(const CopySpec& s) override { return inner_->Copy(s); }
  Result<std::unique_ptr<TimedOp>> Kernel(const KernelSpec& s) override {
    return inner_->Kernel(s);
  }
  Result<std::unique_ptr<GemmOp>> Gemm(const GemmSpec& s, int top_k) override {
    ++gemm_calls;
    if (refused_.count(s.dtype))
      return Fail(ErrorKind::kUnsupported, "cuBLASLt 13.1.0 has no kernel for int8 on sm_90");
    return inner_->Gemm(s, top_k);
  }
  Result<std::unique_ptr<TimedOp>> Collect(const CollectiveSpec& s) override {
    return inner_->Collect(s);
  }
  Result<std::unique_ptr<BurnOp>> Burn(const BurnSpec& s) override { return inner_->Burn(s); }
  Result<std::unique_ptr<MemtestOp>> Memtest(const MemtestSpec& s) override {
    return inner_->Memtest(s);
  }
  std::unique_ptr<TelemetryWatch> Watch(const std::vector<int>& d) override {
    return inner_->Watch(d);
  }
  int gemm_calls = 0;

 private:
  std::unique_ptr<Backend> inner_;
  std::vector<DeviceInfo> devices_;
  std::set<DType> refused_;
};

std::vector<Measurement> RunGemm(Backend& backend, const Options& options) {
  Context context(backend, options);
  EXPECT_FALSE(kGemmBenchmark.waived(context).has_value());
  kGemmBenchmark.run(context);
  return context.results();
}

const Measurement* Find(const std::vector<Measurement>& results, const std::string& key,
                        int device = 0) {
  for (const Measurement& m : results) {
    if (m.key == key && m.device == device) return &m;
  }
  return nullptr;
}

std::set<DType> Asked(int major, int minor) {
  auto v = GemmDTypesFor(major, minor);
  return {v.begin(), v.end()};
}

// Which units each architecture has (research/benchmarks.md section 6.1's table).
TEST(BenchGemm, DtypesFollowTheUnitsEachArchitectureHas) {
  using enum DType;
  EXPECT_EQ(Asked(9, 0), (std::set<DType>{kFp64, kFp32, kTf32, kFp16, kBf16, kFp8E4M3, kInt8}));
  EXPECT_EQ(Asked(8, 0), (std::set<DType>{kFp64, kFp32, kTf32, kFp16, kBf16, kInt8}));
  // GA10x and Ada: FP64 at 4 per clock per SM, not worth an 8192^3 DGEMM; Ada adds fp8.
  EXPECT_EQ(Asked(8, 6), (std::set<DType>{kFp32, kTf32, kFp16, kBf16, kInt8}));
  EXPECT_EQ(Asked(8, 9), (std::set<DType>{kFp32, kTf32, kFp16, kBf16, kFp8E4M3, kInt8}));
  EXPECT_EQ(Asked(12, 0), (std::set<DType>{kFp32, kTf32, kFp16, kBf16, kFp8E4M3, kInt8}));
  // Volta: fp16 tensor cores and full-rate FP64, no int8, tf32 or bf16 units.
  EXPECT_EQ(Asked(7, 0), (std::set<DType>{kFp64, kFp32, kFp16}));
  EXPECT_EQ(Asked(7, 5), (std::set<DType>{kFp32, kFp16, kInt8}));
  EXPECT_EQ(Asked(10, 0).count(kFp64), 1u);

  auto fp8 = GemmDTypeMissing(kFp8E4M3, 8, 0);
  ASSERT_TRUE(fp8.has_value());
  EXPECT_NE(fp8->find("8.9"), std::string::npos) << *fp8;
  EXPECT_NE(fp8->find("8.0"), std::string::npos) << *fp8;
}

TEST(BenchGemm, ShapesTopKAndWorkspacePerProfile) {
  auto quick = GemmShapes(Profile::kQuick);
  ASSERT_EQ(quick.size(), 1u);
  EXPECT_EQ(GemmKey(DType::kBf16, quick[0]), "gemm.bf16.8192x8192x8192");

  std::vector<std::string> keys;
  for (const auto& s : GemmShapes(Profile::kDefault)) keys.push_back(GemmKey(DType::kFp16, s));
  EXPECT_EQ(keys,
            (std::vector<std::string>{"gemm.fp16.8192x8192x8192", "gemm.fp16.1024x1024x1024",
                                      "gemm.fp16.2048x2048x2048", "gemm.fp16.4096x4096x4096"}));
  auto full = GemmShapes(Profile::kFull);
  EXPECT_GT(full.size(), 4u);
  EXPECT_TRUE(std::any_of(full.begin(), full.end(),
                          [](const GemmShape& s) { return s.m != s.n || s.n != s.k; }));

  EXPECT_EQ(GemmTopK(Profile::kQuick), 4);
  EXPECT_EQ(GemmTopK(Profile::kDefault), 8);
  EXPECT_EQ(GemmTopK(Profile::kFull), 16);
  EXPECT_EQ(GemmWorkspaceBytes(9), 32u << 20);  // Hopper: 32 MiB
  EXPECT_EQ(GemmWorkspaceBytes(10), 32u << 20);
  EXPECT_EQ(GemmWorkspaceBytes(8), 4u << 20);  // earlier: 4 MiB
  EXPECT_DOUBLE_EQ(GemmOperations({2, 3, 5}), 60);
}

TEST(BenchGemm, QuickMeasuresEveryDtypeOnceAgainstTheNullModel) {
  auto backend = MakeNullBackend({.devices = 1});
  auto results = RunGemm(*backend, {.profile = Profile::kQuick});
  ASSERT_EQ(results.size(), kAllDTypes.size());
  for (DType dtype : kAllDTypes) {
    const std::string key =
        std::string("gemm.") + std::string(DTypeName(dtype)) + ".8192x8192x8192";
    const Measurement* m = Find(results, key);
    ASSERT_NE(m, nullptr) << key;
    EXPECT_EQ(m->bench, "gemm");
    EXPECT_EQ(m->unit, dtype == DType::kInt8 ? "TOPS" : "TFLOP/s");
    EXPECT_NE(m->verdict, Verdict::kError) << m->message;
    EXPECT_NE(m->verdict, Verdict::kWaived) << m->message;
    EXPECT_EQ(m->samples.size(), 3u);  // the quick plan's repeats
    // The null model's later candidates are slower: the pick is the first of the 4 asked.
    EXPECT_EQ(m->params.at("algorithm"), "null-algo-0");
    EXPECT_EQ(m->params.at("candidates"), "4 of 4");
    EXPECT_EQ(m->params.at("workspace"), "32 MiB");
    EXPECT_EQ(m->telemetry.size(), 1u);
  }
}

// The null model runs bf16 at 760e12 and int8 at 1400e12 operations per second (plus 5 us of
// launch per timing): a figure of 2mnk/t recovers those rates; mnk/t would give half.
TEST(BenchGemm, TheFigureIsTwoMnkOverTime) {
  auto backend = MakeNullBackend({.devices = 1});
  auto results = RunGemm(*backend, {.profile = Profile::kQuick});
  const Measurement* bf16 = Find(results, "gemm.bf16.8192x8192x8192");
  const Measurement* int8 = Find(results, "gemm.int8.8192x8192x8192");
  ASSERT_TRUE(bf16 && int8);
  EXPECT_NEAR(bf16->median, 760, 760 * 0.02);
  EXPECT_NEAR(int8->median, 1400, 1400 * 0.02);
  // Judged against the H100's peak: 989.4 TFLOP/s bf16 at the spec clock (datasheet).
  ASSERT_FALSE(bf16->limits.empty());
  ASSERT_TRUE(bf16->ratio.has_value());
  EXPECT_NEAR(*bf16->ratio, bf16->median / bf16->limits.front().value, 1e-9);
  EXPECT_NEAR(bf16->limits.front().value, 989.4, 1.0) << bf16->limits.front().formula;
  EXPECT_EQ(bf16->verdict, Verdict::kGood);  // 0.77 >= the 0.75 goal
  ASSERT_TRUE(bf16->goal.has_value());
  EXPECT_DOUBLE_EQ(*bf16->goal, 0.75);
}

TEST(BenchGemm, SeveralGpusShareKeysAndDifferInDevice) {
  auto backend = MakeNullBackend({.devices = 2});
  Options options{.profile = Profile::kQuick, .dtypes = {DType::kBf16}};
  auto results = RunGemm(*backend, options);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].key, results[1].key);
  EXPECT_EQ(results[0].device, 0);
  EXPECT_EQ(results[1].device, 1);
}

TEST(BenchGemm, DefaultProfileSweepsSquaresAndSizesDoNotApply) {
  auto backend = MakeNullBackend({.devices = 1});
  auto results = RunGemm(*backend, {.profile = Profile::kDefault, .dtypes = {DType::kFp32}});
  ASSERT_EQ(results.size(), 4u);
  EXPECT_NE(Find(results, "gemm.fp32.1024x1024x1024"), nullptr);
  EXPECT_EQ(results.front().params.at("candidates"), "8 of 8");

  // --sizes are transfer sizes in bytes: gemm's shapes stay the profile's.
  auto sized = RunGemm(*backend,
                       {.profile = Profile::kQuick, .sizes = {8u << 20}, .dtypes = {DType::kFp32}});
  ASSERT_EQ(sized.size(), 1u);
  EXPECT_EQ(sized[0].key, "gemm.fp32.8192x8192x8192");
}

TEST(BenchGemm, ADtypeTheGpuLacksIsWaivedNotFailed) {
  OtherGpus a100(MakeNullBackend({.devices = 1}), 8, 0);
  auto results = RunGemm(a100, {.profile = Profile::kQuick});
  const Measurement* fp8 = Find(results, "gemm.fp8.8192x8192x8192");
  ASSERT_NE(fp8, nullptr);
  EXPECT_EQ(fp8->verdict, Verdict::kWaived);
  EXPECT_NE(fp8->message.find("8.9"), std::string::npos) << fp8->message;
  EXPECT_TRUE(fp8->samples.empty());
  // The waived dtype was never asked of the backend; the others were, in both layouts (NN and
  // TN) except int8, which is TN only: 5 x 2 + 1.
  EXPECT_EQ(a100.gemm_calls, 11);
  for (const Measurement& m : results) {
    EXPECT_NE(m.verdict, Verdict::kError) << m.key << ": " << m.message;
  }
}

// A GA10x part: fp64 is left out by default (a DGEMM there measures nothing worth judging)
// but runs when asked for by name, since every GPU can run it.
TEST(BenchGemm, Fp64OnAPartWithFewFp64UnitsRunsOnlyWhenAsked) {
  OtherGpus a6000(MakeNullBackend({.devices = 1}), 8, 6);
  auto by_default = RunGemm(a6000, {.profile = Profile::kQuick});
  const Measurement* fp64 = Find(by_default, "gemm.fp64.8192x8192x8192");
  ASSERT_NE(fp64, nullptr);
  EXPECT_EQ(fp64->verdict, Verdict::kWaived);
  EXPECT_NE(fp64->message.find("8.6"), std::string::npos) << fp64->message;

  auto asked = RunGemm(a6000, {.profile = Profile::kQuick, .dtypes = {DType::kFp64}});
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_NE(asked[0].verdict, Verdict::kWaived);
  EXPECT_FALSE(asked[0].samples.empty());
}

TEST(BenchGemm, ADtypeCublasLtRefusesIsWaivedWithItsReason) {
  OtherGpus h100(MakeNullBackend({.devices = 1}), 9, 0, {DType::kInt8});
  auto results = RunGemm(h100, {.profile = Profile::kDefault, .dtypes = {DType::kInt8}});
  // One entry for the dtype, not one per shape.
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].key, "gemm.int8.8192x8192x8192");
  EXPECT_EQ(results[0].verdict, Verdict::kWaived);
  EXPECT_NE(results[0].message.find("no kernel for int8"), std::string::npos);
}

TEST(BenchGemm, AGpuLostMidRunGivesOneErrorAndStopsThatGpu) {
  // Quick, one GPU: each dtype takes 4 candidates x (1 warm-up + 1 round) = 8 timings per
  // layout, two layouts, then the sampling's 2 warm-ups and 3 repeats: 21 for fp64; failing
  // after 30 operations lands in the second dtype.
  auto backend = MakeNullBackend({.devices = 1, .fail_after = 30});
  auto results = RunGemm(*backend, {.profile = Profile::kQuick});
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].key, "gemm.fp64.8192x8192x8192");
  EXPECT_NE(results[0].verdict, Verdict::kError);
  EXPECT_FALSE(results[0].samples.empty());
  EXPECT_EQ(results[1].key, "gemm.fp32.8192x8192x8192");
  EXPECT_EQ(results[1].verdict, Verdict::kError);
  EXPECT_NE(results[1].message.find("GPU is lost"), std::string::npos) << results[1].message;
  EXPECT_NE(results[1].message.find("not run"), std::string::npos) << results[1].message;
}

TEST(BenchGemm, RegisteredInTheQuickAndDefaultProfiles) {
  const Benchmark* gemm = FindBenchmark("gemm");
  ASSERT_NE(gemm, nullptr);
  EXPECT_TRUE(gemm->quick);
  EXPECT_TRUE(gemm->defaults);
  auto backend = MakeNullBackend({.devices = 0});
  Options options;
  Context context(*backend, options);
  EXPECT_EQ(gemm->waived(context), std::optional<std::string>("no GPU"));
}

}  // namespace
}  // namespace dlrig::bench
