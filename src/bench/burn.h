// What the burn benchmark runs, as pure functions shared by burn.cc, cuda_burn.cc and the tests.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "bench/dtype.h"
#include "bench/harness.h"

namespace dlrig::bench {

/// Why burn cannot run `dtype` on a GPU of compute capability major.minor, or nullopt. Burn
/// runs fp64, fp32, tf32, fp16 and bf16 (results compared element-wise; fp8 and int8 are not).
std::optional<std::string> BurnDTypeMissing(DType dtype, int cc_major, int cc_minor);

/// By default: a tensor-core product (bf16 on 8.0+, fp16 on 7.x) and fp32 on the FP32 units
/// (gpu-burn's SGEMM), so that both kinds of unit are checked.
std::vector<DType> BurnDTypesFor(int cc_major, int cc_minor);

/// options.burn_seconds, else the profile's: quick 10 (burn is not part of --quick; this is
/// for --quick --only burn), default 30, full 600 (the research's 10 min to thermal steady
/// state).
double BurnSeconds(const Options& options);

/// The element-wise tolerance of the compare kernel: |x - x0| <= eps * max(1, |x0|). Every slot
/// holds the same product computed by the same kernel on the same inputs, which cuBLAS makes
/// bit-identical run to run, so eps need absorb nothing: it is a few units in the last place
/// for fp64 (1e-12) and fp32/tf32 (1e-6), and below one unit for fp16 (1e-4) and bf16 (1e-3),
/// where any difference counts. gpu-burn's 1e-3 (float) and 1e-7 (double) are absolute at its
/// |C| ~ 1e5, i.e. about 1e-8 and 1e-12 relative.
double BurnTolerance(DType dtype);

/// "burn.bf16".
std::string BurnKey(DType dtype);

}  // namespace dlrig::bench
