// `dlrig check` end to end on extras, TensorFlow and JAX: the real binary on the fixture files
// in tests/fixtures/check/extras/, against described machines; exit codes and flagged lines.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli_run.h"

namespace dlrig {
namespace {

using testing::CliRun;
using testing::RunCli;

std::string Fixture(const std::string& rel) {
  return std::string(DLRIG_SOURCE_DIR) + "/tests/fixtures/check/extras/" + rel;
}

CliRun Check(std::vector<std::string> args) {
  std::vector<std::string> argv = {DLRIG_BINARY, "check"};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCli(argv);
}

// The findings of the first file, by "id@line".
std::vector<std::string> Findings(const CliRun& run) {
  std::vector<std::string> out;
  auto doc = nlohmann::json::parse(run.out, nullptr, false);
  if (doc.is_discarded()) return {"not json: " + run.out + run.err};
  for (const auto& f : doc["files"][0]["findings"])
    out.push_back(f["id"].get<std::string>() + "@" + std::to_string(f["line"].get<int>()));
  return out;
}

bool Has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

TEST(CheckExtrasCli, TensorflowAndCudaOnDriver470) {
  CliRun run = Check(
      {Fixture("requirements-tf-and-cuda.txt"), "--gpu", "RTX 3090", "--driver", "470.223.02"});
  EXPECT_EQ(run.exit_code, 2) << run.out << run.err;
  EXPECT_NE(run.out.find("requirements-tf-and-cuda.txt:2  tensorflow[and-cuda]==2.15.1"),
            std::string::npos)
      << run.out;
  EXPECT_NE(run.out.find("change to: tensorflow[and-cuda]==2.14.*"), std::string::npos) << run.out;
  CliRun ok = Check(
      {Fixture("requirements-tf-and-cuda.txt"), "--gpu", "RTX 3090", "--driver", "535.183.01"});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
}

TEST(CheckExtrasCli, FlashAttentionOnPascal) {
  CliRun run = Check({Fixture("requirements-flash-attn-pascal.txt"), "--gpu", "GTX 1080 Ti",
                      "--driver", "580.95.05", "--json"});
  EXPECT_EQ(run.exit_code, 2) << run.out << run.err;
  auto fs = Findings(run);
  EXPECT_TRUE(Has(fs, "extra-gpu-unsupported@3")) << ::testing::PrintToString(fs);
  CliRun ampere = Check({Fixture("requirements-flash-attn-pascal.txt"), "--gpu", "RTX 3090",
                         "--driver", "535.183.01"});
  EXPECT_EQ(ampere.exit_code, 0) << ampere.out << ampere.err;
}

TEST(CheckExtrasCli, XformersVllmJax) {
  CliRun xf = Check(
      {Fixture("requirements-xformers-torch.txt"), "--gpu", "RTX 3090", "--driver", "535.183.01"});
  EXPECT_EQ(xf.exit_code, 2) << xf.out << xf.err;
  EXPECT_NE(xf.out.find("change to: xformers==0.0.28.post1"), std::string::npos) << xf.out;

  CliRun vllm = Check({Fixture("requirements-vllm.txt"), "--gpu", "H100", "--driver", "580.95.05"});
  EXPECT_EQ(vllm.exit_code, 0) << vllm.out << vllm.err;
  CliRun volta = Check({Fixture("requirements-vllm.txt"), "--gpu", "Tesla V100 SXM2 32GB",
                        "--driver", "580.95.05", "--json"});
  EXPECT_EQ(volta.exit_code, 2) << volta.out << volta.err;
  EXPECT_TRUE(Has(Findings(volta), "extra-gpu-unsupported@1")) << volta.out;

  CliRun jax =
      Check({Fixture("requirements-jax-cuda13.txt"), "--gpu", "A100", "--driver", "535.183.01"});
  EXPECT_EQ(jax.exit_code, 2) << jax.out << jax.err;
  EXPECT_NE(jax.out.find("change to: jax[cuda12]==0.8.1"), std::string::npos) << jax.out;
}

TEST(CheckExtrasCli, EveryFileKindOnPascalAndDriver470) {
  for (const char* f : {"environment.yml", "pyproject.toml", "Dockerfile"}) {
    CliRun run = Check({Fixture(f), "--gpu", "GTX 1080 Ti", "--driver", "470.223.02", "--json"});
    EXPECT_EQ(run.exit_code, 2) << f << run.out << run.err;
    auto fs = Findings(run);
    int flash = std::string(f) == "environment.yml" ? 10 : std::string(f) == "Dockerfile" ? 2 : 7;
    EXPECT_TRUE(Has(fs, "extra-gpu-unsupported@" + std::to_string(flash)))
        << f << ::testing::PrintToString(fs);
    if (std::string(f) != "pyproject.toml") {
      EXPECT_TRUE(Has(
          fs, "cuda-driver-insufficient@" + std::to_string(std::string(f) == "Dockerfile" ? 3 : 9)))
          << f << ::testing::PrintToString(fs);
    }
    CliRun a100 = Check({Fixture(f), "--gpu", "A100", "--driver", "535.183.01", "--nvcc", "12.1"});
    EXPECT_EQ(a100.exit_code, 0) << f << a100.out << a100.err;
  }
}

}  // namespace
}  // namespace dlrig
