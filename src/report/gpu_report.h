// One GPU as NVML described it (probe/driver_query's GpuFacts), for doctor's user-space driver
// section and for `dlrig gpus`: facts only, every unreadable value with its reason.
#pragma once

#include "probe/driver_query.h"
#include "report/json_util.h"
#include "report/text.h"

namespace dlrig {

void RenderGpu(TextWriter& out, const GpuFacts& g);
json GpuJson(const GpuFacts& g);
/// How GPU i reaches GPU j, in `nvidia-smi topo -m`'s words: "NV<n>" when n NVLink links join
/// them, else the PCIe level ("PIX", "PXB", "PHB", "NODE", "SYS"); "X" for i == j, "?" unknown.
std::string TopologyCell(const std::vector<GpuFacts>& gpus, size_t i, size_t j);
/// The `topo -m` matrix: a header row and one row per GPU.
void RenderTopology(TextWriter& out, const std::vector<GpuFacts>& gpus);

}  // namespace dlrig
