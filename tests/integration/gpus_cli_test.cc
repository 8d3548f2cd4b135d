// `dlrig gpus` end to end on the fault-injection NVML (DLRIG_NVML_LIBRARY): the facts it
// configures come out in --json, and every way NVML can fail is a clear message and exit 2.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "../unit/test_util.h"
#include "core/exec.h"

namespace dlrig {
namespace {

using nlohmann::json;

struct GpusRun {
  int exit_code = -1;
  std::string out, err;
  json doc;
};

GpusRun Gpus(const testing::TempTree& tree, const std::string& config, bool as_json = true) {
  tree.Write("fake-nvml.conf", config);
  std::vector<std::string> argv = {"env", std::string("DLRIG_NVML_LIBRARY=") + DLRIG_FAKE_NVML_LIBRARY,
                                   "DLRIG_FAKE_NVML=" + (tree.dir() / "fake-nvml.conf").string(),
                                   DLRIG_BINARY, "gpus"};
  if (as_json) argv.push_back("--json");
  SystemRunner runner;
  auto r = runner.Run(argv, ExecOptions{std::chrono::milliseconds(60000), 64u << 20});
  if (!r) return {};
  return {r->exit_code, r->out, r->err, json::parse(r->out, nullptr, false)};
}

TEST(GpusCli, TwoGpusWithTheirFacts) {
  testing::TempTree tree;
  GpusRun run = Gpus(tree,
                     "driver_version=580.159.04\ncuda_version=13000\ndevice_count=2\n"
                     "gpu0.name=NVIDIA H100 80GB HBM3\ngpu0.pci_bus_id=00000000:01:00.0\n"
                     "gpu0.memory_total=85520809984\ngpu0.temperature=31\ngpu0.ecc_mode=1\n"
                     "gpu1.name=NVIDIA H100 80GB HBM3\ngpu1.pci_bus_id=00000000:02:00.0\n"
                     "gpu1.fail.nvmlDeviceGetTemperature=3\n");
  ASSERT_FALSE(run.doc.is_discarded()) << run.out << run.err;
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.doc["schema"], "dlrig.gpus/1");
  EXPECT_EQ(run.doc["driver_version"], "580.159.04");
  EXPECT_EQ(run.doc["library"], DLRIG_FAKE_NVML_LIBRARY);
  ASSERT_EQ(run.doc["gpus"].size(), 2u);
  EXPECT_EQ(run.doc["gpus"][0]["memory_total_bytes"], 85520809984LL);
  EXPECT_EQ(run.doc["gpus"][0]["temperature_c"], 31);
  EXPECT_EQ(run.doc["gpus"][0]["ecc_enabled"], true);
  // Unsupported is said, never a 0.
  EXPECT_EQ(run.doc["gpus"][1]["temperature_c"]["unavailable"], "unsupported");

  GpusRun text = Gpus(tree, "device_count=1\ngpu0.name=Fake GPU\n", false);
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_NE(text.out.find("Fake GPU"), std::string::npos) << text.out;
}

TEST(GpusCli, EveryNvmlFailureIsAMessageAndExit2) {
  testing::TempTree tree;
  for (const char* config : {"init=18\n", "hang_in_init=1\n", "crash_in_init=1\n"}) {
    GpusRun run = Gpus(tree, config);
    EXPECT_EQ(run.exit_code, 2) << config;
    EXPECT_NE(run.err.find("no GPU can be described"), std::string::npos) << config << run.err;
    EXPECT_NE(run.err.find("dlrig doctor"), std::string::npos);
    ASSERT_FALSE(run.doc.is_discarded()) << config;
    EXPECT_TRUE(run.doc.contains("unavailable")) << config;
  }
  SystemRunner runner;
  auto missing = runner.Run({"env", "DLRIG_NVML_LIBRARY=/nonexistent/libnvidia-ml.so.1", DLRIG_BINARY, "gpus"},
                            ExecOptions{std::chrono::milliseconds(60000), 1u << 20});
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->exit_code, 2);
  EXPECT_NE(missing->err.find("cannot load NVML"), std::string::npos) << missing->err;
}

}  // namespace
}  // namespace dlrig
