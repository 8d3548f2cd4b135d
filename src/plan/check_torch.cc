// PyTorch in pip files and conda environments: the CUDA variant the lines pick (a "+cuXYZ"
// tag, a download.pytorch.org index, or PyPI's default) against the driver and the GPU's
// compute capability; whether that variant was published for the pinned release; torchvision
// and torchaudio made for that release; the Python version the file pins.
#include <fmt/format.h>

#include <set>

#include "plan/check.h"
#include "probe/fatbin.h"

namespace dlrig {

namespace {

// A line's environment marker says it is for another platform ("sys_platform == 'darwin'").
bool MarkerExcludes(std::string_view marker, const MachineSpec& machine) {
  if (marker.empty() || marker.find(" or ") != std::string_view::npos) return false;
  size_t pos = 0;
  while (pos <= marker.size()) {
    size_t end = marker.find(" and ", pos);
    std::string clause(Trim(marker.substr(pos, end == std::string_view::npos ? end : end - pos)));
    pos = end == std::string_view::npos ? marker.size() + 1 : end + 5;
    for (const char* op : {"==", "!="}) {
      size_t at = clause.find(op);
      if (at == std::string::npos) continue;
      std::string var(Trim(std::string_view(clause).substr(0, at)));
      std::string value(Trim(std::string_view(clause).substr(at + 2)));
      if (value.size() >= 2 && (value.front() == '"' || value.front() == '\''))
        value = value.substr(1, value.size() - 2);
      std::string ours = var == "sys_platform"       ? "linux"
                         : var == "platform_system"  ? "Linux"
                         : var == "os_name"          ? "posix"
                         : var == "platform_machine" ? machine.machine
                                                     : "";
      if (ours.empty()) break;
      if ((std::string_view(op) == "==") != (ours == value)) return true;
      break;
    }
  }
  return false;
}

}  // namespace

const PackageSpec* FindPackage(const std::vector<PackageSpec>& packages, std::string_view name,
                               std::string_view manager, const MachineSpec& machine) {
  for (const auto& p : packages)
    if (p.name == name && (manager.empty() || p.manager == manager) &&
        !MarkerExcludes(p.marker, machine))
      return &p;
  return nullptr;
}

namespace {

bool BuildRuns(const TorchBuild& build, const Version& cc) {
  FatbinScan scan;
  for (const CudaArch& a : build.archs) {
    scan.sass.push_back({GpuCodeTarget::Kind::kSass, a.major, a.minor, 0});
    if (a.ptx) scan.ptx.push_back({GpuCodeTarget::Kind::kPtx, a.major, a.minor, 0});
  }
  return PickKernelImage(scan, {cc.major(), cc.minor()}).how != KernelImageChoice::How::kNone;
}

// The first GPU a build has no kernels for, or nullptr (unknown compute capabilities pass).
const PlanGpu* GpuWithoutKernels(const TorchBuild& build, const MachineSpec& machine) {
  for (const PlanGpu& g : machine.gpus)
    if (g.compute_capability && !BuildRuns(build, *g.compute_capability)) return &g;
  return nullptr;
}

bool DriverRuns(const std::string& variant, const MachineSpec& machine, const CheckKnowledge& kb) {
  auto cuda = CudaOfVariant(variant);
  if (!cuda || !machine.driver) return true;
  return kb.drivers->Runs(*cuda, *machine.driver).value_or(true);
}

// The newest variant of `release` that this driver runs and whose wheels carry this GPU's code.
std::string BestVariant(const Version& release, const MachineSpec& machine,
                        const CheckKnowledge& kb) {
  auto variants = kb.torch->VariantsFor(release);
  for (auto it = variants.rbegin(); it != variants.rend(); ++it) {
    if (!DriverRuns(*it, machine, kb)) continue;
    const TorchBuild* build = kb.torch->Find(release, *it);
    if (build != nullptr && GpuWithoutKernels(*build, machine) != nullptr) continue;
    return *it;
  }
  return "";
}

// "torch 2.5 from cu124": the newest release with a variant that runs here.
std::string NewestRunnable(const MachineSpec& machine, const CheckKnowledge& kb) {
  const auto& releases = kb.torch->releases();
  for (auto it = releases.rbegin(); it != releases.rend(); ++it) {
    std::string v = BestVariant(it->version, machine, kb);
    if (!v.empty())
      return fmt::format("torch {}.* from https://download.pytorch.org/whl/{}", it->version.text,
                         v);
  }
  return "";
}

struct TorchChoice {
  const PackageSpec* torch = nullptr;
  std::optional<Version> release;
  std::string variant;
  enum class How { kTag, kIndex, kPypiDefault } how = How::kPypiDefault;
  const IndexUrl* index = nullptr;
  Located at;  ///< the line that picks the variant
};

std::optional<TorchChoice> PipTorch(const std::vector<PackageSpec>& packages,
                                    const std::vector<IndexUrl>& indexes,
                                    const MachineSpec& machine, const CheckKnowledge& kb) {
  const PackageSpec* torch = FindPackage(packages, "torch", "pip", machine);
  if (torch == nullptr) return std::nullopt;
  TorchChoice c;
  c.torch = torch;
  c.at = torch->at;
  if (torch->version) c.release = Version::Parse(torch->version->MajorMinor());
  if (torch->version && torch->version->suffix.starts_with('+')) {
    c.variant = torch->version->suffix.substr(1);
    c.how = TorchChoice::How::kTag;
    return c;
  }
  std::set<std::string> variants;
  for (const IndexUrl& i : indexes)
    if (std::string v = TorchIndexVariant(i.url); !v.empty()) {
      variants.insert(v);
      c.index = &i;
    }
  if (variants.size() == 1) {
    c.variant = *variants.begin();
    c.how = TorchChoice::How::kIndex;
    c.at = c.index->at;
    return c;
  }
  if (!variants.empty() || !torch->version) return std::nullopt;  // several indexes, or no release
  auto v = kb.torch->VariantOf(*Version::Parse(torch->version->text));
  if (!v) return std::nullopt;
  c.variant = *v;
  return c;
}

// The line that picks `to` instead of the choice's variant, and what else to do.
void Redirect(const TorchChoice& c, const std::string& to, CheckFinding& f) {
  std::string url = "https://download.pytorch.org/whl/" + to;
  switch (c.how) {
    case TorchChoice::How::kTag:
      f.replacement = ReplaceFirst(c.at.text, "+" + c.variant, "+" + to);
      f.fix = "install from --index-url " + url;
      break;
    case TorchChoice::How::kIndex:
      f.replacement = ReplaceFirst(c.at.text, "/" + c.variant, "/" + to);
      break;
    case TorchChoice::How::kPypiDefault:
      // "==2.1.*" takes no local tag: then the index alone picks the variant.
      if (c.torch->spec.find('*') == std::string::npos) {
        f.replacement =
            ReplaceFirst(c.at.text, c.torch->version->text, c.torch->version->text + "+" + to);
        f.fix = "and add the line: --index-url " + url;
      } else {
        f.fix = "add the line: --index-url " + url;
      }
      break;
  }
}

void NoVariant(const TorchChoice& c, const MachineSpec& machine, const CheckKnowledge& kb,
               CheckFinding& f, const std::string& also) {
  std::string best = c.release ? BestVariant(*c.release, machine, kb) : "";
  if (!best.empty()) {
    Redirect(c, best, f);
    return;
  }
  std::string newest = NewestRunnable(machine, kb);
  f.fix =
      (c.release ? fmt::format("no torch {} build runs here; ", c.release->text) : std::string()) +
      (newest.empty() ? std::string("no torch release in the table runs here")
                      : "newest that does: " + newest) +
      also;
}

void CheckPipTorch(const std::vector<PackageSpec>& packages, const std::vector<IndexUrl>& indexes,
                   const MachineSpec& machine, const CheckKnowledge& kb,
                   std::vector<CheckFinding>& out) {
  auto c = PipTorch(packages, indexes, machine, kb);
  if (!c) return;
  const TorchRelease* rel = c->release ? kb.torch->Release(*c->release) : nullptr;
  if (c->variant == "cpu") {
    if (!machine.gpus.empty())
      out.push_back({.id = "torch-cpu-only-wheel",
                     .severity = Severity::kWarning,
                     .at = c->at,
                     .what = "this picks the CPU-only torch: it will not use the GPU",
                     .why = "download.pytorch.org/whl/cpu carries builds without CUDA",
                     .source = "breakage-catalog #36 torch-cpu-only-wheel"});
    return;
  }
  if (!c->variant.starts_with("cu")) return;
  if (rel != nullptr) {
    auto variants = kb.torch->VariantsFor(*c->release);
    if (std::find(variants.begin(), variants.end(), c->variant) == variants.end()) {
      CheckFinding f{
          .id = "torch-variant-not-published",
          .severity = Severity::kError,
          .at = c->at,
          .what = fmt::format("torch {} was never built for {}: pip finds no such wheel",
                              c->release->text, c->variant),
          .why = fmt::format("torch {} variants: {}", rel->version.text, fmt::join(variants, ", ")),
          .source = "data/pytorch.toml: " + rel->source};
      NoVariant(*c, machine, kb, f, "");
      out.push_back(std::move(f));
      return;
    }
  }
  auto cuda = CudaOfVariant(c->variant);
  if (cuda && machine.driver && !kb.drivers->Runs(*cuda, *machine.driver).value_or(true)) {
    const CudaDriverRow* row = CudaRowFor(*kb.drivers, *cuda);
    CheckFinding f{.id = "cuda-driver-insufficient",
                   .severity = Severity::kError,
                   .at = c->at,
                   .what = fmt::format("torch {} is built with CUDA {}, which driver {} cannot run",
                                       c->variant, cuda->text, machine.driver->text),
                   .why = row ? "CUDA " + row->cuda.text + " needs " + DriverNeed(*row) : "",
                   .source = row ? "data/cuda-drivers.toml: " + row->source : ""};
    std::string need =
        row ? fmt::format(
                  "; or upgrade the driver to >= {}",
                  (row->minor_compat_driver ? *row->minor_compat_driver : row->toolkit_driver).text)
            : "";
    NoVariant(*c, machine, kb, f, need);
    if (!f.replacement.empty() && row != nullptr)
      f.fix +=
          (f.fix.empty() ? "" : "; ") +
          fmt::format(
              "or upgrade the driver to >= {}",
              (row->minor_compat_driver ? *row->minor_compat_driver : row->toolkit_driver).text);
    out.push_back(std::move(f));
  }
  // The GPU's compute capability against the variant's arch list.
  std::vector<const TorchBuild*> builds;
  if (c->release) {
    if (const TorchBuild* b = kb.torch->Find(*c->release, c->variant)) builds.push_back(b);
  } else {
    for (const TorchBuild& b : kb.torch->builds())
      if (b.variant == c->variant) builds.push_back(&b);
  }
  if (builds.empty()) return;
  for (const PlanGpu& g : machine.gpus) {
    if (!g.compute_capability) continue;
    bool any = false, confirmed = true;
    for (const TorchBuild* b : builds) {
      any = any || BuildRuns(*b, *g.compute_capability);
      confirmed = confirmed && b->confirmed;
    }
    if (any) continue;
    const TorchBuild& b = *builds.back();
    bool too_old = g.compute_capability->major() * 10 + g.compute_capability->minor() <
                   b.archs.front().major * 10 + b.archs.front().minor;
    CheckFinding f{
        .id = too_old ? "gpu-too-old-for-framework" : "no-kernel-image-arch-missing",
        .severity = confirmed ? Severity::kError : Severity::kWarning,
        .at = c->at,
        .what = fmt::format("{} (compute capability {}) has no kernels in torch {} {} wheels{}",
                            g.name, g.compute_capability->text,
                            c->release ? c->release->text : std::string("(every release)"),
                            c->variant, confirmed ? "" : " (arch list unconfirmed)"),
        .why = builds.size() == 1
                   ? fmt::format("torch {} {} arch list {}", b.release.text, b.variant, b.arch_list)
                   : fmt::format("no {} build in the table carries it", c->variant),
        .source = "data/pytorch.toml: " + b.source};
    NoVariant(*c, machine, kb, f, "");
    out.push_back(std::move(f));
    break;
  }
}

// torchvision / torchaudio pinned for another torch release.
void CheckCompanions(const std::vector<PackageSpec>& packages, const MachineSpec& machine,
                     const CheckKnowledge& kb, std::vector<CheckFinding>& out) {
  const PackageSpec* torch = FindPackage(packages, "torch", "", machine);
  if (torch == nullptr) torch = FindPackage(packages, "pytorch", "conda", machine);
  if (torch == nullptr || !torch->version) return;
  const TorchRelease* rel = kb.torch->Release(*torch->version);
  if (rel == nullptr) return;
  for (const char* name : {"torchvision", "torchaudio"}) {
    const PackageSpec* p = FindPackage(packages, name, "", machine);
    if (p == nullptr || !p->version) continue;
    auto want = std::string_view(name) == "torchvision" ? rel->torchvision : rel->torchaudio;
    if (!want) continue;
    std::string torch_tag = torch->version->suffix.starts_with('+') ? torch->version->suffix : "";
    std::string own_tag = p->version->suffix.starts_with('+') ? p->version->suffix : "";
    bool release_ok = p->version->major() == want->major() && p->version->minor() == want->minor();
    bool tag_ok = torch_tag.empty() || own_tag.empty() || torch_tag == own_tag;
    if (release_ok && tag_ok) continue;
    std::string pin = p->manager == "conda" ? "=" + want->text : "==" + want->text + ".*";
    if (release_ok)
      pin = p->manager == "conda" ? p->spec : ReplaceFirst(p->spec, own_tag, torch_tag);
    CheckFinding f{
        .id = "torchvision-torch-mismatch",
        .severity = Severity::kError,
        .at = p->at,
        .what = release_ok ? fmt::format("{} {} is built for another CUDA than torch {}", name,
                                         p->version->text, torch->version->text)
                           : fmt::format("{} {} is not made for torch {}", name, p->version->text,
                                         rel->version.text),
        .why = fmt::format("torch {} goes with {} {}", rel->version.text, name, want->text),
        .source = "data/pytorch.toml: " + rel->source};
    f.replacement = ReplaceFirst(p->at.text, p->spec, pin);
    out.push_back(std::move(f));
  }
}

// The Python version a file pins, outside the torch release's wheels.
void CheckPython(const ProjectFacts& facts, const MachineSpec& machine, const CheckKnowledge& kb,
                 std::vector<CheckFinding>& out) {
  if (!facts.python) return;
  const PackageSpec* torch = FindPackage(facts.packages, "torch", "", machine);
  if (torch == nullptr) torch = FindPackage(facts.packages, "pytorch", "conda", machine);
  if (torch == nullptr || !torch->version) return;
  const TorchRelease* rel = kb.torch->Release(*torch->version);
  if (rel == nullptr) return;
  const PackageSpec& py = *facts.python;
  std::optional<Version> wanted = py.version;
  bool lower_bound = false;
  if (!wanted && py.manager == "pip") {  // requires-python ">=3.12": no Python satisfies both
    std::string_view s = py.spec;
    if (size_t ge = s.find(">="); ge != std::string_view::npos) {
      std::string_view v = Trim(s.substr(ge + 2));
      wanted = Version::Parse(v.substr(0, v.find(',')));
      lower_bound = true;
    }
  }
  if (!wanted) return;
  Version mm = *Version::Parse(wanted->MajorMinor());
  bool above = mm > rel->python_max, below = !lower_bound && mm < rel->python_min;
  if (!above && !below) return;
  const Version& to = above ? rel->python_max : rel->python_min;
  CheckFinding f{
      .id = "torch-python-unsupported",
      .severity = Severity::kError,
      .at = py.at,
      .what = fmt::format("torch {} has no wheels for Python {}", rel->version.text, wanted->text),
      .why = fmt::format("torch {} supports Python {} to {}", rel->version.text,
                         rel->python_min.text, rel->python_max.text),
      .source = "data/pytorch.toml: " + rel->source};
  if (!lower_bound)
    f.replacement =
        ReplaceFirst(py.at.text, py.spec, (py.manager == "conda" ? "=" : "==") + to.text);
  else
    f.fix = fmt::format("allow Python {}", to.text);
  // Or keep the Python and move torch: the first release with wheels for it.
  for (const TorchRelease& r : kb.torch->releases())
    if (above && r.python_max >= mm && r.python_min <= mm) {
      f.fix += fmt::format("{}or pin torch {} or newer (the first with Python {} wheels)",
                           f.fix.empty() ? "" : "; ", r.version.text, mm.text);
      break;
    }
  out.push_back(std::move(f));
}

}  // namespace

StackTarget TargetOf(const MachineSpec& machine, const std::vector<PackageSpec>& packages,
                     const std::vector<IndexUrl>& indexes, const CheckKnowledge& kb) {
  StackTarget t;
  for (const PlanGpu& g : machine.gpus)
    if (g.compute_capability) t.gpus.push_back({g.name, *g.compute_capability});
  t.driver = machine.driver;
  t.python = machine.python;
  t.nvcc = machine.nvcc;
  if (auto c = PipTorch(packages, indexes, machine, kb)) {
    if (c->torch->version)
      t.torch =
          Version::Parse(c->torch->version->text.substr(0, c->torch->version->text.find('+')));
    t.torch_variant = c->variant;
  } else if (const PackageSpec* torch = FindPackage(packages, "torch", "", machine);
             torch != nullptr && torch->version) {
    t.torch = Version::Parse(torch->version->text.substr(0, torch->version->text.find('+')));
  } else if (const PackageSpec* conda = FindPackage(packages, "pytorch", "conda", machine);
             conda != nullptr && conda->version) {
    t.torch = conda->version;
    if (const PackageSpec* cuda = FindPackage(packages, "pytorch-cuda", "conda", machine);
        cuda != nullptr && cuda->version)
      t.torch_variant = fmt::format("cu{}{}", cuda->version->major(), cuda->version->minor());
  }
  return t;
}

void CheckTorch(const ProjectFacts& facts, const MachineSpec& machine, const CheckKnowledge& kb,
                std::vector<CheckFinding>& out) {
  CheckPipTorch(facts.packages, facts.indexes, machine, kb, out);
  CheckCompanions(facts.packages, machine, kb, out);
  CheckPython(facts, machine, kb, out);
  for (const DockerStage& stage : facts.stages) {
    CheckPipTorch(stage.packages, stage.indexes, machine, kb, out);
    CheckCompanions(stage.packages, machine, kb, out);
  }
}

}  // namespace dlrig
