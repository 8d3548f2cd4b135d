#include "probe/kernel_log.h"
#include "probe/pci.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace dlrig {
namespace {

TEST(KernelLogTest, XidLineForms) {
  // dmesg, with the kernel's timestamp
  auto e = ParseXidLine(
      "[ 5107.644336] NVRM: Xid (PCI:0000:03:00): 79, pid='<unknown>', name=<unknown>, GPU has "
      "fallen off the bus.");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->pci_address, "0000:03:00.0");
  EXPECT_EQ(e->xid, 79);
  EXPECT_EQ(e->text, "pid='<unknown>', name=<unknown>, GPU has fallen off the bus.");
  ASSERT_TRUE(e->since_boot_s);
  EXPECT_DOUBLE_EQ(*e->since_boot_s, 5107.644336);
  EXPECT_EQ(e->wall_time, "");
  // syslog (kern.log), with a date and the kernel's timestamp; the older form without "PCI:"
  e = ParseXidLine(
      "Jan 18 11:38:05 localhost kernel: [ 269.517039] NVRM: Xid (0000:01:00): 13, "
      "Graphics SM Warp Exception");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->pci_address, "0000:01:00.0");
  EXPECT_EQ(e->xid, 13);
  EXPECT_EQ(e->wall_time, "Jan 18 11:38:05");
  EXPECT_DOUBLE_EQ(*e->since_boot_s, 269.517039);
  // journald-style syslog without the kernel's timestamp; hex device number
  e = ParseXidLine(
      "2024-05-01T12:00:00.123456+00:00 gpu-node-7 kernel: NVRM: Xid (PCI:0000:10:1c): "
      "63, pid=1896, Row Remapper: New row marked for remapping, reset gpu to activate.");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->pci_address, "0000:10:1c.0");
  EXPECT_EQ(e->xid, 63);
  EXPECT_FALSE(e->since_boot_s);
  EXPECT_EQ(e->wall_time, "2024-05-01T12:00:00.123456+00:00");
  // NVLink5 extended form and a non-zero PCI domain
  e = ParseXidLine("NVRM: Xid (PCI:0018:01:00): 149, NETIR_LINK_EVT Fatal XC0 i0 Link 08");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->pci_address, "0018:01:00.0");
  EXPECT_EQ(e->xid, 149);
}

TEST(KernelLogTest, BusLossWithoutAnXidLineCountsAsXid79) {
  auto e = ParseXidLine("[ 1936.510073] NVRM: GPU at 0000:01:00.0 has fallen off the bus.");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->pci_address, "0000:01:00.0");
  EXPECT_EQ(e->xid, 79);
  e = ParseXidLine(
      "May 18 19:02:39 host kernel: NVRM: GPU 0000:2b:00.0: GPU has fallen off the bus.");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->pci_address, "0000:2b:00.0");
}

TEST(KernelLogTest, OtherLinesAreNotXids) {
  for (const char* line :
       {"[    0.673850] NVRM: loading NVIDIA UNIX Open Kernel Module for x86_64  580.159.04",
        "NVRM: Xid (PCI:0000:01:00): , no code", "NVRM: Xid (garbage): 79, x",
        "NVRM: Xid (PCI:0000:01:00) 79 missing colon", "kernel: usb 1-1: new device", "", "[",
        "NVRM: GPU at PCI:0000:2b:00: GPU-0b11d014-1685-04bd-26ed-5fc0bc1c44ae"})
    EXPECT_FALSE(ParseXidLine(line)) << line;
}

TEST(KernelLogTest, PciAddressesNormalise) {
  EXPECT_EQ(NormalizePciAddress("PCI:0000:3B:00"), "0000:3b:00.0");
  EXPECT_EQ(NormalizePciAddress("00000000:3B:00.0"), "0000:3b:00.0");  // NVML's 8-digit domain
  EXPECT_EQ(NormalizePciAddress("0000:01:00.1"), "0000:01:00.1");
  EXPECT_EQ(NormalizePciAddress("01:00.0"), "0000:01:00.0");
  EXPECT_FALSE(NormalizePciAddress("not:an:address"));
  EXPECT_FALSE(NormalizePciAddress("0000:001:00.0"));
  EXPECT_FALSE(NormalizePciAddress("10000:01:00.0"));
  EXPECT_FALSE(NormalizePciAddress(""));
}

TEST(KernelLogTest, KmsgRecords) {
  EXPECT_EQ(KmsgRecordToLine("4,1234,5678901,-;NVRM: Xid (PCI:0000:01:00): 79, GPU has fallen off "
                             "the bus.\n SUBSYSTEM=pci\n DEVICE=+pci:0000:01:00.0\n"),
            "[    5.678901] NVRM: Xid (PCI:0000:01:00): 79, GPU has fallen off the bus.");
  EXPECT_EQ(KmsgRecordToLine("6,1,0,-,caller=T1;Linux version 6.8.0"),
            "[    0.000000] Linux version 6.8.0");
  EXPECT_FALSE(KmsgRecordToLine("no semicolon"));
  EXPECT_FALSE(KmsgRecordToLine("6,1;too few fields"));
  EXPECT_FALSE(KmsgRecordToLine("6,1,-5,-;negative time"));
}

TEST(KernelLogTest, OnlyThisBootAndOnlyNvidiaLines) {
  KernelLogFacts f;
  ParseKernelLogText(
      "Nov 21 09:00:00 h kernel: [  10.0] NVRM: Xid (PCI:0000:01:00): 48, old boot\n"
      "Nov 22 08:00:00 h kernel: [    0.000000] Linux version 6.8.0-49-generic\n"
      "Nov 22 08:00:01 h kernel: [    0.5] nvidia: loading out-of-tree module taints kernel.\n"
      "Nov 22 08:00:02 h kernel: [    1.0] e1000e: link up\n"
      "Nov 22 08:10:00 h kernel: [  600.0] NVRM: Xid (PCI:0000:01:00): 79, GPU has fallen off the "
      "bus.\n"
      "Nov 22 08:10:00 h kernel: [  600.0] NVRM: GPU 0000:01:00.0: GPU has fallen off the bus.\n"
      "Nov 22 08:10:01 h kernel: [  601.0] NVRM: GPU at 0000:02:00.0 has fallen off the bus.\n",
      f);
  EXPECT_EQ(f.lines.size(), 4u);  // nvidia + three NVRM; not e1000e, not the old boot
  ASSERT_EQ(f.xids.size(), 2u);   // the second line of 01:00's bus loss adds nothing
  EXPECT_EQ(f.xids[0].pci_address, "0000:01:00.0");
  EXPECT_EQ(f.xids[0].xid, 79);
  EXPECT_EQ(f.xids[1].pci_address, "0000:02:00.0");
  EXPECT_EQ(f.xids[1].xid, 79);
}

TEST(KernelLogTest, CaptureFileComesFirst) {
  testing::TempTree tree;
  tree.Write("dmesg-nvidia.txt", "[  12.0] NVRM: Xid (PCI:0000:01:00): 13, from the capture\n");
  tree.Write("var/log/kern.log",
             "Nov 22 08:10:00 h kernel: NVRM: Xid (PCI:0000:01:00): 48, kern.log\n");
  testing::Fixture fx(tree.dir().string());
  KernelLogFacts f = ProbeKernelLog(fx.ctx());
  ASSERT_TRUE(f.source) << f.source.error().message;
  EXPECT_EQ(*f.source, "/dmesg-nvidia.txt");
  ASSERT_EQ(f.xids.size(), 1u);
  EXPECT_EQ(f.xids[0].xid, 13);
}

TEST(KernelLogTest, KernLogTailWhenNoCapturedLog) {
  testing::TempTree tree;
  // An Xid beyond the bounded tail is not read: more than kMaxKernelLogBytes of other lines follow.
  std::string text = "Nov 22 08:00:00 h kernel: NVRM: Xid (PCI:0000:01:00): 48, too old to see\n";
  std::string filler =
      "Nov 22 08:00:01 h kernel: [    1.0] e1000e: link up, a line of filler text\n";
  while (text.size() < kMaxKernelLogBytes + 4096) text += filler;
  text += "Nov 22 08:10:00 h kernel: [  600.0] NVRM: Xid (PCI:0000:02:00): 31, in the tail\n";
  tree.Write("var/log/kern.log", text);
  testing::Fixture fx(tree.dir().string());
  KernelLogFacts f = ProbeKernelLog(fx.ctx());
  ASSERT_TRUE(f.source) << f.source.error().message;
  EXPECT_EQ(*f.source, "/var/log/kern.log");
  ASSERT_EQ(f.xids.size(), 1u);
  EXPECT_EQ(f.xids[0].xid, 31);
  EXPECT_EQ(f.xids[0].pci_address, "0000:02:00.0");
}

TEST(KernelLogTest, NoSourceIsUnavailableWithEveryReason) {
  testing::TempTree tree;
  tree.Mkdir("etc");
  testing::Fixture fx(tree.dir().string());
  KernelLogFacts f = ProbeKernelLog(fx.ctx());
  ASSERT_FALSE(f.source);
  EXPECT_EQ(f.source.error().kind, ErrorKind::kNotFound);
  EXPECT_NE(f.source.error().message.find("dmesg-nvidia.txt"), std::string::npos);
  EXPECT_NE(f.source.error().message.find("kern.log"), std::string::npos);
  EXPECT_TRUE(f.xids.empty());
}

TEST(KernelLogTest, H100CaptureHasNvidiaLinesAndNoXid) {
  auto fx = testing::H100Capture();
  if (!fx) GTEST_SKIP() << "capture not present";
  KernelLogFacts f = ProbeKernelLog(fx->ctx());
  ASSERT_TRUE(f.source);
  EXPECT_EQ(*f.source, "/dmesg-nvidia.txt");
  EXPECT_EQ(f.lines.size(), 5u);
  EXPECT_TRUE(f.xids.empty());
}

// This machine: whatever the source, the probe returns (non-blocking /dev/kmsg) and keeps
// only NVIDIA lines.
TEST(KernelLogTest, ThisMachineNeverBlocks) {
  auto root = Root::Open("/");
  ASSERT_TRUE(root);
  Environment env;
  NoRunner runner;
  ProbeContext ctx{*root, env, runner, {}, false};
  auto start = std::chrono::steady_clock::now();
  KernelLogFacts f = ProbeKernelLog(ctx);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  if (!f.source) {
    EXPECT_NE(f.source.error().message.find("/dev/kmsg"), std::string::npos);
    return;
  }
  for (auto& line : f.lines)
    EXPECT_TRUE(line.find("NVRM") != std::string::npos || line.find("nvidia") != std::string::npos)
        << line;
}

}  // namespace
}  // namespace dlrig
