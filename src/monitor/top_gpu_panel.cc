// GPU panels for dlrig top: a full three-line panel while they fit, one line per GPU beyond.
#include <fmt/format.h>

#include <algorithm>

#include "monitor/display_width.h"
#include "monitor/top_parts.h"

namespace dlrig::top {
namespace {

// Eighths of a cell, for bars and sparklines.
const char* const kBarEighths[] = {"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"};
const char* const kSparkUtf8[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
const char kSparkAscii[] = "_.-~=+*#";

std::optional<double> Fraction(const Result<long long>& value, const Result<long long>& whole) {
  if (!value || !whole || *whole <= 0) return std::nullopt;
  return std::clamp(static_cast<double>(*value) / static_cast<double>(*whole), 0.0, 1.0);
}

std::optional<double> Percent(const Result<long long>& percent) {
  if (!percent) return std::nullopt;
  return std::clamp(static_cast<double>(*percent) / 100.0, 0.0, 1.0);
}

std::string PercentText(const Result<long long>& percent) {
  return percent ? fmt::format("{:>3}%", *percent) : fmt::format("{:>4}", kNa);
}

std::string Temperature(const Result<long long>& c, bool utf8) {
  return c ? fmt::format("{}{}C", *c, utf8 ? "°" : "") : kNa;
}

std::string Power(const GpuFacts& g) {
  if (!g.power_mw && !g.power_limit_mw) return "n/a W";
  auto watts = [](const Result<long long>& mw) {
    return mw ? std::to_string((*mw + 500) / 1000) : std::string(kNa);
  };
  return fmt::format("{}/{} W", watts(g.power_mw), watts(g.power_limit_mw));
}

std::string Name(const GpuFacts& g, bool compact) {
  if (!g.name) return kNa;
  std::string name = *g.name;
  if (compact && name.starts_with("NVIDIA ")) name = name.substr(7);
  return name;
}

TopStyle TemperatureStyle(const GpuFacts& g) {
  bool hot =
      g.temperature_c && g.temperature_slowdown_c && *g.temperature_c >= *g.temperature_slowdown_c;
  return hot ? TopStyle::kRed : TopStyle::kNormal;
}

TopStyle MemoryStyle(const GpuFacts& g) {
  auto f = Fraction(g.memory_used_bytes, g.memory_total_bytes);
  return f && *f >= 0.9 ? TopStyle::kYellow : TopStyle::kGreen;
}

// "throttled: sw_power_cap, hw_slowdown" when the clocks are being held back, else "".
std::string Throttle(const GpuFacts& g) {
  if (!g.clock_event_reasons || !ClockEventIsThrottle(*g.clock_event_reasons)) return "";
  return fmt::format("throttled: {}", fmt::join(ClockEventNames(*g.clock_event_reasons), ", "));
}

std::string LostText(const GpuFacts& g) {
  return fmt::format("LOST (NVML {}: GPU is lost) run `dlrig doctor`", g.handle_code.value_or(15));
}

}  // namespace

std::string Bar(std::optional<double> fraction, int columns, bool utf8) {
  int inner = std::max(0, columns - 2);
  std::string fill;
  int used = 0;
  if (fraction) {
    int eighths = static_cast<int>(*fraction * inner * 8 + 0.5);
    int full = eighths / 8;
    for (int i = 0; i < full; ++i) fill += utf8 ? "█" : "|";
    used = full;
    if (utf8 && full < inner && eighths % 8) {
      fill += kBarEighths[eighths % 8];
      ++used;
    }
  }
  fill.append(inner - used, ' ');
  return "[" + fill + "]";
}

std::string Sparkline(const std::vector<std::optional<long long>>& percents, int columns,
                      bool utf8) {
  std::string out;
  int shown = std::min<int>(columns, percents.size());
  out.append(columns - shown, ' ');
  for (size_t i = percents.size() - shown; i < percents.size(); ++i) {
    if (!percents[i]) {
      out += ' ';
      continue;
    }
    int level = std::clamp(static_cast<int>(*percents[i] * 8 / 101), 0, 7);
    if (utf8)
      out += kSparkUtf8[level];
    else
      out += kSparkAscii[level];
  }
  return out;
}

std::vector<std::optional<long long>> UtilisationHistory(
    const std::vector<std::shared_ptr<const MonitorSnapshot>>& recent, const GpuFacts& gpu) {
  std::vector<std::optional<long long>> out;
  for (const auto& snapshot : recent) {
    std::optional<long long> value;
    for (const GpuFacts& g : snapshot ? snapshot->nvml.devices : std::vector<GpuFacts>{}) {
      bool same = g.index == gpu.index && (!g.uuid || !gpu.uuid || *g.uuid == *gpu.uuid);
      if (same && g.utilization_gpu_percent) value = *g.utilization_gpu_percent;
    }
    out.push_back(value);
  }
  return out;
}

std::vector<TopLine> FullPanel(const GpuFacts& g,
                               const std::vector<std::optional<long long>>& history,
                               const TopViewState& state) {
  const int w = state.width;
  std::string title = fmt::format("GPU {} ", g.index);
  if (GpuIsLost(g)) {
    return {{{title + Name(g, false) + "  ", TopStyle::kBold}, {LostText(g), TopStyle::kRed}},
            {{"  no live values: the GPU does not answer", TopStyle::kRed}},
            {}};
  }
  std::string pstate = g.performance_state ? fmt::format("P{}", *g.performance_state) : "P?";
  std::string right =
      fmt::format("  {}  fan {}  {}", pstate, WithUnit(g.fan_percent, "%"), Power(g));
  std::string temperature = Temperature(g.temperature_c, state.utf8);
  int name_w =
      std::max(4, w - DisplayWidth(title) - DisplayWidth(temperature) - DisplayWidth(right));
  TopLine first = {
      {title, TopStyle::kBold},
      {PadWidth(PrintableText(Name(g, false), state.utf8), name_w - 1) + " ", TopStyle::kBold},
      {temperature, TemperatureStyle(g)},
      {right, TopStyle::kNormal}};

  std::string memory = PadWidth(MemoryPair(g.memory_used_bytes, g.memory_total_bytes), 15);
  const int fixed = 7 + 1 + 4 + 1 + 6 + 1 + 15;
  int spark_w = std::max(4, (w - fixed) / 3);
  int bar_w = std::max(4, (w - fixed - spark_w) / 2);
  TopLine second = {
      {"  util ", TopStyle::kNormal},
      {Bar(Percent(g.utilization_gpu_percent), bar_w, state.utf8), TopStyle::kGreen},
      {fmt::format(" {} ", PercentText(g.utilization_gpu_percent)), TopStyle::kNormal},
      {Sparkline(history, spark_w, state.utf8), TopStyle::kGreen},
      {"  mem ", TopStyle::kNormal},
      {Bar(Fraction(g.memory_used_bytes, g.memory_total_bytes), bar_w, state.utf8), MemoryStyle(g)},
      {fmt::format(" {}", memory), TopStyle::kNormal}};

  TopLine third = {
      {fmt::format("  SM {}  mem {}  PCIe tx {} rx {}", WithUnit(g.clock_sm_mhz, " MHz"),
                   WithUnit(g.clock_memory_mhz, " MHz"), Rate(g.pcie_tx_kbps),
                   Rate(g.pcie_rx_kbps)),
       TopStyle::kNormal}};
  std::vector<TopLine> lines = {first, second, third};
  // Throttle reasons go on the clocks line while they fit there, on a line of their own else.
  if (std::string throttle = Throttle(g); !throttle.empty()) {
    if (LineWidth(third) + 2 + DisplayWidth(throttle) <= w)
      lines.back().push_back({fmt::format("  {}", throttle), TopStyle::kYellow});
    else
      lines.push_back({{fmt::format("  {}", throttle), TopStyle::kYellow}});
  }
  return lines;
}

TopLine CompactPanel(const GpuFacts& g, const std::vector<std::optional<long long>>& history,
                     const TopViewState& state) {
  TopLine line = {{fmt::format("{:>2} ", g.index), TopStyle::kBold},
                  {PadWidth(PrintableText(Name(g, true), state.utf8), 14) + " ", TopStyle::kBold}};
  if (GpuIsLost(g)) {
    line.push_back({LostText(g), TopStyle::kRed});
    return line;
  }
  std::string sm = g.clock_sm_mhz ? fmt::format("{}MHz", *g.clock_sm_mhz) : kNa;
  std::string tail =
      fmt::format(" mem {:<14} ", MemoryPair(g.memory_used_bytes, g.memory_total_bytes));
  std::string after = fmt::format(" {:>9} {:>7}", Power(g), sm);
  const int fixed = 3 + 15 + 4 + 1 + DisplayWidth(tail) + 5 + DisplayWidth(after) + 4;
  line.push_back({fmt::format("{} ", PercentText(g.utilization_gpu_percent)), TopStyle::kNormal});
  line.push_back(
      {Sparkline(history, std::max(0, state.width - fixed), state.utf8), TopStyle::kGreen});
  line.push_back(
      {tail, MemoryStyle(g) == TopStyle::kYellow ? TopStyle::kYellow : TopStyle::kNormal});
  std::string temperature = Temperature(g.temperature_c, state.utf8);
  line.push_back({std::string(std::max(0, 5 - DisplayWidth(temperature)), ' ') + temperature,
                  TemperatureStyle(g)});
  line.push_back({after, TopStyle::kNormal});
  if (!Throttle(g).empty()) line.push_back({" THR", TopStyle::kYellow});
  return line;
}

TopLine VanishedLine(int index, const std::string& name) {
  return {{fmt::format("GPU {} {}  ", index, name), TopStyle::kBold},
          {"LOST: no longer listed by NVML, run `dlrig doctor`", TopStyle::kRed}};
}

}  // namespace dlrig::top
