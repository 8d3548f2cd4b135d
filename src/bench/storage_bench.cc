// storage: fio-equivalent O_DIRECT reads and writes on a chosen directory, against the PCIe
// link of the disk behind it, and "file -> pinned memory -> GPU", what a data loader sees.
#include <map>
#include <mutex>

#include <fmt/format.h>

#include "bench/bench_util.h"
#include "bench/benchmarks.h"
#include "bench/storage.h"
#include "bench/storage_device.h"

namespace dlrig::bench {
namespace {

constexpr size_t kMiB = size_t{1} << 20;

std::optional<std::string> Waived(const Context& context) {
  if (context.options().storage_path.empty()) return "give --path DIR (a directory on the disk to test)";
  return std::nullopt;
}

struct Plan {
  double seconds;
  uint64_t file_bytes;
};

Plan StoragePlan(Profile p) {
  switch (p) {
    case Profile::kQuick: return {3, 256 * kMiB};
    case Profile::kDefault: return {10, 1024 * kMiB};
    case Profile::kFull: return {30, 4096 * kMiB};
  }
  return {10, 1024 * kMiB};
}

void AddDisk(Measurement& m, const Result<StorageDevice>& device) {
  if (!device) {
    m.message = "no limit: " + device.error().message;
    return;
  }
  m.params["block_device"] = device->name;
  if (!device->disks.empty()) {
    const StorageDisk& disk = device->disks.front();
    m.params["disk"] = disk.name + (disk.model ? " (" + *disk.model + ")" : "");
    m.params["transport"] = disk.transport;
  }
  if (device->limit_gb_per_s) {
    std::string formula = device->limit_reason;
    if (device->disks.size() == 1 && device->disks[0].limit) formula = device->disks[0].limit->formula;
    m.limits.push_back({.value = *device->limit_gb_per_s, .basis = "disk's PCIe link", .formula = formula, .unit = "GB/s"});
  } else {
    m.message = "no limit: " + device->limit_reason;
  }
}

Measurement FromResult(std::string key, const Result<StorageResult>& r, const StorageSpec& spec) {
  Measurement m{.key = std::move(key), .unit = "GB/s"};
  if (!r) {
    m.verdict = Verdict::kError;
    m.message = r.error().message;
    return m;
  }
  // One time-based run is one sample: fio's method. Its figure is the whole run's bytes over
  // the longest thread's time.
  m.samples = {r->gb_per_s};
  Summarize(m);
  m.seconds = r->seconds + r->layout_seconds;
  m.params["block"] = std::to_string(spec.block_bytes);
  m.params["threads"] = std::to_string(spec.threads);
  m.params["queue_depth"] = std::to_string(spec.queue_depth);
  m.params["seconds"] = fmt::format("{:g}", spec.seconds);
  m.params["iops"] = fmt::format("{:.0f}", r->iops);
  m.params["latency_p50_us"] = fmt::format("{:.1f}", r->lat_p50_us);
  m.params["latency_p99_us"] = fmt::format("{:.1f}", r->lat_p99_us);
  return m;
}

// Reads land in pinned host buffers from the backend and each is uploaded to the GPU before
// its buffer is reused: the figure is what reaches GPU memory.
Measurement ToGpu(Context& context, StorageSpec spec, int gpu) {
  Backend& backend = context.backend();
  std::mutex mutex;
  std::map<void*, std::unique_ptr<Buffer>> pinned;
  std::vector<std::unique_ptr<Buffer>> targets;
  for (int t = 0; t < spec.threads; ++t) {
    auto device = backend.Allocate(Memory::kDevice, gpu, spec.block_bytes);
    if (!device) return NotRun("storage.to-gpu", gpu, device.error());
    targets.push_back(std::move(*device));
  }
  spec.allocator.allocate = [&](size_t bytes) -> void* {
    auto b = backend.Allocate(Memory::kPinned, gpu, bytes);
    if (!b) return nullptr;
    void* p = backend.HostData(**b);
    std::lock_guard lock(mutex);
    pinned[p] = std::move(*b);
    return p;
  };
  spec.allocator.release = [&](void* p, size_t) {
    std::lock_guard lock(mutex);
    pinned.erase(p);
  };
  spec.on_read = [&](const void* data, size_t bytes, int thread) {
    return backend.Upload(data, bytes, *targets[static_cast<size_t>(thread)]);
  };
  NumaScope numa(backend.devices().at(gpu).numa_node);
  Measurement m = FromResult("storage.to-gpu", RunStorage(spec), spec);
  m.device = gpu;
  return m;
}

void Run(Context& context) {
  const Options& o = context.options();
  Plan plan = StoragePlan(o.profile);
  double seconds = plan.seconds;  // overridden below by --seconds
  auto device = ProbeStorageDevice(o.storage_path);
  struct Case {
    StoragePattern pattern;
    size_t block;
  };
  const Options::Storage& x = o.storage;
  std::vector<StoragePattern> patterns = x.patterns;
  if (patterns.empty()) {
    patterns = {StoragePattern::kSeqRead, StoragePattern::kSeqWrite};
    if (o.profile != Profile::kQuick) patterns.insert(patterns.end(), {StoragePattern::kRandRead, StoragePattern::kRandWrite});
  }
  std::vector<Case> cases;
  for (StoragePattern p : patterns) {
    bool seq = p == StoragePattern::kSeqRead || p == StoragePattern::kSeqWrite;
    cases.push_back({p, seq ? kMiB : 4096});
  }
  const int threads = x.threads > 0 ? x.threads : 4;
  const int depth = x.queue_depth > 0 ? x.queue_depth : 32;
  if (x.seconds > 0) seconds = x.seconds;
  const uint64_t file_bytes = x.file_bytes > 0 ? x.file_bytes : plan.file_bytes;
  for (const Case& c : cases) {
    size_t block = c.block >= kMiB && x.block_bytes > 0 ? x.block_bytes : c.block;
    StorageSpec spec{.dir = o.storage_path, .pattern = c.pattern, .block_bytes = block, .threads = threads,
                     .queue_depth = depth, .seconds = seconds, .file_bytes = file_bytes};
    std::string key = fmt::format("storage.{}", StoragePatternKey(c.pattern));
    context.Progress(fmt::format("{} in {}: {} blocks, {} threads x QD {}, {:g} s", key, o.storage_path,
                                 BytesLabel(block), threads, depth, seconds));
    Measurement m = FromResult(key, RunStorage(spec), spec);
    if (m.verdict != Verdict::kError) {
      AddDisk(m, device);
      // Small random blocks are bounded by the drive's IOPS, not its link: no goal for them.
      if (block >= kMiB) JudgeAgainst(m, "storage", StoragePatternKey(c.pattern));
    }
    context.Add(std::move(m));
  }
  std::vector<int> gpus = context.Devices();
  if (!gpus.empty()) {
    StorageSpec spec{.dir = o.storage_path, .pattern = StoragePattern::kSeqRead, .block_bytes = 4 * kMiB,
                     .threads = threads, .queue_depth = 8, .seconds = seconds, .file_bytes = file_bytes};
    context.Progress(fmt::format("storage.to-gpu: {} -> pinned memory -> GPU {}", o.storage_path, gpus.front()));
    Measurement m = ToGpu(context, spec, gpus.front());
    if (m.verdict != Verdict::kError && m.verdict != Verdict::kWaived) {
      AddDisk(m, device);
      Judge(m, std::nullopt, std::nullopt);
    }
    context.Add(std::move(m));
  }
}

}  // namespace

const Benchmark kStorageBenchmark = {
    .key = "storage",
    .description = "disk read/write with O_DIRECT, 4 threads x QD 32 (as fio), and file -> pinned -> GPU",
    .formula = "GB/s = bytes completed / the longest thread's time (fio's group_reporting)",
    .waived = Waived,
    .run = Run,
    .quick = true,
    .defaults = true,
};

}  // namespace dlrig::bench
