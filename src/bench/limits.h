// The physical limits bench measures against, computed from the device and data/: peak compute
// (SMs x clock x rate per SM per clock), device memory bandwidth (2 x memory clock x bus width),
// PCIe (lanes x rate after encoding) and NVLink (links x per-link rate). Pure: no I/O; the
// caller passes the tables and what NVML said. Every figure carries the formula that made it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "bench/dtype.h"
#include "core/result.h"
#include "knowledge/gpus.h"
#include "knowledge/tensor_rates.h"

namespace dlrig::bench {

/// One limit, printable as it stands.
struct LimitFigure {
  double value = 0;     ///< in `unit`
  std::string basis;    ///< "spec clock (datasheet)", "max SM clock", "measured SM clock"
  std::string formula;  ///< "132 SM × 1980 MHz × 4096 FLOP/clk/SM = 1070.5 TFLOP/s"
  std::string unit;     ///< "TFLOP/s", "TOPS", "GB/s"
};

/// The accumulator of tensor math. kFp16 exists for fp16 and fp8 only; on GeForce parts it runs
/// at twice the FP32-accumulate rate.
enum class Accumulate { kFp32, kFp16 };

/// What is known of the GPU whose peak is asked for.
struct ComputeDevice {
  const GpuRow* catalog = nullptr;  ///< its data/gpus.toml row, when there is one
  std::optional<int> sm_count;      ///< from the device; else the catalog's
  int cc_major = 0;
  int cc_minor = 0;
  Segment segment = Segment::kDatacenter;       ///< SegmentFromName(NVML name)
  std::optional<double> max_sm_clock_mhz;       ///< NVML max SM clock
  std::optional<double> measured_sm_clock_mhz;  ///< mean SM clock during the run
};

/// Peak compute of one dtype at three clocks. A figure that cannot be computed is absent and
/// `missing` says why.
struct ComputeLimits {
  /// The datasheet figure when the catalog has one for this dtype, else rate x SMs x the rated
  /// clock (the tensor clock the datasheet's bf16 figure implies where it differs from boost).
  std::optional<LimitFigure> at_spec_clock;
  std::optional<LimitFigure> at_max_clock;
  std::optional<LimitFigure> at_measured_clock;
  bool rate_confirmed = true;  ///< false when the research marks the per-SM rate unconfirmed
  std::vector<std::string> missing;
};

/// Peak of `dtype` on `device`. kUnsupported when the architecture has no unit for the dtype
/// (fp8 before Ada) or the accumulator does not apply; kNotFound when no figure at all is known.
Result<ComputeLimits> PeakCompute(const TensorRates& rates, const ComputeDevice& device,
                                  DType dtype, Accumulate accumulate = Accumulate::kFp32);

/// 2 × memory clock × bus bits / 8 in GB/s (10^9), the memory clock as NVML reports it (HBM:
/// the real clock, GDDR: such that the factor 2 holds). kMalformed for a non-positive input.
Result<LimitFigure> MemoryBandwidth(double memory_clock_mhz, int bus_bits);

/// The catalog's datasheet bandwidth, when it has one.
std::optional<LimitFigure> MemoryBandwidthDatasheet(const GpuRow& row);

/// lanes × GT/s × encoding / 8 in GB/s per direction. kNotFound for a generation the table
/// lacks, kMalformed for lanes <= 0.
Result<LimitFigure> PcieBandwidth(const TensorRates& rates, int gen, int lanes);

/// kSpec: the per-link rate NVIDIA's figures use (H100: 25 GB/s); kSignaling: the raw rate
/// nvidia-smi nvlink -s shows (26.5625).
enum class NvlinkRate { kSpec, kSignaling };

/// active links × per-link rate of NVLink `version` (1 = NVLink1 ... 5 = NVLink5, not NVML's
/// NVML_NVLINK_VERSION_* enum), GB/s per direction. kUnsupported for no active link;
/// kNotFound for a version, or a signaling rate, the table lacks.
Result<LimitFigure> NvlinkBandwidth(const TensorRates& rates, int version, int active_links,
                                    NvlinkRate rate = NvlinkRate::kSpec);

}  // namespace dlrig::bench
