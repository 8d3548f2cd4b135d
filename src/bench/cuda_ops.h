// The CUDA backend's operations, one file each (cuda_copy.cc, cuda_gemm.cc, cuda_nccl.cc,
// cuda_burn.cc, cuda_memtest.cc), behind the Backend interface that cuda_backend.cc implements.
#pragma once

#include <memory>
#include <vector>

#include "bench/backend.h"
#include "gpu/cuda_driver.h"

namespace dlrig::bench {

/// Random data on the device, generated there: uniform bytes for kInt8/kFp8 storage as the
/// dtype's values, random normal N(0,1) values for floating types (never zeros: GEMM power and
/// so clocks depend on the data). Deterministic for a seed.
Result<void> FillRandomDevice(int device, gpu::CUdeviceptr ptr, size_t bytes, DType dtype,
                              uint64_t seed, gpu::CUstream stream);

/// Holds a stream behind a kernel that spins until Release() (or a 10 s timeout), so that the
/// work enqueued after it starts all at once and enqueue time is not timed (nvbandwidth's
/// method). Without device kernels in the build, Hold() does nothing.
class SpinGate {
 public:
  static Result<SpinGate> Create();
  Result<void> Hold(int device, gpu::CUstream stream);
  void Release();
  bool active() const { return flag_ != nullptr; }

 private:
  gpu::PinnedMemory memory_;
  volatile unsigned* flag_ = nullptr;
};

/// Copy-engine transfers between the backend's buffers (cuda_copy.cc).
Result<std::unique_ptr<TimedOp>> MakeCudaCopy(const CopySpec& spec);
/// Our memory kernels over arrays the op allocates and fills; the launch shape is tuned once.
Result<std::unique_ptr<TimedOp>> MakeCudaKernel(const DeviceInfo& device, const KernelSpec& spec);

Result<std::unique_ptr<GemmOp>> MakeCudaGemm(const DeviceInfo& device, const GemmSpec& spec,
                                             int top_k);
Result<std::unique_ptr<BurnOp>> MakeCudaBurn(const DeviceInfo& device, const BurnSpec& spec);
Result<std::unique_ptr<MemtestOp>> MakeCudaMemtest(const DeviceInfo& device,
                                                   const MemtestSpec& spec);
Result<std::unique_ptr<TimedOp>> MakeCudaCollective(const std::vector<DeviceInfo>& devices,
                                                    const CollectiveSpec& spec);
/// Destroys the NCCL communicators MakeCudaCollective keeps per device set (the backend's end).
void ReleaseCudaCollectives();

}  // namespace dlrig::bench
