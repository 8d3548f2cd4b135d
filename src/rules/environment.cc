// containers and shell layer rules.
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "core/strings.h"
#include "core/version.h"
#include "rules/facts.h"
#include "rules/rules.h"

namespace dlrig {
namespace {

constexpr uint64_t kMinShmBytes = 1ull << 30;  // PyTorch DataLoader workers and NCCL use it


bool HasNvidiaRuntime(const ContainerFacts& c) {
  auto has = [](const std::vector<std::string>& rs) {
    return std::find(rs.begin(), rs.end(), "nvidia") != rs.end();
  };
  return (c.daemon && has(c.daemon->runtimes)) || (c.daemon_json && has(c.daemon_json->runtimes));
}

// Inside a container: was it started with GPUs, with the compute capability, and does the
// image's CUDA requirement hold on the host driver?
void InsideContainer(const Inventory& inv, Findings& out) {
  if (!inv.host.virt.container) return;
  std::string kind = inv.host.virt.container_kind.empty() ? "container" : inv.host.virt.container_kind;
  auto visible = Lookup(inv.shell.variables, "NVIDIA_VISIBLE_DEVICES");
  bool asked = (visible && *visible != "void" && *visible != "none" && !visible->empty()) ||
               !NvidiaGpus(inv).empty();
  if (!asked || !inv.kernel_driver.devices) return;
  if (!DeviceNodeListed(inv.kernel_driver, "/dev/nvidiactl")) {
    std::vector<std::string> evidence = {"inside a " + kind + " (" +
                                             fmt::format("{}", fmt::join(inv.host.virt.evidence, "; ")) + ")",
                                         "/dev/nvidiactl: absent (" + inv.kernel_driver.devices_source + ")"};
    if (visible) evidence.push_back("NVIDIA_VISIBLE_DEVICES=" + *visible);
    out.push_back({.id = "container-started-without-gpus", .subject = kind, .evidence = evidence,
                   .vars = {{"kind", kind}}});
    return;
  }
  auto caps = Lookup(inv.shell.variables, "NVIDIA_DRIVER_CAPABILITIES");
  const LoaderPick* libcuda = FindPick(inv, "libcuda.so.1");
  if (caps && !Contains(*caps, "compute") && !Contains(*caps, "all") && libcuda &&
      !libcuda->resolution.path)
    out.push_back({.id = "container-capabilities-missing-compute", .subject = kind,
                   .evidence = {"NVIDIA_DRIVER_CAPABILITIES=" + *caps,
                                "libcuda.so.1: " + libcuda->resolution.path.error().message},
                   .vars = {{"caps", *caps}}});
  auto require = Lookup(inv.shell.variables, "NVIDIA_REQUIRE_CUDA");
  auto driver = DriverCudaVersion(inv);
  if (!require || !driver || Lookup(inv.shell.variables, "NVIDIA_DISABLE_REQUIRE")) return;
  // "cuda>=12.8 brand=tesla,driver>=470,driver<471 ...": the cuda clause is what fails.
  for (const auto& clause : Split(*require, ' ')) {
    if (!StartsWith(clause, "cuda>=")) continue;
    auto need = Version::Parse(clause.substr(6));
    auto have = Version::Parse(CudaVersionFromInt(*driver));
    if (!need || !have || *have >= *need) continue;
    out.push_back({.id = "container-require-cuda-unsatisfied", .subject = kind,
                   .evidence = {"NVIDIA_REQUIRE_CUDA=" + *require,
                                "driver supports CUDA " + have->MajorMinor()},
                   .vars = {{"need", need->MajorMinor()}, {"have", have->MajorMinor()}}});
  }
}

// RemoveIPC=yes deletes a regular user's shared memory at their last logout: NCCL jobs left
// running from an SSH session lose /dev/shm/nccl-*. Advice, not an error: nothing is broken yet.
void RemoveIpc(const Inventory& inv, Findings& out) {
  const LogindFacts& l = inv.logind;
  if (!l.present || !l.remove_ipc || !*l.remove_ipc || !l.uid || *l.uid <= l.sys_uid_max ||
      l.lingering || inv.host.virt.container || NvidiaGpus(inv).empty())
    return;
  out.push_back({.id = "logind-removeipc-deletes-shm", .subject = l.user,
                 .evidence = {"RemoveIPC=yes: " + l.remove_ipc_source,
                              fmt::format("user {} has uid {} (> SYS_UID_MAX {}) and does not linger",
                                          l.user, *l.uid, l.sys_uid_max)},
                 .vars = {{"user", l.user}}});
}

}  // namespace

void ContainerRules(const Inventory& inv, Findings& out) {
  InsideContainer(inv, out);
  const ContainerFacts& c = inv.containers;
  if (NvidiaGpus(inv).empty() || !c.docker_client || !c.daemon) return;
  bool cdi = false;
  for (const auto& spec : c.cdi_specs) cdi |= spec && StartsWith(spec->kind, "nvidia.com/");
  if (HasNvidiaRuntime(c) || cdi) return;
  out.push_back({.id = "docker-gpu-driver-not-registered", .subject = "docker",
                 .evidence = {"docker runtimes: " + fmt::format("{}", fmt::join(c.daemon->runtimes, ", ")),
                              "no CDI spec for nvidia.com/gpu in /etc/cdi or /var/run/cdi"}});
}


void ShellRules(const Inventory& inv, Findings& out) {
  RemoveIpc(inv, out);
  for (const auto& line : inv.shell.startup_lines) {
    if (line.kind != "conda-init" || !Contains(line.text, ">>> conda initialize")) continue;
    out.push_back({.id = "conda-init-in-shell-startup", .subject = line.file,
                   .evidence = {fmt::format("{}:{}: {}", line.file, line.line, line.text)},
                   .vars = {{"file", line.file}}});
    break;
  }
  auto gpus = NvidiaGpus(inv);
  if (gpus.empty()) return;
  if (auto cvd = Lookup(inv.shell.variables, "CUDA_VISIBLE_DEVICES")) {
    std::string why;
    if (Trim(*cvd).empty()) why = "empty: hides every GPU";
    else if (*cvd == "-1" || *cvd == "NoDevFiles") why = "'" + *cvd + "' hides every GPU";
    for (const auto& item : Split(*cvd, ',')) {
      auto index = ParseInt(item);
      if (why.empty() && index && *index >= static_cast<long long>(gpus.size()))
        why = fmt::format("index {} but only {} GPU(s)", *index, gpus.size());
    }
    if (!why.empty())
      out.push_back({.id = "cuda-visible-devices-misconfigured", .subject = "CUDA_VISIBLE_DEVICES",
                     .evidence = {"CUDA_VISIBLE_DEVICES=" + *cvd + " (" + why + ")"},
                     .vars = {{"value", *cvd}, {"why", why}}});
  }
  if (inv.host.dev_shm && inv.host.dev_shm->size_bytes && *inv.host.dev_shm->size_bytes < kMinShmBytes)
    out.push_back({.id = "dev-shm-too-small", .subject = "/dev/shm",
                   .evidence = {"/dev/shm: " + HumanBytes(*inv.host.dev_shm->size_bytes)},
                   .vars = {{"size", HumanBytes(*inv.host.dev_shm->size_bytes)}}});
  std::set<unsigned> models;
  for (const PciDevice* d : gpus) models.insert(d->device_id);
  auto order = Lookup(inv.shell.variables, "CUDA_DEVICE_ORDER");
  if (models.size() > 1 && order.value_or("") != "PCI_BUS_ID")
    out.push_back({.id = "cuda-device-order-mismatch", .subject = "CUDA_DEVICE_ORDER",
                   .evidence = {fmt::format("{} GPU models on the bus", models.size()),
                                "CUDA_DEVICE_ORDER=" + order.value_or("(unset: FASTEST_FIRST)")}});
}

}  // namespace dlrig
