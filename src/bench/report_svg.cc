#include "bench/report_svg.h"
#include "bench/bench_util.h"
#include "core/strings.h"
#include "core/svg.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

namespace dlrig::bench {
namespace {

constexpr double kWidth = 960, kHeight = 300, kLeft = 80, kRight = 24, kTop = 34, kBottom = 44,
                 kLegendLine = 18;
const char* BarColour(std::string_view verdict) {
  if (verdict == "good" || verdict == "passed") return "#2ca02c";
  if (verdict == "fair") return "#e0a000";
  if (verdict == "low" || verdict == "failed" || verdict == "error") return "#d62728";
  return "#888888";
}

std::string Header(double width, double height, std::string_view title) {
  return fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} "
      "{1}\" "
      "font-family=\"sans-serif\" font-size=\"12\" role=\"img\">\n<title>{2}</title>\n"
      "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
      width, height, MarkupEscape(title));
}

}  // namespace


std::string LineChart(const LineChartSpec& spec, std::span<const LineSeries> series) {
  bool log2 = spec.x_axis == XAxis::kBytesLog2;
  auto xv = [&](double x) { return log2 ? std::log2(std::max(x, 1.0)) : x; };
  double x0 = INFINITY, x1 = -INFINITY, lo = 0, hi = -INFINITY;
  std::set<double> xs;
  for (const LineSeries& s : series)
    for (auto [x, y] : s.points) {
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      x0 = std::min(x0, xv(x)), x1 = std::max(x1, xv(x));
      lo = std::min(lo, y), hi = std::max(hi, y);
      xs.insert(x);
    }
  if (x0 > x1) x0 = 0, x1 = 1;
  if (x1 - x0 < 1e-9) x0 -= 1, x1 += 1;
  if (hi <= lo) hi = lo + 1;
  double ystep = NiceStep(hi - lo, 5);
  lo = std::floor(lo / ystep) * ystep;
  hi = std::ceil(hi / ystep) * ystep;
  double legend = kLegendLine * static_cast<double>(series.size()) + 8;
  double height = legend + kHeight;
  double plot_w = kWidth - kLeft - kRight, plot_h = kHeight - kTop - kBottom, top = legend + kTop;
  auto x_of = [&](double x) { return kLeft + (xv(x) - x0) / (x1 - x0) * plot_w; };
  auto y_of = [&](double y) { return top + plot_h - (y - lo) / (hi - lo) * plot_h; };

  std::string svg = Header(kWidth, height, spec.title);
  svg += fmt::format("<text x=\"{}\" y=\"14\" font-weight=\"bold\">{}</text>\n", kLeft,
                     MarkupEscape(spec.title));
  std::vector<std::string> labels;
  for (const auto& s : series) labels.push_back(s.label);
  svg += SvgLegend(labels, kLeft, 30, kLegendLine);
  svg += fmt::format(
      "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#888\"/>\n", kLeft,
      top, plot_w, plot_h);
  for (double v = lo; v <= hi + ystep / 2; v += ystep)
    svg += fmt::format(
        "<line x1=\"{0}\" y1=\"{1:.1f}\" x2=\"{2}\" y2=\"{1:.1f}\" stroke=\"#ddd\"/>"
        "<text x=\"{3}\" y=\"{4:.1f}\" text-anchor=\"end\">{5:g}</text>\n",
        kLeft, y_of(v), kLeft + plot_w, kLeft - 6, y_of(v) + 4, v);
  svg += fmt::format(
      "<text transform=\"translate({},{:.1f}) rotate(-90)\" text-anchor=\"middle\">{}</text>\n", 16,
      top + plot_h / 2, MarkupEscape(spec.y_label));
  // x ticks: every size measured when there are few, else every few powers of two.
  std::vector<double> ticks;
  if (log2) {
    if (xs.size() <= 10) {
      ticks.assign(xs.begin(), xs.end());
    } else {
      double step = std::max(1.0, std::ceil((x1 - x0) / 8));
      for (double e = std::ceil(x0); e <= x1; e += step) ticks.push_back(std::exp2(e));
    }
  } else {
    double step = NiceStep(x1 - x0, 8);
    for (double v = std::ceil(x0 / step) * step; v <= x1 + step / 1e6; v += step)
      ticks.push_back(v);
  }
  for (double t : ticks)
    svg += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" stroke=\"#888\"/>"
        "<text x=\"{0:.1f}\" y=\"{3}\" text-anchor=\"middle\">{4}</text>\n",
        x_of(t), top + plot_h, top + plot_h + 5, top + plot_h + 18,
        MarkupEscape(log2 ? BytesLabel(static_cast<size_t>(t)) : fmt::format("{:g}", t)));
  svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#555\">{}</text>\n",
                     kLeft + plot_w / 2, top + plot_h + 34, MarkupEscape(spec.x_label));
  for (size_t i = 0; i < series.size(); ++i) {
    std::string d;
    for (auto [x, y] : series[i].points) {
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      d += fmt::format("{}{:.1f} {:.1f} ", d.empty() ? "M" : "L", x_of(x), y_of(y));
    }
    if (d.empty()) continue;
    const char* colour = SvgColour(i);
    svg += fmt::format(
        "<path class=\"series\" d=\"{}l0 0\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\" "
        "stroke-linejoin=\"round\" stroke-linecap=\"round\"/>\n",
        d, colour);
    if (series[i].points.size() > 60) continue;  // a long timeline: the line says it all
    for (auto [x, y] : series[i].points)
      if (std::isfinite(x) && std::isfinite(y))
        svg += fmt::format(
            "<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"2.5\" fill=\"{}\"><title>{}: {:g} "
            "{}</title></circle>\n",
            x_of(x), y_of(y), colour, MarkupEscape(log2 ? BytesLabel(static_cast<size_t>(x)) : fmt::format("{:g}", x)), y,
            MarkupEscape(spec.y_label));
  }
  return svg + "</svg>\n";
}

std::string HeatMap(std::string_view title, std::string_view unit,
                    std::span<const std::string> labels,
                    std::span<const std::optional<double>> values) {
  size_t n = labels.size();
  constexpr double kCell = 56, kMargin = 70;
  double hi = 0;
  for (const auto& v : values)
    if (v && std::isfinite(*v)) hi = std::max(hi, *v);
  double width = kMargin + kCell * static_cast<double>(n) + 24,
         height = kMargin + kCell * static_cast<double>(n) + 40;
  std::string svg = Header(std::max(width, 320.0), height, title);
  svg += fmt::format("<text x=\"8\" y=\"16\" font-weight=\"bold\">{} ({})</text>\n",
                     MarkupEscape(title), MarkupEscape(unit));
  svg += fmt::format(
      "<text x=\"{}\" y=\"36\" text-anchor=\"middle\" fill=\"#555\">destination</text>\n",
      kMargin + kCell * static_cast<double>(n) / 2);
  svg += fmt::format(
      "<text transform=\"translate(14,{}) rotate(-90)\" text-anchor=\"middle\" "
      "fill=\"#555\">source</text>\n",
      kMargin + kCell * static_cast<double>(n) / 2);
  for (size_t i = 0; i < n; ++i) {
    double c = kMargin + kCell * (static_cast<double>(i) + 0.5);
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", c,
                       kMargin - 8, MarkupEscape(labels[i]));
    svg += fmt::format("<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n", kMargin - 6,
                       c + 4, MarkupEscape(labels[i]));
  }
  for (size_t r = 0; r < n; ++r)
    for (size_t c = 0; c < n; ++c) {
      size_t at = r * n + c;
      std::optional<double> v = at < values.size() ? values[at] : std::nullopt;
      double x = kMargin + kCell * static_cast<double>(c),
             y = kMargin + kCell * static_cast<double>(r);
      std::string fill = "#eeeeee", label;
      if (v && std::isfinite(*v)) {
        // White to dark blue with the figure; the text turns white where the cell is dark.
        double f = hi > 0 ? std::clamp(*v / hi, 0.0, 1.0) : 0;
        fill = fmt::format("rgb({},{},{})", static_cast<int>(255 - 224 * f),
                           static_cast<int>(255 - 136 * f), static_cast<int>(255 - 75 * f));
        label = fmt::format(
            "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" fill=\"{}\">{:.4g}</text>",
            x + kCell / 2, y + kCell / 2 + 4, f > 0.6 ? "white" : "black", *v);
      }
      svg += fmt::format(
          "<rect class=\"cell\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\" "
          "stroke=\"white\"><title>{} to {}: {}</title></rect>{}\n",
          x, y, kCell, kCell, fill, MarkupEscape(labels[r]), MarkupEscape(labels[c]),
          v ? MarkupEscape(fmt::format("{:g} {}", *v, unit)) : "no figure", label);
    }
  return svg + "</svg>\n";
}

std::string BarChart(std::string_view title, std::span<const Bar> bars) {
  constexpr double kBar = 20, kLabel = 300, kBarTop = 30;
  double scale = 100;
  for (const Bar& b : bars) scale = std::max(scale, std::isfinite(b.percent) ? b.percent : 0);
  scale = std::ceil(scale / 10) * 10;
  double plot_w = kWidth - kLabel - 80,
         height = kBarTop + kBar * static_cast<double>(bars.size()) + 30;
  auto x_of = [&](double p) { return kLabel + std::clamp(p, 0.0, scale) / scale * plot_w; };
  std::string svg = Header(kWidth, height, title);
  svg += fmt::format("<text x=\"8\" y=\"16\" font-weight=\"bold\">{}</text>\n", MarkupEscape(title));
  double bottom = kBarTop + kBar * static_cast<double>(bars.size());
  for (double p = 0; p <= scale + 1e-9; p += scale > 100 ? 20 : 10)
    svg += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" stroke=\"{3}\"/>"
        "<text x=\"{0:.1f}\" y=\"{4}\" text-anchor=\"middle\">{5:g}%</text>\n",
        x_of(p), kBarTop, bottom, p == 100 ? "#888" : "#ddd", bottom + 16, p);
  for (size_t i = 0; i < bars.size(); ++i) {
    const Bar& b = bars[i];
    double y = kBarTop + kBar * static_cast<double>(i);
    // The label goes past the bar and the goal tick, whichever ends further right.
    double label_x = x_of(std::max(b.percent, b.goal_percent.value_or(0))) + 6;
    svg += fmt::format(
        "<g class=\"bar {}\"><text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>"
        "<rect x=\"{}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{}\" "
        "fill=\"{}\"><title>{}</title></rect>"
        "<text x=\"{:.1f}\" y=\"{:.1f}\">{:.1f}%</text>",
        MarkupEscape(b.css_class), kLabel - 8, y + 14, MarkupEscape(b.label), kLabel, y + 3,
        x_of(b.percent) - kLabel, kBar - 6, BarColour(b.css_class), MarkupEscape(b.tooltip), label_x,
        y + 14, b.percent);
    if (b.goal_percent)
      svg += fmt::format(
          "<line class=\"goal\" x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" "
          "stroke=\"black\" stroke-width=\"2\"><title>goal {3:g}%</title></line>",
          x_of(*b.goal_percent), y + 1, y + kBar - 1, *b.goal_percent);
    svg += "</g>\n";
  }
  return svg + "</svg>\n";
}

}  // namespace dlrig::bench
