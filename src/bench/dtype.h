// The element types bench measures (gemm, burn) and computes limits for. The names are stable:
// they appear in JSON output, the history and data/bench-goals.toml.
#pragma once

#include <array>
#include <optional>
#include <string_view>

namespace dlrig::bench {

enum class DType { kFp64, kFp32, kTf32, kFp16, kBf16, kFp8E4M3, kInt8 };

inline constexpr std::array<DType, 7> kAllDTypes = {DType::kFp64, DType::kFp32, DType::kTf32,
                                                    DType::kFp16, DType::kBf16, DType::kFp8E4M3,
                                                    DType::kInt8};

/// "fp64", "fp32", "tf32", "fp16", "bf16", "fp8", "int8".
constexpr std::string_view DTypeName(DType dtype) {
  switch (dtype) {
    case DType::kFp64: return "fp64";
    case DType::kFp32: return "fp32";
    case DType::kTf32: return "tf32";
    case DType::kFp16: return "fp16";
    case DType::kBf16: return "bf16";
    case DType::kFp8E4M3: return "fp8";
    case DType::kInt8: return "int8";
  }
  return "?";
}

/// The inverse of DTypeName; nullopt for any other text.
constexpr std::optional<DType> DTypeFromName(std::string_view name) {
  for (DType dtype : kAllDTypes)
    if (DTypeName(dtype) == name) return dtype;
  return std::nullopt;
}

/// Bytes per element as stored (tf32 is stored as fp32).
constexpr int DTypeBytes(DType dtype) {
  switch (dtype) {
    case DType::kFp64: return 8;
    case DType::kFp32:
    case DType::kTf32: return 4;
    case DType::kFp16:
    case DType::kBf16: return 2;
    case DType::kFp8E4M3:
    case DType::kInt8: return 1;
  }
  return 0;
}

/// Integer types count operations (TOPS), the others floating-point operations (TFLOP/s).
constexpr bool IsInteger(DType dtype) { return dtype == DType::kInt8; }

}  // namespace dlrig::bench
