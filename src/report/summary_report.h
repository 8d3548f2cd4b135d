// The headline of the doctor report: the few facts a person looks for first (GPUs, driver,
// the CUDA it supports, toolkits, frameworks), each taken from the layer that owns it.
#pragma once

#include <string>
#include <vector>

#include "probe/inventory.h"
#include "report/json_util.h"
#include "report/text.h"

namespace dlrig {

struct SummaryLine {
  std::string key;  ///< JSON key, snake_case ("driver_cuda"); shown with spaces
  std::string text;
  bool missing = false;  ///< shown as absent (no GPU, no driver, ...)
};

/// Pure: the summary lines for an inventory.
std::vector<SummaryLine> Summarize(const Inventory& inv);
void RenderSummary(TextWriter& out, const Inventory& inv);
json SummaryJson(const Inventory& inv);

}  // namespace dlrig
