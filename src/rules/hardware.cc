// hardware layer rules.
#include <fmt/format.h>

#include "rules/facts.h"
#include "rules/rules.h"

namespace dlrig {

// A link that trained narrower than the card and slot allow. A lower *speed* alone is not
// reported: GPUs drop to Gen1 when idle to save power.
void HardwareRules(const Inventory& inv, Findings& out) {
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
