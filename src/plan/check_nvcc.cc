// Packages that compile CUDA code (data/cuda-extensions.toml) where no nvcc will be: a machine
// without a CUDA toolkit, or a Dockerfile stage on a runtime image.
#include <fmt/format.h>

#include "plan/check.h"
#include "plan/check_images.h"

namespace dlrig {

namespace {

bool AsksFor(const PackageSpec& p, std::string_view flag) {
  if (p.at.text.find(flag) != std::string::npos) return true;
  for (const auto& o : p.options)
    if (o.find(flag) != std::string::npos) return true;
  return false;
}

bool EnvSetToOne(const std::vector<EnvSetting>& env, std::string_view name) {
  for (const auto& e : env)
    if (e.name == name && e.value == "1") return true;
  return false;
}

// `where` is "this machine has no CUDA toolkit (nvcc)" or "image X has no nvcc".
void CheckPackages(const std::vector<PackageSpec>& packages, const std::vector<EnvSetting>& env,
                   const std::string& where, const CheckKnowledge& kb, const DockerStage* stage,
                   std::vector<CheckFinding>& out) {
  for (const PackageSpec& p : packages) {
    const CudaExtensionRow* row = kb.extensions->Find(p.name);
    if (row == nullptr) continue;
    Severity severity = Severity::kError;
    std::string when;
    if (row->when == "source") {
      if (!p.from_source) continue;
      when = "built from source";
      if (!row->build_flag.empty() && !AsksFor(p, row->build_flag)) {
        severity = Severity::kWarning;
        when = fmt::format("built from source without {} (Python-only: its CUDA kernels need nvcc)",
                           row->build_flag);
      }
    } else {
      bool prebuild = !row->prebuild_env.empty() && EnvSetToOne(env, row->prebuild_env);
      severity = prebuild ? Severity::kError : Severity::kWarning;
      when = prebuild ? row->prebuild_env + "=1 builds its ops at install"
                      : "its ops are compiled at first use";
    }
    CheckFinding f{.id = "nvcc-missing-cuda-home-unset",
                   .severity = severity,
                   .at = p.at,
                   .what = fmt::format("{} is {}, and {}", p.name, when, where),
                   .why = row->note,
                   .source = "data/cuda-extensions.toml: " + row->source};
    if (stage != nullptr) {
      f.fix = fmt::format("build it on a -devel image (line {}): {}", stage->image.at.line,
                          DevelFromLine(stage->image));
    } else {
      f.fix =
          "install the CUDA toolkit of torch's CUDA version (apt install cuda-toolkit-X-Y, or "
          "conda install "
          "-c nvidia cuda-toolkit=X.Y) and export CUDA_HOME; or use a prebuilt wheel";
    }
    out.push_back(std::move(f));
  }
}

}  // namespace

void CheckExtensionBuilds(const ProjectFacts& facts, const MachineSpec& machine,
                          const CheckKnowledge& kb, std::vector<CheckFinding>& out) {
  if (!machine.nvcc)
    CheckPackages(facts.packages, {}, "this machine has no CUDA toolkit (nvcc)", kb, nullptr, out);
  for (const DockerStage& stage : facts.stages) {
    ImageFacts image = ReadImage(stage.image);
    if (image.has_nvcc.value_or(true)) continue;
    CheckPackages(stage.packages, stage.env,
                  fmt::format("{}:{} has no nvcc (a {} image)", stage.image.name, stage.image.tag,
                              image.flavor),
                  kb, &stage, out);
  }
}

}  // namespace dlrig
