// Frameworks in one environment: versions and built-for CUDA from the files their builds
// generate (never imported), and which CUDA libraries each would load.
#include <algorithm>

#include "core/strings.h"
#include "core/version.h"
#include "probe/python.h"
#include "probe/python_libraries.h"

namespace dlrig {
namespace {

constexpr size_t kMaxPySource = 256 * 1024;

void SetLoads(Framework& fw, Result<std::vector<LibraryLoad>> loads) {
  if (loads)
    fw.loads = std::move(*loads);
  else
    fw.loads_error = loads.error();
}

// First site dir holding `rel`, else the first site dir.
std::string SiteDirOf(const Root& root, const PythonEnv& env, std::string_view rel,
                      const PythonDist* dist) {
  for (const std::string& dir : env.site_dirs)
    if (root.Exists(JoinPath(dir, rel))) return dir;
  if (dist) return dist->site_dir;
  return env.site_dirs.empty() ? "" : env.site_dirs.front();
}

std::optional<Framework> Torch(const Root& root, const LibraryContext& lc, const PythonEnv& env) {
  const PythonDist* dist = FindDist(env, "torch");
  std::string site = SiteDirOf(root, env, "torch/version.py", dist);
  std::string version_py = JoinPath(site, "torch/version.py");
  if (!dist && !root.Exists(version_py)) return std::nullopt;
  Framework fw;
  fw.name = "torch";
  fw.evidence = version_py;
  auto text = root.ReadFile(version_py, kMaxPySource);
  auto version = text ? FindPythonAssignment(*text, "__version__") : std::nullopt;
  auto cuda = text ? FindPythonAssignment(*text, "cuda") : std::nullopt;
  if (version)
    fw.version = *version;
  else if (dist)
    fw.version = dist->version;
  if (cuda)
    fw.built_for_cuda = *cuda;
  else
    fw.built_for_cuda = text ? Fail(ErrorKind::kMalformed, version_py + ": no cuda = line")
                             : tl::unexpected(text.error());
  if (fw.built_for_cuda && !fw.built_for_cuda->empty()) {
    SetLoads(fw, ResolveFrameworkLoads(root, lc, env, site, "torch", *fw.built_for_cuda));
    // The kernels live in libtorch_cuda.so (torch 1.10-1.12 split it; _cu holds them).
    for (const char* lib : {"torch/lib/libtorch_cuda.so", "torch/lib/libtorch_cuda_cu.so"}) {
      std::string path = JoinPath(site, lib);
      auto info = root.Stat(path);
      if (!info) continue;
      fw.kernels_file = path;
      // 0 bytes: a capture's placeholder. A FIFO or device is read, to fail with its type.
      if (info->size_bytes > 0 || info->type != FileType::kRegular)
        fw.kernels = ReadFatbin(root, path);
      break;
    }
  }
  return fw;
}

std::optional<Framework> TensorFlow(const Root& root, const LibraryContext& lc,
                                    const PythonEnv& env) {
  const PythonDist* dist = nullptr;
  for (const char* n : {"tensorflow", "tensorflow-cpu", "tensorflow-gpu", "tf-nightly"})
    if (!dist) dist = FindDist(env, n);
  if (!dist) return std::nullopt;
  Framework fw;
  fw.name = "tensorflow";
  fw.version = dist->version;
  if (dist->name != "tensorflow") fw.details.push_back("distribution " + dist->name);
  fw.evidence = JoinPath(dist->site_dir, "tensorflow/python/platform/build_info.py");
  auto text = root.ReadFile(fw.evidence, kMaxPySource);
  if (!text) {
    fw.built_for_cuda = tl::unexpected(text.error());
    return fw;
  }
  auto cuda = FindDictString(*text, "cuda_version");
  fw.built_for_cuda = cuda ? *cuda : "";
  if (auto cudnn = FindDictString(*text, "cudnn_version"))
    fw.details.push_back("built with cuDNN " + *cudnn);
  if (cuda && !cuda->empty())
    SetLoads(fw, ResolveFrameworkLoads(root, lc, env, dist->site_dir, "tensorflow", *cuda));
  return fw;
}

std::optional<Framework> Jax(const Root& root, const LibraryContext& lc, const PythonEnv& env) {
  const PythonDist* jax = FindDist(env, "jax");
  const PythonDist* jaxlib = FindDist(env, "jaxlib");
  if (!jax && !jaxlib) return std::nullopt;
  Framework fw;
  fw.name = "jax";
  fw.version =
      jax ? Result<std::string>(jax->version) : Fail(ErrorKind::kNotFound, "jax not installed");
  if (jaxlib) fw.details.push_back("jaxlib " + jaxlib->version);
  fw.built_for_cuda = "";  // CPU unless a CUDA plugin (or an old +cudaNN jaxlib) is there
  for (const char* major : {"12", "13"}) {
    for (const char* kind : {"plugin", "pjrt"}) {
      std::string name = std::string("jax-cuda") + major + "-" + kind;
      if (const PythonDist* p = FindDist(env, name)) {
        fw.details.push_back(name + " " + p->version);
        fw.built_for_cuda = major;
        fw.evidence = JoinPath(p->site_dir, name + " dist-info");
      }
    }
  }
  if (jaxlib && fw.built_for_cuda->empty() && Contains(jaxlib->version, "+cuda")) {
    fw.built_for_cuda = jaxlib->version.substr(jaxlib->version.find("+cuda") + 5, 2);
    fw.evidence = "jaxlib version " + jaxlib->version;
  }
  std::string site = jax ? jax->site_dir : jaxlib->site_dir;
  if (!fw.built_for_cuda->empty())
    SetLoads(fw, ResolveFrameworkLoads(root, lc, env, site, "jax", *fw.built_for_cuda));
  return fw;
}

std::optional<Framework> Paddle(const Root& root, const PythonEnv& env) {
  const PythonDist* dist = FindDist(env, "paddlepaddle-gpu");
  if (!dist) dist = FindDist(env, "paddlepaddle");
  if (!dist) return std::nullopt;
  Framework fw;
  fw.name = "paddle";
  fw.version = dist->version;
  fw.evidence = JoinPath(dist->site_dir, "paddle/version/__init__.py");
  auto text = root.ReadFile(fw.evidence, kMaxPySource);
  auto cuda = text ? FindPythonAssignment(*text, "cuda_version") : std::nullopt;
  if (cuda)
    fw.built_for_cuda = *cuda == "False" ? "" : *cuda;
  else
    fw.built_for_cuda = text ? Fail(ErrorKind::kMalformed, "no cuda_version in " + fw.evidence)
                             : tl::unexpected(text.error());
  return fw;
}

}  // namespace

std::vector<Framework> ProbeFrameworks(const Root& root, const LoaderSearch& search,
                                       const WheelLayouts& layouts, const PythonEnv& env) {
  LibraryContext lc{search, layouts};
  std::vector<Framework> out;
  for (auto fw :
       {Torch(root, lc, env), TensorFlow(root, lc, env), Jax(root, lc, env), Paddle(root, env)})
    if (fw) out.push_back(std::move(*fw));
  return out;
}

}  // namespace dlrig
