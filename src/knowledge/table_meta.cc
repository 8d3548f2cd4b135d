#include "knowledge/table_meta.h"

#include <cctype>

#include "knowledge/data_files.h"
#include "knowledge/toml_rows.h"

namespace dlrig {
namespace {

bool IsIsoDate(std::string_view d) {
  if (d.size() != 10 || d[4] != '-' || d[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (!std::isdigit(static_cast<unsigned char>(d[i]))) return false;
  int month = (d[5] - '0') * 10 + (d[6] - '0'), day = (d[8] - '0') * 10 + (d[9] - '0');
  return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

}  // namespace

Result<TableMeta> ReadTableMeta(const toml::table& doc, std::string_view file) {
  TableMeta meta;
  const toml::node* node = doc.get("meta");
  if (node == nullptr) return meta;
  const toml::table* table = node->as_table();
  if (table == nullptr)
    return Fail(ErrorKind::kMalformed, std::string(file) + ": [meta] is not a table");
  RowReader row(*table, std::string(file) + " [meta]");
  std::string checked = row.String("checked", Need::kRequired);
  meta.newest_release = row.Ver("newest_release", Need::kOptional);
  if (!checked.empty() && !IsIsoDate(checked))
    row.Problem("has checked '" + checked + "', not YYYY-MM-DD");
  if (auto done = row.Finish(); !done) return tl::unexpected(done.error());
  meta.checked = checked;
  return meta;
}

Result<TableMeta> TableMetaOf(std::string_view file) {
  auto text = DataFileText(file);
  if (!text) return tl::unexpected(text.error());
  auto doc = ParseToml(*text, file);
  if (!doc) return tl::unexpected(doc.error());
  return ReadTableMeta(*doc, file);
}

}  // namespace dlrig
