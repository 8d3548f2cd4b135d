// The GPU catalog (data/gpus.toml), keyed by PCI vendor:device id: product name, architecture,
// compute capability and the datasheet figures (memory, clocks, bandwidth, dense peak TFLOP/s,
// power, host link) that bench compares measurements against. A figure no source gave is
// absent, never 0.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace dlrig {

struct PciId {
  uint16_t vendor = 0;  ///< 0x10de
  uint16_t device = 0;  ///< 0x2330
  bool operator==(const PciId&) const = default;
};

/// Dense peak, 10^12 FLOP/s, no sparsity. bf16/fp16 with FP32 accumulate.
struct PeakTflops {
  std::optional<double> fp64;
  std::optional<double> fp64_tensor;  ///< tensor-core FP64 where it differs
  std::optional<double> fp32;
  std::optional<double> tf32;
  std::optional<double> bf16;
  std::optional<double> fp16;
  std::optional<double> fp8;
  std::optional<double> fp4;
};

struct GpuRow {
  std::string name;  ///< "H100 SXM5 80GB"
  std::vector<PciId> pci_ids;
  std::string architecture;  ///< as in architectures.toml
  int cc_major = 0;
  int cc_minor = 0;
  std::optional<int> sm_count;
  std::optional<double> memory_gb;  ///< nominal, as the vendor states it
  std::string memory_type;          ///< "HBM3", "GDDR6X", or ""
  std::optional<int> memory_bus_bits;
  std::optional<int> memory_clock_mhz;  ///< as NVML reports it
  std::optional<int> boost_clock_mhz;
  std::optional<double> memory_bandwidth_gbs;  ///< 10^9 B/s
  std::optional<int> tdp_w;
  std::optional<int> pcie_gen;
  std::optional<int> pcie_lanes;
  std::optional<double> nvlink_gbs;  ///< per GPU, both directions
  PeakTflops peak_tflops;
  std::vector<std::string> derived;      ///< fields computed by the research, not printed
  std::vector<std::string> unconfirmed;  ///< fields the research marks unconfirmed
  std::string note;
  std::vector<std::string> sources;  ///< citations

  /// 2 x memory clock x bus width / 8, GB/s, when both are known.
  std::optional<double> BandwidthFromClockGbs() const;
};

class GpuCatalog {
 public:
  static Result<GpuCatalog> Parse(std::string_view text);
  /// The table from DataFileText("gpus.toml"), parsed once.
  static const Result<GpuCatalog>& BuiltIn();

  const GpuRow* Find(uint16_t vendor, uint16_t device) const;
  const std::vector<GpuRow>& rows() const { return rows_; }

 private:
  std::vector<GpuRow> rows_;
};

/// "10de:2330" (an optional 0x on each half) -> PciId.
std::optional<PciId> ParsePciId(std::string_view text);

}  // namespace dlrig
