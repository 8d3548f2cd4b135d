// The memtest operation on a GPU: most of its free memory, taken in chunks, run through the
// cuda_memtest patterns of src/gpu/kernels/memtest.cu.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "bench/cuda_ops.h"
#include "gpu/kernels.h"
#include "gpu/kernels/memtest_patterns.cuh"

namespace dlrig::bench {
namespace {

namespace mt = dlrig_memtest;

constexpr size_t kMiB = size_t{1} << 20;
// 1 GiB chunks, halved down to 64 MiB when the allocator cannot give a whole one (memory held
// by other processes is fragmented); below 256 MiB in all the test would say little.
constexpr size_t kChunkBytes = size_t{1} << 30;
constexpr size_t kMinChunkBytes = 64 * kMiB;
constexpr size_t kFloorBytes = 256 * kMiB;
constexpr unsigned kThreads = 256;
constexpr unsigned kBlocksPerSm = 2048 / kThreads;  // a full SM on every GPU since Volta
constexpr uint32_t kComplement = 0xffffffffU;

// A pattern is a list of phases; each phase is three launches over every chunk: write, check
// and write the complement, check the complement.
struct Phase {
  bool walk = false;  // walking ones (sparse), else a bulk pattern of `kind`
  uint32_t kind = mt::kFill;
  uint32_t value = 0;      // kRandom: the seed; chunks key it with ChunkKey
  uint32_t offset = 0;     // kModulo20: which word in 20 holds `value`
  uint32_t span_log2 = 0;  // walk: words per span as a power of two; 0 = the whole chunk
};

std::vector<Phase> Phases(MemtestPattern pattern, uint32_t seed) {
  std::vector<Phase> phases;
  switch (pattern) {
    case MemtestPattern::kWalkingOnes:
      // cuda_memtest test 0: the address lines of the whole chunk, then of every 1 MiB block.
      phases.push_back({.walk = true, .span_log2 = 0});
      phases.push_back({.walk = true, .span_log2 = mt::kBlockWordsLog2});
      break;
    case MemtestPattern::kOwnAddress:
      phases.push_back({.kind = mt::kOwnAddress});
      break;
    case MemtestPattern::kMovingInversions:
      phases.push_back({.kind = mt::kFill, .value = 0});
      phases.push_back({.kind = mt::kFill, .value = kComplement});
      break;
    case MemtestPattern::kMovingInversions8:
      // cuda_memtest runs 0x80808080 only; the README's "walking" pattern moves the bit through
      // all eight places, as memtest86's test 3 does.
      for (uint32_t step = 0; step < 8; ++step) {
        phases.push_back({.kind = mt::kFill, .value = mt::EightBitPattern(step)});
        phases.push_back({.kind = mt::kFill, .value = ~mt::EightBitPattern(step)});
      }
      break;
    case MemtestPattern::kRandom:
      phases.push_back({.kind = mt::kRandom, .value = seed});
      break;
    case MemtestPattern::kModulo20: {
      uint32_t p1 = mt::Mix32(seed ^ 0x2020'2020U);
      for (uint32_t offset = 0; offset < mt::kModulo; ++offset) {
        phases.push_back({.kind = mt::kModulo20, .value = p1, .offset = offset});
      }
      break;
    }
  }
  return phases;
}

const char* KindName(uint32_t kind) {
  switch (kind) {
    case mt::kOwnAddress:
      return "address";
    case mt::kRandom:
      return "random";
    case mt::kModulo20:
      return "modulo";
    default:
      return "fill";
  }
}

uint32_t SpanLog2(const Phase& phase, size_t words) {
  if (phase.span_log2) return phase.span_log2;
  uint32_t log2 = 0;
  while ((size_t{1} << log2) < words) ++log2;
  return log2;
}

struct Kernels {
  // Indexed by mt::Kind.
  std::array<gpu::CUfunction, 4> write{};
  std::array<gpu::CUfunction, 4> check{};
  gpu::CUfunction walk_write = nullptr;
  gpu::CUfunction walk_check = nullptr;
};

Result<Kernels> LoadKernels(int device) {
  Kernels k;
  auto load = [&](const std::string& entry, gpu::CUfunction& out) -> Result<void> {
    auto f = gpu::LoadKernel(device, "memtest", entry.c_str());
    if (!f) return tl::unexpected(f.error());
    out = *f;
    return {};
  };
  for (uint32_t kind = 0; kind < 4; ++kind) {
    if (auto ok = load(fmt::format("dlrig_memtest_write_{}", KindName(kind)), k.write[kind]); !ok) {
      return tl::unexpected(ok.error());
    }
    if (auto ok = load(fmt::format("dlrig_memtest_check_{}", KindName(kind)), k.check[kind]); !ok) {
      return tl::unexpected(ok.error());
    }
  }
  if (auto ok = load("dlrig_memtest_walk_write", k.walk_write); !ok)
    return tl::unexpected(ok.error());
  if (auto ok = load("dlrig_memtest_walk_check", k.walk_check); !ok)
    return tl::unexpected(ok.error());
  return k;
}

class CudaMemtest final : public MemtestOp {
 public:
  CudaMemtest(int device, unsigned blocks, Kernels kernels, std::vector<gpu::DeviceMemory> chunks,
              gpu::DeviceMemory record, gpu::PinnedMemory host_record, gpu::TimedStream timed)
      : device_(device),
        blocks_(blocks),
        kernels_(kernels),
        chunks_(std::move(chunks)),
        record_(std::move(record)),
        host_record_(std::move(host_record)),
        timed_(std::move(timed)) {
    for (const auto& c : chunks_) bytes_ += c.bytes();
  }

  size_t bytes() const override { return bytes_; }

  Result<MemtestPass> Run(MemtestPattern pattern, uint32_t seed) override {
    auto& d = *gpu::CudaDriver::Get();
    if (auto ok = gpu::UseDevice(device_); !ok) return tl::unexpected(ok.error());
    if (auto ok =
            d->Check(d->cuMemsetD32Async(record_.ptr(), 0, mt::kRecordWords * 2, timed_.get()),
                     "cuMemsetD32Async");
        !ok) {
      return tl::unexpected(ok.error());
    }
    MemtestPass pass;
    for (const Phase& phase : Phases(pattern, seed)) {
      for (int step = 0; step < 3; ++step) {
        auto seconds = Step(phase, step);
        if (!seconds) return tl::unexpected(seconds.error());
        pass.seconds += *seconds;
      }
      pass.words += 2 * static_cast<long long>(WordsChecked(phase));
    }
    if (auto ok = ReadRecord(pass); !ok) return tl::unexpected(ok.error());
    return pass;
  }

 private:
  // A step that moves every byte twice at 10 GB/s would be slow for any GPU since 2012; past
  // that and 20 s of slack the GPU is taken as hung.
  double Deadline() const { return 20.0 + 2.0 * static_cast<double>(bytes_) / 10e9; }

  size_t WordsChecked(const Phase& phase) const {
    size_t words = 0;
    for (const auto& c : chunks_) {
      size_t w = c.bytes() / 4;
      words += phase.walk ? mt::WalkWordsInChunk(w, SpanLog2(phase, w)) : w;
    }
    return words;
  }

  // Step 0 writes the pattern; 1 checks it and writes its complement; 2 checks the complement.
  Result<double> Step(const Phase& phase, int step) {
    uint32_t flip = step == 2 ? kComplement : 0;
    uint32_t rewrite = step == 1 ? 1 : 0;
    gpu::CUdeviceptr record = record_.ptr();
    if (auto ok = timed_.Start(); !ok) return tl::unexpected(ok.error());
    for (size_t c = 0; c < chunks_.size(); ++c) {
      gpu::CUdeviceptr p = chunks_[c].ptr();
      size_t words = chunks_[c].bytes() / 4;
      Result<void> ok;
      if (phase.walk) {
        uint32_t span_log2 = SpanLog2(phase, words);
        size_t spans = (words + (size_t{1} << span_log2) - 1) >> span_log2;
        auto blocks =
            static_cast<unsigned>(std::min<size_t>(blocks_, (spans + kThreads - 1) / kThreads));
        // The write kernels take the leading arguments only.
        void* args[] = {&p, &words, &span_log2, &flip, &rewrite, &record};
        ok = gpu::Launch(step == 0 ? kernels_.walk_write : kernels_.walk_check, blocks, kThreads,
                         timed_.get(), args);
      } else {
        size_t n = chunks_[c].bytes() / 16;
        uint32_t value = phase.kind == mt::kRandom
                             ? mt::ChunkKey(phase.value, static_cast<uint32_t>(c))
                             : phase.value;
        uint32_t offset = phase.offset;
        void* args[] = {&p, &n, &value, &offset, &flip, &rewrite, &record};
        ok = gpu::Launch(step == 0 ? kernels_.write[phase.kind] : kernels_.check[phase.kind],
                         blocks_, kThreads, timed_.get(), args);
      }
      if (!ok) return tl::unexpected(ok.error());
    }
    if (auto ok = timed_.Stop(); !ok) return tl::unexpected(ok.error());
    return timed_.Elapsed(Deadline());
  }

  Result<void> ReadRecord(MemtestPass& pass) {
    auto& d = *gpu::CudaDriver::Get();
    size_t bytes = mt::kRecordWords * sizeof(uint64_t);
    if (auto ok =
            d->Check(d->cuMemcpyDtoHAsync(host_record_.data(), record_.ptr(), bytes, timed_.get()),
                     "cuMemcpyDtoHAsync");
        !ok) {
      return ok;
    }
    if (auto ok = timed_.Sync(Deadline()); !ok) return ok;
    std::array<uint64_t, mt::kRecordWords> record{};
    std::memcpy(record.data(), host_record_.data(), bytes);
    pass.errors = static_cast<long long>(record[0]);
    uint64_t kept = std::min<uint64_t>(record[1], mt::kMaxRecorded);
    pass.bad_offsets.assign(record.begin() + 2, record.begin() + 2 + static_cast<ptrdiff_t>(kept));
    std::sort(pass.bad_offsets.begin(), pass.bad_offsets.end());
    return {};
  }

  int device_;
  unsigned blocks_;
  Kernels kernels_;
  std::vector<gpu::DeviceMemory> chunks_;
  gpu::DeviceMemory record_;
  gpu::PinnedMemory host_record_;
  gpu::TimedStream timed_;
  size_t bytes_ = 0;
};

// Takes `target` bytes in chunks, halving the chunk when the allocator refuses; what it could
// not get is left out (the caller reports the bytes tested).
Result<std::vector<gpu::DeviceMemory>> AllocateChunks(int device, size_t target) {
  std::vector<gpu::DeviceMemory> chunks;
  size_t taken = 0;
  size_t chunk = kChunkBytes;
  while (target - taken >= kMiB) {
    size_t want = std::min(chunk, (target - taken) / kMiB * kMiB);
    auto memory = gpu::DeviceMemory::Allocate(device, want);
    if (memory) {
      taken += want;
      chunks.push_back(std::move(*memory));
      continue;
    }
    if (memory.error().kind != ErrorKind::kTooLarge) return tl::unexpected(memory.error());
    if (chunk <= kMinChunkBytes) break;
    chunk /= 2;
  }
  if (taken < std::min(target, kFloorBytes)) {
    return Fail(
        ErrorKind::kTooLarge,
        fmt::format("GPU {}: could allocate only {} MiB of the {} MiB asked for the memory test",
                    device, taken / kMiB, target / kMiB));
  }
  return chunks;
}

}  // namespace

Result<std::unique_ptr<MemtestOp>> MakeCudaMemtest(const DeviceInfo& device,
                                                   const MemtestSpec& spec) {
  const auto& driver = gpu::CudaDriver::Get();
  if (!driver) return tl::unexpected(driver.error());
  auto& d = *driver;
  if (!(spec.memory_fraction > 0 && spec.memory_fraction <= 1)) {
    return Fail(ErrorKind::kMalformed,
                fmt::format("memory fraction {} is not in (0, 1]", spec.memory_fraction));
  }
  int index = device.index;
  auto kernels = LoadKernels(index);  // also makes the device current
  if (!kernels) return tl::unexpected(kernels.error());
  // The small buffers first, so that the chunks cannot leave no room for them.
  auto record = gpu::DeviceMemory::Allocate(index, mt::kRecordWords * sizeof(uint64_t));
  if (!record) return tl::unexpected(record.error());
  auto host_record = gpu::PinnedMemory::Allocate(mt::kRecordWords * sizeof(uint64_t));
  if (!host_record) return tl::unexpected(host_record.error());
  auto timed = gpu::TimedStream::Create(index);
  if (!timed) return tl::unexpected(timed.error());

  if (auto ok = gpu::UseDevice(index); !ok) return tl::unexpected(ok.error());
  size_t free = 0;
  size_t total = 0;
  if (auto ok = d->Check(d->cuMemGetInfo(&free, &total), "cuMemGetInfo"); !ok) {
    return tl::unexpected(ok.error());
  }
  auto target = static_cast<size_t>(static_cast<double>(free) * spec.memory_fraction);
  auto chunks = AllocateChunks(index, target);
  if (!chunks) return tl::unexpected(chunks.error());
  unsigned blocks = static_cast<unsigned>(std::max(1, device.sm_count)) * kBlocksPerSm;
  return std::unique_ptr<MemtestOp>(std::make_unique<CudaMemtest>(
      index, blocks, *kernels, std::move(*chunks), std::move(*record), std::move(*host_record),
      std::move(*timed)));
}

}  // namespace dlrig::bench
