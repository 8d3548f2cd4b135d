#include "probe/kernel_driver.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace dlrig {
namespace {

constexpr const char* kOpen =
    "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.159.04  Release Build  "
    "(nixbld@)  \nGCC version:  gcc version 15.3.0 (GCC) \n";
constexpr const char* kProprietary =
    "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.144.03  Mon Dec 30 17:44:08 UTC 2024\n"
    "GCC version:  gcc version 12.3.0 (Ubuntu 12.3.0-1ubuntu1~22.04) \n";

TEST(KernelDriverTest, ProcVersionOpenAndProprietary) {
  auto open = ParseNvidiaProcVersion(kOpen);
  ASSERT_TRUE(open);
  EXPECT_EQ(open->version, "580.159.04");
  EXPECT_TRUE(open->open_module);
  EXPECT_EQ(open->gcc, "gcc version 15.3.0 (GCC)");
  auto prop = ParseNvidiaProcVersion(kProprietary);
  ASSERT_TRUE(prop);
  EXPECT_EQ(prop->version, "550.144.03");
  EXPECT_FALSE(prop->open_module);
}

TEST(KernelDriverTest, GarbageVersionIsMalformed) {
  for (std::string text : {std::string(), std::string("garbage\n"),
                           std::string("NVRM version: no numbers here\n"),
                           std::string("\xff\xfe\0NVRM", 7)}) {
    auto v = ParseNvidiaProcVersion(text);
    ASSERT_FALSE(v) << text;
    EXPECT_EQ(v.error().kind, ErrorKind::kMalformed);
  }
}

TEST(KernelDriverTest, ModulesKeepOnlyGpuDrivers) {
  auto mods = ParseProcModules(
      "nouveau 2believe 1 - Live 0x0\nnvidia_uvm 1830912 0 - Live 0xffff (O)\n"
      "ext4 1 2 - Live 0x0\nbroken\n");
  ASSERT_EQ(mods.size(), 2u);
  EXPECT_EQ(mods[0].name, "nouveau");
  EXPECT_EQ(mods[1].size_bytes, 1830912u);
  EXPECT_EQ(mods[1].state, "Live");
}

TEST(KernelDriverTest, DevListing) {
  auto nodes = ParseDevListing(
      "crw-rw-rw- 1 root root 195,   0 Nov 22 17:01 /dev/nvidia0\n"
      "crw-rw-rw- 1 root root 195, 255 Nov 22 17:01 /dev/nvidiactl\n\n"
      "/dev/nvidia-caps:\ntotal 0\ndrwxr-xr-x 2 root root 80 Nov 22 17:01 .\n"
      "cr-------- 1 root root 241, 1 Nov 22 17:01 nvidia-cap1\n"
      "crw-rw---- 1 root video 226,0 Nov 22 17:01 /dev/dri/card0\n");
  ASSERT_EQ(nodes.size(), 3u);
  EXPECT_EQ(nodes[1].path, "/dev/nvidiactl");
  EXPECT_EQ(nodes[1].minor, 255);
  EXPECT_EQ(nodes[0].mode, 0666u);
  EXPECT_EQ(nodes[2].path, "/dev/nvidia-caps/nvidia-cap1");
  EXPECT_EQ(nodes[2].mode, 0400u);
  EXPECT_EQ(nodes[2].major, 241);
}

// A capture's dev.listing in a form we cannot read is malformed, not "no device nodes".
TEST(KernelDriverTest, UnreadableDevListingIsMalformed) {
  testing::TempTree t;
  t.Write("dev.listing", "c0666 0 0 195:0 /dev/nvidia0\nc0666 0 0 238:0 /dev/nvidia-uvm\n");
  testing::Fixture f(t.dir().string());
  KernelDriverFacts k = ProbeKernelDriver(f.ctx());
  ASSERT_FALSE(k.devices);
  EXPECT_EQ(k.devices.error().kind, ErrorKind::kMalformed);
}

TEST(KernelDriverTest, SecureBootVariable) {
  EXPECT_EQ(*ParseSecureBootVar(std::string("\x06\0\0\0\x01", 5)), SecureBoot::kEnabled);
  EXPECT_EQ(*ParseSecureBootVar(std::string("\x06\0\0\0\0", 5)), SecureBoot::kDisabled);
  EXPECT_FALSE(ParseSecureBootVar(std::string("\x06\0\0\0", 4)));
  EXPECT_FALSE(ParseSecureBootVar(std::string("\x06\0\0\0\x07", 5)));
}

TEST(KernelDriverTest, BrokenMachine) {
  testing::TempTree t;
  t.Write("proc/modules", "nouveau 2believe 1 - Live 0x0\n");
  t.Write("proc/sys/kernel/osrelease", "6.8.0-45-generic\n");
  t.Write("proc/cmdline", "root=/dev/sda1 quiet\n");
  t.Mkdir("lib/modules/6.8.0-45-generic/kernel/drivers/gpu");
  t.Write("lib/modules/6.5.0-9-generic/updates/dkms/nvidia.ko.zst", "");
  t.Mkdir("var/lib/dkms/nvidia/550.54.14/6.5.0-9-generic/x86_64/module");
  t.Link("550.54.14/6.5.0-9-generic/x86_64", "var/lib/dkms/nvidia/kernel-6.5.0-9-generic-x86_64");
  t.Write("sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c",
          std::string("\x06\0\0\0\x01", 5));
  t.Write("etc/modprobe.d/alsa.conf", "options snd-hda-intel model=auto\n");
  t.Mkdir("dev");
  testing::Fixture f(t.dir().string());
  KernelDriverFacts k = ProbeKernelDriver(f.ctx());
  ASSERT_FALSE(k.proc_version);
  EXPECT_EQ(k.proc_version.error().kind, ErrorKind::kNotFound);
  ASSERT_TRUE(k.loaded);
  ASSERT_EQ(k.loaded->size(), 1u);
  EXPECT_EQ((*k.loaded)[0].name, "nouveau");
  EXPECT_FALSE(k.nouveau.blacklisted);
  ASSERT_TRUE(k.module_files);
  EXPECT_TRUE(k.module_files->empty());  // only the old kernel has one
  ASSERT_TRUE(k.dkms);
  ASSERT_EQ(k.dkms->size(), 1u);
  EXPECT_EQ((*k.dkms)[0].kernel, "6.5.0-9-generic");
  EXPECT_TRUE((*k.dkms)[0].installed);
  EXPECT_EQ(*k.secure_boot, SecureBoot::kEnabled);
  ASSERT_TRUE(k.devices);
  EXPECT_TRUE(k.devices->empty());
  EXPECT_FALSE(k.gpus);
}

TEST(KernelDriverTest, HealthyFixture) {
  testing::TempTree t;
  t.Write("proc/driver/nvidia/version", kProprietary);
  t.Write("proc/sys/kernel/osrelease", "6.8.0-45-generic\n");
  t.Write("lib/modules/6.8.0-45-generic/updates/dkms/nvidia.ko.zst", "");
  t.Write("lib/modules/6.8.0-45-generic/updates/dkms/nvidia-uvm.ko.zst", "");
  t.Write("etc/modprobe.d/blacklist-nvidia-nouveau.conf",
          "# comment\nblacklist nouveau\noptions nouveau modeset=0\n");
  t.Write("proc/driver/nvidia/gpus/0000:01:00.0/information",
          "Model: \t\t NVIDIA A100-SXM4-80GB\nGPU UUID: \t GPU-1234\n");
  t.Mkdir("sys/firmware");
  testing::Fixture f(t.dir().string());
  KernelDriverFacts k = ProbeKernelDriver(f.ctx());
  ASSERT_TRUE(k.proc_version);
  EXPECT_FALSE(k.proc_version->open_module);
  ASSERT_TRUE(k.module_files);
  EXPECT_EQ(k.module_files->size(), 2u);
  EXPECT_TRUE(k.nouveau.blacklisted);
  EXPECT_TRUE(k.nouveau.modeset_off);
  EXPECT_EQ(k.nouveau.evidence.size(), 2u);
  EXPECT_EQ(*k.secure_boot, SecureBoot::kNoEfi);
  ASSERT_TRUE(k.gpus);
  EXPECT_EQ((*k.gpus)[0].model, "NVIDIA A100-SXM4-80GB");
  EXPECT_EQ((*k.gpus)[0].uuid, "GPU-1234");
}

TEST(KernelDriverTest, H100Capture) {
  auto cap = testing::H100Capture();
  if (!cap) GTEST_SKIP() << "capture not present";
  KernelDriverFacts k = ProbeKernelDriver(cap->ctx());
  ASSERT_TRUE(k.proc_version) << k.proc_version.error().message;
  EXPECT_EQ(k.proc_version->version, "580.159.04");
  EXPECT_TRUE(k.proc_version->open_module);
  EXPECT_EQ(*k.module_version, "580.159.04");
  ASSERT_TRUE(k.loaded);
  std::vector<std::string> names;
  for (auto& m : *k.loaded) names.push_back(m.name);
  EXPECT_EQ(names, (std::vector<std::string>{"nvidia_uvm", "nvidia"}));
  ASSERT_TRUE(k.devices);
  EXPECT_EQ(k.devices->size(), 6u);
  EXPECT_EQ((*k.devices)[0].path, "/dev/nvidia0");
  ASSERT_TRUE(k.gpus);
  ASSERT_EQ(k.gpus->size(), 1u);
  EXPECT_EQ((*k.gpus)[0].model, "NVIDIA H100 80GB HBM3");
  EXPECT_EQ(*k.secure_boot, SecureBoot::kNoEfi);
}

}  // namespace
}  // namespace dlrig
