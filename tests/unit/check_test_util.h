// What the `dlrig check` unit tests share: machines built here, the built-in knowledge, and a
// project file (a fixture under tests/fixtures/check/ or a text) checked against them.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "plan/check.h"
#include "test_util.h"

namespace dlrig::check_test {

inline MachineSpec Machine(const char* gpu, const char* cc, const char* driver) {
  MachineSpec m;
  m.origin = "test";
  m.gpus.push_back(PlanGpu{.name = gpu, .compute_capability = Version::Parse(cc)});
  m.driver = Version::Parse(driver);
  return m;
}
inline MachineSpec Rtx3090(const char* driver = "535.183.01") {
  return Machine("GeForce RTX 3090", "8.6", driver);
}
inline MachineSpec Gtx1080Ti(const char* driver = "580.95.05") {
  return Machine("GeForce GTX 1080 Ti", "6.1", driver);
}

inline const CheckKnowledge& Kb() {
  static const Result<CheckKnowledge> kb = BuiltInCheckKnowledge();
  EXPECT_TRUE(kb) << kb.error().message;
  return *kb;
}

inline std::vector<CheckFinding> CheckFile(const std::string& path, const MachineSpec& m) {
  auto facts = LoadProjectFile(path, std::nullopt);
  EXPECT_TRUE(facts) << path << ": " << facts.error().message;
  if (!facts) return {};
  return CheckProject(*facts, m, Kb());
}

/// `rel` under tests/fixtures/check/.
inline std::vector<CheckFinding> Fixture(const std::string& rel, const MachineSpec& m) {
  return CheckFile(std::string(DLRIG_SOURCE_DIR) + "/tests/fixtures/check/" + rel, m);
}

inline std::vector<CheckFinding> Text(const std::string& name, const std::string& text,
                                      const MachineSpec& m) {
  testing::TempTree tree;
  tree.Write(name, text);
  return CheckFile((tree.dir() / name).string(), m);
}

inline const CheckFinding* ById(const std::vector<CheckFinding>& fs, std::string_view id,
                                int line = 0) {
  for (const auto& f : fs)
    if (f.id == id && (line == 0 || f.at.line == line)) return &f;
  return nullptr;
}

/// "id@line what -> replacement" per finding, for failure messages.
inline std::string Ids(const std::vector<CheckFinding>& fs) {
  std::string out;
  for (const auto& f : fs)
    out += f.id + "@" + std::to_string(f.at.line) + " " + f.what + " -> " + f.replacement + "\n";
  return out;
}

}  // namespace dlrig::check_test
