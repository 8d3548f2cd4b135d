// dlrig kb: what the knowledge base holds, where each table was read from, the date its rows
// were last checked against their sources, and each row's source.
#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <set>

#include "cli/commands.h"
#include "cli/knowledge_check.h"
#include "cli/session.h"
#include "core/toml.h"
#include "knowledge/data_files.h"
#include "knowledge/table_meta.h"
#include "report/json_util.h"

namespace dlrig {
namespace {

// FNV-1a: names a table's exact contents, so two machines can tell they use the same kb.
uint32_t ContentHash(std::string_view text, uint32_t h = 2166136261u) {
  for (unsigned char c : text) h = (h ^ c) * 16777619u;
  return h;
}

// A row's `source`: one string, or keys of the file's [sources] table (hardware tables).
void CollectSources(const toml::table& doc, toml::node_view<const toml::node> source,
                    std::set<std::string>& cited) {
  if (auto text = source.value<std::string>()) cited.insert(*text);
  if (const toml::array* keys = source.as_array())
    for (const toml::node& key : *keys)
      if (auto k = key.value<std::string>())
        cited.insert(doc["sources"][*k].value<std::string>().value_or(*k));
}

struct TableSummary {
  std::string name, origin, error;
  size_t rows = 0;
  std::set<std::string> cited;
  uint32_t hash = 0;
  TableMeta meta;
};

TableSummary Summarize(const DataFile& file) {
  TableSummary t{.name = file.name, .origin = file.origin, .hash = ContentHash(file.text)};
  auto doc = ParseToml(file.text, file.name);
  if (!doc) {
    t.error = doc.error().message;
    return t;
  }
  for (auto& [key, node] : *doc) {
    const toml::array* array = node.as_array();
    if (array == nullptr) continue;
    for (const toml::node& row : *array) {
      ++t.rows;
      if (const toml::table* r = row.as_table()) CollectSources(*doc, (*r)["source"], t.cited);
    }
  }
  auto meta = ReadTableMeta(*doc, file.name);
  if (meta)
    t.meta = *meta;
  else
    t.error = meta.error().message;
  if (t.error.empty())
    if (auto problem = KnowledgeTableProblem(file.name)) t.error = problem->error.message;
  return t;
}

json SummaryJson(const TableSummary& t, bool sources) {
  json j = {{"name", t.name},
            {"origin", t.origin},
            {"hash", fmt::format("{:08x}", t.hash)},
            {"rows", t.rows},
            {"sources", t.cited.size()},
            {"checked", t.meta.checked ? json(*t.meta.checked) : json(nullptr)},
            {"newest_release",
             t.meta.newest_release ? json(t.meta.newest_release->text) : json(nullptr)}};
  if (!t.error.empty()) j["error"] = t.error;
  if (sources) j["cited"] = t.cited;
  return j;
}

}  // namespace

int RunKb(const std::vector<std::string>& args) {
  CLI::App app(
      "List the knowledge base: each data file, its rows, its origin, the date its rows "
      "were last checked against their sources, and its sources.",
      "dlrig kb");
  bool sources = false, as_json = false;
  app.add_flag("--sources", sources, "list every distinct source of every file");
  app.add_flag("--json", as_json, "machine-readable output (schema dlrig.kb/1)");
  if (auto done = ParseArgs(app, args)) return *done;
  auto files = DataFiles();
  uint32_t all = 2166136261u;
  for (const auto& file : files) all = ContentHash(file.text, all);
  std::vector<TableSummary> tables;
  for (const auto& file : files) tables.push_back(Summarize(file));
  int status = kExitHealthy;
  for (const auto& t : tables)
    if (!t.error.empty())  // a user's --kb table is the user's error; a built-in one is ours
      status = std::max<int>(status, t.origin == "built in" ? kExitInternal : kExitUsage);
  if (as_json) {
    json j = {{"schema", "dlrig.kb/1"},
              {"dlrig", DLRIG_VERSION},
              {"hash", fmt::format("{:08x}", all)},
              {"tables", json::array()}};
    for (const auto& t : tables) j["tables"].push_back(SummaryJson(t, sources));
    std::string text = j.dump(2);
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fputc('\n', stdout);
    return status;
  }
  std::printf("dlrig %s knowledge base %08x\n", DLRIG_VERSION, all);
  for (const auto& t : tables) {
    if (!t.error.empty()) {
      std::printf("  %-24s unreadable (%s): %s\n", t.name.c_str(), t.origin.c_str(),
                  t.error.c_str());
      continue;
    }
    std::string checked = t.meta.checked ? "checked " + *t.meta.checked : "checked: not recorded";
    if (t.meta.newest_release) checked += " (through " + t.meta.newest_release->text + ")";
    std::printf("  %-24s %4zu rows, %3zu sources, %08x, %s, %s\n", t.name.c_str(), t.rows,
                t.cited.size(), t.hash, checked.c_str(), t.origin.c_str());
    if (sources)
      for (const auto& s : t.cited) std::printf("      %s\n", s.c_str());
  }
  return status;
}

}  // namespace dlrig
