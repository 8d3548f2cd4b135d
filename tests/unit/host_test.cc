#include "probe/host.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace dlrig {
namespace {

TEST(HostTest, H100CaptureFacts) {
  auto cap = testing::H100Capture();
  if (!cap) GTEST_SKIP() << "capture not present";
  HostFacts h = ProbeHost(cap->ctx());
  ASSERT_TRUE(h.os);
  EXPECT_EQ(h.os->id, "ubuntu");
  EXPECT_EQ(h.os->version_id, "24.04");
  EXPECT_EQ(*h.kernel, "6.18.44-fc-v657-gpu");
  EXPECT_TRUE(h.virt.vm);
  EXPECT_EQ(h.virt.vm_kind, "firecracker");
  EXPECT_FALSE(h.virt.wsl);
  ASSERT_TRUE(h.cpu);
  EXPECT_EQ(h.cpu->cores, 16);
  EXPECT_EQ(h.cpu->threads, 16);
  ASSERT_TRUE(h.memory);
  EXPECT_EQ(h.memory->total_bytes, 131981020ull * 1024);
  ASSERT_TRUE(h.dev_shm);  // the later /dev/shm mount hides the earlier one
  EXPECT_EQ(*h.dev_shm->size_bytes, 134217728ull * 1024);
  ASSERT_TRUE(h.disks);
  ASSERT_FALSE(h.disks->empty());
  EXPECT_EQ(h.disks->front().mount_point, "/");
}

TEST(HostTest, ThisMachineHasSizesFromStatvfs) {
  Environment env = Environment::FromProcess();
  auto root = Root::Open("/");
  ASSERT_TRUE(root);
  SystemRunner runner;
  HostFacts h = ProbeHost(ProbeContext{*root, env, runner, {}, false});
  ASSERT_TRUE(h.cpu) << h.cpu.error().message;
  EXPECT_GT(h.cpu->threads, 0);
  ASSERT_TRUE(h.disks);
  for (auto& m : *h.disks) {
    if (m.mount_point == "/") {
      EXPECT_GT(*m.size_bytes, 0u);
    }
  }
}

TEST(HostTest, WslAndContainerDetection) {
  testing::TempTree t;
  t.Write("proc/sys/kernel/osrelease", "5.15.153.1-microsoft-standard-WSL2\n");
  t.Mkdir("usr/lib/wsl/lib");
  t.Write("proc/1/cgroup", "0::/kubepods/besteffort/pod1234\n");
  testing::Fixture f(t.dir().string());
  HostFacts h = ProbeHost(f.ctx());
  EXPECT_TRUE(h.virt.wsl);
  EXPECT_TRUE(h.virt.container);
  EXPECT_EQ(h.virt.container_kind, "kubernetes");
}

TEST(HostTest, MissingAndGarbageFilesAreUnknownNotCrashes) {
  testing::TempTree t;
  t.Write("proc/cpuinfo", "\x01\x02garbage without structure");
  t.Write("proc/meminfo", "MemTotal: lots kB\n");
  t.Mkdir("etc/os-release");  // a directory where a file belongs
  testing::Fixture f(t.dir().string());
  HostFacts h = ProbeHost(f.ctx());
  EXPECT_FALSE(h.os);
  EXPECT_EQ(h.cpu.error().kind, ErrorKind::kMalformed);
  EXPECT_EQ(h.memory.error().kind, ErrorKind::kMalformed);
  EXPECT_EQ(h.kernel.error().kind, ErrorKind::kNotFound);
  EXPECT_EQ(h.disks.error().kind, ErrorKind::kNotFound);
}

TEST(HostTest, MountInfoEscapesAndTmpfsSizes) {
  auto mounts = ParseMountInfo(
      "36 25 0:32 / /mnt/my\\040disk rw - ext4 /dev/sdb1 rw\n"
      "40 25 0:33 / /dev/shm rw,nosuid - tmpfs shm rw,size=65536k\n");
  ASSERT_EQ(mounts.size(), 2u);
  EXPECT_EQ(mounts[0].mount_point, "/mnt/my disk");
  EXPECT_EQ(*TmpfsSizeOption(mounts[1].options), 64u << 20);
  EXPECT_FALSE(TmpfsSizeOption("rw,nosuid"));
}

}  // namespace
}  // namespace dlrig
