// containers and shell layers in the doctor report.
#pragma once

#include "probe/containers.h"
#include "probe/shell.h"
#include "report/json_util.h"
#include "report/text.h"

namespace dlrig {

void RenderContainers(TextWriter& out, const ContainerFacts& facts);
void RenderShell(TextWriter& out, const ShellFacts& facts);
json ContainersJson(const ContainerFacts& facts);
json ShellJson(const ShellFacts& facts);

}  // namespace dlrig
