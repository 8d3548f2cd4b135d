#include "knowledge/gpus.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <set>

#include "knowledge/data_files.h"
#include "knowledge/toml_rows.h"

namespace dlrig {
namespace {

constexpr std::string_view kFile = "gpus.toml";

std::optional<uint16_t> Hex16(std::string_view text) {
  if (text.starts_with("0x") || text.starts_with("0X")) text.remove_prefix(2);
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, 16);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty() || value > 0xffff)
    return std::nullopt;
  return static_cast<uint16_t>(value);
}

/// A positive integer field.
std::optional<int> Count(RowReader& r, std::string_view key) {
  auto value = r.Int(key, Need::kOptional);
  if (!value) return std::nullopt;
  if (*value <= 0 || *value > 1'000'000) {
    r.Problem("field '" + std::string(key) + "' must be a positive integer");
    return std::nullopt;
  }
  return static_cast<int>(*value);
}

std::optional<double> Positive(RowReader& r, std::string_view key) {
  auto value = r.Number(key, Need::kOptional);
  if (value && *value <= 0) r.Problem("field '" + std::string(key) + "' must be positive");
  return value;
}

void ReadPeak(RowReader& r, const toml::table* table, PeakTflops& peak) {
  if (table == nullptr) return;
  RowReader p(*table, r.where() + " peak_tflops");
  peak.fp64 = Positive(p, "fp64");
  peak.fp64_tensor = Positive(p, "fp64_tensor");
  peak.fp32 = Positive(p, "fp32");
  peak.tf32 = Positive(p, "tf32");
  peak.bf16 = Positive(p, "bf16");
  peak.fp16 = Positive(p, "fp16");
  peak.fp8 = Positive(p, "fp8");
  peak.fp4 = Positive(p, "fp4");
  if (auto done = p.Finish(); !done) r.Problem(done.error().message.substr(r.where().size() + 1));
}

// derived / unconfirmed must name fields the row has: a typo there would hide a flag.
void CheckFieldNames(RowReader& r, const toml::table& t, const std::vector<std::string>& names,
                     std::string_view list) {
  for (const std::string& name : names) {
    bool present = false;
    if (name.starts_with("peak_tflops.")) {
      const toml::table* peak = t["peak_tflops"].as_table();
      present = peak != nullptr && peak->contains(name.substr(12));
    } else {
      present = t.contains(name) && name != "source" && name != "name";
    }
    if (!present) r.Problem(std::string(list) + " names '" + name + "', which the row lacks");
  }
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

Result<GpuRow> ReadRow(const toml::table& t, size_t index, const SourceMap& sources) {
  std::string label = t["name"].value_or(RowOrdinal(index));
  RowReader r(t, std::string(kFile) + " row '" + label + "'");
  GpuRow row;
  row.name = r.String("name", Need::kRequired);
  row.aliases = r.Strings("aliases", Need::kOptional);
  if (GpuNameKey(row.name).empty()) r.Problem("field 'name' has no letter or digit");
  for (const std::string& alias : row.aliases)
    if (GpuNameKey(alias).empty()) r.Problem("alias '" + alias + "' has no letter or digit");
  for (const std::string& text : r.Strings("pci_ids", Need::kRequired)) {
    if (auto id = ParsePciId(text))
      row.pci_ids.push_back(*id);
    else
      r.Problem("pci id '" + text + "' is not vendor:device in hex");
  }
  row.chip = r.String("chip", Need::kOptional);
  row.architecture = r.String("architecture", Need::kRequired);
  auto cc = ParseComputeCapability(r.String("compute_capability", Need::kRequired));
  if (cc)
    std::tie(row.cc_major, row.cc_minor) = *cc;
  else
    r.Problem("field 'compute_capability' must be major.minor, e.g. \"9.0\"");
  row.sm_count = Count(r, "sm_count");
  row.memory_gb = Positive(r, "memory_gb");
  row.memory_type = r.String("memory_type", Need::kOptional);
  row.memory_bus_bits = Count(r, "memory_bus_bits");
  row.memory_clock_mhz = Count(r, "memory_clock_mhz");
  row.boost_clock_mhz = Count(r, "boost_clock_mhz");
  row.memory_bandwidth_gbs = Positive(r, "memory_bandwidth_gbs");
  row.tdp_w = Count(r, "tdp_w");
  row.pcie_gen = Count(r, "pcie_gen");
  row.pcie_lanes = Count(r, "pcie_lanes");
  row.nvlink_gbs = Positive(r, "nvlink_gbs");
  ReadPeak(r, r.Table("peak_tflops"), row.peak_tflops);
  row.derived = r.Strings("derived", Need::kOptional);
  row.unconfirmed = r.Strings("unconfirmed", Need::kOptional);
  CheckFieldNames(r, t, row.derived, "derived");
  CheckFieldNames(r, t, row.unconfirmed, "unconfirmed");
  row.note = r.String("note", Need::kOptional);
  row.sources = r.Sources(sources);
  if (auto done = r.Finish(); !done) return tl::unexpected(done.error());
  return row;
}

}  // namespace

std::string GpuNameKey(std::string_view name) {
  std::vector<std::string> words;
  std::string word;
  for (char c : name) {  // words split at spaces, hyphens and underscores
    if (std::isspace(static_cast<unsigned char>(c)) || c == '-' || c == '_') {
      if (!word.empty()) words.push_back(std::move(word));
      word.clear();
    } else {
      word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  size_t first = 0;
  while (first < words.size() && (words[first] == "nvidia" || words[first] == "geforce")) ++first;
  std::string key;
  for (size_t i = first; i < words.size(); ++i)
    for (char c : words[i])
      if (std::isalnum(static_cast<unsigned char>(c))) key += c;
  return key;
}

std::optional<PciId> ParsePciId(std::string_view text) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  auto vendor = Hex16(text.substr(0, colon));
  auto device = Hex16(text.substr(colon + 1));
  if (!vendor || !device) return std::nullopt;
  return PciId{*vendor, *device};
}

std::optional<double> GpuRow::BandwidthFromClockGbs() const {
  if (!memory_clock_mhz || !memory_bus_bits) return std::nullopt;
  return 2.0 * *memory_clock_mhz * 1e6 * (*memory_bus_bits / 8.0) / 1e9;
}

Result<GpuCatalog> GpuCatalog::Parse(std::string_view text) {
  auto doc = ParseToml(text, kFile);
  if (!doc) return tl::unexpected(doc.error());
  auto sources = ReadSources(*doc, kFile);
  if (!sources) return tl::unexpected(sources.error());
  const toml::array* rows = (*doc)["gpu"].as_array();
  if (rows == nullptr || rows->empty())
    return Fail(ErrorKind::kMalformed, "gpus.toml has no [[gpu]] rows");
  GpuCatalog catalog;
  std::set<std::string, std::less<>> names;  // --gpu picks the row by its name: one each
  for (size_t i = 0; i < rows->size(); ++i) {
    const toml::table* t = (*rows)[i].as_table();
    if (t == nullptr) return Fail(ErrorKind::kMalformed, "gpus.toml: a [[gpu]] row is not a table");
    auto row = ReadRow(*t, i, *sources);
    if (!row) return tl::unexpected(row.error());
    for (const PciId& id : row->pci_ids)
      if (auto other = catalog.Find(id.vendor, id.device))
        return Fail(ErrorKind::kMalformed, "gpus.toml row '" + row->name +
                                               "' repeats a PCI id of row '" + other->name + "'");
    if (!names.insert(GpuNameKey(row->name)).second)
      return Fail(ErrorKind::kMalformed,
                  "gpus.toml has two rows named '" + row->name + "' (names compare as GpuNameKey)");
    catalog.rows_.push_back(std::move(*row));
  }
  return catalog;
}

const Result<GpuCatalog>& GpuCatalog::BuiltIn() {
  return ParseDataFileOnce<GpuCatalog>(kFile);
}

std::optional<GpuRow> GpuCatalog::BuiltInRow(uint16_t vendor, uint16_t device) {
  auto whole = [&]() -> std::optional<GpuRow> {
    const auto& catalog = BuiltIn();
    const GpuRow* row = catalog ? catalog->Find(vendor, device) : nullptr;
    return row ? std::optional<GpuRow>(*row) : std::nullopt;
  };
  auto text = DataFileText(kFile);
  if (!text) return std::nullopt;
  constexpr std::string_view kRow = "\n[[gpu]]";
  char needle[16];
  std::snprintf(needle, sizeof needle, "\"%04x:%04x\"", vendor, device);
  size_t at = text->find(needle);
  size_t first_row = text->find(kRow);
  if (at == std::string_view::npos || first_row == std::string_view::npos || at < first_row)
    return whole();
  size_t begin = text->rfind(kRow, at);
  size_t end = text->find(kRow, at);
  if (end == std::string_view::npos) end = text->size();
  std::string one(text->substr(0, first_row));  // the header and [sources]
  one += text->substr(begin, end - begin);
  auto catalog = Parse(one);
  const GpuRow* row = catalog ? catalog->Find(vendor, device) : nullptr;
  return row ? std::optional<GpuRow>(*row) : whole();
}

const GpuRow* GpuCatalog::Find(uint16_t vendor, uint16_t device) const {
  for (const auto& row : rows_)
    for (const PciId& id : row.pci_ids)
      if (id.vendor == vendor && id.device == device) return &row;
  return nullptr;
}

GpuCatalog::NameMatch GpuCatalog::MatchName(std::string_view text) const {
  NameMatch match;
  std::string key = GpuNameKey(text);
  if (key.empty()) return match;
  for (const GpuRow& row : rows_) {
    if (GpuNameKey(row.name) == key) {
      match.named = &row;
      continue;
    }
    for (const std::string& alias : row.aliases) {
      if (GpuNameKey(alias) == key) {
        match.aliased.push_back(&row);
        break;
      }
    }
  }
  return match;
}

std::vector<std::string> GpuCatalog::NearestNames(std::string_view text, size_t count) const {
  std::string key = GpuNameKey(text);
  std::vector<std::pair<size_t, const GpuRow*>> scored;
  for (const GpuRow& row : rows_) {
    size_t best = EditDistance(key, GpuNameKey(row.name));
    for (const std::string& alias : row.aliases)
      best = std::min(best, EditDistance(key, GpuNameKey(alias)));
    scored.emplace_back(best, &row);
  }
  std::stable_sort(scored.begin(), scored.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> names;
  for (size_t i = 0; i < scored.size() && names.size() < count; ++i)
    names.push_back(scored[i].second->name);
  return names;
}

}  // namespace dlrig
