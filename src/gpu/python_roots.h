// Where pip and conda put NVIDIA's libraries: the places both library loaders (cuBLASLt, NCCL)
// search after the CUDA toolkit's own directories, in one order.
#pragma once

#include <string>
#include <vector>

namespace dlrig::gpu {

struct PythonRoot {
  enum Kind { kSitePackages, kCondaPrefix } kind;
  std::string path;  ///< a glob pattern: site-packages (wheels under nvidia/), or a conda prefix
};

/// The active venv's site-packages, the active conda env (its prefix, whose lib/ holds
/// conda-forge's packages, then its site-packages), the system Pythons' site- and
/// dist-packages, venvs under /opt, and the user's ~/.local. An empty variable drops its
/// entries.
std::vector<PythonRoot> PythonRoots(const std::string& virtual_env, const std::string& conda_prefix,
                                    const std::string& home);

/// The same for this process's VIRTUAL_ENV, CONDA_PREFIX and HOME.
std::vector<PythonRoot> PythonRootsFromEnvironment();

}  // namespace dlrig::gpu
