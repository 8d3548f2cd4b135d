// The diagnosis section of the doctor report: root causes with their evidence and fix, and
// under each the findings it explains.
#pragma once

#include "report/json_util.h"
#include "report/text.h"
#include "rules/rules.h"

namespace dlrig {

void RenderFindings(TextWriter& out, const Findings& findings);
json FindingsJson(const Findings& findings);
/// One catalogue entry for `dlrig explain`, as text or as a Markdown docs page.
std::string ExplainText(const CatalogEntry& e);
std::string ExplainMarkdown(const CatalogEntry& e);

}  // namespace dlrig
