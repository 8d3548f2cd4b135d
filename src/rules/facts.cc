#include "rules/facts.h"

namespace dlrig {

std::vector<const PciDevice*> NvidiaGpus(const Inventory& inv) {
  std::vector<const PciDevice*> gpus;
  if (inv.pci.devices)
    for (const auto& d : *inv.pci.devices)
      if (d.IsGpu()) gpus.push_back(&d);
  return gpus;
}

std::optional<std::string> LoadedDriverVersion(const Inventory& inv) {
  if (inv.kernel_driver.proc_version) return inv.kernel_driver.proc_version->version;
  return std::nullopt;
}

std::optional<int> QueryCode(const LibraryAnswers& answers, const std::string& function) {
  for (const auto& c : answers.calls)
    if (c.function == function) return c.code;
  return std::nullopt;
}

std::optional<int> DriverCudaVersion(const Inventory& inv) {
  const auto& q = inv.user_driver.query;
  if (!q) return std::nullopt;
  if (q->cuda.cuda_driver_version) return *q->cuda.cuda_driver_version;
  if (q->nvml.cuda_driver_version) return *q->nvml.cuda_driver_version;
  return std::nullopt;
}

const DriverLibraryFile* LoaderPickFile(const Inventory& inv, const std::string& soname) {
  for (const auto& pick : inv.user_driver.picks) {
    if (pick.soname != soname || !pick.resolution.path) continue;
    for (const auto& f : inv.user_driver.files)
      if (f.path == *pick.resolution.path) return &f;
  }
  return nullptr;
}

}  // namespace dlrig
