// The Inventory: every fact dlrig gathered, layer by layer. Plain data, no judgement.
#pragma once

#include <string>
#include <vector>

#include "probe/containers.h"
#include "probe/host.h"
#include "probe/pci.h"
#include "probe/shell.h"
// [inventory-includes] (one line per probe header, keep sorted)

namespace dlrig {

struct Inventory {
  std::string root;  ///< "/" or the --root directory
  // hardware
  HostFacts host;
  PciFacts pci;
  // [inventory-members] (layer order: kernel driver, user-space driver, toolkits, libraries, python)
  // containers
  ContainerFacts containers;
  // shell
  ShellFacts shell;
};

/// Runs every probe named in `enabled` ("all" or a list; "-name" switches one off).
Inventory CollectInventory(const ProbeContext& ctx);

}  // namespace dlrig
