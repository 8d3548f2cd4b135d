// dlrig top's process table: every GPU's processes in one list, sorted and filtered.
#include <fmt/format.h>

#include <algorithm>

#include "monitor/display_width.h"
#include "monitor/top_parts.h"

namespace dlrig {
namespace {

// Larger first; an unknown size sorts after every known one.
bool MoreMemory(const TopProcessRow& a, const TopProcessRow& b) {
  const auto& x = a.process.used_memory_bytes;
  const auto& y = b.process.used_memory_bytes;
  if (x.has_value() != y.has_value()) return x.has_value();
  return x && *x != *y ? *x > *y : a.process.pid < b.process.pid;
}

bool Before(const TopProcessRow& a, const TopProcessRow& b, TopSort sort) {
  switch (sort) {
    case TopSort::kMemory:
      return MoreMemory(a, b);
    case TopSort::kPid:
      return a.process.pid != b.process.pid ? a.process.pid < b.process.pid : a.gpu < b.gpu;
    case TopSort::kGpu:
      return a.gpu != b.gpu ? a.gpu < b.gpu : MoreMemory(a, b);
    case TopSort::kUser:
      if (a.process.user.empty() != b.process.user.empty()) return b.process.user.empty();
      return a.process.user != b.process.user ? a.process.user < b.process.user : MoreMemory(a, b);
  }
  return false;
}

// Columns: PID 7, USER 9, GPU 3, MEMORY 9, type 1, CONTAINER 12, COMMAND the rest.
constexpr int kCommandColumn = 7 + 1 + 9 + 1 + 3 + 1 + 9 + 1 + 1 + 1 + 12 + 1;

}  // namespace

std::vector<TopProcessRow> TopProcessRows(const MonitorSnapshot& snapshot,
                                          const TopViewState& state) {
  std::vector<TopProcessRow> rows;
  for (const GpuFacts& g : snapshot.nvml.devices) {
    if (!g.processes) continue;
    for (const GpuProcess& p : *g.processes)
      if (state.user_filter.empty() || p.user == state.user_filter) rows.push_back({g.index, p});
  }
  std::stable_sort(rows.begin(), rows.end(), [&](const TopProcessRow& a, const TopProcessRow& b) {
    return Before(a, b, state.sort);
  });
  return rows;
}

namespace top {

TopLine ProcessHeader(const TopViewState& state) {
  std::string text = fmt::format("{:>7} {:<9} {:>3} {:>9} {} {:<12} {}", "PID", "USER", "GPU",
                                 "MEMORY", "T", "CONTAINER", "COMMAND");
  return {{PadWidth(text, state.width), TopStyle::kSelected}};
}

TopLine ProcessLine(const TopProcessRow& row, const TopViewState& state, bool selected) {
  const GpuProcess& p = row.process;
  std::string user = p.user.empty() ? kNa : PrintableText(p.user, state.utf8);
  std::string memory = p.used_memory_bytes ? Bytes(*p.used_memory_bytes) : kNa;
  std::string container = p.container.empty() ? "-" : PrintableText(p.container, state.utf8);
  std::string command = p.command.empty() ? kNa : PrintableText(p.command, state.utf8);
  std::string text = fmt::format("{:>7} {} {:>3} {:>9} {} {} ", p.pid, PadWidth(user, 9), row.gpu,
                                 memory, p.graphics ? 'G' : 'C', PadWidth(container, 12));
  text += FitWidth(command, std::max(0, state.width - kCommandColumn));
  if (selected) return {{PadWidth(text, state.width), TopStyle::kSelected}};
  return {{text, TopStyle::kNormal}};
}

std::string ProcessNotice(const MonitorSnapshot& snapshot) {
  std::vector<std::string> parts;
  for (const GpuFacts& g : snapshot.nvml.devices) {
    if (g.processes) continue;
    const Error& e = g.processes.error();
    if (e.kind == ErrorKind::kNotFound && e.message == "not asked") continue;  // sampler option
    std::string why = GpuIsLost(g) ? "lost" : ErrorKindName(e.kind);
    parts.push_back(fmt::format("GPU {} ({})", g.index, why));
  }
  if (parts.empty()) return "";
  return fmt::format("processes n/a on {}", fmt::join(parts, ", "));
}

}  // namespace top
}  // namespace dlrig
