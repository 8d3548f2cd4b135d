// toolkits and libraries layers in the doctor report: facts, no judgement.
#pragma once

#include "probe/libs.h"
#include "probe/toolkit.h"
#include "report/json_util.h"
#include "report/text.h"

namespace dlrig {

void RenderToolkits(TextWriter& out, const ToolkitFacts& facts);
void RenderLibraries(TextWriter& out, const LibraryFacts& facts, const DpkgFacts& dpkg);
json ToolkitsJson(const ToolkitFacts& facts);
json LibrariesJson(const LibraryFacts& facts, const DpkgFacts& dpkg);

}  // namespace dlrig
