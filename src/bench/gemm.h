// What the gemm benchmark runs, as pure functions of the profile and the GPU's compute
// capability, shared by gemm.cc (the benchmark), cuda_gemm.cc (the cuBLASLt operation) and the
// tests.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "bench/dtype.h"
#include "bench/harness.h"

namespace dlrig::bench {

struct GemmShape {
  int m = 8192;
  int n = 8192;
  int k = 8192;
};

/// Why a GPU of compute capability major.minor is not asked for `dtype`, or nullopt when it is.
/// fp8 needs 8.9+; tf32 and bf16 8.0+; fp16 tensor math 7.0+; int8 tensor math 7.5+ (7.0 has
/// none); fp64 only on the parts with full-rate FP64 (6.0, 7.0, 8.0, 9.0, 10.0: 64-128
/// FP64/clk/SM against 4 on 7.5, 8.6, 8.9 and 12.0, research/benchmarks.md section 6.1).
std::optional<std::string> GemmDTypeMissing(DType dtype, int cc_major, int cc_minor);

/// The dtypes asked of such a GPU by default: every dtype GemmDTypeMissing lets through.
std::vector<DType> GemmDTypesFor(int cc_major, int cc_minor);

/// 8192^3 always; the default profile adds 1024, 2048 and 4096 squares; full adds LLM-like
/// non-square products.
std::vector<GemmShape> GemmShapes(Profile profile);

/// Heuristic candidates timed per product: 4 quick, 8 default (NVIDIA's autotuning sample),
/// 16 full.
int GemmTopK(Profile profile);

/// Timed rounds of 2 iterations per candidate, after one untimed warm-up call.
int GemmCandidateRounds(Profile profile);

/// cuBLAS's recommendation: 32 MiB on Hopper and later, 4 MiB before (research section 5.3).
size_t GemmWorkspaceBytes(int cc_major);

/// "gemm.bf16.8192x8192x8192".
std::string GemmKey(DType dtype, const GemmShape& shape);

/// 2·m·n·k, the operations of one product.
double GemmOperations(const GemmShape& shape);

/// "TFLOP/s", or "TOPS" for integer types.
const char* GemmUnit(DType dtype);

}  // namespace dlrig::bench
