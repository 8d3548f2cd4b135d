// Per-SM per-clock compute rates by compute capability, segment and dtype, NVLink per-link rates
// and PCIe per-lane rates (data/tensor-rates.toml): what bench multiplies by SMs x clock, links
// or lanes to state a device's physical limit. A rate no source gives is unknown, never 0.
#pragma once

#include <array>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace dlrig {

/// GeForce parts run FP32-accumulate tensor math at half rate (GA10x, Ada, Blackwell sm_120);
/// every other part (data-center, RTX A / Ada / PRO workstation, Quadro, Titan) is kDatacenter.
enum class Segment { kDatacenter, kGeForce };

/// "datacenter", "geforce".
const char* SegmentName(Segment segment);

/// The segment of a GPU from its product name as NVML or the catalog spells it:
/// "NVIDIA GeForce RTX 4090" -> kGeForce; "NVIDIA RTX A6000", "NVIDIA H100 80GB HBM3",
/// "NVIDIA TITAN RTX" -> kDatacenter. An empty name is kDatacenter.
Segment SegmentFromName(std::string_view gpu_name);

/// The rate kinds of [[compute]] rows. fp16, bf16 and fp8 accumulate in FP32; the *_fp16acc
/// kinds accumulate in FP16; int8 counts integer ops.
inline constexpr std::array<std::string_view, 11> kRateKinds = {
    "fp64", "fp64_tensor", "fp32",        "tf32", "fp16", "fp16_fp16acc",
    "bf16", "fp8",         "fp8_fp16acc", "int8", "fp4"};

struct ComputeRow {
  int cc_major = 0;
  int cc_minor = 0;
  Segment segment = Segment::kDatacenter;
  std::vector<std::string> parts;  ///< the products the rates were derived from
  std::map<std::string, double, std::less<>> per_clk_per_sm;  ///< dense, FLOP = 2 per FMA
  std::set<std::string, std::less<>> unsupported;  ///< kinds the architecture has no unit for
  bool derived = false;                            ///< computed from datasheet TFLOP/s
  std::set<std::string, std::less<>> unconfirmed;  ///< kinds the research marks unconfirmed
  std::string check;                               ///< the datasheet figure the rates reproduce
  std::string note;
  std::vector<std::string> sources;
};

/// One rate from a row.
struct ComputeRate {
  double per_clk_per_sm = 0;
  bool confirmed = true;
  const ComputeRow* row = nullptr;  ///< owned by the table
};

struct NvlinkRow {
  int version = 0;
  std::vector<std::pair<int, int>> compute_capabilities;  ///< the GPUs the source names
  std::vector<int> nvml_versions;       ///< nvmlDeviceGetNvLinkVersion's answers (its enum) for it
  double per_link_gbs = 0;              ///< per direction, the rate NVIDIA's figures use
  std::optional<double> signaling_gbs;  ///< raw, as nvidia-smi nvlink -s shows it
  std::string note;
  std::vector<std::string> sources;
};

struct PcieRow {
  int gen = 0;
  double gt_s = 0;       ///< transfers per second per lane, 10^9
  std::string encoding;  ///< "128b/130b"
  int payload_bits = 0;  ///< of every line_bits on the wire
  int line_bits = 0;
  bool derived = false;
  bool confirmed = true;
  std::string note;
  std::vector<std::string> sources;

  /// gt_s x payload_bits / line_bits / 8: GB/s (10^9) per lane and direction.
  double PerLaneGbs() const;
};

class TensorRates {
 public:
  static Result<TensorRates> Parse(std::string_view text);
  /// The table from DataFileText("tensor-rates.toml"), parsed once.
  static const Result<TensorRates>& BuiltIn();

  /// The rate of `kind` (one of kRateKinds) on compute capability major.minor parts of
  /// `segment`. kUnsupported when the architecture has no unit for it; kNotFound when the table
  /// has no row or no rate for it (unknown: no source gave one).
  Result<ComputeRate> Compute(int cc_major, int cc_minor, Segment segment,
                              std::string_view kind) const;
  /// nullptr when the version is not in the table.
  const NvlinkRow* Nvlink(int version) const;
  /// The NVLink version of a compute capability the table names (9.0 -> 4); nullptr when none.
  const NvlinkRow* NvlinkForCc(int cc_major, int cc_minor) const;
  /// The NVLink version behind an nvmlDeviceGetNvLinkVersion answer, which is NVML's enum, not
  /// the generation (6 = NVML_NVLINK_VERSION_4_0 -> NVLink4); nullptr for an unknown answer.
  const NvlinkRow* NvlinkForNvml(long long nvml_version) const;
  /// nullptr when the generation is not in the table.
  const PcieRow* Pcie(int gen) const;

  const std::vector<ComputeRow>& compute() const { return compute_; }
  const std::vector<NvlinkRow>& nvlink() const { return nvlink_; }
  const std::vector<PcieRow>& pcie() const { return pcie_; }

 private:
  std::vector<ComputeRow> compute_;
  std::vector<NvlinkRow> nvlink_;
  std::vector<PcieRow> pcie_;
};

}  // namespace dlrig
