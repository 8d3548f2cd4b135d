// One fault end to end: the real binary, its loader search pointed at the fault-injection NVML
// with LD_LIBRARY_PATH (the way a stray library directory would be), must report the GPU's
// facts in --json and the finding the fault calls for.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "../unit/test_util.h"
#include "core/exec.h"

namespace dlrig {
namespace {

using nlohmann::json;

struct DoctorRun {
  int exit_code = -1;
  json doc;
};

DoctorRun Doctor(const testing::TempTree& tree, const std::string& config) {
  tree.Write("fake-nvml.conf", config);
  std::string dir = std::filesystem::path(DLRIG_FAKE_NVML_LIBRARY).parent_path().string();
  SystemRunner runner;
  auto r = runner.Run({"env", "LD_LIBRARY_PATH=" + dir,
                       "DLRIG_FAKE_NVML=" + (tree.dir() / "fake-nvml.conf").string(), DLRIG_BINARY,
                       "doctor", "--json"},
                      ExecOptions{std::chrono::milliseconds(60000), 64u << 20});
  if (!r) return {};
  return {r->exit_code, json::parse(r->out, nullptr, false)};
}

std::vector<json> Findings(const json& doc, const std::string& id) {
  std::vector<json> out;
  for (auto& f : doc["findings"])
    if (f["id"] == id) out.push_back(f);
  return out;
}

TEST(FakeNvmlDoctor, ProhibitedComputeModeEndToEnd) {
  testing::TempTree tree;
  DoctorRun run = Doctor(tree,
                         "device_count=1\ngpu0.name=Fake H100\ngpu0.pci_bus_id=00000000:3B:00.0\n"
                         "gpu0.compute_mode=2\n");
  ASSERT_FALSE(run.doc.is_discarded());
  auto& nvml = run.doc["user_driver"]["dlopen"]["nvml"];
  EXPECT_EQ(nvml["loaded_path"], DLRIG_FAKE_NVML_LIBRARY);
  ASSERT_EQ(nvml["devices"].size(), 1u);
  EXPECT_EQ(nvml["devices"][0]["name"], "Fake H100");
  EXPECT_EQ(nvml["devices"][0]["compute_mode"], "Prohibited");
  EXPECT_EQ(nvml["devices"][0]["mig_devices"]["unavailable"], "unsupported");  // MIG off
  auto modes = Findings(run.doc, "compute-mode-restricted");
  ASSERT_EQ(modes.size(), 1u) << run.doc["findings"].dump(2);
  EXPECT_EQ(modes[0]["subject"], "GPU 0000:3b:00.0");
  EXPECT_EQ(modes[0]["severity"], "error");
  EXPECT_EQ(run.exit_code, 2);
}

TEST(FakeNvmlDoctor, HealthyFakeGpuHasNoGpuHealthFinding) {
  testing::TempTree tree;
  DoctorRun run = Doctor(tree, "device_count=1\ngpu0.ecc_mode=1\n");
  ASSERT_FALSE(run.doc.is_discarded());
  ASSERT_EQ(run.doc["user_driver"]["dlopen"]["nvml"]["devices"].size(), 1u);
  for (const char* id : {"compute-mode-restricted", "ecc-uncorrectable-errors",
                         "row-remap-pending-or-failed", "mig-enabled-no-instances"})
    EXPECT_TRUE(Findings(run.doc, id).empty()) << id;
}

}  // namespace
}  // namespace dlrig
