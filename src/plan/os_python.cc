#include "plan/os_python.h"

#include <algorithm>

#include "core/strings.h"
#include "knowledge/data_files.h"
#include "knowledge/toml_rows.h"

namespace dlrig {

Result<OsPythonTable> OsPythonTable::Parse(std::string_view text) {
  constexpr std::string_view kFile = "os-python.toml";
  auto doc = ParseToml(text, kFile);
  if (!doc) return tl::unexpected(doc.error());
  auto sources = ReadSources(*doc, kFile);
  if (!sources) return tl::unexpected(sources.error());
  const toml::array* rows = (*doc)["os"].as_array();
  if (rows == nullptr) return Fail(ErrorKind::kMalformed, "os-python.toml has no [[os]]");
  OsPythonTable table;
  for (size_t i = 0; i < rows->size(); ++i) {
    const toml::table* row = (*rows)[i].as_table();
    if (row == nullptr) return Fail(ErrorKind::kMalformed, "os-python.toml: row not a table");
    RowReader r(*row, "os-python.toml row " + RowOrdinal(i));
    OsPythonRow os;
    os.ids = r.Strings("ids", Need::kRequired);
    os.version = r.String("version", Need::kRequired);
    auto python3 = r.Ver("python3", Need::kRequired);
    auto glibc = r.Ver("glibc", Need::kRequired);
    std::string family = r.String("family", Need::kRequired);
    if (auto branch = r.Int("driver_branch", Need::kOptional)) os.driver_branch = static_cast<int>(*branch);
    os.sources = r.Sources(*sources);
    if (family == "ubuntu") os.family = DriverFamily::kUbuntu;
    else if (family == "debian") os.family = DriverFamily::kDebian;
    else if (family == "rhel") os.family = DriverFamily::kRhel;
    else r.Problem("family must be ubuntu, debian or rhel");
    if (os.ids.empty()) r.Problem("ids is empty");
    if (auto done = r.Finish(); !done) return tl::unexpected(done.error());
    os.python3 = *python3;
    os.glibc = *glibc;
    table.rows_.push_back(std::move(os));
  }
  return table;
}

const Result<OsPythonTable>& OsPythonTable::BuiltIn() {
  return ParseDataFileOnce<OsPythonTable>("os-python.toml");
}

const OsPythonRow* OsPythonTable::Find(std::string_view id, std::string_view version) const {
  std::string lower = ToLower(id);
  for (const OsPythonRow& row : rows_) {
    if (std::find(row.ids.begin(), row.ids.end(), lower) == row.ids.end()) continue;
    // "9.4" is a point release of "9"; "22.04" must match whole.
    if (version == row.version ||
        (StartsWith(version, row.version + ".") && row.version.find('.') == std::string::npos))
      return &row;
  }
  return nullptr;
}

}  // namespace dlrig
