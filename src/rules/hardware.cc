// hardware layer rules.
#include <fmt/format.h>

#include "rules/facts.h"
#include "rules/rules.h"

namespace dlrig {

namespace {

// The PCI devices could not be listed or read (a wrong --root, an unreadable /sys, a tree of
// FIFOs): whether there is a GPU is unknown, so no later rule can speak and "no problems
// found" would be a guess. Names every basic source that failed, so the cause is plain.
void UnreadableMachine(const Inventory& inv, Findings& out) {
  if (inv.pci.devices) return;
  std::vector<std::string> evidence = {"PCI devices: " + inv.pci.devices.error().message};
  auto add = [&evidence](const char* what, const auto& fact) {
    if (!fact) evidence.push_back(std::string(what) + ": " + fact.error().message);
  };
  add("OS", inv.host.os);
  add("kernel", inv.host.kernel);
  add("CPU", inv.host.cpu);
  add("memory", inv.host.memory);
  if (!inv.kernel_driver.proc_version &&
      inv.kernel_driver.proc_version.error().kind != ErrorKind::kNotFound)
    add("NVIDIA kernel driver", inv.kernel_driver.proc_version);
  bool host = inv.root.empty() || inv.root == "/";
  out.push_back({.id = "machine-unreadable",
                 .evidence = evidence,
                 .vars = {{"machine", host ? "this machine" : "the tree at " + inv.root},
                          {"prefix", host ? "" : inv.root}}});
}

}  // namespace

// A link that trained narrower than the card and slot allow. A lower *speed* alone is not
// reported: GPUs drop to Gen1 when idle to save power.
void HardwareRules(const Inventory& inv, Findings& out) {
  UnreadableMachine(inv, out);
  for (const PciDevice* d : NvidiaGpus(inv)) {
    if (!d->link_now.width || !d->link_max.width || *d->link_now.width >= *d->link_max.width ||
        *d->link_now.width <= 0)
      continue;
    std::string dev = "/sys/bus/pci/devices/" + d->address;
    out.push_back({.id = "pcie-link-degraded",
                   .subject = "GPU " + d->address,
                   .evidence = {fmt::format("{}/current_link_width: {}", dev, *d->link_now.width),
                                fmt::format("{}/max_link_width: {}", dev, *d->link_max.width)},
                   .vars = {{"address", d->address},
                            {"width_now", std::to_string(*d->link_now.width)},
                            {"width_max", std::to_string(*d->link_max.width)}}});
  }
}

}  // namespace dlrig
