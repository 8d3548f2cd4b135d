// The gemm operation on a GPU: D = A·B through cuBLASLt (dlopen'ed, gpu/cublaslt.h), its
// heuristic's top candidates, each timed with events around a run of cublasLtMatmul calls.
//
// What each dtype needs (cuBLASLt may still refuse; its heuristic then returns nothing and the
// dtype is waived with that reason):
//   fp8 (e4m3)    8.9+ (Ada, Hopper, Blackwell); TN layout on 8.9 and 9.0
//   int8 tensor   7.5+; plain column-major TN is not documented for every arch (research
//                 section 5.3 marks it unconfirmed), so refusal is expected somewhere
//   tf32, bf16    8.0+
//   fp64 tensor   8.0 data-center parts (A100, H100, B200); elsewhere DGEMM runs on the slow
//                 SIMT units
#include <fmt/format.h>

#include "bench/cuda_lt.h"
#include "bench/cuda_ops.h"
#include "bench/gemm.h"

namespace dlrig::bench {
namespace {

using namespace dlrig::gpu;

class CudaGemm final : public GemmOp {
 public:
  CudaGemm(std::unique_ptr<LtMatmul> matmul, const GemmSpec& spec)
      : matmul_(std::move(matmul)),
        // A pessimistic first guess (1 TFLOP/s) for the deadline of the first timing.
        per_iteration_(GemmOperations({spec.m, spec.n, spec.k}) / 1e12) {}

  Result<void> Prepare() {
    const int device = matmul_->device();
    auto d = DeviceMemory::Allocate(device, matmul_->result_bytes());
    if (!d) return tl::unexpected(d.error());
    d_ = std::move(*d);
    auto timed = TimedStream::Create(device);
    if (!timed) return tl::unexpected(timed.error());
    timed_ = std::move(*timed);
    return {};
  }

  size_t candidates() const override { return matmul_->candidates(); }
  std::string CandidateName(size_t i) const override { return matmul_->CandidateName(i); }

  Result<double> Time(size_t candidate, int iterations) override {
    if (candidate >= matmul_->candidates())
      return Fail(ErrorKind::kNotFound, fmt::format("no candidate {}", candidate));
    if (iterations < 1) return Fail(ErrorKind::kMalformed, "iterations < 1");
    if (auto ok = UseDevice(matmul_->device()); !ok) return tl::unexpected(ok.error());
    // No spin gate in front: one product is milliseconds at 8192^3 against microseconds of
    // launch, and a gate would deadlock once the launch queue fills behind it at small sizes.
    if (auto ok = timed_.Start(); !ok) return tl::unexpected(ok.error());
    for (int i = 0; i < iterations; ++i) {
      if (auto ok = matmul_->Enqueue(candidate, d_.ptr(), timed_.get()); !ok) {
        (void)timed_.Sync(60);  // leave nothing of ours running behind the error
        return tl::unexpected(ok.error());
      }
    }
    if (auto ok = timed_.Stop(); !ok) return tl::unexpected(ok.error());
    // A hung GPU costs the deadline, never the process.
    auto seconds = timed_.Elapsed(60 + 4.0 * iterations * per_iteration_);
    if (!seconds) return tl::unexpected(seconds.error());
    if (*seconds > 0) per_iteration_ = *seconds / iterations;
    return *seconds;
  }

 private:
  std::unique_ptr<LtMatmul> matmul_;
  DeviceMemory d_;
  TimedStream timed_;
  double per_iteration_;
};

}  // namespace

Result<std::unique_ptr<GemmOp>> MakeCudaGemm(const DeviceInfo& device, const GemmSpec& spec,
                                             int top_k) {
  // fp64 runs everywhere (slowly where the units are few); the rest need the hardware.
  if (spec.dtype != DType::kFp64) {
    if (auto missing = GemmDTypeMissing(spec.dtype, device.cc_major, device.cc_minor))
      return Fail(ErrorKind::kUnsupported, *missing);
  }
  const size_t result = static_cast<size_t>(spec.m) * static_cast<size_t>(spec.n) * 8;
  auto matmul = LtMatmul::Create(device, spec, top_k, result);
  if (!matmul) return tl::unexpected(matmul.error());
  auto op = std::make_unique<CudaGemm>(std::move(*matmul), spec);
  if (auto ok = op->Prepare(); !ok) return tl::unexpected(ok.error());
  return std::unique_ptr<GemmOp>(std::move(op));
}

}  // namespace dlrig::bench
