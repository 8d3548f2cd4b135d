// The storage engine: fio's libaio engine, reduced to what the benchmark needs. Each thread owns
// one file, one AIO context and queue_depth buffers; it keeps the queue full, resubmitting each
// buffer as its completion is reaped, until the time is up, then drains what is in flight
// (counted, as fio counts it). The files themselves are storage_files.cc's.
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <latch>
#include <optional>
#include <span>
#include <system_error>
#include <thread>
#include <vector>

#include "bench/linux_aio.h"
#include "bench/storage.h"
#include "bench/storage_files.h"
#include "core/strings.h"

namespace dlrig::bench {

namespace {

using storage_detail::BenchFile;
using storage_detail::CheckDirectory;
using storage_detail::CreateBenchFile;
using storage_detail::DirectRefused;
using storage_detail::ErrnoError;
using storage_detail::LayOut;
using storage_detail::NoSpace;
using storage_detail::Preallocate;
using storage_detail::Rng;
using storage_detail::Stamp;

constexpr size_t kAlign = 4096;

uint64_t NowNs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

/// The I/O buffers of one thread: one per slot from the caller's allocator, or else one
/// page-aligned region cut into slots, as fio allocates its io_u buffers (mem=malloc).
class Buffers {
 public:
  Buffers(const BufferAllocator& allocator, size_t bytes) : allocator_(allocator), bytes_(bytes) {}
  Buffers(const Buffers&) = delete;
  Buffers& operator=(const Buffers&) = delete;
  ~Buffers() {
    if (!allocator_.release) {
      std::free(region_);
      return;
    }
    for (void* p : ptrs_) allocator_.release(p, bytes_);
  }
  Result<void> Allocate(size_t count) {
    if (!allocator_.allocate) {
      if (posix_memalign(&region_, kAlign, count * bytes_) != 0)
        return Fail(ErrorKind::kIo,
                    fmt::format("out of memory for {} of I/O buffers", HumanBytes(count * bytes_)));
      for (size_t i = 0; i < count; ++i) ptrs_.push_back(static_cast<char*>(region_) + i * bytes_);
      return {};
    }
    for (size_t i = 0; i < count; ++i) {
      void* p = allocator_.allocate(bytes_);
      if (p == nullptr)
        return Fail(ErrorKind::kIo, fmt::format("the buffer allocator returned no memory for "
                                                "{} bytes",
                                                bytes_));
      ptrs_.push_back(p);
      if (reinterpret_cast<uintptr_t>(p) % kAlign != 0)
        return Fail(ErrorKind::kMalformed,
                    "the buffer allocator returned memory not aligned to "
                    "4096 bytes, which O_DIRECT needs");
    }
    return {};
  }
  void* operator[](size_t i) const { return ptrs_[i]; }

 private:
  const BufferAllocator& allocator_;
  size_t bytes_;
  void* region_ = nullptr;
  std::vector<void*> ptrs_;
};

Error CompletionError(const StorageSpec& spec, long long res, uint64_t offset) {
  if (res < 0) {
    int err = static_cast<int>(-res);
    if (err == EINVAL && spec.direct) return DirectRefused(spec.dir);
    if (err == ENOSPC || err == EDQUOT) return NoSpace(spec.dir, "writing");
    return ErrnoError(err, fmt::format("{} at offset {} in {}",
                                       IsRead(spec.pattern) ? "read" : "write", offset, spec.dir));
  }
  return Error{ErrorKind::kIo, fmt::format("short {}: {} of {} bytes at offset {} in {}",
                                           IsRead(spec.pattern) ? "read" : "write", res,
                                           spec.block_bytes, offset, spec.dir)};
}

struct WorkerResult {
  uint64_t bytes = 0;
  uint64_t ios = 0;
  uint64_t start_ns = 0;
  uint64_t end_ns = 0;
  LatencyHistogram latency;
  std::optional<Error> error;
};

struct StartLine {
  explicit StartLine(int parties) : latch(parties) {}
  std::latch latch;
  std::atomic<bool> abort{false};
};

/// One thread's timed run over its file: keep queue_depth I/Os in flight until the time is up.
class Worker {
 public:
  Worker(const StorageSpec& spec, int index, const BenchFile& file, WorkerResult& out)
      : spec_(spec),
        index_(index),
        file_(file),
        out_(out),
        rng_(spec.seed + 7919u * (index + 1)),
        write_nonce_(static_cast<uint64_t>(index) << 48),
        buffers_(spec.allocator, spec.block_bytes) {}

  Result<void> Prepare() {
    const auto qd = static_cast<size_t>(spec_.queue_depth);
    if (auto allocated = buffers_.Allocate(qd); !allocated) return allocated;
    // Never zeros, and every page touched before the clock starts.
    for (size_t i = 0; i < qd; ++i) rng_.Fill(buffers_[i], spec_.block_bytes);
    auto ctx = AioContext::Create(static_cast<unsigned>(spec_.queue_depth));
    if (!ctx) return tl::unexpected(ctx.error());
    ctx_.emplace(std::move(*ctx));
    return {};
  }

  Result<void> Run() {
    const auto qd = static_cast<size_t>(spec_.queue_depth);
    const AioOp op = IsRead(spec_.pattern) ? AioOp::kRead : AioOp::kWrite;
    std::vector<iocb> cbs(qd);
    std::vector<iocb*> batch;
    std::vector<uint64_t> submitted_ns(qd);
    std::vector<io_event> events(qd);
    for (size_t i = 0; i < qd; ++i) {
      cbs[i] = MakeIocb(op, file_.fd(), buffers_[i], spec_.block_bytes, NextOffset(), i);
      batch.push_back(&cbs[i]);
    }
    out_.start_ns = out_.end_ns = NowNs();
    const uint64_t deadline = out_.start_ns + static_cast<uint64_t>(spec_.seconds * 1e9);
    if (auto s = Submit(batch, submitted_ns); !s) return s;
    size_t in_flight = qd;
    std::optional<Error> failure;
    // After a failure the context's destructor waits for what is still in flight.
    while (in_flight > 0) {
      auto n = ctx_->GetEvents(1, events);
      if (!n) return tl::unexpected(failure.value_or(n.error()));
      uint64_t now = out_.end_ns = NowNs();
      bool stop = now >= deadline || failure.has_value();
      batch.clear();
      for (int e = 0; e < *n; ++e) {
        --in_flight;
        size_t slot = events[e].data;
        if (!Complete(events[e], cbs[slot], now - submitted_ns[slot], failure)) stop = true;
        if (stop) continue;
        cbs[slot].aio_offset = static_cast<int64_t>(NextOffset());
        batch.push_back(&cbs[slot]);
      }
      if (batch.empty()) continue;
      if (auto s = Submit(batch, submitted_ns); !s)
        return tl::unexpected(failure.value_or(s.error()));
      in_flight += batch.size();
    }
    if (failure) return tl::unexpected(*failure);
    return {};
  }

 private:
  uint64_t NextOffset() {
    const uint64_t blocks = spec_.file_bytes / spec_.block_bytes;
    uint64_t block = 0;
    if (spec_.pattern == StoragePattern::kRandRead || spec_.pattern == StoragePattern::kRandWrite) {
      block = rng_.Below(blocks);
    } else {
      block = next_block_;
      next_block_ = next_block_ + 1 == blocks ? 0 : next_block_ + 1;  // wraps, as fio's loops do
    }
    return block * spec_.block_bytes;
  }

  /// One io_submit per I/O (see AioContext::Submit), each timed as it goes; a write's buffer
  /// gets new contents first (Stamp), so that no two writes carry the same data.
  Result<void> Submit(std::vector<iocb*>& batch, std::vector<uint64_t>& submitted_ns) {
    for (iocb*& cb : batch) {
      if (cb->aio_lio_opcode == IOCB_CMD_PWRITE) {
        Stamp(reinterpret_cast<void*>(cb->aio_buf), cb->aio_nbytes, static_cast<uint64_t>(cb->aio_offset),
              write_nonce_++);
      }
      submitted_ns[cb->aio_data] = NowNs();
      if (auto s = ctx_->Submit(std::span<iocb*>(&cb, 1)); !s) return s;
    }
    return {};
  }

  /// Accounts one completion; false (and `failure` set once) when it failed.
  bool Complete(const io_event& event, const iocb& cb, uint64_t latency_ns,
                std::optional<Error>& failure) {
    if (event.res != static_cast<long long>(spec_.block_bytes)) {
      if (!failure) failure = CompletionError(spec_, event.res, cb.aio_offset);
      return false;
    }
    out_.bytes += spec_.block_bytes;
    ++out_.ios;
    out_.latency.Add(latency_ns);
    if (!spec_.on_read || !IsRead(spec_.pattern) || failure) return true;
    auto taken =
        spec_.on_read(reinterpret_cast<const void*>(cb.aio_buf), spec_.block_bytes, index_);
    if (!taken && !failure) failure = taken.error();
    return taken.has_value();
  }

  const StorageSpec& spec_;
  int index_;
  const BenchFile& file_;
  WorkerResult& out_;
  Rng rng_;
  uint64_t write_nonce_;  ///< counts this thread's writes, its index in the top bits
  Buffers buffers_;  // declared before ctx_: the context (which waits for I/O) goes first
  std::optional<AioContext> ctx_;
  uint64_t next_block_ = 0;
};

void RunWorker(const StorageSpec& spec, int index, const BenchFile& file, StartLine& start,
               WorkerResult& out) {
  Worker worker(spec, index, file, out);
  if (auto prepared = worker.Prepare(); !prepared) {
    out.error = prepared.error();
    start.abort = true;
  }
  start.latch.arrive_and_wait();
  if (start.abort) return;
  if (auto ran = worker.Run(); !ran) out.error = ran.error();
}

StorageResult Summarize(const StorageSpec& spec, const std::vector<WorkerResult>& results) {
  StorageResult r;
  r.pattern = spec.pattern;
  LatencyHistogram latency;
  uint64_t longest_ns = 0;
  for (const auto& w : results) {
    r.bytes += w.bytes;
    r.ios += w.ios;
    longest_ns = std::max(longest_ns, w.end_ns - w.start_ns);
    latency.Merge(w.latency);
  }
  r.seconds = double(longest_ns) / 1e9;
  if (r.seconds > 0) {
    r.gb_per_s = double(r.bytes) / r.seconds / 1e9;
    r.mib_per_s = double(r.bytes) / r.seconds / double(1u << 20);
    r.iops = double(r.ios) / r.seconds;
  }
  r.lat_p50_us = latency.PercentileNs(0.50) / 1e3;
  r.lat_p99_us = latency.PercentileNs(0.99) / 1e3;
  return r;
}

}  // namespace

Result<StorageResult> RunStorage(const StorageSpec& spec) {
  if (auto valid = ValidateStorageSpec(spec); !valid) return tl::unexpected(valid.error());
  if (auto dir = CheckDirectory(spec); !dir) return tl::unexpected(dir.error());
  Rng rng(spec.seed ^ NowNs());
  std::vector<BenchFile> files;
  uint64_t t0 = NowNs();
  // One file after the other, each written whole before the next is made, as fio lays them
  // out: written side by side, the files would interleave on a thin-provisioned disk (a VM's
  // image) and a "sequential" read of one would not be sequential below.
  for (int i = 0; i < spec.threads; ++i) {
    auto file = CreateBenchFile(spec, i, rng);
    if (!file) return tl::unexpected(file.error());
    files.push_back(std::move(*file));
    if (auto reserved = Preallocate(spec, files.back()); !reserved)
      return tl::unexpected(reserved.error());
    if (!IsRead(spec.pattern)) continue;
    if (auto laid = LayOut(spec, files.back(), rng); !laid) return tl::unexpected(laid.error());
  }
  double layout_seconds = double(NowNs() - t0) / 1e9;
  std::vector<WorkerResult> results(static_cast<size_t>(spec.threads));
  StartLine start(spec.threads + 1);
  std::vector<std::thread> workers;
  for (int i = 0; i < spec.threads; ++i) {
    try {
      workers.emplace_back(RunWorker, std::cref(spec), i, std::cref(files[i]), std::ref(start),
                           std::ref(results[i]));
    } catch (const std::system_error& e) {
      results[i].error = Error{ErrorKind::kIo, std::string("cannot start a thread: ") + e.what()};
      start.abort = true;
      start.latch.count_down(spec.threads - i);  // for this one and those never started
      break;
    }
  }
  start.latch.arrive_and_wait();
  for (auto& w : workers) w.join();
  for (const auto& w : results)
    if (w.error) return tl::unexpected(*w.error);
  StorageResult r = Summarize(spec, results);
  if (IsRead(spec.pattern)) {
    r.layout_bytes = uint64_t(spec.threads) * spec.file_bytes;
    r.layout_seconds = layout_seconds;
  }
  return r;
}

}  // namespace dlrig::bench
