// The storage spec: names, option parsing, validation, and the latency histogram.
// The engine that runs a spec is in storage_run.cc.
#include "bench/storage.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <optional>

#include "core/strings.h"

namespace dlrig::bench {

namespace {

struct PatternName {
  StoragePattern pattern;
  std::string_view key;
  std::string_view fio;
};
constexpr PatternName kPatterns[] = {
    {StoragePattern::kSeqRead, "seq-read", "read"},
    {StoragePattern::kSeqWrite, "seq-write", "write"},
    {StoragePattern::kRandRead, "rand-read", "randread"},
    {StoragePattern::kRandWrite, "rand-write", "randwrite"},
};

constexpr uint64_t kDirectAlign = 4096;
// Buffers are threads x queue depth x block; beyond this a typo (--block 1G) is likelier than
// intent.
constexpr uint64_t kMaxBufferBytes = 16ull << 30;

/// Power-of-two shift of a unit suffix, as fio reads it with its default kb_base=1024.
std::optional<int> UnitShift(std::string_view unit) {
  std::string u = ToLower(unit);
  if (u.empty() || u == "b") return 0;
  const char* prefixes = "kmgtp";
  for (int i = 0; prefixes[i] != '\0'; ++i) {
    std::string p(1, prefixes[i]);
    if (u == p || u == p + "b" || u == p + "ib") return 10 * (i + 1);
  }
  return std::nullopt;
}

}  // namespace

std::string_view StoragePatternKey(StoragePattern pattern) {
  for (const auto& p : kPatterns)
    if (p.pattern == pattern) return p.key;
  return "unknown";
}

std::string_view FioRwName(StoragePattern pattern) {
  for (const auto& p : kPatterns)
    if (p.pattern == pattern) return p.fio;
  return "unknown";
}

Result<StoragePattern> ParseStoragePattern(std::string_view text) {
  std::string t = ToLower(Trim(text));
  for (const auto& p : kPatterns)
    if (t == p.key || t == p.fio) return p.pattern;
  return Fail(ErrorKind::kMalformed,
              fmt::format("unknown storage pattern '{}': use seq-read, seq-write, rand-read or "
                          "rand-write",
                          text));
}

bool IsRead(StoragePattern pattern) {
  return pattern == StoragePattern::kSeqRead || pattern == StoragePattern::kRandRead;
}

Result<uint64_t> ParseByteSize(std::string_view text) {
  std::string_view t = Trim(text);
  size_t digits = 0;
  while (digits < t.size() && std::isdigit(static_cast<unsigned char>(t[digits]))) ++digits;
  auto bad = [&] {
    return Fail(ErrorKind::kMalformed,
                fmt::format("'{}' is not a size: use a whole number with an optional unit, "
                            "e.g. 4k, 1M, 1G (binary units)",
                            text));
  };
  if (digits == 0 || digits > 19) return bad();
  auto shift = UnitShift(t.substr(digits));
  if (!shift) return bad();
  uint64_t value = std::strtoull(std::string(t.substr(0, digits)).c_str(), nullptr, 10);
  if (value > (std::numeric_limits<uint64_t>::max() >> *shift))
    return Fail(ErrorKind::kMalformed, fmt::format("size '{}' is too large", text));
  return value << *shift;
}

Result<void> ValidateStorageSpec(const StorageSpec& spec) {
  auto bad = [](std::string message) { return Fail(ErrorKind::kMalformed, std::move(message)); };
  if (spec.dir.empty()) return bad("no directory given for the storage benchmark (--path)");
  if (spec.block_bytes == 0) return bad("block size must be greater than 0");
  if (spec.direct && spec.block_bytes % kDirectAlign != 0)
    return bad(fmt::format("block size {} is not a multiple of 4096, which O_DIRECT needs",
                           spec.block_bytes));
  if (spec.threads < 1 || spec.threads > 1024)
    return bad(fmt::format("threads must be 1 to 1024, not {}", spec.threads));
  if (spec.queue_depth < 1 || spec.queue_depth > 4096)
    return bad(fmt::format("queue depth must be 1 to 4096, not {}", spec.queue_depth));
  if (!std::isfinite(spec.seconds) || spec.seconds <= 0 || spec.seconds > 86400)
    return bad(
        fmt::format("seconds must be greater than 0 and at most a day, not {}", spec.seconds));
  if (spec.file_bytes < spec.block_bytes || spec.file_bytes % spec.block_bytes != 0)
    return bad(fmt::format("file size {} must be a whole number of blocks of {}", spec.file_bytes,
                           spec.block_bytes));
  if (!(spec.max_free_fraction > 0 && spec.max_free_fraction <= 1))
    return bad("max_free_fraction must be in (0, 1]");
  uint64_t buffers = uint64_t(spec.threads) * uint64_t(spec.queue_depth) * spec.block_bytes;
  if (buffers > kMaxBufferBytes)
    return bad(fmt::format("threads x queue depth x block = {} of buffers, more than {}",
                           HumanBytes(buffers), HumanBytes(kMaxBufferBytes)));
  if (static_cast<bool>(spec.allocator.allocate) != static_cast<bool>(spec.allocator.release))
    return bad("a buffer allocator needs both allocate and release");
  return {};
}

int LatencyHistogram::Bucket(uint64_t ns) {
  constexpr uint64_t kSub = 1u << kSubBits;
  if (ns < kSub) return static_cast<int>(ns);
  int msb = 63 - std::countl_zero(ns);
  int shift = msb - kSubBits;
  return ((shift + 1) << kSubBits) + static_cast<int>((ns >> shift) & (kSub - 1));
}

double LatencyHistogram::BucketMid(int bucket) {
  constexpr int kSub = 1 << kSubBits;
  if (bucket < kSub) return bucket;
  int shift = (bucket >> kSubBits) - 1;
  double low = std::ldexp(double(kSub + (bucket & (kSub - 1))), shift);
  return low + std::ldexp(0.5, shift);
}

void LatencyHistogram::Add(uint64_t ns) {
  ++counts_[Bucket(ns)];
  ++count_;
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (int i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
}

double LatencyHistogram::PercentileNs(double fraction) const {
  if (count_ == 0) return 0;
  // The rank of the sample at `fraction`, 1-based, as the nearest-rank method defines it.
  auto rank = static_cast<uint64_t>(std::ceil(std::clamp(fraction, 0.0, 1.0) * double(count_)));
  rank = std::max<uint64_t>(rank, 1);
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) return BucketMid(i);
  }
  return BucketMid(kBuckets - 1);
}

}  // namespace dlrig::bench
