// Debian packages that matter to the GPU stack, from /var/lib/dpkg/status (streamed: the file
// can be several MB; only nvidia-*, cuda-*, libcudnn*, libnccl*, libnvinfer*, tensorrt*,
// libnvidia-*, libcublas* and nvidia-container-* records are kept).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "probe/context.h"

namespace dlrig {

struct DpkgPackage {
  std::string name;     ///< "libcudnn9-cuda-13"
  std::string version;  ///< "9.14.0.64-1", verbatim
  std::string status;   ///< "hold ok installed", verbatim
  bool installed = false;  ///< the status's last word is "installed"
  bool held = false;       ///< the selection (first word) is "hold"
};

struct DpkgFacts {
  /// Not found on RPM systems and in trees without dpkg: that is "unknown", not "none".
  Result<std::vector<DpkgPackage>> packages = Fail(ErrorKind::kNotFound, "not probed");

  /// Installed packages whose name starts with `prefix`.
  std::vector<DpkgPackage> WithPrefix(std::string_view prefix) const;
  /// The installed package named `name`, or nullptr.
  const DpkgPackage* Find(std::string_view name) const;
};

DpkgFacts ProbeDpkg(const ProbeContext& ctx);

/// True for the package names dlrig keeps.
bool IsStackPackage(std::string_view name);

/// Incremental parser of the dpkg status format: feed chunks of any size, then Finish().
class DpkgStatusParser {
 public:
  void Feed(std::string_view chunk);
  /// Flushes the last record and returns the kept packages.
  std::vector<DpkgPackage> Finish();

 private:
  void Line(std::string_view line);
  void EndRecord();
  std::string partial_;  ///< an unterminated line carried between chunks
  DpkgPackage current_;
  std::vector<DpkgPackage> kept_;
};

/// Whole-text convenience over DpkgStatusParser (tests, fuzzer).
std::vector<DpkgPackage> ParseDpkgStatus(std::string_view text);

}  // namespace dlrig
