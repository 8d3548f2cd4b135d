// Clocks, power, temperature and throttle reasons while a benchmark runs, from the monitor's
// NVML sampler (a forked child, 10 samples a second): the benchmark's own process never calls
// NVML, and a GPU whose NVML hangs costs a missing sample, not a hung benchmark.
#pragma once

#include <memory>
#include <vector>

#include "bench/backend.h"

namespace dlrig::bench {

class TelemetrySource {
 public:
  virtual ~TelemetrySource() = default;
  /// A watch over NVML indices (-1: a GPU NVML does not know; its telemetry stays empty).
  virtual std::unique_ptr<TelemetryWatch> Watch(const std::vector<int>& nvml_indices) = 0;
};

/// Starts the sampler. Call before cuInit: it forks.
std::unique_ptr<TelemetrySource> StartTelemetry();

}  // namespace dlrig::bench
