#include "probe/inventory.h"

namespace dlrig {

Inventory CollectInventory(const ProbeContext& ctx) {
  Inventory inv;
  inv.root = ctx.root.dir();
  inv.host = ProbeHost(ctx);
  inv.pci = ProbePci(ctx);
  // [collect] (one line per probe, layer order)
  inv.kernel_driver = ProbeKernelDriver(ctx);
  inv.loader = ProbeLoaderConfig(ctx);
  inv.user_driver = ProbeUserDriver(ctx, inv.loader);
  inv.dpkg = ProbeDpkg(ctx);
  inv.toolkits = ProbeToolkits(ctx, inv.dpkg);
  inv.libraries = ProbeLibraries(ctx, inv.loader, inv.dpkg);
  inv.python = ProbePython(ctx);
  inv.containers = ProbeContainers(ctx);
  inv.shell = ProbeShell(ctx);
  return inv;
}

}  // namespace dlrig
