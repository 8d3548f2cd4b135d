// The device operations the benchmarks time, behind one interface. The CUDA backend runs them
// on the GPU through the driver API (and cuBLASLt, NCCL), all dlopen'ed; the null backend runs
// none of them and answers from a model, so that the harness and every benchmark's logic (sizes,
// formulas, waivers, statistics, output) run in CI on a machine without a GPU.
//
// Every timed operation returns seconds for `iterations` repetitions, measured on the device
// (events around the work, enqueued behind a spin so that launch overhead is not timed).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench/dtype.h"
#include "core/result.h"

namespace dlrig {
struct GpuRow;
}

namespace dlrig::bench {

/// One GPU as the benchmarks see it. Values the device would not give are absent.
struct DeviceInfo {
  int index = 0;  ///< CUDA ordinal (after CUDA_VISIBLE_DEVICES)
  std::string name;
  std::string uuid;
  std::string pci_bus_id;  ///< "0000:01:00.0"
  int cc_major = 0;
  int cc_minor = 0;
  int sm_count = 0;
  size_t memory_total = 0;
  size_t memory_free = 0;
  size_t l2_bytes = 0;
  std::optional<int> sm_clock_max_mhz;
  std::optional<int> memory_clock_max_mhz;
  std::optional<int> memory_bus_bits;
  std::optional<int> pcie_gen_max;    ///< what the link can reach (min of GPU and slot)
  std::optional<int> pcie_width_max;
  std::optional<int> pcie_gen_now;
  std::optional<int> pcie_width_now;
  std::optional<int> numa_node;
  int nvlinks_active = 0;
  std::optional<int> nvlink_version;
  std::optional<double> power_limit_w;
  const GpuRow* catalog = nullptr;  ///< data/gpus.toml row, when the PCI id is known
};

/// Whether two GPUs can reach each other's memory directly, and over what.
struct PeerLink {
  bool access = false;     ///< cuDeviceCanAccessPeer
  std::string path;        ///< "NVLink", "PCIe", or the reason access is off
  int nvlinks = 0;         ///< NVLink links between the two (NVSwitch: active links of a GPU)
};

enum class Memory { kDevice, kPinned, kPageable };

/// Memory owned by the backend; freed when the handle goes.
class Buffer {
 public:
  virtual ~Buffer() = default;
  Memory memory() const { return memory_; }
  int device() const { return device_; }  ///< for host memory: the GPU it is local to
  size_t bytes() const { return bytes_; }

 protected:
  Buffer(Memory memory, int device, size_t bytes) : memory_(memory), device_(device), bytes_(bytes) {}

 private:
  Memory memory_;
  int device_;
  size_t bytes_;
};

/// Something the harness can time: `iterations` repetitions, seconds on the device clock.
class TimedOp {
 public:
  virtual ~TimedOp() = default;
  virtual Result<double> Time(int iterations) = 0;
  /// How it runs, for the record ("copy engine", "512 threads x 1056 blocks", NCCL's algorithm).
  virtual std::string detail() const { return {}; }
};

/// Copy engine transfers: host<->device (pinned or pageable), device->device on one GPU or
/// between two. With `both_ways` a second stream copies the other way at the same time and the
/// time is that of the slower direction (bytes then count twice).
struct CopySpec {
  Buffer* dst = nullptr;
  Buffer* src = nullptr;
  size_t bytes = 0;
  bool both_ways = false;
};

/// Our own memory kernels (PTX shipped in the binary).
enum class MemoryKernel { kCopy, kTriad, kRead, kWrite };

struct KernelSpec {
  MemoryKernel kernel = MemoryKernel::kCopy;
  int device = 0;
  size_t bytes_per_array = 0;  ///< each of the 2 (copy) or 3 (triad) arrays
};

/// A matrix product D = A·B on one GPU (column-major, cuBLASLt's convention). fp8 is run as
/// TN (A transposed), as Hopper and Ada require.
struct GemmSpec {
  int device = 0;
  DType dtype = DType::kBf16;
  int m = 8192;
  int n = 8192;
  int k = 8192;
  /// A stored transposed ("TN"); fp8 and int8 are always TN. cuBLASLt's fastest kernel can
  /// differ between layouts, so the benchmark tries both for the other types.
  bool transpose_a = false;
};

/// A prepared matrix product: its heuristic candidates, each of which can be timed.
class GemmOp {
 public:
  virtual ~GemmOp() = default;
  /// Candidate algorithms, best first by cuBLASLt's heuristic (at most the k asked for).
  virtual size_t candidates() const = 0;
  virtual std::string CandidateName(size_t i) const = 0;
  virtual Result<double> Time(size_t candidate, int iterations) = 0;
};

enum class Collective { kAllReduce, kAllGather, kReduceScatter };

/// One NCCL collective over every listed GPU, one process driving them all. `bytes` is nccl-tests'
/// size: the buffer of all-reduce, the gathered (output) buffer of all-gather, the input buffer
/// of reduce-scatter.
struct CollectiveSpec {
  Collective op = Collective::kAllReduce;
  std::vector<int> devices;
  size_t bytes = 0;
  DType dtype = DType::kFp32;
};

/// gpu-burn's method on one GPU: the same product computed into many result slots, each slot
/// compared with the first; any difference is a fault of the GPU.
struct BurnSpec {
  int device = 0;
  DType dtype = DType::kFp32;  ///< fp32, tf32, bf16, fp16 or fp64
  int n = 8192;                ///< square matrices
  double memory_fraction = 0.9;  ///< of free memory, spent on result slots
};

struct BurnStep {
  double flop = 0;        ///< work done in this step
  double seconds = 0;     ///< device time of the products
  long long slots = 0;    ///< products compared
  long long mismatches = 0;  ///< elements that differed from the first slot beyond tolerance
};

class BurnOp {
 public:
  virtual ~BurnOp() = default;
  virtual int slots() const = 0;
  /// One round: every slot computed, then compared.
  virtual Result<BurnStep> Step() = 0;
};

/// cuda_memtest / DCGM memtest patterns.
enum class MemtestPattern {
  kWalkingOnes,      ///< test 0: address lines
  kOwnAddress,       ///< test 1: each word holds its address
  kMovingInversions, ///< test 2: all ones / all zeros, written, checked, complemented
  kMovingInversions8, ///< test 3: 8-bit walking pattern
  kRandom,           ///< test 4: random pattern and its complement
  kModulo20,         ///< test 8: every 20th word differs
};

struct MemtestSpec {
  int device = 0;
  double memory_fraction = 0.9;  ///< of free memory
};

struct MemtestPass {
  long long words = 0;           ///< 32-bit words checked
  long long errors = 0;          ///< words that read back wrong
  std::vector<uint64_t> bad_offsets;  ///< byte offsets of the first errors (at most 64)
  double seconds = 0;
};

class MemtestOp {
 public:
  virtual ~MemtestOp() = default;
  virtual size_t bytes() const = 0;
  virtual Result<MemtestPass> Run(MemtestPattern pattern, uint32_t seed) = 0;
};

/// Clocks, power and throttling of one GPU over a run, sampled while it ran.
struct Telemetry {
  int samples = 0;
  std::optional<double> sm_clock_mean_mhz;
  std::optional<double> sm_clock_min_mhz;
  std::optional<double> memory_clock_mean_mhz;
  std::optional<double> power_mean_w;
  std::optional<double> power_max_w;
  std::optional<double> temperature_max_c;
  std::vector<std::string> throttle_reasons;  ///< every reason seen active, NVML's names
};

/// Watches the GPUs from Begin() to End(); sampling runs beside the work, never in it.
class TelemetryWatch {
 public:
  virtual ~TelemetryWatch() = default;
  virtual void Begin() = 0;
  /// What was seen since Begin(), one entry per device given to Watch(), in that order.
  virtual std::vector<Telemetry> End() = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;  ///< "cuda", "null"
  virtual const std::vector<DeviceInfo>& devices() const = 0;
  /// The NVIDIA driver version ("580.159.04"), or "" when there is none or it did not say.
  virtual std::string driver() const { return {}; }
  /// Library versions and where they were loaded from ("cuda driver" -> "13.0").
  virtual std::vector<std::pair<std::string, std::string>> libraries() const = 0;

  virtual Result<std::unique_ptr<Buffer>> Allocate(Memory memory, int device, size_t bytes) = 0;
  /// Random bytes, or random normal values of `dtype` (never zeros: power depends on the data).
  virtual Result<void> FillRandom(Buffer& buffer, DType dtype, uint64_t seed) = 0;

  /// The bytes of a host buffer; nullptr for device memory.
  virtual void* HostData(Buffer& buffer) = 0;
  /// Copies `bytes` of host memory into a device buffer and waits: what a data loader does with
  /// each batch read from disk.
  virtual Result<void> Upload(const void* src, size_t bytes, Buffer& device) = 0;

  virtual PeerLink Peer(int a, int b) = 0;
  virtual Result<std::unique_ptr<TimedOp>> Copy(const CopySpec& spec) = 0;
  virtual Result<std::unique_ptr<TimedOp>> Kernel(const KernelSpec& spec) = 0;
  /// `top_k` heuristic candidates; kUnsupported when the GPU or cuBLASLt lacks the dtype.
  virtual Result<std::unique_ptr<GemmOp>> Gemm(const GemmSpec& spec, int top_k) = 0;
  virtual Result<std::unique_ptr<TimedOp>> Collect(const CollectiveSpec& spec) = 0;
  virtual Result<std::unique_ptr<BurnOp>> Burn(const BurnSpec& spec) = 0;
  virtual Result<std::unique_ptr<MemtestOp>> Memtest(const MemtestSpec& spec) = 0;
  /// `devices` to watch; sampling stops at End().
  virtual std::unique_ptr<TelemetryWatch> Watch(const std::vector<int>& devices) = 0;
};

}  // namespace dlrig::bench
