// Each rule on a tree that reproduces its broken state with real file shapes, and the healthy
// trees (the H100 captures) where every rule must stay silent.
#include "rules/rules.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <tuple>

#include "machine_fixture.h"
#include "test_util.h"

namespace dlrig {
namespace {

using testing::Has;
using testing::kHealthyDev;
using testing::Machine;

TEST(RulesTest, CatalogueParsesAndEveryEntryIsComplete) {
  const auto& catalog = Catalog::BuiltIn();
  ASSERT_TRUE(catalog) << catalog.error().message;
  EXPECT_GE(catalog->entries().size(), 20u);
  for (const auto& e : catalog->entries()) {
    EXPECT_FALSE(e.fix.empty()) << e.id;
    for (const auto& cause : e.follows_from) EXPECT_NE(catalog->Find(cause), nullptr) << e.id;
  }
}

TEST(RulesTest, HealthyMachineIsSilent) {
  Machine m;
  m.WorkingDriver();
  EXPECT_EQ(m.Ids(), std::vector<std::string>{});
}

// Issue 14: an empty or unreadable tree gave "no problems found", exit 0. Without the PCI
// devices nothing can be judged: an error that names every basic source that failed.
TEST(RulesTest, UnreadableMachineIsAnErrorNotHealthy) {
  testing::TempTree empty;
  testing::Fixture f(empty.dir().string());
  Inventory inv = CollectInventory(f.ctx());
  auto findings = Diagnose(inv, *Catalog::BuiltIn());
  ASSERT_TRUE(findings) << findings.error().message;
  ASSERT_EQ(findings->size(), 1u);
  const Finding& unread = findings->front();
  EXPECT_EQ(unread.id, "machine-unreadable");
  EXPECT_EQ(unread.severity, Severity::kError);
  EXPECT_NE(unread.title.find("the tree at " + empty.dir().string()), std::string::npos)
      << unread.title;
  ASSERT_GE(unread.evidence.size(), 4u);
  EXPECT_EQ(unread.evidence[0].rfind("PCI devices: ", 0), 0u) << unread.evidence[0];
  EXPECT_TRUE(std::any_of(unread.evidence.begin(), unread.evidence.end(),
                          [](const std::string& e) { return e.rfind("CPU: ", 0) == 0; }));
  EXPECT_EQ(ExitCodeFor(*findings), 2);

  Machine m;  // readable, but the bus is gone
  m.WorkingDriver();
  m.Remove("sys");
  EXPECT_TRUE(Has(m.Ids(), "machine-unreadable")) << ::testing::PrintToString(m.Ids());
}

TEST(RulesTest, NouveauBoundIsTheRootOfTheMissingDriver) {
  Machine m;
  m.Driver("nouveau");
  m.Mkdir("lib/modules/6.8.0-45-generic/kernel");
  m.Write("lib/modules/6.8.0-45-generic/updates/dkms/nvidia.ko.zst", "");
  auto ids = m.Ids();
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(ids[0], "nouveau-or-nova-bound");
  EXPECT_TRUE(Has(ids, "nvidia-driver-not-loaded<-nouveau-or-nova-bound"));
}

TEST(RulesTest, NoModuleForTheRunningKernel) {
  Machine m;
  m.Mkdir("lib/modules/6.8.0-45-generic/kernel/drivers");
  m.Write("var/lib/dkms/nvidia/550.120/6.5.0-41-generic/x86_64/module/nvidia.ko", "");
  auto ids = m.Ids();
  EXPECT_TRUE(Has(ids, "kernel-upgrade-without-dkms")) << ::testing::PrintToString(ids);
}

TEST(RulesTest, SecureBootBlocksAnExistingModule) {
  Machine m;
  m.Write("lib/modules/6.8.0-45-generic/updates/dkms/nvidia.ko", "");
  m.Write("sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c",
          std::string("\x06\x00\x00\x00\x01", 5));
  auto ids = m.Ids();
  EXPECT_TRUE(Has(ids, "secure-boot-unsigned-module")) << ::testing::PrintToString(ids);
}

TEST(RulesTest, UvmNodeMissing) {
  Machine m;
  m.LoadedModule("580.95.05");
  m.Devices("crw-rw-rw- 1 root root 195,   0 Nov 22 17:01 /dev/nvidia0\n"
            "crw-rw-rw- 1 root root 195, 255 Nov 22 17:01 /dev/nvidiactl\n");
  EXPECT_TRUE(Has(m.Ids(), "nvidia-uvm-missing-or-stale"));
}

TEST(RulesTest, UserSpaceNewerThanTheRunningModule) {
  Machine m;
  m.LoadedModule("570.86.15", "580.95.05");
  m.Devices(kHealthyDev);
  auto ids = m.Ids();
  EXPECT_TRUE(Has(ids, "nvml-driver-library-mismatch")) << ::testing::PrintToString(ids);
}

TEST(RulesTest, StubLibcudaFirstOnLdLibraryPath) {
  Machine m;
  m.WorkingDriver();
  m.Write("usr/local/cuda-12.4/lib64/stubs/libcuda.so", "");
  m.Link("libcuda.so", "usr/local/cuda-12.4/lib64/stubs/libcuda.so.1");
  m.Env("LD_LIBRARY_PATH=/usr/local/cuda-12.4/lib64/stubs");
  auto ids = m.Ids();
  EXPECT_TRUE(Has(ids, "libcuda-stub-library")) << ::testing::PrintToString(ids);
}

TEST(RulesTest, NarrowPcieLinkButNotAnIdleGenDownshift) {
  Machine m;
  m.WorkingDriver();
  m.Write("sys/bus/pci/devices/0000:01:00.0/current_link_speed", "2.5 GT/s PCIe\n");
  m.Write("sys/bus/pci/devices/0000:01:00.0/max_link_speed", "16.0 GT/s PCIe\n");
  EXPECT_EQ(m.Ids(), std::vector<std::string>{});  // idle Gen1 at full width: fine
  m.Write("sys/bus/pci/devices/0000:01:00.0/current_link_width", "4\n");
  EXPECT_TRUE(Has(m.Ids(), "pcie-link-degraded"));
}

TEST(RulesTest, ShellVariablesAndShm) {
  Machine m;
  m.WorkingDriver();
  m.Env("CUDA_VISIBLE_DEVICES=");
  m.Write("proc/self/mountinfo", "25 24 0:23 / /dev/shm rw - tmpfs shm rw,size=65536k\n");
  auto ids = m.Ids();
  EXPECT_TRUE(Has(ids, "cuda-visible-devices-misconfigured"));
  EXPECT_TRUE(Has(ids, "dev-shm-too-small"));
}

TEST(RulesTest, CpuOnlyTorchInAVenv) {
  Machine m;
  m.WorkingDriver();
  m.TorchVenv("2.9.1+cpu", "None");
  auto ids = m.Ids();
  EXPECT_TRUE(Has(ids, "torch-cpu-only-wheel")) << ::testing::PrintToString(ids);
}

// A cu128 torch on a 535 driver: CUDA 12.x runs there through minor-version compatibility
// (>= 525.60.13), a cu130 build does not (13.x needs >= 580).
TEST(RulesTest, DriverTooOldForTheFrameworksCuda) {
  for (auto [variant, cuda, expect] : {std::tuple{"cu128", "12.8", false},
                                       std::tuple{"cu130", "13.0", true}}) {
    Machine m;
    m.LoadedModule("535.183.01");
    m.Devices(kHealthyDev);
    m.TorchVenv(std::string("2.9.1+") + variant, cuda);
    auto ids = m.Ids();
    EXPECT_EQ(Has(ids, "cuda-driver-insufficient"), expect) << variant << ::testing::PrintToString(ids);
  }
}

// torch cu130 in a venv, nvcc 12.4 first on PATH: extension builds refuse the mismatch.
TEST(RulesTest, NvccMajorDiffersFromTorchs) {
  Machine m;
  m.WorkingDriver();
  m.TorchVenv("2.11.0+cu130", "13.0");
  m.Write("usr/local/cuda-12.4/bin/nvcc", "");
  m.Write("usr/local/cuda-12.4/version.json", R"({"cuda": {"name": "CUDA SDK", "version": "12.4.1"}})");
  m.Env("PATH=/usr/local/cuda-12.4/bin:/usr/bin");
  auto ids = m.Ids();
  EXPECT_TRUE(Has(ids, "nvcc-torch-cuda-mismatch")) << ::testing::PrintToString(ids);
}

TEST(RulesTest, UnheldDriverPackageAndCondaInit) {
  Machine m;
  m.WorkingDriver();
  m.Write("var/lib/dpkg/status",
          "Package: nvidia-driver-580-open\nStatus: install ok installed\nVersion: 580.95.05-0ubuntu1\n\n"
          "Package: libnvidia-compute-580\nStatus: hold ok installed\nVersion: 580.95.05-0ubuntu1\n");
  m.Write("root/.bashrc", "# >>> conda initialize >>>\n__conda_setup=x\n# <<< conda initialize <<<\n");
  auto ids = m.Ids();
  EXPECT_TRUE(Has(ids, "driver-package-not-held")) << ::testing::PrintToString(ids);
  EXPECT_TRUE(Has(ids, "conda-init-in-shell-startup"));
}

TEST(RulesTest, CapturedHealthyMachinesAreSilent) {
  auto cap = testing::H100Capture();
  if (!cap) GTEST_SKIP() << "capture not present";
  auto findings = Diagnose(CollectInventory(cap->ctx()), *Catalog::BuiltIn());
  ASSERT_TRUE(findings);
  for (const auto& f : *findings) ADD_FAILURE() << f.id << ": " << f.title;
}

}  // namespace
}  // namespace dlrig
