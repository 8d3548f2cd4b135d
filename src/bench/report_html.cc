#include "bench/report_html.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <map>

#include "bench/report_json.h"
#include "bench/report_svg.h"
#include "bench/report_text.h"
#include "core/strings.h"

namespace dlrig::bench {
namespace {

constexpr const char* kStyle = R"(
body { font-family: sans-serif; margin: 2em; color: #222; max-width: 1100px; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { padding: 3px 10px; text-align: left; border-bottom: 1px solid #eee; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.modelled { background: #fff3cd; border: 1px solid #e0c060; padding: 0.5em 1em; }
.good, .passed { color: #1a7f37; } .fair { color: #9a6700; } .low, .failed, .error { color: #cf222e; }
.waived, .info { color: #666; }
.note { color: #666; font-size: 0.85em; }
svg { display: block; margin: 1em 0; }
)";

bool IsSizeToken(std::string_view t) {
  size_t i = 0;
  while (i < t.size() && (std::isdigit(static_cast<unsigned char>(t[i])) || t[i] == '.')) ++i;
  if (i == 0) return false;
  std::string rest = ToLower(t.substr(i));
  for (const char* unit :
       {"", "b", "k", "m", "g", "t", "kb", "mb", "gb", "tb", "kib", "mib", "gib", "tib"})
    if (rest == unit) return true;
  return false;
}

std::optional<double> BytesParam(const Measurement& m) {
  auto it = m.params.find("bytes");
  if (it == m.params.end()) return std::nullopt;
  double v = 0;
  auto [end, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), v);
  if (ec != std::errc() || end != it->second.data() + it->second.size() || !(v > 0))
    return std::nullopt;
  return v;
}

std::string Bench(const Measurement& m) {
  return m.bench.empty() ? m.key.substr(0, m.key.find('.')) : m.bench;
}

bool HasFigure(const Measurement& m) { return !m.samples.empty() || m.median != 0; }

std::string Cell(std::string_view text, std::string_view cls = "") {
  return cls.empty() ? fmt::format("<td>{}</td>", MarkupEscape(text))
                     : fmt::format("<td class=\"{}\">{}</td>", MarkupEscape(cls), MarkupEscape(text));
}

std::string ResultsTable(const BenchRun& run) {
  std::string html =
      "<table>\n<tr><th>benchmark</th><th>figure</th><th>GPU</th><th>median</th>"
      "<th>spread</th><th>limit</th><th>of limit</th><th>verdict</th></tr>\n";
  for (const Measurement& m : run.results) {
    std::string verdict(VerdictName(m.verdict));
    html += "<tr>" + Cell(Bench(m)) + Cell(m.key) +
            Cell(m.device ? std::to_string(*m.device) : "-", "num");
    if (m.verdict == Verdict::kWaived || (m.verdict == Verdict::kError && !HasFigure(m))) {
      html += fmt::format("<td colspan=\"4\" class=\"{}\">{}</td>", verdict,
                          MarkupEscape(m.message.empty() ? "no reason given" : m.message));
    } else {
      html += Cell(HasFigure(m) ? FigureText(m.median, m.unit) : "-", "num") +
              Cell(SpreadText(m), "num");
      if (m.limits.empty()) {
        html += "<td></td>";
      } else {
        const LimitFigure& l = m.limits.front();
        html += fmt::format("<td title=\"{}\">{} {}</td>", MarkupEscape(l.formula),
                            MarkupEscape(FigureText(l.value, m.unit)), MarkupEscape(l.basis));
      }
      html += Cell(m.ratio ? fmt::format("{:.1f}%", *m.ratio * 100) : "", "num");
    }
    html += Cell(verdict, verdict) + "</tr>\n";
    std::vector<std::string> notes;
    if (!m.message.empty() && m.verdict != Verdict::kWaived && HasFigure(m))
      notes.push_back(m.message);
    for (const Telemetry& t : m.telemetry)
      if (std::string text = TelemetryText(t); !text.empty()) notes.push_back(text);
    if (!notes.empty())
      html += fmt::format("<tr><td></td><td colspan=\"7\" class=\"note\">{}</td></tr>\n",
                          MarkupEscape(fmt::format("{}", fmt::join(notes, "; "))));
  }
  return html + "</table>\n";
}

std::string DevicesTable(const BenchRun& run) {
  std::string html =
      "<table>\n<tr><th>GPU</th><th>name</th><th>cc</th><th>SMs</th><th>memory</th>"
      "<th>SM clock max</th><th>memory clock max</th><th>bus</th><th>PCIe</th>"
      "<th>NVLinks</th><th>PCI</th></tr>\n";
  auto opt = [](const std::optional<int>& v, std::string_view suffix) {
    return v ? fmt::format("{}{}", *v, suffix) : std::string();
  };
  for (const DeviceInfo& d : run.devices)
    html += "<tr>" + Cell(std::to_string(d.index), "num") + Cell(d.name) +
            Cell(d.cc_major ? fmt::format("{}.{}", d.cc_major, d.cc_minor) : "") +
            Cell(d.sm_count ? std::to_string(d.sm_count) : "", "num") +
            Cell(d.memory_total ? HumanBytes(d.memory_total) : "", "num") +
            Cell(opt(d.sm_clock_max_mhz, " MHz"), "num") +
            Cell(opt(d.memory_clock_max_mhz, " MHz"), "num") +
            Cell(opt(d.memory_bus_bits, " bit"), "num") +
            Cell(d.pcie_gen_max && d.pcie_width_max
                     ? fmt::format("gen{} x{}", *d.pcie_gen_max, *d.pcie_width_max)
                     : "") +
            Cell(std::to_string(d.nvlinks_active), "num") + Cell(d.pci_bus_id) + "</tr>\n";
  return html + "</table>\n";
}

// One chart per benchmark and unit, one line per series, x = params["bytes"].
std::string SizeCharts(const BenchRun& run) {
  std::map<std::pair<std::string, std::string>, std::map<std::string, LineSeries>> charts;
  for (const Measurement& m : run.results) {
    std::string bench = Bench(m);
    if ((bench != "pcie" && bench != "nccl") || !HasFigure(m)) continue;
    auto bytes = BytesParam(m);
    if (!bytes) continue;
    LineSeries& s = charts[{bench, m.unit}][SizeSeriesLabel(m)];
    s.label = SizeSeriesLabel(m);
    s.points.emplace_back(*bytes, m.median);
  }
  std::string html;
  for (auto& [id, by_label] : charts) {
    std::vector<LineSeries> series;
    for (auto& [label, s] : by_label) {
      // A headline figure (pcie.h2d.pinned) can repeat a size of its sweep: one point per size.
      std::stable_sort(s.points.begin(), s.points.end(),
                       [](auto& x, auto& y) { return x.first < y.first; });
      s.points.erase(std::unique(s.points.begin(), s.points.end(),
                                 [](auto& x, auto& y) { return x.first == y.first; }),
                     s.points.end());
      series.push_back(std::move(s));
    }
    LineChartSpec spec{fmt::format("{}: {} against transfer size", id.first, id.second),
                       "bytes per transfer", id.second, XAxis::kBytesLog2};
    html += LineChart(spec, series);
  }
  return html;
}

std::string PeerMaps(const BenchRun& run) {
  std::map<std::string, std::vector<std::pair<PeerKey, const Measurement*>>> by_direction;
  int n = static_cast<int>(run.devices.size());
  for (const Measurement& m : run.results) {
    auto key = ParsePeerKey(m.key);
    if (!key || !HasFigure(m)) continue;
    by_direction[key->direction].emplace_back(*key, &m);
    n = std::max({n, key->from + 1, key->to + 1});
  }
  n = std::min(n, 64);  // beyond any single host; keeps a hostile file from drawing forever
  std::string html;
  for (const auto& [direction, cells] : by_direction) {
    std::vector<std::string> labels;
    for (int i = 0; i < n; ++i) labels.push_back(fmt::format("GPU {}", i));
    std::vector<std::optional<double>> values(static_cast<size_t>(n) * static_cast<size_t>(n));
    std::string unit;
    for (const auto& [key, m] : cells) {
      if (key.from >= n || key.to >= n) continue;
      values[static_cast<size_t>(key.from) * static_cast<size_t>(n) + static_cast<size_t>(key.to)] =
          m->median;
      unit = m->unit;
    }
    html += HeatMap(fmt::format("P2P {} bandwidth", direction == "bidir" ? "bidirectional"
                                                    : direction == "uni" ? "unidirectional"
                                                                         : direction),
                    unit, labels, values);
  }
  return html;
}

std::string TimelineCharts(const BenchRun& run) {
  struct Metric {
    const char* title;
    const char* unit;
    std::optional<double> (*get)(const Measurement::Point&);
  };
  static const Metric kMetrics[] = {
      {"SM clock", "MHz",
       [](const Measurement::Point& p) { return p.telemetry.sm_clock_mean_mhz; }},
      {"power", "W",
       [](const Measurement::Point& p) {
         return p.telemetry.power_mean_w ? p.telemetry.power_mean_w : p.telemetry.power_max_w;
       }},
      {"temperature", "C",
       [](const Measurement::Point& p) { return p.telemetry.temperature_max_c; }},
  };
  std::vector<const Measurement*> timed;
  for (const Measurement& m : run.results)
    if (!m.timeline.empty()) timed.push_back(&m);
  if (timed.empty()) return "";
  auto label = [](const Measurement& m) {
    return m.device ? fmt::format("{} GPU {}", m.key, *m.device) : m.key;
  };
  std::string html;
  for (const Metric& metric : kMetrics) {
    std::vector<LineSeries> series;
    for (const Measurement* m : timed) {
      LineSeries s{label(*m), {}};
      for (const auto& p :
           ThinTimeline(m->timeline, 800).first)  // more than the chart has pixels for
        if (auto v = metric.get(p)) s.points.emplace_back(p.t, *v);
      series.push_back(std::move(s));
    }
    html += LineChart(
        {fmt::format("{} during the run", metric.title), "seconds since the start", metric.unit},
        series);
  }
  std::map<std::string, std::vector<LineSeries>> by_unit;  // the figure itself, per unit
  for (const Measurement* m : timed) {
    LineSeries s{label(*m), {}};
    for (const auto& p : ThinTimeline(m->timeline, 800).first) s.points.emplace_back(p.t, p.figure);
    by_unit[m->unit].push_back(std::move(s));
  }
  for (const auto& [unit, series] : by_unit)
    html += LineChart({fmt::format("{} during the run", unit.empty() ? "figure" : unit),
                       "seconds since the start", unit},
                      series);
  return html;
}

std::string LimitBars(const BenchRun& run) {
  std::vector<Bar> bars;
  for (const Measurement& m : run.results) {
    if (!m.ratio || !std::isfinite(*m.ratio)) continue;
    Bar b;
    b.label = m.device ? fmt::format("{} (GPU {})", m.key, *m.device) : m.key;
    b.percent = *m.ratio * 100;
    if (m.goal) b.goal_percent = *m.goal * 100;
    b.css_class = VerdictName(m.verdict);
    b.tooltip = fmt::format("{} of {}{}", FigureText(m.median, m.unit),
                            m.limits.empty() ? "?" : FigureText(m.limits.front().value, m.unit),
                            m.limits.empty() || m.limits.front().formula.empty()
                                ? ""
                                : " = " + m.limits.front().formula);
    bars.push_back(std::move(b));
  }
  if (bars.empty()) return "";
  return BarChart("each figure as a share of its limit (a tick marks the goal)", bars);
}

}  // namespace

std::string SizeSeriesLabel(const Measurement& m) {
  std::vector<std::string> kept;
  for (const std::string& part : Split(m.key, '.', /*keep_empty=*/true))
    if (!IsSizeToken(part)) kept.push_back(part);
  std::string label = fmt::format("{}", fmt::join(kept, "."));
  if (m.device) label += fmt::format(" GPU {}", *m.device);
  return label;
}

std::optional<PeerKey> ParsePeerKey(const std::string& key) {
  std::vector<std::string> parts = Split(key, '.', /*keep_empty=*/true);
  if (parts.size() != 3 || parts[0] != "p2p") return std::nullopt;
  size_t dash = parts[1].find('-');
  if (dash == std::string::npos) return std::nullopt;
  auto from = ParseInt(parts[1].substr(0, dash));
  auto to = ParseInt(parts[1].substr(dash + 1));
  if (!from || !to || *from < 0 || *to < 0 || *from > 1023 || *to > 1023) return std::nullopt;
  if (parts[2] != "uni" && parts[2] != "bidir") return std::nullopt;
  return PeerKey{static_cast<int>(*from), static_cast<int>(*to), parts[2]};
}

std::string BenchHtml(const BenchRun& run) {
  std::string title =
      fmt::format("dlrig bench {} {}", run.host, run.started_ms > 0 ? IsoUtc(run.started_ms) : "");
  std::string html = fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<title>{}</title>\n<style>{}</style>\n</head>\n<body>\n<h1>{}</h1>\n",
      MarkupEscape(title), kStyle, MarkupEscape(title));
  if (IsModelled(run))
    html +=
        "<p class=\"modelled\">Backend <b>null</b>: figures are modelled, not measured. Nothing "
        "ran on a GPU.</p>\n";
  html += "<table>\n";
  auto row = [&](std::string_view k, const std::string& v) {
    if (!v.empty())
      html += fmt::format("<tr><th>{}</th><td>{}</td></tr>\n", MarkupEscape(k), MarkupEscape(v));
  };
  row("profile", run.profile);
  row("backend", run.backend);
  row("dlrig", run.dlrig_version);
  row("driver", run.driver);
  for (const auto& [name, version] : run.libraries) row(name, version);
  row("verdicts", VerdictSummary(run.results));
  html += "</table>\n<h2>Devices</h2>\n" + DevicesTable(run);
  html += "<h2>Results</h2>\n" + ResultsTable(run);
  if (std::string bars = LimitBars(run); !bars.empty())
    html += "<h2>Share of the limit</h2>\n" + bars;
  if (std::string sizes = SizeCharts(run); !sizes.empty())
    html += "<h2>Bandwidth against size</h2>\n" + sizes;
  if (std::string peers = PeerMaps(run); !peers.empty()) html += "<h2>GPU to GPU</h2>\n" + peers;
  if (std::string timeline = TimelineCharts(run); !timeline.empty())
    html += "<h2>Clock, power and temperature</h2>\n" + timeline;
  return html + "</body>\n</html>\n";
}

}  // namespace dlrig::bench
