// GPU health in the driver's own words: Xid events in the kernel log and NVML's per-GPU
// memory-error counters, MIG and compute mode.
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "knowledge/xids.h"
#include "rules/rules.h"

namespace dlrig {
namespace {

constexpr const char* kBusLossId = "gpu-fallen-off-bus-xid79";
constexpr size_t kEvidenceLines = 3;  // the newest Xid lines shown per GPU

const std::vector<GpuFacts>& NvmlGpus(const Inventory& inv) {
  static const std::vector<GpuFacts> kNone;
  return inv.user_driver.query ? inv.user_driver.query->nvml.devices : kNone;
}

std::string AddressOf(const GpuFacts& g) {
  if (!g.pci_bus_id) return "";
  return NormalizePciAddress(*g.pci_bus_id).value_or(*g.pci_bus_id);
}

// Subject and {gpu}, {address} for a GPU NVML described. {gpu} is NVML's index, which is also
// nvidia-smi's -i index.
Finding AboutGpu(const GpuFacts& g, std::string id) {
  std::string address = AddressOf(g);
  Finding f{.id = std::move(id),
            .subject = "GPU " + (address.empty() ? std::to_string(g.index) : address)};
  f.vars = {{"gpu", std::to_string(g.index)},
            {"address", address.empty() ? "index " + std::to_string(g.index) : address}};
  return f;
}

Finding* Existing(Findings& out, const std::string& id) {
  auto it = std::find_if(out.begin(), out.end(), [&](const Finding& f) { return f.id == id; });
  return it == out.end() ? nullptr : &*it;
}

// Xid 79 and NVML's GPU_IS_LOST are one diagnosis: a finding made from nvmlInit's answer gets
// the kernel log's evidence instead of a second finding.
void BusLoss(Findings& out, const std::string& address, std::vector<std::string> evidence) {
  if (Finding* f = Existing(out, kBusLossId)) {
    for (auto& e : evidence) f->evidence.push_back(std::move(e));
    return;
  }
  out.push_back({.id = kBusLossId,
                 .subject = "GPU " + address,
                 .evidence = std::move(evidence),
                 .vars = {{"address", address}}});
}

int Rank(Severity s) { return s == Severity::kError ? 2 : s == Severity::kWarning ? 1 : 0; }

struct GpuXids {
  std::map<int, int> counts;  ///< code -> times logged
  std::vector<const XidEvent*> events;
};

// The Xid to report for one GPU: the most severe, the later one on a tie.
int WorstXid(const GpuXids& x, const XidTable* table) {
  int worst = -1, worst_rank = -1;
  for (const XidEvent* e : x.events) {
    const XidInfo* info = table ? table->Find(e->xid) : nullptr;
    int rank = Rank(info ? info->severity : Severity::kWarning);
    if (rank >= worst_rank) {
      worst = e->xid;
      worst_rank = rank;
    }
  }
  return worst;
}

// {gpu}: NVML's index for the GPU at `address` when NVML described it, else the address.
std::string GpuRef(const Inventory& inv, const std::string& address) {
  for (const GpuFacts& g : NvmlGpus(inv))
    if (AddressOf(g) == address) return std::to_string(g.index);
  return address;
}

Finding XidFinding(const Inventory& inv, const std::string& address, const GpuXids& x, int xid,
                   const XidTable* table) {
  const XidInfo* info = table ? table->Find(xid) : nullptr;
  std::vector<std::string> codes;
  for (auto [code, n] : x.counts) codes.push_back(fmt::format("{} x{}", code, n));
  std::string gpu = GpuRef(inv, address);
  std::string step = info && table ? table->Step(info->action) : "";
  Finding f{.id = "xid-in-kernel-log", .subject = "GPU " + address};
  f.severity = info ? info->severity : Severity::kWarning;
  f.vars = {{"address", address},
            {"gpu", gpu},
            {"xid", std::to_string(xid)},
            {"count", std::to_string(x.counts.at(xid))},
            {"codes", fmt::format("{}", fmt::join(codes, ", "))},
            {"name", info ? info->name : "not in dlrig's Xid table"},
            {"meaning", info ? info->meaning : "see NVIDIA's Xid catalog"},
            {"advice", info ? info->advice : ""},
            {"immediate", info ? info->nvidia_immediate : "?"},
            {"next_step", step.empty() ? "See NVIDIA's Xid catalog for this code"
                                       : Substitute(step, {{"gpu", gpu}})}};
  return f;
}

void XidRules(const Inventory& inv, Findings& out) {
  const KernelLogFacts& log = inv.kernel_log;
  if (!log.source || log.xids.empty()) return;
  const auto& table = XidTable::BuiltIn();
  const XidTable* xids = table ? &*table : nullptr;
  std::map<std::string, GpuXids> by_gpu;
  for (const XidEvent& e : log.xids) {
    GpuXids& x = by_gpu[e.pci_address];
    ++x.counts[e.xid];
    x.events.push_back(&e);
  }
  for (auto& [address, x] : by_gpu) {
    int worst = WorstXid(x, xids);
    std::vector<std::string> evidence;
    size_t first = x.events.size() > kEvidenceLines ? x.events.size() - kEvidenceLines : 0;
    for (size_t i = first; i < x.events.size(); ++i)
      evidence.push_back(*log.source + ": " + x.events[i]->line);
    if (worst == 79) {
      BusLoss(out, address, std::move(evidence));
      continue;
    }
    Finding f = XidFinding(inv, address, x, worst, xids);
    f.evidence = std::move(evidence);
    out.push_back(std::move(f));
  }
}

std::string Count(const Result<long long>& n) { return n ? std::to_string(*n) : "?"; }

void MemoryErrorRules(const GpuFacts& g, Findings& out) {
  if (g.ecc_uncorrected_volatile && *g.ecc_uncorrected_volatile > 0) {
    Finding f = AboutGpu(g, "ecc-uncorrectable-errors");
    f.vars["count"] = std::to_string(*g.ecc_uncorrected_volatile);
    f.vars["aggregate"] = Count(g.ecc_uncorrected_aggregate);
    f.evidence = {fmt::format("nvmlDeviceGetTotalEccErrors(UNCORRECTED, VOLATILE): {}",
                              *g.ecc_uncorrected_volatile)};
    if (g.ecc_uncorrected_aggregate)
      f.evidence.push_back(fmt::format("nvmlDeviceGetTotalEccErrors(UNCORRECTED, AGGREGATE): {}",
                                       *g.ecc_uncorrected_aggregate));
    out.push_back(std::move(f));
  }
  bool failed = g.remap_failed && *g.remap_failed;
  bool pending = g.remap_pending && *g.remap_pending;
  if (failed || pending) {
    Finding f = AboutGpu(g, "row-remap-pending-or-failed");
    f.severity = failed ? Severity::kError : Severity::kWarning;
    f.vars["state"] = failed ? "a row remapping has failed" : "a row remapping is pending";
    f.evidence = {fmt::format(
        "nvmlDeviceGetRemappedRows: correctable {}, uncorrectable {}, pending {}, failure {}",
        Count(g.remapped_rows_correctable), Count(g.remapped_rows_uncorrectable),
        pending ? "yes" : "no", failed ? "yes" : "no")};
    out.push_back(std::move(f));
  }
  if (g.retired_pages_pending && *g.retired_pages_pending) {
    Finding f = AboutGpu(g, "retired-pages-pending");
    f.evidence = {"nvmlDeviceGetRetiredPagesPendingStatus: pending"};
    if (g.retired_pages_sbe && g.retired_pages_dbe)
      f.evidence.push_back(fmt::format("nvmlDeviceGetRetiredPages: {} single-bit, {} double-bit",
                                       *g.retired_pages_sbe, *g.retired_pages_dbe));
    out.push_back(std::move(f));
  }
}

void ModeRules(const GpuFacts& g, Findings& out) {
  if (g.mig_enabled && *g.mig_enabled && g.mig_devices && *g.mig_devices == 0) {
    Finding f = AboutGpu(g, "mig-enabled-no-instances");
    f.evidence = {"nvmlDeviceGetMigMode: current enabled",
                  "nvmlDeviceGetMigDeviceHandleByIndex: no MIG device exists"};
    out.push_back(std::move(f));
  }
  if (g.compute_mode && *g.compute_mode != ComputeMode::kDefault) {
    Finding f = AboutGpu(g, "compute-mode-restricted");
    f.severity =
        *g.compute_mode == ComputeMode::kProhibited ? Severity::kError : Severity::kWarning;
    f.vars["mode"] = ComputeModeName(*g.compute_mode);
    f.evidence = {std::string("nvmlDeviceGetComputeMode: ") + ComputeModeName(*g.compute_mode)};
    out.push_back(std::move(f));
  }
}

}  // namespace

// Runs after the user-space driver rules, so that a bus loss NVML already reported is merged.
void GpuHealthRules(const Inventory& inv, Findings& out) {
  XidRules(inv, out);
  for (const GpuFacts& g : NvmlGpus(inv)) {
    if (g.handle_code == 15) {  // NVML_ERROR_GPU_IS_LOST
      std::string address =
          AddressOf(g).empty() ? "index " + std::to_string(g.index) : AddressOf(g);
      BusLoss(
          out, address,
          {fmt::format("nvmlDeviceGetHandleByIndex({}): 15 (NVML_ERROR_GPU_IS_LOST)", g.index)});
      continue;
    }
    MemoryErrorRules(g, out);
    ModeRules(g, out);
  }
}

}  // namespace dlrig
