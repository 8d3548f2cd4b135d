// `plan --gpu` / `check --gpu` end to end: an unknown or ambiguous GPU name is exit 64 with the
// names to choose from and no files written; a shared name of one chip plans and says which row
// it took; `--cc` plans for a card the catalogue lacks.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

#include "cli_run.h"

namespace dlrig {
namespace {

namespace fs = std::filesystem;
using testing::CliRun;

CliRun Dlrig(std::vector<std::string> args) {
  args.insert(args.begin(), DLRIG_BINARY);
  return testing::RunCli(args);
}

fs::path FreshDir(const std::string& name) {
  fs::path dir = fs::temp_directory_path() /
                 ("dlrig-gpu-names-" + std::to_string(::getpid()) + "-" + name);
  fs::remove_all(dir);
  return dir;
}

TEST(GpuNamesCli, UnknownGpuIsExit64WithSuggestionsAndNoFiles) {
  fs::path dir = FreshDir("unknown");
  CliRun run = Dlrig({"plan", "torch", "--offline", "--gpu", "RTX 9999", "--driver", "580.95.05", "-o",
                      dir.string()});
  EXPECT_EQ(run.exit_code, 64) << run.err;
  EXPECT_NE(run.err.find("unknown GPU 'RTX 9999'; did you mean: "), std::string::npos) << run.err;
  EXPECT_FALSE(fs::exists(dir));
  CliRun check = Dlrig({"check", "requirements.txt", "--gpu", "RTX 9999"});
  EXPECT_EQ(check.exit_code, 64) << check.err;
  EXPECT_NE(check.err.find("did you mean"), std::string::npos) << check.err;
}

TEST(GpuNamesCli, AmbiguousNameIsExit64ListingTheCandidates) {
  CliRun run = Dlrig({"plan", "torch", "--offline", "--gpu", "RTX 6000", "--driver", "580.95.05", "--json"});
  EXPECT_EQ(run.exit_code, 64) << run.err;
  EXPECT_NE(run.err.find("Quadro RTX 6000"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("RTX 6000 Ada Generation"), std::string::npos) << run.err;
}

TEST(GpuNamesCli, QuadroRtx6000PlansForTuring) {
  CliRun run = Dlrig({"plan", "torch", "--offline", "--gpu", "Quadro RTX 6000", "--driver", "580.95.05",
                      "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("\"compute_capability\": \"7.5\""), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("\"architecture\": \"Turing\""), std::string::npos) << run.out;
}

TEST(GpuNamesCli, SharedNameOfOneChipSaysWhichItTook) {
  CliRun run = Dlrig({"plan", "torch", "--offline", "--gpu", "A100", "--driver", "580.95.05"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.err.find("planned as A100"), std::string::npos) << run.err;
}

TEST(GpuNamesCli, ComputeCapabilityDescribesAnUnlistedCard) {
  CliRun run = Dlrig({"plan", "torch", "--offline", "--cc", "8.9", "--memory", "24", "--driver", "580.95.05",
                      "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("\"compute_capability\": \"8.9\""), std::string::npos) << run.out;
  CliRun bad = Dlrig({"plan", "torch", "--offline", "--cc", "4.2", "--driver", "580.95.05"});
  EXPECT_EQ(bad.exit_code, 64) << bad.err;
  EXPECT_NE(bad.err.find("unknown compute capability"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace dlrig
