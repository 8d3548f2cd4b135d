// The inline SVG charts of `dlrig bench --html`, drawn by hand in the style of `dlrig history
// --svg` (monitor/history_svg.cc): no script, no font, no stylesheet from elsewhere. Every
// string is escaped here; callers pass plain text.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dlrig::bench {


struct LineSeries {
  std::string label;
  std::vector<std::pair<double, double>> points;  ///< (x, y), in x order
};

enum class XAxis { kLinear, kBytesLog2 };

struct LineChartSpec {
  std::string title;
  std::string x_label;
  std::string y_label;  ///< the unit
  XAxis x_axis = XAxis::kLinear;
};

/// One panel, one line per series, a legend above. Empty series are listed but not drawn.
std::string LineChart(const LineChartSpec& spec, std::span<const LineSeries> series);

/// An n x n grid (row = source, column = destination); `values` row-major, absent where there
/// is no figure (the diagonal). Every cell is a <rect class="cell">, coloured by value.
std::string HeatMap(std::string_view title, std::string_view unit,
                    std::span<const std::string> labels,
                    std::span<const std::optional<double>> values);

struct Bar {
  std::string label;
  double percent = 0;  ///< of the limit
  std::optional<double> goal_percent;
  std::string css_class;  ///< the verdict: "good", "fair", "low"
  std::string tooltip;
};

/// Horizontal bars on a 0..max(100, largest) % scale, a tick at each bar's goal.
std::string BarChart(std::string_view title, std::span<const Bar> bars);

}  // namespace dlrig::bench
