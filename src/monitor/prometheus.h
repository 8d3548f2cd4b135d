// A MonitorSnapshot as Prometheus text exposition format 0.0.4, in one of two namings:
// dlrig's own (Prometheus conventions: dlrig_ prefix, base units, _total counters, an _info
// metric) or dcgm-exporter's (DCGM_FI_DEV_* names, units and labels, so dashboards built for it
// work unchanged). Pure: tests parse the text back. A value NVML could not give (unsupported,
// no permission, error, GPU lost) is left out, never written as 0, -1 or NaN.
#pragma once

#include <string>
#include <string_view>

#include "monitor/sampler.h"

namespace dlrig {

enum class MetricNaming { kNative, kDcgm };

/// "native" / "dcgm" → the naming; nullopt otherwise.
std::optional<MetricNaming> ParseMetricNaming(std::string_view text);

struct ExpositionOptions {
  MetricNaming naming = MetricNaming::kNative;
  std::string hostname;  ///< dcgm naming's `hostname` label; left out when ""
};

/// The Content-Type of what RenderMetrics returns.
inline constexpr const char* kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

/// Every metric of `snapshot` (nullptr: no sample yet; only the exporter's own metrics then).
std::string RenderMetrics(const MonitorSnapshot* snapshot, const ExpositionOptions& options);

/// A label value as the text format writes it inside quotes: \ " and newline escaped.
std::string EscapeLabelValue(std::string_view value);

/// Why no GPU is described, naming the layer that is missing, in one line (for the log, the
/// status page and the unavailable metric); "" when NVML answered.
std::string UnavailableReason(const MonitorSnapshot* snapshot);

}  // namespace dlrig
