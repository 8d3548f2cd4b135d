// memory: device-memory bandwidth with our own kernels (never the copy engine, which
// under-reports on Hopper), arrays many times the L2, bytes read + bytes written.
#include <algorithm>

#include <fmt/format.h>

#include "bench/bench_util.h"
#include "bench/benchmarks.h"
#include "core/strings.h"
#include "knowledge/gpus.h"

namespace dlrig::bench {
namespace {

constexpr size_t kGiB = size_t{1} << 30;

std::optional<std::string> Waived(const Context& context) {
  if (context.Devices().empty()) return "no GPU";
  return std::nullopt;
}

const char* Name(MemoryKernel k) {
  switch (k) {
    case MemoryKernel::kCopy: return "copy";
    case MemoryKernel::kTriad: return "triad";
    case MemoryKernel::kRead: return "read";
    case MemoryKernel::kWrite: return "write";
  }
  return "?";
}

int Arrays(MemoryKernel k) { return k == MemoryKernel::kTriad ? 3 : k == MemoryKernel::kCopy ? 2 : 1; }

// At least 2 GiB and 32 x L2 per array, so no pass is served from cache and a launch's start
// and tail are a small part of it; at most what leaves a quarter of free memory for others.
size_t ArrayBytes(const DeviceInfo& d, MemoryKernel k) {
  size_t want = std::max(2 * kGiB, 32 * d.l2_bytes);
  if (d.memory_free > 0) want = std::min(want, d.memory_free * 3 / 4 / static_cast<size_t>(Arrays(k)));
  return want / 4096 * 4096;
}

void Run(Context& context) {
  std::vector<MemoryKernel> kernels = {MemoryKernel::kCopy, MemoryKernel::kTriad};
  if (context.options().profile != Profile::kQuick) {
    kernels.push_back(MemoryKernel::kRead);
    kernels.push_back(MemoryKernel::kWrite);
  }
  for (int dev : context.Devices()) {
    const DeviceInfo& d = context.backend().devices().at(dev);
    for (MemoryKernel k : kernels) {
      std::string key = fmt::format("memory.{}", Name(k));
      size_t bytes = ArrayBytes(d, k);
      context.Progress(fmt::format("{} on GPU {}: {} x {}", key, dev, Arrays(k), BytesLabel(bytes)));
      auto op = context.backend().Kernel({.kernel = k, .device = dev, .bytes_per_array = bytes});
      if (!op) {
        context.Add(NotRun(key, dev, op.error()));
        continue;
      }
      double moved = static_cast<double>(bytes) * Arrays(k);
      Measurement m = Measure(context, key, {dev}, "GB/s", **op, moved / 1e9);
      m.params["bytes_per_array"] = std::to_string(bytes);
      m.params["launch"] = (*op)->detail();
      if (d.memory_clock_max_mhz && d.memory_bus_bits) {
        AddLimit(m, MemoryBandwidth(*d.memory_clock_max_mhz, *d.memory_bus_bits));
      } else {
        m.message = "no limit: the memory clock or bus width is unknown";
      }
      if (d.catalog) {
        if (auto sheet = MemoryBandwidthDatasheet(*d.catalog)) m.limits.push_back(*sheet);
      }
      std::string type = d.catalog ? ToLower(d.catalog->memory_type) : "";
      JudgeAgainst(m, "memory", type);
      context.Add(std::move(m));
    }
  }
}

}  // namespace

const Benchmark kMemoryBenchmark = {
    .key = "memory",
    .description = "device-memory bandwidth: copy and triad kernels over arrays >> L2",
    .formula = "GB/s = (bytes read + bytes written per pass) / t",
    .waived = Waived,
    .run = Run,
    .quick = true,
    .defaults = true,
};

}  // namespace dlrig::bench
