#include "probe/inventory.h"

namespace dlrig {

Inventory CollectInventory(const ProbeContext& ctx) {
  Inventory inv;
  inv.root = ctx.root.dir();
  inv.host = ProbeHost(ctx);
  inv.pci = ProbePci(ctx);
  // [collect] (one line per probe, layer order)
  inv.containers = ProbeContainers(ctx);
  inv.shell = ProbeShell(ctx);
  return inv;
}

}  // namespace dlrig
