// The nccl benchmark: all-reduce, all-gather and reduce-scatter over every GPU of the run, one
// process driving them all, reported as nccl-tests reports them (busbw in GB/s, 10^9) and judged
// against the link the GPUs share: NVLink per direction, or PCIe per direction of the slowest GPU.
#include "bench/nccl.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <optional>

#include "bench/bench_util.h"
#include "bench/benchmarks.h"
#include "bench/limits.h"
#include "gpu/nccl.h"
#include "knowledge/tensor_rates.h"

namespace dlrig::bench {

namespace {

constexpr DType kDType = DType::kFp32;  // nccl-tests' default (-d float)

struct Link {
  std::string kind;  ///< "nvlink" or "pcie": the goal's case is "all_reduce-<kind>"
  std::optional<LimitFigure> limit;
  std::string missing;  ///< why no limit could be stated
};

bool AllOverNvlink(Backend& backend, const std::vector<int>& devices) {
  for (size_t i = 0; i < devices.size(); ++i) {
    for (size_t j = i + 1; j < devices.size(); ++j) {
      PeerLink p = backend.Peer(devices[i], devices[j]);
      if (!p.access || p.path != "NVLink") return false;
    }
  }
  return true;
}

// The slowest GPU's link: its active NVLink links x the per-link rate of its NVLink version
// (research/benchmarks.md section 6.5; with NVSwitch every link of a GPU carries the
// collective), or its PCIe link at the rate it can reach.
Link LinkOf(Backend& backend, const std::vector<int>& devices,
            const std::vector<const DeviceInfo*>& gpus) {
  Link link{.kind = AllOverNvlink(backend, devices) ? "nvlink" : "pcie"};
  const auto& rates = TensorRates::BuiltIn();
  for (const DeviceInfo* d : gpus) {
    Result<LimitFigure> limit = PcieLimit(*d);
    if (link.kind == "nvlink") {
      const NvlinkRow* row = !rates              ? nullptr
                             : d->nvlink_version ? rates->Nvlink(*d->nvlink_version)
                                                 : rates->NvlinkForCc(d->cc_major, d->cc_minor);
      limit = !rates ? tl::unexpected(rates.error())
              : row  ? NvlinkBandwidth(*rates, row->version, d->nvlinks_active)
                     : Fail(ErrorKind::kNotFound, "NVLink version unknown");
    }
    if (!limit) {
      link.limit.reset();
      link.missing = fmt::format("GPU {}: {}", d->index, limit.error().message);
      return link;
    }
    limit->basis += fmt::format(", GPU {}", d->index);
    if (!link.limit || limit->value < link.limit->value) link.limit = *limit;
  }
  return link;
}

std::vector<const DeviceInfo*> Infos(const Backend& backend, const std::vector<int>& devices) {
  std::vector<const DeviceInfo*> out;
  for (int index : devices) {
    if (const DeviceInfo* d = FindDevice(backend, index)) out.push_back(d);
  }
  return out;
}

// The NCCL that runs the collectives and the file it came from (on a broken machine, which copy
// was loaded is the diagnosis).
std::pair<std::string, std::string> NcclLibrary(const Backend& backend) {
  if (backend.name() == "cuda") {
    if (const auto& nccl = gpu::Nccl::Get()) return {(*nccl)->VersionString(), (*nccl)->path};
  }
  for (const auto& [name, version] : backend.libraries()) {
    if (name == "nccl") return {version, ""};
  }
  return {"unknown", ""};
}

std::optional<std::string> Waived(const Context& context) {
  size_t n = context.Devices().size();
  if (n < 2) return fmt::format("needs ≥ 2 GPUs (this run has {})", n);
  if (context.backend().name() == "cuda") {
    if (const auto& nccl = gpu::Nccl::Get(); !nccl) return nccl.error().message;
  }
  return std::nullopt;
}

void Judged(Measurement& m, const Link& link, Collective op) {
  if (link.limit) m.limits.push_back(*link.limit);
  // The research states goals for all-reduce only; the others keep their ratio without a verdict.
  if (op == Collective::kAllReduce) {
    JudgeAgainst(m, "nccl", "all_reduce-" + link.kind);
  } else {
    Judge(m, std::nullopt, std::nullopt);
  }
}

std::string Notes(const Link& link, const FittedCase& c) {
  std::vector<std::string> notes;
  if (!c.note.empty()) notes.push_back(c.note);
  notes.push_back("the algorithm (ring, tree, NVLS) is NCCL's choice");
  if (link.kind == "nvlink") {
    notes.push_back(
        "NVLS (NVLink SHARP) reduces inside the NVSwitch, so busbw can exceed the wire");
  } else {
    notes.push_back("over PCIe the CPU and root complex bound it: 0.4-0.6 of the link is usual");
  }
  if (!link.limit) notes.push_back("no limit: " + link.missing);
  return fmt::format("{}", fmt::join(notes, "; "));
}

void Run(Context& context) {
  std::vector<int> devices = context.Devices();
  int n = static_cast<int>(devices.size());
  auto gpus = Infos(context.backend(), devices);
  size_t least_free = 0;
  for (size_t i = 0; i < gpus.size(); ++i) {
    least_free = i == 0 ? gpus[i]->memory_free : std::min(least_free, gpus[i]->memory_free);
  }
  auto cases = FitCases(NcclCases(context.options().profile, context.options().sizes), n, kDType,
                        NcclMemoryBudget(least_free));
  Link link = LinkOf(context.backend(), devices, gpus);
  auto [version, library] = NcclLibrary(context.backend());
  const char* nvls = std::getenv("NCCL_NVLS_ENABLE");  // read, never changed

  for (size_t i = 0; i < cases.size(); ++i) {
    const FittedCase& c = cases[i];
    std::string key = NcclKey(c.run.op, c.asked);
    if (c.skipped) {
      context.Add({.key = key, .bench = "nccl", .verdict = Verdict::kWaived, .message = c.note});
      continue;
    }
    context.Progress(fmt::format("nccl: {} {} over {} GPUs", CollectiveName(c.run.op),
                                 BytesLabel(c.run.bytes), n));
    CollectiveCounts counts = CountsFor(c.run.op, c.run.bytes, n, kDType);
    double factor = BusFactor(c.run.op, n);
    auto op = context.backend().Collect(
        {.op = c.run.op, .devices = devices, .bytes = c.run.bytes, .dtype = kDType});
    Measurement m;
    if (op) {
      m = Measure(context, key, devices, "GB/s", **op,
                  static_cast<double>(counts.bytes) * factor / 1e9);
    } else {
      m = {.key = key, .unit = "GB/s", .verdict = Verdict::kError, .message = op.error().message};
    }
    m.bench = "nccl";
    m.params["collective"] = CollectiveName(c.run.op);
    m.params["bytes"] = std::to_string(counts.bytes);
    m.params["count"] = std::to_string(counts.call);
    m.params["ranks"] = std::to_string(n);
    m.params["dtype"] = std::string(DTypeName(kDType));
    m.params["placement"] = context.backend().name() == "cuda" ? "in place (the correctness check runs out of place)" : "modelled";
    m.params["bus_factor"] = fmt::format("{:g}", factor);
    m.params["nccl"] = version;
    if (!library.empty()) m.params["nccl_library"] = library;
    m.params["NCCL_NVLS_ENABLE"] = nvls ? nvls : "unset";
    if (m.verdict == Verdict::kError) {
      // A failed collective usually means a lost GPU or an aborted communicator: stop here and
      // keep what finished.
      if (i + 1 < cases.size())
        m.message += fmt::format("; {} later case(s) not run", cases.size() - i - 1);
      context.Add(std::move(m));
      return;
    }
    m.params["algbw_gbs"] = fmt::format("{:.2f}", m.median / factor);
    Judged(m, link, c.run.op);
    m.message = Notes(link, c);
    if (const auto* checked = dynamic_cast<const CheckedCollective*>(op->get())) {
      m.params["wrong"] = std::to_string(checked->wrong());
      m.params["checked"] = std::to_string(checked->checked());
      if (checked->wrong() > 0) {
        m.verdict = Verdict::kFailed;
        m.message = fmt::format("{} of {} sampled values wrong (nccl-tests #wrong); {}",
                                checked->wrong(), checked->checked(), m.message);
      }
    }
    context.Add(std::move(m));
  }
}

}  // namespace

extern const Benchmark kNcclBenchmark = {
    .key = "nccl",
    .description = "NCCL all-reduce, all-gather, reduce-scatter over the GPUs (nccl-tests' busbw)",
    .formula =
        "algbw = bytes / t; busbw = algbw × 2(n-1)/n (all-reduce), × (n-1)/n (all-gather, "
        "reduce-scatter); GB/s = 10^9 B/s",
    .waived = Waived,
    .run = Run,
    .quick = true,
    .defaults = true,
};

}  // namespace dlrig::bench
