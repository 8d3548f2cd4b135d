// The Inventory: every fact dlrig gathered, layer by layer. Plain data, no judgement.
#pragma once

#include <string>
#include <vector>

#include "probe/containers.h"
#include "probe/dpkg.h"
#include "probe/host.h"
#include "probe/kernel_driver.h"
#include "probe/kernel_log.h"
#include "probe/ldconfig.h"
#include "probe/libs.h"
#include "probe/logind.h"
#include "probe/pci.h"
#include "probe/python.h"
#include "probe/shell.h"
#include "probe/toolkit.h"
#include "probe/user_driver.h"

namespace dlrig {

struct Inventory {
  std::string root;  ///< "/" or the --root directory
  std::vector<std::pair<std::string, double>> timings_ms;  ///< wall time of each probe
  // hardware
  HostFacts host;
  PciFacts pci;
  KernelLogFacts kernel_log;  ///< Xid events of this boot
  // kernel driver
  KernelDriverFacts kernel_driver;
  // user-space driver
  LoaderConfig loader;  ///< shared by the user-space driver, libraries and python probes
  UserDriverFacts user_driver;
  // toolkits and libraries
  DpkgFacts dpkg;  ///< shared by the toolkits and libraries probes
  ToolkitFacts toolkits;
  LibraryFacts libraries;
  // python
  PythonFacts python;
  // containers
  ContainerFacts containers;
  // shell
  ShellFacts shell;
  LogindFacts logind;
};

/// Runs every probe through `ctx`; never throws, every unreadable fact is an error value.
Inventory CollectInventory(const ProbeContext& ctx);

}  // namespace dlrig
