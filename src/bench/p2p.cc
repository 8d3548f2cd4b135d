// p2p: every ordered GPU pair, one-way and both-ways copy bandwidth and small-copy latency, with
// the peer-access state and the path (NVLink or PCIe).
#include <fmt/format.h>

#include "bench/bench_util.h"
#include "bench/benchmarks.h"
#include "knowledge/tensor_rates.h"

namespace dlrig::bench {
namespace {

constexpr size_t kBytes = size_t{256} << 20;

std::optional<std::string> Waived(const Context& context) {
  if (context.Devices().size() < 2) return "needs >= 2 GPUs";
  return std::nullopt;
}

Result<LimitFigure> LinkLimit(const DeviceInfo& a, const PeerLink& link) {
  if (link.path == "NVLink") {
    if (!a.nvlink_version) return Fail(ErrorKind::kNotFound, "the NVLink version is unknown");
    const auto& rates = TensorRates::BuiltIn();
    if (!rates) return tl::unexpected(rates.error());
    return NvlinkBandwidth(*rates, *a.nvlink_version, link.nvlinks);
  }
  return PcieLimit(a);
}

void Bandwidth(Context& context, const DeviceInfo& a, const DeviceInfo& b, const PeerLink& link,
               Buffer& src, Buffer& dst, bool both) {
  std::string key = fmt::format("p2p.{}-{}.{}", a.index, b.index, both ? "bidir" : "uni");
  auto op = context.backend().Copy({.dst = &dst, .src = &src, .bytes = kBytes, .both_ways = both});
  if (!op) {
    context.Add(NotRun(key, std::nullopt, op.error()));
    return;
  }
  double moved = static_cast<double>(kBytes) * (both ? 2 : 1);
  Measurement m = Measure(context, key, {a.index, b.index}, "GB/s", **op, moved / 1e9);
  m.params["bytes"] = std::to_string(kBytes);
  m.params["path"] = link.path;
  m.params["from"] = std::to_string(a.index);
  m.params["to"] = std::to_string(b.index);
  auto limit = LinkLimit(a, link);
  if (limit && both) {
    limit->value *= 2;
    limit->basis += ", both directions";
    limit->formula = "2 x (" + limit->formula + ")";
  }
  AddLimit(m, limit);
  JudgeAgainst(m, "p2p", link.path == "NVLink" ? "nvlink" : "pcie");
  context.Add(std::move(m));
}

// One 4-byte copy at a time: the time per copy is the latency a small message sees.
void Latency(Context& context, const DeviceInfo& a, const DeviceInfo& b, const PeerLink& link,
             Buffer& src, Buffer& dst) {
  std::string key = fmt::format("p2p.{}-{}.latency", a.index, b.index);
  auto op = context.backend().Copy({.dst = &dst, .src = &src, .bytes = 4});
  if (!op) {
    context.Add(NotRun(key, std::nullopt, op.error()));
    return;
  }
  Measurement m = Measure(context, key, {a.index, b.index}, "us", **op, 1.0);
  for (double& s : m.samples) s = 1e6 / s;  // copies per second -> microseconds per copy
  Summarize(m);
  m.params["bytes"] = "4";
  m.params["path"] = link.path;
  m.verdict = m.verdict == Verdict::kError ? Verdict::kError : Verdict::kInfo;
  context.Add(std::move(m));
}

void Run(Context& context) {
  std::vector<int> gpus = context.Devices();
  bool quick = context.options().profile == Profile::kQuick;
  Backend& backend = context.backend();
  for (int a : gpus) {
    for (int b : gpus) {
      if (a == b) continue;
      if (quick && a != gpus.front()) continue;  // quick: the first GPU with each other one
      const DeviceInfo& da = backend.devices().at(a);
      const DeviceInfo& db = backend.devices().at(b);
      PeerLink link = backend.Peer(a, b);
      if (!link.access) {
        context.Add({.key = fmt::format("p2p.{}-{}.uni", a, b), .verdict = Verdict::kWaived,
                     .message = fmt::format("no P2P between GPU {} and {}: {}", a, b, link.path)});
        continue;
      }
      context.Progress(fmt::format("p2p GPU {} -> {} over {}", a, b, link.path));
      auto src = backend.Allocate(Memory::kDevice, a, kBytes);
      auto dst = backend.Allocate(Memory::kDevice, b, kBytes);
      if (!src || !dst) {
        context.Add(NotRun(fmt::format("p2p.{}-{}.uni", a, b), std::nullopt, !src ? src.error() : dst.error()));
        continue;
      }
      backend.FillRandom(**src, DType::kInt8, 11);
      Bandwidth(context, da, db, link, **src, **dst, false);
      if (a < b) Bandwidth(context, da, db, link, **src, **dst, true);
      if (!quick) Latency(context, da, db, link, **src, **dst);
    }
  }
}

}  // namespace

const Benchmark kP2pBenchmark = {
    .key = "p2p",
    .description = "GPU <-> GPU copy bandwidth and latency for every pair, with the P2P path",
    .formula = "GB/s = bytes x copies / t; latency = t / copies of 4 bytes",
    .waived = Waived,
    .run = Run,
    .quick = true,
    .defaults = true,
};

}  // namespace dlrig::bench
