// GPU health rules: Xids from a kernel log in the tree, NVML per-GPU facts on a crafted
// Inventory; each rule fires on its broken state and stays silent on healthy input.
#include <gtest/gtest.h>

#include <algorithm>

#include "knowledge/data_files.h"
#include "knowledge/xids.h"
#include "machine_fixture.h"
#include "rules/rules.h"
#include "test_util.h"

namespace dlrig {
namespace {

using testing::Has;
using testing::Machine;

const char* const kGpuHealthIds[] = {"xid-in-kernel-log",        "gpu-fallen-off-bus-xid79",
                                     "ecc-uncorrectable-errors", "row-remap-pending-or-failed",
                                     "retired-pages-pending",    "mig-enabled-no-instances",
                                     "compute-mode-restricted"};

// A GPU as NVML describes a healthy H100: every fact read, nothing wrong.
GpuFacts HealthyGpu(int index) {
  GpuFacts g;
  g.index = index;
  g.name = std::string("NVIDIA H100 80GB HBM3");
  g.pci_bus_id = "00000000:0" + std::to_string(index + 1) + ":00.0";
  g.ecc_enabled = true;
  g.ecc_uncorrected_volatile = 0;
  g.ecc_uncorrected_aggregate = 0;
  g.retired_pages_sbe = 0;
  g.retired_pages_dbe = 0;
  g.retired_pages_pending = false;
  g.remapped_rows_correctable = 0;
  g.remapped_rows_uncorrectable = 0;
  g.remap_pending = false;
  g.remap_failed = false;
  g.mig_enabled = false;
  g.compute_mode = ComputeMode::kDefault;
  return g;
}

Inventory WithGpus(std::vector<GpuFacts> gpus) {
  Inventory inv;
  DriverQuery q;
  q.nvml.device_count = static_cast<int>(gpus.size());
  q.nvml.devices = std::move(gpus);
  inv.user_driver.query = std::move(q);
  return inv;
}

Findings Diagnosed(const Inventory& inv) {
  auto findings = Diagnose(inv, *Catalog::BuiltIn());
  EXPECT_TRUE(findings) << findings.error().message;
  return findings ? *findings : Findings{};
}

std::vector<const Finding*> WithId(const Findings& all, const std::string& id) {
  std::vector<const Finding*> out;
  for (auto& f : all)
    if (f.id == id) out.push_back(&f);
  return out;
}

TEST(XidTableTest, BuiltInParsesAndEveryRowIsUsable) {
  const auto& table = XidTable::BuiltIn();
  ASSERT_TRUE(table) << table.error().message;
  const XidInfo* x79 = table->Find(79);
  ASSERT_NE(x79, nullptr);
  EXPECT_EQ(x79->name, "GPU_HAS_FALLEN_OFF_THE_BUS");
  EXPECT_EQ(x79->severity, Severity::kError);
  EXPECT_EQ(x79->action, "reboot");
  ASSERT_NE(table->Find(149), nullptr);  // from the 144-150 group row
  EXPECT_EQ(table->Find(149)->action, "check-nvlink");
  EXPECT_EQ(table->Find(12345), nullptr);
  for (auto& [code, info] : table->rows()) {
    EXPECT_FALSE(table->Step(info.action).empty()) << code;
    EXPECT_FALSE(info.source.empty()) << code;
  }
}

TEST(XidTableTest, BadTablesAreRefusedByName) {
  std::string action = "[[action]]\nkey = \"none\"\nstep = \"x\"\nsource = \"s\"\n";
  std::string row =
      "[[xid]]\ncode = 13\nname = \"N\"\nmeaning = \"M\"\nseverity = \"warning\"\n"
      "action = \"none\"\nadvice = \"A\"\nsource = \"S\"\n";
  EXPECT_TRUE(XidTable::Parse(action + row));
  auto dup = XidTable::Parse(action + row + row);
  ASSERT_FALSE(dup);
  EXPECT_NE(dup.error().message.find("13 twice"), std::string::npos);
  std::string bad_action = row;
  bad_action.replace(bad_action.find("\"none\""), 6, "\"dance\"");
  EXPECT_FALSE(XidTable::Parse(action + bad_action));
  std::string no_source = row.substr(0, row.find("source"));
  EXPECT_FALSE(XidTable::Parse(action + no_source));
  EXPECT_FALSE(XidTable::Parse(row));  // no [[action]]
  EXPECT_FALSE(XidTable::Parse("[[xid]\n"));
}

TEST(GpuHealthRulesTest, WorstXidPerGpuWithItsMeaning) {
  Machine m;
  m.WorkingDriver();
  m.Write("dmesg-nvidia.txt",
          "[  100.0] NVRM: Xid (PCI:0000:01:00): 13, Graphics Exception\n"
          "[  200.0] NVRM: Xid (PCI:0000:01:00): 48, DBE (double bit error)\n"
          "[  300.0] NVRM: Xid (PCI:0000:01:00): 13, Graphics Exception\n"
          "[  400.0] NVRM: Xid (PCI:0000:02:00): 31, pid=77, MMU Fault\n");
  auto ids = m.Ids();
  EXPECT_EQ(std::count(ids.begin(), ids.end(), "xid-in-kernel-log"), 2)
      << ::testing::PrintToString(ids);

  testing::TempTree tree;
  tree.Write("dmesg-nvidia.txt",
             "[  100.0] NVRM: Xid (PCI:0000:01:00): 13, Graphics Exception\n"
             "[  200.0] NVRM: Xid (PCI:0000:01:00): 48, DBE (double bit error)\n"
             "[  300.0] NVRM: Xid (PCI:0000:01:00): 13, Graphics Exception\n");
  testing::Fixture fx(tree.dir().string());
  Inventory inv = CollectInventory(fx.ctx());
  Findings all = Diagnosed(inv);
  auto xids = WithId(all, "xid-in-kernel-log");
  ASSERT_EQ(xids.size(), 1u);
  const Finding& f = *xids[0];
  EXPECT_EQ(f.subject, "GPU 0000:01:00.0");
  EXPECT_EQ(f.vars.at("xid"), "48");  // the error outranks the later warning
  EXPECT_EQ(f.vars.at("count"), "1");
  EXPECT_EQ(f.vars.at("codes"), "13 x2, 48 x1");
  EXPECT_EQ(f.severity, Severity::kError);
  EXPECT_NE(f.explanation.find("Double-bit"), std::string::npos) << f.explanation;
  EXPECT_TRUE(std::any_of(f.fix.begin(), f.fix.end(), [](const std::string& line) {
    return line.find("nvidia-smi -r -i 0000:01:00.0") != std::string::npos;
  })) << ::testing::PrintToString(f.fix);
  EXPECT_EQ(f.evidence.size(), 3u);
}

TEST(GpuHealthRulesTest, UnknownXidIsStillReported) {
  Inventory inv;
  inv.kernel_log.source = std::string("/dev/kmsg");
  inv.kernel_log.xids.push_back(
      {"0000:01:00.0", 7777, "new code", std::nullopt, "", "NVRM: Xid ..."});
  Findings all = Diagnosed(inv);
  auto xids = WithId(all, "xid-in-kernel-log");
  ASSERT_EQ(xids.size(), 1u);
  EXPECT_EQ(xids[0]->severity, Severity::kWarning);
  EXPECT_NE(xids[0]->title.find("not in dlrig's Xid table"), std::string::npos);
}

TEST(GpuHealthRulesTest, Xid79IsTheBusLossFindingNotASecondOne) {
  Machine m;
  m.WorkingDriver();
  m.Write("dmesg-nvidia.txt",
          "[  100.0] NVRM: Xid (PCI:0000:01:00): 13, Graphics Exception\n"
          "[  900.0] NVRM: Xid (PCI:0000:01:00): 79, pid=1, GPU has fallen off the bus.\n");
  auto ids = m.Ids();
  EXPECT_TRUE(Has(ids, "gpu-fallen-off-bus-xid79")) << ::testing::PrintToString(ids);
  EXPECT_FALSE(Has(ids, "xid-in-kernel-log"));
}

TEST(GpuHealthRulesTest, BusLossFromNvmlAndFromTheLogIsOneFinding) {
  Inventory inv = WithGpus({});
  auto& q = *inv.user_driver.query;
  q.nvml.loaded_path = std::string("/usr/lib/libnvidia-ml.so.1");
  q.nvml.calls.push_back({"nvmlInit_v2", 15, "", "GPU is lost"});
  inv.kernel_log.source = std::string("/dev/kmsg");
  inv.kernel_log.xids.push_back({"0000:01:00.0", 79, "GPU has fallen off the bus.", 900.0, "",
                                 "NVRM: Xid (PCI:0000:01:00): 79"});
  Findings all = Diagnosed(inv);
  auto lost = WithId(all, "gpu-fallen-off-bus-xid79");
  ASSERT_EQ(lost.size(), 1u);
  ASSERT_EQ(lost[0]->evidence.size(), 2u);
  EXPECT_NE(lost[0]->evidence[0].find("nvmlInit_v2"), std::string::npos);
  EXPECT_NE(lost[0]->evidence[1].find("/dev/kmsg: NVRM: Xid"), std::string::npos);
}

TEST(GpuHealthRulesTest, LostHandleIsABusLoss) {
  GpuFacts lost;
  lost.index = 1;
  lost.handle_code = 15;
  Findings all = Diagnosed(WithGpus({HealthyGpu(0), lost}));
  auto ids = WithId(all, "gpu-fallen-off-bus-xid79");
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_EQ(ids[0]->subject, "GPU index 1");
}

TEST(GpuHealthRulesTest, UncorrectableEccErrors) {
  GpuFacts g = HealthyGpu(0);
  g.ecc_uncorrected_volatile = 3;
  g.ecc_uncorrected_aggregate = 11;
  Findings all = Diagnosed(WithGpus({g, HealthyGpu(1)}));
  auto ecc = WithId(all, "ecc-uncorrectable-errors");
  ASSERT_EQ(ecc.size(), 1u);
  EXPECT_EQ(ecc[0]->subject, "GPU 0000:01:00.0");
  EXPECT_EQ(ecc[0]->severity, Severity::kError);
  EXPECT_NE(ecc[0]->title.find("3 uncorrectable"), std::string::npos) << ecc[0]->title;
  EXPECT_NE(ecc[0]->explanation.find("11 over the GPU's life"), std::string::npos);
  EXPECT_NE(ecc[0]->fix[1].find("nvidia-smi -r -i 0"), std::string::npos);
}

TEST(GpuHealthRulesTest, RowRemapPendingWarnsAndFailureIsAnError) {
  GpuFacts pending = HealthyGpu(0), failed = HealthyGpu(1);
  pending.remap_pending = true;
  failed.remap_failed = true;
  Findings all = Diagnosed(WithGpus({pending, failed}));
  auto remap = WithId(all, "row-remap-pending-or-failed");
  ASSERT_EQ(remap.size(), 2u);
  std::sort(remap.begin(), remap.end(),
            [](const Finding* a, const Finding* b) { return a->subject < b->subject; });
  EXPECT_EQ(remap[0]->severity, Severity::kWarning);
  EXPECT_NE(remap[0]->title.find("pending"), std::string::npos);
  EXPECT_EQ(remap[1]->severity, Severity::kError);
  EXPECT_NE(remap[1]->title.find("failed"), std::string::npos);
}

TEST(GpuHealthRulesTest, RetiredPagesPending) {
  GpuFacts g = HealthyGpu(0);
  g.retired_pages_pending = true;
  g.retired_pages_dbe = 2;
  Findings all = Diagnosed(WithGpus({g}));
  auto retired = WithId(all, "retired-pages-pending");
  ASSERT_EQ(retired.size(), 1u);
  EXPECT_NE(retired[0]->evidence.back().find("2 double-bit"), std::string::npos);
}

TEST(GpuHealthRulesTest, MigWithoutInstances) {
  GpuFacts empty = HealthyGpu(0), used = HealthyGpu(1);
  empty.mig_enabled = used.mig_enabled = true;
  empty.mig_devices = 0;
  used.mig_devices = 2;
  Findings all = Diagnosed(WithGpus({empty, used}));
  auto mig = WithId(all, "mig-enabled-no-instances");
  ASSERT_EQ(mig.size(), 1u);
  EXPECT_EQ(mig[0]->subject, "GPU 0000:01:00.0");
}

TEST(GpuHealthRulesTest, RestrictedComputeModes) {
  GpuFacts exclusive = HealthyGpu(0), prohibited = HealthyGpu(1);
  exclusive.compute_mode = ComputeMode::kExclusiveProcess;
  prohibited.compute_mode = ComputeMode::kProhibited;
  Findings all = Diagnosed(WithGpus({exclusive, prohibited, HealthyGpu(2)}));
  auto modes = WithId(all, "compute-mode-restricted");
  ASSERT_EQ(modes.size(), 2u);
  std::sort(modes.begin(), modes.end(),
            [](const Finding* a, const Finding* b) { return a->subject < b->subject; });
  EXPECT_EQ(modes[0]->severity, Severity::kWarning);
  EXPECT_NE(modes[0]->title.find("Exclusive_Process"), std::string::npos);
  EXPECT_EQ(modes[1]->severity, Severity::kError);
  EXPECT_NE(modes[1]->title.find("Prohibited"), std::string::npos);
  EXPECT_EQ(ExitCodeFor(all), 2);
}

// Unreadable facts (unsupported, no permission) are not evidence of anything.
// HGX: NVML reports each GPU's fabric registration; "not started" means Fabric Manager has not
// run, and CUDA will answer 802 to every program.
TEST(GpuHealthRulesTest, FabricNotRegisteredIsFabricManager) {
  GpuFacts g = HealthyGpu(0);
  g.fabric_state = 3;  // completed
  EXPECT_TRUE(WithId(Diagnosed(WithGpus({g})), "fabric-manager-not-running").empty());
  g.fabric_state = 1;  // not started
  Findings all = Diagnosed(WithGpus({g, HealthyGpu(1)}));
  auto found = WithId(all, "fabric-manager-not-running");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_NE(found[0]->evidence[0].find("not started"), std::string::npos);
}

TEST(GpuHealthRulesTest, HealthyAndUnknownGpusAreSilent) {
  GpuFacts unknown;
  unknown.index = 3;
  unknown.ecc_uncorrected_volatile =
      Fail(ErrorKind::kUnsupported, "nvmlDeviceGetTotalEccErrors returned 3");
  unknown.mig_enabled = true;
  unknown.mig_devices = Fail(ErrorKind::kNoPermission, "returned 4");
  Findings all = Diagnosed(WithGpus({HealthyGpu(0), HealthyGpu(1), unknown}));
  for (const char* id : kGpuHealthIds) EXPECT_TRUE(WithId(all, id).empty()) << id;
}

TEST(GpuHealthRulesTest, H100CaptureHasNoneOfThese) {
  auto cap = testing::H100Capture();
  if (!cap) GTEST_SKIP() << "capture not present";
  Inventory inv = CollectInventory(cap->ctx());
  ASSERT_TRUE(inv.kernel_log.source);  // the capture's dmesg-nvidia.txt was read
  Findings all = Diagnosed(inv);
  for (const char* id : kGpuHealthIds) EXPECT_TRUE(WithId(all, id).empty()) << id;
}

}  // namespace
}  // namespace dlrig
