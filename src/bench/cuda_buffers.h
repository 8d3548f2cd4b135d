// The CUDA backend's buffers: device memory, pinned host memory, pageable host memory.
#pragma once

#include <cstdlib>
#include <utility>

#include "bench/backend.h"
#include "gpu/cuda_driver.h"

namespace dlrig::bench {

class HostBuffer final : public Buffer {
 public:
  HostBuffer(Memory memory, int device, size_t bytes, gpu::PinnedMemory pinned, void* pageable)
      : Buffer(memory, device, bytes), pinned_(std::move(pinned)), pageable_(pageable) {}
  ~HostBuffer() override { std::free(pageable_); }
  void* data() const { return pageable_ ? pageable_ : pinned_.data(); }

 private:
  gpu::PinnedMemory pinned_;
  void* pageable_;  ///< aligned_alloc'ed, or null for pinned memory
};

class DeviceBuffer final : public Buffer {
 public:
  DeviceBuffer(int device, gpu::DeviceMemory memory)
      : Buffer(Memory::kDevice, device, memory.bytes()), memory_(std::move(memory)) {}
  gpu::CUdeviceptr ptr() const { return memory_.ptr(); }

 private:
  gpu::DeviceMemory memory_;
};

}  // namespace dlrig::bench
