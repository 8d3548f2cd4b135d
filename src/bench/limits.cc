#include "bench/limits.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace dlrig::bench {
namespace {

// Datasheet tensor figures that sit within this of SMs x boost x rate were computed at the boost
// clock (the gap is the datasheet's rounding); beyond it the datasheet used another clock, as
// H100's 1830 MHz tensor figures against its 1980 MHz boost do.
constexpr double kSameClockTolerance = 0.01;

std::string Fixed(double value, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
  return buf;
}

/// Whole numbers without decimals: 1980, 26.5625, 1754.3.
std::string Plain(double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", value);
  return buf;
}

const char* Unit(DType dtype) { return IsInteger(dtype) ? "TOPS" : "TFLOP/s"; }
const char* RateUnit(DType dtype) { return IsInteger(dtype) ? "OP/clk/SM" : "FLOP/clk/SM"; }

/// The tensor-rates.toml kind that bounds `dtype`; FP64 is the tensor-core rate where the
/// architecture has one (cuBLAS DGEMM uses it), else the SIMT rate.
Result<std::string> RateKind(const TensorRates& rates, const ComputeDevice& d, DType dtype,
                             Accumulate accumulate) {
  if (accumulate == Accumulate::kFp16 && dtype != DType::kFp16 && dtype != DType::kFp8E4M3)
    return Fail(ErrorKind::kUnsupported,
                "FP16 accumulate applies to fp16 and fp8, not " + std::string(DTypeName(dtype)));
  const bool fp16acc = accumulate == Accumulate::kFp16;
  switch (dtype) {
    case DType::kFp64: {
      auto tensor = rates.Compute(d.cc_major, d.cc_minor, d.segment, "fp64_tensor");
      bool none = !tensor && tensor.error().kind == ErrorKind::kUnsupported;
      return std::string(none ? "fp64" : "fp64_tensor");
    }
    case DType::kFp32:
      return std::string("fp32");
    case DType::kTf32:
      return std::string("tf32");
    case DType::kFp16:
      return std::string(fp16acc ? "fp16_fp16acc" : "fp16");
    case DType::kBf16:
      return std::string("bf16");
    case DType::kFp8E4M3:
      return std::string(fp16acc ? "fp8_fp16acc" : "fp8");
    case DType::kInt8:
      return std::string("int8");
  }
  return Fail(ErrorKind::kUnsupported, "unknown dtype");
}

/// The catalog's datasheet figure for rate kind `kind`; the catalog lists FP32-accumulate
/// tensor figures only, and no int8.
std::optional<double> DatasheetTflops(const GpuRow& row, std::string_view kind) {
  const PeakTflops& p = row.peak_tflops;
  if (kind == "fp64") return p.fp64;
  if (kind == "fp64_tensor") return p.fp64_tensor;
  if (kind == "fp32") return p.fp32;
  if (kind == "tf32") return p.tf32;
  if (kind == "fp16") return p.fp16;
  if (kind == "bf16") return p.bf16;
  if (kind == "fp8") return p.fp8;
  return std::nullopt;
}

bool IsTensorKind(std::string_view kind) { return kind != "fp64" && kind != "fp32"; }

bool ListHas(const std::vector<std::string>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

struct SpecClock {
  double mhz = 0;
  std::string label;  ///< "2520 MHz boost", "1830 MHz (tensor clock implied by ...)"
};

/// The clock the datasheet's tensor figures imply: its bf16 (else fp16) figure over SMs x rate.
std::optional<double> ImpliedTensorClockMhz(const TensorRates& rates, const ComputeDevice& d) {
  const GpuRow& row = *d.catalog;
  if (!row.sm_count) return std::nullopt;
  for (std::string_view kind : {"bf16", "fp16"}) {
    auto tflops = DatasheetTflops(row, kind);
    auto rate = rates.Compute(d.cc_major, d.cc_minor, d.segment, kind);
    if (tflops && rate) return *tflops * 1e6 / (*row.sm_count * rate->per_clk_per_sm);
  }
  return std::nullopt;
}

std::optional<SpecClock> RatedClock(const TensorRates& rates, const ComputeDevice& d,
                                    std::string_view kind) {
  if (d.catalog == nullptr || !d.catalog->boost_clock_mhz) return std::nullopt;
  double boost = *d.catalog->boost_clock_mhz;
  SpecClock clock{boost, Plain(boost) + " MHz"};
  if (!IsTensorKind(kind)) return clock;
  auto implied = ImpliedTensorClockMhz(rates, d);
  if (!implied || std::fabs(*implied - boost) <= kSameClockTolerance * boost) return clock;
  return SpecClock{*implied, Fixed(*implied, 0) +
                                 " MHz (the tensor clock its datasheet bf16 "
                                 "figure implies; boost " +
                                 Plain(boost) + ")"};
}

LimitFigure Product(int sm_count, double mhz, const std::string& clock_label, double rate,
                    DType dtype, std::string basis) {
  double value = sm_count * mhz * rate / 1e6;
  std::string formula = std::to_string(sm_count) + " SM × " + clock_label + " × " + Plain(rate) +
                        " " + RateUnit(dtype) + " = " + Fixed(value, 1) + " " + Unit(dtype);
  return {value, std::move(basis), std::move(formula), Unit(dtype)};
}

LimitFigure Datasheet(const GpuRow& row, std::string_view kind, double tflops, DType dtype) {
  std::string field = "peak_tflops." + std::string(kind);
  std::string basis = "spec (datasheet";
  if (ListHas(row.derived, field)) basis += ", derived by the research";
  if (ListHas(row.unconfirmed, field)) basis += ", unconfirmed";
  basis += ")";
  std::string formula = "datasheet " + std::string(kind) + " of " + row.name + " = " +
                        Fixed(tflops, 1) + " " + Unit(dtype);
  return {tflops, std::move(basis), std::move(formula), Unit(dtype)};
}

}  // namespace

Result<ComputeLimits> PeakCompute(const TensorRates& rates, const ComputeDevice& device,
                                  DType dtype, Accumulate accumulate) {
  auto kind = RateKind(rates, device, dtype, accumulate);
  if (!kind) return tl::unexpected(kind.error());
  auto rate = rates.Compute(device.cc_major, device.cc_minor, device.segment, *kind);
  if (!rate && rate.error().kind == ErrorKind::kUnsupported) return tl::unexpected(rate.error());
  std::optional<int> sms = device.sm_count;
  if (!sms && device.catalog) sms = device.catalog->sm_count;

  ComputeLimits out;
  out.rate_confirmed = !rate || rate->confirmed;
  std::optional<double> sheet;
  if (device.catalog) sheet = DatasheetTflops(*device.catalog, *kind);
  auto spec = rate ? RatedClock(rates, device, *kind) : std::nullopt;
  if (sheet)
    out.at_spec_clock = Datasheet(*device.catalog, *kind, *sheet, dtype);
  else if (rate && sms && spec)
    out.at_spec_clock =
        Product(*sms, spec->mhz, spec->label, rate->per_clk_per_sm, dtype, "spec (rated clock)");
  else
    out.missing.push_back("spec: no datasheet figure and no rated clock");

  if (!rate) {
    out.missing.push_back(rate.error().message);
  } else if (!sms) {
    out.missing.push_back("SM count unknown");
  } else {
    if (device.max_sm_clock_mhz)
      out.at_max_clock =
          Product(*sms, *device.max_sm_clock_mhz, Plain(*device.max_sm_clock_mhz) + " MHz",
                  rate->per_clk_per_sm, dtype, "max SM clock");
    else
      out.missing.push_back("max SM clock not given");
    if (device.measured_sm_clock_mhz)
      out.at_measured_clock = Product(*sms, *device.measured_sm_clock_mhz,
                                      Fixed(*device.measured_sm_clock_mhz, 0) + " MHz",
                                      rate->per_clk_per_sm, dtype, "measured SM clock");
    else
      out.missing.push_back("measured SM clock not given");
  }
  if (!out.at_spec_clock && !out.at_max_clock && !out.at_measured_clock)
    return Fail(ErrorKind::kNotFound,
                std::string(DTypeName(dtype)) + " peak unknown: " +
                    (rate ? std::string("no clock or SM count given") : rate.error().message));
  return out;
}

Result<LimitFigure> MemoryBandwidth(double memory_clock_mhz, int bus_bits) {
  if (!(memory_clock_mhz > 0) || bus_bits <= 0)
    return Fail(ErrorKind::kMalformed,
                "memory bandwidth needs a positive memory clock and bus width");
  double gbs = 2.0 * memory_clock_mhz * bus_bits / 8.0 / 1e3;
  std::string formula = "2 × " + Plain(memory_clock_mhz) + " MHz × " + std::to_string(bus_bits) +
                        " bit / 8 = " + Fixed(gbs, 1) + " GB/s";
  return LimitFigure{gbs, "memory clock × bus width", std::move(formula), "GB/s"};
}

std::optional<LimitFigure> MemoryBandwidthDatasheet(const GpuRow& row) {
  if (!row.memory_bandwidth_gbs) return std::nullopt;
  double gbs = *row.memory_bandwidth_gbs;
  return LimitFigure{gbs, "spec (datasheet)",
                     "datasheet bandwidth of " + row.name + " = " + Fixed(gbs, 1) + " GB/s",
                     "GB/s"};
}

Result<LimitFigure> PcieBandwidth(const TensorRates& rates, int gen, int lanes) {
  if (lanes <= 0) return Fail(ErrorKind::kMalformed, "PCIe link width must be positive");
  const PcieRow* row = rates.Pcie(gen);
  if (row == nullptr)
    return Fail(ErrorKind::kNotFound, "PCIe Gen" + std::to_string(gen) + " rate unknown");
  double gbs = lanes * row->PerLaneGbs();
  std::string formula = std::to_string(lanes) + " lanes × " + Plain(row->gt_s) + " GT/s × " +
                        std::to_string(row->payload_bits) + "/" + std::to_string(row->line_bits) +
                        " / 8 = " + Fixed(gbs, 2) + " GB/s";
  std::string basis = "PCIe Gen" + std::to_string(gen) + " x" + std::to_string(lanes) +
                      ", per direction" + (row->confirmed ? "" : " (encoding unconfirmed)");
  return LimitFigure{gbs, std::move(basis), std::move(formula), "GB/s"};
}

Result<LimitFigure> NvlinkBandwidth(const TensorRates& rates, int version, int active_links,
                                    NvlinkRate rate) {
  if (active_links <= 0) return Fail(ErrorKind::kUnsupported, "no active NVLink link");
  const NvlinkRow* row = rates.Nvlink(version);
  std::string name = "NVLink" + std::to_string(version);
  if (row == nullptr) return Fail(ErrorKind::kNotFound, name + " per-link rate unknown");
  if (rate == NvlinkRate::kSignaling && !row->signaling_gbs)
    return Fail(ErrorKind::kNotFound, name + " signaling rate unknown");
  double per_link = rate == NvlinkRate::kSignaling ? *row->signaling_gbs : row->per_link_gbs;
  double gbs = active_links * per_link;
  std::string formula = std::to_string(active_links) + " links × " + Plain(per_link) +
                        " GB/s = " + Fixed(gbs, 1) + " GB/s";
  std::string basis =
      name + (rate == NvlinkRate::kSignaling ? " signaling rate" : "") + ", per direction";
  return LimitFigure{gbs, std::move(basis), std::move(formula), "GB/s"};
}

}  // namespace dlrig::bench
