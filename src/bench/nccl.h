// What the nccl benchmark runs and how it turns time into bus bandwidth, as pure functions
// shared by nccl.cc (the benchmark), cuda_nccl.cc (the NCCL operation) and the tests. Sizes and
// formulas are nccl-tests' (src/all_reduce.cu, all_gather.cu, reduce_scatter.cu;
// research/benchmarks.md section 2).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "bench/backend.h"
#include "bench/harness.h"

namespace dlrig::bench {

/// "all_reduce", "all_gather", "reduce_scatter": stable, part of the keys.
std::string_view CollectiveName(Collective op);

/// Per-rank element counts of one call, as nccl-tests derives them from its size argument.
struct CollectiveCounts {
  size_t send = 0;  ///< elements in each rank's send buffer
  size_t recv = 0;  ///< elements in each rank's receive buffer
  size_t call = 0;  ///< the count passed to NCCL (all-gather: sendcount; reduce-scatter: recvcount)
  /// The size the bandwidth is computed from: all-reduce count x type size; all-gather and
  /// reduce-scatter call count x ranks x type size (the request rounded down to whole ranks).
  size_t bytes = 0;
};

/// nccl-tests' counts for `bytes` (its -b/-e size) over `ranks` GPUs.
CollectiveCounts CountsFor(Collective op, size_t bytes, int ranks, DType dtype);

/// busbw / algbw: all-reduce 2(n-1)/n, all-gather and reduce-scatter (n-1)/n.
double BusFactor(Collective op, int ranks);

/// Device memory each GPU needs for the send and receive buffers.
size_t BuffersPerGpu(Collective op, size_t bytes, int ranks, DType dtype);

struct NcclCase {
  Collective op = Collective::kAllReduce;
  size_t bytes = 0;  ///< nccl-tests' size: see CollectiveSpec
};

/// quick: all-reduce at 32 MiB and 512 MiB; default: all-reduce at 8, 32, 128, 512 MiB, 2 and
/// 8 GiB, all-gather and reduce-scatter at 8 GiB; full: all three at powers of 4 from 1 MiB to
/// 8 GiB. `sizes` (options) replaces the size list of every collective the profile runs.
std::vector<NcclCase> NcclCases(Profile profile, const std::vector<size_t>& sizes);

/// A case after fitting it into free device memory.
struct FittedCase {
  NcclCase run;          ///< what to run (bytes halved until the buffers fit)
  size_t asked = 0;      ///< the size the profile asked for
  bool skipped = false;  ///< not run: it cannot fit even at 1 MiB, or its cut size is run already
  std::string note;      ///< why the size was cut or skipped, or "" when it fits
};

/// Every case, its size halved until the buffers fit in `budget_bytes` per GPU.
std::vector<FittedCase> FitCases(const std::vector<NcclCase>& cases, int ranks, DType dtype,
                                 size_t budget_bytes);

/// What a run may spend per GPU: 90% of the least free memory, less 2 GiB for NCCL's own
/// buffers (channels, NVLS), or 0 when that leaves nothing.
size_t NcclMemoryBudget(size_t least_free_bytes);

/// "nccl.all_reduce.8589934592": the size asked, in bytes.
std::string NcclKey(Collective op, size_t bytes);

/// A collective that checked its own result once (nccl-tests' #wrong) before it was timed.
/// The CUDA operation implements it beside TimedOp; a backend that cannot check does not.
class CheckedCollective {
 public:
  virtual ~CheckedCollective() = default;
  virtual long long wrong() const = 0;    ///< sampled elements that differed from the expected
  virtual long long checked() const = 0;  ///< elements compared
};

}  // namespace dlrig::bench
