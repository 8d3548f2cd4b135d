// The storage engine beside real fio with the same parameters, on the disk the build tree is on.
// It prints both figures and their ratio and asserts only a loose bound: agreement within 5% is
// measured by scripts/bench-storage.sh (alternating runs, medians), not by a timed test.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "bench/storage.h"
#include "core/exec.h"

namespace dlrig::bench {
namespace {

namespace fs = std::filesystem;

constexpr int kThreads = 2;
constexpr int kQueueDepth = 16;
constexpr double kSeconds = 3;

class StorageFio : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(DLRIG_BINARY).parent_path() / ("storage-fio-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  StorageSpec Spec(StoragePattern pattern) const {
    StorageSpec s;
    s.dir = dir_.string();
    s.pattern = pattern;
    s.block_bytes = 1 << 20;
    s.threads = kThreads;
    s.queue_depth = kQueueDepth;
    s.seconds = kSeconds;
    s.file_bytes = 256ull << 20;
    return s;
  }

  /// fio's group bandwidth in bytes/s for `spec`, or the reason it could not run.
  Result<double> Fio(const StorageSpec& spec) const {
    std::vector<std::string> argv = {
        "fio",
        "--name=dlrig-" + std::to_string(getpid()),
        "--directory=" + spec.dir,
        "--rw=" + std::string(FioRwName(spec.pattern)),
        "--bs=" + std::to_string(spec.block_bytes),
        "--numjobs=" + std::to_string(spec.threads),
        "--iodepth=" + std::to_string(spec.queue_depth),
        "--size=" + std::to_string(spec.file_bytes),
        "--direct=1",
        "--ioengine=libaio",
        "--time_based",
        "--runtime=" + std::to_string(static_cast<int>(spec.seconds * 1000)) + "ms",
        "--group_reporting",
        "--unlink=1",
        "--output-format=json"};
    auto run = SystemRunner().Run(
        argv, {.deadline = std::chrono::seconds(120), .max_output_bytes = 4u << 20});
    if (!run) return tl::unexpected(run.error());
    if (run->exit_code != 0)
      return Fail(ErrorKind::kIo, "fio exited " + std::to_string(run->exit_code) + ": " + run->err);
    size_t brace = run->out.find('{');  // fio may print warnings before the JSON
    auto json = nlohmann::json::parse(run->out.substr(brace == std::string::npos ? 0 : brace),
                                      nullptr, false);
    const char* side = IsRead(spec.pattern) ? "read" : "write";
    if (json.is_discarded() || !json.contains("jobs") || json["jobs"].empty())
      return Fail(ErrorKind::kMalformed, "fio printed no JSON report: " + run->out.substr(0, 200));
    return json["jobs"][0][side]["bw_bytes"].get<double>();
  }

  void Compare(StoragePattern pattern) {
    if (!SystemRunner().Run({"fio", "--version"}))
      FAIL() << "fio is not installed: scripts/install-deps.sh test installs it";
    StorageSpec spec = Spec(pattern);
    auto ours = RunStorage(spec);
    ASSERT_TRUE(ours) << ours.error().message;
    auto fio = Fio(spec);
    ASSERT_TRUE(fio) << fio.error().message;
    double fio_gbs = *fio / 1e9;
    double ratio = ours->gb_per_s / fio_gbs;
    std::printf("storage %-9s %d threads QD%d 1 MiB: dlrig %.3f GB/s, fio %.3f GB/s, ratio %.3f\n",
                std::string(StoragePatternKey(pattern)).c_str(), kThreads, kQueueDepth,
                ours->gb_per_s, fio_gbs, ratio);
    EXPECT_GT(ours->bytes, 0u);
    // Wide: on a shared VM disk one run of either tool can swing 2x; a wrong byte count or an
    // engine that stalls is off by far more.
    EXPECT_GT(ratio, 0.25);
    EXPECT_LT(ratio, 4.0);
    EXPECT_TRUE(fs::is_empty(dir_)) << "both tools removed their files";
  }

  fs::path dir_;
};

TEST_F(StorageFio, SequentialReadMatchesFio) { Compare(StoragePattern::kSeqRead); }
TEST_F(StorageFio, SequentialWriteMatchesFio) { Compare(StoragePattern::kSeqWrite); }

}  // namespace
}  // namespace dlrig::bench
