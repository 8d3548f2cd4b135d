// Pieces the SVG charts share (history's and bench's): the palette, tick steps, the legend.
#pragma once

#include <span>
#include <string>

namespace dlrig {

/// The colour of line `i`, cycling through eight that stay apart on white.
const char* SvgColour(size_t i);

/// A step of 1, 2 or 5 x 10^k that cuts `span` into at most `ticks` parts.
double NiceStep(double span, int ticks);

/// One legend row per label, from (`x`, `first_y`) down, `line` apart: a short line in the
/// label's colour (SvgColour of its index), then the escaped label.
std::string SvgLegend(std::span<const std::string> labels, double x, double first_y, double line);

}  // namespace dlrig
