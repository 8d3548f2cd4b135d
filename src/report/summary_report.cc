#include "report/summary_report.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/version.h"
#include "rules/facts.h"

namespace dlrig {
namespace {

// The driver's model name when it knows the GPU, else the pci.ids name.
std::string GpuName(const PciDevice& d, const KernelDriverFacts& k) {
  if (k.gpus)
    for (auto& g : *k.gpus)
      if (g.bus_id == d.address && !g.model.empty()) return g.model;
  return d.name;
}

SummaryLine Gpus(const PciFacts& pci, const KernelDriverFacts& k) {
  if (!pci.devices) return {"gpus", "unknown: " + pci.devices.error().message, true};
  std::vector<std::string> gpus;
  for (auto& d : *pci.devices)
    if (d.IsGpu()) gpus.push_back(GpuName(d, k) + " (" + d.address + ")");
  std::string unread = pci.unreadable.empty()
                           ? ""
                           : fmt::format(" ({} PCI device{} unreadable, maybe more)",
                                         pci.unreadable.size(),
                                         pci.unreadable.size() == 1 ? "" : "s");
  if (gpus.empty()) {
    if (!unread.empty()) return {"gpus", "unknown: no NVIDIA GPU read" + unread, true};
    return {"gpus", "no NVIDIA GPU on the PCI bus", true};
  }
  return {"gpus",
          fmt::format("{} NVIDIA GPU{}: {}{}", gpus.size(), gpus.size() == 1 ? "" : "s",
                      fmt::join(gpus, ", "), unread),
          !unread.empty()};
}

SummaryLine KernelDriver(const KernelDriverFacts& k) {
  if (!k.proc_version) {
    std::string why = k.proc_version.error().kind == ErrorKind::kNotFound
                          ? "no NVIDIA kernel driver loaded (no /proc/driver/nvidia/version)"
                          : "unknown: " + k.proc_version.error().message;
    return {"driver", why, true};
  }
  return {"driver", fmt::format("{} ({} kernel module)", k.proc_version->version,
                                k.proc_version->open_module ? "open" : "proprietary")};
}

SummaryLine DriverCuda(const Inventory& inv) {
  const UserDriverFacts& u = inv.user_driver;
  if (auto cuda = DriverCudaVersion(inv)) {
    bool from_cuda = u.query && u.query->cuda.cuda_driver_version;
    return {"driver_cuda", "supports CUDA " + CudaVersionFromInt(*cuda) +
                               (from_cuda ? " (cuDriverGetVersion)" : " (NVML)")};
  }
  for (auto& pick : u.picks)
    if (pick.soname == "libcuda.so.1" && !pick.resolution.path)
      return {"driver_cuda", "libcuda.so.1 not found by the loader", true};
  if (!u.query) return {"driver_cuda", "not asked: " + u.query.error().message};
  const auto& calls = u.query->cuda.calls;
  return {"driver_cuda",
          "libcuda did not answer: " + (calls.empty() ? std::string("no call made")
                                                      : calls.back().function + ": " +
                                                            calls.back().message),
          true};
}

SummaryLine Toolkits(const ToolkitFacts& t) {
  std::vector<std::string> items;
  for (auto& tk : t.toolkits)
    items.push_back(fmt::format("{} {}", tk.version ? *tk.version : "version ?", tk.path));
  if (items.empty()) return {"toolkits", "no CUDA toolkit outside Python environments"};
  return {"toolkits", fmt::format("{}", fmt::join(items, "; "))};
}

SummaryLine Frameworks(const PythonFacts& p) {
  std::vector<std::string> items;
  for (auto& env : p.envs)
    for (auto& fw : env.frameworks) {
      std::string cuda = !fw.built_for_cuda ? "CUDA ?"
                         : fw.built_for_cuda->empty() ? "CPU only"
                                                      : "CUDA " + *fw.built_for_cuda;
      items.push_back(fmt::format("{} {} ({}) in {}", fw.name, fw.version.value_or("?"), cuda,
                                  env.prefix));
    }
  if (items.empty())
    return {"frameworks", fmt::format("none found in {} Python environment{}", p.envs.size(),
                                      p.envs.size() == 1 ? "" : "s")};
  return {"frameworks", fmt::format("{}", fmt::join(items, "; "))};
}

}  // namespace

std::vector<SummaryLine> Summarize(const Inventory& inv) {
  return {Gpus(inv.pci, inv.kernel_driver), KernelDriver(inv.kernel_driver), DriverCuda(inv),
          Toolkits(inv.toolkits), Frameworks(inv.python)};
}

void RenderSummary(TextWriter& out, const Inventory& inv) {
  out.Section("summary");
  for (auto& line : Summarize(inv)) {
    std::string label = line.key;
    std::replace(label.begin(), label.end(), '_', ' ');
    out.Item(label, line.text, line.missing ? Colour::kYellow : Colour::kNone);
  }
}

json SummaryJson(const Inventory& inv) {
  json j = json::object();
  for (auto& line : Summarize(inv)) j[line.key] = {{"text", line.text}, {"missing", line.missing}};
  return j;
}

}  // namespace dlrig
