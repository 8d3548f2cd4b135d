#include "knowledge/host_compilers.h"

#include <algorithm>

#include "core/toml.h"
#include "knowledge/data_files.h"
#include "knowledge/toml_rows.h"

namespace dlrig {
namespace {

constexpr std::string_view kFile = "host-compilers.toml";

/// A toolkit bound: exactly "X.Y".
Version Toolkit(RowReader& row, std::string_view key) {
  auto v = row.Ver(key, Need::kRequired);
  if (v && (v->parts.size() != 2 || !v->suffix.empty()))
    row.Problem("field '" + std::string(key) + "' is not X.Y");
  return v.value_or(Version{{0}, "", "0"});
}

HostCompilerRow ParseRow(RowReader& row) {
  HostCompilerRow r;
  r.cuda_first = Toolkit(row, "cuda_first");
  r.cuda_last = Toolkit(row, "cuda_last");
  auto newest = row.Int("newest_major", Need::kRequired);
  auto confirmed = row.Bool("confirmed");
  r.source = row.String("source", Need::kRequired);
  if (!confirmed) row.Problem("lacks required field 'confirmed'");
  if (newest && (*newest < 1 || *newest > 100)) row.Problem("has newest_major out of range");
  if (r.cuda_last < r.cuda_first) row.Problem("has cuda_last before cuda_first");
  r.newest_major = static_cast<int>(newest.value_or(0));
  r.confirmed = confirmed.value_or(false);
  return r;
}

std::string RowName(const char* kind, size_t index, const toml::table& row) {
  std::string name = std::string(kFile) + " [[" + kind + "]] #" + std::to_string(index + 1);
  if (auto first = row["cuda_first"].value<std::string>()) name += " (" + *first + ")";
  return name;
}

/// The [[kind]] rows sorted by toolkit; overlapping rows are an error, since a toolkit has one
/// limit.
Result<std::vector<HostCompilerRow>> ReadKind(const toml::table& doc, const char* kind) {
  const toml::array* rows = doc[kind].as_array();
  if (rows == nullptr)
    return Fail(ErrorKind::kMalformed, std::string(kFile) + " has no [[" + kind + "]] rows");
  std::vector<HostCompilerRow> out;
  for (size_t i = 0; i < rows->size(); ++i) {
    const toml::table* table = rows->get(i)->as_table();
    if (table == nullptr)
      return Fail(ErrorKind::kMalformed, RowName(kind, i, {}) + " is not a table");
    RowReader reader(*table, RowName(kind, i, *table));
    HostCompilerRow row = ParseRow(reader);
    if (auto done = reader.Finish(); !done) return tl::unexpected(done.error());
    out.push_back(std::move(row));
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.cuda_first < b.cuda_first; });
  for (size_t i = 1; i < out.size(); ++i)
    if (out[i].cuda_first <= out[i - 1].cuda_last)
      return Fail(ErrorKind::kMalformed, std::string(kFile) + " [[" + kind + "]] rows for CUDA " +
                                             out[i - 1].cuda_first.text + " and " +
                                             out[i].cuda_first.text + " overlap");
  return out;
}

const HostCompilerRow* RowFor(const std::vector<HostCompilerRow>& rows, const Version& cuda) {
  Version toolkit = cuda;
  toolkit.parts.resize(2, 0);
  for (const auto& row : rows)
    if (row.cuda_first <= toolkit && toolkit <= row.cuda_last) return &row;
  return nullptr;
}

}  // namespace

Result<HostCompilers> HostCompilers::Parse(std::string_view text) {
  auto doc = ParseToml(text, kFile);
  if (!doc) return tl::unexpected(doc.error());
  auto gcc = ReadKind(*doc, "gcc");
  if (!gcc) return tl::unexpected(gcc.error());
  auto clang = ReadKind(*doc, "clang");
  if (!clang) return tl::unexpected(clang.error());
  HostCompilers table;
  table.gcc_ = std::move(*gcc);
  table.clang_ = std::move(*clang);
  return table;
}

const Result<HostCompilers>& HostCompilers::BuiltIn() {
  return ParseDataFileOnce<HostCompilers>(kFile);
}

const HostCompilerRow* HostCompilers::GccRow(const Version& cuda) const {
  return RowFor(gcc_, cuda);
}

const HostCompilerRow* HostCompilers::ClangRow(const Version& cuda) const {
  return RowFor(clang_, cuda);
}

std::optional<int> HostCompilers::NewestGccFor(const Version& cuda) const {
  const HostCompilerRow* row = GccRow(cuda);
  return row ? std::optional<int>(row->newest_major) : std::nullopt;
}

std::optional<int> HostCompilers::NewestClangFor(const Version& cuda) const {
  const HostCompilerRow* row = ClangRow(cuda);
  return row ? std::optional<int>(row->newest_major) : std::nullopt;
}

}  // namespace dlrig
