// dlrig explain: what a finding means and how to fix it, from the catalogue.
#include <cstdio>

#include "cli/commands.h"
#include "cli/session.h"
#include "report/findings_report.h"

namespace dlrig {

int RunExplain(const std::vector<std::string>& args) {
  CLI::App app("Explain a finding: why it happens, what it breaks, and the fix.", "dlrig explain");
  std::string id;
  bool list = false, markdown = false;
  app.add_option("id", id, "finding id, as doctor prints it in [brackets]");
  app.add_flag("--list", list, "list every finding id");
  app.add_flag("--markdown", markdown, "print the docs page (docs/findings/ID.md)");
  if (auto done = ParseArgs(app, args)) return *done;
  const auto& catalog = Catalog::BuiltIn();
  if (!catalog) {
    std::fprintf(stderr, "dlrig explain: %s\n", catalog.error().message.c_str());
    return kExitInternal;
  }
  if (list || id.empty()) {
    for (const auto& e : catalog->entries())
      std::printf("%-40s %-8s %s\n", e.id.c_str(), SeverityName(e.severity), LayerName(e.layer));
    return id.empty() && !list ? kExitUsage : kExitHealthy;
  }
  const CatalogEntry* e = catalog->Find(id);
  if (e == nullptr) {
    std::fprintf(stderr, "dlrig explain: no finding '%s' (dlrig explain --list)\n", id.c_str());
    return kExitUsage;
  }
  std::string text = markdown ? ExplainMarkdown(*e) : ExplainText(*e);
  std::fwrite(text.data(), 1, text.size(), stdout);
  return kExitHealthy;
}

}  // namespace dlrig
