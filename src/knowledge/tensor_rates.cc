#include "knowledge/tensor_rates.h"

#include <algorithm>

#include "core/strings.h"
#include "knowledge/data_files.h"
#include "knowledge/toml_rows.h"

namespace dlrig {
namespace {

constexpr std::string_view kFile = "tensor-rates.toml";

bool IsRateKind(std::string_view kind) {
  return std::find(kRateKinds.begin(), kRateKinds.end(), kind) != kRateKinds.end();
}

std::optional<Segment> ParseSegment(std::string_view text) {
  if (text == "datacenter") return Segment::kDatacenter;
  if (text == "geforce") return Segment::kGeForce;
  return std::nullopt;
}

std::optional<double> PositiveNumber(RowReader& r, std::string_view key, Need need) {
  auto value = r.Number(key, need);
  if (value && *value <= 0) r.Problem("field '" + std::string(key) + "' must be positive");
  return value;
}

void ReadRates(RowReader& r, ComputeRow& row) {
  const toml::table* rates = r.Table("per_clk_per_sm");
  if (rates == nullptr) return r.Problem("lacks required field 'per_clk_per_sm'");
  for (const auto& [key, node] : *rates) {
    auto value = node.value<double>();
    if (!IsRateKind(key.str()))
      r.Problem("per_clk_per_sm has unknown kind '" + std::string(key.str()) + "'");
    else if (!node.is_number() || !value || *value <= 0)
      r.Problem("per_clk_per_sm." + std::string(key.str()) + " must be a positive number");
    else
      row.per_clk_per_sm.emplace(std::string(key.str()), *value);
  }
}

// A kind may be a rate or unsupported, not both; unconfirmed must name a rate the row has.
void ReadKindLists(RowReader& r, ComputeRow& row) {
  for (const std::string& kind : r.Strings("unsupported", Need::kOptional)) {
    if (!IsRateKind(kind)) r.Problem("unsupported names unknown kind '" + kind + "'");
    if (row.per_clk_per_sm.contains(kind)) r.Problem("'" + kind + "' is a rate and unsupported");
    row.unsupported.insert(kind);
  }
  for (const std::string& kind : r.Strings("unconfirmed", Need::kOptional)) {
    if (!row.per_clk_per_sm.contains(kind))
      r.Problem("unconfirmed names '" + kind + "', which per_clk_per_sm lacks");
    row.unconfirmed.insert(kind);
  }
}

Result<ComputeRow> ReadCompute(const toml::table& t, size_t index, const SourceMap& sources) {
  std::string label = t["compute_capability"].value_or(RowOrdinal(index)) + " " +
                      t["segment"].value_or(std::string());
  RowReader r(t, std::string(kFile) + " [[compute]] " + label);
  ComputeRow row;
  if (auto cc = ParseComputeCapability(r.String("compute_capability", Need::kRequired)))
    std::tie(row.cc_major, row.cc_minor) = *cc;
  else
    r.Problem("field 'compute_capability' must be major.minor, e.g. \"9.0\"");
  if (auto segment = ParseSegment(r.String("segment", Need::kRequired)))
    row.segment = *segment;
  else
    r.Problem("field 'segment' must be \"datacenter\" or \"geforce\"");
  row.parts = r.Strings("parts", Need::kRequired);
  ReadRates(r, row);
  ReadKindLists(r, row);
  row.derived = r.Bool("derived").value_or(false);
  row.check = r.String("check", Need::kOptional);
  row.note = r.String("note", Need::kOptional);
  row.sources = r.Sources(sources);
  if (auto done = r.Finish(); !done) return tl::unexpected(done.error());
  return row;
}

Result<NvlinkRow> ReadNvlink(const toml::table& t, size_t index, const SourceMap& sources) {
  std::string label = std::to_string(t["version"].value_or(int64_t{0}));
  RowReader r(t, std::string(kFile) + " [[nvlink]] " + (label == "0" ? RowOrdinal(index) : label));
  NvlinkRow row;
  auto version = r.Int("version", Need::kRequired);
  if (version && (*version <= 0 || *version > 100)) r.Problem("field 'version' must be 1..100");
  row.version = static_cast<int>(version.value_or(0));
  for (const std::string& text : r.Strings("compute_capabilities", Need::kRequired)) {
    if (auto cc = ParseComputeCapability(text))
      row.compute_capabilities.push_back(*cc);
    else
      r.Problem("compute capability '" + text + "' is not major.minor");
  }
  for (int64_t answer : r.Ints("nvml_versions", Need::kRequired)) {
    if (answer <= 0 || answer > 1000) r.Problem("field 'nvml_versions' must be positive");
    row.nvml_versions.push_back(static_cast<int>(answer));
  }
  row.per_link_gbs = PositiveNumber(r, "per_link_gbs", Need::kRequired).value_or(0);
  row.signaling_gbs = PositiveNumber(r, "signaling_gbs", Need::kOptional);
  if (row.signaling_gbs && *row.signaling_gbs < row.per_link_gbs)
    r.Problem("signaling_gbs is below per_link_gbs");
  row.note = r.String("note", Need::kOptional);
  row.sources = r.Sources(sources);
  if (auto done = r.Finish(); !done) return tl::unexpected(done.error());
  return row;
}

Result<PcieRow> ReadPcie(const toml::table& t, size_t index, const SourceMap& sources) {
  std::string label = std::to_string(t["gen"].value_or(int64_t{0}));
  RowReader r(t, std::string(kFile) + " [[pcie]] " + (label == "0" ? RowOrdinal(index) : label));
  PcieRow row;
  auto gen = r.Int("gen", Need::kRequired);
  if (gen && (*gen <= 0 || *gen > 100)) r.Problem("field 'gen' must be 1..100");
  row.gen = static_cast<int>(gen.value_or(0));
  row.gt_s = PositiveNumber(r, "gt_s", Need::kRequired).value_or(0);
  row.encoding = r.String("encoding", Need::kRequired);
  row.payload_bits = static_cast<int>(r.Int("payload_bits", Need::kRequired).value_or(0));
  row.line_bits = static_cast<int>(r.Int("line_bits", Need::kRequired).value_or(0));
  if (row.payload_bits <= 0 || row.line_bits < row.payload_bits)
    r.Problem("needs 0 < payload_bits <= line_bits");
  row.derived = r.Bool("derived").value_or(false);
  row.confirmed = r.Bool("confirmed").value_or(true);
  row.note = r.String("note", Need::kOptional);
  row.sources = r.Sources(sources);
  if (auto done = r.Finish(); !done) return tl::unexpected(done.error());
  return row;
}

Result<void> CheckUnique(const TensorRates& t) {
  const auto& c = t.compute();
  for (size_t i = 0; i < c.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (c[i].cc_major == c[j].cc_major && c[i].cc_minor == c[j].cc_minor &&
          c[i].segment == c[j].segment)
        return Fail(ErrorKind::kMalformed, std::string(kFile) + ": [[compute]] " +
                                               std::to_string(c[i].cc_major) + "." +
                                               std::to_string(c[i].cc_minor) + " " +
                                               SegmentName(c[i].segment) + " appears twice");
  for (size_t i = 0; i < t.nvlink().size(); ++i)
    if (t.Nvlink(t.nvlink()[i].version) != &t.nvlink()[i])
      return Fail(ErrorKind::kMalformed, std::string(kFile) + ": an NVLink version appears twice");
  for (const NvlinkRow& row : t.nvlink())
    for (int answer : row.nvml_versions)
      if (t.NvlinkForNvml(answer) != &row)
        return Fail(ErrorKind::kMalformed, std::string(kFile) + ": NVML version answer " +
                                               std::to_string(answer) + " maps to two versions");
  for (size_t i = 0; i < t.pcie().size(); ++i)
    if (t.Pcie(t.pcie()[i].gen) != &t.pcie()[i])
      return Fail(ErrorKind::kMalformed, std::string(kFile) + ": a PCIe generation appears twice");
  return {};
}

}  // namespace

const char* SegmentName(Segment segment) {
  return segment == Segment::kGeForce ? "geforce" : "datacenter";
}

Segment SegmentFromName(std::string_view gpu_name) {
  return Contains(ToLower(gpu_name), "geforce") ? Segment::kGeForce : Segment::kDatacenter;
}

double PcieRow::PerLaneGbs() const {
  return line_bits > 0 ? gt_s * payload_bits / line_bits / 8.0 : 0.0;
}

Result<TensorRates> TensorRates::Parse(std::string_view text) {
  auto doc = ParseToml(text, kFile);
  if (!doc) return tl::unexpected(doc.error());
  for (const auto& [key, node] : *doc)
    if (key.str() != "sources" && key.str() != "compute" && key.str() != "nvlink" &&
        key.str() != "pcie")
      return Fail(ErrorKind::kMalformed,
                  std::string(kFile) + " has unknown section '" + std::string(key.str()) + "'");
  auto sources = ReadSources(*doc, kFile);
  if (!sources) return tl::unexpected(sources.error());
  TensorRates table;
  auto compute = ReadRowArray<ComputeRow>(*doc, kFile, "compute", *sources, ReadCompute);
  if (!compute) return tl::unexpected(compute.error());
  auto nvlink = ReadRowArray<NvlinkRow>(*doc, kFile, "nvlink", *sources, ReadNvlink);
  if (!nvlink) return tl::unexpected(nvlink.error());
  auto pcie = ReadRowArray<PcieRow>(*doc, kFile, "pcie", *sources, ReadPcie);
  if (!pcie) return tl::unexpected(pcie.error());
  table.compute_ = std::move(*compute);
  table.nvlink_ = std::move(*nvlink);
  table.pcie_ = std::move(*pcie);
  if (auto unique = CheckUnique(table); !unique) return tl::unexpected(unique.error());
  return table;
}

const Result<TensorRates>& TensorRates::BuiltIn() { return ParseDataFileOnce<TensorRates>(kFile); }

Result<ComputeRate> TensorRates::Compute(int cc_major, int cc_minor, Segment segment,
                                         std::string_view kind) const {
  std::string what = std::string(kind) + " on compute capability " + std::to_string(cc_major) +
                     "." + std::to_string(cc_minor) + " (" + SegmentName(segment) + ")";
  for (const ComputeRow& row : compute_) {
    if (row.cc_major != cc_major || row.cc_minor != cc_minor || row.segment != segment) continue;
    if (auto it = row.per_clk_per_sm.find(kind); it != row.per_clk_per_sm.end())
      return ComputeRate{it->second, !row.unconfirmed.contains(kind), &row};
    if (row.unsupported.contains(kind))
      return Fail(ErrorKind::kUnsupported,
                  "no " + std::string(kind) + " unit on compute capability " +
                      std::to_string(cc_major) + "." + std::to_string(cc_minor));
    return Fail(ErrorKind::kNotFound,
                "rate unknown: " + std::string(kFile) + " has none for " + what);
  }
  return Fail(ErrorKind::kNotFound,
              "rate unknown: " + std::string(kFile) + " has no row for " + what);
}

const NvlinkRow* TensorRates::Nvlink(int version) const {
  for (const NvlinkRow& row : nvlink_)
    if (row.version == version) return &row;
  return nullptr;
}

const NvlinkRow* TensorRates::NvlinkForCc(int cc_major, int cc_minor) const {
  for (const NvlinkRow& row : nvlink_)
    for (const auto& cc : row.compute_capabilities)
      if (cc == std::pair{cc_major, cc_minor}) return &row;
  return nullptr;
}

const NvlinkRow* TensorRates::NvlinkForNvml(long long nvml_version) const {
  for (const NvlinkRow& row : nvlink_)
    for (int answer : row.nvml_versions)
      if (answer == nvml_version) return &row;
  return nullptr;
}

const PcieRow* TensorRates::Pcie(int gen) const {
  for (const PcieRow& row : pcie_)
    if (row.gen == gen) return &row;
  return nullptr;
}

}  // namespace dlrig
