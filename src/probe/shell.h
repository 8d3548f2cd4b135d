// shell layer: the variables that steer CUDA and Python, start-up files that change them,
// and the host compiler and CMake that extension builds use.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "probe/context.h"

namespace dlrig {

/// One entry of PATH or LD_LIBRARY_PATH.
struct PathEntry {
  std::string dir;
  bool exists = false;
  std::string note;  ///< "CUDA toolkit bin (nvcc)", "libcudart.so.12.1.105", ...
};

/// A conda init block or a CUDA-related line in a shell start-up file.
struct StartupLine {
  std::string file;
  int line = 0;
  std::string text;
  std::string kind;  ///< "conda-init", "cuda-path", "ld-library-path"
};

struct ToolVersion {
  std::string path;
  Result<std::string> version = Fail(ErrorKind::kNotFound, "not probed");
};

struct ShellFacts {
  std::vector<std::pair<std::string, std::string>> variables;  ///< set CUDA/Python variables
  std::vector<PathEntry> path;
  std::vector<PathEntry> ld_library_path;
  std::vector<StartupLine> startup_lines;
  std::vector<std::string> startup_files_read;
  std::optional<ToolVersion> gcc;
  std::optional<ToolVersion> cmake;
};

ShellFacts ProbeShell(const ProbeContext& ctx);

/// Lines of a start-up file that init conda or put CUDA on a path (pure, for tests).
std::vector<StartupLine> ScanStartupFile(const std::string& file, std::string_view text);
/// "12.2.0" from `gcc -dumpfullversion`, "3.25.1" from `cmake --version`.
std::optional<std::string> ParseToolVersion(std::string_view output);

}  // namespace dlrig
