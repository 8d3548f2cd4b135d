// hardware layer in the doctor report: host facts and NVIDIA PCI devices.
#pragma once

#include "probe/host.h"
#include "probe/pci.h"
#include "report/json_util.h"
#include "report/text.h"

namespace dlrig {

void RenderHardware(TextWriter& out, const HostFacts& host, const PciFacts& pci);
json HostJson(const HostFacts& host);
json PciJson(const PciFacts& pci);

}  // namespace dlrig
