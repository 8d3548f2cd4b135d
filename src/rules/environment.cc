// containers and shell layer rules.
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "core/strings.h"
#include "rules/facts.h"
#include "rules/rules.h"

namespace dlrig {
namespace {

constexpr uint64_t kMinShmBytes = 1ull << 30;  // PyTorch DataLoader workers and NCCL use it

std::optional<std::string> Variable(const ShellFacts& s, const std::string& name) {
  for (const auto& [k, v] : s.variables)
    if (k == name) return v;
  return std::nullopt;
}

bool HasNvidiaRuntime(const ContainerFacts& c) {
  auto has = [](const std::vector<std::string>& rs) {
    return std::find(rs.begin(), rs.end(), "nvidia") != rs.end();
  };
  return (c.daemon && has(c.daemon->runtimes)) || (c.daemon_json && has(c.daemon_json->runtimes));
}

}  // namespace

void ContainerRules(const Inventory& inv, Findings& out) {
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
  for (const auto& line : inv.shell.startup_lines) {
    if (line.kind != "conda-init" || !Contains(line.text, ">>> conda initialize")) continue;
    out.push_back({.id = "conda-init-in-shell-startup", .subject = line.file,
                   .evidence = {fmt::format("{}:{}: {}", line.file, line.line, line.text)},
                   .vars = {{"file", line.file}}});
    break;
  }
  auto gpus = NvidiaGpus(inv);
  if (gpus.empty()) return;
  if (auto cvd = Variable(inv.shell, "CUDA_VISIBLE_DEVICES")) {
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
  auto order = Variable(inv.shell, "CUDA_DEVICE_ORDER");
  if (models.size() > 1 && order.value_or("") != "PCI_BUS_ID")
    out.push_back({.id = "cuda-device-order-mismatch", .subject = "CUDA_DEVICE_ORDER",
                   .evidence = {fmt::format("{} GPU models on the bus", models.size()),
                                "CUDA_DEVICE_ORDER=" + order.value_or("(unset: FASTEST_FIRST)")}});
}

}  // namespace dlrig
