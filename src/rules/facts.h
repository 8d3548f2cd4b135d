// Small questions many rules ask of the Inventory.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "probe/inventory.h"

namespace dlrig {

/// NVIDIA GPUs (display/3D class) on the PCI bus; empty when unknown.
std::vector<const PciDevice*> NvidiaGpus(const Inventory& inv);
/// The loaded kernel module's version ("580.159.04"), when /proc/driver/nvidia/version says.
std::optional<std::string> LoadedDriverVersion(const Inventory& inv);
/// `path` ("/dev/nvidiactl") is among the device nodes read; false when they could not be read.
bool DeviceNodeListed(const KernelDriverFacts& k, std::string_view path);
/// The return code of the first call named `function` in the driver query's answers.
std::optional<int> QueryCode(const LibraryAnswers& answers, const std::string& function);
/// The CUDA version the driver supports (cuDriverGetVersion, else NVML), as CUDA's integer.
std::optional<int> DriverCudaVersion(const Inventory& inv);
/// What the loader model picked for `soname` ("libcuda.so.1"), or null when it was not asked.
const LoaderPick* FindPick(const Inventory& inv, std::string_view soname);
/// The driver library file the loader would open for `soname`, when known.
const DriverLibraryFile* LoaderPickFile(const Inventory& inv, const std::string& soname);

/// The toolkit the first nvcc on PATH belongs to, or null.
const CudaToolkit* NvccToolkit(const ToolkitFacts& t);
/// The toolkit extension builds would use: the first nvcc on PATH, else CUDA_HOME's.
const CudaToolkit* BuildToolkit(const ToolkitFacts& t);
/// The exact version `dist` pins for a requirement whose name starts with `prefix`
/// ("nvidia-cudnn-cu" → "9.1.0.70"), when its marker holds on `machine`; "" if none.
std::string PinnedVersion(const PythonDist& dist, std::string_view prefix, std::string_view machine);
/// The version of the library `load` a framework needs at least: its CUDA build for libcudart,
/// its METADATA pin for libcudnn and libnccl; "" when unknown.
std::string NeededVersion(const Inventory& inv, const PythonEnv& env, const Framework& fw,
                          const LibraryLoad& load);
/// True when `found` is a known version older than a known `needed` ("11.3.58" < "11.8").
bool OlderThan(const Result<std::string>& found, const std::string& needed);

}  // namespace dlrig
