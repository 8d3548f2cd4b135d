// toolkits layer rules: the nvcc that extension builds (apex, flash-attn, DeepSpeed) would use,
// and whether the driver packages are pinned.
#include <fmt/format.h>

#include <algorithm>

#include "core/strings.h"
#include "core/version.h"
#include "rules/facts.h"
#include "rules/rules.h"

namespace dlrig {
namespace {

const Framework* CudaTorch(const Inventory& inv, const PythonEnv** env_out) {
  for (const auto& env : inv.python.envs)
    for (const auto& fw : env.frameworks)
      if (fw.name == "torch" && fw.built_for_cuda && !fw.built_for_cuda->empty()) {
        *env_out = &env;
        return &fw;
      }
  return nullptr;
}

void NvccVersusTorch(const Inventory& inv, Findings& out) {
  const PythonEnv* env = nullptr;
  const Framework* torch = CudaTorch(inv, &env);
  if (torch == nullptr) return;
  const CudaToolkit* tk = NvccToolkit(inv.toolkits);
  bool cuda_home = false;
  for (const auto& v : inv.toolkits.variables) cuda_home |= v.value && !v.value->empty();
  if (tk == nullptr && inv.toolkits.nvcc_on_path.empty()) {
    if (!cuda_home)
      out.push_back({.id = "nvcc-missing-cuda-home-unset", .subject = env->prefix,
                     .evidence = {"no nvcc on PATH", "CUDA_HOME and CUDA_PATH unset"},
                     .vars = {{"env", env->prefix}, {"cuda", *torch->built_for_cuda}}});
    return;
  }
  if (tk == nullptr || !tk->version) return;
  auto nvcc = Version::Parse(*tk->version);
  auto built = Version::Parse(*torch->built_for_cuda);
  if (!nvcc || !built || nvcc->major() == built->major()) return;
  out.push_back({.id = "nvcc-torch-cuda-mismatch", .subject = env->prefix,
                 .evidence = {inv.toolkits.nvcc_on_path.front() + ": CUDA " + *tk->version,
                              "torch " + torch->version.value_or("?") + " built for CUDA " +
                                  *torch->built_for_cuda},
                 .vars = {{"nvcc", tk->version.value()}, {"torch_cuda", *torch->built_for_cuda},
                          {"env", env->prefix}}});
}

// nvcc refuses a host compiler newer than its crt/host_config.h allows.
void GccTooNew(const Inventory& inv, Findings& out) {
  const CudaToolkit* tk = BuildToolkit(inv.toolkits);
  if (tk == nullptr || !tk->newest_gcc || !inv.shell.gcc || !inv.shell.gcc->version) return;
  auto gcc = Version::Parse(*inv.shell.gcc->version);
  if (!gcc || gcc->major() <= *tk->newest_gcc) return;
  out.push_back({.id = "gcc-too-new-for-nvcc", .subject = tk->path,
                 .evidence = {fmt::format("{}: gcc {}", inv.shell.gcc->path, *inv.shell.gcc->version),
                              fmt::format("{}/include/crt/host_config.h: #if __GNUC__ > {} -> "
                                          "\"unsupported GNU version\"", tk->path, *tk->newest_gcc)},
                 .vars = {{"gcc", *inv.shell.gcc->version}, {"newest", std::to_string(*tk->newest_gcc)},
                          {"toolkit", tk->path}, {"cuda", tk->version.value_or("?")}}});
}

// CUDA_HOME points at a tree (a conda env, a pip toolkit) without lib64/libcudart.so: builds
// that link with -L$CUDA_HOME/lib64 -lcudart fail with "cannot find -lcudart".
void LibVersusLib64(const Inventory& inv, Findings& out) {
  for (const auto& v : inv.toolkits.variables) {
    if (!v.value || !v.exists || v.cudart_files.empty()) continue;
    auto has = [&](const std::string& f) {
      return std::find(v.cudart_files.begin(), v.cudart_files.end(), f) != v.cudart_files.end();
    };
    if (has("lib64/libcudart.so")) continue;
    std::string dev;  // the unversioned link that does exist elsewhere
    for (const auto& f : v.cudart_files)
      if (EndsWith(f, "/libcudart.so")) dev = f;
    std::string why = dev.empty() ? "only versioned runtimes (" + v.cudart_files.front() +
                                        "): the development link libcudart.so is missing"
                                  : dev + " exists, but not lib64/libcudart.so";
    out.push_back({.id = "cuda-lib-vs-lib64", .subject = v.name,
                   .evidence = {v.name + "=" + *v.value, why},
                   .vars = {{"var", v.name}, {"home", *v.value}, {"why", why},
                            {"libdir", dev.empty() ? "lib" : DirName(dev)}}});
  }
}

// CMake before 3.18 has no CMAKE_CUDA_ARCHITECTURES (policy CMP0104), which CUDA projects and
// extension builds configured with CMake rely on.
void CmakeTooOld(const Inventory& inv, Findings& out) {
  if (BuildToolkit(inv.toolkits) == nullptr || !inv.shell.cmake || !inv.shell.cmake->version) return;
  auto cmake = Version::Parse(*inv.shell.cmake->version);
  if (!cmake || *cmake >= *Version::Parse("3.18")) return;
  out.push_back({.id = "cmake-too-old-for-cuda", .subject = inv.shell.cmake->path,
                 .evidence = {fmt::format("{}: cmake {}", inv.shell.cmake->path, *inv.shell.cmake->version)},
                 .vars = {{"cmake", *inv.shell.cmake->version}}});
}

// An installed driver that apt may upgrade behind the running kernel module's back.
void DriverNotHeld(const Inventory& inv, Findings& out) {
  if (!inv.dpkg.packages) return;
  for (const auto& p : *inv.dpkg.packages) {
    bool driver = StartsWith(p.name, "nvidia-driver-") || StartsWith(p.name, "libnvidia-compute-");
    if (!driver || !p.installed || p.held) continue;
    out.push_back({.id = "driver-package-not-held", .subject = p.name,
                   .evidence = {"/var/lib/dpkg/status: " + p.name + " " + p.version + " (" +
                                p.status + ")"},
                   .vars = {{"package", p.name}}});
    return;
  }
}

}  // namespace

void ToolkitRules(const Inventory& inv, Findings& out) {
  NvccVersusTorch(inv, out);
  GccTooNew(inv, out);
  LibVersusLib64(inv, out);
  CmakeTooOld(inv, out);
  DriverNotHeld(inv, out);
}

}  // namespace dlrig
