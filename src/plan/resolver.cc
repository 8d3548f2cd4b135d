#include "plan/resolver.h"

#include <algorithm>

#include "knowledge/architectures.h"
#include "knowledge/cuda_drivers.h"
#include "knowledge/driver_branches.h"
#include "knowledge/framework_builds.h"
#include "knowledge/host_compilers.h"
#include "plan/constraints.h"
#include "plan/docker_images.h"
#include "plan/judge.h"
#include "plan/os_python.h"

namespace dlrig {
namespace {

constexpr const char* kPytorchIndex = "https://download.pytorch.org/whl/";
constexpr const char* kIndexSource =
    "compat-data.md c: wheel indexes https://download.pytorch.org/whl/cuXYZ; PyPI hosts one "
    "Linux x86_64 CUDA build per release (uv docs)";

struct Tables {
  const PytorchBuilds* torch = nullptr;
  const TensorflowBuilds* tf = nullptr;
  const JaxBuilds* jax = nullptr;
  const CudaDrivers* cuda = nullptr;
  const DriverBranches* branches = nullptr;
  const HostCompilers* compilers = nullptr;
  const DockerImages* images = nullptr;
  const OsPythonTable* os = nullptr;
  ConstraintTables judge;  ///< the extras' engine (plan/judge.h), shared with check
};

std::string MM(const Version& v) { return v.MajorMinor(); }
bool SameMM(const Version& a, const Version& b) { return a.major() == b.major() && a.minor() == b.minor(); }

/// The driver the stack will run on: the installed one, or a branch the plan installs.
struct DriverChoice {
  std::optional<Version> installed;
  std::optional<DriverInstall> install;  ///< the branch the plan may install
  bool may_install = false;
  bool no_gpu = false;  ///< no NVIDIA GPU: no driver to judge or install here
};

/// The newest branch every GPU of the machine is driven by, and the kernel module flavor.
std::optional<DriverInstall> PickBranch(const MachineSpec& m, const Tables& t, std::string& why) {
  int low = 0, high = 1 << 30;
  bool open_all = true, open_needed = false;
  for (const PlanGpu& g : m.gpus) {
    if (!g.compute_capability) continue;
    int ma = g.compute_capability->major(), mi = g.compute_capability->minor();
    if (const GpuSupportRow* s = t.branches->SupportFor(ma, mi)) {
      if (s->last_branch) {
        high = std::min(high, *s->last_branch);
        why += g.name + ": last branch " + std::to_string(*s->last_branch) + "; ";
      }
      if (s->min_branch) {
        low = std::max(low, *s->min_branch);
        why += g.name + ": first branch " + std::to_string(*s->min_branch) + "; ";
      }
    }
    open_all = open_all && t.branches->OpenModuleDrives(ma, mi).value_or(false);
    open_needed = open_needed || t.branches->NeedsOpenModule(ma, mi).value_or(false);
  }
  std::optional<DriverInstall> best;
  for (const BranchRow& b : t.branches->branches()) {
    if (b.branch < low || b.branch > high) continue;
    DriverInstall d;
    d.branch = b.branch;
    d.open_module = open_needed || (open_all && !m.gpus.empty());
    d.cuda = NewestCudaForBranch(b.branch, *t.cuda);
    best = d;  // ascending: the last that fits is the newest
  }
  return best;
}

/// Can the chosen driver run code built with `cuda`? Sets `needs_install` when only a new one can.
bool DriverRuns(const DriverChoice& d, const Tables& t, const Version& cuda, bool& needs_install,
                std::string& why) {
  needs_install = false;
  if (d.no_gpu) return true;
  if (d.installed) {
    auto runs = t.cuda->Runs(cuda, *d.installed);
    if (runs.value_or(false)) return true;
    why = runs ? "driver " + d.installed->text + " cannot run CUDA " + MM(cuda) +
                     " (data/cuda-drivers.toml: toolkit driver and minor-version floor)"
               : "CUDA " + MM(cuda) + " is not in data/cuda-drivers.toml";
  } else {
    why = "no NVIDIA driver installed";
  }
  if (!d.may_install || !d.install) return false;
  if (d.install->cuda && *d.install->cuda >= Version::Parse(MM(cuda)).value_or(cuda)) {
    needs_install = true;
    return true;
  }
  why += "; the newest branch this GPU allows (" + std::to_string(d.install->branch) +
         ") runs CUDA " + (d.install->cuda ? MM(*d.install->cuda) : std::string("?")) + " at most";
  return false;
}

}  // namespace

bool ArchListRuns(const std::vector<CudaArch>& archs, const Version& cc) {
  for (const CudaArch& a : archs) {
    if (a.major == cc.major() && a.minor <= cc.minor()) return true;  // binary compatible
    if (a.ptx && (a.major < cc.major() || (a.major == cc.major() && a.minor <= cc.minor())))
      return true;  // JIT from PTX
  }
  return false;
}

namespace {

/// Does the driver report a CUDA version >= `cuda`? What a container's NVIDIA_REQUIRE_CUDA
/// asks (the container toolkit ignores minor-version compatibility).
bool DriverCudaAtLeast(const DriverChoice& d, const Tables& t, const Version& cuda) {
  Version mm = *Version::Parse(MM(cuda));
  if (d.no_gpu) return true;
  if (d.installed) {
    auto newest = t.cuda->NewestCudaFor(*d.installed);
    if (newest && !(*newest < mm)) return true;
  }
  return d.may_install && d.install && d.install->cuda && !(*d.install->cuda < mm);
}

/// The image to build FROM: an nvidia/cuda image of the wheels' CUDA major (never an 11.8 image
/// under cu126 wheels), whose CUDA the driver reports (NVIDIA_REQUIRE_CUDA), the wheels' own
/// CUDA when it can, on the target's Ubuntu when that is one of the images'; devel with nvcc of
/// exactly `cuda` when compiling. Its python3 within [python_min, python_max], equal to `python`
/// when one was asked.
std::optional<DockerImage> PickImage(const Tables& t, const DriverChoice& d, const Version& cuda,
                                     bool compile, const std::optional<Version>& python,
                                     const Version& python_min, const Version& python_max,
                                     const std::string& os_name) {
  std::optional<DockerImage> best;
  for (const DockerImage& img : t.images->rows()) {
    if (img.python3 < python_min || img.python3 > python_max) continue;
    if (python && !SameMM(*python, img.python3)) continue;
    if (img.cuda.major() != cuda.major()) continue;
    if (compile ? img.flavor != "devel" || !SameMM(img.cuda, cuda) : img.flavor == "devel") continue;
    if (!DriverCudaAtLeast(d, t, img.cuda)) continue;
    auto rank = [&](const DockerImage& i) {
      bool not_newer = !(Version::Parse(MM(cuda)).value() < i.cuda);
      return std::tuple(SameMM(i.cuda, cuda), not_newer, i.os == os_name, i.cuda,
                        i.flavor == "runtime", i.os, i.confirmed);
    };
    if (!best || rank(img) > rank(*best)) best = img;
  }
  return best;
}

struct Search {
  const MachineSpec& m;
  const Request& r;
  const Tables& t;
  DriverChoice driver;
  const OsPythonRow* os = nullptr;  ///< the target OS's row, when known
};

bool Containerised(const Request& r) {
  return r.target == Target::kDocker || r.target == Target::kDevcontainer;
}

/// The environment's Python for wheels of [min, max] (containers: the image decides).
std::optional<PythonPick> PythonFor(const Search& s, const Version& min, const Version& max) {
  PythonFreedom freedom =
      s.r.target == Target::kSystem ? PythonFreedom::kFixed : PythonFreedom::kProvidable;
  auto pick = PickPython(s.r.python, s.m.python, s.os, freedom, min, max);
  if (pick && s.r.target == Target::kConda && pick->source != PythonSource::kRequested) {
    pick->source = PythonSource::kConda;
    pick->why += "; conda-forge provides it";
  }
  return pick;
}

/// One PyTorch release built as one variant, checked against every constraint.
struct TorchTry {
  const TorchRelease* rel = nullptr;
  std::string variant;
  Version cuda;
  const TorchBuild* build = nullptr;
  bool needs_driver = false;
  std::optional<PythonPick> python;
  std::optional<DockerImage> image;
  std::optional<int> newest_gcc;
  std::vector<ExtraJudgement> extras;  ///< the requested extras the engine knows, allowed here
  std::string constraint, why;  ///< the first failure, when it failed
};

bool Reject(TorchTry& t, std::string constraint, std::string why) {
  t.constraint = std::move(constraint);
  t.why = std::move(why);
  return false;
}

bool Check(const Search& s, TorchTry& c) {
  const std::string label = "torch " + c.rel->version.text + " " + c.variant;
  if (s.r.cuda && !SameMM(*s.r.cuda, c.cuda))
    return Reject(c, "cuda", label + " is built for CUDA " + MM(c.cuda) + ", not " + s.r.cuda->text);
  if (!Containerised(s.r)) {
    c.python = PythonFor(s, c.rel->python_min, c.rel->python_max);
    if (!c.python) {
      std::string have = s.r.python ? s.r.python->text : s.m.python ? s.m.python->text
                                                       : s.os ? s.os->python3.text : "?";
      return Reject(c, "python", "torch " + c.rel->version.text + " has wheels for Python " +
                                   c.rel->python_min.text + "-" + c.rel->python_max.text +
                                   ", not " + have);
    }
  }
  std::string why;
  if (!DriverRuns(s.driver, s.t, c.cuda, c.needs_driver, why))
    return Reject(c, "driver", label + ": " + why);
  for (const PlanGpu& g : s.m.gpus) {
    if (!g.compute_capability) continue;
    if (!c.build)
      return Reject(c, "gpu-architecture", label + ": its arch list is not in data/pytorch.toml, "
                                         "so sm_" + std::to_string(g.compute_capability->major()) +
                                         std::to_string(g.compute_capability->minor()) +
                                         " cannot be confirmed");
    if (!ArchListRuns(c.build->archs, *g.compute_capability))
      return Reject(c, "gpu-architecture", label + " has kernels for " + c.build->arch_list + ", none runs on " +
                                             g.name + " (compute capability " +
                                             g.compute_capability->text + ")");
  }
  if (s.r.compile) {
    for (const PlanGpu& g : s.m.gpus)
      if (g.compute_capability &&
          CudaCanTarget(c.cuda, g.compute_capability->major(), g.compute_capability->minor()) ==
              std::optional<bool>(false))
        return Reject(c, "compiler", "nvcc " + MM(c.cuda) + " cannot compile for " + g.name +
                                       " (data/architectures.toml)");
    c.newest_gcc = s.t.compilers->NewestGccFor(c.cuda);
    if (!c.newest_gcc)
      return Reject(c, "compiler", "data/host-compilers.toml has no GCC range for nvcc " + MM(c.cuda));
  }
  if (s.r.target == Target::kDocker || s.r.target == Target::kDevcontainer) {
    c.image = PickImage(s.t, s.driver, c.cuda, s.r.compile, s.r.python, c.rel->python_min,
                        c.rel->python_max, s.os ? s.os->Name() : "");
    if (!c.image)
      return Reject(c, "image", std::string("data/docker-images.toml has no ") +
                                    (s.r.compile ? "devel image with nvcc " + MM(c.cuda)
                                                 : "CUDA " + std::to_string(c.cuda.major()) +
                                                       ".x runtime image the driver runs") +
                                    " whose python3 is within " + c.rel->python_min.text + "-" +
                                    c.rel->python_max.text);
    c.python = PythonPick{c.image->python3, PythonSource::kImage,
                          "the python3 of " + c.image->image + ", within the wheels' range",
                          c.image->sources.empty() ? "" : c.image->sources.front()};
  }
  // Extras with CUDA code (data/extras.toml through plan/judge.h, as check judges them): one
  // that this GPU, driver or torch cannot run refuses the candidate, so an older torch it
  // supports may still fit, and when none does the plan says why.
  StackTarget target;
  for (const PlanGpu& g : s.m.gpus)
    if (g.compute_capability) target.gpus.push_back({g.name, *g.compute_capability});
  target.torch = c.rel->patches.empty() ? c.rel->version : c.rel->patches.back();
  target.torch_variant = c.variant;
  if (!c.needs_driver) target.driver = s.m.driver;
  if (c.python) target.python = c.python->version;
  if (s.r.compile) target.nvcc = c.cuda;  // the toolkit the plan installs is the variant's CUDA
  c.extras.clear();
  for (const std::string& e : s.r.extras) {
    ExtraJudgement j = JudgeExtra(e, std::nullopt, target, s.t.judge);
    if (j.verdict == Verdict::kRefused)
      return Reject(c, "extra", e + " next to " + label + ": " + j.reason +
                                    (j.source.empty() ? "" : " (" + j.source + ")"));
    if (j.verdict == Verdict::kAllowed) c.extras.push_back(std::move(j));
  }
  // Last, so a release refused here is known to fit in every other way (the note says so).
  if (std::string missing = MissingCompanion(*c.rel, s.r.extras); !missing.empty())
    return Reject(c, "companion", missing + " made no release for torch " + c.rel->version.text +
                                      " (data/pytorch.toml)");
  return true;
}

/// Every release/variant, newest first; the first that passes every check, else the failures.
std::vector<TorchTry> TorchCandidates(const Search& s, const FrameworkRequest& fr) {
  std::vector<TorchTry> out;
  const auto& releases = s.t.torch->releases();
  for (auto it = releases.rbegin(); it != releases.rend(); ++it) {
    if (fr.version && !SameMM(it->version, *fr.version)) continue;
    std::vector<std::pair<Version, std::string>> variants;
    for (const std::string& v : it->variants)
      if (auto cuda = CudaOfVariant(v)) variants.emplace_back(*cuda, v);
    // The release's own default build first (the stable one PyPI serves), then the others,
    // newest CUDA first: a newer variant is chosen only when the default cannot run here.
    std::sort(variants.begin(), variants.end(), [&](auto& a, auto& b) {
      bool da = a.second == it->pypi_default, db = b.second == it->pypi_default;
      return da != db ? da : a.first > b.first;
    });
    for (auto& [cuda, variant] : variants) {
      TorchTry c;
      c.rel = &*it;
      c.variant = variant;
      c.cuda = cuda;
      c.build = s.t.torch->Find(it->version, variant);
      Check(s, c);
      out.push_back(std::move(c));
      if (out.back().constraint.empty()) return out;
    }
  }
  return out;
}

void Decide(Plan& p, std::string topic, std::string choice, std::string why, std::string source) {
  p.decisions.push_back({std::move(topic), std::move(choice), std::move(why), std::move(source)});
}

std::string GpuList(const MachineSpec& m) {
  std::string out;
  for (const PlanGpu& g : m.gpus)
    out += (out.empty() ? "" : ", ") + g.name +
           (g.compute_capability ? " (CC " + g.compute_capability->text + ")" : " (CC unknown)");
  return out.empty() ? "no NVIDIA GPU" : out;
}

/// Adds `line` to both the resolver's constraints and the written requirements.
void Require(Plan& p, const std::string& constraint, const std::string& table_pin) {
  p.constraints.push_back(constraint);
  p.requirements.push_back(table_pin);
}

bool AddTorch(const Search& s, const TorchTry& c, Plan& p, PlanFailure& fail) {
  p.torch = c.rel->version;
  p.variant = c.variant;
  p.cuda = c.cuda;
  bool pypi = c.variant == c.rel->pypi_default;
  p.index_url = pypi ? "" : kPytorchIndex + c.variant;
  std::string tv = c.rel->version.text;
  std::vector<std::string> constraints = TorchConstraints(*c.rel, s.r.extras);
  auto pins = TorchTablePins(*c.rel, c.variant, s.r.extras);
  if (!pins) {
    fail = {"knowledge", "data/pytorch.toml has no exact torch/torchvision/torchaudio version "
                         "for torch " + tv + " (patches, torchvision_exact, ...): no pin that excludes the other "
                         "variants can be written", {}};
    return false;
  }
  // torch==X.Y.Z asked: that patch release, not the newest of X.Y.
  if (const FrameworkRequest* fr = s.r.Find("torch"); fr && fr->version && fr->version->parts.size() > 2) {
    constraints.front() = "torch==" + fr->version->text;
    pins->front() = "torch==" + fr->version->text + LocalTag(*c.rel, c.variant);
  }
  for (size_t i = 0; i < constraints.size(); ++i) Require(p, constraints[i], (*pins)[i]);
  std::string why = "newest release that passes every check for " + GpuList(s.m) +
                    ", in its default variant unless that one cannot run here";
  if (s.r.Find("torch")->version) why = "requested torch==" + s.r.Find("torch")->version->text;
  Decide(p, "torch", "torch " + tv + " " + c.variant + " (CUDA " + MM(c.cuda) + ")", why, c.rel->source);
  if (c.build) {
    std::string archs;
    for (const PlanGpu& g : s.m.gpus)
      if (g.compute_capability) archs += (archs.empty() ? "" : ", ") + g.name + " sm_" +
                                          std::to_string(g.compute_capability->major()) +
                                          std::to_string(g.compute_capability->minor());
    Decide(p, "gpu-architecture", "arch list " + c.build->arch_list,
           archs.empty() ? "no GPU to check" : "runs on " + archs + (c.build->confirmed ? "" : " (arch list unconfirmed)"),
           c.build->source);
  }
  Decide(p, "index", pypi ? "PyPI" : p.index_url,
         pypi ? c.variant + " is the CUDA build PyPI carries for torch " + tv
              : c.variant + " is not PyPI's build for torch " + tv + " (" + c.rel->pypi_default + ")",
         kIndexSource);
  Decide(p, "cudnn-nccl", "from the nvidia-* wheels torch pins",
         "the CUDA wheels of torch >= 1.13 depend on NVIDIA's pip wheels, so nothing to install "
         "on the system", "compat-data.md c (BUILDER promote_pypi_to_staging.sh cu117.with.pypi.cudnn)");
  for (const std::string& u : c.rel->untagged)
    if (s.r.HasExtra(u) && !p.index_url.empty()) {
      p.needs_pypi = true;  // its one build for every CUDA is on PyPI only
      std::erase(p.variant_packages, u);
      p.notes.push_back(u + " is pinned without a +" + c.variant + " tag: its wheel for torch " + tv +
                        " is one build for every CUDA variant (py3-none), served by PyPI");
    }
  if (s.r.HasExtra("torchvision") || s.r.HasExtra("torchaudio"))
    Decide(p, "companions", "torchvision " + (c.rel->torchvision ? c.rel->torchvision->text : "-") +
                                ", torchaudio " + (c.rel->torchaudio ? c.rel->torchaudio->text : "-"),
           "the releases made for torch " + tv, c.rel->source);
  if (c.build && !c.build->confirmed)
    p.notes.push_back("the arch list of torch " + tv + " " + c.variant +
                      " is not confirmed in PyTorch's own build scripts (" + c.build->source + ")");
  if (!c.rel->confirmed) p.notes.push_back("the torch " + tv + " row is not confirmed in PyTorch's own repositories");
  for (const ExtraJudgement& j : c.extras) {
    Decide(p, j.package, j.pin.empty() ? j.package : j.pin, j.reason, j.source);
    if (j.build.from_source && !j.build.env.empty()) {
      std::string env;
      for (const std::string& e : j.build.env) env += (env.empty() ? "" : " ") + e;
      p.notes.push_back(j.package + " is compiled from source: build it with " + env +
                        " (the arch list limited to this machine's GPUs)");
    }
    for (const std::string& n : j.notes) p.notes.push_back(j.package + ": " + n);
  }
  // bitsandbytes ships wheels, so the resolver pins it; deepspeed is an sdist whose metadata
  // build imports torch, so it is left to the install.
  if (s.r.HasExtra("bitsandbytes")) {
    Require(p, "bitsandbytes", "bitsandbytes");
    p.needs_pypi = true;
  }
  if (s.r.HasExtra("deepspeed")) {
    p.requirements.push_back("deepspeed");
    p.needs_pypi = true;
    p.notes.push_back("deepspeed is not pinned: it is a source distribution built at install "
                      "time against the installed torch");
  }
  if (s.r.compile && (s.r.HasExtra("apex") || s.r.HasExtra("flash-attn"))) {
    for (const char* tool : {"ninja", "packaging", "wheel"}) Require(p, tool, tool);
  }
  if (s.r.HasExtra("flash-attn")) p.build_requirements.push_back("flash-attn");
  if (s.r.HasExtra("apex")) p.build_requirements.push_back("apex @ git+https://github.com/NVIDIA/apex.git");
  if (!p.build_requirements.empty())
    p.notes.push_back("apex and flash-attn are built from source against the installed torch: "
                      "requirements-build.txt goes in second, with --no-build-isolation; they are not pinned");
  if (s.r.compile && (s.r.HasExtra("apex") || s.r.HasExtra("flash-attn"))) p.needs_pypi = true;
  return true;
}

/// Sets the environment's Python when no framework before this one did; false when `min`-`max`
/// excludes the one already chosen or none can be had.
bool SettlePython(const Search& s, Plan& p, const Version& min, const Version& max,
                  std::string& why) {
  if (Containerised(s.r)) return true;  // the image's python3, checked when it is picked
  if (!p.python.parts.empty()) {
    Version mm = *Version::Parse(MM(p.python));
    if (mm < min || max < mm) {
      why = "Python " + p.python.text + " (chosen for torch) is outside " + min.text + "-" + max.text;
      return false;
    }
    return true;
  }
  auto pick = PythonFor(s, min, max);
  if (!pick) {
    why = "no Python within " + min.text + "-" + max.text + " for this target";
    return false;
  }
  p.python = pick->version;
  p.python_source = pick->source;
  Decide(p, "python", pick->version.text, pick->why, pick->row_source);
  return true;
}

void AddTensorflow(const Search& s, const FrameworkRequest& fr, Plan& p,
                   std::vector<PlanFailure>& fails, std::pair<Version, Version>& image_python) {
  std::string last;
  GpuUse gpu = s.m.gpus.empty() ? GpuUse::kCpuOnly : GpuUse::kCuda;
  for (const TensorflowBuild& row : s.t.tf->rows()) {
    if (fr.version && !SameMM(row.version, *fr.version)) continue;
    bool needs = false;
    std::string why;
    if (!DriverRuns(s.driver, s.t, row.cuda, needs, why)) {
      last = "tensorflow " + row.version.text + " (CUDA " + MM(row.cuda) + "): " + why;
      continue;
    }
    if (p.cuda && p.cuda->major() != row.cuda.major()) {
      last = "tensorflow " + row.version.text + " is built for CUDA " + MM(row.cuda) + ", torch for " + MM(*p.cuda);
      continue;
    }
    Plan before = p;
    if (!SettlePython(s, p, row.python_min, row.python_max, why)) {
      last = "tensorflow " + row.version.text + " has wheels for Python " + row.python_min.text +
             "-" + row.python_max.text + ": " + why;
      p = before;
      continue;
    }
    if (Containerised(s.r)) image_python = {row.python_min, row.python_max};
    if (!p.cuda) p.cuda = row.cuda;
    if (needs && !p.driver) p.driver = s.driver.install;
    std::string name = TensorflowRequirementName(row, gpu);
    Require(p, name + "==" + row.version.MajorMinor() + ".*", name + "==" + row.version.text);
    p.needs_pypi = true;
    Decide(p, "tensorflow", name + " " + row.version.MajorMinor(),
           "newest tested build whose CUDA " + MM(row.cuda) + " (cuDNN " + row.cudnn.text +
               ") the driver runs" +
               (name.find("[and-cuda]") != std::string::npos
                    ? "; [and-cuda] installs CUDA and cuDNN as nvidia-*-cu12 wheels (without it "
                      "pip's tensorflow runs on the CPU)"
                    : ""),
           row.source);
    if (gpu == GpuUse::kCuda && !row.and_cuda)
      p.notes.push_back("tensorflow " + row.version.text + " has no [and-cuda] extra: CUDA " +
                        MM(row.cuda) + " and cuDNN " + row.cudnn.text +
                        " must come from the system (not installed by this plan)");
    p.notes.push_back("the knowledge base has no GPU architecture list for TensorFlow, so the GPU "
                      "was not checked against it");
    return;
  }
  fails.push_back({"release", "no TensorFlow build in data/tensorflow.toml fits" + (last.empty() ? std::string() : ": " + last), {}});
}

void AddJax(const Search& s, const FrameworkRequest& fr, Plan& p, std::vector<PlanFailure>& fails) {
  std::string last;
  for (int major : {13, 12}) {
    if (!fr.extra.empty() && fr.extra != "cuda" + std::to_string(major)) continue;
    const JaxCudaNeeds* row = nullptr;
    if (fr.version) {
      row = s.t.jax->For(*fr.version, major);
    } else {
      for (const JaxCudaNeeds& r : s.t.jax->rows())
        if (r.cuda_major == major) row = &r;
    }
    if (!row) {
      last = "no jax row for CUDA " + std::to_string(major);
      continue;
    }
    bool gpu_ok = true;
    for (const PlanGpu& g : s.m.gpus)
      if (g.compute_capability && row->min_compute_capability && *g.compute_capability < *row->min_compute_capability)
        gpu_ok = false, last = "jax for CUDA " + std::to_string(major) + " needs compute capability >= " + row->min_compute_capability->text;
    if (!gpu_ok) continue;
    bool needs = false;
    if (row->min_driver) {
      bool ok = s.driver.no_gpu || (s.driver.installed && *s.driver.installed >= *row->min_driver);
      if (!ok && s.driver.may_install && s.driver.install &&
          Version::Parse(std::to_string(s.driver.install->branch)).value() >= *row->min_driver)
        ok = needs = true;
      if (!ok) {
        last = "jax for CUDA " + std::to_string(major) + " needs driver >= " + row->min_driver->text;
        continue;
      }
    }
    if (p.cuda && p.cuda->major() != major) {
      last = "jax for CUDA " + std::to_string(major) + " next to a CUDA " + std::to_string(p.cuda->major()) + " torch";
      continue;
    }
    std::string why;
    Plan before = p;
    if (!SettlePython(s, p, *Version::Parse("3"), *Version::Parse("3.99"), why)) {
      last = why;
      p = before;
      continue;
    }
    if (!p.cuda) p.cuda = row->min_cuda ? *row->min_cuda : *Version::Parse(std::to_string(major) + ".0");
    if (needs && !p.driver) p.driver = s.driver.install;
    std::string name = "jax[cuda" + std::to_string(major) + "]";
    Require(p, name + (fr.version ? "==" + fr.version->text : ""),
            name + (fr.version ? "==" + fr.version->text : ">=" + row->since.text));
    p.needs_pypi = true;
    if (!fr.version)
      p.notes.push_back("jax is pinned only from below (" + name + ">=" + row->since.text +
                        ") when no resolver answers: data/jax.toml holds no exact release");
    Decide(p, "jax", "jax[cuda" + std::to_string(major) + "]",
           "needs driver >= " + (row->min_driver ? row->min_driver->text : std::string("?")) +
               " and compute capability >= " + (row->min_compute_capability ? row->min_compute_capability->text : std::string("?")),
           row->source);
    return;
  }
  fails.push_back({"release", "no JAX CUDA build in data/jax.toml fits: " + last, {}});
}

std::optional<PlanFailure> LoadTables(Tables& t) {
  auto bad = [](const Error& e) { return PlanFailure{"knowledge", e.message, {}}; };
  if (const auto& x = PytorchBuilds::BuiltIn(); x) t.torch = &*x; else return bad(x.error());
  if (const auto& x = TensorflowBuilds::BuiltIn(); x) t.tf = &*x; else return bad(x.error());
  if (const auto& x = JaxBuilds::BuiltIn(); x) t.jax = &*x; else return bad(x.error());
  if (const auto& x = CudaDrivers::BuiltIn(); x) t.cuda = &*x; else return bad(x.error());
  if (const auto& x = DriverBranches::BuiltIn(); x) t.branches = &*x; else return bad(x.error());
  if (const auto& x = HostCompilers::BuiltIn(); x) t.compilers = &*x; else return bad(x.error());
  if (const auto& x = DockerImages::BuiltIn(); x) t.images = &*x; else return bad(x.error());
  if (const auto& x = OsPythonTable::BuiltIn(); x) t.os = &*x; else return bad(x.error());
  if (auto x = BuiltInConstraintTables(); x) t.judge = *x; else return bad(x.error());
  return std::nullopt;
}

PlanResult ResolveOnce(const MachineSpec& m, const Request& r, const Tables& t) {
  Plan p;
  p.request = r;
  p.machine = m;
  Search s{m, r, t, {}};
  if (!m.os_id.empty()) s.os = t.os->Find(m.os_id, m.os_version);
  if (s.os) p.os = *s.os;
  else if (!m.os_id.empty())
    p.notes.push_back(m.os_id + " " + m.os_version + " is not in data/os-python.toml: its Python "
                      "is not known, so the setup brings one with uv");
  s.driver.installed = m.driver;
  s.driver.no_gpu = m.gpus.empty();
  s.driver.may_install = !s.driver.no_gpu && (r.driver == DriverPolicy::kMayUpgrade || !m.driver);
  std::string branch_why;
  s.driver.install = PickBranch(m, t, branch_why);
  for (const PlanGpu& g : m.gpus) {
    if (!m.driver || !g.compute_capability) continue;
    if (t.branches->Supports(*m.driver, g.compute_capability->major(), g.compute_capability->minor()) !=
        std::optional<bool>(false))
      continue;
    // The installed driver cannot drive this GPU at all: nothing runs until it is replaced.
    if (!s.driver.may_install)
      return tl::unexpected(PlanFailure{"driver", "driver " + m.driver->text + " does not drive " + g.name +
                                                      " (data/driver-branches.toml)", {}});
    s.driver.installed.reset();
  }
  if (r.cuda && r.Find("torch")) {
    bool any = false;
    for (const TorchRelease& rel : t.torch->releases())
      for (const std::string& v : rel.variants)
        any = any || (CudaOfVariant(v) && SameMM(*CudaOfVariant(v), *r.cuda));
    if (!any)
      return tl::unexpected(PlanFailure{"cuda", "data/pytorch.toml has no torch build for CUDA " + r.cuda->text +
                                                    " (its releases start at " + t.torch->releases().front().version.text +
                                                    " with " + t.torch->releases().front().variants.front() + ")", {}});
  }
  if (const FrameworkRequest* fr = r.Find("torch")) {
    std::vector<TorchTry> tries = TorchCandidates(s, *fr);
    if (tries.empty())
      return tl::unexpected(PlanFailure{"release", "data/pytorch.toml has no torch " +
                                                       (fr->version ? fr->version->text : std::string()) + " release", {}});
    const TorchTry& c = tries.back();
    if (!c.constraint.empty()) {
      // An extra that refused a release that fit otherwise is what stands in the way;
      // else the newest candidate's failure is the one the user hit first.
      const TorchTry* first = &tries.front();
      for (const TorchTry& t : tries)
        if (t.constraint == "extra") {
          first = &t;
          break;
        }
      return tl::unexpected(PlanFailure{first->constraint, first->why, {}});
    }
    PlanFailure fail;
    if (!AddTorch(s, c, p, fail)) return tl::unexpected(fail);
    // A newer release that fit in every way but a companion: say why it was passed over.
    for (const TorchTry& other : tries)
      if (other.constraint == "companion" && c.rel->version < other.rel->version) {
        p.notes.push_back(other.why + ": torch " + c.rel->version.text +
                          " is the newest release with every requested companion");
        Decide(p, "companion", "torch " + c.rel->version.text + " instead of " + other.rel->version.text,
               other.why, other.rel->source);
        break;
      }
    if (c.python) {
      p.python = c.python->version;
      p.python_source = c.python->source;
      Decide(p, "python", c.python->version.text, c.python->why, c.python->row_source);
    }
    if (c.needs_driver) p.driver = s.driver.install;
    if (r.compile) {
      p.toolkit = Version::Parse(MM(c.cuda));
      p.newest_gcc = c.newest_gcc;
    }
    if (c.image) {
      p.docker_image = c.image->image;
      p.docker_image_source = c.image->sources.empty() ? "" : c.image->sources.front();
    }
  }
  std::vector<PlanFailure> fails;
  std::pair<Version, Version> image_python{*Version::Parse("3"), *Version::Parse("3.99")};
  if (const FrameworkRequest* fr = r.Find("tensorflow")) AddTensorflow(s, *fr, p, fails, image_python);
  if (const FrameworkRequest* fr = r.Find("jax")) AddJax(s, *fr, p, fails);
  if (!fails.empty()) return tl::unexpected(fails.front());
  if (Containerised(r) && p.docker_image.empty() && p.cuda) {
    auto img = PickImage(t, s.driver, *p.cuda, r.compile, r.python, image_python.first,
                         image_python.second, s.os ? s.os->Name() : "");
    if (!img)
      return tl::unexpected(PlanFailure{"image", "data/docker-images.toml has no CUDA " +
                                                     std::to_string(p.cuda->major()) +
                                                     ".x image the driver runs with a python3 in " +
                                                     image_python.first.text + "-" + image_python.second.text, {}});
    p.docker_image = img->image;
    p.docker_image_source = img->sources.empty() ? "" : img->sources.front();
    p.python = img->python3;
    p.python_source = PythonSource::kImage;
    Decide(p, "python", img->python3.text, "the python3 of " + img->image, p.docker_image_source);
  }
  // Debian packages one branch: take it when it drives every GPU and runs the stack.
  if (p.driver && s.os && s.os->family == DriverFamily::kDebian && s.os->driver_branch) {
    Version branch = *Version::Parse(std::to_string(*s.os->driver_branch));
    bool drives = true;
    for (const PlanGpu& g : m.gpus)
      drives = drives && g.compute_capability &&
               t.branches->Supports(branch, g.compute_capability->major(),
                                    g.compute_capability->minor()) == std::optional<bool>(true);
    p.driver->distro_package_runs = drives && p.cuda && t.cuda->Runs(*p.cuda, branch).value_or(false);
  }
  // Decisions that do not depend on the framework.
  if (p.driver) {
    Decide(p, "driver", p.driver->Package(),
           (m.driver ? "installed " + m.driver->text + " cannot run the chosen build; " : std::string("no driver installed; ")) +
               "newest branch the GPUs allow (" + (branch_why.empty() ? "no limit in the table" : branch_why.substr(0, branch_why.size() - 2)) +
               "), runs CUDA " + (p.driver->cuda ? MM(*p.driver->cuda) : std::string("?")) +
               (p.driver->open_module ? "; open kernel module" : "; proprietary kernel module"),
           "data/driver-branches.toml, data/cuda-drivers.toml");
  } else if (m.driver) {
    Decide(p, "driver", "keep " + m.driver->text,
           p.cuda ? "runs CUDA " + MM(*p.cuda) + " builds" : "no CUDA build chosen", "data/cuda-drivers.toml");
  }
  if (p.toolkit) {
    Decide(p, "toolkit", "nvcc " + p.toolkit->text,
           std::string(r.compile_implied ? "apex/flash-attn are compiled" : "--compile") +
               ": extensions must be built with the CUDA torch was built for",
           "compat-data.md c (variant)");
    if (p.newest_gcc) {
      const HostCompilerRow* row = t.compilers->GccRow(*p.toolkit);
      std::string have = m.gcc ? "; this machine has gcc " + m.gcc->text : "";
      Decide(p, "host-compiler", "gcc <= " + std::to_string(*p.newest_gcc),
             "nvcc " + p.toolkit->text + " refuses newer GCC" + have, row ? row->source : "");
      if (m.gcc && m.gcc->major() > *p.newest_gcc)
        p.notes.push_back("gcc " + m.gcc->text + " is newer than nvcc " + p.toolkit->text +
                          " accepts: the setup installs gcc-" + std::to_string(*p.newest_gcc) +
                          " and points CC/CXX at it");
    }
  }
  if (!p.docker_image.empty())
    Decide(p, "image", p.docker_image,
           r.compile ? "devel image: nvcc " + (p.cuda ? MM(*p.cuda) : std::string("?")) + " for the extension builds"
                     : "runtime image the driver runs (the wheels bring their own CUDA libraries)",
           p.docker_image_source);
  if (m.gpus.empty())
    p.notes.push_back("no NVIDIA GPU was found or described: no driver is installed and the GPU "
                      "architecture was not checked; the machine that runs this needs a driver "
                      "for CUDA " + (p.cuda ? MM(*p.cuda) : std::string("?")));
  for (const PlanGpu& g : m.gpus)
    if (!g.compute_capability)
      p.notes.push_back(g.name + ": compute capability unknown (not in data/gpus.toml), not checked");
  return p;
}

}  // namespace

std::string DriverInstall::Package() const {
  return "nvidia-driver-" + std::to_string(branch) + (open_module ? "-open" : "");
}

PlanResult Resolve(const MachineSpec& machine, const Request& request) {
  Tables t;
  if (auto bad = LoadTables(t)) return tl::unexpected(*bad);
  PlanResult result = ResolveOnce(machine, request, t);
  if (result) return result;
  // Nearest alternatives: lift one constraint of the request at a time.
  auto describe = [](const Plan& p) {
    std::string out;
    for (const std::string& req : p.requirements)
      if (req.rfind("torch==", 0) == 0 || req.rfind("tensorflow", 0) == 0 || req.rfind("jax", 0) == 0)
        out += (out.empty() ? "" : " + ") + req;
    if (!p.variant.empty()) out += " " + p.variant;
    if (p.driver) out += " with " + p.driver->Package();
    return out;
  };
  auto try_with = [&](std::string what, Request changed) {
    if (auto alt = ResolveOnce(machine, changed, t)) result.error().alternatives.push_back(what + ": " + describe(*alt));
  };
  if (request.driver == DriverPolicy::kKeep) {
    Request r = request;
    r.driver = DriverPolicy::kMayUpgrade;
    try_with("--upgrade-driver", r);
  }
  bool pinned = false;
  Request unpinned = request;
  for (auto& f : unpinned.frameworks) pinned = pinned || f.version.has_value(), f.version.reset();
  if (pinned) try_with("an older or newer release (no version pin)", unpinned);
  if (request.cuda) {
    Request r = request;
    r.cuda.reset();
    try_with("without --cuda " + request.cuda->text, r);
  }
  if (request.python) {
    Request r = request;
    r.python.reset();
    try_with("without --python " + request.python->text, r);
  }
  if (result.error().alternatives.empty()) {
    Request r = unpinned;
    r.driver = DriverPolicy::kMayUpgrade;
    r.cuda.reset();
    r.python.reset();
    try_with("no pins and --upgrade-driver", r);
  }
  return result;
}

}  // namespace dlrig
