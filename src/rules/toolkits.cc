// toolkits layer rules: the nvcc that extension builds (apex, flash-attn, DeepSpeed) would use,
// and whether the driver packages are pinned.
#include <fmt/format.h>

#include "core/strings.h"
#include "core/version.h"
#include "rules/facts.h"
#include "rules/rules.h"

namespace dlrig {
namespace {

// The toolkit the first nvcc on PATH belongs to.
const CudaToolkit* NvccToolkit(const ToolkitFacts& t) {
  if (t.nvcc_on_path.empty()) return nullptr;
  for (const auto& tk : t.toolkits) {
    if (tk.nvcc && *tk.nvcc == t.nvcc_on_path.front()) return &tk;
    for (const auto& alias : tk.aliases)
      if (JoinPath(alias, "bin/nvcc") == t.nvcc_on_path.front()) return &tk;
  }
  return nullptr;
}

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
  DriverNotHeld(inv, out);
}

}  // namespace dlrig
