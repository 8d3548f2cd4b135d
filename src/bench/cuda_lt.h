// A prepared cuBLASLt product on one GPU, shared by the gemm and burn operations: random A and
// B on the device, the descriptors for our dtype, and the heuristic's candidates. The result
// buffers are the caller's (gemm: one, burn: many slots).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench/backend.h"
#include "gpu/cublaslt.h"
#include "gpu/cuda_driver.h"

namespace dlrig::bench {

class LtMatmul {
 public:
  /// `reserve_bytes`: memory the caller will want beside A, B and the workspace (its results);
  /// kUnsupported when they do not fit in 90% of free memory, or when cuBLASLt has no kernel
  /// ("cuBLASLt 13.1.0 has no kernel for fp8 on sm_80").
  static Result<std::unique_ptr<LtMatmul>> Create(const DeviceInfo& device, const GemmSpec& spec,
                                                  int top_k, size_t reserve_bytes);
  ~LtMatmul();
  LtMatmul(const LtMatmul&) = delete;
  LtMatmul& operator=(const LtMatmul&) = delete;

  size_t candidates() const { return candidates_.size(); }
  std::string CandidateName(size_t i) const;
  /// Bytes of one m x n result in the output type.
  size_t result_bytes() const;
  int device() const { return device_; }

  /// Enqueues D = A·B with candidate `candidate` into `d` (result_bytes() long) on `stream`.
  /// The caller has made the device current.
  Result<void> Enqueue(size_t candidate, gpu::CUdeviceptr d, gpu::CUstream stream) const;

 private:
  LtMatmul(const gpu::CublasLt& lt, int device, const GemmSpec& spec);
  Result<void> Prepare(const DeviceInfo& device, int top_k, size_t reserve_bytes);

  const gpu::CublasLt& lt_;
  int device_;
  GemmSpec spec_;
  int compute_ = 0, scale_ = 0, ab_ = 0, cd_ = 0;
  DType fill_ = DType::kFp32;
  bool transpose_a_ = false;
  bool scale_pointers_ = false;
  std::optional<gpu::LtHandleOwner> handle_;
  gpu::LtMatmulDesc desc_ = nullptr;
  gpu::LtLayout a_layout_ = nullptr, b_layout_ = nullptr, c_layout_ = nullptr;
  gpu::LtPreference pref_ = nullptr;
  gpu::DeviceMemory a_, b_, workspace_, scales_;
  gpu::DeviceMemory c_;  ///< fp8 only: cuBLASLt refuses C == D for fp8 inputs (seen on an H100)
  std::vector<gpu::LtHeuristicResult> candidates_;
};

}  // namespace dlrig::bench
