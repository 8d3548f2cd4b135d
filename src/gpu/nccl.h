// NCCL, dlopen'ed from libnccl.so.2: our own declarations of the few types and entry points the
// nccl benchmark uses, resolved once, every return code turned into an Error that names the call.
// Types and enum values are copied from nccl.h of NCCL 2.28.9 as shipped in CUDA 13.0
// (/usr/local/cuda/include/nccl.h on the build machine); they have been stable since NCCL 2.0
// (bf16 since 2.10). The binary links no NCCL.
#pragma once

#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "core/result.h"
#include "gpu/cuda_driver.h"

namespace dlrig::gpu {

using NcclResult = int;  // ncclResult_t: a C enum
static_assert(sizeof(NcclResult) == 4, "ncclResult_t is a 32-bit enum");
using NcclComm = struct ncclComm*;  // ncclComm_t

inline constexpr NcclResult kNcclSuccess = 0;     // ncclSuccess
inline constexpr NcclResult kNcclInProgress = 7;  // ncclInProgress

// ncclDataType_t
enum NcclDataType : int {
  kNcclInt8 = 0,
  kNcclFloat16 = 6,
  kNcclFloat32 = 7,
  kNcclFloat64 = 8,
  kNcclBfloat16 = 9,
};
// ncclRedOp_t
enum NcclRedOp : int { kNcclSum = 0 };

// member, type, then the exported names to try.
#define DLRIG_NCCL_SYMBOLS(X)                                                                    \
  X(ncclGetVersion, NcclResult (*)(int*), "ncclGetVersion")                                      \
  X(ncclGetErrorString, const char* (*)(NcclResult), "ncclGetErrorString")                       \
  X(ncclCommInitAll, NcclResult (*)(NcclComm*, int, const int*), "ncclCommInitAll")              \
  X(ncclCommDestroy, NcclResult (*)(NcclComm), "ncclCommDestroy")                                \
  X(ncclCommAbort, NcclResult (*)(NcclComm), "ncclCommAbort")                                    \
  X(ncclCommGetAsyncError, NcclResult (*)(NcclComm, NcclResult*), "ncclCommGetAsyncError")       \
  X(ncclGroupStart, NcclResult (*)(), "ncclGroupStart")                                          \
  X(ncclGroupEnd, NcclResult (*)(), "ncclGroupEnd")                                              \
  X(ncclAllReduce,                                                                               \
    NcclResult (*)(const void*, void*, size_t, NcclDataType, NcclRedOp, NcclComm, CUstream),     \
    "ncclAllReduce")                                                                             \
  X(ncclAllGather, NcclResult (*)(const void*, void*, size_t, NcclDataType, NcclComm, CUstream), \
    "ncclAllGather")                                                                             \
  X(ncclReduceScatter,                                                                           \
    NcclResult (*)(const void*, void*, size_t, NcclDataType, NcclRedOp, NcclComm, CUstream),     \
    "ncclReduceScatter")

/// Where to look for libnccl.so.2.
struct NcclSearch {
  /// DLRIG_NCCL: when set, this file and nothing else (a named file that fails is an error,
  /// never a silent fall-back to another copy).
  std::string override_path;
  /// dlopen("libnccl.so.2") first: LD_LIBRARY_PATH, the ld.so cache, the default directories.
  bool default_search = true;
  /// Then these glob(3) patterns, in order; each match is tried.
  std::vector<std::string> patterns;

  /// From DLRIG_NCCL, VIRTUAL_ENV, CONDA_PREFIX and HOME of this process.
  static NcclSearch FromEnvironment();
};

/// The patterns after the default search: the CUDA toolkit, the distribution's directory, then
/// the pip wheels (nvidia/nccl/lib for nvidia-nccl-cu12, nvidia/cu13/lib for CUDA 13 wheels)
/// and conda's lib of the active environment, then system and per-user Python installs. Empty
/// arguments (variables unset) drop their entries.
std::vector<std::string> NcclSearchPatterns(const std::string& virtual_env,
                                            const std::string& conda_prefix,
                                            const std::string& home);

/// libnccl.so.2 with its entry points resolved. Never unloaded: NCCL keeps threads running.
class Nccl {
 public:
  /// The first library of `search` that loads and has every symbol; otherwise kNotFound with
  /// each place looked in and why it did not serve (absent, dlopen's error, a missing symbol).
  static Result<std::unique_ptr<Nccl>> Load(const NcclSearch& search);
  /// Loaded once per process from the environment.
  static const Result<Nccl*>& Get();
  /// The library if Get() has loaded it, else nullptr; never loads it.
  static const Nccl* IfLoaded();

#define DLRIG_NCCL_MEMBER(name, type, ...) std::type_identity_t<type> name = nullptr;
  DLRIG_NCCL_SYMBOLS(DLRIG_NCCL_MEMBER)
#undef DLRIG_NCCL_MEMBER

  int version = 0;   ///< ncclGetVersion: 22809 for 2.28.9
  std::string path;  ///< the file that was loaded (a soname when the default search found it)

  /// "2.28.9"
  std::string VersionString() const;
  /// ncclSuccess -> value; anything else -> Error "call: NCCL error N (text)".
  Result<void> Check(NcclResult code, const char* call) const;

 private:
  Nccl() = default;
};

/// NCCL's version code as text: 22809 -> "2.28.9" (codes before 2.9 are 1000*major + 100*minor
/// + patch: 2804 -> "2.8.4").
std::string NcclVersionString(int code);

}  // namespace dlrig::gpu
