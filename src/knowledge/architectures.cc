#include "knowledge/architectures.h"

#include <algorithm>
#include <cctype>

#include "knowledge/data_files.h"
#include "knowledge/toml_rows.h"

namespace dlrig {
namespace {

constexpr std::string_view kFile = "architectures.toml";

bool SameText(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

Result<ArchRow> ReadRow(const toml::table& t, size_t index, const SourceMap& sources) {
  std::string label = t["cc"].value_or(RowOrdinal(index));
  RowReader r(t, std::string(kFile) + " row cc " + label);
  ArchRow row;
  auto cc = ParseComputeCapability(r.String("cc", Need::kRequired));
  if (cc)
    std::tie(row.cc_major, row.cc_minor) = *cc;
  else
    r.Problem("field 'cc' must be major.minor, e.g. \"9.0\"");
  row.sm = r.String("sm", Need::kRequired);
  std::string expected_sm = "sm_";
  expected_sm += std::to_string(row.cc_major);
  expected_sm += std::to_string(row.cc_minor);
  if (cc && row.sm != expected_sm) r.Problem("sm '" + row.sm + "' does not match its cc");
  row.architecture = r.String("architecture", Need::kRequired);
  row.family = r.String("family", Need::kRequired);
  row.products = r.Strings("products", Need::kOptional);
  row.first_cuda = r.Ver("first_cuda", Need::kOptional);
  row.removed_in_cuda = r.Ver("removed_in_cuda", Need::kOptional);
  if (row.first_cuda && row.removed_in_cuda && *row.removed_in_cuda <= *row.first_cuda)
    r.Problem("removed_in_cuda is not after first_cuda");
  row.open_kernel_module = r.Bool("open_kernel_module");
  row.jetson = r.Bool("jetson").value_or(false);
  row.confirmed = r.Bool("confirmed").value_or(true);
  row.note = r.String("note", Need::kOptional);
  row.sources = r.Sources(sources);
  if (auto done = r.Finish(); !done) return tl::unexpected(done.error());
  return row;
}

}  // namespace

std::string ArchRow::Cc() const {
  return std::to_string(cc_major) + "." + std::to_string(cc_minor);
}

Result<Architectures> Architectures::Parse(std::string_view text) {
  auto doc = ParseToml(text, kFile);
  if (!doc) return tl::unexpected(doc.error());
  auto sources = ReadSources(*doc, kFile);
  if (!sources) return tl::unexpected(sources.error());
  Architectures table;
  auto covered = Version::Parse((*doc)["covered_from_cuda"].value_or(std::string()));
  if (!covered) return Fail(ErrorKind::kMalformed, "architectures.toml lacks covered_from_cuda");
  table.covered_from_ = *covered;
  const toml::array* rows = (*doc)["cc"].as_array();
  if (rows == nullptr || rows->empty())
    return Fail(ErrorKind::kMalformed, "architectures.toml has no [[cc]] rows");
  for (size_t i = 0; i < rows->size(); ++i) {
    const toml::table* t = (*rows)[i].as_table();
    if (t == nullptr)
      return Fail(ErrorKind::kMalformed, "architectures.toml: [[cc]] row not a table");
    auto row = ReadRow(*t, i, *sources);
    if (!row) return tl::unexpected(row.error());
    if (table.Find(row->cc_major, row->cc_minor))
      return Fail(ErrorKind::kMalformed, "architectures.toml: cc " + row->Cc() + " appears twice");
    table.rows_.push_back(std::move(*row));
  }
  std::sort(table.rows_.begin(), table.rows_.end(), [](const ArchRow& a, const ArchRow& b) {
    return std::pair{a.cc_major, a.cc_minor} < std::pair{b.cc_major, b.cc_minor};
  });
  return table;
}

const Result<Architectures>& Architectures::BuiltIn() {
  return ParseDataFileOnce<Architectures>(kFile);
}

const ArchRow* Architectures::Find(int cc_major, int cc_minor) const {
  for (const auto& row : rows_)
    if (row.cc_major == cc_major && row.cc_minor == cc_minor) return &row;
  return nullptr;
}

const ArchRow* Architectures::ForName(std::string_view name) const {
  for (const auto& row : rows_)
    if (SameText(row.sm, name)) return &row;
  for (const auto& row : rows_)
    if (SameText(row.architecture, name)) return &row;
  return nullptr;
}

std::optional<bool> Architectures::CudaCanTarget(const Version& cuda, int cc_major,
                                                 int cc_minor) const {
  auto row = Find(cc_major, cc_minor);
  if (!row) return std::nullopt;
  if (row->first_cuda && cuda < *row->first_cuda) return false;
  if (row->removed_in_cuda && cuda >= *row->removed_in_cuda) return false;
  if (!row->first_cuda && cuda < covered_from_) return std::nullopt;
  return true;
}

std::optional<bool> CudaCanTarget(const Version& cuda, int cc_major, int cc_minor) {
  const auto& table = Architectures::BuiltIn();
  if (!table) return std::nullopt;
  return table->CudaCanTarget(cuda, cc_major, cc_minor);
}

}  // namespace dlrig
