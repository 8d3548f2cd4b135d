#include "gpu/python_roots.h"

#include "core/environment.h"

namespace dlrig::gpu {

std::vector<PythonRoot> PythonRoots(const std::string& virtual_env, const std::string& conda_prefix,
                                    const std::string& home) {
  std::vector<PythonRoot> roots;
  auto site = [&roots](std::string pattern) { roots.push_back({PythonRoot::kSitePackages, std::move(pattern)}); };
  if (!virtual_env.empty()) site(virtual_env + "/lib/python3*/site-packages");
  if (!conda_prefix.empty()) {
    roots.push_back({PythonRoot::kCondaPrefix, conda_prefix});
    site(conda_prefix + "/lib/python3*/site-packages");
  }
  for (const char* base : {"/usr/lib/python3*", "/usr/local/lib/python3*"}) {
    site(std::string(base) + "/site-packages");
    site(std::string(base) + "/dist-packages");
  }
  site("/opt/*/.venv/lib/python3*/site-packages");
  if (!home.empty()) site(home + "/.local/lib/python3*/site-packages");
  return roots;
}

std::vector<PythonRoot> PythonRootsFromEnvironment() {
  return PythonRoots(ProcessEnv("VIRTUAL_ENV"), ProcessEnv("CONDA_PREFIX"), ProcessEnv("HOME"));
}

}  // namespace dlrig::gpu
