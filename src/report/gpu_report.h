// One GPU as NVML described it (probe/driver_query's GpuFacts), for doctor's user-space driver
// section and for `dlrig gpus`: facts only, every unreadable value with its reason.
#pragma once

#include "probe/driver_query.h"
#include "report/json_util.h"
#include "report/text.h"

namespace dlrig {

void RenderGpu(TextWriter& out, const GpuFacts& g);
json GpuJson(const GpuFacts& g);

}  // namespace dlrig
