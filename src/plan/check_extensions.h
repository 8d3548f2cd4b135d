// Python packages that compile CUDA code with nvcc when installed or first used
// (data/cuda-extensions.toml): NVIDIA Apex, flash-attn from source, DeepSpeed's ops.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace dlrig {

struct CudaExtensionRow {
  std::string name;  ///< PEP 503 name: "apex", "flash-attn", "deepspeed"
  /// When nvcc is needed: "source" (installed from a VCS URL or a path), "install" (always
  /// at install), "jit" (at first use, unless `prebuild_env` built it at install).
  std::string when;
  std::string build_flag;    ///< a flag that asks for the CUDA build ("--cuda_ext"); "" = none
  std::string prebuild_env;  ///< "DS_BUILD_OPS": set to 1, the ops are built at install
  std::string note;          ///< what gets compiled
  std::string source;
};

class CudaExtensions {
 public:
  static Result<CudaExtensions> Parse(std::string_view text);
  static const Result<CudaExtensions>& BuiltIn();
  const CudaExtensionRow* Find(std::string_view name) const;
  const std::vector<CudaExtensionRow>& rows() const { return rows_; }

 private:
  std::vector<CudaExtensionRow> rows_;
};

}  // namespace dlrig
