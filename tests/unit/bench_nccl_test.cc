// The nccl benchmark on the null backend: waivers, sizes per profile, nccl-tests' formulas, keys,
// limits, a GPU lost mid-run; and the result check's arithmetic (nccl_check.h), without a GPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "bench/benchmarks.h"
#include "bench/nccl.h"
#include "bench/nccl_check.h"
#include "bench/null_backend.h"

namespace dlrig::bench {
namespace {

constexpr size_t kMiB = size_t{1} << 20;
constexpr size_t kGiB = size_t{1} << 30;

std::vector<Measurement> RunNccl(Backend& backend, Options options) {
  Context context(backend, options);
  if (auto why = kNcclBenchmark.waived(context)) {
    ADD_FAILURE() << "waived: " << *why;
    return {};
  }
  kNcclBenchmark.run(context);
  return context.results();
}

std::vector<Measurement> RunNccl(int gpus, Profile profile, std::vector<size_t> sizes = {}) {
  auto backend = MakeNullBackend({.devices = gpus});
  return RunNccl(*backend, Options{.profile = profile, .sizes = std::move(sizes)});
}

const Measurement* Find(const std::vector<Measurement>& results, const std::string& key) {
  for (const Measurement& m : results) {
    if (m.key == key) return &m;
  }
  return nullptr;
}

TEST(BenchNcclTest, IsRegistered) {
  const Benchmark* b = FindBenchmark("nccl");
  ASSERT_NE(b, nullptr);
  EXPECT_TRUE(b->quick);
  EXPECT_TRUE(b->defaults);
}

TEST(BenchNcclTest, WaivedOnOneGpu) {
  auto one = MakeNullBackend({.devices = 1});
  Options options;
  Context context(*one, options);
  auto why = kNcclBenchmark.waived(context);
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("2 GPUs"), std::string::npos) << *why;

  // Two GPUs on the machine, one chosen for the run: still waived.
  auto two = MakeNullBackend({.devices = 2});
  Options only_one{.devices = {1}};
  Context chosen(*two, only_one);
  EXPECT_TRUE(kNcclBenchmark.waived(chosen));
  Context both(*two, options);
  EXPECT_FALSE(kNcclBenchmark.waived(both));
}

// nccl-tests doc/PERFORMANCE.md: all-reduce busbw = algbw x 2(n-1)/n, all-gather and
// reduce-scatter x (n-1)/n; for 8 ranks that is 1.75 and 0.875, for 2 ranks 1 and 0.5.
TEST(BenchNcclTest, BusFactorsAreNcclTests) {
  EXPECT_DOUBLE_EQ(BusFactor(Collective::kAllReduce, 2), 1.0);
  EXPECT_DOUBLE_EQ(BusFactor(Collective::kAllReduce, 8), 1.75);
  EXPECT_DOUBLE_EQ(BusFactor(Collective::kAllGather, 2), 0.5);
  EXPECT_DOUBLE_EQ(BusFactor(Collective::kAllGather, 8), 0.875);
  EXPECT_DOUBLE_EQ(BusFactor(Collective::kReduceScatter, 2), 0.5);
  EXPECT_DOUBLE_EQ(BusFactor(Collective::kReduceScatter, 8), 0.875);
}

// nccl-tests' counts: all-gather's size is the gathered buffer, sendcount = count / n; the
// bandwidth counts sendcount x n elements, so a size that n does not divide is rounded down.
TEST(BenchNcclTest, CountsPerRank) {
  auto ar = CountsFor(Collective::kAllReduce, 32 * kMiB, 8, DType::kFp32);
  EXPECT_EQ(ar.send, 8u * kMiB);
  EXPECT_EQ(ar.recv, 8u * kMiB);
  EXPECT_EQ(ar.call, 8u * kMiB);
  EXPECT_EQ(ar.bytes, 32u * kMiB);

  auto ag = CountsFor(Collective::kAllGather, 8 * kGiB, 8, DType::kFp32);
  EXPECT_EQ(ag.send, 268435456u);   // 2^31 floats / 8
  EXPECT_EQ(ag.recv, 2147483648u);  // 2^31 floats
  EXPECT_EQ(ag.call, ag.send);
  EXPECT_EQ(ag.bytes, 8 * kGiB);

  auto rs = CountsFor(Collective::kReduceScatter, 8 * kGiB, 8, DType::kFp32);
  EXPECT_EQ(rs.send, 2147483648u);
  EXPECT_EQ(rs.recv, 268435456u);
  EXPECT_EQ(rs.call, rs.recv);

  auto odd = CountsFor(Collective::kAllGather, 8 * kGiB, 3, DType::kFp32);
  EXPECT_EQ(odd.send, 715827882u);    // floor(2^31 / 3)
  EXPECT_EQ(odd.bytes, 8589934584u);  // 715827882 x 3 x 4
  EXPECT_EQ(BuffersPerGpu(Collective::kAllReduce, 8 * kGiB, 8, DType::kFp32), 16 * kGiB);
  EXPECT_EQ(BuffersPerGpu(Collective::kAllGather, 8 * kGiB, 8, DType::kFp32), 9 * kGiB);
}

TEST(BenchNcclTest, SizesPerProfile) {
  auto quick = NcclCases(Profile::kQuick, {});
  ASSERT_EQ(quick.size(), 2u);
  EXPECT_EQ(quick[0].op, Collective::kAllReduce);
  EXPECT_EQ(quick[0].bytes, 32 * kMiB);
  EXPECT_EQ(quick[1].bytes, 512 * kMiB);
  EXPECT_EQ(quick[1].op, Collective::kAllReduce);

  std::map<Collective, std::vector<size_t>> by_op;
  for (const NcclCase& c : NcclCases(Profile::kDefault, {})) by_op[c.op].push_back(c.bytes);
  EXPECT_EQ(by_op[Collective::kAllReduce],
            (std::vector<size_t>{8 * kMiB, 32 * kMiB, 128 * kMiB, 512 * kMiB, 2 * kGiB, 8 * kGiB}));
  EXPECT_EQ(by_op[Collective::kAllGather], (std::vector<size_t>{8 * kGiB}));
  EXPECT_EQ(by_op[Collective::kReduceScatter], (std::vector<size_t>{8 * kGiB}));

  by_op.clear();
  for (const NcclCase& c : NcclCases(Profile::kFull, {})) by_op[c.op].push_back(c.bytes);
  std::vector<size_t> full = {1 * kMiB,   4 * kMiB, 16 * kMiB, 64 * kMiB,
                              256 * kMiB, 1 * kGiB, 4 * kGiB,  8 * kGiB};
  EXPECT_EQ(by_op.size(), 3u);
  for (const auto& [op, sizes] : by_op) EXPECT_EQ(sizes, full) << CollectiveName(op);

  // --sizes replaces every list of the profile; quick still runs all-reduce alone.
  auto chosen = NcclCases(Profile::kDefault, {kMiB, 3 * kMiB});
  EXPECT_EQ(chosen.size(), 6u);
  auto quick_chosen = NcclCases(Profile::kQuick, {kMiB});
  ASSERT_EQ(quick_chosen.size(), 1u);
  EXPECT_EQ(quick_chosen[0].op, Collective::kAllReduce);
}

TEST(BenchNcclTest, KeysNameCollectiveAndBytes) {
  EXPECT_EQ(NcclKey(Collective::kAllReduce, 8 * kGiB), "nccl.all_reduce.8589934592");
  EXPECT_EQ(NcclKey(Collective::kAllGather, 32 * kMiB), "nccl.all_gather.33554432");
  EXPECT_EQ(NcclKey(Collective::kReduceScatter, kMiB), "nccl.reduce_scatter.1048576");

  auto results = RunNccl(2, Profile::kQuick);
  std::vector<std::string> keys;
  for (const Measurement& m : results) keys.push_back(m.key);
  EXPECT_EQ(keys,
            (std::vector<std::string>{"nccl.all_reduce.33554432", "nccl.all_reduce.536870912"}));
  for (const Measurement& m : results) {
    EXPECT_EQ(m.bench, "nccl");
    EXPECT_EQ(m.unit, "GB/s");
    EXPECT_FALSE(m.device);  // a figure of the GPUs together
  }
}

// The null backend models a bus at 340 GB/s and times each collective as bytes x factor / bus,
// with its own copy of the factors: busbw comes back as 340 only when the benchmark divides by
// the right time and multiplies by nccl-tests' factor, for every collective and rank count.
TEST(BenchNcclTest, BusAndAlgorithmBandwidthFor2And8Gpus) {
  for (int n : {2, 8}) {
    auto results = RunNccl(n, Profile::kDefault, {8 * kGiB});
    ASSERT_EQ(results.size(), 3u) << n;
    for (const Measurement& m : results) {
      ASSERT_NE(m.verdict, Verdict::kError) << m.message;
      EXPECT_NEAR(m.median, 340.0, 340.0 * 0.02) << m.key << " n=" << n;
      Collective op = m.params.at("collective") == "all_reduce"   ? Collective::kAllReduce
                      : m.params.at("collective") == "all_gather" ? Collective::kAllGather
                                                                  : Collective::kReduceScatter;
      double algbw = std::stod(m.params.at("algbw_gbs"));
      EXPECT_NEAR(algbw * BusFactor(op, n), m.median, 0.01 * m.median) << m.key;
      EXPECT_EQ(m.params.at("ranks"), std::to_string(n));
      EXPECT_EQ(m.params.at("bytes"), std::to_string(8 * kGiB));
    }
    // 8 ranks: all-reduce algbw = 340 / 1.75 = 194.3; all-gather 340 / 0.875 = 388.6.
    if (n == 8) {
      EXPECT_NEAR(std::stod(Find(results, "nccl.all_reduce.8589934592")->params.at("algbw_gbs")),
                  194.3, 4.0);
      EXPECT_NEAR(std::stod(Find(results, "nccl.all_gather.8589934592")->params.at("algbw_gbs")),
                  388.6, 8.0);
    }
  }
}

// The null GPUs are H100 SXM: 18 NVLink4 links x 25 GB/s = 450 GB/s per direction, and they
// talk over NVLink. bench-goals.toml: all-reduce over NVLink is good at >= 0.80; the other
// collectives have no goal and keep their ratio without a verdict.
TEST(BenchNcclTest, JudgedAgainstNvlink) {
  auto results = RunNccl(8, Profile::kDefault, {8 * kGiB});
  const Measurement* ar = Find(results, "nccl.all_reduce.8589934592");
  ASSERT_NE(ar, nullptr);
  ASSERT_FALSE(ar->limits.empty());
  EXPECT_DOUBLE_EQ(ar->limits[0].value, 450.0);
  ASSERT_TRUE(ar->ratio);
  EXPECT_NEAR(*ar->ratio, 340.0 / 450.0, 0.02);
  ASSERT_TRUE(ar->goal);
  EXPECT_DOUBLE_EQ(*ar->goal, 0.80);
  EXPECT_EQ(ar->verdict, Verdict::kFair);  // 0.76 < 0.80, and no problem line is set
  EXPECT_NE(ar->message.find("NVLS"), std::string::npos) << ar->message;

  const Measurement* ag = Find(results, "nccl.all_gather.8589934592");
  ASSERT_NE(ag, nullptr);
  EXPECT_TRUE(ag->ratio);
  EXPECT_FALSE(ag->goal);
  EXPECT_EQ(ag->verdict, Verdict::kInfo);
}

TEST(BenchNcclTest, OversizedCasesAreCutOrSkipped) {
  // 20 GiB per GPU: all-reduce at 8 GiB needs 16 (fits); all-gather at 8 GiB over 2 GPUs needs
  // 12 (fits); budget 10 GiB: all-reduce cut to 4 GiB (8 GiB of buffers).
  std::vector<NcclCase> cases = {{Collective::kAllReduce, 4 * kGiB},
                                 {Collective::kAllReduce, 8 * kGiB},
                                 {Collective::kAllGather, 8 * kGiB}};
  auto roomy = FitCases(cases, 2, DType::kFp32, 20 * kGiB);
  ASSERT_EQ(roomy.size(), 3u);
  for (const FittedCase& f : roomy) {
    EXPECT_FALSE(f.skipped);
    EXPECT_EQ(f.run.bytes, f.asked);
    EXPECT_TRUE(f.note.empty());
  }
  auto tight = FitCases(cases, 2, DType::kFp32, 10 * kGiB);
  ASSERT_EQ(tight.size(), 3u);
  EXPECT_FALSE(tight[0].skipped);
  EXPECT_TRUE(tight[1].skipped);  // cut to 4 GiB, which the run has already
  EXPECT_EQ(tight[1].run.bytes, 4 * kGiB);
  EXPECT_FALSE(tight[2].skipped);
  EXPECT_EQ(tight[2].run.bytes, 4 * kGiB);  // 4 GiB gathered needs 6 GiB
  EXPECT_NE(tight[2].note.find("ran 4 GiB instead"), std::string::npos) << tight[2].note;
  for (const FittedCase& f : tight)
    EXPECT_LE(BuffersPerGpu(f.run.op, f.run.bytes, 2, DType::kFp32), 10 * kGiB);

  auto none = FitCases(cases, 2, DType::kFp32, kMiB);
  for (const FittedCase& f : none) EXPECT_TRUE(f.skipped);

  EXPECT_EQ(NcclMemoryBudget(kGiB), 0u);
  EXPECT_EQ(NcclMemoryBudget(80 * kGiB), 70 * kGiB);  // 72 GiB usable less 2 for NCCL
}

// A GPU lost part-way: the sizes that finished keep their figures, the one that failed is an
// error entry saying why, and nothing runs after it.
TEST(BenchNcclTest, LostGpuKeepsWhatFinished) {
  bool seen = false;
  for (int fail_after = 1; fail_after <= 200 && !seen; ++fail_after) {
    auto backend = MakeNullBackend({.devices = 2, .fail_after = fail_after});
    auto results = RunNccl(*backend, Options{.profile = Profile::kDefault});
    ASSERT_FALSE(results.empty());
    if (results.size() < 2) continue;
    seen = true;
    const Measurement& last = results.back();
    EXPECT_EQ(last.verdict, Verdict::kError);
    EXPECT_NE(last.message.find("lost"), std::string::npos) << last.message;
    EXPECT_NE(last.message.find("not run"), std::string::npos) << last.message;
    for (size_t i = 0; i + 1 < results.size(); ++i) {
      EXPECT_NE(results[i].verdict, Verdict::kError);
      EXPECT_FALSE(results[i].samples.empty());
      EXPECT_GT(results[i].median, 0);
    }
    EXPECT_LT(results.size(), NcclCases(Profile::kDefault, {}).size());
  }
  EXPECT_TRUE(seen) << "no fail_after let a size finish before the loss";
}

// A collective that checked its own result: wrong values fail the figure, which is kept.
class WrongCollective final : public TimedOp, public CheckedCollective {
 public:
  explicit WrongCollective(std::unique_ptr<TimedOp> inner) : inner_(std::move(inner)) {}
  Result<double> Time(int iterations) override { return inner_->Time(iterations); }
  long long wrong() const override { return 3; }
  long long checked() const override { return 4096; }

 private:
  std::unique_ptr<TimedOp> inner_;
};

class WrongBackend final : public Backend {
 public:
  WrongBackend() : null_(MakeNullBackend({.devices = 2})) {}
  std::string name() const override { return "wrong"; }
  const std::vector<DeviceInfo>& devices() const override { return null_->devices(); }
  std::vector<std::pair<std::string, std::string>> libraries() const override {
    return {{"nccl", "2.28.9"}};
  }
  Result<std::unique_ptr<Buffer>> Allocate(Memory m, int d, size_t b) override {
    return null_->Allocate(m, d, b);
  }
  Result<void> FillRandom(Buffer& b, DType t, uint64_t s) override {
    return null_->FillRandom(b, t, s);
  }
  void* HostData(Buffer& b) override { return null_->HostData(b); }
  Result<void> Upload(const void* src, size_t n, Buffer& b) override {
    return null_->Upload(src, n, b);
  }
  PeerLink Peer(int a, int b) override { return null_->Peer(a, b); }
  Result<std::unique_ptr<TimedOp>> Copy(const CopySpec& s) override { return null_->Copy(s); }
  Result<std::unique_ptr<TimedOp>> Kernel(const KernelSpec& s) override { return null_->Kernel(s); }
  Result<std::unique_ptr<GemmOp>> Gemm(const GemmSpec& s, int k) override {
    return null_->Gemm(s, k);
  }
  Result<std::unique_ptr<TimedOp>> Collect(const CollectiveSpec& s) override {
    auto op = null_->Collect(s);
    if (!op) return op;
    return std::unique_ptr<TimedOp>(std::make_unique<WrongCollective>(std::move(*op)));
  }
  Result<std::unique_ptr<BurnOp>> Burn(const BurnSpec& s) override { return null_->Burn(s); }
  Result<std::unique_ptr<MemtestOp>> Memtest(const MemtestSpec& s) override {
    return null_->Memtest(s);
  }
  std::unique_ptr<TelemetryWatch> Watch(const std::vector<int>& d) override {
    return null_->Watch(d);
  }

 private:
  std::unique_ptr<Backend> null_;
};

TEST(BenchNcclTest, WrongValuesFailTheFigure) {
  WrongBackend backend;
  auto results = RunNccl(backend, Options{.profile = Profile::kQuick});
  ASSERT_EQ(results.size(), 2u);
  for (const Measurement& m : results) {
    EXPECT_EQ(m.verdict, Verdict::kFailed);
    EXPECT_EQ(m.params.at("wrong"), "3");
    EXPECT_EQ(m.params.at("checked"), "4096");
    EXPECT_EQ(m.params.at("nccl"), "2.28.9");
    EXPECT_FALSE(m.samples.empty());
    EXPECT_NE(m.message.find("3 of 4096"), std::string::npos) << m.message;
  }
  // The null backend cannot check: no wrong count is claimed.
  for (const Measurement& m : RunNccl(2, Profile::kQuick)) EXPECT_EQ(m.params.count("wrong"), 0u);
}

// ---- the result check (nccl_check.h) ---------------------------------------------------------

TEST(NcclCheckTest, EncodesSmallIntegersExactly) {
  // IEEE 754 half 9.0 = 0x4880, 144.0 = 0x5880; bf16 9.0 = 0x4110 (the top of float 0x41100000).
  EXPECT_EQ(NcclCheck::Encode(DType::kFp16, 9), 0x4880u);
  EXPECT_EQ(NcclCheck::Encode(DType::kFp16, 144), 0x5880u);
  EXPECT_EQ(NcclCheck::Encode(DType::kBf16, 9), 0x4110u);
  EXPECT_EQ(NcclCheck::Encode(DType::kFp32, 1), 0x3f800000u);
  for (DType t : {DType::kFp64, DType::kFp32, DType::kFp16, DType::kBf16}) {
    for (double v : {0.0, 1.0, 7.0, 9.0, 72.0, 144.0}) {
      EXPECT_EQ(NcclCheck::Decode(t, NcclCheck::Encode(t, v)), v) << DTypeName(t) << " " << v;
    }
    // The poison written into the output before the call reads as NaN: never a right value.
    double poison = NcclCheck::Decode(t, t == DType::kFp64   ? ~0ull
                                         : t == DType::kFp32 ? 0xffffffffull
                                                             : 0xffffull);
    EXPECT_TRUE(std::isnan(poison)) << DTypeName(t);
  }
  EXPECT_FALSE(NcclCheck::Create(Collective::kAllReduce, DType::kInt8, {}, 2));
  EXPECT_FALSE(NcclCheck::Create(Collective::kAllReduce, DType::kBf16, {}, 64));  // 9 x 64 > 256
}

// Expected() against an independent host model of each collective: the inputs of every rank,
// reduced or gathered as NCCL's documentation states (nccl.h).
TEST(NcclCheckTest, ExpectedMatchesCollectiveSemantics) {
  const int n = 4;
  for (Collective op :
       {Collective::kAllReduce, Collective::kAllGather, Collective::kReduceScatter}) {
    auto counts = CountsFor(op, 40 * kMiB, n, DType::kFp32);
    auto check = NcclCheck::Create(op, DType::kFp32, counts, n);
    ASSERT_TRUE(check) << check.error().message;
    for (int rank = 0; rank < n; ++rank) {
      for (const auto& [first, count] : check->Regions()) {
        for (size_t j = first; j < first + count; j += 17) {
          double want = 0;
          if (op == Collective::kAllReduce) {
            for (int k = 0; k < n; ++k) want += check->Input(k, j);
          } else if (op == Collective::kAllGather) {
            // recvbuff holds rank i's sendbuff at offset i x sendcount.
            want =
                check->Input(static_cast<int>(j / counts.send), j - j / counts.send * counts.send);
          } else {
            // rank r holds the r-th block of the reduced sendbuffs.
            for (int k = 0; k < n; ++k) want += check->Input(k, rank * counts.recv + j);
          }
          ASSERT_EQ(check->Expected(rank, j), want)
              << CollectiveName(op) << " rank " << rank << " at " << j;
        }
      }
    }
  }
}

TEST(NcclCheckTest, InputsDifferByRankAndPlace) {
  auto counts = CountsFor(Collective::kAllGather, 64 * kMiB, 4, DType::kFp32);
  auto check = NcclCheck::Create(Collective::kAllGather, DType::kFp32, counts, 4);
  ASSERT_TRUE(check);
  // A block from the wrong rank or the wrong place must read differently.
  std::set<double> by_rank, by_place;
  for (int r = 0; r < 4; ++r) by_rank.insert(check->Input(r, 5));
  for (size_t i = 0; i < 7; ++i) by_place.insert(check->Input(0, i));
  EXPECT_EQ(by_rank.size(), 4u);
  EXPECT_EQ(by_place.size(), 7u);
  // The pattern repeats with the host block the device doubles.
  EXPECT_EQ(check->Input(2, 3), check->Input(2, 3 + check->block_elements()));
}

TEST(NcclCheckTest, RegionsSpanTheWholeOutput) {
  auto counts = CountsFor(Collective::kAllReduce, 512 * kMiB, 2, DType::kFp32);
  auto check = NcclCheck::Create(Collective::kAllReduce, DType::kFp32, counts, 2);
  ASSERT_TRUE(check);
  auto regions = check->Regions();
  ASSERT_GE(regions.size(), 2u);
  EXPECT_EQ(regions.front().first, 0u);
  EXPECT_EQ(regions.back().first + regions.back().second, counts.recv);  // the last element
  for (const auto& [first, count] : regions) EXPECT_LE(first + count, counts.recv);

  auto small = CountsFor(Collective::kAllReduce, 1024, 2, DType::kFp32);
  auto tiny = NcclCheck::Create(Collective::kAllReduce, DType::kFp32, small, 2);
  ASSERT_TRUE(tiny);
  ASSERT_EQ(tiny->Regions().size(), 1u);
  EXPECT_EQ(tiny->Regions()[0].second, 256u);  // every element
}

}  // namespace
}  // namespace dlrig::bench
