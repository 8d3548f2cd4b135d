// The storage engine: fio's libaio engine, reduced to what the benchmark needs. Each thread owns
// one file, one AIO context and queue_depth buffers; it keeps the queue full, resubmitting each
// buffer as its completion is reaped, until the time is up, then drains what is in flight
// (counted, as fio counts it). Files are laid out (reads) or preallocated (writes) as fio does.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <latch>
#include <memory>
#include <optional>
#include <system_error>
#include <thread>
#include <vector>

#include "bench/linux_aio.h"
#include "bench/storage.h"
#include "core/root.h"
#include "core/strings.h"

namespace dlrig::bench {

namespace {

constexpr size_t kAlign = 4096;
constexpr uint64_t kLayoutChunkBytes = 1u << 20;

uint64_t NowNs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

/// xoshiro256** (Blackman & Vigna), seeded through splitmix64: fast, and uniform enough that
/// random offsets cover the file evenly.
class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (auto& word : s_) {
      seed += 0x9e3779b97f4a7c15ull;
      uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
      word = z ^ (z >> 31);
    }
  }
  uint64_t Next() {
    uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }
  /// Uniform in [0, n) (Lemire's multiply-shift; bias below 2^-64 * n).
  uint64_t Below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(Next()) * n) >> 64);
  }
  void Fill(void* data, size_t bytes) {
    auto* p = static_cast<unsigned char*>(data);
    for (size_t i = 0; i < bytes; i += 8) {
      uint64_t v = Next();
      std::memcpy(p + i, &v, std::min<size_t>(8, bytes - i));
    }
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

Error ErrnoError(int err, std::string message) {
  return Error{ErrorKindFromErrno(err), message + ": " + std::strerror(err)};
}

Error DirectRefused(const std::string& dir) {
  return Error{ErrorKind::kUnsupported,
               fmt::format("{} does not support O_DIRECT (tmpfs and some overlay filesystems "
                           "refuse it): choose a directory on a real disk",
                           dir)};
}

Error NoSpace(const std::string& dir, std::string_view when) {
  return Error{ErrorKind::kIo, fmt::format("no space left on {} while {}: free some space or "
                                           "lower --size or --threads",
                                           dir, when)};
}

/// An open benchmark file, already unlinked: its space returns when the descriptor closes,
/// whichever way the run ends.
class BenchFile {
 public:
  explicit BenchFile(int fd) : fd_(fd) {}
  BenchFile(BenchFile&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  BenchFile& operator=(BenchFile&&) = delete;
  BenchFile(const BenchFile&) = delete;
  ~BenchFile() {
    if (fd_ >= 0) close(fd_);
  }
  int fd() const { return fd_; }

 private:
  int fd_;
};

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
        return Fail(ErrorKind::kIo, fmt::format("out of memory for {} of I/O buffers",
                                                HumanBytes(count * bytes_)));
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
        return Fail(ErrorKind::kMalformed, "the buffer allocator returned memory not aligned to "
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

Result<void> CheckDirectory(const StorageSpec& spec) {
  struct stat st;
  if (stat(spec.dir.c_str(), &st) != 0) {
    if (errno == ENOENT)
      return Fail(ErrorKind::kNotFound, fmt::format("directory {} does not exist", spec.dir));
    return tl::unexpected(ErrnoError(errno, "cannot use " + spec.dir));
  }
  if (!S_ISDIR(st.st_mode))
    return Fail(ErrorKind::kMalformed, fmt::format("{} is not a directory", spec.dir));
  struct statvfs fs;
  if (statvfs(spec.dir.c_str(), &fs) != 0)
    return tl::unexpected(ErrnoError(errno, "statvfs " + spec.dir));
  uint64_t free_bytes = uint64_t(fs.f_bavail) * fs.f_frsize;
  uint64_t need = uint64_t(spec.threads) * spec.file_bytes;
  // A filesystem that reports no size at all (ramfs) cannot be checked; ENOSPC still is.
  if (fs.f_blocks != 0 && double(need) > spec.max_free_fraction * double(free_bytes))
    return Fail(ErrorKind::kIo,
                fmt::format("the files need {} ({} x {}) but {} has {} free, and the benchmark "
                            "takes at most {:.0f}% of the free space: lower --size or --threads",
                            HumanBytes(need), spec.threads, HumanBytes(spec.file_bytes), spec.dir,
                            HumanBytes(free_bytes), spec.max_free_fraction * 100));
  return {};
}

Error OpenError(const std::string& dir, int err) {
  switch (err) {
    case EACCES:
    case EPERM:
      return Error{ErrorKind::kNoPermission,
                   fmt::format("cannot create files in {} (no permission): choose a writable "
                               "directory",
                               dir)};
    case EROFS:
      return Error{ErrorKind::kNoPermission, fmt::format("{} is on a read-only filesystem", dir)};
    case ENOSPC:
      return NoSpace(dir, "creating the files");
    default:
      return ErrnoError(err, "cannot create a file in " + dir);
  }
}

/// Creates a file with a name no one else uses and unlinks it at once.
Result<BenchFile> CreateBenchFile(const StorageSpec& spec, int index, Rng& rng) {
  int flags = O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | (spec.direct ? O_DIRECT : 0);
  for (int attempt = 0; attempt < 16; ++attempt) {
    std::string path = JoinPath(spec.dir, fmt::format(".dlrig-storage-{}-{}-{:016x}", getpid(),
                                                      index, rng.Next()));
    int fd = open(path.c_str(), flags, 0600);
    if (fd >= 0) {
      if (unlink(path.c_str()) != 0) {
        int err = errno;
        close(fd);
        return tl::unexpected(ErrnoError(err, "cannot remove " + path));
      }
      return BenchFile(fd);
    }
    int err = errno;
    if (err == EEXIST) continue;
    // Linux creates the file before it checks O_DIRECT: the name is ours (O_EXCL), remove it.
    if (err == EINVAL) unlink(path.c_str());
    if (err == EINVAL && spec.direct) return tl::unexpected(DirectRefused(spec.dir));
    return tl::unexpected(OpenError(spec.dir, err));
  }
  return Fail(ErrorKind::kIo, "could not find an unused file name in " + spec.dir);
}

/// Reserves the file's blocks as fio's fallocate=native does, so writes do not extend it.
Result<void> Preallocate(const StorageSpec& spec, const BenchFile& file) {
  auto size = static_cast<off_t>(spec.file_bytes);
  if (fallocate(file.fd(), 0, 0, size) == 0) return {};
  int err = errno;
  if (err == ENOSPC || err == EDQUOT) return tl::unexpected(NoSpace(spec.dir, "reserving the files"));
  if (err != EOPNOTSUPP && err != ENOSYS)
    return tl::unexpected(ErrnoError(err, "fallocate in " + spec.dir));
  if (ftruncate(file.fd(), size) != 0)
    return tl::unexpected(ErrnoError(errno, "ftruncate in " + spec.dir));
  return {};
}

/// Writes the whole file once (fio lays out files that are read), then drops it from the cache.
Result<void> LayOut(const StorageSpec& spec, const BenchFile& file, Rng& rng) {
  size_t chunk = spec.block_bytes * ((kLayoutChunkBytes + spec.block_bytes - 1) / spec.block_bytes);
  void* raw = nullptr;
  if (posix_memalign(&raw, kAlign, chunk) != 0)
    return Fail(ErrorKind::kIo, "out of memory for the layout buffer");
  std::unique_ptr<void, decltype(&std::free)> buffer(raw, &std::free);
  rng.Fill(raw, chunk);
  for (uint64_t offset = 0; offset < spec.file_bytes;) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(chunk, spec.file_bytes - offset));
    ssize_t done = pwrite(file.fd(), raw, n, static_cast<off_t>(offset));
    if (done < 0 && errno == EINTR) continue;
    if (done < 0 && (errno == ENOSPC || errno == EDQUOT))
      return tl::unexpected(NoSpace(spec.dir, "laying out the files"));
    if (done < 0 && errno == EINVAL && spec.direct) return tl::unexpected(DirectRefused(spec.dir));
    if (done <= 0) return tl::unexpected(ErrnoError(done < 0 ? errno : EIO, "write in " + spec.dir));
    offset += static_cast<uint64_t>(done);
  }
  if (fdatasync(file.fd()) != 0) return tl::unexpected(ErrnoError(errno, "fdatasync in " + spec.dir));
  posix_fadvise(file.fd(), 0, 0, POSIX_FADV_DONTNEED);  // fio's invalidate=1
  return {};
}

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
      : spec_(spec), index_(index), file_(file), out_(out), rng_(spec.seed + 7919u * (index + 1)),
        buffers_(spec.allocator, spec.block_bytes) {}

  Result<void> Prepare() {
    if (IsRead(spec_.pattern)) {
      if (auto laid = LayOut(spec_, file_, rng_); !laid) return laid;
    }
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
      if (auto s = Submit(batch, submitted_ns); !s) return tl::unexpected(failure.value_or(s.error()));
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

  /// One io_submit per I/O (see AioContext::Submit), each stamped as it goes.
  Result<void> Submit(std::vector<iocb*>& batch, std::vector<uint64_t>& submitted_ns) {
    for (iocb*& cb : batch) {
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
    auto taken = spec_.on_read(reinterpret_cast<const void*>(cb.aio_buf), spec_.block_bytes, index_);
    if (!taken && !failure) failure = taken.error();
    return taken.has_value();
  }

  const StorageSpec& spec_;
  int index_;
  const BenchFile& file_;
  WorkerResult& out_;
  Rng rng_;
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
  Rng names(spec.seed ^ NowNs());
  std::vector<BenchFile> files;
  for (int i = 0; i < spec.threads; ++i) {
    auto file = CreateBenchFile(spec, i, names);
    if (!file) return tl::unexpected(file.error());
    files.push_back(std::move(*file));
    if (auto reserved = Preallocate(spec, files.back()); !reserved)
      return tl::unexpected(reserved.error());
  }
  std::vector<WorkerResult> results(static_cast<size_t>(spec.threads));
  StartLine start(spec.threads + 1);
  std::vector<std::thread> workers;
  uint64_t t0 = NowNs();
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
  double layout_seconds = double(NowNs() - t0) / 1e9;
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
