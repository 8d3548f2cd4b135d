// `dlrig bench --json`, schema "dlrig.bench/1", and the reader back from it (bench compare
// with files, the history's stored rows). Values that are not known are left out, never 0.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bench/bench_run.h"
#include "core/result.h"

namespace dlrig::bench {

using ojson = nlohmann::ordered_json;

inline constexpr std::string_view kBenchSchema = "dlrig.bench/1";

ojson DeviceJson(const DeviceInfo& device);
ojson MeasurementJson(const Measurement& m);
/// The whole document.
ojson BenchJson(const BenchRun& run);

/// At most this many timeline points per figure are written (JSON, history, charts).
inline constexpr size_t kMaxTimelinePoints = 2000;

/// Every k-th point of `timeline` (and its last), k the smallest stride that keeps at most
/// `max_points`; returns the points and k. A timeline within the cap comes back whole, k = 1.
std::pair<std::vector<Measurement::Point>, size_t> ThinTimeline(
    const std::vector<Measurement::Point>& timeline, size_t max_points = kMaxTimelinePoints);

/// "2026-11-22T10:01:02Z" (UTC, whole seconds).
std::string IsoUtc(int64_t time_ms);
/// The inverse of IsoUtc; also takes fractions of a second. kMalformed otherwise.
Result<int64_t> ParseIsoUtc(std::string_view text);

/// Each reader checks every type it reads: anything else is kMalformed naming the field, never
/// an exception.
Result<DeviceInfo> DeviceFromJson(const nlohmann::json& j);
Result<Measurement> MeasurementFromJson(const nlohmann::json& j);
/// A dlrig.bench/1 document (text as --json wrote it).
Result<BenchRun> ParseBenchJson(std::string_view text);

}  // namespace dlrig::bench
