// nccl-tests' arithmetic: counts per rank (src/all_reduce.cu, all_gather.cu, reduce_scatter.cu
// *GetCollByteCount) and bus bandwidth factors (*GetBw), and the size lists of each profile.
#include <fmt/format.h>

#include <algorithm>

#include "bench/bench_util.h"
#include "bench/nccl.h"

namespace dlrig::bench {

namespace {

constexpr size_t kMiB = size_t{1} << 20;
constexpr size_t kGiB = size_t{1} << 30;

}  // namespace

std::string_view CollectiveName(Collective op) {
  switch (op) {
    case Collective::kAllReduce:
      return "all_reduce";
    case Collective::kAllGather:
      return "all_gather";
    case Collective::kReduceScatter:
      return "reduce_scatter";
  }
  return "?";
}

CollectiveCounts CountsFor(Collective op, size_t bytes, int ranks, DType dtype) {
  size_t type_bytes = static_cast<size_t>(std::max(DTypeBytes(dtype), 1));
  size_t count = bytes / type_bytes;
  size_t n = static_cast<size_t>(std::max(ranks, 1));
  CollectiveCounts c;
  switch (op) {
    case Collective::kAllReduce:
      c.send = c.recv = c.call = count;
      c.bytes = count * type_bytes;
      break;
    case Collective::kAllGather:
      c.call = c.send = count / n;
      c.recv = c.send * n;
      c.bytes = c.call * n * type_bytes;
      break;
    case Collective::kReduceScatter:
      c.call = c.recv = count / n;
      c.send = c.recv * n;
      c.bytes = c.call * n * type_bytes;
      break;
  }
  return c;
}

double BusFactor(Collective op, int ranks) {
  double n = ranks;
  if (ranks < 1) return 0;
  return op == Collective::kAllReduce ? 2.0 * (n - 1) / n : (n - 1) / n;
}

size_t BuffersPerGpu(Collective op, size_t bytes, int ranks, DType dtype) {
  CollectiveCounts c = CountsFor(op, bytes, ranks, dtype);
  return (c.send + c.recv) * static_cast<size_t>(DTypeBytes(dtype));
}

std::vector<NcclCase> NcclCases(Profile profile, const std::vector<size_t>& sizes) {
  std::vector<Collective> ops = {Collective::kAllReduce};
  if (profile != Profile::kQuick) {
    ops = {Collective::kAllReduce, Collective::kAllGather, Collective::kReduceScatter};
  }
  std::vector<NcclCase> cases;
  auto add = [&cases](Collective op, const std::vector<size_t>& list) {
    for (size_t b : list) cases.push_back({op, b});
  };
  if (!sizes.empty()) {
    for (Collective op : ops) add(op, sizes);
    return cases;
  }
  switch (profile) {
    case Profile::kQuick:
      add(Collective::kAllReduce, {32 * kMiB, 512 * kMiB});
      break;
    case Profile::kDefault:
      add(Collective::kAllReduce,
          {8 * kMiB, 32 * kMiB, 128 * kMiB, 512 * kMiB, 2 * kGiB, 8 * kGiB});
      add(Collective::kAllGather, {8 * kGiB});
      add(Collective::kReduceScatter, {8 * kGiB});
      break;
    case Profile::kFull: {
      std::vector<size_t> fours;
      for (size_t b = kMiB; b <= 8 * kGiB; b *= 4) fours.push_back(b);
      // 4^k MiB stops at 4 GiB; nccl-tests' sweeps and the research (section 9: "sweep to >= 4-8
      // GiB") go to 8 GiB, where busbw settles.
      if (fours.back() != 8 * kGiB) fours.push_back(8 * kGiB);
      for (Collective op : ops) add(op, fours);
      break;
    }
  }
  return cases;
}

size_t NcclMemoryBudget(size_t least_free_bytes) {
  auto usable = static_cast<size_t>(static_cast<double>(least_free_bytes) * 0.9);
  return usable > 2 * kGiB ? usable - 2 * kGiB : 0;
}

std::vector<FittedCase> FitCases(const std::vector<NcclCase>& cases, int ranks, DType dtype,
                                 size_t budget_bytes) {
  std::vector<FittedCase> out;
  for (const NcclCase& c : cases) {
    FittedCase f{.run = c, .asked = c.bytes};
    while (f.run.bytes >= kMiB && BuffersPerGpu(c.op, f.run.bytes, ranks, dtype) > budget_bytes) {
      f.run.bytes /= 2;
    }
    if (f.run.bytes < kMiB) {
      f.skipped = true;
      f.note = fmt::format("does not fit: {} per GPU free for it", BytesLabel(budget_bytes));
    } else if (f.run.bytes != c.bytes) {
      f.note =
          fmt::format("{} needs {} per GPU, more than the {} free for it: ran {} instead",
                      BytesLabel(c.bytes), BytesLabel(BuffersPerGpu(c.op, c.bytes, ranks, dtype)),
                      BytesLabel(budget_bytes), BytesLabel(f.run.bytes));
      bool repeat = std::any_of(out.begin(), out.end(), [&f](const FittedCase& o) {
        return !o.skipped && o.run.op == f.run.op && o.run.bytes == f.run.bytes;
      });
      if (repeat) {
        f.skipped = true;
        f.note += ", which this run measures already";
      }
    }
    out.push_back(std::move(f));
  }
  return out;
}

std::string NcclKey(Collective op, size_t bytes) {
  return fmt::format("nccl.{}.{}", CollectiveName(op), bytes);
}

}  // namespace dlrig::bench
