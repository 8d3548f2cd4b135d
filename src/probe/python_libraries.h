// python layer: which CUDA libraries a framework would load, and their versions.
// Internal to the python probe (python.cc, python_frameworks.cc) and its tests.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "probe/python.h"

namespace dlrig {

struct LibraryContext {
  const LoaderSearch& search;
  const WheelLayouts& layouts;
};

/// The libcudart / libcudnn / libnccl that `framework` ("torch", "jax", "tensorflow") in
/// `site_dir` would load. Follows the real importer's RUNPATH when it can be read, else the
/// assumed wheel layout for `cuda` ("13.0" → major 13), marked as assumed (only for a 0-byte
/// placeholder). An importer that exists but cannot be read or is not a valid ELF file is an
/// error: what it needs is then unknown, not missing.
Result<std::vector<LibraryLoad>> ResolveFrameworkLoads(const Root& root, const LibraryContext& lc,
                                                       const PythonEnv& env,
                                                       const std::string& site_dir,
                                                       std::string_view framework,
                                                       std::string_view cuda);

/// Version of the library at `path`: from the wheel that ships it, its file name
/// (libcudnn.so.9.14.0) or a version header beside it.
Result<std::string> LibraryVersion(const Root& root, const LibraryContext& lc, const PythonEnv& env,
                                   const std::string& path, std::string* source);

}  // namespace dlrig
