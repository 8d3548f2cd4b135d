#include "bench/benchmarks.h"

#include <vector>

namespace dlrig::bench {

std::span<const Benchmark> Benchmarks() {
  // Cheapest and most telling first; burn and memtest, which take the GPU for minutes, last.
  static const std::vector<Benchmark> kAll = {
      kMemoryBenchmark, kPcieBenchmark, kP2pBenchmark, kGemmBenchmark, kNcclBenchmark,
      kStorageBenchmark, kBurnBenchmark, kMemtestBenchmark,
  };
  return kAll;
}

}  // namespace dlrig::bench
