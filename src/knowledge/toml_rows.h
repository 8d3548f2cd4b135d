// Reading the rows of a knowledge table strictly: a missing required field, a field of the wrong
// type, an unknown field (a typo such as `tdp_watts`) or a source key the table does not define
// is an error that names the file and the row, never a silently empty value.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/toml.h"
#include "core/version.h"

namespace dlrig {

enum class Need { kOptional, kRequired };

/// The table's [sources] section: short key -> citation.
using SourceMap = std::map<std::string, std::string, std::less<>>;

/// Reads `[sources]` from `doc`; kMalformed when absent, empty or not all strings.
Result<SourceMap> ReadSources(const toml::table& doc, std::string_view file);

/// "#3" for the row at `index` 2, for messages about a row that has no usable name.
std::string RowOrdinal(size_t index);

/// "9.0" -> {9, 0}; nullopt unless exactly major.minor.
std::optional<std::pair<int, int>> ParseComputeCapability(std::string_view text);

/// Reads the fields of one row. Each getter records the first problem; `Finish` reports it, or
/// any field the caller never asked for.
class RowReader {
 public:
  /// `where` names the row in messages: "gpus.toml row 'H100 SXM5 80GB'".
  RowReader(const toml::table& row, std::string where);

  std::string String(std::string_view key, Need need);
  std::optional<int64_t> Int(std::string_view key, Need need);
  /// An integer or a float.
  std::optional<double> Number(std::string_view key, Need need);
  std::optional<bool> Bool(std::string_view key);
  std::vector<std::string> Strings(std::string_view key, Need need);
  /// An array of integers.
  std::vector<int64_t> Ints(std::string_view key, Need need);
  std::optional<Version> Ver(std::string_view key, Need need);
  /// An inline or nested table; marks the key as read (the caller reads its fields).
  const toml::table* Table(std::string_view key);
  /// The required `source` array: every key resolved through `sources` to its citation.
  std::vector<std::string> Sources(const SourceMap& sources);

  /// Records a problem found by the caller (an invariant of the row).
  void Problem(std::string message);
  /// The first problem, or an unread field, as kMalformed naming the row.
  Result<void> Finish() const;
  const std::string& where() const { return where_; }

 private:
  const toml::node* Get(std::string_view key, Need need);

  const toml::table& row_;
  std::string where_;
  std::set<std::string, std::less<>> read_;
  std::string problem_;
};

/// Reads every row of the array `name` in `file` with `read(table, index, sources)`; an absent
/// or empty array, or a row that is not a table, is kMalformed.
template <class Row, class Reader>
Result<std::vector<Row>> ReadRowArray(const toml::table& doc, std::string_view file, std::string_view name,
                                      const SourceMap& sources, Reader read) {
  const toml::array* rows = doc[name].as_array();
  if (rows == nullptr || rows->empty())
    return Fail(ErrorKind::kMalformed, std::string(file) + " has no [[" + std::string(name) + "]]");
  std::vector<Row> out;
  for (size_t i = 0; i < rows->size(); ++i) {
    const toml::table* t = (*rows)[i].as_table();
    if (t == nullptr)
      return Fail(ErrorKind::kMalformed,
                  std::string(file) + ": a [[" + std::string(name) + "]] row is not a table");
    auto row = read(*t, i, sources);
    if (!row) return tl::unexpected(row.error());
    out.push_back(std::move(*row));
  }
  return out;
}

}  // namespace dlrig
