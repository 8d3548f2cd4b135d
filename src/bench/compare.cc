#include "bench/compare.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>

#include "bench/report_text.h"
#include "monitor/display_width.h"
#include "report/text.h"

namespace dlrig::bench {
namespace {

bool HasFigure(const Measurement& m) {
  return (!m.samples.empty() || m.median != 0) && std::isfinite(m.median);
}

bool Broken(Verdict v) { return v == Verdict::kFailed || v == Verdict::kError; }

Change Judge(const CompareRow& r, double threshold) {
  if (Broken(r.verdict_b) && !Broken(r.verdict_a)) return Change::kRegression;
  if (!r.a || !r.b) return Change::kNoFigure;
  bool lower = LowerIsBetter(r.unit);
  double a = *r.a, b = *r.b;
  if (a == b) return Change::kSame;
  bool worse = lower ? b > a : b < a;
  if (!r.change_percent) return worse ? Change::kRegression : Change::kImprovement;  // from 0
  if (std::abs(*r.change_percent) <= threshold) return Change::kSame;
  return worse ? Change::kRegression : Change::kImprovement;
}

std::string Pad(std::string_view text, int width, bool right = false) {
  std::string fill(static_cast<size_t>(std::max(0, width - DisplayWidth(text))), ' ');
  return right ? fill + std::string(text) : std::string(text) + fill;
}

}  // namespace

std::string_view ChangeName(Change change) {
  switch (change) {
    case Change::kSame:
      return "same";
    case Change::kRegression:
      return "regression";
    case Change::kImprovement:
      return "improvement";
    case Change::kOnlyA:
      return "only_a";
    case Change::kOnlyB:
      return "only_b";
    case Change::kNoFigure:
      return "no_figure";
  }
  return "?";
}

bool LowerIsBetter(std::string_view unit) {
  for (std::string_view u : {"ns", "us", "µs", "ms", "s", "errors", "error", "mismatches"})
    if (unit == u) return true;
  return false;
}

Comparison Compare(std::span<const Measurement> a, std::span<const Measurement> b,
                   double threshold) {
  using Id = std::pair<std::string, int>;  // key, device (-1: none)
  auto id_of = [](const Measurement& m) { return Id{m.key, m.device.value_or(-1)}; };
  std::map<Id, size_t> in_b;
  for (size_t i = 0; i < b.size(); ++i) in_b.emplace(id_of(b[i]), i);  // the first of duplicates
  std::vector<bool> used(b.size(), false);
  Comparison out;
  for (const Measurement& ma : a) {
    CompareRow r{.key = ma.key, .device = ma.device, .unit = ma.unit, .verdict_a = ma.verdict};
    if (HasFigure(ma)) r.a = ma.median;
    auto it = in_b.find(id_of(ma));
    if (it == in_b.end() || used[it->second]) {
      r.change = Change::kOnlyA;
      out.rows.push_back(std::move(r));
      continue;
    }
    used[it->second] = true;
    const Measurement& mb = b[it->second];
    if (r.unit.empty()) r.unit = mb.unit;
    r.verdict_b = mb.verdict;
    if (HasFigure(mb)) r.b = mb.median;
    if (r.a && r.b && *r.a != 0) r.change_percent = (*r.b - *r.a) / std::abs(*r.a) * 100;
    r.change = Judge(r, threshold);
    out.rows.push_back(std::move(r));
  }
  for (size_t i = 0; i < b.size(); ++i) {
    if (used[i]) continue;
    const Measurement& mb = b[i];
    CompareRow r{.key = mb.key,
                 .device = mb.device,
                 .unit = mb.unit,
                 .verdict_b = mb.verdict,
                 .change = Change::kOnlyB};
    if (HasFigure(mb)) r.b = mb.median;
    out.rows.push_back(std::move(r));
  }
  for (const CompareRow& r : out.rows) {
    out.regressions += r.change == Change::kRegression;
    out.improvements += r.change == Change::kImprovement;
  }
  return out;
}

std::string ComparisonText(const Comparison& c, std::string_view label_a, std::string_view label_b,
                           double threshold, bool colour) {
  TextWriter w(colour);
  std::string out =
      fmt::format("{}\n  A  {}\n  B  {}\n  flagged: a change of more than {:g}%\n\n",
                  w.Paint("dlrig bench compare", Colour::kBold), label_a, label_b, threshold);
  auto side = [](const std::optional<double>& v, Verdict verdict, const std::string& unit) {
    return v ? FigureText(*v, unit) : std::string(VerdictName(verdict));
  };
  std::vector<std::array<std::string, 6>> rows;
  std::vector<Change> changes;
  for (const CompareRow& r : c.rows) {
    std::array<std::string, 6> cells;
    cells[0] = r.key;
    cells[1] = r.device ? std::to_string(*r.device) : "-";
    cells[2] = r.change == Change::kOnlyB ? "(absent)" : side(r.a, r.verdict_a, r.unit);
    cells[3] = r.change == Change::kOnlyA ? "(absent)" : side(r.b, r.verdict_b, r.unit);
    cells[4] = r.change_percent ? fmt::format("{:+.1f}%", *r.change_percent) : "";
    cells[5] = r.change == Change::kSame    ? ""
               : r.change == Change::kOnlyA ? "only in A"
               : r.change == Change::kOnlyB ? "only in B"
                                            : std::string(ChangeName(r.change));
    if (r.change == Change::kNoFigure) cells[5] = "";
    rows.push_back(std::move(cells));
    changes.push_back(r.change);
  }
  std::array<std::string, 6> header = {"figure", "GPU", "A", "B", "change", ""};
  std::array<int, 6> widths{};
  for (int i = 0; i < 6; ++i) widths[i] = DisplayWidth(header[i]);
  for (const auto& r : rows)
    for (int i = 0; i < 6; ++i) widths[i] = std::max(widths[i], DisplayWidth(r[i]));
  auto line = [&](const std::array<std::string, 6>& r, Change change, bool is_header) {
    std::string text = "  " + Pad(r[0], widths[0]) + "  " + Pad(r[1], widths[1], true) + "  " +
                       Pad(r[2], widths[2], true) + "  " + Pad(r[3], widths[3], true) + "  " +
                       Pad(r[4], widths[4], true) + "  ";
    Colour tone = is_header                                              ? Colour::kDim
                  : change == Change::kRegression                        ? Colour::kRed
                  : change == Change::kImprovement                       ? Colour::kGreen
                  : change == Change::kOnlyA || change == Change::kOnlyB ? Colour::kYellow
                                                                         : Colour::kNone;
    if (is_header) return w.Paint(text.substr(0, text.find_last_not_of(' ') + 1), tone) + '\n';
    return text + w.Paint(r[5], tone) + '\n';
  };
  out += line(header, Change::kSame, true);
  for (size_t i = 0; i < rows.size(); ++i) out += line(rows[i], changes[i], false);
  auto only = std::count_if(c.rows.begin(), c.rows.end(), [](const CompareRow& r) {
    return r.change == Change::kOnlyA || r.change == Change::kOnlyB;
  });
  out += fmt::format("\n{} regression(s), {} improvement(s), {} figure(s) in one run only\n",
                     c.regressions, c.improvements, only);
  return out;
}

ojson ComparisonJson(const Comparison& c, std::string_view label_a, std::string_view label_b,
                     double threshold) {
  ojson j = {{"schema", "dlrig.bench-compare/1"},
             {"a", label_a},
             {"b", label_b},
             {"threshold_percent", threshold},
             {"regressions", c.regressions},
             {"improvements", c.improvements},
             {"rows", ojson::array()}};
  for (const CompareRow& r : c.rows) {
    ojson row = {{"key", r.key}};
    if (r.device) row["device"] = *r.device;
    if (!r.unit.empty()) row["unit"] = r.unit;
    if (r.a) row["a"] = *r.a;
    if (r.b) row["b"] = *r.b;
    if (r.change != Change::kOnlyB) row["verdict_a"] = VerdictName(r.verdict_a);
    if (r.change != Change::kOnlyA) row["verdict_b"] = VerdictName(r.verdict_b);
    if (r.change_percent && std::isfinite(*r.change_percent))
      row["change_percent"] = *r.change_percent;
    row["change"] = ChangeName(r.change);
    j["rows"].push_back(row);
  }
  return j;
}

}  // namespace dlrig::bench
