// Lays out dlrig top's frame: header, GPU panels (full while they fit in the height, one line
// each beyond), the process table with the rows that are left, and the footer.
#include "monitor/top_view.h"

#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <set>

#include "core/version.h"
#include "monitor/display_width.h"
#include "monitor/top_parts.h"

namespace dlrig {
namespace {

// Below this many process rows the GPU panels turn compact.
constexpr int kMinProcessRows = 3;

std::string ClockTime(std::chrono::system_clock::time_point t) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm local{};
  localtime_r(&seconds, &local);
  char text[16];
  std::strftime(text, sizeof text, "%H:%M:%S", &local);
  return text;
}

TopLine Header(const MonitorSnapshot& s) {
  const LibraryAnswers& n = s.nvml;
  std::string text =
      fmt::format("dlrig top  {}  driver {}  CUDA {}  {} GPU{}", ClockTime(s.taken),
                  n.driver_version.value_or("n/a"),
                  n.cuda_driver_version ? CudaVersionFromInt(*n.cuda_driver_version) : "n/a",
                  n.devices.size(), n.devices.size() == 1 ? "" : "s");
  TopLine line = {{text, TopStyle::kBold},
                  {fmt::format("  ({} ms)", s.took.count()), TopStyle::kDim}};
  if (s.restarts > 0)
    line.push_back({fmt::format("  NVML restarted {}x", s.restarts), TopStyle::kYellow});
  if (!s.xids.empty()) {
    const XidEvent& x = s.xids.back();
    line.push_back({fmt::format("  Xid {} on {}", x.xid, x.pci_address), TopStyle::kRed});
  }
  return line;
}

TopLine Footer(const TopViewState& state, const TopFrame& frame, int visible_rows) {
  if (!state.message.empty()) return {{state.message, TopStyle::kYellow}};
  std::string who = state.user_filter.empty() ? "all" : state.user_filter;
  std::string rows =
      frame.rows.empty() || visible_rows >= static_cast<int>(frame.rows.size())
          ? fmt::format("{} process{}", frame.rows.size(), frame.rows.size() == 1 ? "" : "es")
          : fmt::format("{}-{} of {}", frame.first_row + 1,
                        std::min<int>(frame.first_row + visible_rows, frame.rows.size()),
                        frame.rows.size());
  std::string keys = state.interactive
                         ? fmt::format("q quit  s sort:{}  u user:{}  {}/jk select  x/K signal",
                                       TopSortName(state.sort), who, state.utf8 ? "↑↓" : "up/down")
                         : fmt::format("sort:{}  user:{}", TopSortName(state.sort), who);
  int gap = std::max(2, state.width - DisplayWidth(keys) - DisplayWidth(rows));
  return {{keys, TopStyle::kDim}, {std::string(gap, ' ') + rows, TopStyle::kDim}};
}

// GPUs an earlier snapshot listed (by UUID) that the newest one does not.
std::vector<TopLine> Vanished(const std::vector<std::shared_ptr<const MonitorSnapshot>>& recent) {
  std::set<std::string> now;
  for (const GpuFacts& g : recent.back()->nvml.devices)
    if (g.uuid) now.insert(*g.uuid);
  std::vector<TopLine> out;
  std::set<std::string> seen;
  for (const auto& s : recent)
    for (const GpuFacts& g : s ? s->nvml.devices : std::vector<GpuFacts>{})
      if (g.uuid && !now.count(*g.uuid) && seen.insert(*g.uuid).second)
        out.push_back(top::VanishedLine(g.index, g.name.value_or("n/a")));
  return out;
}

std::vector<TopLine> GpuLines(const std::vector<std::shared_ptr<const MonitorSnapshot>>& recent,
                              const TopViewState& state, int budget) {
  std::vector<TopLine> out;
  for (const GpuFacts& g : recent.back()->nvml.devices)
    for (TopLine& l : top::FullPanel(g, top::UtilisationHistory(recent, g), state))
      out.push_back(std::move(l));
  std::vector<TopLine> lost = Vanished(recent);
  if (state.height > 0 && out.size() + lost.size() > static_cast<size_t>(budget)) {
    out.clear();
    for (const GpuFacts& g : recent.back()->nvml.devices)
      out.push_back(top::CompactPanel(g, top::UtilisationHistory(recent, g), state));
  }
  out.insert(out.end(), lost.begin(), lost.end());
  if (state.height > 0 && static_cast<int>(out.size()) > budget && budget > 0) {
    int hidden = static_cast<int>(out.size()) - (budget - 1);
    out.resize(budget - 1);
    out.push_back({{fmt::format("... {} more GPU line{} (a taller terminal shows them)", hidden,
                                hidden == 1 ? "" : "s"),
                    TopStyle::kDim}});
  }
  return out;
}

std::vector<TopLine> UnavailableLines(const MonitorSnapshot& s) {
  return {
      {},
      {{"no GPU can be described: " + s.unavailable, TopStyle::kRed}},
      {{"run `dlrig doctor` to find which layer is broken and how to fix it", TopStyle::kNormal}}};
}

// The process table in `room` lines (header included); moves the scroll position so the
// selection stays visible. Returns the number of rows shown.
int ProcessLines(const MonitorSnapshot& s, const TopViewState& state, int room, TopFrame& frame) {
  frame.rows = TopProcessRows(s, state);
  int count = static_cast<int>(frame.rows.size());
  frame.selected = std::clamp(state.selected, 0, std::max(0, count - 1));
  frame.lines.push_back(top::ProcessHeader(state));
  std::string notice = top::ProcessNotice(s);
  if (!notice.empty()) frame.lines.push_back({{notice, TopStyle::kYellow}});
  if (count == 0) {
    frame.lines.push_back({{state.user_filter.empty() ? "no processes on the GPUs"
                                                      : "no processes of user " + state.user_filter,
                            TopStyle::kDim}});
  }
  int visible = state.height <= 0 ? count : std::max(1, room - 1 - (notice.empty() ? 0 : 1));
  int first = std::clamp(state.first_row, 0, std::max(0, count - visible));
  if (frame.selected < first) first = frame.selected;
  if (frame.selected >= first + visible) first = frame.selected - visible + 1;
  frame.first_row = first;
  for (int i = first; i < std::min(count, first + visible); ++i)
    frame.lines.push_back(
        top::ProcessLine(frame.rows[i], state, state.interactive && i == frame.selected));
  return visible;
}

}  // namespace

const char* TopSortName(TopSort sort) {
  switch (sort) {
    case TopSort::kMemory:
      return "mem";
    case TopSort::kPid:
      return "pid";
    case TopSort::kGpu:
      return "gpu";
    case TopSort::kUser:
      return "user";
  }
  return "?";
}

TopSort NextTopSort(TopSort sort) {
  switch (sort) {
    case TopSort::kMemory:
      return TopSort::kPid;
    case TopSort::kPid:
      return TopSort::kGpu;
    case TopSort::kGpu:
      return TopSort::kUser;
    case TopSort::kUser:
      return TopSort::kMemory;
  }
  return TopSort::kMemory;
}

bool GpuIsLost(const GpuFacts& g) {
  if (g.handle_code == 15) return true;
  for (const Result<long long>* live : {&g.utilization_gpu_percent, &g.memory_used_bytes,
                                        &g.temperature_c, &g.power_mw, &g.clock_sm_mhz})
    if (!*live && live->error().message.find(" returned 15:") != std::string::npos) return true;
  return false;
}

TopFrame RenderTop(const std::vector<std::shared_ptr<const MonitorSnapshot>>& recent,
                   const TopViewState& state) {
  TopFrame frame;
  const bool bounded = state.height > 0;
  int visible_rows = 0;
  if (recent.empty() || !recent.back()) {
    frame.lines.push_back({{"dlrig top  waiting for the first sample...", TopStyle::kBold}});
  } else {
    const MonitorSnapshot& s = *recent.back();
    frame.lines.push_back(Header(s));
    if (!s.unavailable.empty()) {
      for (TopLine& l : UnavailableLines(s)) frame.lines.push_back(std::move(l));
    } else {
      int body = state.height - 2;                                   // header, footer
      int gpu_budget = std::max(1, body - 1 - 1 - kMinProcessRows);  // table header, gap
      for (TopLine& l : GpuLines(recent, state, gpu_budget)) frame.lines.push_back(std::move(l));
      frame.lines.push_back({});
      int room = body - (static_cast<int>(frame.lines.size()) - 1);
      visible_rows = ProcessLines(s, state, std::max(2, room), frame);
    }
  }
  if (bounded) {
    // The footer sits on the last line; whatever did not fit above it is cut.
    frame.lines.resize(std::max(0, state.height - 1));
    frame.lines.push_back(Footer(state, frame, visible_rows));
    if (static_cast<int>(frame.lines.size()) > state.height) frame.lines.erase(frame.lines.begin());
  } else {
    frame.lines.push_back(Footer(state, frame, visible_rows));
  }
  for (TopLine& l : frame.lines) l = top::FitLine(l, state.width);
  return frame;
}

std::string TopFrameText(const TopFrame& frame, bool colour) {
  std::string out;
  for (const TopLine& line : frame.lines) {
    std::string text;
    for (const TopSpan& span : line) {
      const char* code = nullptr;
      switch (span.style) {
        case TopStyle::kNormal:
          break;
        case TopStyle::kBold:
          code = "1";
          break;
        case TopStyle::kDim:
          code = "2";
          break;
        case TopStyle::kGreen:
          code = "32";
          break;
        case TopStyle::kYellow:
          code = "33";
          break;
        case TopStyle::kRed:
          code = "31";
          break;
        case TopStyle::kSelected:
          code = "7";
          break;
      }
      if (colour && code && !span.text.empty())
        text += fmt::format("\033[{}m{}\033[0m", code, span.text);
      else
        text += span.text;
    }
    while (!colour && !text.empty() && text.back() == ' ') text.pop_back();
    out += text + "\n";
  }
  return out;
}

namespace top {

std::string Bytes(long long bytes) {
  constexpr double kGiB = 1024.0 * 1024 * 1024;
  if (bytes >= (1LL << 30)) return fmt::format("{:.1f} GiB", bytes / kGiB);
  if (bytes >= (1LL << 20)) return fmt::format("{} MiB", bytes >> 20);
  return fmt::format("{} KiB", bytes >> 10);
}

std::string MemoryPair(const Result<long long>& used, const Result<long long>& total) {
  constexpr double kGiB = 1024.0 * 1024 * 1024;
  if (!used && !total) return kNa;
  auto gib = [&](const Result<long long>& v) {
    return v ? fmt::format("{:.1f}", *v / kGiB) : std::string(kNa);
  };
  return fmt::format("{}/{} GiB", gib(used), gib(total));
}

std::string Rate(const Result<long long>& kbps) {
  if (!kbps) return kNa;
  if (*kbps >= 1000000) return fmt::format("{:.1f} GB/s", *kbps / 1e6);
  if (*kbps >= 1000) return fmt::format("{} MB/s", *kbps / 1000);
  return fmt::format("{} KB/s", *kbps);
}

std::string WithUnit(const Result<long long>& value, const char* unit) {
  return value ? fmt::format("{}{}", *value, unit) : kNa;
}

int LineWidth(const TopLine& line) {
  int width = 0;
  for (const TopSpan& s : line) width += DisplayWidth(s.text);
  return width;
}

TopLine FitLine(const TopLine& line, int columns) {
  TopLine out;
  int left = columns;
  for (const TopSpan& s : line) {
    if (left <= 0) break;
    std::string text = FitWidth(s.text, left);
    left -= DisplayWidth(text);
    out.push_back({std::move(text), s.style});
  }
  return out;
}

}  // namespace top
}  // namespace dlrig
