// Which CUDA a Linux driver runs (data/cuda-drivers.toml): for judging a framework's CUDA build
// against the installed driver when the driver cannot be asked (a capture, --no-dlopen, a
// driver that does not load).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/version.h"

namespace dlrig {

struct CudaDriverRow {
  Version cuda;                       ///< toolkit release, "12.4"
  Version toolkit_driver;             ///< driver shipped with it
  std::optional<Version> minor_compat_driver;  ///< oldest driver for its major (11+)
  std::string source;
};

class CudaDrivers {
 public:
  static Result<CudaDrivers> Parse(std::string_view text);
  /// The built-in table, parsed once.
  static const Result<CudaDrivers>& BuiltIn();
  /// The newest CUDA release whose own driver is <= `driver` ("580.95.05" -> 13.0).
  std::optional<Version> NewestCudaFor(const Version& driver) const;
  /// Can code built with CUDA `cuda` run on `driver`? Same-major builds run from the
  /// minor-version-compatibility minimum on (CUDA 11+); nullopt when the table lacks the release.
  std::optional<bool> Runs(const Version& cuda, const Version& driver) const;
  const std::vector<CudaDriverRow>& rows() const { return rows_; }

 private:
  std::vector<CudaDriverRow> rows_;  ///< newest first
};

}  // namespace dlrig
