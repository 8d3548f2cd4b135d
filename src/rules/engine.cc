#include <algorithm>

#include "rules/rules.h"

namespace dlrig {
namespace {

using RuleSet = void (*)(const Inventory&, Findings&);
// GpuHealthRules after UserDriverRules: it merges into the bus-loss finding NVML's answer made.
constexpr RuleSet kRuleSets[] = {HardwareRules, KernelDriverRules, UserDriverRules, ToolkitRules, GpuCompatRules,
                                 PythonRules,   PythonPackageRules, ContainerRules,    ShellRules,
                                 GpuHealthRules};

// The first finding present that `entry` follows from, or "".
std::string RootOf(const CatalogEntry& entry, const Findings& all) {
  for (const auto& cause : entry.follows_from)
    for (const auto& f : all)
      if (f.id == cause) return cause;
  return "";
}

}  // namespace

Result<Findings> Diagnose(const Inventory& inv, const Catalog& catalog) {
  Findings out;
  for (RuleSet rules : kRuleSets) rules(inv, out);
  for (auto& f : out) {
    const CatalogEntry* e = catalog.Find(f.id);
    if (e == nullptr) return Fail(ErrorKind::kMalformed, "rule emitted unknown finding id " + f.id);
    f.layer = e->layer;
    if (!f.severity) f.severity = e->severity;
    f.title = Substitute(e->title, f.vars);
    f.explanation = Substitute(e->explain, f.vars);
    f.fix.clear();
    for (auto& line : e->fix) f.fix.push_back(Substitute(line, f.vars));
    f.needs_root = e->needs_root;
    f.automate = e->automate;
    f.caused_by = RootOf(*e, out);
  }
  std::stable_sort(out.begin(), out.end(), [](const Finding& a, const Finding& b) {
    if (a.caused_by.empty() != b.caused_by.empty()) return a.caused_by.empty();
    return a.layer < b.layer;
  });
  return out;
}

Result<Findings> DiagnoseBuiltIn(const Inventory& inv) {
  const auto& catalog = Catalog::BuiltIn();
  if (!catalog) return tl::unexpected(catalog.error());
  return Diagnose(inv, *catalog);
}

int ExitCodeFor(const Findings& findings) {
  int code = 0;
  for (const auto& f : findings) {
    if (!f.caused_by.empty()) continue;
    if (f.severity == Severity::kError) return 2;
    if (f.severity == Severity::kWarning) code = 1;
  }
  return code;
}

}  // namespace dlrig
