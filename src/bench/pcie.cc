// pcie: host <-> device copy-engine bandwidth, pinned (on the GPU's NUMA node) and pageable,
// each direction and both at once; the headline at 512 MiB (nvbandwidth's buffer), a size sweep beside it.
#include <algorithm>

#include <fmt/format.h>

#include "bench/bench_util.h"
#include "bench/benchmarks.h"

namespace dlrig::bench {
namespace {

constexpr size_t kMiB = size_t{1} << 20;
constexpr size_t kHeadline = 512 * kMiB;  // nvbandwidth's default buffer

std::optional<std::string> Waived(const Context& context) {
  if (context.Devices().empty()) return "no GPU";
  return std::nullopt;
}

struct Case {
  const char* direction;  ///< "h2d", "d2h", "bidir"
  Memory host;
};

void RunCase(Context& context, const DeviceInfo& d, Buffer& host, Buffer& device, const Case& c,
             size_t bytes, bool headline) {
  const char* kind = c.host == Memory::kPinned ? "pinned" : "pageable";
  std::string key = headline ? fmt::format("pcie.{}.{}", c.direction, kind)
                             : fmt::format("pcie.{}.{}.{}", c.direction, kind, bytes);
  bool h2d = std::string_view(c.direction) != "d2h";
  bool both = std::string_view(c.direction) == "bidir";
  CopySpec spec{.dst = h2d ? &device : &host, .src = h2d ? &host : &device, .bytes = bytes, .both_ways = both};
  auto op = context.backend().Copy(spec);
  if (!op) {
    context.Add(NotRun(key, d.index, op.error()));
    return;
  }
  // Both ways at once: the bytes of both directions over the time of the slower one.
  double moved = static_cast<double>(bytes) * (both ? 2 : 1);
  // The host side of a copy is shared with everything else on the machine (a VM's neighbours
  // too): one sample in four fell 10-15% short on a lent H100. The headline is therefore the
  // median of 9 samples of at least 0.2 s each (nvbandwidth: median of 3 x 16 copies of
  // 512 MiB, about 0.16 s each), outside --quick.
  SamplePlan plan = headline ? context.HeadlinePlan(0, 0.2, 9) : context.plan();
  Measurement m = Measure(context, key, {d.index}, "GB/s", **op, moved / 1e9, plan);
  m.params["bytes"] = std::to_string(bytes);
  m.params["method"] = (*op)->detail();
  auto limit = PcieLimit(d);
  if (limit && both) {
    limit->value *= 2;
    limit->basis += ", both directions";
    limit->formula = "2 x (" + limit->formula + ")";
  }
  AddLimit(m, limit);
  if (c.host == Memory::kPinned) {
    JudgeAgainst(m, "pcie", "pinned");
  } else {
    Judge(m, std::nullopt, std::nullopt);  // pageable speed depends on the host; no goal
  }
  context.Add(std::move(m));
}

void Run(Context& context) {
  bool quick = context.options().profile == Profile::kQuick;
  std::vector<size_t> sweep = context.options().sizes;
  if (sweep.empty() && !quick) sweep = {kMiB, 4 * kMiB, 16 * kMiB, 64 * kMiB, 1024 * kMiB};
  size_t largest = kHeadline;
  for (size_t s : sweep) largest = std::max(largest, s);
  const Case cases[] = {{"h2d", Memory::kPinned}, {"d2h", Memory::kPinned}, {"bidir", Memory::kPinned},
                        {"h2d", Memory::kPageable}, {"d2h", Memory::kPageable}};
  for (int dev : context.Devices()) {
    const DeviceInfo& d = context.backend().devices().at(dev);
    // Pinned buffers are allocated and touched, and copies issued, from the GPU's own NUMA node.
    NumaScope numa(d.numa_node);
    auto device = context.backend().Allocate(Memory::kDevice, dev, largest);
    if (!device) {
      context.Add(NotRun("pcie", dev, device.error()));
      continue;
    }
    context.backend().FillRandom(**device, DType::kInt8, 7);
    for (Memory kind : {Memory::kPinned, Memory::kPageable}) {
      auto host = context.backend().Allocate(kind, dev, largest);
      if (!host) {
        context.Add(NotRun(kind == Memory::kPinned ? "pcie.pinned" : "pcie.pageable", dev, host.error()));
        continue;
      }
      context.backend().FillRandom(**host, DType::kInt8, 8);
      for (const Case& c : cases) {
        if (c.host != kind) continue;
        context.Progress(fmt::format("pcie.{} {} on GPU {} (NUMA node {})", c.direction,
                                     kind == Memory::kPinned ? "pinned" : "pageable", dev,
                                     d.numa_node ? std::to_string(*d.numa_node) : "unknown"));
        RunCase(context, d, **host, **device, c, kHeadline, true);
        if (c.host == Memory::kPinned && std::string_view(c.direction) != "bidir") {
          for (size_t s : sweep) RunCase(context, d, **host, **device, c, s, false);
        }
      }
    }
  }
}

}  // namespace

const Benchmark kPcieBenchmark = {
    .key = "pcie",
    .description = "host <-> GPU copy bandwidth, pinned (NUMA-local) and pageable, sizes swept",
    .formula = "GB/s = bytes x copies / t (both ways: bytes of both directions / t)",
    .waived = Waived,
    .run = Run,
    .quick = true,
    .defaults = true,
};

}  // namespace dlrig::bench
