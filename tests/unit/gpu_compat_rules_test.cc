// Each GPU's architecture against the installed driver branch and flavour, the toolkit and
// torch's compiled GPU code, on machines written as files (the GPU named by its PCI id).
#include <gtest/gtest.h>

#include "machine_fixture.h"

namespace dlrig {
namespace {

using testing::Has;
using testing::kHealthyDev;
using testing::Machine;

Machine WithGpu(const std::string& device_id) {
  Machine m;
  m.Write("sys/bus/pci/devices/0000:01:00.0/device", device_id + "\n");
  return m;
}

// The proprietary flavour, as /proc/driver/nvidia/version words it.
void ProprietaryModule(Machine& m, const std::string& version) {
  m.LoadedModule(version);
  m.Write("proc/driver/nvidia/version",
          "NVRM version: NVIDIA UNIX x86_64 Kernel Module  " + version +
              "  Release Build  (dvs-builder@U16)  Thu Oct  2 2025\n");
  m.Devices(kHealthyDev);
}

TEST(GpuCompatRules, VoltaOnABranchPastItsLast) {
  Machine m = WithGpu("0x1db1");  // Tesla V100 SXM2 16GB: last branch 580
  m.LoadedModule("580.95.05");
  m.Devices(kHealthyDev);
  EXPECT_FALSE(Has(m.Ids(), "legacy-gpu-unsupported-by-driver"));
  ProprietaryModule(m, "590.44.01");
  auto ids = m.Ids();
  EXPECT_TRUE(Has(ids, "legacy-gpu-unsupported-by-driver")) << ::testing::PrintToString(ids);
}

TEST(GpuCompatRules, BlackwellNeedsABranchAndTheOpenModule) {
  Machine m = WithGpu("0x2b85");  // GeForce RTX 5090
  m.LoadedModule("575.64.05");    // open flavour
  m.Devices(kHealthyDev);
  EXPECT_EQ(m.Ids(), std::vector<std::string>{});
  ProprietaryModule(m, "575.64.05");
  EXPECT_TRUE(Has(m.Ids(), "open-kernel-module-required"));
  m.LoadedModule("565.77");
  auto ids = m.Ids();
  EXPECT_TRUE(Has(ids, "driver-too-old-for-gpu")) << ::testing::PrintToString(ids);
}

TEST(GpuCompatRules, TorchWithoutCodeForTheGpu) {
  Machine m = WithGpu("0x2b85");  // sm_120
  m.LoadedModule("575.64.05");
  m.Devices(kHealthyDev);
  m.TorchVenv("2.5.1+cu124", "12.4");  // arch list ends at 9.0, no PTX
  auto ids = m.Ids();
  EXPECT_TRUE(Has(ids, "no-kernel-image-arch-missing")) << ::testing::PrintToString(ids);
  EXPECT_FALSE(Has(ids, "gpu-too-old-for-framework"));
}

TEST(GpuCompatRules, TorchThatDroppedTheGpu) {
  Machine m = WithGpu("0x1db1");  // V100, 7.0
  m.WorkingDriver();
  m.TorchVenv("2.5.1+cu124", "12.4");  // still has 7.0
  EXPECT_FALSE(Has(m.Ids(), "gpu-too-old-for-framework"));
  m.TorchVenv("2.9.1+cu130", "13.0");  // starts at 7.5
  auto ids = m.Ids();
  EXPECT_TRUE(Has(ids, "gpu-too-old-for-framework")) << ::testing::PrintToString(ids);
}

TEST(GpuCompatRules, SameMajorSassRunsOnANewerMinor) {
  Machine m;  // RTX 4090, 8.9: torch 2.1 cu121 has sm_86, which runs there
  m.WorkingDriver();
  m.TorchVenv("2.1.2+cu121", "12.1");
  auto ids = m.Ids();
  EXPECT_FALSE(Has(ids, "no-kernel-image-arch-missing")) << ::testing::PrintToString(ids);
  EXPECT_FALSE(Has(ids, "gpu-too-old-for-framework"));
}

TEST(GpuCompatRules, NvccTooOldForTheGpu) {
  Machine m = WithGpu("0x2b85");
  m.LoadedModule("575.64.05");
  m.Devices(kHealthyDev);
  m.Write("usr/local/cuda-12.4/bin/nvcc", "");
  m.Write("usr/local/cuda-12.4/version.json", R"({"cuda": {"name": "CUDA SDK", "version": "12.4.1"}})");
  m.Env("PATH=/usr/local/cuda-12.4/bin:/usr/bin");
  auto ids = m.Ids();
  EXPECT_TRUE(Has(ids, "nvcc-unsupported-gpu-arch")) << ::testing::PrintToString(ids);
  m.Write("usr/local/cuda-12.8/bin/nvcc", "");
  m.Write("usr/local/cuda-12.8/version.json", R"({"cuda": {"name": "CUDA SDK", "version": "12.8.1"}})");
  m.Env("PATH=/usr/local/cuda-12.8/bin:/usr/bin");
  EXPECT_FALSE(Has(m.Ids(), "nvcc-unsupported-gpu-arch"));
}

}  // namespace
}  // namespace dlrig
