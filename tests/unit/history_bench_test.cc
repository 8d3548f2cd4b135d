// The history's write cost, as a figure (not a timed test): disabled unless asked for by
// scripts/bench-history.sh, which runs it with --gtest_also_run_disabled_tests.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "monitor/history.h"

namespace dlrig {
namespace {

GpuFacts FullGpu(int index) {
  GpuFacts g;
  g.index = index;
  g.uuid = "GPU-" + std::to_string(10000000 + index) + "-2222-3333-4444-555555555555";
  g.name = "NVIDIA H100 80GB HBM3";
  g.pci_bus_id = "00000000:" + std::to_string(10 + index) + ":00.0";
  g.utilization_gpu_percent = 97;
  g.utilization_memory_percent = 61;
  g.memory_used_bytes = 79'000'000'000LL;
  g.memory_total_bytes = 85'520'809'984LL;
  g.temperature_c = 67;
  g.memory_temperature_c = 75;
  g.energy_mj = 12'345'678'901LL;
  g.clock_sm_mhz = 1980;
  g.clock_memory_mhz = 2619;
  g.pcie_tx_kbps = 123'456;
  g.pcie_rx_kbps = 654'321;
  g.clock_event_reasons = 0x4;
  g.ecc_corrected_volatile = 0;
  g.ecc_uncorrected_volatile = 0;
  g.performance_state = 0;
  g.fan_percent = Fail(ErrorKind::kUnsupported, "no fan");
  return g;
}

TEST(HistoryBench, DISABLED_WriteCostOfEightGpus) {
  constexpr int kGpus = 8;
  const char* env_snapshots = std::getenv("DLRIG_BENCH_SNAPSHOTS");
  const int snapshots = env_snapshots ? std::atoi(env_snapshots) : 5000;
  const char* env_dir = std::getenv("DLRIG_BENCH_DIR");
  std::filesystem::path dir = std::filesystem::path(env_dir ? env_dir : "/tmp") /
                              ("dlrig-bench-history-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::string path = (dir / "history.db").string();
  auto h = History::Open(path);
  ASSERT_TRUE(h) << h.error().message;
  MonitorSnapshot s;
  for (int i = 0; i < kGpus; ++i) s.nvml.devices.push_back(FullGpu(i));
  auto t0 = std::chrono::system_clock::now() - std::chrono::seconds(snapshots);
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < snapshots; ++i) {
    s.sequence = static_cast<uint64_t>(i + 1);
    s.taken = t0 + std::chrono::seconds(i);  // one snapshot a second, as serve samples
    for (auto& g : s.nvml.devices) g.power_mw = 300'000 + (i * 37 + g.index * 11) % 400'000;
    RecordSnapshot(*h, s);
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_FALSE(h->recorder().last_error) << h->recorder().last_error->message;
  { History closing = std::move(*h); }  // the last close checkpoints the WAL into the file
  double bytes = static_cast<double>(std::filesystem::file_size(path));
  double gpu_samples = static_cast<double>(snapshots) * kGpus;
  std::printf("history write: %d snapshots of %d GPUs in %.2f s: %.1f us per snapshot "
              "(%.1f us per GPU sample), synchronous=NORMAL, WAL, on %s\n",
              snapshots, kGpus, seconds, seconds * 1e6 / snapshots, seconds * 1e6 / gpu_samples,
              dir.c_str());
  std::printf("history size: %.0f bytes = %.1f bytes per GPU sample = %.1f MiB per GPU-day at 1 Hz "
              "(%.1f MiB per 8-GPU week, the default retention)\n",
              bytes, bytes / gpu_samples, bytes / gpu_samples * 86400 / (1 << 20),
              bytes / gpu_samples * 86400 * 7 * 8 / (1 << 20));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace dlrig
