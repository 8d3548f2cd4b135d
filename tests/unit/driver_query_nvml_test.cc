// Per-GPU NVML facts through the fault-injection NVML (tests/fakenvml/fake_nvml.c, built as
// libnvidia-ml.so.1): each configured fact must come through, and each injected fault must be
// reported as what it is (timeout, crash, unsupported, GPU lost), never as a 0.
#include <gtest/gtest.h>
#include <stdlib.h>

#include "probe/driver_query.h"
#include "test_util.h"

namespace dlrig {
namespace {

class FakeNvmlTest : public ::testing::Test {
 protected:
  // Writes the fake's configuration and points the (forked) query at it.
  DriverQuery Query(const std::string& config, int deadline_ms = 5000) {
    tree_.Write("fake-nvml.conf", config);
    ::setenv("DLRIG_FAKE_NVML", (tree_.dir() / "fake-nvml.conf").c_str(), 1);
    DriverQueryOptions options;
    options.nvml_library = DLRIG_FAKE_NVML_LIBRARY;
    options.cuda_library = "/nonexistent/libcuda.so.1";
    options.deadline = std::chrono::milliseconds(deadline_ms);
    return QueryDriver(options);
  }
  void TearDown() override { ::unsetenv("DLRIG_FAKE_NVML"); }
  testing::TempTree tree_;
};

TEST_F(FakeNvmlTest, EveryFactComesThrough) {
  DriverQuery q = Query(R"(device_count=2
gpu0.name=NVIDIA H100 80GB HBM3
gpu0.uuid=GPU-1234
gpu0.pci_bus_id=00000000:3B:00.0
gpu0.cc_major=9
gpu0.cc_minor=0
gpu0.memory_total=85520809984
gpu0.memory_used=1048576
gpu0.ecc_mode=1
gpu0.ecc_pending=0
gpu0.ecc_volatile_uncorrected=3
gpu0.ecc_aggregate_uncorrected=5
gpu0.retired_sbe=2
gpu0.retired_dbe=1
gpu0.retired_pending=1
gpu0.remap_corr=4
gpu0.remap_unc=6
gpu0.remap_pending=1
gpu0.remap_failure=0
gpu0.compute_mode=3
gpu0.persistence=1
gpu0.pcie_gen=1
gpu0.pcie_gen_max=5
gpu0.pcie_width=16
gpu0.pcie_width_max=16
gpu0.temperature=41
gpu0.power=71234
gpu0.power_limit=700000
gpu0.fabric_state=3
gpu0.fabric_status=0
gpu1.mig_mode=1
gpu1.mig_pending=1
gpu1.mig_max=7
gpu1.mig_devices=0
gpu1.compute_mode=2
)");
  ASSERT_TRUE(q.nvml.device_count) << q.nvml.device_count.error().message;
  ASSERT_EQ(q.nvml.devices.size(), 2u);
  const GpuFacts& g = q.nvml.devices[0];
  EXPECT_EQ(g.index, 0);
  EXPECT_FALSE(g.handle_code);
  EXPECT_EQ(*g.name, "NVIDIA H100 80GB HBM3");
  EXPECT_EQ(*g.uuid, "GPU-1234");
  EXPECT_EQ(*g.pci_bus_id, "00000000:3B:00.0");
  EXPECT_EQ(*g.compute_capability, "9.0");
  EXPECT_EQ(*g.memory_total_bytes, 85520809984LL);
  EXPECT_EQ(*g.memory_used_bytes, 1048576);
  EXPECT_TRUE(*g.ecc_enabled);
  EXPECT_FALSE(*g.ecc_pending_enabled);
  EXPECT_EQ(*g.ecc_uncorrected_volatile, 3);
  EXPECT_EQ(*g.ecc_uncorrected_aggregate, 5);
  EXPECT_EQ(*g.retired_pages_sbe, 2);
  EXPECT_EQ(*g.retired_pages_dbe, 1);
  EXPECT_TRUE(*g.retired_pages_pending);
  EXPECT_EQ(*g.remapped_rows_correctable, 4);
  EXPECT_EQ(*g.remapped_rows_uncorrectable, 6);
  EXPECT_TRUE(*g.remap_pending);
  EXPECT_FALSE(*g.remap_failed);
  EXPECT_EQ(*g.compute_mode, ComputeMode::kExclusiveProcess);
  EXPECT_TRUE(*g.persistence_mode);
  EXPECT_EQ(*g.pcie_gen_now, 1);
  EXPECT_EQ(*g.pcie_gen_max, 5);
  EXPECT_EQ(*g.pcie_width_now, 16);
  EXPECT_EQ(*g.temperature_c, 41);
  EXPECT_EQ(*g.power_mw, 71234);
  EXPECT_EQ(*g.power_limit_mw, 700000);
  EXPECT_EQ(*g.fabric_state, 3);
  EXPECT_EQ(*g.fabric_status, 0);
  EXPECT_FALSE(*g.mig_enabled);
  ASSERT_FALSE(g.mig_devices);  // MIG off: there is nothing to count, and it is not 0
  EXPECT_EQ(g.mig_devices.error().kind, ErrorKind::kUnsupported);
  const GpuFacts& h = q.nvml.devices[1];
  EXPECT_TRUE(*h.mig_enabled);
  EXPECT_TRUE(*h.mig_pending_enabled);
  EXPECT_EQ(*h.mig_devices, 0);
  EXPECT_EQ(*h.compute_mode, ComputeMode::kProhibited);
  EXPECT_EQ(*h.pci_bus_id, "00000000:02:00.0");  // the fake's own, from the index
}

// nvidia-smi's "used" leaves the reserved memory out (nvmlMemory_v2_t); only a driver without
// the v2 call gets the v1 sum.
TEST_F(FakeNvmlTest, MemoryUsedIsAllocatedOnlyWhereV2Answers) {
  DriverQuery q = Query(
      "device_count=2\ngpu0.memory_used=100\ngpu0.memory_reserved=50\n"
      "gpu1.memory_used=100\ngpu1.memory_reserved=50\n"
      "gpu1.fail.nvmlDeviceGetMemoryInfo_v2=13\n");
  ASSERT_EQ(q.nvml.devices.size(), 2u);
  EXPECT_EQ(*q.nvml.devices[0].memory_used_bytes, 100);
  EXPECT_EQ(*q.nvml.devices[1].memory_used_bytes, 150);
}

TEST_F(FakeNvmlTest, MigDevicesAreCountedOnlyWhereTheyExist) {
  DriverQuery q = Query("device_count=1\ngpu0.mig_mode=1\ngpu0.mig_max=7\ngpu0.mig_devices=3\n");
  ASSERT_EQ(q.nvml.devices.size(), 1u);
  EXPECT_EQ(*q.nvml.devices[0].mig_devices, 3);
}

TEST_F(FakeNvmlTest, UnsupportedCallIsUnavailableNotZero) {
  DriverQuery q = Query(
      "device_count=1\ngpu0.fail.nvmlDeviceGetRemappedRows=3\n"
      "gpu0.fail.nvmlDeviceGetTotalEccErrors=4\n");
  ASSERT_EQ(q.nvml.devices.size(), 1u);
  const GpuFacts& g = q.nvml.devices[0];
  for (const Result<bool>* r : {&g.remap_pending, &g.remap_failed}) {
    ASSERT_FALSE(*r);
    EXPECT_EQ(r->error().kind, ErrorKind::kUnsupported);
    EXPECT_NE(r->error().message.find("nvmlDeviceGetRemappedRows returned 3: Not Supported"),
              std::string::npos)
        << r->error().message;
  }
  ASSERT_FALSE(g.remapped_rows_uncorrectable);
  EXPECT_EQ(g.remapped_rows_uncorrectable.error().kind, ErrorKind::kUnsupported);
  ASSERT_FALSE(g.ecc_uncorrected_volatile);
  EXPECT_EQ(g.ecc_uncorrected_volatile.error().kind, ErrorKind::kNoPermission);
  EXPECT_TRUE(g.temperature_c);  // the other calls still answer
}

TEST_F(FakeNvmlTest, RetiredPagesBeyondTheBufferAreStillCounted) {
  DriverQuery q = Query("device_count=1\ngpu0.retired_dbe=300\n");
  ASSERT_EQ(q.nvml.devices.size(), 1u);
  EXPECT_EQ(*q.nvml.devices[0].retired_pages_dbe, 300);
}

TEST_F(FakeNvmlTest, LostGpuFailsItsFactsWithTheHandleError) {
  DriverQuery q =
      Query("device_count=2\ngpu1.fail.nvmlDeviceGetHandleByIndex_v2=15\ngpu0.temperature=30\n");
  ASSERT_EQ(q.nvml.devices.size(), 2u);
  EXPECT_EQ(*q.nvml.devices[0].temperature_c, 30);
  const GpuFacts& lost = q.nvml.devices[1];
  EXPECT_EQ(lost.handle_code, 15);
  ASSERT_FALSE(lost.name);
  EXPECT_NE(lost.name.error().message.find("returned 15: GPU is lost"), std::string::npos)
      << lost.name.error().message;
  ASSERT_FALSE(lost.ecc_uncorrected_volatile);
}

TEST_F(FakeNvmlTest, HangInInitIsCutAtTheDeadline) {
  auto start = std::chrono::steady_clock::now();
  DriverQuery q = Query("hang_in_init=1\ndevice_count=1\n", 500);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  ASSERT_FALSE(q.nvml.driver_version);
  EXPECT_EQ(q.nvml.driver_version.error().kind, ErrorKind::kTimeout);
  EXPECT_NE(q.nvml.driver_version.error().message.find("nvmlInit_v2"), std::string::npos);
  EXPECT_TRUE(q.nvml.devices.empty());
}

TEST_F(FakeNvmlTest, CrashInInitIsReportedAsACrash) {
  DriverQuery q = Query("crash_in_init=1\ndevice_count=1\n");
  ASSERT_TRUE(q.nvml.loaded_path);
  ASSERT_FALSE(q.nvml.driver_version);
  EXPECT_NE(q.nvml.driver_version.error().message.find("died with signal 11"), std::string::npos)
      << q.nvml.driver_version.error().message;
  EXPECT_TRUE(q.nvml.devices.empty());
}

TEST_F(FakeNvmlTest, HangInADeviceCallKeepsTheAnswersBeforeIt) {
  DriverQuery q = Query(
      "device_count=2\ngpu0.temperature=35\ngpu1.name=second\n"
      "gpu1.hang.nvmlDeviceGetTemperature=1\n",
      1500);
  ASSERT_EQ(q.nvml.devices.size(), 2u);
  EXPECT_EQ(*q.nvml.devices[0].temperature_c, 35);
  const GpuFacts& g = q.nvml.devices[1];
  EXPECT_EQ(*g.name, "second");
  ASSERT_FALSE(g.temperature_c);
  EXPECT_EQ(g.temperature_c.error().kind, ErrorKind::kTimeout);
  EXPECT_NE(g.temperature_c.error().message.find("nvmlDeviceGetTemperature"), std::string::npos)
      << g.temperature_c.error().message;
  ASSERT_FALSE(g.power_mw);  // after the hang: never asked
  EXPECT_EQ(g.power_mw.error().kind, ErrorKind::kTimeout);
}

TEST_F(FakeNvmlTest, InitFailureMeansNoDevices) {
  DriverQuery q = Query("init=18\ndevice_count=2\n");
  ASSERT_FALSE(q.nvml.device_count);
  EXPECT_TRUE(q.nvml.devices.empty());
}

TEST(DriverQueryDeviceParseTest, DeviceLinesAndGarbage) {
  DriverQueryOptions o;
  ChildEnd end;
  DriverQuery q = ParseDriverQuery(
      "nvml open /x\nnvml call nvmlInit_v2\nnvml return nvmlInit_v2 0 - Success\n"
      "nvml value device_count 1\n"
      "nvml dev 0 call nvmlDeviceGetName\nnvml dev 0 name = A\\nB\n"
      "nvml dev 0 compute_mode = 7\n"
      "nvml dev 0 temperature_c missing nvmlDeviceGetTemperature undefined symbol\n"
      "nvml dev 0 power_mw 999 nvmlDeviceGetPowerUsage Unknown Error\n"
      "nvml dev 0 memory_total_bytes = -5\n"
      "nvml dev 99999 name = ignored\nnvml dev x name = ignored\nnvml dev 0\n"
      "cuda dev 0 name = not nvml\n",
      o, end);
  ASSERT_EQ(q.nvml.devices.size(), 1u);
  const GpuFacts& g = q.nvml.devices[0];
  EXPECT_EQ(*g.name, "A\nB");
  EXPECT_EQ(g.compute_mode.error().kind, ErrorKind::kMalformed);
  EXPECT_EQ(g.temperature_c.error().kind, ErrorKind::kUnsupported);
  EXPECT_EQ(g.power_mw.error().kind, ErrorKind::kIo);
  EXPECT_NE(g.power_mw.error().message.find("returned 999"), std::string::npos);
  EXPECT_EQ(g.memory_total_bytes.error().kind, ErrorKind::kMalformed);
  EXPECT_EQ(g.uuid.error().kind, ErrorKind::kNotFound);  // never sent, and the child ended well
}

}  // namespace
}  // namespace dlrig
