// The pieces top_view.cc lays out: GPU panels (top_gpu_panel.cc) and the process table
// (top_process_table.cc), and the small formatters they share. Internal to src/monitor.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "monitor/top_view.h"

namespace dlrig::top {

inline constexpr const char* kNa = "n/a";

/// "12.3 GiB", "812 MiB", "4 KiB".
std::string Bytes(long long bytes);
/// "12.3/79.6 GiB"; an unknown side is "n/a".
std::string MemoryPair(const Result<long long>& used, const Result<long long>& total);
/// NVML's KB/s as "1.2 GB/s", "340 MB/s", "12 KB/s"; "n/a" when unknown.
std::string Rate(const Result<long long>& kbps);
/// A number with its unit, or "n/a".
std::string WithUnit(const Result<long long>& value, const char* unit);

/// A bar of exactly `columns` columns: "[████▌    ]", or "[||||     ]" in ASCII; no fill
/// when the fraction is unknown.
std::string Bar(std::optional<double> fraction, int columns, bool utf8);
/// The last `columns` percentages as a sparkline, right-aligned; an unknown sample is a blank.
std::string Sparkline(const std::vector<std::optional<long long>>& percents, int columns,
                      bool utf8);

/// The GPU's utilisation in each of `recent` (oldest first), matched by index and UUID.
std::vector<std::optional<long long>> UtilisationHistory(
    const std::vector<std::shared_ptr<const MonitorSnapshot>>& recent, const GpuFacts& gpu);

/// A GPU in three lines: identity and sensors; utilisation and memory bars with the
/// sparkline; clocks, PCIe throughput and throttle reasons (on a fourth line when they do not
/// fit beside the clocks).
std::vector<TopLine> FullPanel(const GpuFacts& gpu,
                               const std::vector<std::optional<long long>>& history,
                               const TopViewState& state);
/// A GPU in one line, for machines with many GPUs.
TopLine CompactPanel(const GpuFacts& gpu, const std::vector<std::optional<long long>>& history,
                     const TopViewState& state);
/// A GPU an earlier sample listed and the newest does not.
TopLine VanishedLine(int index, const std::string& name);

/// The table's column header.
TopLine ProcessHeader(const TopViewState& state);
/// One process row; `selected` draws it highlighted.
TopLine ProcessLine(const TopProcessRow& row, const TopViewState& state, bool selected);
/// "processes n/a on GPU 1 (no_permission)", or "" when every GPU listed its processes.
std::string ProcessNotice(const MonitorSnapshot& snapshot);

/// Total display width of a line.
int LineWidth(const TopLine& line);
/// The line cut to `columns` display columns.
TopLine FitLine(const TopLine& line, int columns);

}  // namespace dlrig::top
