// plan with the ecosystem's resolver: the real pip (a venv of the plan's Python, or
// --python-version when this machine lacks it) resolves against PyPI, and the tests read the
// answer from dlrig.plan/1 JSON: exact pins, the chosen CUDA variant's wheels, no CPU-only
// TensorFlow, no CUDA 13 wheel under a 12.x driver. Skipped with the reason when PyPI is not
// reachable. download.pytorch.org is not reachable from CI: its variants must fall back to the
// tables' pins, and say so.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "cli_run.h"
#include "report/json_util.h"

namespace dlrig {
namespace {

namespace fs = std::filesystem;
using testing::CliRun;

CliRun Exec(std::vector<std::string> argv, int timeout_ms = 400000) {
  return testing::RunCli(argv, std::chrono::milliseconds(timeout_ms));
}

bool PypiAnswers() {
  static const bool answers =
      Exec({"python3", "-c",
            "import urllib.request; urllib.request.urlopen('https://pypi.org/simple/pip/', timeout=15)"},
           30000)
          .exit_code == 0;
  return answers;
}

json PlanJsonOf(std::vector<std::string> args) {
  args.insert(args.begin(), {DLRIG_BINARY, "plan", "--json", "--resolver", "pip",
                             "--resolve-timeout", "300"});
  CliRun run = Exec(args);
  EXPECT_EQ(run.exit_code, 0) << run.err;
  try {
    return json::parse(run.out);
  } catch (const json::exception& e) {
    ADD_FAILURE() << e.what() << "\n" << run.out.substr(0, 500);
    return json::object();
  }
}

std::vector<std::string> Names(const json& plan) {
  std::vector<std::string> out;
  for (const json& p : plan["resolver"]["packages"]) out.push_back(p["name"].get<std::string>());
  return out;
}

/// The CUDA majors of the nvidia-*-cuNN wheels in the answer.
std::set<int> CudaMajors(const json& plan) {
  std::set<int> out;
  for (const std::string& n : Names(plan)) {
    std::string lower = n;
    std::replace(lower.begin(), lower.end(), '_', '-');
    size_t cu = lower.rfind("-cu");
    if (lower.rfind("nvidia-", 0) == 0 && cu != std::string::npos)
      out.insert(std::stoi(lower.substr(cu + 3)));
  }
  return out;
}

bool HasLine(const json& plan, const std::string& prefix) {
  for (const json& r : plan["stack"]["requirements"])
    if (r.get<std::string>().rfind(prefix, 0) == 0) return true;
  return false;
}

// torch 2.10's PyPI build is cu128: under a 550 driver (CUDA 12.4, minor-version compatible)
// the answer must hold CUDA 12 wheels only.
TEST(PlanResolve, TorchPypiDefaultIsResolvedToExactPinsOfItsCuda) {
  if (!PypiAnswers()) GTEST_SKIP() << "PyPI (https://pypi.org/simple) does not answer from here";
  json plan = PlanJsonOf({"torch==2.10", "torchvision", "--gpu", "RTX 4090", "--driver",
                          "550.54.14", "--os", "ubuntu-24.04"});
  ASSERT_EQ(plan["resolver"]["verdict"], "resolved") << plan["resolver"].dump(2);
  EXPECT_EQ(plan["resolver"]["offline"], false);
  EXPECT_EQ(plan["stack"]["index_url"], nullptr);
  EXPECT_TRUE(HasLine(plan, "torch==2.10.0")) << plan["stack"]["requirements"].dump();
  EXPECT_TRUE(HasLine(plan, "torchvision==0.25.")) << plan["stack"]["requirements"].dump();
  std::set<int> majors = CudaMajors(plan);
  EXPECT_EQ(majors, std::set<int>{12}) << plan["resolver"]["packages"].dump();
}

TEST(PlanResolve, TensorflowOnAGpuResolvesWithItsCudaWheels) {
  if (!PypiAnswers()) GTEST_SKIP() << "PyPI (https://pypi.org/simple) does not answer from here";
  json plan = PlanJsonOf({"tensorflow", "--gpu", "RTX 3090", "--driver", "535.183.01", "--os",
                          "ubuntu-22.04"});
  ASSERT_EQ(plan["resolver"]["verdict"], "resolved") << plan["resolver"].dump(2);
  EXPECT_TRUE(HasLine(plan, "tensorflow[and-cuda]==2.")) << plan["stack"]["requirements"].dump();
  std::vector<std::string> names = Names(plan);
  EXPECT_NE(std::find(names.begin(), names.end(), "nvidia-cudnn-cu12"), names.end())
      << plan["resolver"]["packages"].dump();
  EXPECT_EQ(CudaMajors(plan), std::set<int>{12});
}

TEST(PlanResolve, JaxCuda12ResolvesWithItsPlugin) {
  if (!PypiAnswers()) GTEST_SKIP() << "PyPI (https://pypi.org/simple) does not answer from here";
  json plan = PlanJsonOf({"jax[cuda12]", "--gpu", "RTX 4090", "--driver", "580.95.05", "--os",
                          "ubuntu-24.04"});
  ASSERT_EQ(plan["resolver"]["verdict"], "resolved") << plan["resolver"].dump(2);
  EXPECT_TRUE(HasLine(plan, "jax[cuda12]==0.")) << plan["stack"]["requirements"].dump();
  std::vector<std::string> names = Names(plan);
  bool plugin = false;
  for (const std::string& n : names) plugin = plugin || n.rfind("jax-cuda12-plugin", 0) == 0 ||
                                               n.rfind("jax_cuda12_plugin", 0) == 0;
  EXPECT_TRUE(plugin) << plan["resolver"]["packages"].dump();
  EXPECT_EQ(CudaMajors(plan), std::set<int>{12});
}

// A download.pytorch.org variant: resolved when that index answers, else the tables' exact
// +cu126 pins with the index alone, and every file says OFFLINE.
TEST(PlanResolve, PytorchIndexVariantFallsBackClearlyWhenTheIndexIsUnreachable) {
  fs::path dir = fs::temp_directory_path() / ("dlrig-resolve-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  CliRun run = Exec({DLRIG_BINARY, "plan", "torch", "torchvision", "--gpu", "RTX 3090", "--driver",
                     "550.54", "--os", "ubuntu-22.04", "--resolver", "pip", "--resolve-timeout",
                     "90", "-o", dir.string()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  std::ifstream in(dir / "requirements.txt");
  std::string req((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(req.find("--index-url https://download.pytorch.org/whl/cu126"), std::string::npos) << req;
  EXPECT_EQ(req.find("--extra-index-url"), std::string::npos) << req;
  EXPECT_NE(req.find("+cu126\n"), std::string::npos) << req;
  bool offline = req.find("# OFFLINE: versions from dlrig's tables") != std::string::npos;
  bool resolved = req.find("# Versions: exact pins from pip") != std::string::npos;
  EXPECT_TRUE(offline != resolved) << req;
  if (offline) {
    EXPECT_NE(req.find("torch==2.14.1+cu126"), std::string::npos) << req;
    std::ifstream setup(dir / "setup.sh");
    std::string text((std::istreambuf_iterator<char>(setup)), std::istreambuf_iterator<char>());
    EXPECT_NE(text.find("# OFFLINE"), std::string::npos);
  }
  fs::remove_all(dir);
}

TEST(PlanResolve, OfflineFlagNeverRunsTheResolver) {
  json plan;
  CliRun run = Exec({DLRIG_BINARY, "plan", "--json", "--offline", "torch", "--gpu", "RTX 4090",
                     "--driver", "580.95.05", "--os", "ubuntu-24.04"}, 30000);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  plan = json::parse(run.out);
  EXPECT_EQ(plan["resolver"]["ran"], false);
  EXPECT_EQ(plan["resolver"]["offline"], true);
  EXPECT_EQ(plan["resolver"]["message"], "--offline");
  EXPECT_TRUE(HasLine(plan, "torch==2.15.0"));  // 2.15 is PyPI's cu132: no tag, no index line
}

}  // namespace
}  // namespace dlrig
