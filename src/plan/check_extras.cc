// Extras (data/extras.toml) judged by the constraint engine plan uses (plan/judge.h): a
// flash-attn the GPU cannot run, an xformers or vLLM wheel built against another torch, a
// bitsandbytes whose library for torch's CUDA lacks the GPU's code, an apex or DeepSpeed build
// whose nvcc does not match torch's CUDA, a flash-attn that pip would compile for hours.
#include <fmt/format.h>

#include "plan/check.h"
#include "plan/check_images.h"

namespace dlrig {

namespace {

std::string IdFor(const std::string& constraint) {
  if (constraint == "gpu") return "extra-gpu-unsupported";
  if (constraint == "torch") return "extra-torch-mismatch";
  if (constraint == "python") return "extra-python-unsupported";
  if (constraint == "driver") return "cuda-driver-insufficient";
  if (constraint == "nvcc") return "extra-nvcc-mismatch";
  return "extra-refused";
}

// The version part of a pin "flash-attn==2.7.4.post1" -> "2.7.4.post1".
std::string PinVersion(const std::string& pin) {
  size_t eq = pin.find("==");
  return eq == std::string::npos ? "" : pin.substr(eq + 2);
}

// `no_nvcc`: where a build would find no toolkit ("this machine has no CUDA toolkit", "image
// X has no nvcc"); "" when it has one or that is unknown.
void Judge(const PackageSpec& p, const StackTarget& target, const std::string& no_nvcc,
           const CheckKnowledge& kb, std::vector<CheckFinding>& out) {
  ConstraintTables tables = kb.Constraints();
  ExtraJudgement j = JudgeExtra(p.name, p.version, target, tables);
  if (j.verdict == Verdict::kRefused) {
    CheckFinding f{.id = IdFor(j.constraint),
                   .severity = Severity::kError,
                   .at = p.at,
                   .what = j.reason,
                   .why = j.notes.empty() ? "" : fmt::format("{}", fmt::join(j.notes, "; ")),
                   .source = j.source};
    if (!j.pin.empty() && p.url.empty()) {
      std::string to = PinVersion(j.pin);
      std::string spec = p.manager == "conda" ? "=" + to : "==" + to;
      f.replacement = p.spec.empty() ? ReplaceRequirement(p, p.name + spec)
                                     : ReplaceFirst(p.at.text, p.spec, spec);
      if (!j.torch_pin.empty() && target.torch &&
          !Satisfies(*target.torch, j.torch_pin.substr(5)).value_or(true))
        f.fix = "and pin " + j.torch_pin + " (" + j.pin + " is built against it)";
      else if (!j.torch_pin.empty() && !target.torch)
        f.fix = "it brings " + j.torch_pin;
    } else if (j.constraint == "nvcc" && j.build.nvcc) {
      f.fix = fmt::format(
          "install CUDA toolkit {} (the CUDA torch was built with) and point "
          "CUDA_HOME at it",
          j.build.nvcc->text);
    } else {
      f.fix = fmt::format("no {} release in data/extras.toml runs here: remove the line{}", p.name,
                          j.constraint == "gpu" ? " or use a GPU it supports" : "");
    }
    out.push_back(std::move(f));
    return;
  }
  if (j.verdict != Verdict::kAllowed) return;
  // Allowed, but pip will compile it where the file does not say so (no release wheel).
  if (j.build.from_source && !j.build.jit && !p.from_source) {
    CheckFinding f{
        .id = !no_nvcc.empty() ? "nvcc-missing-cuda-home-unset" : "extra-built-from-source",
        .severity = !no_nvcc.empty() ? Severity::kError : Severity::kWarning,
        .at = p.at,
        .what = j.notes.empty() ? p.name + " is compiled from source at install" : j.notes.front(),
        .why = no_nvcc.empty() ? ""
                               : "the build needs nvcc" +
                                     (j.build.nvcc ? " " + j.build.nvcc->text : std::string()) +
                                     " (CUDA_HOME), and " + no_nvcc,
        .source = j.source};
    f.fix = fmt::format("set {} for the build{}", fmt::join(j.build.env, " "),
                        j.build.nvcc ? fmt::format(" with nvcc {}", j.build.nvcc->text) : "");
    out.push_back(std::move(f));
  }
}

// `stage`: the Dockerfile stage the packages are installed in; its image, not the machine,
// provides nvcc.
void CheckPackages(const std::vector<PackageSpec>& packages, const std::vector<IndexUrl>& indexes,
                   const ProjectFacts& facts, const MachineSpec& machine, const DockerStage* stage,
                   const CheckKnowledge& kb, std::vector<CheckFinding>& out) {
  StackTarget target = TargetOf(machine, packages, indexes, kb);
  std::string no_nvcc = machine.nvcc ? "" : "this machine has no CUDA toolkit";
  if (stage != nullptr) {
    ImageFacts image = ReadImage(stage->image);
    target.nvcc = image.has_nvcc.value_or(false) ? image.cuda : std::nullopt;
    no_nvcc = image.has_nvcc.value_or(true)
                  ? ""
                  : fmt::format("{}:{} has no nvcc (a {} image)", stage->image.name,
                                stage->image.tag, image.flavor);
  }
  if (facts.python && facts.python->version)
    target.python = Version::Parse(facts.python->version->MajorMinor());
  for (const PackageSpec& p : packages) {
    if (!kb.extras->Knows(p.name)) continue;
    if (FindPackage(packages, p.name, "", machine) != &p) continue;  // marker or a repeat
    Judge(p, target, no_nvcc, kb, out);
  }
}

}  // namespace

void CheckExtras(const ProjectFacts& facts, const MachineSpec& machine, const CheckKnowledge& kb,
                 std::vector<CheckFinding>& out) {
  if (kb.extras == nullptr) return;
  CheckPackages(facts.packages, facts.indexes, facts, machine, nullptr, kb, out);
  for (const DockerStage& stage : facts.stages)
    CheckPackages(stage.packages, stage.indexes, facts, machine, &stage, kb, out);
}

}  // namespace dlrig
