#include "bench/null_backend.h"

#include <atomic>
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

#include "knowledge/gpus.h"

namespace dlrig::bench {
namespace {

// The model: an H100 SXM (132 SMs, 1980 MHz max, HBM3 2619 MHz x 5120 bits, PCIe 5 x16, 18
// NVLink 4 links) reaching these rates. They are round numbers near what good runs reach
// (research/benchmarks.md section 0); nothing here is a measurement.
constexpr double kCopyEngineGbs = 50e9;        // host <-> device, pinned
constexpr double kPageableGbs = 18e9;
constexpr double kPeerGbs = 370e9;
constexpr double kMemoryGbs = 2900e9;          // bytes read + written
constexpr double kNvlinkBusGbs = 340e9;
constexpr double kLaunchSeconds = 5e-6;

double TensorRate(DType dtype) {  // FLOP/s
  switch (dtype) {
    case DType::kFp64: return 55e12;
    case DType::kFp32: return 50e12;
    case DType::kTf32: return 380e12;
    case DType::kFp16:
    case DType::kBf16: return 760e12;
    case DType::kFp8E4M3:
    case DType::kInt8: return 1400e12;
  }
  return 1e12;
}

// Device memory is never touched, so it is not allocated; host memory is real, because the
// storage benchmark reads files into it.
class NullBuffer final : public Buffer {
 public:
  NullBuffer(Memory memory, int device, size_t bytes) : Buffer(memory, device, bytes) {
    if (memory != Memory::kDevice) host_ = std::aligned_alloc(4096, (bytes + 4095) / 4096 * 4096);
  }
  ~NullBuffer() override { std::free(host_); }
  void* host() const { return host_; }

 private:
  void* host_ = nullptr;
};

// Shared by every operation of one backend: counts operations for fail_after and gives each
// timing a small, repeatable wobble so that median and spread are exercised.
struct Model {
  NullOptions options;
  std::atomic<long long> operations{0};  // burn steps every GPU from its own thread
  Result<double> Seconds(double ideal) {
    long long n = ++operations;
    if (options.fail_after > 0 && n > options.fail_after) {
      return Fail(ErrorKind::kIo, "GPU is lost (null backend: failing after " +
                                      std::to_string(options.fail_after) + " operations)");
    }
    double wobble = 1.0 + 0.01 * std::sin(static_cast<double>(n));
    return ideal * wobble + kLaunchSeconds;
  }
};

class NullTimed final : public TimedOp {
 public:
  NullTimed(Model& model, double seconds_per_iteration)
      : model_(model), per_iteration_(seconds_per_iteration) {}
  Result<double> Time(int iterations) override { return model_.Seconds(per_iteration_ * iterations); }

 private:
  Model& model_;
  double per_iteration_;
};

class NullGemm final : public GemmOp {
 public:
  NullGemm(Model& model, double flop, DType dtype, int k) : model_(model), flop_(flop), dtype_(dtype), k_(k) {}
  size_t candidates() const override { return static_cast<size_t>(k_); }
  std::string CandidateName(size_t i) const override { return fmt::format("null-algo-{}", i); }
  Result<double> Time(size_t candidate, int iterations) override {
    // Later candidates are a little slower, as heuristics' lower-ranked picks usually are.
    double rate = TensorRate(dtype_) * (1.0 - 0.02 * static_cast<double>(candidate));
    return model_.Seconds(flop_ / rate * iterations);
  }

 private:
  Model& model_;
  double flop_;
  DType dtype_;
  int k_;
};

class NullBurn final : public BurnOp {
 public:
  NullBurn(Model& model, const BurnSpec& spec) : model_(model), spec_(spec) {}
  int slots() const override { return 8; }
  Result<BurnStep> Step() override {
    double flop = 2.0 * spec_.n * spec_.n * spec_.n * slots();
    auto s = model_.Seconds(flop / TensorRate(spec_.dtype));
    if (!s) return tl::unexpected(s.error());
    return BurnStep{.flop = flop, .seconds = *s, .slots = slots(), .mismatches = model_.options.errors};
  }

 private:
  Model& model_;
  BurnSpec spec_;
};

class NullMemtest final : public MemtestOp {
 public:
  NullMemtest(Model& model, size_t bytes) : model_(model), bytes_(bytes) {}
  size_t bytes() const override { return bytes_; }
  Result<MemtestPass> Run(MemtestPattern, uint32_t) override {
    auto s = model_.Seconds(3.0 * static_cast<double>(bytes_) / kMemoryGbs);
    if (!s) return tl::unexpected(s.error());
    MemtestPass pass{.words = static_cast<long long>(bytes_ / 4), .errors = model_.options.errors, .seconds = *s};
    for (long long i = 0; i < std::min<long long>(model_.options.errors, 64); ++i) {
      pass.bad_offsets.push_back(0x1000 * static_cast<uint64_t>(i + 1));
    }
    return pass;
  }

 private:
  Model& model_;
  size_t bytes_;
};

class NullWatch final : public TelemetryWatch {
 public:
  explicit NullWatch(size_t devices) : devices_(devices) {}
  void Begin() override {}
  std::vector<Telemetry> End() override {
    Telemetry t{.samples = 1, .sm_clock_mean_mhz = 1980, .sm_clock_min_mhz = 1980,
                .memory_clock_mean_mhz = 2619, .power_mean_w = 350, .power_max_w = 400,
                .temperature_max_c = 50};
    return std::vector<Telemetry>(devices_, t);
  }

 private:
  size_t devices_;
};

class NullBackend final : public Backend {
 public:
  explicit NullBackend(const NullOptions& options) {
    model_.options = options;
    const auto& catalog = GpuCatalog::BuiltIn();
    const GpuRow* h100 = catalog ? catalog->Find(0x10de, 0x2330) : nullptr;
    for (int i = 0; i < options.devices; ++i) {
      devices_.push_back({.index = i,
                          .name = "null H100 80GB HBM3 (modelled)",
                          .uuid = fmt::format("GPU-null-{}", i),
                          .pci_bus_id = fmt::format("0000:{:02x}:00.0", 0x18 + i),
                          .cc_major = 9,
                          .cc_minor = 0,
                          .sm_count = 132,
                          .memory_total = 85899345920ULL,
                          .memory_free = 84825604096ULL,
                          .l2_bytes = 52428800,
                          .sm_clock_max_mhz = 1980,
                          .memory_clock_max_mhz = 2619,
                          .memory_bus_bits = 5120,
                          .pcie_gen_max = 5,
                          .pcie_width_max = 16,
                          .pcie_gen_now = 5,
                          .pcie_width_now = 16,
                          .numa_node = 0,
                          .nvlinks_active = 18,
                          .nvlink_version = 4,
                          .power_limit_w = 700,
                          .catalog = h100});
    }
  }

  std::string name() const override { return model_.options.name; }
  const std::vector<DeviceInfo>& devices() const override { return devices_; }
  std::vector<std::pair<std::string, std::string>> libraries() const override {
    return {{model_.options.name, "no GPU library loaded"}};
  }

  Result<std::unique_ptr<Buffer>> Allocate(Memory memory, int device, size_t bytes) override {
    if (auto bad = CheckDevice(device); !bad) return tl::unexpected(bad.error());
    auto buffer = std::make_unique<NullBuffer>(memory, device, bytes);
    if (memory != Memory::kDevice && !buffer->host()) {
      return Fail(ErrorKind::kTooLarge, fmt::format("cannot allocate {} bytes of host memory", bytes));
    }
    return std::unique_ptr<Buffer>(std::move(buffer));
  }
  Result<void> FillRandom(Buffer&, DType, uint64_t) override { return {}; }
  void* HostData(Buffer& buffer) override { return static_cast<NullBuffer&>(buffer).host(); }
  Result<void> Upload(const void*, size_t bytes, Buffer& device) override {
    if (bytes > device.bytes()) return Fail(ErrorKind::kMalformed, "upload larger than its buffer");
    return {};
  }

  PeerLink Peer(int a, int b) override {
    if (a == b) return {.access = false, .path = "same GPU"};
    return {.access = true, .path = "NVLink", .nvlinks = 18};
  }

  Result<std::unique_ptr<TimedOp>> Copy(const CopySpec& spec) override {
    if (!spec.src || !spec.dst) return Fail(ErrorKind::kMalformed, "copy without buffers");
    double rate = kCopyEngineGbs;
    bool host = spec.src->memory() != Memory::kDevice || spec.dst->memory() != Memory::kDevice;
    if (host && (spec.src->memory() == Memory::kPageable || spec.dst->memory() == Memory::kPageable)) {
      rate = kPageableGbs;
    } else if (!host) {
      rate = spec.src->device() == spec.dst->device() ? kMemoryGbs / 2 : kPeerGbs;
    }
    // Both ways at once: each direction runs at its own rate, so the time is one direction's.
    return std::unique_ptr<TimedOp>(
        std::make_unique<NullTimed>(model_, static_cast<double>(spec.bytes) / rate));
  }

  Result<std::unique_ptr<TimedOp>> Kernel(const KernelSpec& spec) override {
    if (auto bad = CheckDevice(spec.device); !bad) return tl::unexpected(bad.error());
    double arrays = spec.kernel == MemoryKernel::kTriad ? 3 : spec.kernel == MemoryKernel::kCopy ? 2 : 1;
    return std::unique_ptr<TimedOp>(std::make_unique<NullTimed>(
        model_, arrays * static_cast<double>(spec.bytes_per_array) / kMemoryGbs));
  }

  Result<std::unique_ptr<GemmOp>> Gemm(const GemmSpec& spec, int top_k) override {
    if (auto bad = CheckDevice(spec.device); !bad) return tl::unexpected(bad.error());
    double flop = 2.0 * spec.m * spec.n * spec.k;
    return std::unique_ptr<GemmOp>(std::make_unique<NullGemm>(model_, flop, spec.dtype, top_k));
  }

  Result<std::unique_ptr<TimedOp>> Collect(const CollectiveSpec& spec) override {
    if (spec.devices.size() < 2) return Fail(ErrorKind::kUnsupported, "a collective needs 2 GPUs");
    double n = static_cast<double>(spec.devices.size());
    double factor = spec.op == Collective::kAllReduce ? 2 * (n - 1) / n : (n - 1) / n;
    double seconds = static_cast<double>(spec.bytes) * factor / kNvlinkBusGbs;
    return std::unique_ptr<TimedOp>(std::make_unique<NullTimed>(model_, seconds));
  }

  Result<std::unique_ptr<BurnOp>> Burn(const BurnSpec& spec) override {
    if (auto bad = CheckDevice(spec.device); !bad) return tl::unexpected(bad.error());
    return std::unique_ptr<BurnOp>(std::make_unique<NullBurn>(model_, spec));
  }

  Result<std::unique_ptr<MemtestOp>> Memtest(const MemtestSpec& spec) override {
    if (auto bad = CheckDevice(spec.device); !bad) return tl::unexpected(bad.error());
    auto bytes = static_cast<size_t>(static_cast<double>(devices_[spec.device].memory_free) * spec.memory_fraction);
    return std::unique_ptr<MemtestOp>(std::make_unique<NullMemtest>(model_, bytes));
  }

  std::unique_ptr<TelemetryWatch> Watch(const std::vector<int>& devices) override {
    return std::make_unique<NullWatch>(devices.size());
  }

 private:
  Result<void> CheckDevice(int device) const {
    if (device < 0 || device >= static_cast<int>(devices_.size())) {
      return Fail(ErrorKind::kNotFound, fmt::format("no GPU {}", device));
    }
    return {};
  }

  Model model_;
  std::vector<DeviceInfo> devices_;
};

}  // namespace

std::unique_ptr<Backend> MakeNullBackend(const NullOptions& options) {
  return std::make_unique<NullBackend>(options);
}

}  // namespace dlrig::bench
