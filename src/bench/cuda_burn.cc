// The burn operation on a GPU, gpu-burn's method through cuBLASLt: A and B random once, the
// same product written into every result slot (most of free memory), each slot compared with
// slot 0 by our kernel (src/gpu/kernels/burn.cu); any difference is a fault of the GPU.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "bench/burn.h"
#include "bench/cuda_lt.h"
#include "bench/cuda_ops.h"
#include "gpu/kernels.h"

namespace dlrig::bench {
namespace {

using namespace dlrig::gpu;

// More slots only lengthen a step: 512 results of 8192^2 fp32 already cover 128 GiB.
constexpr long long kMaxSlots = 512;

const char* CompareEntry(DType dtype) {
  switch (dtype) {
    case DType::kFp64:
      return "dlrig_burn_compare_f64";
    case DType::kFp16:
      return "dlrig_burn_compare_f16";
    case DType::kBf16:
      return "dlrig_burn_compare_bf16";
    default:
      return "dlrig_burn_compare_f32";  // fp32 and tf32 results are fp32
  }
}

class CudaBurn final : public BurnOp {
 public:
  CudaBurn(std::unique_ptr<LtMatmul> matmul, const BurnSpec& spec, int sm_count)
      : matmul_(std::move(matmul)), spec_(spec), sm_count_(std::max(sm_count, 1)) {
    const double n = spec.n;
    flop_per_slot_ = 2 * n * n * n;
    per_slot_seconds_ = flop_per_slot_ / 1e12;  // pessimistic (1 TFLOP/s) until measured
  }

  Result<void> Prepare() {
    const int device = matmul_->device();
    auto& drv = **CudaDriver::Get();
    if (auto ok = UseDevice(device); !ok) return ok;
    auto compare = LoadKernel(device, "burn", CompareEntry(spec_.dtype));
    if (!compare) return tl::unexpected(compare.error());
    compare_ = *compare;

    size_t free = 0, total = 0;
    if (auto ok = drv.Check(drv.cuMemGetInfo(&free, &total), "cuMemGetInfo"); !ok) return ok;
    const size_t slot_bytes = matmul_->result_bytes();
    const double fraction = std::clamp(spec_.memory_fraction, 0.0, 0.95);
    long long slots = std::min<long long>(
        kMaxSlots, static_cast<long long>(static_cast<double>(free) * fraction / slot_bytes));
    // One allocation for all slots; on failure (fragmentation) ask for a tenth less.
    for (;;) {
      if (slots < 2)
        return Fail(ErrorKind::kUnsupported,
                    fmt::format("burn needs 2 result slots of {} MiB; GPU {} has {} MiB free",
                                slot_bytes >> 20, device, free >> 20));
      auto memory = DeviceMemory::Allocate(device, static_cast<size_t>(slots) * slot_bytes);
      if (memory) {
        slots_memory_ = std::move(*memory);
        break;
      }
      slots = slots * 9 / 10;
    }
    slots_ = static_cast<int>(slots);

    auto counter = DeviceMemory::Allocate(device, sizeof(unsigned long long));
    if (!counter) return tl::unexpected(counter.error());
    counter_ = std::move(*counter);
    auto host = PinnedMemory::Allocate(sizeof(unsigned long long));
    if (!host) return tl::unexpected(host.error());
    host_counter_ = std::move(*host);
    auto timed = TimedStream::Create(device);
    if (!timed) return tl::unexpected(timed.error());
    timed_ = std::move(*timed);

    // One product, timed, so that a step's deadline follows this GPU's speed (a hung GPU
    // then costs minutes at most, not the pessimistic guess times 512 slots).
    if (auto ok = timed_.Start(); !ok) return ok;
    if (auto ok = matmul_->Enqueue(0, slots_memory_.ptr(), timed_.get()); !ok) return ok;
    if (auto ok = timed_.Stop(); !ok) return ok;
    auto one = timed_.Elapsed(60 + 4 * per_slot_seconds_);
    if (!one) return tl::unexpected(one.error());
    if (*one > 0) per_slot_seconds_ = *one;
    return {};
  }

  int slots() const override { return slots_; }

  Result<BurnStep> Step() override {
    const int device = matmul_->device();
    if (auto ok = UseDevice(device); !ok) return tl::unexpected(ok.error());
    auto& drv = **CudaDriver::Get();
    auto check = [&](CUresult r, const char* call) { return drv.Check(r, call); };
    // Everything below is enqueued on one stream, waited for under one deadline.
    const double deadline = 60 + 4.0 * slots_ * per_slot_seconds_;
    if (auto ok =
            check(drv.cuMemsetD32Async(counter_.ptr(), 0, 2, timed_.get()), "cuMemsetD32Async");
        !ok)
      return tl::unexpected(ok.error());
    if (auto ok = timed_.Start(); !ok) return tl::unexpected(ok.error());
    const size_t slot_bytes = matmul_->result_bytes();
    for (int s = 0; s < slots_; ++s) {
      if (auto ok = matmul_->Enqueue(0, slots_memory_.ptr() + s * slot_bytes, timed_.get()); !ok) {
        (void)timed_.Sync(deadline);
        return tl::unexpected(ok.error());
      }
    }
    if (auto ok = timed_.Stop(); !ok) return tl::unexpected(ok.error());

    CUdeviceptr data = slots_memory_.ptr();
    CUdeviceptr faults = counter_.ptr();
    size_t per_slot = static_cast<size_t>(spec_.n) * static_cast<size_t>(spec_.n);
    int slot_count = slots_;
    double eps_d = BurnTolerance(spec_.dtype);
    float eps_f = static_cast<float>(eps_d);
    void* eps = spec_.dtype == DType::kFp64 ? static_cast<void*>(&eps_d) : &eps_f;
    void* args[] = {&data, &per_slot, &slot_count, eps, &faults};
    const unsigned threads = 256;
    const unsigned blocks = static_cast<unsigned>(
        std::min<size_t>((per_slot + threads - 1) / threads, static_cast<size_t>(sm_count_) * 16));
    if (auto ok = Launch(compare_, blocks, threads, timed_.get(), args); !ok)
      return tl::unexpected(ok.error());
    if (auto ok = check(drv.cuMemcpyDtoHAsync(host_counter_.data(), counter_.ptr(),
                                              sizeof(unsigned long long), timed_.get()),
                        "cuMemcpyDtoHAsync");
        !ok)
      return tl::unexpected(ok.error());
    if (auto ok = timed_.Sync(deadline); !ok) return tl::unexpected(ok.error());
    auto seconds = timed_.Elapsed(10);
    if (!seconds) return tl::unexpected(seconds.error());
    if (*seconds > 0) per_slot_seconds_ = *seconds / slots_;
    const auto mismatches = *static_cast<volatile unsigned long long*>(host_counter_.data());
    return BurnStep{.flop = flop_per_slot_ * slots_,
                    .seconds = *seconds,
                    .slots = slots_,
                    .mismatches = static_cast<long long>(mismatches)};
  }

 private:
  std::unique_ptr<LtMatmul> matmul_;
  BurnSpec spec_;
  int sm_count_;
  int slots_ = 0;
  double flop_per_slot_ = 0;
  double per_slot_seconds_ = 1;
  CUfunction compare_ = nullptr;
  DeviceMemory slots_memory_, counter_;
  PinnedMemory host_counter_;
  TimedStream timed_;
};

}  // namespace

Result<std::unique_ptr<BurnOp>> MakeCudaBurn(const DeviceInfo& device, const BurnSpec& spec) {
  if (auto missing = BurnDTypeMissing(spec.dtype, device.cc_major, device.cc_minor))
    return Fail(ErrorKind::kUnsupported, *missing);
  if (spec.n <= 0) return Fail(ErrorKind::kMalformed, fmt::format("burn size {}", spec.n));
  const GemmSpec gemm{
      .device = device.index, .dtype = spec.dtype, .m = spec.n, .n = spec.n, .k = spec.n};
  // The heuristic's first candidate for every slot: the same kernel, so the same bits.
  const size_t two_slots = 2 * static_cast<size_t>(spec.n) * static_cast<size_t>(spec.n) * 8;
  auto matmul = LtMatmul::Create(device, gemm, 1, two_slots);
  if (!matmul) return tl::unexpected(matmul.error());
  auto op = std::make_unique<CudaBurn>(std::move(*matmul), spec, device.sm_count);
  if (auto ok = op->Prepare(); !ok) return tl::unexpected(ok.error());
  return std::unique_ptr<BurnOp>(std::move(op));
}

}  // namespace dlrig::bench
