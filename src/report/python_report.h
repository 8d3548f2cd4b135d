// python layer in the doctor report: environments, frameworks, what each would load.
#pragma once

#include "probe/python.h"
#include "report/json_util.h"
#include "report/text.h"

namespace dlrig {

void RenderPython(TextWriter& out, const PythonFacts& python);
json PythonJson(const PythonFacts& python);

}  // namespace dlrig
