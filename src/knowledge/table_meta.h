// The [meta] section of a knowledge table: the date its rows were last checked against their
// sources and, for the framework tables, the newest upstream release they were checked against.
// `dlrig kb` prints both; the staleness test compares newest_release with PyPI.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"
#include "core/toml.h"
#include "core/version.h"

namespace dlrig {

struct TableMeta {
  std::optional<std::string> checked;     ///< "2026-12-07" (UTC date); nullopt: no [meta]
  std::optional<Version> newest_release;  ///< "2.15.0": the newest release the rows know
};

/// Reads `[meta]` of `doc`. No [meta] gives an empty TableMeta; a [meta] without `checked`, a
/// date that is not YYYY-MM-DD, a malformed version or an unknown key is kMalformed naming
/// `file`.
Result<TableMeta> ReadTableMeta(const toml::table& doc, std::string_view file);

/// ReadTableMeta of knowledge table `file` (the --kb copy when given, else the built-in one).
Result<TableMeta> TableMetaOf(std::string_view file);

}  // namespace dlrig
