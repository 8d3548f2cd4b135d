// Copy-engine transfers and our memory kernels, timed with events behind a spin gate.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "bench/cuda_buffers.h"
#include "bench/cuda_ops.h"
#include "gpu/kernels.h"

namespace dlrig::bench {
namespace {

using gpu::CudaDriver;

// Generous: a healthy GPU finishes any single timed batch in well under a second; this only
// bounds how long a wedged one can hold the run.
double Deadline(double bytes) { return 30.0 + bytes / 1e9; }

constexpr unsigned long long kSpinTimeoutNs = 10'000'000'000ULL;
constexpr int kGateDepth = 32;

}  // namespace

Result<void> FillRandomDevice(int device, gpu::CUdeviceptr ptr, size_t bytes, DType dtype,
                              uint64_t seed, gpu::CUstream stream) {
  const char* entry = "dlrig_fill_u32";
  size_t element = 4;
  switch (dtype) {
    case DType::kFp64: entry = "dlrig_fill_f64"; element = 8; break;
    case DType::kFp32:
    case DType::kTf32: entry = "dlrig_fill_f32"; element = 4; break;
    case DType::kFp16: entry = "dlrig_fill_f16"; element = 2; break;
    case DType::kBf16: entry = "dlrig_fill_bf16"; element = 2; break;
    case DType::kFp8E4M3: entry = "dlrig_fill_e4m3"; element = 1; break;
    case DType::kInt8: entry = "dlrig_fill_u32"; element = 4; break;  // every byte uniform
  }
  auto fn = gpu::LoadKernel(device, "fill", entry);
  if (!fn) return tl::unexpected(fn.error());
  size_t n = bytes / element;
  void* args[] = {&ptr, &n, &seed};
  return gpu::Launch(*fn, 4096, 256, stream, args);
}

Result<SpinGate> SpinGate::Create() {
  SpinGate gate;
  if (gpu::KernelPtx("memory").empty()) return gate;  // no kernels: an inactive gate
  auto m = gpu::PinnedMemory::Allocate(64);
  if (!m) return tl::unexpected(m.error());
  gate.memory_ = std::move(*m);
  gate.flag_ = static_cast<volatile unsigned*>(gate.memory_.data());
  *gate.flag_ = 0;
  return gate;
}

Result<void> SpinGate::Hold(int device, gpu::CUstream stream) {
  if (!flag_) return {};
  auto fn = gpu::LoadKernel(device, "memory", "dlrig_spin");
  if (!fn) return tl::unexpected(fn.error());
  CudaDriver* d = *CudaDriver::Get();
  gpu::CUdeviceptr flag = 0;
  if (auto ok = d->Check(d->cuMemHostGetDevicePointer(&flag, const_cast<unsigned*>(flag_), 0),
                         "cuMemHostGetDevicePointer");
      !ok) {
    return ok;
  }
  *flag_ = 0;
  unsigned long long timeout = kSpinTimeoutNs;
  void* args[] = {&flag, &timeout};
  return gpu::Launch(*fn, 1, 1, stream, args);
}

void SpinGate::Release() {
  if (flag_) *flag_ = 1;
}

namespace {

gpu::CUdeviceptr Ptr(Buffer* b) { return static_cast<DeviceBuffer*>(b)->ptr(); }
void* Host(Buffer* b) { return static_cast<HostBuffer*>(b)->data(); }

// One direction of a transfer: which call, on which GPU's stream.
struct Direction {
  Buffer* dst;
  Buffer* src;
  int device;  ///< whose stream and copy engine
};

Result<void> Enqueue(const Direction& dir, size_t bytes, gpu::CUstream stream) {
  CudaDriver* d = *CudaDriver::Get();
  bool dst_host = dir.dst->memory() != Memory::kDevice;
  bool src_host = dir.src->memory() != Memory::kDevice;
  if (src_host && !dst_host) return d->Check(d->cuMemcpyHtoDAsync(Ptr(dir.dst), Host(dir.src), bytes, stream), "cuMemcpyHtoDAsync");
  if (!src_host && dst_host) return d->Check(d->cuMemcpyDtoHAsync(Host(dir.dst), Ptr(dir.src), bytes, stream), "cuMemcpyDtoHAsync");
  if (!src_host && !dst_host) return d->Check(d->cuMemcpyDtoDAsync(Ptr(dir.dst), Ptr(dir.src), bytes, stream), "cuMemcpyDtoDAsync");
  return Fail(ErrorKind::kUnsupported, "host to host copies are not a GPU benchmark");
}

class CopyOp final : public TimedOp {
 public:
  static Result<std::unique_ptr<TimedOp>> Make(const CopySpec& spec) {
    auto op = std::unique_ptr<CopyOp>(new CopyOp(spec));
    int forward = spec.src->memory() == Memory::kDevice ? spec.src->device() : spec.dst->device();
    int backward = spec.dst->memory() == Memory::kDevice ? spec.dst->device() : spec.src->device();
    op->dirs_.push_back({spec.dst, spec.src, forward});
    if (spec.both_ways) op->dirs_.push_back({spec.src, spec.dst, backward});
    for (const Direction& dir : op->dirs_) {
      auto lane = gpu::TimedStream::Create(dir.device);
      if (!lane) return tl::unexpected(lane.error());
      op->lanes_.push_back(std::move(*lane));
    }
    // A pageable copy returns only once the driver has staged it, so a gated stream would
    // wait for a release that never comes; those are timed without the gate.
    bool pageable = spec.src->memory() == Memory::kPageable || spec.dst->memory() == Memory::kPageable;
    if (!pageable) {
      auto gate = SpinGate::Create();
      if (!gate) return tl::unexpected(gate.error());
      op->gate_ = std::move(*gate);
    }
    return std::unique_ptr<TimedOp>(std::move(op));
  }

  Result<double> Time(int iterations) override {
    for (size_t i = 0; i < dirs_.size(); ++i) {
      if (auto ok = gpu::UseDevice(dirs_[i].device); !ok) return tl::unexpected(ok.error());
      if (auto ok = gate_.Hold(dirs_[i].device, lanes_[i].get()); !ok) return Released(ok.error());
      if (auto ok = lanes_[i].Start(); !ok) return Released(ok.error());
    }
    // The driver's queue behind a held stream is finite: once it is full an enqueue waits for
    // room that only the release makes. So the gate opens after the first kGateDepth copies of
    // every lane; by then the queue is deep enough that the rest is enqueued faster than it runs.
    for (int it = 0; it < iterations; ++it) {
      for (size_t i = 0; i < dirs_.size(); ++i) {
        if (dirs_.size() > 1) {
          if (auto ok = gpu::UseDevice(dirs_[i].device); !ok) return Released(ok.error());
        }
        if (auto ok = Enqueue(dirs_[i], spec_.bytes, lanes_[i].get()); !ok) return Released(ok.error());
      }
      if (it + 1 == kGateDepth) gate_.Release();
    }
    for (size_t i = 0; i < dirs_.size(); ++i) {
      if (auto ok = gpu::UseDevice(dirs_[i].device); !ok) return Released(ok.error());
      if (auto ok = lanes_[i].Stop(); !ok) return Released(ok.error());
    }
    gate_.Release();
    double slowest = 0;
    for (const gpu::TimedStream& lane : lanes_) {
      auto s = lane.Elapsed(Deadline(static_cast<double>(spec_.bytes) * iterations));
      if (!s) return tl::unexpected(s.error());
      slowest = std::max(slowest, *s);
    }
    return slowest;
  }

  std::string detail() const override {
    return gate_.active() ? "copy engine, started behind a spin kernel" : "copy engine";
  }

 private:
  explicit CopyOp(const CopySpec& spec) : spec_(spec) {}
  tl::unexpected<Error> Released(Error e) {
    gate_.Release();
    return tl::unexpected(std::move(e));
  }

  CopySpec spec_;
  std::vector<Direction> dirs_;
  std::vector<gpu::TimedStream> lanes_;  ///< one per direction
  SpinGate gate_;
};

// A kernel and the shape it is launched with.
struct Launch {
  const char* module;
  const char* entry;
  unsigned threads;
  unsigned per_sm;    ///< blocks per SM; 0: one block per tile (tile = threads x unroll words)
  unsigned unroll;
};

// The candidates for each kernel: grid-stride at several occupancies, and tiles (one block per
// tile, or a few blocks per SM looping) with streaming hints. Which is fastest differs between
// GPUs; Tune() tries them all once.
std::vector<Launch> Candidates(MemoryKernel k) {
  switch (k) {
    case MemoryKernel::kCopy:
      return {{"memory", "dlrig_copy_tile1", 1024, 0, 1}, {"memory", "dlrig_copy_tile1", 512, 0, 1}, {"memory", "dlrig_copy_tile1", 256, 0, 1},
              {"memory", "dlrig_copy_tile1", 128, 0, 1},
              {"memory", "dlrig_copy", 256, 8, 4},       {"memory", "dlrig_copy", 512, 4, 4},        {"memory", "dlrig_copy", 1024, 2, 4},
              {"memory", "dlrig_copy", 512, 8, 4},       {"memory", "dlrig_copy_tile4", 128, 0, 4},  {"memory", "dlrig_copy_tile4", 256, 0, 4},
              {"memory", "dlrig_copy_tile4", 512, 0, 4}, {"memory", "dlrig_copy_tile8", 128, 0, 8},  {"memory", "dlrig_copy_tile8", 256, 0, 8},
              {"memory", "dlrig_copy_tile8", 512, 0, 8}, {"memory", "dlrig_copy_tile16", 128, 0, 16}, {"memory", "dlrig_copy_tile16", 256, 0, 16},
              {"memory", "dlrig_copy_tile4", 256, 8, 4}, {"memory", "dlrig_copy_tile8", 256, 4, 8},  {"memory", "dlrig_copy_tile16", 256, 4, 16},
              {"memory", "dlrig_copy_tile16_plain", 128, 0, 16}, {"memory", "dlrig_copy_tile8_plain", 256, 0, 8},
              {"memory", "dlrig_copy_tile16", 64, 0, 16},
              {"memory", "dlrig_copy_chunk8", 256, 4, 8},       {"memory", "dlrig_copy_chunk8", 512, 2, 8},
              {"memory", "dlrig_copy_chunk8", 256, 8, 8},       {"memory", "dlrig_copy_chunk8_plain", 256, 4, 8},
              {"memory", "dlrig_copy_chunk8_plain", 512, 4, 8}};
    case MemoryKernel::kTriad:
      return {{"memory", "dlrig_triad", 256, 8, 1},        {"memory", "dlrig_triad", 512, 4, 1},       {"memory", "dlrig_triad", 1024, 2, 1},
              {"memory", "dlrig_triad_tile4", 128, 0, 4},  {"memory", "dlrig_triad_tile4", 256, 0, 4}, {"memory", "dlrig_triad_tile4", 512, 0, 4},
              {"memory", "dlrig_triad_tile4", 256, 8, 4},  {"memory", "dlrig_triad_tile1", 1024, 0, 1}, {"memory", "dlrig_triad_tile1", 512, 0, 1}};
    case MemoryKernel::kRead:
      return {{"memory", "dlrig_read", 256, 8, 4}, {"memory", "dlrig_read", 512, 4, 4}, {"memory", "dlrig_read", 1024, 2, 4}, {"memory", "dlrig_read", 512, 8, 4}};
    case MemoryKernel::kWrite:
      return {{"memory", "dlrig_write", 256, 8, 1}, {"memory", "dlrig_write", 512, 4, 1}, {"memory", "dlrig_write", 1024, 2, 1}, {"memory", "dlrig_write", 512, 8, 1}};
  }
  return {};
}

int Arrays(MemoryKernel k) {
  return k == MemoryKernel::kTriad ? 3 : k == MemoryKernel::kCopy ? 2 : 1;
}

// Copy kernels that need Ampere (memory_sm80.cu), tried beside the others on such GPUs.
std::vector<Launch> Sm80Candidates(MemoryKernel k) {
  if (k != MemoryKernel::kCopy) return {};
  return {{"memory_sm80", "dlrig_copy_wide8", 256, 0, 8},  {"memory_sm80", "dlrig_copy_wide8", 128, 0, 8},
          {"memory_sm80", "dlrig_copy_wide16", 128, 0, 16}, {"memory_sm80", "dlrig_copy_wide16", 256, 0, 16},
          {"memory_sm80", "dlrig_copy_wide8_plain", 256, 0, 8}};
}

class KernelOp final : public TimedOp {
 public:
  static Result<std::unique_ptr<TimedOp>> Make(const DeviceInfo& device, const KernelSpec& spec) {
    auto op = std::unique_ptr<KernelOp>(new KernelOp(device, spec));
    std::vector<Launch> launches = Candidates(spec.kernel);
    if (device.cc_major >= 8) {
      for (const Launch& l : Sm80Candidates(spec.kernel)) launches.push_back(l);
    }
    for (const Launch& l : launches) {
      auto fn = gpu::LoadKernel(device.index, l.module, l.entry);
      if (!fn) return tl::unexpected(fn.error());
      op->candidates_.push_back({l, *fn});
    }
    auto timed = gpu::TimedStream::Create(device.index);
    if (!timed) return tl::unexpected(timed.error());
    op->timed_ = std::move(*timed);
    for (int i = 0; i < Arrays(spec.kernel); ++i) {
      auto m = gpu::DeviceMemory::Allocate(device.index, spec.bytes_per_array);
      if (!m) return tl::unexpected(m.error());
      if (auto ok = FillRandomDevice(device.index, m->ptr(), m->bytes(), DType::kFp32, 1000 + i, op->timed_.get()); !ok) {
        return tl::unexpected(ok.error());
      }
      op->arrays_.push_back(std::move(*m));
    }
    auto sink = gpu::DeviceMemory::Allocate(device.index, 64);
    if (!sink) return tl::unexpected(sink.error());
    op->sink_ = std::move(*sink);
    if (auto ok = op->Tune(); !ok) return tl::unexpected(ok.error());
    return std::unique_ptr<TimedOp>(std::move(op));
  }

  Result<double> Time(int iterations) override { return Run(candidates_[best_], iterations); }

  std::string detail() const override {
    const Candidate& c = candidates_[best_];
    return fmt::format("{}: {} threads x {} blocks{}", c.launch.entry, c.launch.threads, Blocks(c.launch),
                       c.launch.per_sm ? fmt::format(" ({} per SM)", c.launch.per_sm) : " (one per tile)");
  }

 private:
  struct Candidate {
    Launch launch;
    gpu::CUfunction fn;
  };

  KernelOp(const DeviceInfo& device, const KernelSpec& spec) : device_(device), spec_(spec) {}

  unsigned Blocks(const Launch& l) const {
    if (l.per_sm) return l.per_sm * static_cast<unsigned>(std::max(1, device_.sm_count));
    size_t words = spec_.bytes_per_array / 16;
    size_t tile = static_cast<size_t>(l.threads) * l.unroll;
    return static_cast<unsigned>(std::min<size_t>((words + tile - 1) / tile, 0x7fffffff));
  }

  // The launch that moves the most bytes differs between GPUs; each candidate is timed over a
  // few passes and the fastest kept (gpu-benches sweeps occupancy the same way).
  Result<void> Tune() {
    double best = 0;
    for (size_t i = 0; i < candidates_.size(); ++i) {
      if (auto warm = Run(candidates_[i], 2); !warm) return tl::unexpected(warm.error());
      auto t = Run(candidates_[i], 8);
      if (!t) return tl::unexpected(t.error());
      if (best == 0 || *t < best) {
        best = *t;
        best_ = i;
      }
    }
    return {};
  }

  Result<double> Run(const Candidate& candidate, int iterations) {
    gpu::CUfunction fn = candidate.fn;
    unsigned threads = candidate.launch.threads;
    unsigned blocks = Blocks(candidate.launch);
    if (auto ok = gpu::UseDevice(device_.index); !ok) return tl::unexpected(ok.error());
    size_t n = spec_.bytes_per_array / 16;
    float scale = 3.0f;
    int value = 7;
    gpu::CUdeviceptr a = arrays_[0].ptr();
    gpu::CUdeviceptr b = arrays_.size() > 1 ? arrays_[1].ptr() : 0;
    gpu::CUdeviceptr c = arrays_.size() > 2 ? arrays_[2].ptr() : 0;
    gpu::CUdeviceptr sink = sink_.ptr();
    void* copy_args[] = {&a, &b, &n};
    void* triad_args[] = {&a, &b, &c, &scale, &n};
    void* read_args[] = {&a, &n, &sink};
    void* write_args[] = {&a, &n, &value};
    void** args = spec_.kernel == MemoryKernel::kCopy    ? copy_args
                  : spec_.kernel == MemoryKernel::kTriad ? triad_args
                  : spec_.kernel == MemoryKernel::kRead  ? read_args
                                                         : write_args;
    if (auto ok = timed_.Start(); !ok) return tl::unexpected(ok.error());
    for (int i = 0; i < iterations; ++i) {
      if (auto ok = gpu::Launch(fn, blocks, threads, timed_.get(), args); !ok) return tl::unexpected(ok.error());
    }
    if (auto ok = timed_.Stop(); !ok) return tl::unexpected(ok.error());
    return timed_.Elapsed(Deadline(static_cast<double>(spec_.bytes_per_array) * 3 * iterations));
  }

  DeviceInfo device_;
  KernelSpec spec_;
  std::vector<Candidate> candidates_;
  size_t best_ = 0;
  gpu::TimedStream timed_;
  std::vector<gpu::DeviceMemory> arrays_;
  gpu::DeviceMemory sink_;
};

}  // namespace

Result<std::unique_ptr<TimedOp>> MakeCudaCopy(const CopySpec& spec) {
  if (!spec.src || !spec.dst) return Fail(ErrorKind::kMalformed, "copy without buffers");
  if (spec.bytes > spec.src->bytes() || spec.bytes > spec.dst->bytes()) {
    return Fail(ErrorKind::kMalformed, "copy larger than its buffers");
  }
  return CopyOp::Make(spec);
}

Result<std::unique_ptr<TimedOp>> MakeCudaKernel(const DeviceInfo& device, const KernelSpec& spec) {
  return KernelOp::Make(device, spec);
}

}  // namespace dlrig::bench
