// YAML through libyaml (Debian's libyaml-dev, linked statically) into a small tree whose every
// node knows its line, for reporting "environment.yml:7" about a project's own files.
// Anchors and aliases are expanded and "<<" merge keys applied (compose files use both); the
// expansion is capped so a "billion laughs" document is an error, not an exhausted machine.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace dlrig {

struct YamlEntry;

struct YamlNode {
  enum class Kind { kNull, kScalar, kSequence, kMapping };
  Kind kind = Kind::kNull;
  std::string scalar;              ///< the text of a scalar, as written (no type conversion)
  bool quoted = false;             ///< a quoted scalar: "null", "~" and "" are strings then
  int line = 0;                    ///< 1-based line where the node starts
  std::vector<YamlNode> items;     ///< a sequence's items
  std::vector<YamlEntry> entries;  ///< a mapping's entries, in document order

  bool IsScalar() const { return kind == Kind::kScalar; }
  bool IsSequence() const { return kind == Kind::kSequence; }
  bool IsMapping() const { return kind == Kind::kMapping; }
  /// The value of `key` in a mapping; nullptr when absent or not a mapping.
  const YamlNode* Get(std::string_view key) const;
};

struct YamlEntry {
  std::string key;  ///< mapping keys are scalars; a complex key is an error
  int line = 0;     ///< 1-based line of the key
  YamlNode value;
};

/// Parses the first document of `text`. Bad YAML is kMalformed with "NAME:LINE:COLUMN: problem";
/// an empty document is a kNull node.
Result<YamlNode> ParseYaml(std::string_view text, std::string_view name);

}  // namespace dlrig
