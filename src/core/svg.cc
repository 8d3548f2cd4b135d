#include "core/svg.h"

#include <fmt/format.h>

#include <cmath>
#include <iterator>

#include "core/strings.h"

namespace dlrig {

const char* SvgColour(size_t i) {
  static constexpr const char* kColours[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                             "#9467bd", "#8c564b", "#e377c2", "#17becf"};
  return kColours[i % std::size(kColours)];
}

double NiceStep(double span, int ticks) {
  double raw = span / ticks;
  double power = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * power >= raw) return m * power;
  return 10 * power;
}

std::string SvgLegend(std::span<const std::string> labels, double x, double first_y, double line) {
  std::string svg;
  for (size_t i = 0; i < labels.size(); ++i) {
    double y = first_y + line * static_cast<double>(i);
    svg += fmt::format(
        "<g class=\"legend\"><line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" "
        "stroke-width=\"3\"/><text x=\"{}\" y=\"{}\">{}</text></g>\n",
        x, y - 4, x + 24, y - 4, SvgColour(i), x + 30, y, MarkupEscape(labels[i]));
  }
  return svg;
}

}  // namespace dlrig
