#include "bench/bench_util.h"

#include <sched.h>

#include <cstring>

#include <fmt/format.h>

#include "core/root.h"
#include "knowledge/tensor_rates.h"

namespace dlrig::bench {

const DeviceInfo* FindDevice(const Backend& backend, int index) {
  for (const DeviceInfo& d : backend.devices()) {
    if (d.index == index) return &d;
  }
  return nullptr;
}

void AddLimit(Measurement& m, const Result<LimitFigure>& limit) {
  if (limit) {
    m.limits.push_back(*limit);
  } else if (m.message.empty()) {
    m.message = "no limit: " + limit.error().message;
  }
}

void JudgeAgainst(Measurement& m, std::string_view benchmark, std::string_view case_name) {
  if (m.verdict == Verdict::kError || m.verdict == Verdict::kWaived) return;
  Goal g = GoalFor(benchmark, case_name);
  Judge(m, g.good, g.problem);
}

Measurement NotRun(std::string key, std::optional<int> device, const Error& error) {
  bool lacking = error.kind == ErrorKind::kUnsupported || error.kind == ErrorKind::kNotFound;
  return Measurement{.key = std::move(key), .device = device,
                     .verdict = lacking ? Verdict::kWaived : Verdict::kError, .message = error.message};
}

std::string BytesLabel(size_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  double v = static_cast<double>(bytes);
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  return v == static_cast<double>(static_cast<long long>(v)) ? fmt::format("{} {}", static_cast<long long>(v), units[u])
                                                            : fmt::format("{:.1f} {}", v, units[u]);
}

Result<LimitFigure> PcieLimit(const DeviceInfo& device) {
  if (!device.pcie_gen_max || !device.pcie_width_max) {
    return Fail(ErrorKind::kNotFound, "the PCIe link generation and width are unknown (NVML did not say)");
  }
  const auto& rates = TensorRates::BuiltIn();
  if (!rates) return tl::unexpected(rates.error());
  return PcieBandwidth(*rates, *device.pcie_gen_max, *device.pcie_width_max);
}

NumaScope::NumaScope(std::optional<int> node) {
  static_assert(sizeof(cpu_set_t) <= sizeof saved_);
  if (!node) return;
  auto root = Root::Open("/");
  auto line = root ? root->ReadLine(fmt::format("/sys/devices/system/node/node{}/cpulist", *node))
                   : Result<std::string>(tl::unexpected(root.error()));
  if (!line) return;
  std::string list = *line;
  cpu_set_t set;
  CPU_ZERO(&set);
  size_t pos = 0;
  while (pos < list.size()) {
    size_t comma = list.find(',', pos);
    std::string part = list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    int lo = 0, hi = 0;
    if (std::sscanf(part.c_str(), "%d-%d", &lo, &hi) == 2) {
      for (int c = lo; c <= hi && c < CPU_SETSIZE; ++c) CPU_SET(c, &set);
    } else if (std::sscanf(part.c_str(), "%d", &lo) == 1 && lo < CPU_SETSIZE) {
      CPU_SET(lo, &set);
    }
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  if (CPU_COUNT(&set) == 0) return;
  cpu_set_t saved;
  if (sched_getaffinity(0, sizeof saved, &saved) != 0) return;
  if (sched_setaffinity(0, sizeof set, &set) != 0) return;
  std::memcpy(saved_, &saved, sizeof saved);
  active_ = true;
}

NumaScope::~NumaScope() {
  if (!active_) return;
  cpu_set_t saved;
  std::memcpy(&saved, saved_, sizeof saved);
  sched_setaffinity(0, sizeof saved, &saved);
}

}  // namespace dlrig::bench
