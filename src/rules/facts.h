// Small questions many rules ask of the Inventory.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "probe/inventory.h"

namespace dlrig {

/// NVIDIA GPUs (display/3D class) on the PCI bus; empty when unknown.
std::vector<const PciDevice*> NvidiaGpus(const Inventory& inv);
/// The loaded kernel module's version ("580.159.04"), when /proc/driver/nvidia/version says.
std::optional<std::string> LoadedDriverVersion(const Inventory& inv);
/// The return code of the first call named `function` in the driver query's answers.
std::optional<int> QueryCode(const LibraryAnswers& answers, const std::string& function);
/// The CUDA version the driver supports (cuDriverGetVersion, else NVML), as CUDA's integer.
std::optional<int> DriverCudaVersion(const Inventory& inv);
/// The driver library file the loader would open for `soname`, when known.
const DriverLibraryFile* LoaderPickFile(const Inventory& inv, const std::string& soname);

}  // namespace dlrig
