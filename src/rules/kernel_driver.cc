// kernel driver layer rules: is nvidia.ko loaded for every NVIDIA GPU, and if not, why.
#include <fmt/format.h>

#include "rules/facts.h"
#include "rules/rules.h"

namespace dlrig {
namespace {

// Unknown (unreadable or malformed), or no node at all, not even nvidiactl: a different
// problem than this one node missing, so do not claim it.
bool HasDevice(const KernelDriverFacts& k, const std::string& path) {
  return !k.devices || k.devices->empty() || DeviceNodeListed(k, path);
}

void InTreeDriverBound(const Inventory& inv, Findings& out) {
  for (const PciDevice* d : NvidiaGpus(inv)) {
    if (!d->driver || (*d->driver != "nouveau" && *d->driver != "nova_core")) continue;
    std::vector<std::string> evidence = {"/sys/bus/pci/devices/" + d->address + "/driver: " +
                                         *d->driver};
    for (const auto& e : inv.kernel_driver.nouveau.evidence) evidence.push_back(e);
    if (!inv.kernel_driver.nouveau.blacklisted) evidence.push_back("no 'blacklist nouveau' found");
    out.push_back({.id = "nouveau-or-nova-bound", .subject = "GPU " + d->address,
                   .evidence = evidence,
                   .vars = {{"address", d->address}, {"driver", *d->driver}}});
  }
}

// No nvidia module loaded although an NVIDIA GPU is present: say the most specific reason.
void ModuleNotLoaded(const Inventory& inv, Findings& out) {
  const auto& k = inv.kernel_driver;
  if (NvidiaGpus(inv).empty() || k.proc_version || k.proc_version.error().kind != ErrorKind::kNotFound)
    return;
  // Inside a container the host's module is out of sight: the container rules judge it.
  if (inv.host.virt.container) return;
  std::string kernel = k.running_kernel.value_or("?");
  // Only a readable /lib/modules/<running kernel> without nvidia.ko proves the module is absent
  // (a container or a capture may simply not carry that directory).
  if (k.module_files && k.module_files->empty()) {
    std::vector<std::string> evidence = {"/lib/modules/" + kernel + ": no nvidia.ko"};
    if (k.dkms)
      for (const auto& b : *k.dkms)
        evidence.push_back(fmt::format("dkms: {} {} built for kernel {}", b.module, b.version,
                                       b.kernel));
    out.push_back({.id = "kernel-upgrade-without-dkms", .subject = "kernel " + kernel,
                   .evidence = evidence, .vars = {{"kernel", kernel}}});
    return;
  }
  if (k.secure_boot && *k.secure_boot == SecureBoot::kEnabled) {
    out.push_back({.id = "secure-boot-unsigned-module", .subject = "kernel " + kernel,
                   .evidence = {k.secure_boot_source + ": Secure Boot enabled",
                                "/proc/driver/nvidia/version: absent (module not loaded)"},
                   .vars = {{"kernel", kernel}}});
    return;
  }
  out.push_back({.id = "nvidia-driver-not-loaded", .subject = "kernel " + kernel,
                 .evidence = {"/proc/driver/nvidia/version: " + k.proc_version.error().message},
                 .vars = {{"kernel", kernel}}});
}

void UvmMissing(const Inventory& inv, Findings& out) {
  const auto& k = inv.kernel_driver;
  if (!k.proc_version || HasDevice(k, "/dev/nvidia-uvm")) return;
  out.push_back({.id = "nvidia-uvm-missing-or-stale", .subject = "/dev/nvidia-uvm",
                 .evidence = {"/dev/nvidia-uvm: absent (" + k.devices_source + ")"}});
}

// The loaded module and the user-space libraries the loader picks must be the same version.
void VersionMismatch(const Inventory& inv, Findings& out) {
  auto loaded = LoadedDriverVersion(inv);
  if (!loaded) return;
  for (const char* soname : {"libnvidia-ml.so.1", "libcuda.so.1"}) {
    const DriverLibraryFile* f = LoaderPickFile(inv, soname);
    if (f == nullptr || f->kind != DriverFileKind::kDriver || !f->version || *f->version == *loaded)
      continue;
    out.push_back({.id = "nvml-driver-library-mismatch", .subject = soname,
                   .evidence = {"/proc/driver/nvidia/version: " + *loaded,
                                f->path + " -> " + f->real_path.value_or("?")},
                   .vars = {{"kernel_version", *loaded}, {"library_version", *f->version}}});
    return;
  }
  if (inv.user_driver.query && QueryCode(inv.user_driver.query->nvml, "nvmlInit_v2") == 18)
    out.push_back({.id = "nvml-driver-library-mismatch", .subject = "libnvidia-ml.so.1",
                   .evidence = {"nvmlInit_v2: 18 (NVML_ERROR_LIB_RM_VERSION_MISMATCH)"},
                   .vars = {{"kernel_version", *loaded}, {"library_version", "?"}}});
}

}  // namespace

void KernelDriverRules(const Inventory& inv, Findings& out) {
  InTreeDriverBound(inv, out);
  ModuleNotLoaded(inv, out);
  UvmMissing(inv, out);
  VersionMismatch(inv, out);
}

}  // namespace dlrig
