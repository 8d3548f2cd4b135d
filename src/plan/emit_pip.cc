// requirements.txt, requirements-build.txt and environment.yml: the Python packages of a plan.
#include "plan/constraints.h"
#include "plan/emit.h"

namespace dlrig {

std::vector<std::string> RequirementIndexLines(const Plan& plan) {
  auto lines = IndexLines(plan.index_url, plan.requirements, plan.variant_packages, plan.needs_pypi);
  if (lines) return *lines;
  return {"--index-url " + plan.index_url};
}

namespace {

/// Why the index lines are what they are, as comment lines.
std::string IndexComment(const Plan& plan) {
  if (plan.index_url.empty()) return "";
  std::vector<std::string> lines = RequirementIndexLines(plan);
  if (lines.size() > 1)
    return "# PyPI is an extra index only for the packages the PyTorch index lacks: every torch\n"
           "# package is pinned with its +" + plan.variant + " local version, which PyPI's wheels never carry.\n";
  if (plan.needs_pypi)
    return "# The pins cannot exclude PyPI's default variant, so PyPI is not added: install the\n"
           "# PyPI-only packages separately.\n";
  return "# The PyTorch index alone: it serves torch, its companions and their dependencies.\n";
}

}  // namespace

std::string EmitRequirements(const Plan& plan) {
  std::string out = FileHeader(plan, "Python packages for this machine: pip install -r requirements.txt", "#");
  if (!plan.variant.empty())
    out += "# torch " + plan.torch->text + " " + plan.variant + (plan.index_url.empty()
               ? ": PyPI's own build for this release\n" : ": served by the PyTorch index\n");
  out += IndexComment(plan);
  for (const std::string& line : RequirementIndexLines(plan)) out += line + "\n";
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
  for (const std::string& line : RequirementIndexLines(plan)) out += "      - " + line + "\n";
  for (const std::string& req : plan.requirements) out += "      - \"" + req + "\"\n";
  return out;
}

}  // namespace dlrig
