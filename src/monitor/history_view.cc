#include "monitor/history_view.h"

#include <fmt/format.h>
#include <time.h>

#include <algorithm>
#include <charconv>
#include <cmath>

#include "core/strings.h"
#include "probe/driver_query.h"

namespace dlrig {
namespace {

constexpr double kGiB = 1.0 / (1024.0 * 1024.0 * 1024.0);

constexpr HistoryMetric kMetrics[] = {
    {"util", "GPU utilisation", "%", &HistorySample::utilization_gpu_percent, 1.0},
    {"memutil", "memory bandwidth utilisation", "%", &HistorySample::utilization_memory_percent, 1.0},
    {"mem", "memory used", "GiB", &HistorySample::memory_used_bytes, kGiB},
    {"temp", "GPU temperature", "°C", &HistorySample::temperature_c, 1.0},
    {"memtemp", "memory temperature", "°C", &HistorySample::memory_temperature_c, 1.0},
    {"power", "power draw", "W", &HistorySample::power_mw, 1e-3},
    {"energy", "energy since driver load", "kJ", &HistorySample::energy_mj, 1e-6, true},
    {"sm", "SM clock", "MHz", &HistorySample::clock_sm_mhz, 1.0},
    {"memclk", "memory clock", "MHz", &HistorySample::clock_memory_mhz, 1.0},
    {"pcie_tx", "PCIe sent", "MB/s", &HistorySample::pcie_tx_kbps, 1e-3},
    {"pcie_rx", "PCIe received", "MB/s", &HistorySample::pcie_rx_kbps, 1e-3},
    {"throttle", "held back (power, heat, slowdown)", "% of samples",
     &HistorySample::clock_event_reasons, 1.0, false, true},
    {"ecc_corrected", "corrected ECC errors (volatile)", "errors",
     &HistorySample::ecc_corrected_volatile, 1.0, true},
    {"ecc_uncorrected", "uncorrected ECC errors (volatile)", "errors",
     &HistorySample::ecc_uncorrected_volatile, 1.0, true},
    {"pstate", "performance state", "P", &HistorySample::performance_state, 1.0},
    {"fan", "fan speed", "%", &HistorySample::fan_percent, 1.0},
};

Error BadTime(std::string_view text) {
  return {ErrorKind::kMalformed,
          fmt::format("cannot read the time '{}': give a duration before now (90s, 30m, 1h, 7d) "
                      "or a date (2026-11-22, 2026-11-22T10:00, 2026-11-22T10:00:05Z)",
                      text)};
}

// Reads exactly `digits` digits at text[pos] (the date's fixed-width fields).
std::optional<int> Digits(std::string_view text, size_t pos, size_t digits) {
  if (pos + digits > text.size()) return std::nullopt;
  int value = 0;
  auto [end, ec] = std::from_chars(text.data() + pos, text.data() + pos + digits, value);
  if (ec != std::errc() || end != text.data() + pos + digits) return std::nullopt;
  return value;
}

}  // namespace

Result<std::chrono::milliseconds> ParseHistoryDuration(std::string_view text) {
  text = Trim(text);
  size_t unit_at = text.find_first_not_of("0123456789");
  if (unit_at == 0 || unit_at == std::string_view::npos || unit_at > 12)
    return Fail(ErrorKind::kMalformed,
                fmt::format("cannot read the duration '{}': a number and a unit (500ms, 30s, 10m, "
                            "1h, 7d, 2w)", text));
  long long n = *ParseInt(text.substr(0, unit_at));
  std::string_view unit = text.substr(unit_at);
  constexpr std::pair<std::string_view, long long> kUnits[] = {
      {"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}, {"d", 86'400'000},
      {"w", 604'800'000}};
  for (auto [name, ms] : kUnits)
    if (unit == name) {
      if (n <= 0) return Fail(ErrorKind::kMalformed, fmt::format("the duration '{}' is not positive", text));
      return std::chrono::milliseconds(n * ms);
    }
  return Fail(ErrorKind::kMalformed,
              fmt::format("cannot read the duration '{}': unknown unit '{}' (ms, s, m, h, d, w)",
                          text, unit));
}

Result<int64_t> ParseHistoryTime(std::string_view text, int64_t now_ms) {
  text = Trim(text);
  if (text == "now") return now_ms;
  if (!text.empty() && text.find('-') == std::string_view::npos) {
    auto ago = ParseHistoryDuration(text);
    if (!ago) return tl::unexpected(BadTime(text));
    return now_ms - ago->count();
  }
  bool utc = text.ends_with('Z') || text.ends_with('z');
  if (utc) text.remove_suffix(1);
  // YYYY-MM-DD, then optionally [T ]HH:MM, then optionally :SS.
  auto year = Digits(text, 0, 4), month = Digits(text, 5, 2), day = Digits(text, 8, 2);
  if (!year || !month || !day || text[4] != '-' || text[7] != '-') return tl::unexpected(BadTime(text));
  std::optional<int> hour = 0, minute = 0, second = 0;
  if (text.size() > 10) {
    if (text[10] != 'T' && text[10] != 't' && text[10] != ' ') return tl::unexpected(BadTime(text));
    hour = Digits(text, 11, 2), minute = Digits(text, 14, 2);
    if (!hour || !minute || text.size() < 16 || text[13] != ':') return tl::unexpected(BadTime(text));
    if (text.size() > 16) {
      second = Digits(text, 17, 2);
      if (text[16] != ':' || !second || text.size() != 19) return tl::unexpected(BadTime(text));
    }
  }
  if (*month < 1 || *month > 12 || *day < 1 || *day > 31 || *hour > 23 || *minute > 59 ||
      *second > 60)
    return tl::unexpected(BadTime(text));
  std::tm tm{};
  tm.tm_year = *year - 1900;
  tm.tm_mon = *month - 1;
  tm.tm_mday = *day;
  tm.tm_hour = *hour;
  tm.tm_min = *minute;
  tm.tm_sec = *second;
  tm.tm_isdst = -1;
  time_t t = utc ? ::timegm(&tm) : ::mktime(&tm);
  if (t == static_cast<time_t>(-1) || tm.tm_mday != *day) return tl::unexpected(BadTime(text));
  return static_cast<int64_t>(t) * 1000;
}

std::string LocalTimeText(int64_t time_ms) {
  time_t t = static_cast<time_t>(time_ms / 1000);
  std::tm tm{};
  ::localtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &tm);
  return text;
}

std::string UtcTimeText(int64_t time_ms) {
  time_t t = static_cast<time_t>(time_ms / 1000);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03}Z", text, time_ms % 1000);
}

std::span<const HistoryMetric> HistoryMetrics() { return kMetrics; }

Result<std::vector<const HistoryMetric*>> ParseHistoryMetrics(std::string_view list) {
  std::vector<const HistoryMetric*> metrics;
  if (Trim(list) == "all") {
    for (const auto& m : kMetrics) metrics.push_back(&m);
    return metrics;
  }
  for (const std::string& name : Split(list, ',')) {
    std::string key{Trim(name)};
    auto it = std::find_if(std::begin(kMetrics), std::end(kMetrics),
                           [&](const HistoryMetric& m) { return key == m.key; });
    if (it == std::end(kMetrics)) {
      std::vector<std::string> known;
      for (const auto& m : kMetrics) known.push_back(m.key);
      return Fail(ErrorKind::kMalformed, fmt::format("unknown metric '{}': one of {} or all", key,
                                                     fmt::join(known, ",")));
    }
    if (std::find(metrics.begin(), metrics.end(), &*it) == metrics.end()) metrics.push_back(&*it);
  }
  if (metrics.empty()) return Fail(ErrorKind::kMalformed, "no metric given");
  return metrics;
}

std::optional<double> MetricValue(const HistoryMetric& metric, const HistorySample& sample) {
  const std::optional<int64_t>& v = sample.*metric.field;
  if (!v) return std::nullopt;
  if (metric.throttle_share) return ClockEventIsThrottle(*v) ? 100.0 : 0.0;
  return static_cast<double>(*v) * metric.scale;
}

std::vector<HistoryBucket> Downsample(std::span<const HistorySample> samples,
                                      std::span<const HistoryMetric* const> metrics,
                                      size_t max_rows) {
  std::vector<HistoryBucket> buckets;
  if (samples.empty() || max_rows == 0) return buckets;
  int64_t first = samples.front().time_ms, last = samples.back().time_ms;
  int64_t width = samples.size() <= max_rows
                      ? 0
                      : std::max<int64_t>(1, (last - first) / static_cast<int64_t>(max_rows) + 1);
  std::vector<double> sums(metrics.size());
  std::vector<size_t> counts(metrics.size());
  auto close = [&] {
    HistoryBucket& b = buckets.back();
    for (size_t m = 0; m < metrics.size(); ++m)
      if (counts[m] > 0 && !metrics[m]->counter) b.values[m] = sums[m] / static_cast<double>(counts[m]);
    std::fill(sums.begin(), sums.end(), 0.0);
    std::fill(counts.begin(), counts.end(), 0);
  };
  for (size_t i = 0; i < samples.size(); ++i) {
    const HistorySample& s = samples[i];
    int64_t start = width == 0 ? s.time_ms : first + (s.time_ms - first) / width * width;
    if (buckets.empty() || width == 0 || buckets.back().start_ms != start) {
      if (!buckets.empty()) close();
      buckets.push_back({start, s.time_ms, 0, std::vector<std::optional<double>>(metrics.size())});
    }
    HistoryBucket& b = buckets.back();
    b.end_ms = s.time_ms;
    ++b.samples;
    for (size_t m = 0; m < metrics.size(); ++m)
      if (auto v = MetricValue(*metrics[m], s)) {
        sums[m] += *v;
        ++counts[m];
        if (metrics[m]->counter) b.values[m] = v;  // the newest reading
      }
  }
  close();
  return buckets;
}

std::vector<HistoryStat> Summarize(std::span<const HistorySample> samples,
                                   std::span<const HistoryMetric* const> metrics) {
  std::vector<HistoryStat> stats(metrics.size());
  for (size_t m = 0; m < metrics.size(); ++m) {
    double sum = 0;
    size_t count = 0;
    HistoryStat& st = stats[m];
    for (const HistorySample& s : samples)
      if (auto v = MetricValue(*metrics[m], s)) {
        st.min = st.min ? std::min(*st.min, *v) : *v;
        st.max = st.max ? std::max(*st.max, *v) : *v;
        sum += *v;
        ++count;
      }
    if (count > 0) st.mean = sum / static_cast<double>(count);
  }
  return stats;
}

}  // namespace dlrig
