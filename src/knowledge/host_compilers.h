// The newest host compiler each CUDA toolkit's nvcc accepts (data/host-compilers.toml): nvcc's
// crt/host_config.h refuses newer ones with "unsupported GNU version!" unless
// -allow-unsupported-compiler is given, which is how a too-new distribution GCC breaks
// building CUDA extensions (pip installs of flash-attn, apex, ...).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/version.h"

namespace dlrig {

struct HostCompilerRow {
  Version cuda_first, cuda_last;  ///< toolkits major.minor, inclusive
  int newest_major = 0;           ///< newest compiler major nvcc accepts
  bool confirmed = false;         ///< read in host_config.h itself
  std::string source;
};

class HostCompilers {
 public:
  static Result<HostCompilers> Parse(std::string_view text);
  static const Result<HostCompilers>& BuiltIn();
  /// The newest GCC major that CUDA `cuda` ("12.4", "12.4.131") accepts; nullopt when unknown.
  std::optional<int> NewestGccFor(const Version& cuda) const;
  /// The newest clang major that CUDA `cuda` accepts; nullopt when unknown.
  std::optional<int> NewestClangFor(const Version& cuda) const;
  /// The row behind NewestGccFor, for its source.
  const HostCompilerRow* GccRow(const Version& cuda) const;
  const HostCompilerRow* ClangRow(const Version& cuda) const;
  const std::vector<HostCompilerRow>& gcc() const { return gcc_; }
  const std::vector<HostCompilerRow>& clang() const { return clang_; }

 private:
  std::vector<HostCompilerRow> gcc_, clang_;  ///< ascending, not overlapping
};

}  // namespace dlrig
