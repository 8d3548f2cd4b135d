// Toolkit, container, WSL and OS-policy rules on machines written as files: each fires on its
// broken state and is silent on the healthy one.
#include <gtest/gtest.h>

#include "machine_fixture.h"
#include "probe/logind.h"
#include "probe/toolkit.h"

namespace dlrig {
namespace {

using testing::Has;
using testing::kHealthyDev;
using testing::Machine;

// The guard exactly as CUDA 13.0's include/crt/host_config.h writes it.
const char* const kHostConfig130 =
    "#if defined(__GNUC__)\n\n#if __GNUC__ > 15\n\n"
    "#error -- unsupported GNU version! gcc versions later than 15 are not supported! The nvcc "
    "flag '-allow-unsupported-compiler' can be used to override this version check\n\n"
    "#endif /* __GNUC__ > 15 */\n\n#if __GNUC__ < 6\n#error -- older\n#endif\n#endif\n";

TEST(ToolkitProbe, NewestGccComesFromTheGuardNotFromOtherChecks) {
  auto n = ParseNewestGcc(kHostConfig130);
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_EQ(*n, 15);
  EXPECT_FALSE(ParseNewestGcc("#if __GNUC__ > 15\n#define X 1\n#endif\n"));
}

TEST(ToolkitProbe, TheInstalledToolkitsGuardParses) {
  auto root = Root::Open("/");
  ASSERT_TRUE(root);
  auto text = root->ReadFile("/usr/local/cuda/include/crt/host_config.h", 1u << 20);
  if (!text) GTEST_SKIP() << "no CUDA toolkit at /usr/local/cuda";
  auto n = ParseNewestGcc(*text);
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_GE(*n, 5);
}

TEST(EnvironmentRules, CudaHomeWithoutLib64) {
  Machine m;
  m.WorkingDriver();
  m.Write("opt/conda/envs/ml/lib/libcudart.so.12.4.127", "");
  m.Link("libcudart.so.12.4.127", "opt/conda/envs/ml/lib/libcudart.so.12");
  m.Env("CUDA_HOME=/opt/conda/envs/ml");
  EXPECT_TRUE(Has(m.Ids(), "cuda-lib-vs-lib64"));  // runtime only, no dev link at all
  m.Mkdir("opt/conda/envs/ml/lib64");
  m.Link("../lib/libcudart.so.12", "opt/conda/envs/ml/lib64/libcudart.so");
  EXPECT_FALSE(Has(m.Ids(), "cuda-lib-vs-lib64"));
}

TEST(EnvironmentRules, LogindRemoveIpcForARegularUser) {
  Machine m;
  m.WorkingDriver();
  m.Write("usr/lib/systemd/systemd-logind", "");
  m.Write("etc/passwd", "root:x:0:0:root:/root:/bin/bash\nana::1000:1000::/home/ana:/bin/bash\n");
  m.Write("etc/systemd/logind.conf", "[Login]\n#RemoveIPC=yes\n");
  m.Env("USER=ana");
  auto ids = m.Ids();
  EXPECT_TRUE(Has(ids, "logind-removeipc-deletes-shm")) << ::testing::PrintToString(ids);
  m.Write("etc/systemd/logind.conf.d/50-hpc.conf", "[Login]\nRemoveIPC=no\n");
  EXPECT_FALSE(Has(m.Ids(), "logind-removeipc-deletes-shm"));
  m.Remove("etc/systemd/logind.conf.d");
  m.Write("var/lib/systemd/linger/ana", "");
  EXPECT_FALSE(Has(m.Ids(), "logind-removeipc-deletes-shm"));
}

TEST(EnvironmentRules, RemoveIpcParsing) {
  int line = 0;
  EXPECT_EQ(ParseRemoveIpc("[Login]\nRemoveIPC = no\nRemoveIPC=yes\n", &line), true);
  EXPECT_EQ(line, 3);
  EXPECT_EQ(ParseRemoveIpc("[Other]\nRemoveIPC=no\n"), std::nullopt);
  EXPECT_EQ(ParseRemoveIpc("# RemoveIPC=no\n"), std::nullopt);
}

// A docker container: /.dockerenv, and the host's GPU visible in sysfs.
Machine Container() {
  Machine m;
  m.Write(".dockerenv", "");
  m.Env("NVIDIA_VISIBLE_DEVICES=all");
  return m;
}

TEST(EnvironmentRules, ContainerStartedWithoutGpus) {
  Machine m = Container();
  m.Devices("");  // no /dev/nvidia* at all
  auto ids = m.Ids();
  EXPECT_TRUE(Has(ids, "container-started-without-gpus")) << ::testing::PrintToString(ids);
  EXPECT_FALSE(Has(ids, "nvidia-driver-not-loaded"));  // the host's module is out of sight
}

TEST(EnvironmentRules, ContainerWithoutTheComputeCapability) {
  Machine m = Container();
  m.Devices(kHealthyDev);
  m.Write("usr/lib/x86_64-linux-gnu/libnvidia-ml.so.580.95.05", "");
  m.Link("libnvidia-ml.so.580.95.05", "usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1");
  m.Write("proc/driver/nvidia/version",
          "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.95.05  Release Build\n");
  m.Env("NVIDIA_DRIVER_CAPABILITIES=utility");
  auto ids = m.Ids();
  EXPECT_TRUE(Has(ids, "container-capabilities-missing-compute")) << ::testing::PrintToString(ids);
  EXPECT_TRUE(Has(ids, "libcuda-not-found<-container-capabilities-missing-compute"));
}

TEST(EnvironmentRules, WslWithALinuxDriverInside) {
  Machine m;
  m.Write("proc/sys/kernel/osrelease", "5.15.167.4-microsoft-standard-WSL2\n");
  m.Remove("sys/bus/pci/devices/0000:01:00.0");  // WSL shows no PCI GPU
  m.Write("usr/lib/wsl/lib/libcuda.so.1", "");
  m.Write("usr/lib/wsl/lib/libcuda.so", "");
  m.Write("etc/ld.so.conf.d/ld.wsl.conf", "/usr/lib/wsl/lib\n");
  // ldconfig caches libcuda.so.1 from the WSL dir but not the unversioned plain file.
  m.Write("ldconfig-p.txt", "1 libs found in cache `/etc/ld.so.cache'\n"
                            "\tlibcuda.so.1 (libc6,x86-64) => /usr/lib/wsl/lib/libcuda.so.1\n");
  auto ids = m.Ids();
  EXPECT_TRUE(Has(ids, "wsl-libcuda-not-found-or-not-symlink")) << ::testing::PrintToString(ids);
  EXPECT_FALSE(Has(ids, "wsl-linux-driver-installed-inside-wsl"));
  // apt install nvidia-driver-570 inside WSL: its copies now come first in the cache.
  m.Write("usr/lib/x86_64-linux-gnu/libcuda.so.570.86.15", "");
  m.Link("libcuda.so.570.86.15", "usr/lib/x86_64-linux-gnu/libcuda.so.1");
  m.Link("libcuda.so.1", "usr/lib/x86_64-linux-gnu/libcuda.so");
  m.Write("ldconfig-p.txt", "3 libs found in cache `/etc/ld.so.cache'\n"
                            "\tlibcuda.so.1 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libcuda.so.1\n"
                            "\tlibcuda.so.1 (libc6,x86-64) => /usr/lib/wsl/lib/libcuda.so.1\n"
                            "\tlibcuda.so (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libcuda.so\n");
  ids = m.Ids();
  EXPECT_TRUE(Has(ids, "wsl-linux-driver-installed-inside-wsl")) << ::testing::PrintToString(ids);
  EXPECT_FALSE(Has(ids, "wsl-libcuda-not-found-or-not-symlink"));
}

}  // namespace
}  // namespace dlrig

namespace dlrig {
namespace {

// gcc's version comes from running it, which a tree cannot; the inventory is written directly.
TEST(EnvironmentRules, GccNewerThanNvccAcceptsAndCmakeTooOld) {
  Inventory inv;
  CudaToolkit tk;
  tk.path = "/usr/local/cuda-12.6";
  tk.version = "12.6.3";
  tk.nvcc = "/usr/local/cuda-12.6/bin/nvcc";
  tk.newest_gcc = 13;
  inv.toolkits.toolkits.push_back(tk);
  inv.toolkits.nvcc_on_path = {"/usr/local/cuda-12.6/bin/nvcc"};
  inv.shell.gcc = ToolVersion{"/usr/bin/gcc", std::string("14.2.0")};
  auto ids = [&] {
    std::vector<std::string> out;
    auto findings = Diagnose(inv, *Catalog::BuiltIn());
    EXPECT_TRUE(findings);
    if (findings)
      for (const auto& f : *findings) out.push_back(f.id);
    return out;
  };
  EXPECT_TRUE(Has(ids(), "gcc-too-new-for-nvcc"));
  inv.shell.gcc = ToolVersion{"/usr/bin/gcc", std::string("13.3.0")};
  EXPECT_FALSE(Has(ids(), "gcc-too-new-for-nvcc"));
  inv.shell.cmake = ToolVersion{"/usr/bin/cmake", std::string("3.16.3")};  // Ubuntu 20.04
  EXPECT_TRUE(Has(ids(), "cmake-too-old-for-cuda"));
  inv.shell.cmake = ToolVersion{"/usr/local/bin/cmake", std::string("3.18.0")};
  EXPECT_FALSE(Has(ids(), "cmake-too-old-for-cuda"));
}

}  // namespace
}  // namespace dlrig
