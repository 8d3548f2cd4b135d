// The human face of `dlrig bench`: a header (backend, devices, libraries) and one table per
// benchmark, a line per figure: value, spread, limit, % of limit, verdict, and below it what the
// GPU did meanwhile (clock, power, throttling). Colour only when asked (a terminal, NO_COLOR).
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "bench/bench_run.h"

namespace dlrig::bench {

std::string BenchText(const BenchRun& run, bool colour);

/// A figure with its unit at about four significant digits: "3011 GB/s", "55.12 GB/s".
std::string FigureText(double value, std::string_view unit);

/// "SM 1755 MHz mean, 690 W max, 71 C max, throttle: sw_power_cap"; "" when nothing was sampled.
std::string TelemetryText(const Telemetry& telemetry);

/// "±0.4%": half the min-max range relative to the median; "" for fewer than two samples.
std::string SpreadText(const Measurement& m);

/// "12 good, 1 fair, 2 waived": how many figures got each verdict, in the verdicts' order.
std::string VerdictSummary(std::span<const Measurement> results);

/// 0 when every figure is good, passed, info or waived; 1 when some is fair or low; 2 when
/// some failed or could not run.
int BenchExitCode(std::span<const Measurement> results);

}  // namespace dlrig::bench
