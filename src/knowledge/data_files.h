// Where the knowledge tables come from: the data/*.toml built into the binary, or a directory
// given with --kb whose files replace the built-in ones of the same name (a newer table without
// a new binary). Every table loader asks here, never the embedded files directly.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace dlrig {

struct DataFile {
  std::string name;    ///< "cuda-drivers.toml"
  std::string_view text;
  std::string origin;  ///< "built in" or the file it was read from
};

/// Reads every *.toml in `dir`; each must be the name of a built-in table (a typo is an
/// error, not a silent fall-back). Call once, before any table is parsed.
Result<void> UseKnowledgeDir(const std::string& dir);

/// The text of table `name`: the --kb file when given, else the built-in one.
std::optional<DataFile> FindDataFile(std::string_view name);

/// The text of table `name`, or kNotFound.
Result<std::string_view> DataFileText(std::string_view name);

/// Table::Parse of table `file`, once per process (after UseKnowledgeDir): the body of every
/// table's BuiltIn().
template <class Table>
const Result<Table>& ParseDataFileOnce(std::string_view file) {
  static const Result<Table> table = [file]() -> Result<Table> {
    auto text = DataFileText(file);
    if (!text) return tl::unexpected(text.error());
    return Table::Parse(*text);
  }();
  return table;
}

/// Every table, sorted by name.
std::vector<DataFile> DataFiles();

}  // namespace dlrig
