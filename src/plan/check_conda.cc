// The CUDA a conda environment asks for (pytorch-cuda=, cudatoolkit=, cuda-version=, a pytorch
// build string "cuda12.1") against the driver, and CUDA pins that contradict each other.
#include <fmt/format.h>

#include <regex>

#include "plan/check.h"

namespace dlrig {

namespace {

struct CudaPin {
  const PackageSpec* spec;
  Version cuda;
  std::string text;  ///< the version text to replace in the line ("12.1")
};

std::vector<CudaPin> CudaPins(const ProjectFacts& facts) {
  std::vector<CudaPin> pins;
  static const std::regex kBuildCuda("cuda(\\d+\\.\\d+)");
  for (const PackageSpec& p : facts.packages) {
    if (p.manager != "conda") continue;
    if ((p.name == "pytorch-cuda" || p.name == "cudatoolkit" || p.name == "cuda-version") &&
        p.version) {
      pins.push_back({&p, *p.version, p.version->text});
    } else if (p.name == "pytorch" && !p.build.empty()) {
      std::smatch m;
      if (std::regex_search(p.build, m, kBuildCuda))
        if (auto v = Version::Parse(m[1].str())) pins.push_back({&p, *v, m[1].str()});
    }
  }
  return pins;
}

// The newest CUDA that this driver runs: among the pinned pytorch release's variants when there
// is one, else among every variant in the table.
std::optional<Version> RunnableCuda(const ProjectFacts& facts, const MachineSpec& machine,
                                    const CheckKnowledge& kb) {
  std::vector<std::string> variants;
  for (const PackageSpec& p : facts.packages)
    if (p.manager == "conda" && p.name == "pytorch" && p.version)
      variants = kb.torch->VariantsFor(*p.version);
  if (variants.empty())
    for (const TorchRelease& r : kb.torch->releases())
      variants.insert(variants.end(), r.variants.begin(), r.variants.end());
  std::optional<Version> best;
  for (const std::string& v : variants) {
    auto cuda = CudaOfVariant(v);
    if (!cuda || !kb.drivers->Runs(*cuda, *machine.driver).value_or(false)) continue;
    if (!best || *cuda > *best) best = cuda;
  }
  return best;
}

}  // namespace

void CheckConda(const ProjectFacts& facts, const MachineSpec& machine, const CheckKnowledge& kb,
                std::vector<CheckFinding>& out) {
  if (facts.kind != ProjectFileKind::kConda) return;
  std::vector<CudaPin> pins = CudaPins(facts);
  if (machine.driver) {
    for (const CudaPin& pin : pins) {
      if (kb.drivers->Runs(pin.cuda, *machine.driver).value_or(true)) continue;
      const CudaDriverRow* row = CudaRowFor(*kb.drivers, pin.cuda);
      CheckFinding f{.id = "cuda-driver-insufficient",
                     .severity = Severity::kError,
                     .at = pin.spec->at,
                     .what = fmt::format("CUDA {} needs a newer driver than {}", pin.cuda.text,
                                         machine.driver->text),
                     .why = row ? "CUDA " + row->cuda.text + " needs " + DriverNeed(*row) : "",
                     .source = row ? "data/cuda-drivers.toml: " + row->source : ""};
      std::string upgrade = row ? fmt::format("upgrade the driver to >= {}",
                                              (row->minor_compat_driver ? *row->minor_compat_driver
                                                                        : row->toolkit_driver)
                                                  .text)
                                : "upgrade the driver";
      if (auto to = RunnableCuda(facts, machine, kb)) {
        f.replacement = ReplaceFirst(pin.spec->at.text, pin.text, to->text);
        f.fix = "or " + upgrade;
      } else {
        f.fix = upgrade;
      }
      out.push_back(std::move(f));
    }
  }
  // Two CUDA pins that disagree: conda cannot solve them together, or mixes two CUDA runtimes.
  for (size_t i = 0; i < pins.size(); ++i)
    for (size_t j = i + 1; j < pins.size(); ++j) {
      const CudaPin &a = pins[i], &b = pins[j];
      if (a.cuda.major() == b.cuda.major() && a.cuda.minor() == b.cuda.minor()) continue;
      out.push_back(
          {.id = "mixed-pip-conda-cuda-libs",
           .severity = Severity::kError,
           .at = b.spec->at,
           .what = fmt::format("{} asks for CUDA {} but {} (line {}) for CUDA {}", b.spec->name,
                               b.cuda.text, a.spec->name, a.spec->at.line, a.cuda.text),
           .why = "one environment holds one CUDA runtime; cudatoolkit (CUDA <= 11) and "
                  "cuda-version / "
                  "pytorch-cuda must name the same CUDA",
           .source = "breakage-catalog #42 mixed-pip-conda-cuda-libs (pytorch/pytorch#90673)",
           .replacement = ReplaceFirst(b.spec->at.text, b.text, a.text)});
    }
  // torch from pip on top of a conda pytorch: two copies, neither solver sees the other.
  const PackageSpec *conda_torch = nullptr, *pip_torch = nullptr;
  for (const PackageSpec& p : facts.packages) {
    if (p.manager == "conda" && p.name == "pytorch") conda_torch = &p;
    if (p.manager == "pip" && p.name == "torch") pip_torch = &p;
  }
  if (conda_torch != nullptr && pip_torch != nullptr)
    out.push_back({.id = "mixed-pip-conda-cuda-libs",
                   .severity = Severity::kWarning,
                   .at = pip_torch->at,
                   .what = fmt::format("torch from pip on top of conda's pytorch (line {})",
                                       conda_torch->at.line),
                   .why = "pip and conda each install their own torch and CUDA libraries; neither "
                          "sees the other's",
                   .source = "breakage-catalog #42 mixed-pip-conda-cuda-libs",
                   .fix = "keep one: remove this line or the conda pytorch"});
}

}  // namespace dlrig
