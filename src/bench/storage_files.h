// The files of the storage benchmark: the directory checks, one file per thread created under
// a name no one else uses and unlinked at once, preallocated or laid out as fio does. Internal
// to storage_run.cc and storage_files.cc.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "bench/storage.h"
#include "core/result.h"

namespace dlrig::bench::storage_detail {

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

/// Makes every 4 KiB of `data` new: its first 16 bytes become the file offset of that 4 KiB and
/// `nonce`. Storage that deduplicates or compresses blocks (ZFS, VDO, a cloud volume, some
/// SSDs) would otherwise store one copy of a buffer written again and again, and report
/// speeds no real data gets; fio scrambles its buffers for the same reason.
inline void Stamp(void* data, size_t bytes, uint64_t offset, uint64_t nonce) {
  auto* p = static_cast<unsigned char*>(data);
  for (size_t i = 0; i + 16 <= bytes; i += 4096) {
    uint64_t where = offset + i;
    std::memcpy(p + i, &where, 8);
    std::memcpy(p + i + 8, &nonce, 8);
  }
}

/// An error from `err` with `message` before strerror's text.
Error ErrnoError(int err, std::string message);
/// "DIR does not support O_DIRECT ...: choose a directory on a real disk".
Error DirectRefused(const std::string& dir);
/// "no space left on DIR while WHEN ...".
Error NoSpace(const std::string& dir, std::string_view when);

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

/// The directory exists, is a directory, and has twice the space the files need (by default).
Result<void> CheckDirectory(const StorageSpec& spec);
/// Creates file `index` under a fresh name (O_EXCL) and unlinks it at once.
Result<BenchFile> CreateBenchFile(const StorageSpec& spec, int index, Rng& rng);
/// Reserves the file's blocks as fio's fallocate=native does, so writes do not extend it.
Result<void> Preallocate(const StorageSpec& spec, const BenchFile& file);
/// Writes the whole file once (fio lays out files that are read), then drops it from the cache.
Result<void> LayOut(const StorageSpec& spec, const BenchFile& file, Rng& rng);

}  // namespace dlrig::bench::storage_detail
