#include "bench/cuda_backend.h"

#include <algorithm>
#include <cstdlib>

#include <fmt/format.h>

#include "bench/cuda_buffers.h"
#include "bench/cuda_ops.h"
#include "bench/cuda_telemetry.h"
#include "core/root.h"
#include "core/strings.h"
#include "gpu/cublaslt.h"
#include "gpu/cuda_driver.h"
#include "gpu/nccl.h"
#include "gpu/kernels.h"
#include "knowledge/gpus.h"
#include "knowledge/tensor_rates.h"
#include "probe/driver_query.h"

namespace dlrig::bench {
namespace {

using gpu::CudaDriver;

template <class T>
std::optional<int> Int(const Result<T>& r) {
  if (!r) return std::nullopt;
  return static_cast<int>(*r);
}

std::string BusId(int domain, int bus, int device) {
  return fmt::format("{:04x}:{:02x}:{:02x}.0", domain, bus, device);
}

// NVML writes "00000000:18:00.0"; CUDA's attributes give domain, bus and device numbers.
std::string ShortBusId(std::string_view nvml) {
  std::string id = ToLower(nvml);
  if (id.size() == 16) id = id.substr(4);
  return id;
}

std::optional<int> NumaNode(const Root& root, const std::string& bus_id) {
  auto text = root.ReadLine("/sys/bus/pci/devices/" + bus_id + "/numa_node");
  auto node = text ? ParseInt(*text) : std::nullopt;
  if (node && *node >= 0) return static_cast<int>(*node);
  return std::nullopt;
}

class CudaBackend final : public Backend {
 public:
  CudaBackend(std::vector<DeviceInfo> devices, std::vector<int> nvml_index,
              std::unique_ptr<TelemetrySource> telemetry, std::string driver)
      : devices_(std::move(devices)), nvml_index_(std::move(nvml_index)),
        telemetry_(std::move(telemetry)), driver_(std::move(driver)) {}

  ~CudaBackend() override { ReleaseCudaCollectives(); }

  std::string name() const override { return "cuda"; }
  std::string driver() const override { return driver_; }
  const std::vector<DeviceInfo>& devices() const override { return devices_; }
  std::vector<std::pair<std::string, std::string>> libraries() const override {
    std::vector<std::pair<std::string, std::string>> out;
    CudaDriver* d = *CudaDriver::Get();
    out.emplace_back("cuda driver", fmt::format("{}.{} ({})", d->version / 1000, d->version % 1000 / 10, d->path));
    std::string_view nvcc = gpu::KernelCompiler();
    out.emplace_back("device kernels", nvcc.empty() ? std::string("none (built without nvcc)")
                                                    : fmt::format("PTX {} from nvcc {}", gpu::KernelTarget(), nvcc));
    // Only what the run loaded: a benchmark that needed a missing library says why itself.
    if (const auto* lt = gpu::CublasLt::IfLoaded()) out.emplace_back("cublasLt", fmt::format("{} ({})", lt->VersionText(), lt->path));
    if (const auto* nccl = gpu::Nccl::IfLoaded()) out.emplace_back("nccl", fmt::format("{} ({})", nccl->VersionString(), nccl->path));
    return out;
  }

  Result<std::unique_ptr<Buffer>> Allocate(Memory memory, int device, size_t bytes) override {
    if (device < 0 || device >= static_cast<int>(devices_.size())) {
      return Fail(ErrorKind::kNotFound, fmt::format("no GPU {}", device));
    }
    if (memory == Memory::kDevice) {
      auto m = gpu::DeviceMemory::Allocate(device, bytes);
      if (!m) return tl::unexpected(m.error());
      return std::unique_ptr<Buffer>(std::make_unique<DeviceBuffer>(device, std::move(*m)));
    }
    if (memory == Memory::kPinned) {
      // cuMemHostAlloc needs a current context on the calling thread (the storage benchmark
      // allocates from its worker threads). The caller places the thread on the GPU's NUMA node;
      // first touch then puts the pages next to the GPU.
      if (auto ok = gpu::UseDevice(device); !ok) return tl::unexpected(ok.error());
      auto m = gpu::PinnedMemory::Allocate(bytes);
      if (!m) return tl::unexpected(m.error());
      std::memset(m->data(), 0x5a, bytes);
      return std::unique_ptr<Buffer>(
          std::make_unique<HostBuffer>(memory, device, bytes, std::move(*m), nullptr));
    }
    void* p = std::aligned_alloc(4096, (bytes + 4095) / 4096 * 4096);
    if (!p) return Fail(ErrorKind::kTooLarge, fmt::format("cannot allocate {} bytes of host memory", bytes));
    std::memset(p, 0x5a, bytes);  // touch every page: a pageable copy should not fault them in
    return std::unique_ptr<Buffer>(std::make_unique<HostBuffer>(memory, device, bytes, gpu::PinnedMemory(), p));
  }

  Result<void> FillRandom(Buffer& buffer, DType dtype, uint64_t seed) override {
    if (auto* d = dynamic_cast<DeviceBuffer*>(&buffer)) {
      auto stream = gpu::Stream::Create(d->device());
      if (!stream) return tl::unexpected(stream.error());
      if (auto ok = FillRandomDevice(d->device(), d->ptr(), d->bytes(), dtype, seed, stream->get()); !ok) {
        return ok;
      }
      return gpu::SyncStream(*stream, 60);
    }
    auto* h = static_cast<HostBuffer*>(&buffer);
    uint64_t x = seed * 0x9e3779b97f4a7c15ULL + 1;
    auto* words = static_cast<uint64_t*>(h->data());
    for (size_t i = 0; i < h->bytes() / 8; ++i) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      words[i] = x;
    }
    return {};
  }

  void* HostData(Buffer& buffer) override {
    auto* h = dynamic_cast<HostBuffer*>(&buffer);
    return h ? h->data() : nullptr;
  }
  Result<void> Upload(const void* src, size_t bytes, Buffer& device) override {
    auto* d = dynamic_cast<DeviceBuffer*>(&device);
    if (!d || bytes > d->bytes()) return Fail(ErrorKind::kMalformed, "upload to a device buffer too small");
    if (auto ok = gpu::UseDevice(d->device()); !ok) return ok;
    CudaDriver* driver = *CudaDriver::Get();
    return driver->Check(driver->cuMemcpyHtoD(d->ptr(), src, bytes), "cuMemcpyHtoD");
  }

  PeerLink Peer(int a, int b) override;
  Result<std::unique_ptr<TimedOp>> Copy(const CopySpec& spec) override;
  Result<std::unique_ptr<TimedOp>> Kernel(const KernelSpec& spec) override;
  Result<std::unique_ptr<GemmOp>> Gemm(const GemmSpec& spec, int top_k) override {
    if (auto bad = Check(spec.device); !bad) return tl::unexpected(bad.error());
    return MakeCudaGemm(devices_[spec.device], spec, top_k);
  }
  Result<std::unique_ptr<TimedOp>> Collect(const CollectiveSpec& spec) override {
    std::vector<DeviceInfo> list;
    for (int d : spec.devices) {
      if (auto bad = Check(d); !bad) return tl::unexpected(bad.error());
      list.push_back(devices_[d]);
    }
    return MakeCudaCollective(list, spec);
  }
  Result<std::unique_ptr<BurnOp>> Burn(const BurnSpec& spec) override {
    if (auto bad = Check(spec.device); !bad) return tl::unexpected(bad.error());
    return MakeCudaBurn(devices_[spec.device], spec);
  }
  Result<std::unique_ptr<MemtestOp>> Memtest(const MemtestSpec& spec) override {
    if (auto bad = Check(spec.device); !bad) return tl::unexpected(bad.error());
    return MakeCudaMemtest(devices_[spec.device], spec);
  }
  std::unique_ptr<TelemetryWatch> Watch(const std::vector<int>& devices) override {
    std::vector<int> nvml;
    for (int d : devices) nvml.push_back(d >= 0 && d < static_cast<int>(nvml_index_.size()) ? nvml_index_[d] : -1);
    return telemetry_->Watch(nvml);
  }

 private:
  Result<void> Check(int device) const {
    if (device < 0 || device >= static_cast<int>(devices_.size())) {
      return Fail(ErrorKind::kNotFound, fmt::format("no GPU {}", device));
    }
    return {};
  }

  std::vector<DeviceInfo> devices_;
  std::vector<int> nvml_index_;  ///< CUDA ordinal -> NVML index (-1: not matched)
  std::unique_ptr<TelemetrySource> telemetry_;
  std::string driver_;  ///< what NVML said, in the query the backend opened with
};

Result<std::unique_ptr<TimedOp>> CudaBackend::Copy(const CopySpec& spec) { return MakeCudaCopy(spec); }

Result<std::unique_ptr<TimedOp>> CudaBackend::Kernel(const KernelSpec& spec) {
  if (auto bad = Check(spec.device); !bad) return tl::unexpected(bad.error());
  return MakeCudaKernel(devices_[spec.device], spec);
}

PeerLink CudaBackend::Peer(int a, int b) {
  if (a == b) return {.path = "same GPU"};
  CudaDriver* d = *CudaDriver::Get();
  int can = 0;
  if (auto ok = d->Check(d->cuDeviceCanAccessPeer(&can, a, b), "cuDeviceCanAccessPeer"); !ok) {
    return {.path = ok.error().message};
  }
  if (!can) return {.path = "no peer access (copies go through host memory)"};
  for (auto [from, to] : {std::pair{a, b}, std::pair{b, a}}) {
    auto peer = gpu::PrimaryContext(to);
    if (!peer || !gpu::UseDevice(from)) return {.path = "cannot open the peer's context"};
    gpu::CUresult r = d->cuCtxEnablePeerAccess(*peer, 0);
    if (r != gpu::kCudaSuccess && r != 704) {  // 704: CUDA_ERROR_PEER_ACCESS_ALREADY_ENABLED
      return {.path = "enabling peer access failed: " + d->Describe(r)};
    }
  }
  int links = std::min(devices_[a].nvlinks_active, devices_[b].nvlinks_active);
  if (links > 0) return {.access = true, .path = "NVLink", .nvlinks = links};
  return {.access = true, .path = "PCIe"};
}

// NVML answers its own enum (NVML_NVLINK_VERSION_4_0 = 6 on an H200), not the generation, and
// some drivers answer wrongly or not at all (an H100 said "not supported" on every link); the
// compute capability decides where the two disagree.
std::optional<int> NvlinkGeneration(const DeviceInfo& info, std::optional<long long> nvml_version) {
  if (info.nvlinks_active == 0) return std::nullopt;
  const auto& rates = TensorRates::BuiltIn();
  if (!rates) return std::nullopt;
  const NvlinkRow* by_cc = rates->NvlinkForCc(info.cc_major, info.cc_minor);
  if (by_cc) return by_cc->version;
  const NvlinkRow* by_nvml = nvml_version ? rates->NvlinkForNvml(*nvml_version) : nullptr;
  if (by_nvml) return by_nvml->version;
  return std::nullopt;
}

Result<std::vector<DeviceInfo>> Describe(const DriverQuery& query, std::vector<int>* nvml_index) {
  CudaDriver* d = *CudaDriver::Get();
  int count = 0;
  if (auto ok = d->Check(d->cuDeviceGetCount(&count), "cuDeviceGetCount"); !ok) return tl::unexpected(ok.error());
  if (count == 0) return Fail(ErrorKind::kNotFound, "the CUDA driver sees no GPU (check CUDA_VISIBLE_DEVICES)");
  const auto& catalog = GpuCatalog::BuiltIn();
  auto root = Root::Open("/");
  std::vector<DeviceInfo> out;
  for (int i = 0; i < count; ++i) {
    gpu::CUdevice dev = 0;
    if (auto ok = d->Check(d->cuDeviceGet(&dev, i), "cuDeviceGet"); !ok) return tl::unexpected(ok.error());
    auto attr = [&](int a) {
      int v = 0;
      d->cuDeviceGetAttribute(&v, a, dev);
      return v;
    };
    char name[256] = {};
    d->cuDeviceGetName(name, sizeof name - 1, dev);
    size_t total = 0;
    d->cuDeviceTotalMem(&total, dev);
    DeviceInfo info{.index = i,
                    .name = name,
                    .pci_bus_id = BusId(attr(gpu::kAttrPciDomainId), attr(gpu::kAttrPciBusId),
                                        attr(gpu::kAttrPciDeviceId)),
                    .cc_major = attr(gpu::kAttrComputeCapabilityMajor),
                    .cc_minor = attr(gpu::kAttrComputeCapabilityMinor),
                    .sm_count = attr(gpu::kAttrMultiprocessorCount),
                    .memory_total = total,
                    .l2_bytes = static_cast<size_t>(attr(gpu::kAttrL2CacheSize))};
    if (int khz = attr(gpu::kAttrClockRateKhz); khz > 0) info.sm_clock_max_mhz = khz / 1000;
    if (int khz = attr(gpu::kAttrMemoryClockRateKhz); khz > 0) info.memory_clock_max_mhz = khz / 1000;
    if (int bits = attr(gpu::kAttrGlobalMemoryBusWidth); bits > 0) info.memory_bus_bits = bits;
    if (root) info.numa_node = NumaNode(*root, info.pci_bus_id);
    if (auto ctx = gpu::UseDevice(i); ctx) {
      size_t free = 0, total_now = 0;
      if (d->cuMemGetInfo(&free, &total_now) == gpu::kCudaSuccess) info.memory_free = free;
    }
    int matched = -1;
    std::optional<long long> nvml_version;
    for (const GpuFacts& f : query.nvml.devices) {
      if (!f.pci_bus_id || ShortBusId(*f.pci_bus_id) != info.pci_bus_id) continue;
      matched = f.index;
      if (f.uuid) info.uuid = *f.uuid;
      // NVML's maximum clocks are what the GPU can reach; CUDA's attributes say the same on
      // current drivers, NVML wins where both answer.
      if (auto v = Int(f.clock_sm_max_mhz)) info.sm_clock_max_mhz = v;
      if (auto v = Int(f.clock_memory_max_mhz)) info.memory_clock_max_mhz = v;
      if (auto v = Int(f.memory_bus_width_bits); v && *v > 0) info.memory_bus_bits = v;
      info.pcie_gen_max = Int(f.pcie_gen_max);
      info.pcie_width_max = Int(f.pcie_width_max);
      info.pcie_gen_now = Int(f.pcie_gen_now);
      info.pcie_width_now = Int(f.pcie_width_now);
      if (f.power_limit_mw) info.power_limit_w = static_cast<double>(*f.power_limit_mw) / 1000;
      if (f.nvlinks) {
        for (const NvLink& l : *f.nvlinks) {
          if (!l.active) continue;
          ++info.nvlinks_active;
          if (l.version) nvml_version = *l.version;
        }
      }
      if (f.pci_device_id && catalog) {
        auto packed = static_cast<unsigned long long>(*f.pci_device_id);
        info.catalog = catalog->Find(static_cast<uint16_t>(packed & 0xffff), static_cast<uint16_t>(packed >> 16));
      }
    }
    info.nvlink_version = NvlinkGeneration(info, nvml_version);
    nvml_index->push_back(matched);
    out.push_back(std::move(info));
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<Backend>> OpenCudaBackend() {
  // Everything that forks comes before cuInit: the NVML query (under a deadline, so a GPU that
  // no longer answers is named here instead of hanging the benchmark) and the sampler's child.
  // NVLink state is one of the "slow counters": a one-shot query asks them (the 2x H200 showed
  // no NVLink, and so a PCIe limit on its P2P and NCCL figures, while they were left out).
  DriverQueryOptions options{.deadline = std::chrono::milliseconds(15000), .nvlinks = true,
                             .slow_counters = true};
  DriverQuery query = QueryDriver(options);
  if (!query.cuda.device_count) {
    return Fail(query.cuda.device_count.error().kind,
                "the CUDA driver did not answer: " + query.cuda.device_count.error().message);
  }
  if (*query.cuda.device_count == 0) {
    return Fail(ErrorKind::kNotFound, "the CUDA driver sees no GPU (check CUDA_VISIBLE_DEVICES)");
  }
  auto telemetry = StartTelemetry();
  const auto& driver = CudaDriver::Get();
  if (!driver) return tl::unexpected(driver.error());
  std::vector<int> nvml_index;
  auto devices = Describe(query, &nvml_index);
  if (!devices) return tl::unexpected(devices.error());
  return std::unique_ptr<Backend>(
      std::make_unique<CudaBackend>(std::move(*devices), std::move(nvml_index), std::move(telemetry),
                                    query.nvml.driver_version.value_or("")));
}

}  // namespace dlrig::bench
