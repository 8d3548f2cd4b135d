// The storage benchmark's engine: what fio measures with ioengine=libaio, direct=1, numjobs,
// iodepth, time_based and group_reporting, with the same parameters, so the two agree.
// One file per thread in a chosen directory, each unlinked as soon as it is created, so the
// space comes back however the run ends.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace dlrig::bench {

enum class StoragePattern { kSeqRead, kSeqWrite, kRandRead, kRandWrite };

/// Stable key: "seq-read", "seq-write", "rand-read", "rand-write".
std::string_view StoragePatternKey(StoragePattern pattern);
/// fio's rw= name for the pattern: "read", "write", "randread", "randwrite".
std::string_view FioRwName(StoragePattern pattern);
/// Accepts the stable key or fio's name.
Result<StoragePattern> ParseStoragePattern(std::string_view text);
bool IsRead(StoragePattern pattern);

/// Where the I/O buffers come from: e.g. pinned host memory for "file -> pinned -> GPU".
/// `allocate` must return memory aligned to 4096 bytes (O_DIRECT needs it), or nullptr.
struct BufferAllocator {
  std::function<void*(size_t bytes)> allocate;
  std::function<void(void* buffer, size_t bytes)> release;
};

/// Called on the worker thread with every completed read, before its buffer is reused; its time
/// counts in the figure. An error stops the run and becomes its error.
using ReadCallback = std::function<Result<void>(const void* data, size_t bytes, int thread)>;

struct StorageSpec {
  std::string dir;  ///< where the files go (one per thread)
  StoragePattern pattern = StoragePattern::kSeqRead;
  size_t block_bytes = 1u << 20;     ///< bytes per I/O (fio bs); a multiple of 4096 with direct
  int threads = 4;                   ///< files and submitting threads (fio numjobs)
  int queue_depth = 32;              ///< I/Os in flight per thread (fio iodepth)
  double seconds = 10;               ///< time-based run length (fio runtime)
  uint64_t file_bytes = 1ull << 30;  ///< per file (fio size); a multiple of block_bytes
  bool direct = true;                ///< O_DIRECT (fio direct=1)
  /// Refuse when the files would take more than this share of the free space.
  double max_free_fraction = 0.5;
  uint64_t seed = 0x9e3779b97f4a7c15ull;  ///< for random offsets and buffer contents
  BufferAllocator allocator;              ///< empty = posix_memalign(4096)
  ReadCallback on_read;                   ///< empty = none
};

/// Checks the numbers of a spec (not the directory); the message names the bad field.
Result<void> ValidateStorageSpec(const StorageSpec& spec);

struct StorageResult {
  StoragePattern pattern = StoragePattern::kSeqRead;
  uint64_t bytes = 0;  ///< completed during the timed run, all threads
  uint64_t ios = 0;
  double seconds = 0;    ///< the longest thread's time from its first submit to its last reap
  double gb_per_s = 0;   ///< bytes / seconds / 1e9
  double mib_per_s = 0;  ///< bytes / seconds / 2^20
  double iops = 0;
  double lat_p50_us = 0;  ///< completion latency (submit to reap), all threads
  double lat_p99_us = 0;
  uint64_t layout_bytes = 0;  ///< written before a read run to lay the files out (not counted)
  double layout_seconds = 0;
};

/// Lays the files out (reads only), runs `spec.seconds` of I/O, and removes the files.
/// Errors name the directory and say what to do (O_DIRECT refused, no space, not writable).
Result<StorageResult> RunStorage(const StorageSpec& spec);

/// "1M", "4k", "1G", "512", "1MiB", "64KB" -> bytes (binary units, as fio's default kb_base).
Result<uint64_t> ParseByteSize(std::string_view text);

/// Completion-latency histogram: log-linear buckets (64 per power of two), so percentiles are
/// within 1.6% of the exact value with fixed memory however long the run.
class LatencyHistogram {
 public:
  void Add(uint64_t ns);
  void Merge(const LatencyHistogram& other);
  uint64_t count() const { return count_; }
  /// The value below which `fraction` (0..1) of the samples lie, in ns; 0 when empty.
  double PercentileNs(double fraction) const;

 private:
  static constexpr int kSubBits = 6;
  static constexpr int kBuckets = (64 - kSubBits + 1) << kSubBits;
  static int Bucket(uint64_t ns);
  static double BucketMid(int bucket);
  uint64_t counts_[kBuckets] = {};
  uint64_t count_ = 0;
};

}  // namespace dlrig::bench
