// The finding catalogue: data/findings.toml, one entry per stable id. `dlrig explain`, the
// docs pages (docs/findings/) and every report take their words from it.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "rules/finding.h"

namespace dlrig {

struct CatalogEntry {
  std::string id;
  Layer layer = Layer::kHardware;
  Severity severity = Severity::kWarning;
  std::string title;    ///< one line; may name {vars}
  std::string explain;  ///< why it happens and what it breaks
  std::vector<std::string> fix;  ///< copy-pastable commands or steps; may name {vars}
  bool needs_root = false;
  std::string automate = "no";          ///< "yes", "consent", "no"
  std::vector<std::string> follows_from;  ///< ids of lower findings that explain this one
  std::string source;
};

class Catalog {
 public:
  /// Parses findings.toml; kMalformed naming the entry when a field is missing or wrong.
  static Result<Catalog> Parse(std::string_view text);
  /// The built-in catalogue (data/findings.toml compiled in), parsed once.
  static const Result<Catalog>& BuiltIn();
  const CatalogEntry* Find(std::string_view id) const;
  const std::vector<CatalogEntry>& entries() const { return entries_; }

 private:
  std::vector<CatalogEntry> entries_;
};

/// Replaces each {name} in `text` with vars[name]; unknown names stay as written.
std::string Substitute(std::string_view text, const std::map<std::string, std::string>& vars);

}  // namespace dlrig
