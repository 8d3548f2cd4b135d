#include "bench/cuda_lt.h"

#include <fmt/format.h>

#include <algorithm>

#include "bench/cuda_ops.h"
#include "bench/gemm.h"

namespace dlrig::bench {

using namespace dlrig::gpu;

namespace {

size_t ElementBytes(int type) {
  switch (type) {
    case kR64F:
      return 8;
    case kR32F:
    case kR32I:
      return 4;
    case kR16F:
    case kR16BF:
      return 2;
    default:
      return 1;
  }
}

template <class T>
tl::unexpected<Error> Unexpected(const Result<T>& r) {
  return tl::unexpected(r.error());
}

}  // namespace

LtMatmul::LtMatmul(const CublasLt& lt, int device, const GemmSpec& spec)
    : lt_(lt), device_(device), spec_(spec) {
  transpose_a_ = spec.transpose_a;
  // dtype -> compute type, scale type, A/B type, C/D type (cuBLASLt's names in comments).
  switch (spec.dtype) {
    case DType::kFp64:  // CUBLAS_COMPUTE_64F, CUDA_R_64F throughout
      compute_ = kCompute64F, scale_ = ab_ = cd_ = kR64F, fill_ = DType::kFp64;
      break;
    case DType::kFp32:  // CUBLAS_COMPUTE_32F: no TF32
      compute_ = kCompute32F, scale_ = ab_ = cd_ = kR32F, fill_ = DType::kFp32;
      break;
    case DType::kTf32:  // CUBLAS_COMPUTE_32F_FAST_TF32 on fp32 data
      compute_ = kCompute32FFastTf32, scale_ = ab_ = cd_ = kR32F, fill_ = DType::kFp32;
      break;
    case DType::kFp16:
      compute_ = kCompute32F, scale_ = kR32F, ab_ = cd_ = kR16F, fill_ = DType::kFp16;
      break;
    case DType::kBf16:
      compute_ = kCompute32F, scale_ = kR32F, ab_ = cd_ = kR16BF, fill_ = DType::kBf16;
      break;
    case DType::kFp8E4M3:
      // LtFp8Matmul sample: e4m3 inputs with per-tensor scales, FP32 compute, TN (Ada and
      // Hopper require it); D in bf16 here, so no D scale or amax.
      compute_ = kCompute32F, scale_ = kR32F, ab_ = kR8FE4M3, cd_ = kR16BF;
      fill_ = DType::kFp8E4M3, transpose_a_ = true, scale_pointers_ = true;
      break;
    case DType::kInt8:  // CUBLAS_COMPUTE_32I, int32 alpha/beta and C/D, TN
      compute_ = kCompute32I, scale_ = kR32I, ab_ = kR8I, cd_ = kR32I;
      fill_ = DType::kInt8, transpose_a_ = true;
      break;
  }
}

LtMatmul::~LtMatmul() {
  if (pref_) lt_.cublasLtMatmulPreferenceDestroy(pref_);
  for (LtLayout l : {a_layout_, b_layout_, c_layout_}) {
    if (l) lt_.cublasLtMatrixLayoutDestroy(l);
  }
  if (desc_) lt_.cublasLtMatmulDescDestroy(desc_);
}

size_t LtMatmul::result_bytes() const {
  return static_cast<size_t>(spec_.m) * static_cast<size_t>(spec_.n) * ElementBytes(cd_);
}

Result<std::unique_ptr<LtMatmul>> LtMatmul::Create(const DeviceInfo& device, const GemmSpec& spec,
                                                   int top_k, size_t reserve_bytes) {
  if (spec.m <= 0 || spec.n <= 0 || spec.k <= 0)
    return Fail(ErrorKind::kMalformed, fmt::format("gemm shape {}x{}x{}", spec.m, spec.n, spec.k));
  const auto& lt = CublasLt::Get();
  if (!lt) return tl::unexpected(lt.error());
  std::unique_ptr<LtMatmul> op(new LtMatmul(**lt, device.index, spec));
  if (auto ok = op->Prepare(device, top_k, reserve_bytes); !ok) return tl::unexpected(ok.error());
  return op;
}

Result<void> LtMatmul::Prepare(const DeviceInfo& device, int top_k, size_t reserve_bytes) {
  if (auto ok = UseDevice(device_); !ok) return ok;
  const uint64_t m = spec_.m, n = spec_.n, k = spec_.k;
  const size_t ab = ElementBytes(ab_);
  const size_t workspace = GemmWorkspaceBytes(device.cc_major);
  const size_t need = (m * k + k * n) * ab + workspace + reserve_bytes;
  if (device.memory_free > 0 && need > device.memory_free / 10 * 9) {
    return Fail(ErrorKind::kUnsupported,
                fmt::format("{}x{}x{} {} needs {:.1f} GiB; GPU {} has {:.1f} GiB free", m, n, k,
                            DTypeName(spec_.dtype), need / 1073741824.0, device_,
                            device.memory_free / 1073741824.0));
  }
  auto check = [&](CublasStatus s, const char* call) { return lt_.Check(s, call); };
  // A library older than the dtype (fp8 before cuBLASLt 11.8) refuses its type ids: the
  // machine lacks it, which waives the dtype rather than failing the run.
  auto check_types = [&](CublasStatus s, const char* call) -> Result<void> {
    if (s == kCublasInvalidValue)
      return Fail(ErrorKind::kUnsupported,
                  fmt::format("cuBLASLt {} does not accept {}: {}: CUBLAS_STATUS_INVALID_VALUE",
                              lt_.VersionText(), DTypeName(spec_.dtype), call));
    return check(s, call);
  };

  auto handle = CreateLtHandle(lt_);
  if (!handle) return Unexpected(handle);
  handle_.emplace(std::move(*handle));
  if (auto ok = check_types(lt_.cublasLtMatmulDescCreate(&desc_, compute_, scale_),
                            "cublasLtMatmulDescCreate");
      !ok)
    return ok;
  const int32_t transa = transpose_a_ ? kOpT : kOpN, transb = kOpN;
  if (auto ok =
          check(lt_.cublasLtMatmulDescSetAttribute(desc_, kDescTransA, &transa, sizeof transa),
                "cublasLtMatmulDescSetAttribute(TRANSA)");
      !ok)
    return ok;
  if (auto ok =
          check(lt_.cublasLtMatmulDescSetAttribute(desc_, kDescTransB, &transb, sizeof transb),
                "cublasLtMatmulDescSetAttribute(TRANSB)");
      !ok)
    return ok;
  // Column-major; with TN, A is stored k x m and read transposed.
  const uint64_t a_rows = transpose_a_ ? k : m, a_cols = transpose_a_ ? m : k;
  if (auto ok = check_types(lt_.cublasLtMatrixLayoutCreate(&a_layout_, ab_, a_rows, a_cols,
                                                           static_cast<int64_t>(a_rows)),
                            "cublasLtMatrixLayoutCreate(A)");
      !ok)
    return ok;
  if (auto ok = check_types(
          lt_.cublasLtMatrixLayoutCreate(&b_layout_, ab_, k, n, static_cast<int64_t>(k)),
          "cublasLtMatrixLayoutCreate(B)");
      !ok)
    return ok;
  if (auto ok = check_types(
          lt_.cublasLtMatrixLayoutCreate(&c_layout_, cd_, m, n, static_cast<int64_t>(m)),
          "cublasLtMatrixLayoutCreate(C)");
      !ok)
    return ok;

  if (scale_pointers_) {
    // Each scale in its own 256-byte block, as separately allocated tensors would be: with the
    // two floats side by side (b at +4 bytes) every fp8 candidate was refused with
    // CUBLAS_STATUS_NOT_SUPPORTED on an H100 (cuBLASLt 13.1).
    auto scales = DeviceMemory::Allocate(device_, 512);
    if (!scales) return Unexpected(scales);
    scales_ = std::move(*scales);
    float one[128] = {};
    one[0] = 1.0f;
    one[64] = 1.0f;
    auto& drv = **CudaDriver::Get();
    if (auto ok = drv.Check(drv.cuMemcpyHtoD(scales_.ptr(), one, sizeof one), "cuMemcpyHtoD"); !ok)
      return ok;
    const CUdeviceptr a_scale = scales_.ptr(), b_scale = scales_.ptr() + 256;
    if (auto ok = check(
            lt_.cublasLtMatmulDescSetAttribute(desc_, kDescAScalePointer, &a_scale, sizeof a_scale),
            "cublasLtMatmulDescSetAttribute(A_SCALE_POINTER)");
        !ok)
      return ok;
    if (auto ok = check(
            lt_.cublasLtMatmulDescSetAttribute(desc_, kDescBScalePointer, &b_scale, sizeof b_scale),
            "cublasLtMatmulDescSetAttribute(B_SCALE_POINTER)");
        !ok)
      return ok;
    // Fast accumulation, as PyTorch's _scaled_mm(use_fast_accum=True) and Transformer Engine's
    // forward pass run fp8 products: the rate users see.
    const int8_t fast = 1;
    if (auto ok = check(lt_.cublasLtMatmulDescSetAttribute(desc_, kDescFastAccum, &fast, sizeof fast),
                        "cublasLtMatmulDescSetAttribute(FAST_ACCUM)");
        !ok)
      return ok;
  }

  if (auto ok = check(lt_.cublasLtMatmulPreferenceCreate(&pref_), "cublasLtMatmulPreferenceCreate");
      !ok)
    return ok;
  const uint64_t ws_bytes = workspace;
  if (auto ok = check(lt_.cublasLtMatmulPreferenceSetAttribute(pref_, kPrefMaxWorkspaceBytes,
                                                               &ws_bytes, sizeof ws_bytes),
                      "cublasLtMatmulPreferenceSetAttribute(MAX_WORKSPACE_BYTES)");
      !ok)
    return ok;

  const std::string no_kernel =
      fmt::format("cuBLASLt {} has no kernel for {} on sm_{}{}", lt_.VersionText(),
                  DTypeName(spec_.dtype), device.cc_major, device.cc_minor);
  std::vector<LtHeuristicResult> results(static_cast<size_t>(std::max(top_k, 1)));
  int returned = 0;
  CublasStatus s = lt_.cublasLtMatmulAlgoGetHeuristic(
      handle_->get(), desc_, a_layout_, b_layout_, c_layout_, c_layout_, pref_,
      static_cast<int>(results.size()), results.data(), &returned);
  if (s == kCublasNotSupported) return Fail(ErrorKind::kUnsupported, no_kernel);
  if (auto ok = check(s, "cublasLtMatmulAlgoGetHeuristic"); !ok) return ok;
  for (int i = 0; i < returned && i < static_cast<int>(results.size()); ++i) {
    if (results[i].state == kCublasSuccess) candidates_.push_back(results[i]);
  }
  if (candidates_.empty()) return Fail(ErrorKind::kUnsupported, no_kernel);

  // The operands last: a dtype cuBLASLt has no kernel for costs no allocation or fill.
  auto a = DeviceMemory::Allocate(device_, m * k * ab);
  if (!a) return Unexpected(a);
  a_ = std::move(*a);
  auto b = DeviceMemory::Allocate(device_, k * n * ab);
  if (!b) return Unexpected(b);
  b_ = std::move(*b);
  if (scale_pointers_) {
    // A separate C for fp8 inputs, as cuBLASLt's fp8 samples have it.
    auto c = DeviceMemory::Allocate(device_, m * n * static_cast<uint64_t>(ElementBytes(cd_)));
    if (!c) return Unexpected(c);
    c_ = std::move(*c);
  }
  auto ws = DeviceMemory::Allocate(device_, workspace);
  if (!ws) return Unexpected(ws);
  workspace_ = std::move(*ws);

  // Random operands, never zeros: power, and so clocks, depend on the data (research 5.2).
  {
    auto stream = Stream::Create(device_);
    if (!stream) return Unexpected(stream);
    if (auto ok = FillRandomDevice(device_, a_.ptr(), a_.bytes(), fill_, 1, stream->get()); !ok)
      return ok;
    if (auto ok = FillRandomDevice(device_, b_.ptr(), b_.bytes(), fill_, 2, stream->get()); !ok)
      return ok;
    if (auto ok = SyncStream(*stream, 60); !ok) return ok;
  }
  return {};
}

std::string LtMatmul::CandidateName(size_t i) const {
  if (i >= candidates_.size()) return "?";
  return lt_.AlgoName(candidates_[i].algo);
}

Result<void> LtMatmul::Enqueue(size_t candidate, CUdeviceptr d, CUstream stream) const {
  if (candidate >= candidates_.size())
    return Fail(ErrorKind::kNotFound, fmt::format("no candidate {}", candidate));
  const double alpha_d = 1, beta_d = 0;
  const float alpha_f = 1, beta_f = 0;
  const int32_t alpha_i = 1, beta_i = 0;
  const void* alpha = scale_ == kR64F   ? static_cast<const void*>(&alpha_d)
                      : scale_ == kR32I ? static_cast<const void*>(&alpha_i)
                                        : static_cast<const void*>(&alpha_f);
  const void* beta = scale_ == kR64F   ? static_cast<const void*>(&beta_d)
                     : scale_ == kR32I ? static_cast<const void*>(&beta_i)
                                       : static_cast<const void*>(&beta_f);
  // beta = 0: C is not read, so D serves as C.
  void* out = reinterpret_cast<void*>(d);
  const void* c = c_.ptr() ? reinterpret_cast<const void*>(c_.ptr()) : out;
  return lt_.Check(
      lt_.cublasLtMatmul(handle_->get(), desc_, alpha, reinterpret_cast<const void*>(a_.ptr()),
                         a_layout_, reinterpret_cast<const void*>(b_.ptr()), b_layout_, beta, c,
                         c_layout_, out, c_layout_, &candidates_[candidate].algo,
                         reinterpret_cast<void*>(workspace_.ptr()), workspace_.bytes(), stream),
      "cublasLtMatmul");
}

}  // namespace dlrig::bench
