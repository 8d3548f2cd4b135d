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
  std::string name;                  ///< "H100 SXM5 80GB"
  std::vector<std::string> aliases;  ///< what people type: "H100 80GB HBM3", "H100 SXM", "H100"
  std::vector<PciId> pci_ids;
  std::string chip;  ///< die codename from pci.ids ("GH100", "TU102GL"); "" when not given
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
  /// The built-in row of one PCI id, parsing only that row's [[gpu]] block and [sources]
  /// (the whole table is ~550 rows: parsing it was ~40% of `doctor`'s time). Falls back to
  /// BuiltIn() when the id is not written as "10de:2330" in the text. nullopt: no such row, or
  /// the table is unreadable.
  static std::optional<GpuRow> BuiltInRow(uint16_t vendor, uint16_t device);

  const GpuRow* Find(uint16_t vendor, uint16_t device) const;
  const std::vector<GpuRow>& rows() const { return rows_; }

  /// The rows a typed name means, compared by GpuNameKey: the row whose own name it is (at
  /// most one: names are unique), and every row that lists it among its aliases.
  struct NameMatch {
    const GpuRow* named = nullptr;
    std::vector<const GpuRow*> aliased;  ///< in table order, without `named`
  };
  NameMatch MatchName(std::string_view text) const;
  /// Up to `count` row names nearest to `text` (edit distance between keys, over names and
  /// aliases), nearest first; for "did you mean".
  std::vector<std::string> NearestNames(std::string_view text, size_t count) const;

 private:
  std::vector<GpuRow> rows_;
};

/// How GPU names are compared: lower case, leading "NVIDIA" and "GeForce" words dropped, then
/// everything but letters and digits dropped: "NVIDIA GeForce RTX-3090" and "rtx 3090" are both
/// "rtx3090", "Tesla V100-SXM2-32GB" is "teslav100sxm232gb".
std::string GpuNameKey(std::string_view name);

/// "10de:2330" (an optional 0x on each half) -> PciId.
std::optional<PciId> ParsePciId(std::string_view text);

}  // namespace dlrig
