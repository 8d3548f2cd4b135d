#include "monitor/gpus_api.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "core/json_dump.h"
#include "monitor/prometheus.h"
#include "report/gpu_report.h"
#include "report/json_util.h"

namespace dlrig {

std::string RenderGpusJson(const MonitorSnapshot* s) {
  json j = {{"schema", "dlrig.gpus/1"}};
  std::string why = UnavailableReason(s);
  if (s != nullptr) {
    const LibraryAnswers& nvml = s->nvml;
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(s->taken.time_since_epoch());
    j["sample"] = {{"sequence", s->sequence},
                   {"time", fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03d}Z",
                                        fmt::gmtime(std::chrono::system_clock::to_time_t(s->taken)),
                                        ms.count() % 1000)},
                   {"unix_ms", ms.count()},
                   {"took_ms", s->took.count()},
                   {"restarts", s->restarts}};
    j["library"] = FactJson(nvml.loaded_path);
    j["driver_version"] = FactJson(nvml.driver_version);
    j["nvml_version"] = FactJson(nvml.nvml_version);
    j["cuda_driver_version"] = FactJson(nvml.cuda_driver_version);
    j["device_count"] = FactJson(nvml.device_count);
    j["gpus"] = json::array();
    for (const GpuFacts& g : nvml.devices) j["gpus"].push_back(GpuJson(g));
    j["xids"] = json::array();
    for (const XidEvent& e : s->xids)
      j["xids"].push_back({{"pci_bus_id", e.pci_address}, {"xid", e.xid}, {"text", e.text}});
  } else {
    j["gpus"] = json::array();
  }
  if (!why.empty()) j["unavailable"] = why;
  // Never throws on bytes that are not UTF-8 (a process name, a driver string): see json_dump.h.
  return DumpJson(j) + "\n";
}

}  // namespace dlrig
