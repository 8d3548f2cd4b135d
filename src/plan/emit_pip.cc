// requirements.txt, requirements-build.txt and environment.yml: the Python packages of a plan.
#include "plan/emit.h"

namespace dlrig {
namespace {

constexpr const char* kPypi = "https://pypi.org/simple";

/// The index lines: the PyTorch index first (its +cuXYZ builds), PyPI for everything else.
std::vector<std::string> IndexLines(const Plan& plan) {
  if (plan.index_url.empty()) return {};
  return {"--index-url " + plan.index_url, "--extra-index-url " + std::string(kPypi)};
}

}  // namespace

std::string EmitRequirements(const Plan& plan) {
  std::string out = FileHeader(plan, "Python packages for this machine: pip install -r requirements.txt", "#");
  if (!plan.variant.empty())
    out += "# torch " + plan.torch->text + " " + plan.variant + (plan.index_url.empty()
               ? ": PyPI's own build for this release\n" : ": served by the PyTorch index\n");
  for (const std::string& line : IndexLines(plan)) out += line + "\n";
  for (const std::string& req : plan.requirements) out += req + "\n";
  return out;
}

std::string EmitBuildRequirements(const Plan& plan) {
  std::string out = FileHeader(plan, "CUDA extensions built against the installed torch: "
                                     "pip install --no-build-isolation -r requirements-build.txt", "#");
  out += "# Install requirements.txt first; these compile with nvcc " +
         (plan.toolkit ? plan.toolkit->text : std::string("?")) + ".\n";
  for (const std::string& req : plan.build_requirements) out += req + "\n";
  return out;
}

std::string EmitEnvironmentYml(const Plan& plan) {
  std::string out = FileHeader(plan, "Conda environment: conda env create -f environment.yml", "#");
  out += "name: dlrig-plan\nchannels:\n  - conda-forge\ndependencies:\n";
  if (!plan.python.parts.empty()) out += "  - python=" + plan.python.MajorMinor() + "\n";
  out += "  - pip\n";
  if (plan.toolkit && plan.toolkit->major() >= 12) {
    out += "  - cuda-nvcc=" + plan.toolkit->text + "\n";
    if (plan.newest_gcc) out += "  - gxx<=" + std::to_string(*plan.newest_gcc) + "\n";
  }
  out += "  - pip:\n";
  for (const std::string& line : IndexLines(plan)) out += "      - " + line + "\n";
  for (const std::string& req : plan.requirements) out += "      - \"" + req + "\"\n";
  return out;
}

}  // namespace dlrig
