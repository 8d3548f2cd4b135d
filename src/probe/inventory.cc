#include "probe/inventory.h"

#include <chrono>
#include <optional>

namespace dlrig {
namespace {

// Runs `probe` and records its wall time under `name`.
template <class F>
auto Timed(Inventory& inv, const char* name, F probe) {
  auto start = std::chrono::steady_clock::now();
  auto result = probe();
  std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - start;
  inv.timings_ms.emplace_back(name, took.count());
  return result;
}

}  // namespace

Inventory CollectInventory(const ProbeContext& ctx) {
  Inventory inv;
  inv.root = ctx.root.dir();
  // The driver query child starts first so driver initialisation overlaps the file probes.
  std::optional<PendingDriverQuery> query;
  if (ctx.root.IsHost() && ctx.load_libraries)
    query.emplace(PendingDriverQuery::Start(DriverQueryOptionsFor(ctx)));
  inv.host = Timed(inv, "host", [&] { return ProbeHost(ctx); });
  inv.pci = Timed(inv, "pci", [&] { return ProbePci(ctx); });
  inv.kernel_driver = Timed(inv, "kernel_driver", [&] { return ProbeKernelDriver(ctx); });
  inv.kernel_log = Timed(inv, "kernel_log", [&] { return ProbeKernelLog(ctx); });
  inv.loader = Timed(inv, "loader", [&] { return ProbeLoaderConfig(ctx); });
  inv.dpkg = Timed(inv, "dpkg", [&] { return ProbeDpkg(ctx); });
  inv.toolkits = Timed(inv, "toolkits", [&] { return ProbeToolkits(ctx, inv.dpkg); });
  inv.libraries =
      Timed(inv, "libraries", [&] { return ProbeLibraries(ctx, inv.loader, inv.dpkg); });
  inv.python = Timed(inv, "python", [&] { return ProbePython(ctx, inv.loader); });
  inv.containers = Timed(inv, "containers", [&] { return ProbeContainers(ctx); });
  inv.shell = Timed(inv, "shell", [&] { return ProbeShell(ctx); });
  inv.logind = Timed(inv, "logind", [&] { return ProbeLogind(ctx); });
  // Last: it collects the driver query's answers (waiting for them if need be).
  inv.user_driver = Timed(inv, "user_driver", [&] {
    return ProbeUserDriver(ctx, inv.loader, query ? &*query : nullptr);
  });
  return inv;
}

}  // namespace dlrig
