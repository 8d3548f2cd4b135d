// TensorFlow and JAX lines judged by the constraint engine plan uses (plan/judge.h):
// tensorflow[and-cuda] whose CUDA wheels the driver cannot run, tensorflow without [and-cuda]
// on a GPU machine (it runs on the CPU), jax[cudaNN] / jax-cudaNN-plugin / jax-cudaNN-pjrt /
// jaxlib "+cudaNN" below their driver or compute-capability floor.
#include <fmt/format.h>

#include <regex>

#include "plan/check.h"

namespace dlrig {

namespace {

std::string IdFor(const std::string& constraint, std::string_view framework) {
  if (constraint == "driver") return "cuda-driver-insufficient";
  if (constraint == "gpu") return "gpu-too-old-for-framework";
  if (constraint == "python") return std::string(framework) + "-python-unsupported";
  return std::string(framework) + "-refused";
}

bool HasExtra(const PackageSpec& p, std::string_view extra) {
  for (const auto& e : p.extras)
    if (e == extra) return true;
  return false;
}

void CheckTensorflow(const PackageSpec& p, const StackTarget& target, const CheckKnowledge& kb,
                     std::vector<CheckFinding>& out) {
  const CudaWheelExtra* extra = kb.extras->CudaExtra("tensorflow");
  bool and_cuda = extra != nullptr && HasExtra(p, extra->extra);
  FrameworkJudgement j = JudgeTensorflow(p.version, and_cuda, target, kb.Constraints());
  if (j.verdict == Verdict::kRefused) {
    CheckFinding f{.id = IdFor(j.constraint, "tensorflow"),
                   .severity = Severity::kError,
                   .at = p.at,
                   .what = j.reason,
                   .source = j.source};
    if (!j.pin.empty()) f.replacement = ReplaceRequirement(p, j.pin);
    if (j.constraint == "driver" && target.driver)
      f.fix = j.pin.empty() ? "upgrade the driver" : "or upgrade the driver";
    out.push_back(std::move(f));
    return;
  }
  if (j.verdict == Verdict::kAllowed && !j.advice.empty() && p.manager == "pip")
    out.push_back({.id = "tensorflow-without-cuda-libraries",
                   .severity = Severity::kWarning,
                   .at = p.at,
                   .what = j.advice,
                   .source = j.source,
                   .replacement = j.pin.empty() ? "" : ReplaceRequirement(p, j.pin)});
}

// The CUDA major a JAX line asks for: jax[cuda12], jax[cuda12-pip], jax-cuda13-plugin,
// jax-cuda12-pjrt, jaxlib==0.4.23+cuda12.cudnn89; 0 when none.
int JaxCudaMajor(const PackageSpec& p) {
  static const std::regex kCuda("^cuda(\\d+)");
  static const std::regex kPlugin("^jax-cuda(\\d+)-(plugin|pjrt)$");
  static const std::regex kLocal("\\+cuda(\\d+)");
  std::smatch m;
  if (p.name == "jax")
    for (const std::string& e : p.extras)
      if (std::regex_search(e, m, kCuda)) return std::stoi(m[1].str());
  if (std::regex_search(p.name, m, kPlugin)) return std::stoi(m[1].str());
  if (p.name == "jaxlib" && p.version && std::regex_search(p.version->suffix, m, kLocal))
    return std::stoi(m[1].str());
  return 0;
}

void CheckJax(const PackageSpec& p, int major, const StackTarget& target, const CheckKnowledge& kb,
              std::vector<CheckFinding>& out) {
  std::optional<Version> version;
  if (p.version) version = Version::Parse(p.version->text.substr(0, p.version->text.find('+')));
  FrameworkJudgement j = JudgeJax(version, major, target, kb.Constraints());
  if (j.verdict != Verdict::kRefused) return;
  CheckFinding f{.id = IdFor(j.constraint, "jax"),
                 .severity = Severity::kError,
                 .at = p.at,
                 .what = j.reason,
                 .source = j.source};
  std::string from = fmt::format("cuda{}", major);
  if (!j.pin.empty() && p.name != "jaxlib") {
    std::string to = j.pin.substr(j.pin.find("cuda"), j.pin.find(']') - j.pin.find("cuda"));
    f.replacement = ReplaceFirst(p.at.text, from, to);
  }
  f.fix = j.constraint == "driver"
              ? (j.pin.empty() ? "upgrade the driver" : "or upgrade the driver")
              : "";
  out.push_back(std::move(f));
}

void CheckPackages(const std::vector<PackageSpec>& packages, const std::vector<IndexUrl>& indexes,
                   const ProjectFacts& facts, const MachineSpec& machine, const CheckKnowledge& kb,
                   std::vector<CheckFinding>& out) {
  StackTarget target = TargetOf(machine, packages, indexes, kb);
  if (facts.python && facts.python->version)
    target.python = Version::Parse(facts.python->version->MajorMinor());
  for (const PackageSpec& p : packages) {
    if (p.manager != "pip" || FindPackage(packages, p.name, "pip", machine) != &p) continue;
    if (p.name == "tensorflow") CheckTensorflow(p, target, kb, out);
    if (int major = JaxCudaMajor(p); major != 0) CheckJax(p, major, target, kb, out);
  }
}

}  // namespace

void CheckFrameworks(const ProjectFacts& facts, const MachineSpec& machine,
                     const CheckKnowledge& kb, std::vector<CheckFinding>& out) {
  if (kb.extras == nullptr || kb.tensorflow == nullptr || kb.jax == nullptr) return;
  CheckPackages(facts.packages, facts.indexes, facts, machine, kb, out);
  for (const DockerStage& stage : facts.stages)
    CheckPackages(stage.packages, stage.indexes, facts, machine, kb, out);
}

}  // namespace dlrig
