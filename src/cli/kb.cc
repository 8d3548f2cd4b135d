// dlrig kb: what the built-in knowledge base holds and where each table comes from.
#include <cstdio>
#include <set>

#include "cli/commands.h"
#include "cli/session.h"
#include "core/strings.h"
#include "core/toml.h"
#include "knowledge/embedded.h"

namespace dlrig {

int RunKb(const std::vector<std::string>& args) {
  CLI::App app("List the built-in knowledge base: each data file, its rows and their sources.",
               "dlrig kb");
  bool sources = false;
  app.add_flag("--sources", sources, "list every distinct source of every file");
  if (auto done = ParseArgs(app, args)) return *done;
  std::printf("dlrig %s knowledge base (data/*.toml built in)\n", DLRIG_VERSION);
  int status = kExitHealthy;
  for (const auto& file : EmbeddedDataFiles()) {
    auto doc = ParseToml(file.text, file.name);
    if (!doc) {
      std::printf("  %-24s unreadable: %s\n", file.name, doc.error().message.c_str());
      status = kExitInternal;
      continue;
    }
    size_t rows = 0;
    std::set<std::string> cited;
    for (auto& [key, node] : *doc) {
      const toml::array* array = node.as_array();
      if (array == nullptr) continue;
      for (const toml::node& row : *array) {
        ++rows;
        if (const toml::table* t = row.as_table())
          if (auto src = (*t)["source"].value<std::string>()) cited.insert(*src);
      }
    }
    std::printf("  %-24s %4zu rows, %zu distinct sources\n", file.name, rows, cited.size());
    if (sources)
      for (const auto& s : cited) std::printf("      %s\n", s.c_str());
  }
  return status;
}

}  // namespace dlrig
