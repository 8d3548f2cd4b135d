// Every benchmark, one file each (bench/<key>.cc); registry.cc lists them in run order.
#pragma once

#include "bench/harness.h"

namespace dlrig::bench {

extern const Benchmark kMemoryBenchmark;   // memory.cc
extern const Benchmark kPcieBenchmark;     // pcie.cc
extern const Benchmark kP2pBenchmark;      // p2p.cc
extern const Benchmark kGemmBenchmark;     // gemm.cc
extern const Benchmark kNcclBenchmark;     // nccl.cc
extern const Benchmark kStorageBenchmark;  // storage_bench.cc
extern const Benchmark kBurnBenchmark;     // burn.cc
extern const Benchmark kMemtestBenchmark;  // memtest.cc

}  // namespace dlrig::bench
