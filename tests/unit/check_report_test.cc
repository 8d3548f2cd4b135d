// How `dlrig check` reports: text grouped by file, JSON dlrig.check/1, the exit code.
#include "plan/check_report.h"

#include <gtest/gtest.h>

#include "cli/commands.h"

namespace dlrig {
namespace {

CheckFinding Finding(Severity s, int line) {
  return CheckFinding{.id = "cuda-driver-insufficient",
                      .severity = s,
                      .at = {"environment.yml", line, "- pytorch-cuda=12.1"},
                      .what = "CUDA 12.1 needs a newer driver",
                      .why = "CUDA 12.1 needs driver >= 525.60.13",
                      .source = "data/cuda-drivers.toml: release notes",
                      .replacement = "- pytorch-cuda=11.8"};
}

MachineSpec Described() {
  MachineSpec m;
  m.origin = "described";
  m.gpus.push_back(
      PlanGpu{.name = "GeForce RTX 3090", .compute_capability = Version::Parse("8.6")});
  m.driver = Version::Parse("470.223.02");
  return m;
}

TEST(CheckReport, ExitCodeIsTheWorstOutcome) {
  EXPECT_EQ(CheckExitCode({}), kExitHealthy);
  EXPECT_EQ(CheckExitCode({{.path = "a", .kind = "conda"}}), kExitHealthy);
  EXPECT_EQ(CheckExitCode({{.path = "a", .findings = {Finding(Severity::kWarning, 1)}}}),
            kExitWarnings);
  EXPECT_EQ(
      CheckExitCode({{.path = "a",
                      .findings = {Finding(Severity::kWarning, 1), Finding(Severity::kError, 2)}}}),
      kExitErrors);
  // An unreadable file is a usage error even when another file has errors.
  EXPECT_EQ(CheckExitCode({{.path = "a", .findings = {Finding(Severity::kError, 2)}},
                           {.path = "b", .error = "gone"}}),
            kExitUsage);
}

TEST(CheckReport, JsonSchema) {
  auto doc = CheckJson(
      Described(),
      {{.path = "environment.yml", .kind = "conda", .findings = {Finding(Severity::kError, 12)}},
       {.path = "missing.txt", .error = "cannot read missing.txt: no such file"}});
  EXPECT_EQ(doc["schema"], "dlrig.check/1");
  EXPECT_EQ(doc["machine"]["driver"], "470.223.02");
  EXPECT_EQ(doc["machine"]["driver_cuda"], "11.4");  // from data/cuda-drivers.toml
  EXPECT_TRUE(doc["machine"]["nvcc"].is_null());
  ASSERT_EQ(doc["files"].size(), 2u);
  const auto& f = doc["files"][0]["findings"][0];
  EXPECT_EQ(f["line"], 12);
  EXPECT_EQ(f["severity"], "error");
  EXPECT_EQ(f["replacement"], "- pytorch-cuda=11.8");
  EXPECT_TRUE(f["fix"].is_null());
  EXPECT_EQ(doc["files"][1]["error"], "cannot read missing.txt: no such file");
  EXPECT_EQ(doc["summary"]["errors"], 1);
  EXPECT_EQ(doc["summary"]["exit_code"], 64);
}

TEST(CheckReport, TextGroupsByFile) {
  std::string text = CheckText(
      Described(),
      {{.path = "environment.yml", .kind = "conda", .findings = {Finding(Severity::kError, 12)}},
       {.path = "requirements.txt", .kind = "requirements"}});
  EXPECT_NE(text.find("driver 470.223.02 (CUDA 11.4)"), std::string::npos) << text;
  size_t env = text.find("\nenvironment.yml (conda)\n");
  size_t req = text.find("\nrequirements.txt (requirements)\n");
  ASSERT_NE(env, std::string::npos) << text;
  ASSERT_NE(req, std::string::npos) << text;
  size_t line = text.find("environment.yml:12  - pytorch-cuda=12.1");
  EXPECT_TRUE(line > env && line < req) << text;
  EXPECT_NE(text.find("change to: - pytorch-cuda=11.8"), std::string::npos);
  EXPECT_NE(text.find("ok: every line can work here"), std::string::npos);
}

}  // namespace
}  // namespace dlrig
