#include "bench/report_text.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "bench/report_json.h"
#include "monitor/display_width.h"
#include "report/text.h"

namespace dlrig::bench {
namespace {

Colour VerdictColour(Verdict v) {
  switch (v) {
    case Verdict::kGood:
    case Verdict::kPassed:
      return Colour::kGreen;
    case Verdict::kFair:
      return Colour::kYellow;
    case Verdict::kLow:
    case Verdict::kFailed:
    case Verdict::kError:
      return Colour::kRed;
    case Verdict::kInfo:
    case Verdict::kWaived:
      return Colour::kDim;
  }
  return Colour::kNone;
}

std::string Pad(std::string_view text, int width) {
  int w = DisplayWidth(text);
  return std::string(text) + std::string(static_cast<size_t>(std::max(0, width - w)), ' ');
}

std::string PadLeft(std::string_view text, int width) {
  int w = DisplayWidth(text);
  return std::string(static_cast<size_t>(std::max(0, width - w)), ' ') + std::string(text);
}

std::string DeviceLine(const DeviceInfo& d) {
  std::vector<std::string> parts;
  if (d.cc_major > 0) parts.push_back(fmt::format("cc {}.{}", d.cc_major, d.cc_minor));
  if (d.sm_count > 0) parts.push_back(fmt::format("{} SMs", d.sm_count));
  if (d.memory_total > 0) parts.push_back(fmt::format("{:.1f} GiB", d.memory_total / 1073741824.0));
  if (d.sm_clock_max_mhz) parts.push_back(fmt::format("SM {} MHz max", *d.sm_clock_max_mhz));
  if (d.memory_clock_max_mhz)
    parts.push_back(d.memory_bus_bits ? fmt::format("memory {} MHz x {} bit",
                                                    *d.memory_clock_max_mhz, *d.memory_bus_bits)
                                      : fmt::format("memory {} MHz", *d.memory_clock_max_mhz));
  if (d.pcie_gen_max && d.pcie_width_max)
    parts.push_back(fmt::format("PCIe gen{} x{}", *d.pcie_gen_max, *d.pcie_width_max));
  if (d.nvlinks_active > 0) parts.push_back(fmt::format("{} NVLinks", d.nvlinks_active));
  if (d.power_limit_w) parts.push_back(fmt::format("{:.0f} W limit", *d.power_limit_w));
  std::string line = fmt::format("GPU {}  {}", d.index, d.name.empty() ? "(no name)" : d.name);
  if (!parts.empty()) line += "  " + fmt::format("{}", fmt::join(parts, ", "));
  if (!d.pci_bus_id.empty()) line += fmt::format("  [{}]", d.pci_bus_id);
  return line;
}

struct Row {
  std::string cells[7];  // key, GPU, median, spread, limit, % of limit, verdict
  Verdict verdict = Verdict::kInfo;
  std::vector<std::string> details;
};

Row RowOf(const Measurement& m) {
  Row r;
  r.verdict = m.verdict;
  r.cells[0] = m.key;
  r.cells[1] = m.device ? std::to_string(*m.device) : "-";
  bool figure = !m.samples.empty() || m.median != 0;
  if (m.verdict == Verdict::kWaived || (m.verdict == Verdict::kError && !figure)) {
    // The reason takes the figure's columns: why is what the reader needs.
    r.cells[2] = fmt::format("{}: {}", VerdictName(m.verdict),
                             m.message.empty() ? "no reason given" : m.message);
    return r;
  }
  r.cells[2] = figure ? FigureText(m.median, m.unit) : "-";
  r.cells[3] = SpreadText(m);
  if (!m.limits.empty()) {
    const LimitFigure& l = m.limits.front();
    r.cells[4] = FigureText(l.value, m.unit) + (l.basis.empty() ? "" : " " + l.basis);
  }
  if (m.ratio) r.cells[5] = fmt::format("{:.1f}%", *m.ratio * 100);
  r.cells[6] = VerdictName(m.verdict);
  if (!m.message.empty())
    r.details.push_back(
        fmt::format("{}: {}", m.verdict == Verdict::kError ? "error" : "note", m.message));
  for (size_t i = 0; i < m.telemetry.size(); ++i) {
    std::string t = TelemetryText(m.telemetry[i]);
    if (t.empty()) continue;
    // One entry per GPU involved, in the order the benchmark gave them.
    r.details.push_back(
        m.telemetry.size() > 1 ? fmt::format("[{}/{}] {}", i + 1, m.telemetry.size(), t) : t);
  }
  return r;
}

}  // namespace

std::string FigureText(double value, std::string_view unit) {
  if (!std::isfinite(value)) return fmt::format("{} {}", value, unit);
  double a = std::abs(value);
  std::string number = a >= 1000 || value == std::floor(value) ? fmt::format("{:.0f}", value)
                       : a >= 100                              ? fmt::format("{:.1f}", value)
                       : a >= 1                                ? fmt::format("{:.2f}", value)
                                                               : fmt::format("{:.3g}", value);
  return unit.empty() ? number : number + " " + std::string(unit);
}

std::string TelemetryText(const Telemetry& t) {
  std::vector<std::string> parts;
  if (t.sm_clock_mean_mhz) parts.push_back(fmt::format("SM {:.0f} MHz mean", *t.sm_clock_mean_mhz));
  if (t.sm_clock_min_mhz) parts.push_back(fmt::format("{:.0f} MHz min", *t.sm_clock_min_mhz));
  if (t.power_max_w) parts.push_back(fmt::format("{:.0f} W max", *t.power_max_w));
  if (t.temperature_max_c) parts.push_back(fmt::format("{:.0f} C max", *t.temperature_max_c));
  if (!t.throttle_reasons.empty())
    parts.push_back(fmt::format("throttle: {}", fmt::join(t.throttle_reasons, ", ")));
  else if (t.samples > 0 && !parts.empty())
    parts.push_back("no throttling");
  return fmt::format("{}", fmt::join(parts, ", "));
}

std::string SpreadText(const Measurement& m) {
  if (m.samples.size() < 2 || m.median == 0) return "";
  double half = std::max(m.max - m.median, m.median - m.min);
  return fmt::format("±{:.1f}%", std::abs(half / m.median) * 100);
}

std::string VerdictSummary(std::span<const Measurement> results) {
  std::vector<std::string> parts;
  for (Verdict v : {Verdict::kGood, Verdict::kFair, Verdict::kLow, Verdict::kPassed,
                    Verdict::kFailed, Verdict::kInfo, Verdict::kWaived, Verdict::kError}) {
    auto n = std::count_if(results.begin(), results.end(),
                           [v](const Measurement& m) { return m.verdict == v; });
    if (n > 0) parts.push_back(fmt::format("{} {}", n, VerdictName(v)));
  }
  return parts.empty() ? "no figures" : fmt::format("{}", fmt::join(parts, ", "));
}

int BenchExitCode(std::span<const Measurement> results) {
  int code = 0;
  for (const Measurement& m : results) {
    switch (m.verdict) {
      case Verdict::kFailed:
      case Verdict::kError:
        return 2;
      case Verdict::kFair:
      case Verdict::kLow:
        code = 1;
        break;
      default:
        break;
    }
  }
  return code;
}

std::string BenchText(const BenchRun& run, bool colour) {
  TextWriter w(colour);
  std::string out = w.Paint("dlrig bench", Colour::kBold);
  std::string backend = run.backend.empty() ? "?" : run.backend;
  if (IsModelled(run))
    backend = w.Paint(backend + ": figures are modelled, not measured", Colour::kYellow);
  out +=
      fmt::format("  profile {}  backend {}\n", run.profile.empty() ? "?" : run.profile, backend);
  if (run.started_ms > 0 || !run.host.empty())
    out += fmt::format("  started {}{}\n", run.started_ms > 0 ? IsoUtc(run.started_ms) : "?",
                       run.host.empty() ? "" : " on " + run.host);
  if (!run.driver.empty()) out += fmt::format("  driver {}\n", run.driver);
  if (!run.libraries.empty()) {
    std::vector<std::string> libs;
    for (const auto& [name, version] : run.libraries) libs.push_back(name + " " + version);
    out += fmt::format("  libraries: {}\n", fmt::join(libs, ", "));
  }
  for (const DeviceInfo& d : run.devices) out += "  " + DeviceLine(d) + '\n';
  if (run.devices.empty()) out += "  no GPU\n";

  // Groups in the order the run took them.
  std::vector<std::string> order;
  std::vector<std::vector<Row>> groups;
  for (const Measurement& m : run.results) {
    std::string bench = m.bench.empty() ? m.key.substr(0, m.key.find('.')) : m.bench;
    auto it = std::find(order.begin(), order.end(), bench);
    if (it == order.end()) {
      order.push_back(bench);
      groups.emplace_back();
      it = order.end() - 1;
    }
    groups[static_cast<size_t>(it - order.begin())].push_back(RowOf(m));
  }
  static const char* kHeaders[] = {"figure", "GPU",      "median", "spread",
                                   "limit",  "of limit", "verdict"};
  int widths[7];
  for (int c = 0; c < 7; ++c) widths[c] = DisplayWidth(kHeaders[c]);
  for (const auto& rows : groups)
    for (const Row& r : rows) {
      if (r.verdict == Verdict::kWaived || r.cells[6].empty()) {  // a reason spans the row
        widths[0] = std::max(widths[0], DisplayWidth(r.cells[0]));
        continue;
      }
      for (int c = 0; c < 7; ++c) widths[c] = std::max(widths[c], DisplayWidth(r.cells[c]));
    }
  int indent = 4 + widths[0] + 2 + widths[1] + 2;
  for (size_t g = 0; g < groups.size(); ++g) {
    out += '\n' + w.Paint(order[g], Colour::kBold) + '\n';
    std::string header = "  ";
    for (int c = 0; c < 7; ++c)
      header +=
          (c == 1 || c == 5 ? PadLeft(kHeaders[c], widths[c]) : Pad(kHeaders[c], widths[c])) + "  ";
    out += w.Paint(header.substr(0, header.find_last_not_of(' ') + 1), Colour::kDim) + '\n';
    for (const Row& r : groups[g]) {
      std::string line =
          "  " + Pad(r.cells[0], widths[0]) + "  " + PadLeft(r.cells[1], widths[1]) + "  ";
      if (r.cells[6].empty()) {
        line += w.Paint(r.cells[2], VerdictColour(r.verdict));
      } else {
        line += Pad(r.cells[2], widths[2]) + "  " + Pad(r.cells[3], widths[3]) + "  " +
                Pad(r.cells[4], widths[4]) + "  " + PadLeft(r.cells[5], widths[5]) + "  " +
                w.Paint(r.cells[6], VerdictColour(r.verdict));
      }
      out += line + '\n';
      for (const std::string& d : r.details)
        out += std::string(static_cast<size_t>(indent), ' ') + w.Paint(d, Colour::kDim) + '\n';
    }
  }
  out += '\n' +
         (run.results.empty() ? std::string("no benchmark ran") : VerdictSummary(run.results)) +
         '\n';
  return out;
}

}  // namespace dlrig::bench
