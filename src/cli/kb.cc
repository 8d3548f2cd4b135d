// dlrig kb: what the knowledge base holds, where each table was read from and each row's source.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <set>

#include "cli/commands.h"
#include "cli/knowledge_check.h"
#include "cli/session.h"
#include "core/toml.h"
#include "knowledge/data_files.h"

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

}  // namespace

int RunKb(const std::vector<std::string>& args) {
  CLI::App app("List the knowledge base: each data file, its rows, its origin and its sources.",
               "dlrig kb");
  bool sources = false;
  app.add_flag("--sources", sources, "list every distinct source of every file");
  if (auto done = ParseArgs(app, args)) return *done;
  auto files = DataFiles();
  uint32_t all = 2166136261u;
  for (const auto& file : files) all = ContentHash(file.text, all);
  std::printf("dlrig %s knowledge base %08x\n", DLRIG_VERSION, all);
  int status = kExitHealthy;
  for (const auto& file : files) {
    auto doc = ParseToml(file.text, file.name);
    auto problem = KnowledgeTableProblem(file.name);  // the table's own loader, beyond syntax
    if (!doc || problem) {
      std::printf("  %-24s unreadable (%s): %s\n", file.name.c_str(), file.origin.c_str(),
                  (doc ? problem->error : doc.error()).message.c_str());
      // A built-in table that does not load is dlrig's fault; a --kb file is the user's data.
      int code = file.origin == "built in" ? kExitInternal : kExitUsage;
      status = std::max(status, code);
      continue;
    }
    size_t rows = 0;
    std::set<std::string> cited;
    for (auto& [key, node] : *doc) {
      const toml::array* array = node.as_array();
      if (array == nullptr) continue;
      for (const toml::node& row : *array) {
        ++rows;
        if (const toml::table* t = row.as_table()) CollectSources(*doc, (*t)["source"], cited);
      }
    }
    std::printf("  %-24s %4zu rows, %3zu sources, %08x, %s\n", file.name.c_str(), rows,
                cited.size(), ContentHash(file.text), file.origin.c_str());
    if (sources)
      for (const auto& s : cited) std::printf("      %s\n", s.c_str());
  }
  return status;
}

}  // namespace dlrig
