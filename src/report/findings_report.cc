#include "report/findings_report.h"

#include <fmt/format.h>

namespace dlrig {
namespace {

Colour ColourOf(Severity s) {
  return s == Severity::kError ? Colour::kRed : s == Severity::kWarning ? Colour::kYellow
                                                                         : Colour::kNone;
}

void RenderOne(TextWriter& out, const Finding& f, const Findings& all) {
  Severity s = f.severity.value_or(Severity::kInfo);
  out.Item(SeverityName(s), f.title + "  [" + f.id + "]", ColourOf(s));
  for (const auto& e : f.evidence) out.Detail("evidence: " + e);
  for (const auto& line : f.fix) out.Detail("fix: " + line, Colour::kNone);
  if (f.needs_root) out.Detail("needs root", Colour::kDim);
  for (const auto& c : all)
    if (c.caused_by == f.id)
      out.Detail("consequence: " + c.title + "  [" + c.id + "]", Colour::kDim);
}

}  // namespace

void RenderFindings(TextWriter& out, const Findings& findings) {
  out.Section("diagnosis");
  size_t roots = 0;
  for (const auto& f : findings) roots += f.caused_by.empty();
  if (roots == 0) {
    out.Item("result", "no problems found", Colour::kGreen);
    return;
  }
  for (const auto& f : findings)
    if (f.caused_by.empty()) RenderOne(out, f, findings);
  out.Line(fmt::format("`dlrig explain ID` tells more about each finding."), Colour::kDim);
}

json FindingsJson(const Findings& findings) {
  json list = json::array();
  for (const auto& f : findings) {
    list.push_back({{"id", f.id},
                    {"layer", LayerKey(f.layer)},
                    {"severity", SeverityName(f.severity.value_or(Severity::kInfo))},
                    {"subject", f.subject},
                    {"title", f.title},
                    {"evidence", f.evidence},
                    {"explanation", f.explanation},
                    {"fix", f.fix},
                    {"needs_root", f.needs_root},
                    {"automate", f.automate},
                    {"caused_by", f.caused_by.empty() ? json(nullptr) : json(f.caused_by)}});
  }
  return list;
}

std::string ExplainText(const CatalogEntry& e) {
  std::string out = fmt::format("{}  ({}, {})\n{}\n\n{}\n\nfix:\n", e.id, LayerName(e.layer),
                                SeverityName(e.severity), e.title, e.explain);
  for (const auto& line : e.fix) out += "  " + line + "\n";
  out += fmt::format("\nneeds root: {}; dlrig fix can apply it: {}\nsource: {}\n",
                     e.needs_root ? "yes" : "no", e.automate, e.source);
  if (!e.follows_from.empty())
    out += fmt::format("shown as a consequence of: {}\n", fmt::join(e.follows_from, ", "));
  return out;
}

std::string ExplainMarkdown(const CatalogEntry& e) {
  std::string out = fmt::format("# `{}`\n\n**{}** finding in the **{}** layer.\n\n{}\n\n{}\n\n",
                                e.id, SeverityName(e.severity), LayerName(e.layer), e.title,
                                e.explain);
  out += "## Fix\n\n```sh\n";
  for (const auto& line : e.fix) out += line + "\n";
  out += fmt::format("```\n\nNeeds root: {}. Automatable by `dlrig fix`: {}.\n\n",
                     e.needs_root ? "yes" : "no", e.automate);
  if (!e.follows_from.empty())
    out += fmt::format("Shown as a consequence when one of these is present: {}.\n\n",
                       fmt::join(e.follows_from, ", "));
  out += "Source: " + e.source + "\n\n_Generated from data/findings.toml by `dlrig explain --markdown`._\n";
  return out;
}

}  // namespace dlrig
