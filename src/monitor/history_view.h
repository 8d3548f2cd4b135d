// What `dlrig history` shows, as pure functions: the time arguments it takes, the metrics it
// knows, samples averaged into at most N buckets, and the SVG chart.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "monitor/history.h"

namespace dlrig {

/// "500ms", "30s", "10m", "1h", "7d", "2w" → that long. A unit is required; 0 and negatives
/// are errors.
Result<std::chrono::milliseconds> ParseHistoryDuration(std::string_view text);
/// A time for --since/--until: a duration ("1h": that long before `now_ms`), "now", or a date
/// "2026-11-22", "2026-11-22T10:00", "2026-11-22 10:00:05" in local time ("Z" at the end: UTC).
/// Returns Unix milliseconds.
Result<int64_t> ParseHistoryTime(std::string_view text, int64_t now_ms);
/// "2026-11-22 10:01:02" in local time.
std::string LocalTimeText(int64_t time_ms);
/// "2026-11-22T10:01:02.123Z".
std::string UtcTimeText(int64_t time_ms);

struct HistoryMetric {
  const char* key;    ///< what --metric takes: "util"
  const char* title;  ///< "GPU utilisation"
  const char* unit;   ///< "%"
  std::optional<int64_t> HistorySample::*field;
  double scale;  ///< stored value × scale = value in `unit`
  /// A counter (energy, ECC) is shown by its last value in a bucket, a gauge by its mean.
  bool counter = false;
  /// The stored value is a clock-event mask: shown as the share of samples held back by power,
  /// heat or a hardware slowdown.
  bool throttle_share = false;
};

/// Every metric, in the order the table shows them.
std::span<const HistoryMetric> HistoryMetrics();
/// "util,mem,temp" (or "all") → those metrics; an unknown name is an error that lists the known.
Result<std::vector<const HistoryMetric*>> ParseHistoryMetrics(std::string_view list);
/// The metric's value of one sample in its unit, nullopt when NVML did not give it.
std::optional<double> MetricValue(const HistoryMetric& metric, const HistorySample& sample);

/// Samples of one GPU reduced to one row per time bucket.
struct HistoryBucket {
  int64_t start_ms = 0;
  int64_t end_ms = 0;  ///< the bucket's last sample
  size_t samples = 0;
  std::vector<std::optional<double>> values;  ///< per metric, in the order asked
};
/// Min, mean and max over every sample (not over buckets), per metric.
struct HistoryStat {
  std::optional<double> min, mean, max;
};

/// One GPU's samples (oldest first) in at most `max_rows` buckets of equal width spanning
/// the first to the last sample; empty buckets are left out. With no more samples than
/// `max_rows`, one bucket per sample.
std::vector<HistoryBucket> Downsample(std::span<const HistorySample> samples,
                                      std::span<const HistoryMetric* const> metrics,
                                      size_t max_rows);
std::vector<HistoryStat> Summarize(std::span<const HistorySample> samples,
                                   std::span<const HistoryMetric* const> metrics);

/// A GPU's line in a chart.
struct ChartSeries {
  std::string label;  ///< "GPU 0 NVIDIA H100 80GB HBM3"
  std::vector<HistorySample> samples;  ///< oldest first
};
/// A self-contained SVG: one line chart per metric, stacked, with a time axis, the unit on the
/// value axis and one line per series (broken where values are missing or sampling stopped).
std::string HistorySvg(std::span<const ChartSeries> series,
                       std::span<const HistoryMetric* const> metrics);

}  // namespace dlrig
