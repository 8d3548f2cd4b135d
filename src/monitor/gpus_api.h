// serve's /api/v1/gpus: the latest sample as `dlrig gpus --json` writes it (schema
// dlrig.gpus/1, the same per-GPU objects), plus when it was taken and its sequence number.
#pragma once

#include <string>

#include "monitor/sampler.h"

namespace dlrig {

/// The JSON document (nullptr: no sample yet; "unavailable" says so).
std::string RenderGpusJson(const MonitorSnapshot* snapshot);

}  // namespace dlrig
