// Small pieces the benchmark files share.
#pragma once

#include <string>
#include <string_view>

#include "bench/goals.h"
#include "bench/harness.h"

namespace dlrig::bench {

/// The device with CUDA index `index`, or nullptr.
const DeviceInfo* FindDevice(const Backend& backend, int index);

/// Appends a limit when it could be computed; otherwise notes why in the message.
void AddLimit(Measurement& m, const Result<LimitFigure>& limit);

/// Judges `m` against the goal for (benchmark, case); a measurement in error stays in error.
void JudgeAgainst(Measurement& m, std::string_view benchmark, std::string_view case_name);

/// A measurement that records why it did not run: waived for kUnsupported / kNotFound causes
/// (the machine lacks something), error otherwise.
Measurement NotRun(std::string key, std::optional<int> device, const Error& error);

/// "256 MiB", "8 GiB", "4 KiB".
std::string BytesLabel(size_t bytes);

/// The per-direction PCIe limit of a GPU's link at its maximum generation and width.
Result<LimitFigure> PcieLimit(const DeviceInfo& device);

/// Runs the calling thread on the CPUs of a NUMA node while in scope (no-op for an unknown
/// node); host memory first touched meanwhile lands on that node.
class NumaScope {
 public:
  explicit NumaScope(std::optional<int> node);
  ~NumaScope();
  NumaScope(const NumaScope&) = delete;
  NumaScope& operator=(const NumaScope&) = delete;
  bool active() const { return active_; }

 private:
  bool active_ = false;
  unsigned char saved_[128] = {};  ///< the previous cpu_set_t
};

}  // namespace dlrig::bench
