#include "bench/nccl_check.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

namespace dlrig::bench {

namespace {

constexpr size_t kBlockBytes = size_t{1} << 20;  // one host block, doubled on the device
constexpr size_t kRegions = 32;
constexpr size_t kRegionElements = 128;
constexpr int kLargestInput = 6 + 3;  // Input(): (index % 7) + (rank % 4)

uint16_t HalfBits(double value) {
  // Small non-negative integers only (exact in fp16 up to 2048).
  if (value == 0) return 0;
  int exponent = static_cast<int>(std::floor(std::log2(value)));
  double mantissa = value / std::ldexp(1.0, exponent) - 1.0;
  return static_cast<uint16_t>(((exponent + 15) << 10) |
                               static_cast<int>(std::lround(mantissa * 1024)));
}

double HalfValue(uint16_t bits) {
  int exponent = (bits >> 10) & 0x1f;
  int mantissa = bits & 0x3ff;
  double sign = (bits & 0x8000) ? -1 : 1;
  if (exponent == 0x1f) return mantissa ? std::nan("") : sign * INFINITY;
  if (exponent == 0) return sign * std::ldexp(mantissa, -24);
  return sign * std::ldexp(1024 + mantissa, exponent - 25);
}

}  // namespace

NcclCheck::NcclCheck(Collective op, DType dtype, const CollectiveCounts& counts, int ranks)
    : op_(op),
      dtype_(dtype),
      counts_(counts),
      ranks_(ranks),
      type_bytes_(static_cast<size_t>(DTypeBytes(dtype))),
      block_elements_(kBlockBytes / static_cast<size_t>(DTypeBytes(dtype))) {}

Result<NcclCheck> NcclCheck::Create(Collective op, DType dtype, const CollectiveCounts& counts,
                                    int ranks) {
  int exact = 0;  // the largest integer the dtype holds exactly, with room to sum
  switch (dtype) {
    case DType::kFp64:
      exact = 1 << 30;
      break;
    case DType::kFp32:
      exact = 1 << 24;
      break;
    case DType::kFp16:
      exact = 2048;
      break;
    case DType::kBf16:
      exact = 256;
      break;
    default:
      break;
  }
  if (exact == 0) {
    return Fail(ErrorKind::kUnsupported, fmt::format("no exact check for {}", DTypeName(dtype)));
  }
  if (ranks < 1 || kLargestInput * ranks > exact) {
    return Fail(ErrorKind::kUnsupported,
                fmt::format("{} cannot sum {} ranks' checks exactly", DTypeName(dtype), ranks));
  }
  return NcclCheck(op, dtype, counts, ranks);
}

double NcclCheck::Input(int rank, size_t index) const {
  return static_cast<double>((index % block_elements_) % 7 + static_cast<size_t>(rank % 4));
}

double NcclCheck::Expected(int rank, size_t index) const {
  double sum = 0;
  switch (op_) {
    case Collective::kAllReduce:
      for (int k = 0; k < ranks_; ++k) sum += Input(k, index);
      return sum;
    case Collective::kAllGather: {
      size_t from = counts_.send ? index / counts_.send : 0;
      return Input(static_cast<int>(from), counts_.send ? index % counts_.send : 0);
    }
    case Collective::kReduceScatter:
      for (int k = 0; k < ranks_; ++k)
        sum += Input(k, static_cast<size_t>(rank) * counts_.recv + index);
      return sum;
  }
  return 0;
}

std::vector<std::pair<size_t, size_t>> NcclCheck::Regions() const {
  size_t total = counts_.recv;
  if (total <= kRegions * kRegionElements) return {{0, total}};
  std::vector<std::pair<size_t, size_t>> out;
  for (size_t q = 0; q < kRegions; ++q) {
    // Evenly spread, the first at the start and the last at the very end.
    size_t first = (total - kRegionElements) * q / (kRegions - 1);
    out.emplace_back(first, kRegionElements);
  }
  return out;
}

uint64_t NcclCheck::Encode(DType dtype, double value) {
  switch (dtype) {
    case DType::kFp64:
      return std::bit_cast<uint64_t>(value);
    case DType::kFp32:
      return std::bit_cast<uint32_t>(static_cast<float>(value));
    case DType::kFp16:
      return HalfBits(value);
    case DType::kBf16:
      return std::bit_cast<uint32_t>(static_cast<float>(value)) >> 16;
    default:
      return 0;
  }
}

double NcclCheck::Decode(DType dtype, uint64_t bits) {
  switch (dtype) {
    case DType::kFp64:
      return std::bit_cast<double>(bits);
    case DType::kFp32:
      return std::bit_cast<float>(static_cast<uint32_t>(bits));
    case DType::kFp16:
      return HalfValue(static_cast<uint16_t>(bits));
    case DType::kBf16:
      return std::bit_cast<float>(static_cast<uint32_t>(bits) << 16);
    default:
      return std::nan("");
  }
}

Result<void> NcclCheck::Fill(int rank, const gpu::DeviceMemory& send, const gpu::DeviceMemory& recv,
                             const gpu::Stream& stream) {
  auto d = gpu::CudaDriver::Get();
  if (!d) return tl::unexpected(d.error());
  gpu::CudaDriver& cu = **d;
  if (!blocks_.data()) {
    auto m = gpu::PinnedMemory::Allocate(kBlockBytes * static_cast<size_t>(ranks_));
    if (!m) return tl::unexpected(m.error());
    blocks_ = std::move(*m);
  }
  auto* block =
      static_cast<unsigned char*>(blocks_.data()) + kBlockBytes * static_cast<size_t>(rank);
  for (size_t i = 0; i < block_elements_; ++i) {
    uint64_t bits = Encode(dtype_, Input(rank, i));
    std::memcpy(block + i * type_bytes_, &bits, type_bytes_);  // little-endian: low bytes first
  }
  if (auto ok = gpu::UseDevice(stream.device()); !ok) return ok;
  size_t total = send.bytes();
  size_t first = std::min(total, kBlockBytes);
  if (first > 0) {
    if (auto ok = cu.Check(cu.cuMemcpyHtoDAsync(send.ptr(), block, first, stream.get()),
                           "cuMemcpyHtoDAsync");
        !ok) {
      return ok;
    }
  }
  // Doubling keeps element i's value Input(rank, i): every copy starts at a whole block.
  for (size_t done = first; done < total;) {
    size_t len = std::min(done, total - done);
    if (auto ok = cu.Check(cu.cuMemcpyDtoDAsync(send.ptr() + done, send.ptr(), len, stream.get()),
                           "cuMemcpyDtoDAsync");
        !ok) {
      return ok;
    }
    done += len;
  }
  return cu.Check(cu.cuMemsetD32Async(recv.ptr(), 0xffffffffu, recv.bytes() / 4, stream.get()),
                  "cuMemsetD32Async");
}

Result<void> NcclCheck::Sample(int rank, const gpu::DeviceMemory& recv, const gpu::Stream& stream) {
  auto d = gpu::CudaDriver::Get();
  if (!d) return tl::unexpected(d.error());
  gpu::CudaDriver& cu = **d;
  auto regions = Regions();
  if (!samples_.data()) {
    sample_elements_ = 0;
    for (const auto& [first, count] : regions) sample_elements_ += count;
    auto m = gpu::PinnedMemory::Allocate(
        std::max<size_t>(1, sample_elements_ * type_bytes_ * static_cast<size_t>(ranks_)));
    if (!m) return tl::unexpected(m.error());
    samples_ = std::move(*m);
  }
  if (auto ok = gpu::UseDevice(stream.device()); !ok) return ok;
  auto* out = static_cast<unsigned char*>(samples_.data()) +
              sample_elements_ * type_bytes_ * static_cast<size_t>(rank);
  for (const auto& [first, count] : regions) {
    if (count == 0) continue;
    if (auto ok = cu.Check(cu.cuMemcpyDtoHAsync(out, recv.ptr() + first * type_bytes_,
                                                count * type_bytes_, stream.get()),
                           "cuMemcpyDtoHAsync");
        !ok) {
      return ok;
    }
    out += count * type_bytes_;
  }
  return {};
}

NcclCheck::Tally NcclCheck::Compare() const {
  Tally tally;
  if (!samples_.data()) return tally;
  auto regions = Regions();
  for (int rank = 0; rank < ranks_; ++rank) {
    const auto* in = static_cast<const unsigned char*>(samples_.data()) +
                     sample_elements_ * type_bytes_ * static_cast<size_t>(rank);
    for (const auto& [first, count] : regions) {
      for (size_t i = 0; i < count; ++i, in += type_bytes_) {
        uint64_t bits = 0;
        std::memcpy(&bits, in, type_bytes_);
        ++tally.checked;
        if (!(Decode(dtype_, bits) == Expected(rank, first + i))) ++tally.wrong;
      }
    }
  }
  return tally;
}

}  // namespace dlrig::bench
