#include "gpu/kernels.h"

#include <map>
#include <mutex>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "gpu/kernels_embedded.h"

namespace dlrig::gpu {

std::string_view KernelPtx(std::string_view module) {
  for (const EmbeddedPtx& m : EmbeddedKernels()) {
    if (module == m.module) return m.ptx;
  }
  return {};
}

std::string_view KernelCompiler() { return KernelCompilerVersion(); }
std::string_view KernelTarget() { return KernelTargetArch(); }

Result<CUfunction> LoadKernel(int device, std::string_view module, const char* entry) {
  std::string_view ptx = KernelPtx(module);
  if (ptx.empty()) {
    return Fail(ErrorKind::kUnsupported,
                fmt::format("this dlrig was built without nvcc, so it carries no device kernels "
                            "(module '{}'); rebuild with the CUDA toolkit installed",
                            module));
  }
  auto driver = CudaDriver::Get();
  if (!driver) return tl::unexpected(driver.error());
  CudaDriver* d = *driver;
  static std::mutex mutex;
  static std::map<std::pair<int, std::string>, CUmodule> modules;
  std::lock_guard lock(mutex);
  if (auto ok = UseDevice(device); !ok) return tl::unexpected(ok.error());
  auto key = std::make_pair(device, std::string(module));
  auto it = modules.find(key);
  if (it == modules.end()) {
    CUmodule handle = nullptr;
    // The PTX text must be NUL-terminated: the embedded string literal is.
    if (auto ok = d->Check(d->cuModuleLoadData(&handle, ptx.data()), "cuModuleLoadData"); !ok) {
      return Fail(ok.error().kind, fmt::format("{} (PTX module '{}', built for {} by nvcc {})",
                                               ok.error().message, module, KernelTarget(),
                                               KernelCompiler()));
    }
    it = modules.emplace(key, handle).first;
  }
  CUfunction function = nullptr;
  if (auto ok = d->Check(d->cuModuleGetFunction(&function, it->second, entry), "cuModuleGetFunction");
      !ok) {
    return Fail(ok.error().kind, fmt::format("{} ({} in module '{}')", ok.error().message, entry, module));
  }
  return function;
}

Result<void> Launch(CUfunction function, unsigned blocks, unsigned threads, CUstream stream,
                    void** args) {
  auto driver = CudaDriver::Get();
  if (!driver) return tl::unexpected(driver.error());
  return (*driver)->Check(
      (*driver)->cuLaunchKernel(function, blocks, 1, 1, threads, 1, 1, 0, stream, args, nullptr),
      "cuLaunchKernel");
}

}  // namespace dlrig::gpu
