// The Inventory: every fact dlrig gathered, layer by layer. Plain data, no judgement.
#pragma once

#include <string>
#include <vector>

#include "probe/containers.h"
#include "probe/host.h"
#include "probe/pci.h"
#include "probe/shell.h"
#include "probe/python.h"
// [inventory-includes] (one line per probe header, keep sorted)
#include "probe/dpkg.h"
#include "probe/kernel_driver.h"
#include "probe/ldconfig.h"
#include "probe/libs.h"
#include "probe/toolkit.h"
#include "probe/user_driver.h"

namespace dlrig {

struct Inventory {
  std::string root;  ///< "/" or the --root directory
  // hardware
  HostFacts host;
  PciFacts pci;
  // [inventory-members] (layer order: kernel driver, user-space driver, toolkits, libraries, python)
  KernelDriverFacts kernel_driver;
  LoaderConfig loader;  ///< shared by the user-space driver and libraries probes
  UserDriverFacts user_driver;
  DpkgFacts dpkg;  ///< shared by the toolkits and libraries probes
  ToolkitFacts toolkits;
  LibraryFacts libraries;
  PythonFacts python;
  // containers
  ContainerFacts containers;
  // shell
  ShellFacts shell;
};

/// Runs every probe named in `enabled` ("all" or a list; "-name" switches one off).
Inventory CollectInventory(const ProbeContext& ctx);

}  // namespace dlrig
