#include "rules/facts.h"

#include <algorithm>

#include "core/strings.h"
#include "core/version.h"

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

bool DeviceNodeListed(const KernelDriverFacts& k, std::string_view path) {
  if (!k.devices) return false;
  for (const auto& n : *k.devices)
    if (n.path == path) return true;
  return false;
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

const LoaderPick* FindPick(const Inventory& inv, std::string_view soname) {
  for (const auto& pick : inv.user_driver.picks)
    if (pick.soname == soname) return &pick;
  return nullptr;
}

const DriverLibraryFile* LoaderPickFile(const Inventory& inv, const std::string& soname) {
  const LoaderPick* pick = FindPick(inv, soname);
  if (pick == nullptr || !pick->resolution.path) return nullptr;
  for (const auto& f : inv.user_driver.files)
    if (f.path == *pick->resolution.path) return &f;
  return nullptr;
}

// The toolkit the first nvcc on PATH belongs to.
const CudaToolkit* NvccToolkit(const ToolkitFacts& t) {
  if (t.nvcc_on_path.empty()) return nullptr;
  for (const auto& tk : t.toolkits) {
    if (tk.nvcc && *tk.nvcc == t.nvcc_on_path.front()) return &tk;
    for (const auto& alias : tk.aliases)
      if (JoinPath(alias, "bin/nvcc") == t.nvcc_on_path.front()) return &tk;
  }
  return nullptr;
}

// The toolkit extension builds would use: the first nvcc on PATH, else CUDA_HOME's.
const CudaToolkit* BuildToolkit(const ToolkitFacts& t) {
  if (const CudaToolkit* tk = NvccToolkit(t)) return tk;
  for (const auto& v : t.variables)
    for (const auto& tk : t.toolkits)
      if (v.value && (tk.path == *v.value ||
                      std::find(tk.aliases.begin(), tk.aliases.end(), *v.value) != tk.aliases.end()))
        return &tk;
  return nullptr;
}

std::string PinnedVersion(const PythonDist& dist, std::string_view prefix, std::string_view machine) {
  for (const DistRequirement& r : dist.requirements)
    if (StartsWith(r.name, prefix) && !r.exact.empty() && MarkerHoldsOnLinux(r.marker, machine))
      return r.exact;
  return "";
}

std::string NeededVersion(const Inventory& inv, const PythonEnv& env, const Framework& fw,
                          const LibraryLoad& load) {
  if (StartsWith(load.soname, "libcudart.so"))
    return fw.built_for_cuda ? *fw.built_for_cuda : "";
  const PythonDist* dist = FindDist(env, fw.name);
  if (dist == nullptr) return "";
  std::string machine = inv.host.machine.value_or("");
  if (StartsWith(load.soname, "libcudnn.so")) return PinnedVersion(*dist, "nvidia-cudnn-cu", machine);
  if (StartsWith(load.soname, "libnccl.so")) return PinnedVersion(*dist, "nvidia-nccl-cu", machine);
  return "";
}

bool OlderThan(const Result<std::string>& found, const std::string& needed) {
  if (!found || needed.empty()) return false;
  auto f = Version::Parse(*found);
  auto n = Version::Parse(needed);
  return f && n && *f < *n;
}

}  // namespace dlrig
