// toolkits layer: every CUDA toolkit installed outside Python environments (/usr/local/cuda-X.Y,
// the /usr/local/cuda and /etc/alternatives/cuda links, /opt/*cuda*, the distro toolkit in /usr),
// its version and where that version was read, nvcc, and CUDA_HOME / CUDA_PATH.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "probe/context.h"
#include "probe/dpkg.h"

namespace dlrig {

struct CudaToolkit {
  std::string path;                  ///< canonical ("/usr/local/cuda-13.0", "/usr" for distro)
  std::vector<std::string> aliases;  ///< links that lead here ("/usr/local/cuda")
  Result<std::string> version = Fail(ErrorKind::kNotFound, "not probed");  ///< "13.0.96"
  /// Where the version came from: "version.json", "version.txt", "include/cuda.h",
  /// "<dir>/libcudart.so.13.0.96", "dpkg cuda-cudart-13-0".
  std::string version_source;
  std::optional<std::string> nvcc;  ///< path of bin/nvcc when present
  std::string dpkg_package;         ///< "cuda-cudart-13-0 13.0.96-1" when one matches
  /// The newest GCC major nvcc accepts, from include/crt/host_config.h's
  /// "#if __GNUC__ > N ... unsupported GNU version" (toolkits with nvcc only).
  Result<int> newest_gcc = Fail(ErrorKind::kNotFound, "not probed");
};

/// An environment variable naming a toolkit.
struct ToolkitVariable {
  std::string name;                  ///< "CUDA_HOME"
  std::optional<std::string> value;  ///< nullopt: unset
  bool exists = false;               ///< the directory exists in the inspected tree
  /// Which runtime-library files exist under it, relative ("lib64/libcudart.so",
  /// "lib/libcudart.so.12"): extension builds link with -L$CUDA_HOME/lib64 -lcudart.
  std::vector<std::string> cudart_files;
};

struct ToolkitFacts {
  std::vector<CudaToolkit> toolkits;
  std::vector<std::string> nvcc_on_path;  ///< every nvcc on PATH, first = what the shell runs
  std::vector<ToolkitVariable> variables;  ///< CUDA_HOME, CUDA_PATH
};

ToolkitFacts ProbeToolkits(const ProbeContext& ctx, const DpkgFacts& dpkg);

/// `.cuda.version` of a toolkit's version.json.
Result<std::string> ParseToolkitVersionJson(std::string_view text);
/// "CUDA Version 10.2.89" → "10.2.89".
Result<std::string> ParseToolkitVersionTxt(std::string_view text);
/// `#define CUDA_VERSION 13000` → "13.0".
Result<std::string> ParseCudaHeaderVersion(std::string_view text);
/// N of the "#if __GNUC__ > N" that guards nvcc's "unsupported GNU version!" error.
Result<int> ParseNewestGcc(std::string_view host_config);
/// Integer value of `#define NAME value` in C header text.
std::optional<long long> HeaderDefine(std::string_view text, std::string_view name);

}  // namespace dlrig
