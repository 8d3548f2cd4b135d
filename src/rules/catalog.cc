#include "rules/catalog.h"

#include "core/toml.h"
#include "knowledge/data_files.h"

namespace dlrig {
namespace {

Result<CatalogEntry> Entry(const toml::table& row) {
  CatalogEntry e;
  e.id = row["id"].value_or(std::string());
  auto fail = [&](const std::string& what) {
    return Fail(ErrorKind::kMalformed, "findings.toml entry '" + e.id + "': " + what);
  };
  if (e.id.empty()) return fail("no id");
  auto layer = ParseLayerKey(row["layer"].value_or(std::string()));
  if (!layer) return fail("unknown layer");
  e.layer = *layer;
  auto severity = ParseSeverity(row["severity"].value_or(std::string()));
  if (!severity) return fail("unknown severity");
  e.severity = *severity;
  e.title = row["title"].value_or(std::string());
  e.explain = row["explain"].value_or(std::string());
  if (e.title.empty() || e.explain.empty()) return fail("title and explain are required");
  if (const toml::array* fix = row["fix"].as_array())
    for (const toml::node& n : *fix)
      if (auto s = n.value<std::string>()) e.fix.push_back(*s);
  e.needs_root = row["needs_root"].value_or(false);
  e.automate = row["automate"].value_or(std::string("no"));
  if (e.automate != "yes" && e.automate != "consent" && e.automate != "no")
    return fail("automate must be yes, consent or no");
  if (const toml::array* f = row["follows_from"].as_array())
    for (const toml::node& n : *f)
      if (auto s = n.value<std::string>()) e.follows_from.push_back(*s);
  e.source = row["source"].value_or(std::string());
  if (e.source.empty()) return fail("no source");
  return e;
}

}  // namespace

Result<Catalog> Catalog::Parse(std::string_view text) {
  auto doc = ParseToml(text, "findings.toml");
  if (!doc) return tl::unexpected(doc.error());
  Catalog catalog;
  const toml::array* rows = (*doc)["finding"].as_array();
  if (rows == nullptr) return Fail(ErrorKind::kMalformed, "findings.toml has no [[finding]]");
  for (const toml::node& n : *rows) {
    const toml::table* row = n.as_table();
    if (row == nullptr) return Fail(ErrorKind::kMalformed, "findings.toml: [[finding]] not a table");
    auto entry = Entry(*row);
    if (!entry) return tl::unexpected(entry.error());
    if (catalog.Find(entry->id) != nullptr)
      return Fail(ErrorKind::kMalformed, "findings.toml: duplicate id " + entry->id);
    catalog.entries_.push_back(std::move(*entry));
  }
  return catalog;
}

const Result<Catalog>& Catalog::BuiltIn() {
  return ParseDataFileOnce<Catalog>("findings.toml");
}

const CatalogEntry* Catalog::Find(std::string_view id) const {
  for (const auto& e : entries_)
    if (e.id == id) return &e;
  return nullptr;
}

std::string Substitute(std::string_view text, const std::map<std::string, std::string>& vars) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    size_t close = text[i] == '{' ? text.find('}', i) : std::string_view::npos;
    if (close != std::string_view::npos) {
      auto it = vars.find(std::string(text.substr(i + 1, close - i - 1)));
      if (it != vars.end()) {
        out += it->second;
        i = close;
        continue;
      }
    }
    out += text[i];
  }
  return out;
}

}  // namespace dlrig
