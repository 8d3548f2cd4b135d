// libraries layer: every system copy of cuDNN, NCCL, cuBLAS and TensorRT outside Python
// environments: the loader's directories, toolkit library dirs, include dirs, and dpkg.
#pragma once

#include <string>
#include <vector>

#include "core/result.h"
#include "probe/context.h"
#include "probe/dpkg.h"
#include "probe/ldconfig.h"

namespace dlrig {

/// One copy of a library: a directory of its shared objects, or one version header.
struct LibraryCopy {
  std::string library;  ///< "cudnn", "nccl", "cublas", "tensorrt"
  std::string kind;     ///< "shared library" or "header"
  std::string path;     ///< the header file, or the directory holding the .so files
  std::vector<std::string> files;  ///< the .so file names in that directory
  Result<std::string> version = Fail(ErrorKind::kNotFound, "not probed");  ///< "9.14.0"
  std::string version_source;  ///< "cudnn_version.h", "libcudnn.so.9.14.0"
};

struct LibraryFacts {
  std::vector<LibraryCopy> copies;
  std::vector<DpkgPackage> packages;  ///< installed libcudnn*, libnccl*, libcublas*, … packages
  std::vector<std::string> searched_dirs;  ///< canonical directories looked at
};

LibraryFacts ProbeLibraries(const ProbeContext& ctx, const LoaderConfig& loader,
                            const DpkgFacts& dpkg);

/// The version a header states: "9.14.0" from cudnn_version.h text, etc. `library` is
/// "cudnn", "nccl", "cublas" or "tensorrt".
Result<std::string> ParseLibraryHeaderVersion(std::string_view library, std::string_view text);
/// The longest version in .so names: {"libnccl.so.2", "libnccl.so.2.28.3"} → "2.28.3".
std::optional<std::string> VersionFromSoNames(std::string_view base,
                                              const std::vector<std::string>& names);

}  // namespace dlrig
