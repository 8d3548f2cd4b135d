// The check of a collective's result (nccl-tests' #wrong), once per size before it is timed:
// every rank sends small integers that depend on its rank and the element's place, so that every
// sum is exact in fp16, bf16, fp32 and fp64 and a misplaced or missing block shows; the output is
// poisoned with NaN before the call, then regions spread over it are copied back and compared.
// The arithmetic (inputs, expected outputs, regions, encoding) is pure and tested without a GPU.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "bench/nccl.h"
#include "gpu/cuda_driver.h"

namespace dlrig::bench {

class NcclCheck {
 public:
  /// kUnsupported for a dtype without exact small integers (fp8, int8, tf32) or for more ranks
  /// than bf16 can sum exactly.
  static Result<NcclCheck> Create(Collective op, DType dtype, const CollectiveCounts& counts,
                                  int ranks);

  /// Writes rank `rank`'s inputs into `send` (one host block copied in, then doubled on the
  /// device) and NaN into `recv`, on `stream`.
  Result<void> Fill(int rank, const gpu::DeviceMemory& send, const gpu::DeviceMemory& recv,
                    const gpu::Stream& stream);
  /// Copies the sampled regions of `recv` back, on `stream` (complete once the stream is).
  Result<void> Sample(int rank, const gpu::DeviceMemory& recv, const gpu::Stream& stream);

  struct Tally {
    long long wrong = 0;
    long long checked = 0;
  };
  /// Every sampled value against the expected one, after the streams finished.
  Tally Compare() const;

  /// The value rank `rank` sends at element `index` of its send buffer.
  double Input(int rank, size_t index) const;
  /// The value rank `rank` must hold at element `index` of its receive buffer.
  double Expected(int rank, size_t index) const;
  /// [first element, count) of each region of a receive buffer that is copied back.
  std::vector<std::pair<size_t, size_t>> Regions() const;
  size_t block_elements() const { return block_elements_; }

  /// The bits of `value` (a small integer) in `dtype`, little-endian, DTypeBytes(dtype) long.
  static uint64_t Encode(DType dtype, double value);
  static double Decode(DType dtype, uint64_t bits);

 private:
  NcclCheck(Collective op, DType dtype, const CollectiveCounts& counts, int ranks);

  Collective op_;
  DType dtype_;
  CollectiveCounts counts_;
  int ranks_;
  size_t type_bytes_;
  size_t block_elements_;
  gpu::PinnedMemory blocks_;    ///< one input block per rank
  gpu::PinnedMemory samples_;   ///< the sampled regions, per rank
  size_t sample_elements_ = 0;  ///< per rank
};

}  // namespace dlrig::bench
