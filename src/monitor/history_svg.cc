// The SVG chart of `dlrig history --svg`: one panel per metric, one line per GPU, drawn by
// hand so the file needs nothing else (no script, no font, no stylesheet).
#include <fmt/format.h>
#include <time.h>

#include <algorithm>
#include <cmath>

#include "core/strings.h"
#include "core/svg.h"
#include "monitor/history_view.h"

namespace dlrig {
namespace {

constexpr double kWidth = 960, kPanelHeight = 230, kLeft = 80, kRight = 24, kTop = 34,
                 kBottom = 44, kLegendLine = 18;
constexpr size_t kMaxPoints = 800;  // per line: more than the chart has pixels for
std::string Escape(std::string_view text) { return MarkupEscape(text); }

int64_t TimeStepMs(int64_t span_ms) {
  constexpr int64_t kSteps[] = {1'000,     2'000,     5'000,      10'000,     15'000,
                                30'000,    60'000,    120'000,    300'000,    600'000,
                                900'000,   1'800'000, 3'600'000,  7'200'000,  10'800'000,
                                21'600'000, 43'200'000, 86'400'000, 172'800'000, 604'800'000};
  for (int64_t step : kSteps)
    if (span_ms / step <= 8) return step;
  return kSteps[std::size(kSteps) - 1] * (span_ms / kSteps[std::size(kSteps) - 1] / 8 + 1);
}

std::string TimeLabel(int64_t time_ms, int64_t step_ms) {
  time_t t = static_cast<time_t>(time_ms / 1000);
  std::tm tm{};
  ::localtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text,
                step_ms < 60'000 ? "%H:%M:%S" : step_ms < 86'400'000 ? "%H:%M" : "%m-%d", &tm);
  return text;
}

long UtcOffsetSeconds(int64_t time_ms) {
  time_t t = static_cast<time_t>(time_ms / 1000);
  std::tm tm{};
  ::localtime_r(&t, &tm);
  return tm.tm_gmtoff;
}

struct Point {
  double t, v;
};

// One series' points for one metric: bucket means when there are many samples.
std::vector<std::optional<Point>> PointsOf(const ChartSeries& s, const HistoryMetric& metric) {
  const HistoryMetric* metrics[] = {&metric};
  std::vector<std::optional<Point>> points;
  for (const HistoryBucket& b : Downsample(s.samples, metrics, kMaxPoints)) {
    if (b.values[0]) points.push_back(Point{(b.start_ms + b.end_ms) / 2.0, *b.values[0]});
    else points.push_back(std::nullopt);
  }
  return points;
}

// A gap in sampling (the recorder was off) breaks the line: any step over 3× the median.
double GapMs(const std::vector<std::optional<Point>>& points) {
  std::vector<double> steps;
  for (size_t i = 1; i < points.size(); ++i)
    if (points[i] && points[i - 1]) steps.push_back(points[i]->t - points[i - 1]->t);
  if (steps.empty()) return 0;
  std::nth_element(steps.begin(), steps.begin() + steps.size() / 2, steps.end());
  return 3 * steps[steps.size() / 2];
}

}  // namespace

std::string HistorySvg(std::span<const ChartSeries> series,
                       std::span<const HistoryMetric* const> metrics) {
  int64_t t0 = INT64_MAX, t1 = INT64_MIN;
  for (const ChartSeries& s : series)
    if (!s.samples.empty()) {
      t0 = std::min(t0, s.samples.front().time_ms);
      t1 = std::max(t1, s.samples.back().time_ms);
    }
  if (t0 > t1) t0 = t1 = 0;
  if (t1 - t0 < 2000) t0 -= 1000, t1 += 1000;  // one sample still gets an axis
  double legend = kLegendLine * static_cast<double>(series.size()) + 16;
  double height = legend + kPanelHeight * static_cast<double>(metrics.size());
  double plot_w = kWidth - kLeft - kRight, plot_h = kPanelHeight - kTop - kBottom;
  auto x_of = [&](double t) { return kLeft + (t - t0) / static_cast<double>(t1 - t0) * plot_w; };

  std::string svg = fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n"
      "<title>dlrig history {2} to {3}</title>\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
      kWidth, height, Escape(LocalTimeText(t0)), Escape(LocalTimeText(t1)));
  std::vector<std::string> labels;
  for (const auto& s : series) labels.push_back(s.label);
  svg += SvgLegend(labels, kLeft, 16, kLegendLine);

  int64_t step = TimeStepMs(t1 - t0);
  long offset_ms = UtcOffsetSeconds(t0) * 1000;
  for (size_t m = 0; m < metrics.size(); ++m) {
    const HistoryMetric& metric = *metrics[m];
    double top = legend + kPanelHeight * static_cast<double>(m) + kTop;
    std::vector<std::vector<std::optional<Point>>> lines;
    double lo = INFINITY, hi = -INFINITY;
    for (const ChartSeries& s : series) {
      lines.push_back(PointsOf(s, metric));
      for (const auto& p : lines.back())
        if (p) lo = std::min(lo, p->v), hi = std::max(hi, p->v);
    }
    if (lo > hi) lo = 0, hi = 1;  // no value at all: an empty, labelled panel
    lo = std::min(lo, 0.0);
    if (hi - lo < 1e-9) hi = lo + 1;
    double ystep = NiceStep(hi - lo, 5);
    lo = std::floor(lo / ystep) * ystep;
    hi = std::ceil(hi / ystep) * ystep;
    auto y_of = [&](double v) { return top + plot_h - (v - lo) / (hi - lo) * plot_h; };

    svg += fmt::format("<g class=\"panel\" id=\"{}\">\n<text x=\"{}\" y=\"{}\" font-weight=\"bold\">"
                       "{} ({})</text>\n",
                       metric.key, kLeft, top - 10, Escape(metric.title), Escape(metric.unit));
    svg += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" "
                       "stroke=\"#888\"/>\n", kLeft, top, plot_w, plot_h);
    for (double v = lo; v <= hi + ystep / 2; v += ystep)
      svg += fmt::format("<line x1=\"{0}\" y1=\"{1:.1f}\" x2=\"{2}\" y2=\"{1:.1f}\" stroke=\"#ddd\"/>"
                         "<text x=\"{3}\" y=\"{4:.1f}\" text-anchor=\"end\">{5:g}</text>\n",
                         kLeft, y_of(v), kLeft + plot_w, kLeft - 6, y_of(v) + 4, v);
    svg += fmt::format("<text transform=\"translate({},{:.1f}) rotate(-90)\" text-anchor=\"middle\">"
                       "{}</text>\n", 16, top + plot_h / 2, Escape(metric.unit));
    int64_t first_tick = ((t0 + offset_ms + step - 1) / step) * step - offset_ms;
    for (int64_t t = first_tick; t <= t1; t += step)
      svg += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" stroke=\"#888\"/>"
                         "<text x=\"{0:.1f}\" y=\"{3}\" text-anchor=\"middle\">{4}</text>\n",
                         x_of(static_cast<double>(t)), top + plot_h, top + plot_h + 5,
                         top + plot_h + 18, TimeLabel(t, step));
    svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#555\">local time, "
                       "{} to {}</text>\n", kLeft + plot_w / 2, top + plot_h + 34,
                       Escape(LocalTimeText(t0)), Escape(LocalTimeText(t1)));
    for (size_t i = 0; i < lines.size(); ++i) {
      double gap = GapMs(lines[i]);
      std::string d;
      const Point* previous = nullptr;
      for (const auto& p : lines[i]) {
        if (!p) {
          previous = nullptr;
          continue;
        }
        bool jump = previous == nullptr || (gap > 0 && p->t - previous->t > gap);
        // "l0 0" after a move: a lone sample still shows as a dot (round caps).
        d += fmt::format(fmt::runtime(jump ? "M{:.1f} {:.1f} l0 0 " : "L{:.1f} {:.1f} "),
                         x_of(p->t), y_of(p->v));
        previous = &*p;
      }
      if (d.empty()) continue;
      d.pop_back();
      svg += fmt::format("<path d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\" "
                         "stroke-linejoin=\"round\" stroke-linecap=\"round\"/>\n",
                         d, SvgColour(i));
    }
    svg += "</g>\n";
  }
  svg += "</svg>\n";
  return svg;
}

}  // namespace dlrig
