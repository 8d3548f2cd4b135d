// user-space driver layer rules: which libcuda the loader picks and what the driver answered.
#include <fmt/format.h>

#include "core/strings.h"
#include "rules/facts.h"
#include "rules/rules.h"

namespace dlrig {
namespace {

void WrongLibcuda(const Inventory& inv, Findings& out) {
  const DriverLibraryFile* f = LoaderPickFile(inv, "libcuda.so.1");
  if (f == nullptr) return;
  std::string evidence = "loader picks " + f->path + " -> " + f->real_path.value_or("?");
  if (f->kind == DriverFileKind::kStub)
    out.push_back({.id = "libcuda-stub-library", .subject = f->path, .evidence = {evidence},
                   .vars = {{"path", f->path}}});
  if (f->kind == DriverFileKind::kCompat)
    out.push_back({.id = "cuda-compat-forward-compat-803-804", .subject = f->path,
                   .evidence = {evidence}, .vars = {{"path", f->path}}});
}

void LibcudaNotFound(const Inventory& inv, Findings& out) {
  if (NvidiaGpus(inv).empty() || !LoadedDriverVersion(inv)) return;
  const LoaderPick* pick = FindPick(inv, "libcuda.so.1");
  if (pick == nullptr || pick->resolution.path) return;
  out.push_back({.id = "libcuda-not-found", .subject = "libcuda.so.1",
                 .evidence = {"libcuda.so.1: " + pick->resolution.path.error().message},
                 .vars = {{"driver", *LoadedDriverVersion(inv)}}});
}

// Return codes of nvmlInit / cuInit that name a cause by themselves.
void DriverAnswers(const Inventory& inv, Findings& out) {
  if (!inv.user_driver.query) return;
  const DriverQuery& q = *inv.user_driver.query;
  auto nvml = QueryCode(q.nvml, "nvmlInit_v2");
  if (!nvml) nvml = QueryCode(q.nvml, "nvmlInit");
  auto cu = QueryCode(q.cuda, "cuInit");
  if (nvml == 15)
    out.push_back({.id = "gpu-fallen-off-bus-xid79", .subject = "NVML",
                   .evidence = {"nvmlInit_v2: 15 (NVML_ERROR_GPU_IS_LOST)"}});
  if (cu == 34)
    out.push_back({.id = "libcuda-stub-library", .subject = "libcuda.so.1",
                   .evidence = {"cuInit: 34 (CUDA_ERROR_STUB_LIBRARY)"},
                   .vars = {{"path", q.cuda.loaded_path.value_or("libcuda.so.1")}}});
  // NVSwitch systems: CUDA refuses to start (802) until Fabric Manager has registered every
  // GPU in the fabric; NVML's fabric state says so per GPU even when cuInit was not asked.
  std::vector<std::string> fabric;
  if (cu == 802) fabric.push_back("cuInit: 802 (CUDA_ERROR_SYSTEM_NOT_READY)");
  for (const auto& g : q.nvml.devices)
    if (g.fabric_state && (*g.fabric_state == 1 || *g.fabric_state == 2))
      fabric.push_back(fmt::format("nvmlDeviceGetGpuFabricInfo: GPU {} fabric state {}", g.index,
                                   *g.fabric_state == 1 ? "not started" : "in progress"));
  if (!fabric.empty())
    out.push_back({.id = "fabric-manager-not-running", .subject = "fabric", .evidence = fabric});
  if (cu == 803 || cu == 804)
    out.push_back({.id = "cuda-compat-forward-compat-803-804", .subject = "cuInit",
                   .evidence = {fmt::format("cuInit: {} (loaded {})", *cu,
                                            q.cuda.loaded_path.value_or("?"))},
                   .vars = {{"path", q.cuda.loaded_path.value_or("libcuda.so.1")}}});
  if (cu == 999 && nvml == 0)
    out.push_back({.id = "nvidia-uvm-missing-or-stale", .subject = "cuInit",
                   .evidence = {"cuInit: 999 (CUDA_ERROR_UNKNOWN) while NVML initialises"}});
}

// WSL: the driver comes from Windows, mounted at /usr/lib/wsl/lib.
void Wsl(const Inventory& inv, Findings& out) {
  if (!inv.host.virt.wsl) return;
  // The unversioned name is only asked about when the WSL copy exists (user_driver probe).
  const LoaderPick* dev = FindPick(inv, "libcuda.so");
  if (dev != nullptr && !dev->resolution.path)
    out.push_back({.id = "wsl-libcuda-not-found-or-not-symlink", .subject = "libcuda.so",
                   .evidence = {"/usr/lib/wsl/lib/libcuda.so.1 exists",
                                "libcuda.so: " + dev->resolution.path.error().message}});
  const DriverLibraryFile* f = LoaderPickFile(inv, "libcuda.so.1");
  if (f == nullptr || f->kind != DriverFileKind::kDriver || StartsWith(f->path, "/usr/lib/wsl/"))
    return;  // the Windows driver's copy, or a stub (its own rule)
  std::vector<std::string> evidence = {"libcuda.so.1 -> " + f->real_path.value_or(f->path)};
  if (inv.dpkg.packages)
    for (const auto& p : *inv.dpkg.packages)
      if (p.installed && (StartsWith(p.name, "nvidia-driver-") ||
                          StartsWith(p.name, "libnvidia-compute-") || StartsWith(p.name, "cuda-drivers")))
        evidence.push_back("dpkg: " + p.name + " " + p.version);
  out.push_back({.id = "wsl-linux-driver-installed-inside-wsl", .subject = "libcuda.so.1",
                 .evidence = evidence, .vars = {{"path", f->path}}});
}

}  // namespace


void UserDriverRules(const Inventory& inv, Findings& out) {
  Wsl(inv, out);
  WrongLibcuda(inv, out);
  LibcudaNotFound(inv, out);
  DriverAnswers(inv, out);
}

}  // namespace dlrig
