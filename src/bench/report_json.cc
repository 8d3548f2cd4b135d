#include "bench/report_json.h"

#include <fmt/format.h>
#include <time.h>

#include <algorithm>
#include <cmath>

namespace dlrig::bench {
namespace {

void PutNumber(ojson& j, const char* name, double value) {
  if (std::isfinite(value)) j[name] = value;
}

void PutNumber(ojson& j, const char* name, const std::optional<double>& value) {
  if (value) PutNumber(j, name, *value);
}

void PutInt(ojson& j, const char* name, const std::optional<int>& value) {
  if (value) j[name] = *value;
}

void PutText(ojson& j, const char* name, const std::string& value) {
  if (!value.empty()) j[name] = value;
}

ojson TelemetryJson(const Telemetry& t) {
  ojson j = ojson::object();
  j["samples"] = t.samples;
  PutNumber(j, "sm_clock_mean_mhz", t.sm_clock_mean_mhz);
  PutNumber(j, "sm_clock_min_mhz", t.sm_clock_min_mhz);
  PutNumber(j, "memory_clock_mean_mhz", t.memory_clock_mean_mhz);
  PutNumber(j, "power_mean_w", t.power_mean_w);
  PutNumber(j, "power_max_w", t.power_max_w);
  PutNumber(j, "temperature_max_c", t.temperature_max_c);
  // With samples taken, an empty list says "none seen"; without, nothing is known.
  if (t.samples > 0 || !t.throttle_reasons.empty()) j["throttle_reasons"] = t.throttle_reasons;
  return j;
}

}  // namespace

std::pair<std::vector<Measurement::Point>, size_t> ThinTimeline(
    const std::vector<Measurement::Point>& timeline, size_t max_points) {
  max_points = std::max<size_t>(max_points, 3);
  if (timeline.size() <= max_points) return {timeline, 1};
  // Every stride-th of the n points gives 1 + (n-1)/stride, the last one more at most.
  size_t stride = (timeline.size() - 1 + max_points - 3) / (max_points - 2);
  std::vector<Measurement::Point> out;
  for (size_t i = 0; i < timeline.size(); i += stride) out.push_back(timeline[i]);
  if ((timeline.size() - 1) % stride != 0) out.push_back(timeline.back());
  return {out, stride};
}

std::string IsoUtc(int64_t time_ms) {
  time_t t = static_cast<time_t>(time_ms / 1000);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

ojson DeviceJson(const DeviceInfo& d) {
  ojson j = ojson::object();
  j["index"] = d.index;
  PutText(j, "name", d.name);
  PutText(j, "uuid", d.uuid);
  PutText(j, "pci_bus_id", d.pci_bus_id);
  if (d.cc_major > 0) j["cc"] = fmt::format("{}.{}", d.cc_major, d.cc_minor);
  if (d.sm_count > 0) j["sm_count"] = d.sm_count;
  if (d.memory_total > 0) j["memory_total"] = d.memory_total;
  PutInt(j, "sm_clock_max_mhz", d.sm_clock_max_mhz);
  PutInt(j, "memory_clock_max_mhz", d.memory_clock_max_mhz);
  PutInt(j, "memory_bus_bits", d.memory_bus_bits);
  PutInt(j, "pcie_gen_max", d.pcie_gen_max);
  PutInt(j, "pcie_width_max", d.pcie_width_max);
  PutInt(j, "pcie_gen_now", d.pcie_gen_now);
  PutInt(j, "pcie_width_now", d.pcie_width_now);
  PutInt(j, "numa_node", d.numa_node);
  j["nvlinks_active"] = d.nvlinks_active;
  PutInt(j, "nvlink_version", d.nvlink_version);
  PutNumber(j, "power_limit_w", d.power_limit_w);
  return j;
}

ojson MeasurementJson(const Measurement& m) {
  ojson j = ojson::object();
  j["key"] = m.key;
  PutText(j, "bench", m.bench);
  PutInt(j, "device", m.device);
  PutText(j, "unit", m.unit);
  // A figure exists once something was sampled (or a benchmark set one directly).
  if (!m.samples.empty() || m.median != 0 || m.min != 0 || m.max != 0) {
    PutNumber(j, "median", m.median);
    PutNumber(j, "min", m.min);
    PutNumber(j, "max", m.max);
  }
  if (!m.samples.empty()) {
    ojson samples = ojson::array();
    for (double s : m.samples)
      if (std::isfinite(s)) samples.push_back(s);
    j["samples"] = samples;
  }
  if (!m.limits.empty()) {
    ojson limits = ojson::array();
    for (const LimitFigure& l : m.limits) {
      ojson lj = ojson::object();
      PutNumber(lj, "value", l.value);
      PutText(lj, "basis", l.basis);
      PutText(lj, "formula", l.formula);
      if (lj.contains("value")) limits.push_back(lj);
    }
    j["limits"] = limits;
  }
  PutNumber(j, "ratio", m.ratio);
  PutNumber(j, "goal", m.goal);
  j["verdict"] = VerdictName(m.verdict);
  PutText(j, "message", m.message);
  if (!m.params.empty()) j["params"] = m.params;
  if (!m.telemetry.empty()) {
    j["telemetry"] = ojson::array();
    for (const Telemetry& t : m.telemetry) j["telemetry"].push_back(TelemetryJson(t));
  }
  if (m.seconds > 0) PutNumber(j, "seconds", m.seconds);
  if (!m.timeline.empty()) {
    auto [points, stride] = ThinTimeline(m.timeline);
    if (stride > 1) j["timeline_stride"] = stride;  // every stride-th step of the run
    j["timeline"] = ojson::array();
    for (const Measurement::Point& p : points) {
      ojson pj = ojson::object();
      PutNumber(pj, "t", p.t);
      PutNumber(pj, "figure", p.figure);
      pj["telemetry"] = TelemetryJson(p.telemetry);
      j["timeline"].push_back(pj);
    }
  }
  return j;
}

ojson BenchJson(const BenchRun& run) {
  ojson j = ojson::object();
  j["schema"] = kBenchSchema;
  PutText(j, "dlrig_version", run.dlrig_version);
  if (run.started_ms > 0) j["started"] = IsoUtc(run.started_ms);
  PutText(j, "host", run.host);
  PutText(j, "profile", run.profile);
  PutText(j, "backend", run.backend);
  if (IsModelled(run)) j["modelled"] = true;  // the null backend: no figure was measured
  PutText(j, "driver", run.driver);
  j["libraries"] = ojson::object();
  for (const auto& [name, version] : run.libraries) j["libraries"][name] = version;
  j["devices"] = ojson::array();
  for (const DeviceInfo& d : run.devices) j["devices"].push_back(DeviceJson(d));
  j["results"] = ojson::array();
  for (const Measurement& m : run.results) j["results"].push_back(MeasurementJson(m));
  return j;
}

}  // namespace dlrig::bench
