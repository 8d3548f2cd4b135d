// The one place live GPU values come from for top, serve and history: a background thread
// that asks a long-lived NVML child process (fork, like QueryDriver) for a sample every
// interval, under a deadline. The child answers the fixed facts once and the live values on
// each request; a child that misses the deadline or dies is killed and started again, and the
// sample says so. Readers (scrapes, screen refreshes) only ever read the latest snapshot: they
// never call NVML.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/root.h"
#include "monitor/processes.h"
#include "probe/driver_query.h"
#include "probe/kernel_log.h"

namespace dlrig {

/// One sample of every GPU.
struct MonitorSnapshot {
  uint64_t sequence = 0;  ///< 1 for the first sample, +1 per sample
  std::chrono::system_clock::time_point taken;
  std::chrono::milliseconds took{0};  ///< how long the driver took to answer
  /// What NVML said: driver/NVML/CUDA versions, device count and one GpuFacts per GPU, every
  /// value a Result (a value, or unsupported / no permission / error with its reason).
  LibraryAnswers nvml;
  /// Why no GPU could be described this time ("" when NVML answered): library missing, init
  /// failed, no answer within the deadline.
  std::string unavailable;
  /// Xid events seen in the kernel log since the sampler started (this boot's, up to then,
  /// included in the first sample), oldest first, at most kMaxXidEvents.
  std::vector<XidEvent> xids;
  /// Times the NVML child was started again after a hang or a crash.
  int restarts = 0;
};

struct SamplerOptions {
  DriverQueryOptions driver;                   ///< library names; deadline per sample
  std::chrono::milliseconds interval{1000};
  size_t keep = 600;                           ///< snapshots kept for Recent()
  bool processes = true;                       ///< ask for processes and read /proc for them
  /// The program's name only unless the user asked for whole command lines (--show-commands).
  CommandDetail commands = CommandDetail::kProgramName;
  bool pcie_throughput = true;                 ///< costs NVML's 20 ms window per GPU
  bool kernel_log = true;                      ///< follow Xids in /dev/kmsg
  std::string root = "/";                      ///< where /proc and /dev/kmsg are read
};

class Sampler {
 public:
  explicit Sampler(SamplerOptions options);
  ~Sampler();  ///< stops the thread and the child
  Sampler(const Sampler&) = delete;
  Sampler& operator=(const Sampler&) = delete;

  /// Starts the background thread; the first sample follows at once.
  void Start();
  /// One sample now, on the calling thread (top --once, gpus-like one-shot use); also stored.
  std::shared_ptr<const MonitorSnapshot> SampleNow();
  /// The newest snapshot; nullptr before the first.
  std::shared_ptr<const MonitorSnapshot> Latest() const;
  /// Up to `keep` snapshots, oldest first.
  std::vector<std::shared_ptr<const MonitorSnapshot>> Recent() const;
  /// Waits until a snapshot newer than `sequence` exists (or `timeout`); returns the newest.
  std::shared_ptr<const MonitorSnapshot> WaitNewer(uint64_t sequence,
                                                   std::chrono::milliseconds timeout) const;
  const SamplerOptions& options() const { return options_; }

 private:
  struct Child;
  void Loop();
  std::shared_ptr<MonitorSnapshot> Take();
  void Store(std::shared_ptr<MonitorSnapshot> snapshot);

  SamplerOptions options_;
  std::unique_ptr<Child> child_;
  std::mutex take_mutex_;  ///< one sample at a time (SampleNow vs the thread)
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::deque<std::shared_ptr<const MonitorSnapshot>> recent_;
  uint64_t sequence_ = 0;
  int restarts_ = 0;
  std::vector<XidEvent> xids_;
  Result<Root> root_;  ///< where /proc is read for the processes, opened once
  int kmsg_fd_ = -1;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace dlrig
