// `dlrig check` end to end: the real binary on the fixture files, against described machines.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "../unit/test_util.h"
#include "core/exec.h"

namespace dlrig {
namespace {

struct CheckRun {
  int exit_code = -1;
  std::string out, err;
  nlohmann::json doc;
};

std::string Fixture(const std::string& rel) {
  return std::string(DLRIG_SOURCE_DIR) + "/tests/fixtures/check/" + rel;
}

CheckRun Check(std::vector<std::string> args) {
  std::vector<std::string> argv = {DLRIG_BINARY, "check"};
  argv.insert(argv.end(), args.begin(), args.end());
  SystemRunner runner;
  auto r = runner.Run(argv, ExecOptions{std::chrono::milliseconds(60000), 16u << 20});
  if (!r) return {};
  return {r->exit_code, r->out, r->err, nlohmann::json::parse(r->out, nullptr, false)};
}

TEST(CheckCli, SeedCondaOnDescribedMachines) {
  CheckRun ok = Check({Fixture("seed-conda/environment.yml"), "--gpu", "RTX 3090", "--driver",
                       "535.183", "--json"});
  ASSERT_FALSE(ok.doc.is_discarded()) << ok.out << ok.err;
  EXPECT_EQ(ok.exit_code, 0) << ok.out;
  EXPECT_EQ(ok.doc["schema"], "dlrig.check/1");
  EXPECT_EQ(ok.doc["machine"]["gpus"][0]["compute_capability"], "8.6");
  EXPECT_TRUE(ok.doc["files"][0]["findings"].empty());

  CheckRun old =
      Check({Fixture("seed-conda/environment.yml"), "--gpu", "RTX 3090", "--driver", "470.223.02"});
  EXPECT_EQ(old.exit_code, 2) << old.out << old.err;
  EXPECT_NE(old.out.find("environment.yml:11  - pytorch-cuda=12.1"), std::string::npos) << old.out;
  EXPECT_NE(old.out.find("change to: - pytorch-cuda=11.8"), std::string::npos) << old.out;
}

TEST(CheckCli, PascalOnCu128Wheels) {
  CheckRun run = Check({Fixture("pascal-cu128/requirements.txt"), "--gpu", "GTX 1080 Ti",
                        "--driver", "580.95.05", "--json"});
  ASSERT_FALSE(run.doc.is_discarded()) << run.out << run.err;
  EXPECT_EQ(run.exit_code, 2);
  const auto& f = run.doc["files"][0]["findings"][0];
  EXPECT_EQ(f["id"], "gpu-too-old-for-framework");
  EXPECT_EQ(f["line"], 2);
  EXPECT_EQ(f["replacement"], "--index-url https://download.pytorch.org/whl/cu126");
}

TEST(CheckCli, SeveralFilesAndKinds) {
  CheckRun run =
      Check({Fixture("compose/docker-compose.yml"), Fixture("seed-megatron/requirements-apex.txt"),
             Fixture("good/Dockerfile"), "--gpu", "RTX 4090", "--driver", "550.54.14", "--json"});
  ASSERT_FALSE(run.doc.is_discarded()) << run.out << run.err;
  EXPECT_EQ(run.exit_code, 2);
  ASSERT_EQ(run.doc["files"].size(), 3u);
  EXPECT_EQ(run.doc["files"][0]["type"], "compose");
  EXPECT_EQ(run.doc["files"][0]["findings"][0]["id"], "container-capabilities-missing-compute");
  EXPECT_EQ(run.doc["files"][1]["type"], "requirements");
  EXPECT_EQ(run.doc["files"][1]["findings"][0]["id"], "nvcc-missing-cuda-home-unset");
  EXPECT_EQ(run.doc["files"][2]["type"], "dockerfile");
  EXPECT_TRUE(run.doc["files"][2]["findings"].empty());

  // A described toolkit makes the Apex build possible.
  CheckRun nvcc = Check({Fixture("seed-megatron/requirements-apex.txt"), "--gpu", "RTX 4090",
                         "--driver", "550.54.14", "--nvcc", "12.4"});
  EXPECT_EQ(nvcc.exit_code, 0) << nvcc.out;
}

TEST(CheckCli, UnreadableAndMalformedFilesAreUsageErrors) {
  CheckRun run = Check({Fixture("bad/malformed.yml"), "/nonexistent/requirements.txt",
                        Fixture("bad/requirements-garbage.txt"), Fixture("good/requirements.txt"),
                        "--gpu", "RTX 3090", "--driver", "535.183", "--json"});
  ASSERT_FALSE(run.doc.is_discarded()) << run.out << run.err;
  EXPECT_EQ(run.exit_code, 64);
  // libyaml stops at the end of the file; the sequence left open is named too.
  EXPECT_NE(run.err.find("malformed.yml:5:1: while parsing a flow sequence (started at line 4)"),
            std::string::npos)
      << run.err;
  EXPECT_NE(run.err.find("/nonexistent/requirements.txt: no such file"), std::string::npos)
      << run.err;
  EXPECT_NE(run.err.find("requirements-garbage.txt:1:"), std::string::npos) << run.err;
  ASSERT_EQ(run.doc["files"].size(), 4u);
  EXPECT_TRUE(run.doc["files"][3]["error"].is_null());  // the good file was still checked
  EXPECT_TRUE(run.doc["files"][3]["findings"].empty());

  EXPECT_EQ(Check({"--type", "nonsense", Fixture("good/requirements.txt")}).exit_code, 64);
  EXPECT_EQ(Check({}).exit_code, 64);
  CheckRun gpu = Check({Fixture("good/requirements.txt"), "--gpu", "Voodoo 5"});
  EXPECT_EQ(gpu.exit_code, 64);
  EXPECT_NE(gpu.err.find("unknown GPU"), std::string::npos) << gpu.err;
}

TEST(CheckCli, TypeForcesTheReader) {
  testing::TempTree tree;
  tree.Write("deps", "torch==2.1.0+cu121\n");
  CheckRun run = Check({(tree.dir() / "deps").string(), "--type", "requirements", "--gpu",
                        "RTX 3090", "--driver", "470.223.02", "--json"});
  ASSERT_FALSE(run.doc.is_discarded()) << run.out << run.err;
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(run.doc["files"][0]["findings"][0]["replacement"], "torch==2.1.0+cu118");
}

}  // namespace
}  // namespace dlrig
