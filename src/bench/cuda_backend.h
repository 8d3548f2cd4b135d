// The backend that runs the benchmarks on the GPUs: CUDA driver API, cuBLASLt and NCCL, all
// dlopen'ed; clocks, power and throttling from the NVML sampler beside the work.
#pragma once

#include <memory>

#include "bench/backend.h"

namespace dlrig::bench {

/// Opens every visible GPU, or says why none can be used (no libcuda, cuInit failed, no device).
Result<std::unique_ptr<Backend>> OpenCudaBackend();

}  // namespace dlrig::bench
