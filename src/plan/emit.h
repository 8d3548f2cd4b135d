// Turning a Plan into the files a user runs: setup.sh, requirements.txt (+ requirements-build.txt),
// environment.yml, Dockerfile + docker-run.sh, .devcontainer/devcontainer.json. Pure: text out.
#pragma once

#include <string>
#include <vector>

#include "plan/plan.h"

namespace dlrig {

struct GeneratedFile {
  std::string path;  ///< relative to -o DIR: "setup.sh", ".devcontainer/devcontainer.json"
  std::string text;
  bool executable = false;
};

/// The files the plan's target needs, each starting with a header comment.
std::vector<GeneratedFile> EmitPlan(const Plan& plan);

std::string EmitSetupSh(const Plan& plan);
std::string EmitRequirements(const Plan& plan);
std::string EmitBuildRequirements(const Plan& plan);
std::string EmitEnvironmentYml(const Plan& plan);
std::string EmitDockerfile(const Plan& plan);
std::string EmitDockerRun(const Plan& plan);
std::string EmitDevcontainer(const Plan& plan);
/// One line on where the versions come from: the resolver's answer, or OFFLINE and why.
std::string ResolutionLine(const Plan& plan);
/// The index lines of requirements.txt (see IndexLines in plan/constraints.h); a plan whose pins
/// cannot keep PyPI from serving another variant gets the variant index alone.
std::vector<std::string> RequirementIndexLines(const Plan& plan);
/// The header every file starts with, each line behind `comment` ("#", "//").
std::string FileHeader(const Plan& plan, const std::string& what, const std::string& comment);

}  // namespace dlrig
