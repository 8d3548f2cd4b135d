// Our device kernels: src/gpu/kernels/<module>.cu, compiled to PTX at build time when nvcc is
// present and carried inside the binary; the driver compiles the PTX for the GPU at load time
// (cuModuleLoadData), so the binary needs no CUDA runtime and runs on newer GPUs too.
#pragma once

#include <string_view>

#include "core/result.h"
#include "gpu/cuda_driver.h"

namespace dlrig::gpu {

/// The PTX text of a module ("memory", "fill", ...), or "" when the build had no nvcc.
std::string_view KernelPtx(std::string_view module);
/// The nvcc that built the PTX ("13.0.88") and its target ("compute_75"), or "" without nvcc.
std::string_view KernelCompiler();
std::string_view KernelTarget();

/// The kernel `entry` of `module`, loaded once per device (on its primary context). Without PTX
/// in this build, kUnsupported saying so.
Result<CUfunction> LoadKernel(int device, std::string_view module, const char* entry);

/// Launches a 1-D grid on `stream`; `args` are pointers to each argument, as cuLaunchKernel
/// takes them.
Result<void> Launch(CUfunction function, unsigned blocks, unsigned threads, CUstream stream,
                    void** args);

}  // namespace dlrig::gpu
