// cuBLASLt, dlopen'ed: our own declarations of the few types, enums and entry points the gemm
// and burn benchmarks use, so that the binary links no CUDA library and runs where cuBLASLt is
// absent (those benchmarks are then waived with the places searched).
//
// Every value below is copied from CUDA 13.0's /usr/local/cuda/include/cublasLt.h,
// cublas_api.h (cuBLAS 13.1.0) and library_types.h. The enums and struct layouts have been
// stable since cuBLASLt 11.0; the sonames .so.13, .so.12 and .so.11 are all accepted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/result.h"
#include "gpu/cuda_driver.h"

namespace dlrig::gpu {

// ---- cublas_api.h ---------------------------------------------------------------------------
using CublasStatus = int;  // cublasStatus_t
inline constexpr CublasStatus kCublasSuccess = 0;
inline constexpr CublasStatus kCublasInvalidValue = 7;
inline constexpr CublasStatus kCublasNotSupported = 15;

// cublasComputeType_t
enum CublasCompute : int {
  kCompute32F = 68,
  kCompute32FFastTf32 = 77,
  kCompute64F = 70,
  kCompute32I = 72,
};

// cublasOperation_t
enum CublasOp : int { kOpN = 0, kOpT = 1 };

// ---- library_types.h (cudaDataType) ---------------------------------------------------------
enum CudaDataType : int {
  kR32F = 0,
  kR64F = 1,
  kR16F = 2,
  kR8I = 3,
  kR32I = 10,
  kR16BF = 14,
  kR8FE4M3 = 28,
};

// ---- cublasLt.h -----------------------------------------------------------------------------
using LtHandle = struct cublasLtContext*;
using LtMatmulDesc = struct cublasLtMatmulDescOpaque*;
using LtLayout = struct cublasLtMatrixLayoutOpaque*;
using LtPreference = struct cublasLtMatmulPreferenceOpaque*;

/// cublasLtMatmulAlgo_t: semi-opaque, passed by value.
struct LtAlgo {
  uint64_t data[8];
};

/// cublasLtMatmulHeuristicResult_t.
struct LtHeuristicResult {
  LtAlgo algo;
  size_t workspace_size;
  CublasStatus state;
  float waves_count;
  int reserved[4];
};
static_assert(sizeof(LtHeuristicResult) == 96, "cublasLtMatmulHeuristicResult_t is 96 bytes");

// cublasLtMatmulDescAttributes_t
enum LtDescAttr : int {
  kDescScaleType = 1,
  kDescTransA = 3,
  kDescTransB = 4,
  kDescAScalePointer = 17,
  kDescBScalePointer = 18,
  kDescFastAccum = 25,  ///< int8_t: fp8 only, accumulate at the tensor cores' faster precision
  kDescCScalePointer = 19,
  kDescDScalePointer = 20,
};

// cublasLtMatmulPreferenceAttributes_t
enum LtPrefAttr : int { kPrefMaxWorkspaceBytes = 1 };

// cublasLtMatmulAlgoConfigAttributes_t (ID int32, TILE uint32, SPLITK int32, STAGES uint32)
enum LtAlgoConfigAttr : int {
  kAlgoConfigId = 0,
  kAlgoConfigTileId = 1,
  kAlgoConfigSplitK = 2,
  kAlgoConfigReductionScheme = 3,
  kAlgoConfigStagesId = 6,
};

// member name, function type, exported symbol.
#define DLRIG_CUBLASLT_SYMBOLS(X)                                                                  \
  X(cublasLtCreate, CublasStatus (*)(LtHandle*), "cublasLtCreate")                                 \
  X(cublasLtDestroy, CublasStatus (*)(LtHandle), "cublasLtDestroy")                                \
  X(cublasLtGetVersion, size_t (*)(), "cublasLtGetVersion")                                        \
  X(cublasLtMatmulDescCreate, CublasStatus (*)(LtMatmulDesc*, int, int),                           \
    "cublasLtMatmulDescCreate")                                                                    \
  X(cublasLtMatmulDescDestroy, CublasStatus (*)(LtMatmulDesc), "cublasLtMatmulDescDestroy")        \
  X(cublasLtMatmulDescSetAttribute, CublasStatus (*)(LtMatmulDesc, int, const void*, size_t),      \
    "cublasLtMatmulDescSetAttribute")                                                              \
  X(cublasLtMatrixLayoutCreate, CublasStatus (*)(LtLayout*, int, uint64_t, uint64_t, int64_t),     \
    "cublasLtMatrixLayoutCreate")                                                                  \
  X(cublasLtMatrixLayoutDestroy, CublasStatus (*)(LtLayout), "cublasLtMatrixLayoutDestroy")        \
  X(cublasLtMatrixLayoutSetAttribute, CublasStatus (*)(LtLayout, int, const void*, size_t),        \
    "cublasLtMatrixLayoutSetAttribute")                                                            \
  X(cublasLtMatmulPreferenceCreate, CublasStatus (*)(LtPreference*),                               \
    "cublasLtMatmulPreferenceCreate")                                                              \
  X(cublasLtMatmulPreferenceDestroy, CublasStatus (*)(LtPreference),                               \
    "cublasLtMatmulPreferenceDestroy")                                                             \
  X(cublasLtMatmulPreferenceSetAttribute,                                                          \
    CublasStatus (*)(LtPreference, int, const void*, size_t),                                      \
    "cublasLtMatmulPreferenceSetAttribute")                                                        \
  X(cublasLtMatmulAlgoGetHeuristic,                                                                \
    CublasStatus (*)(LtHandle, LtMatmulDesc, LtLayout, LtLayout, LtLayout, LtLayout, LtPreference, \
                     int, LtHeuristicResult*, int*),                                               \
    "cublasLtMatmulAlgoGetHeuristic")                                                              \
  X(cublasLtMatmul,                                                                                \
    CublasStatus (*)(LtHandle, LtMatmulDesc, const void*, const void*, LtLayout, const void*,      \
                     LtLayout, const void*, const void*, LtLayout, void*, LtLayout, const LtAlgo*, \
                     void*, size_t, CUstream),                                                     \
    "cublasLtMatmul")                                                                              \
  X(cublasLtMatmulAlgoConfigGetAttribute,                                                          \
    CublasStatus (*)(const LtAlgo*, int, void*, size_t, size_t*),                                  \
    "cublasLtMatmulAlgoConfigGetAttribute")

/// Where to look for libcublasLt, in order.
struct CublasLtSearch {
  /// DLRIG_CUBLASLT: when set, the only place tried (a wrong path is an error, not a fallback,
  /// so the user learns the library they named was not the one used).
  std::string override_path;
  /// Try libcublasLt.so.13, .so.12, .so.11 through the loader's own search first.
  bool loader_search = true;
  /// Directories to try each soname in (globs already expanded, missing ones dropped).
  std::vector<std::string> dirs;
};

/// The sonames tried, newest first.
const std::vector<std::string>& CublasLtSonames();

/// DLRIG_CUBLASLT, then the loader, then /usr/local/cuda/lib64, the toolkits under
/// /usr/local/cuda-*, and the pip wheels (nvidia/cu13/lib, nvidia/cublas/lib) of $VIRTUAL_ENV,
/// $CONDA_PREFIX, the system and user Python site directories and /opt/*/.venv.
CublasLtSearch DefaultCublasLtSearch();

/// libcublasLt, loaded once per process.
class CublasLt {
 public:
  /// The library from DefaultCublasLtSearch(), loaded on first use; or why not (kNotFound
  /// naming every place searched, with the loader's reason for any file that would not load).
  static const Result<CublasLt*>& Get();
  /// The library if Get() has loaded it, else nullptr; never loads it.
  static const CublasLt* IfLoaded();
  /// Loads from `search` (tests; Get() uses the default). The library stays loaded.
  static Result<std::unique_ptr<CublasLt>> Load(const CublasLtSearch& search);

#define DLRIG_CUBLASLT_MEMBER(name, type, ...) std::type_identity_t<type> name = nullptr;
  DLRIG_CUBLASLT_SYMBOLS(DLRIG_CUBLASLT_MEMBER)
#undef DLRIG_CUBLASLT_MEMBER
  /// Optional: cublasLtGetStatusName (CUDA 11.4+); absent in older libraries.
  const char* (*cublasLtGetStatusName)(CublasStatus) = nullptr;

  std::string path;    ///< the file loaded (as dlopen reports it)
  size_t version = 0;  ///< cublasLtGetVersion: 130100 for 13.1.0

  /// "13.1.0".
  std::string VersionText() const;
  /// kCublasSuccess -> value; else kUnsupported for CUBLAS_STATUS_NOT_SUPPORTED / ARCH_MISMATCH,
  /// kIo otherwise, "call: CUBLAS_STATUS_NAME".
  Result<void> Check(CublasStatus status, const char* call) const;
  std::string StatusName(CublasStatus status) const;

  /// "algo 66 tile 256x128 stages 64x4 splitK 1": the candidate as cuBLASLt describes it.
  std::string AlgoName(const LtAlgo& algo) const;

 private:
  CublasLt() = default;
};

/// Owning wrappers around cuBLASLt objects; each destroys on destruction.
class LtHandleOwner {
 public:
  LtHandleOwner() = default;
  LtHandleOwner(const CublasLt* lt, LtHandle h) : lt_(lt), h_(h) {}
  LtHandleOwner(LtHandleOwner&& o) noexcept : lt_(o.lt_), h_(std::exchange(o.h_, nullptr)) {}
  LtHandleOwner& operator=(LtHandleOwner&&) = delete;
  ~LtHandleOwner() {
    if (h_) lt_->cublasLtDestroy(h_);
  }
  LtHandle get() const { return h_; }

 private:
  const CublasLt* lt_ = nullptr;
  LtHandle h_ = nullptr;
};

/// A cuBLASLt handle (needs the device's context current: cublasLtCreate initialises the
/// CUDA runtime inside cuBLASLt, which then shares the primary context).
Result<LtHandleOwner> CreateLtHandle(const CublasLt& lt);

/// Readable names of cuBLASLt's tile and stage enums; "#<id>" for those past the table.
std::string LtTileName(uint32_t tile_id);
std::string LtStagesName(uint32_t stages_id);

}  // namespace dlrig::gpu
