#include "plan/judge.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "probe/fatbin.h"

namespace dlrig {

namespace {

Version MM(const Version& v) { return *Version::Parse(v.MajorMinor()); }

bool ArchsRun(const std::vector<CudaArch>& archs, const Version& cc) {
  FatbinScan scan;
  for (const CudaArch& a : archs) {
    scan.sass.push_back({GpuCodeTarget::Kind::kSass, a.major, a.minor, 0});
    if (a.ptx) scan.ptx.push_back({GpuCodeTarget::Kind::kPtx, a.major, a.minor, 0});
  }
  return PickKernelImage(scan, {cc.major(), cc.minor()}).how != KernelImageChoice::How::kNone;
}

std::string RowSource(const ExtraRow& row) { return "data/extras.toml: " + row.source; }

// The variant pip installs for an untagged torch==X.Y.Z from PyPI.
std::string PypiVariant(const Version& torch, const ConstraintTables& kb) {
  if (kb.torch == nullptr) return "";
  return kb.torch->VariantOf(*Version::Parse(torch.text)).value_or("");
}

// The torch pip installs for a wheel's requirement: the one "==" names, else the newest release
// in the table the specifier allows (pip takes the newest); nullopt when neither is known.
std::optional<Version> ImpliedTorch(const std::string& spec, const ConstraintTables& kb) {
  if (spec.starts_with("==")) return Version::Parse(spec.substr(2));
  if (kb.torch == nullptr) return std::nullopt;
  const auto& releases = kb.torch->releases();
  for (auto it = releases.rbegin(); it != releases.rend(); ++it)
    if (Satisfies(*Version::Parse(it->version.MajorMinor() + ".999"), spec).value_or(false))
      return it->version;
  return std::nullopt;
}

// Is `cc` older than anything the row carries (its lowest arch, or its min_cc)?
bool BelowFloor(const ExtraRow& row, const Version& cc) {
  Version mm = MM(cc);
  if (!row.archs.empty())
    return mm <
           *Version::Parse(fmt::format("{}.{}", row.archs.front().major, row.archs.front().minor));
  return row.min_cc && mm < *row.min_cc;
}

// The first GPU the row's code cannot run on, or nullptr.
const TargetGpu* GpuRefused(const ExtraRow& row, const StackTarget& t) {
  for (const TargetGpu& g : t.gpus)
    if (!ExtraRunsOn(row, g.cc)) return &g;
  return nullptr;
}

std::string Needs(const ExtraRow& row) {
  if (!row.archs.empty()) return "code for " + row.arch_list;
  if (row.min_cc && row.max_cc && *row.min_cc == *row.max_cc)
    return "compute capability " + row.min_cc->text;
  std::string s = "compute capability";
  if (row.min_cc) s += " >= " + row.min_cc->text;
  if (row.max_cc) s += (row.min_cc ? " and <= " : " <= ") + row.max_cc->text;
  return s;
}

// Does torch `v` (X.Y or X.Y.Z) satisfy `spec`? An X.Y pin judged against "==X.Y.Z" is true
// when X.Y agrees (pip may pick that patch).
std::optional<bool> TorchSatisfies(const Version& v, const std::string& spec) {
  if (v.parts.size() >= 3) return Satisfies(v, spec);
  auto lo = Satisfies(*Version::Parse(v.MajorMinor() + ".0"), spec);
  auto hi = Satisfies(*Version::Parse(v.MajorMinor() + ".999"), spec);
  if (!lo || !hi) return std::nullopt;
  if (*lo || *hi) return true;
  // "==2.4.1" against "2.4": neither end, but the middle may match.
  if (spec.starts_with("==")) {
    auto want = Version::Parse(spec.substr(2));
    if (want) return want->major() == v.major() && want->minor() == v.minor();
  }
  return false;
}

std::string DriverNeed(const CudaDrivers& drivers, const Version& cuda) {
  for (const auto& row : drivers.rows())
    if (row.cuda.major() == cuda.major() && row.cuda.minor() == cuda.minor())
      return (row.minor_compat_driver ? *row.minor_compat_driver : row.toolkit_driver).text;
  return "";
}

struct Judged {
  Verdict verdict = Verdict::kUnknown;
  /// false: the row, or the torch the wheel pulls in (or its arch list), is not in the tables or
  /// only unconfirmed: not a release to suggest.
  bool complete = true;
  std::string constraint, reason, source, torch_pin;
  ExtraBuildPlan build;
  std::vector<std::string> notes;
};

// The arch-list variable for a source build, limited to the machine's GPUs.
std::string ArchEnv(const ExtraRow& row, const StackTarget& t) {
  if (row.arch_env.empty() || t.gpus.empty()) return "";
  std::set<std::pair<int, int>> ccs;
  for (const TargetGpu& g : t.gpus) ccs.insert({g.cc.major(), g.cc.minor()});
  std::vector<std::string> items;
  if (!row.arch_codes.empty()) {
    std::set<int> codes;
    for (auto [major, minor] : ccs) {
      int best = -1;
      for (int code : row.arch_codes)
        if (code / 10 == major && code % 10 <= minor) best = std::max(best, code);
      if (best >= 0) codes.insert(best);
    }
    for (int c : codes) items.push_back(std::to_string(c));
  } else {
    for (auto [major, minor] : ccs) items.push_back(fmt::format("{}.{}", major, minor));
  }
  if (items.empty()) return "";
  return row.arch_env + "=" + fmt::format("{}", fmt::join(items, ";"));
}

// The toolkit a build needs and whether the machine's nvcc fits; "" when it fits.
std::string NvccProblem(const ExtraRow& row, const std::string& package, const StackTarget& t,
                        const Version& torch_cuda) {
  if (!t.nvcc) return "";
  Version nvcc = MM(*t.nvcc), want = MM(torch_cuda);
  if (row.min_nvcc && nvcc < *row.min_nvcc)
    return fmt::format("{} needs CUDA >= {} to build; nvcc is {}", package, row.min_nvcc->text,
                       nvcc.text);
  bool minor_ok = std::find(row.nvcc_minor_ok.begin(), row.nvcc_minor_ok.end(), want.major()) !=
                  row.nvcc_minor_ok.end();
  if (row.nvcc_match == "minor" && !minor_ok && nvcc != want)
    return fmt::format("{} is built only with nvcc {} (the CUDA torch was built with); nvcc is {}",
                       package, want.text, nvcc.text);
  if (nvcc.major() != want.major())
    return fmt::format(
        "{} is built by torch's extension builder, which refuses nvcc {} for a CUDA {} torch",
        package, nvcc.text, want.text);
  return "";
}

Judged JudgeRelease(const std::string& package, const Version& v, const StackTarget& t,
                    const ConstraintTables& kb) {
  Judged j;
  std::vector<const ExtraRow*> rows = kb.extras->Rows(package, v);
  if (rows.empty()) {
    j.reason = fmt::format("data/extras.toml has no row for {} {}", package, v.text);
    return j;
  }
  // The torch this release runs next to: the target's, else the one its wheel pins.
  std::optional<Version> torch = t.torch;
  std::string variant = t.torch_variant;
  if (const ExtraPin* pin = kb.extras->Pin(package, v)) {
    j.source = "data/extras.toml: " + pin->source;
    if (pin->torch.starts_with("==")) j.torch_pin = "torch" + pin->torch;
    if (t.torch) {
      if (!TorchSatisfies(*t.torch, pin->torch).value_or(true)) {
        j.verdict = Verdict::kRefused;
        j.constraint = "torch";
        j.reason = fmt::format("{} {} is built against torch{}, not torch {}", package, v.text,
                               pin->torch, t.torch->text);
        return j;
      }
    } else {
      torch = ImpliedTorch(pin->torch, kb);
      if (torch) variant = PypiVariant(*torch, kb);
    }
    if (!pin->python.empty() && t.python && !Satisfies(*t.python, pin->python).value_or(true)) {
      j.verdict = Verdict::kRefused;
      j.constraint = "python";
      j.reason = fmt::format("{} {} requires Python {}, not {}", package, v.text, pin->python,
                             t.python->text);
      return j;
    }
    if (!t.torch && (!torch || variant.empty())) {
      j.complete = false;
      j.notes.push_back(
          fmt::format("the torch {} {} pulls in is not in data/pytorch.toml: its CUDA "
                      "build was not judged",
                      package, v.text));
    }
    // The torch build the wheel pulls in must run here too.
    if (!t.torch && torch && !variant.empty() && kb.torch != nullptr && kb.drivers != nullptr) {
      auto cuda = CudaOfVariant(variant);
      if (cuda && t.driver && !kb.drivers->Runs(*cuda, *t.driver).value_or(true)) {
        j.verdict = Verdict::kRefused;
        j.constraint = "driver";
        std::string need = DriverNeed(*kb.drivers, *cuda);
        j.reason = fmt::format(
            "{} {} pulls torch {} from PyPI, a {} build that driver {} cannot run{}", package,
            v.text, torch->text, variant, t.driver->text,
            need.empty() ? "" : " (CUDA " + cuda->MajorMinor() + " needs >= " + need + ")");
        return j;
      }
      const TorchBuild* b = kb.torch->Find(*torch, variant);
      if (b == nullptr && !t.gpus.empty()) {
        j.complete = false;
        j.notes.push_back(
            fmt::format("data/pytorch.toml has no arch list for torch {} {}: the "
                        "GPU was not checked against it",
                        torch->text, variant));
      }
      if (b != nullptr)
        for (const TargetGpu& g : t.gpus)
          if (!ArchsRun(b->archs, g.cc)) {
            j.verdict = b->confirmed ? Verdict::kRefused : Verdict::kAllowed;
            j.constraint = "gpu";
            j.reason = fmt::format(
                "{} {} pulls torch {} ({}), whose arch list {} has no code for {} "
                "(compute capability {})",
                package, v.text, torch->text, variant, b->arch_list, g.name, g.cc.text);
            j.source += "; data/pytorch.toml: " + b->source;
            if (j.verdict == Verdict::kRefused) return j;
            j.complete = false;
            j.notes.push_back(j.reason + " (arch list unconfirmed)");
          }
    }
  }
  std::optional<Version> torch_cuda;
  if (variant.starts_with("cu")) torch_cuda = CudaOfVariant(variant);
  // The row for torch's CUDA; with it unknown, refuse only when every row refuses.
  std::vector<const ExtraRow*> candidates;
  for (const ExtraRow* r : rows)
    if (!r->cuda_first || !torch_cuda ||
        (MM(*torch_cuda) >= *r->cuda_first && MM(*torch_cuda) <= *r->cuda_last))
      candidates.push_back(r);
  if (candidates.empty()) {
    j.reason = fmt::format("data/extras.toml has no {} {} row for a CUDA {} torch", package, v.text,
                           torch_cuda ? torch_cuda->text : "?");
    return j;
  }
  const ExtraRow& row = *candidates.front();
  if (j.source.empty())
    j.source = RowSource(row);
  else
    j.source += "; " + RowSource(row);
  const TargetGpu* refused = nullptr;
  for (const ExtraRow* r : candidates) {
    refused = GpuRefused(*r, t);
    if (refused == nullptr) break;
  }
  if (refused != nullptr) {
    // An unconfirmed row still refuses a GPU older than all its code: only what is new in it
    // (an arch or PTX the release may lack) is uncertain.
    j.verdict =
        row.confirmed || BelowFloor(row, refused->cc) ? Verdict::kRefused : Verdict::kAllowed;
    j.constraint = "gpu";
    j.reason = fmt::format("{} (compute capability {}) cannot run {} {}: it carries {}{}. {}",
                           refused->name, refused->cc.text, package, v.text, Needs(row),
                           row.cuda_first && candidates.size() == 1 && torch_cuda
                               ? fmt::format(" for a CUDA {} torch", torch_cuda->MajorMinor())
                               : "",
                           row.note);
    if (j.verdict == Verdict::kRefused) return j;
    j.notes.push_back(j.reason + " (row unconfirmed)");
  }
  if (t.torch && row.torch_min && MM(*t.torch) < MM(*row.torch_min)) {
    j.verdict = Verdict::kRefused;
    j.constraint = "torch";
    j.reason = fmt::format("{} {} needs torch >= {}, not {}", package, v.text, row.torch_min->text,
                           t.torch->text);
    return j;
  }
  if (t.torch && row.torch_below && !(*t.torch < *row.torch_below)) {
    j.verdict = Verdict::kRefused;
    j.constraint = "torch";
    j.reason = fmt::format("{} {} needs torch < {}, not {}", package, v.text, row.torch_below->text,
                           t.torch->text);
    return j;
  }
  // How it is installed.
  bool source = row.build == ExtraBuild::kSource || row.build == ExtraBuild::kJit;
  if (row.build == ExtraBuild::kReleaseWheel) {
    std::vector<std::string> missing;
    if (t.torch && std::find(row.wheel_torch.begin(), row.wheel_torch.end(),
                             t.torch->MajorMinor()) == row.wheel_torch.end())
      missing.push_back("torch " + t.torch->MajorMinor());
    if (torch_cuda &&
        std::none_of(row.wheel_cuda.begin(), row.wheel_cuda.end(),
                     [&](const Version& c) { return c.major() == torch_cuda->major(); }))
      missing.push_back(fmt::format("CUDA {}", torch_cuda->major()));
    if (t.python && std::find(row.wheel_python.begin(), row.wheel_python.end(),
                              t.python->MajorMinor()) == row.wheel_python.end())
      missing.push_back("Python " + t.python->MajorMinor());
    if (missing.empty()) {
      std::string url = row.wheel_url;
      if (size_t at = url.find("{version}"); at != std::string::npos) url.replace(at, 9, v.text);
      j.build.wheel_url = url;
    } else {
      source = true;
      std::vector<std::string> cudas;
      for (const Version& c : row.wheel_cuda) cudas.push_back(c.text);
      j.notes.push_back(fmt::format(
          "{} {} has no release wheel for {} (wheels: torch {}; CUDA {}; Python {}): pip "
          "compiles it from source, which takes hours",
          package, v.text, fmt::format("{}", fmt::join(missing, ", ")),
          fmt::join(row.wheel_torch, ", "), fmt::join(cudas, ", "),
          fmt::join(row.wheel_python, ", ")));
    }
  }
  if (source) {
    j.build.from_source = true;
    j.build.jit = row.build == ExtraBuild::kJit;
    if (torch_cuda) {
      j.build.nvcc = MM(*torch_cuda);
      std::string problem = NvccProblem(row, package, t, *torch_cuda);
      if (!problem.empty()) {
        j.verdict = Verdict::kRefused;
        j.constraint = "nvcc";
        j.reason = problem;
        return j;
      }
    }
    if (std::string env = ArchEnv(row, t); !env.empty()) j.build.env.push_back(env);
    if (row.max_jobs) j.build.env.push_back(fmt::format("MAX_JOBS={}", *row.max_jobs));
  }
  if (!row.confirmed) {
    j.complete = false;
    j.notes.push_back(fmt::format("the {} {} row is unconfirmed", package, v.text));
  }
  j.verdict = Verdict::kAllowed;
  j.constraint.clear();
  j.reason = fmt::format("{} {}: {}", package, v.text, row.note);
  return j;
}

// What pip would pick with no version asked: the newest release whose torch pin the target's
// torch satisfies (pip backtracks over that), or the newest release.
std::optional<Version> PipPick(const std::string& package, const StackTarget& t,
                               const ConstraintTables& kb) {
  std::vector<Version> releases = kb.extras->Releases(package);
  for (auto it = releases.rbegin(); it != releases.rend(); ++it) {
    const ExtraPin* pin = kb.extras->Pin(package, *it);
    if (pin == nullptr || !t.torch || TorchSatisfies(*t.torch, pin->torch).value_or(true))
      return *it;
  }
  return std::nullopt;
}

std::optional<Version> NewestAllowed(const std::string& package, const StackTarget& t,
                                     const ConstraintTables& kb) {
  std::vector<Version> releases = kb.extras->Releases(package);
  for (auto it = releases.rbegin(); it != releases.rend(); ++it) {
    Judged j = JudgeRelease(package, *it, t, kb);
    if (j.verdict == Verdict::kAllowed && j.complete) return *it;
  }
  return std::nullopt;
}

bool HasPypiReleases(const std::string& package, const ConstraintTables& kb) {
  for (const ExtraRow& r : kb.extras->rows())
    if (r.package == package && r.last) return true;
  return !kb.extras->Pins(package).empty();
}

}  // namespace

Result<ConstraintTables> BuiltInConstraintTables() {
  ConstraintTables t;
  if (const auto& x = Extras::BuiltIn(); x)
    t.extras = &*x;
  else
    return tl::unexpected(x.error());
  if (const auto& x = PytorchBuilds::BuiltIn(); x)
    t.torch = &*x;
  else
    return tl::unexpected(x.error());
  if (const auto& x = CudaDrivers::BuiltIn(); x)
    t.drivers = &*x;
  else
    return tl::unexpected(x.error());
  if (const auto& x = TensorflowBuilds::BuiltIn(); x)
    t.tensorflow = &*x;
  else
    return tl::unexpected(x.error());
  if (const auto& x = JaxBuilds::BuiltIn(); x)
    t.jax = &*x;
  else
    return tl::unexpected(x.error());
  return t;
}

bool ExtraRunsOn(const ExtraRow& row, const Version& cc) {
  Version mm = MM(cc);
  if (!row.archs.empty() && !ArchsRun(row.archs, mm)) return false;
  if (row.min_cc && mm < *row.min_cc) return false;
  if (row.max_cc && mm > *row.max_cc) return false;
  return true;
}

ExtraJudgement JudgeExtra(std::string_view package_name, const std::optional<Version>& version,
                          const StackTarget& target, const ConstraintTables& kb) {
  ExtraJudgement out;
  std::string package(package_name);
  out.package = package;
  if (kb.extras == nullptr || !kb.extras->Knows(package)) {
    out.reason = "data/extras.toml does not know " + package;
    return out;
  }
  out.version = version ? version : PipPick(package, target, kb);
  if (!out.version) {
    out.reason = "data/extras.toml lists no release of " + package;
    return out;
  }
  Judged j = JudgeRelease(package, *out.version, target, kb);
  out.verdict = j.verdict;
  out.constraint = j.verdict == Verdict::kRefused ? j.constraint : "";
  out.reason = j.reason;
  out.source = j.source;
  out.torch_pin = j.torch_pin;
  out.build = j.build;
  out.notes = j.notes;
  bool pypi = HasPypiReleases(package, kb);
  if (j.verdict == Verdict::kAllowed) {
    if (pypi) out.pin = package + "==" + out.version->text;
  } else if (j.verdict == Verdict::kRefused && pypi) {
    if (auto alt = NewestAllowed(package, target, kb)) {
      out.pin = package + "==" + alt->text;
      Judged a = JudgeRelease(package, *alt, target, kb);
      out.torch_pin = a.torch_pin;
      out.build = a.build;
    }
  }
  return out;
}

FrameworkJudgement JudgeTensorflow(const std::optional<Version>& version, bool and_cuda,
                                   const StackTarget& target, const ConstraintTables& kb) {
  FrameworkJudgement out;
  if (kb.tensorflow == nullptr || kb.tensorflow->rows().empty()) return out;
  const TensorflowBuild* row =
      version ? kb.tensorflow->Find(*version) : &kb.tensorflow->rows().front();
  if (row == nullptr) {
    out.reason = "data/tensorflow.toml has no row for tensorflow " + version->text;
    return out;
  }
  if (row->package != "tensorflow") {  // 1.x: the PyPI "tensorflow" wheel is CPU-only
    out.reason = fmt::format("tensorflow {} from PyPI is the CPU build (GPU: {})",
                             row->version.MajorMinor(), row->package);
    return out;
  }
  const CudaWheelExtra* extra = kb.extras ? kb.extras->CudaExtra("tensorflow") : nullptr;
  bool has_extra = extra != nullptr && row->version >= extra->since;
  out.source = "data/tensorflow.toml: " + row->source;
  auto runs = [&](const TensorflowBuild& r) {
    if (!target.driver || kb.drivers == nullptr) return true;
    return kb.drivers->Runs(r.cuda, *target.driver).value_or(true);
  };
  auto python_ok = [&](const TensorflowBuild& r) {
    return !target.python ||
           (MM(*target.python) >= r.python_min && MM(*target.python) <= r.python_max);
  };
  // The newest release with [and-cuda] that this driver and Python run.
  auto alternative = [&]() -> std::string {
    for (const TensorflowBuild& r : kb.tensorflow->rows())
      if (extra != nullptr && r.version >= extra->since && runs(r) && python_ok(r))
        return fmt::format("tensorflow[{}]=={}.*", extra->extra, r.version.MajorMinor());
    return "";
  };
  if (target.python && !python_ok(*row)) {
    out.verdict = Verdict::kRefused;
    out.constraint = "python";
    out.reason = fmt::format("tensorflow {} has wheels for Python {} to {}, not {}",
                             row->version.MajorMinor(), row->python_min.text, row->python_max.text,
                             target.python->text);
    out.pin = alternative();
    return out;
  }
  if (and_cuda || !has_extra) {
    if (!runs(*row)) {
      std::string need = kb.drivers ? DriverNeed(*kb.drivers, row->cuda) : "";
      out.verdict = Verdict::kRefused;
      out.constraint = "driver";
      out.reason = fmt::format(
          "tensorflow {} {} CUDA {} (cuDNN {}), which driver {} cannot run{}",
          row->version.MajorMinor(),
          and_cuda ? "[" + (extra ? extra->extra : std::string("and-cuda")) + "] installs"
                   : "is built for",
          row->cuda.MajorMinor(), row->cudnn.text, target.driver->text,
          need.empty() ? "" : " (it needs >= " + need + ")");
      if (and_cuda && extra) out.source += "; data/extras.toml: " + extra->source;
      out.pin = alternative();
      return out;
    }
    out.verdict = Verdict::kAllowed;
    out.reason = fmt::format("tensorflow {} uses CUDA {}", row->version.MajorMinor(),
                             row->cuda.MajorMinor());
    return out;
  }
  // Without the extra pip installs no CUDA libraries: TensorFlow falls back to the CPU unless
  // the system provides CUDA and cuDNN of the tested versions.
  out.verdict = Verdict::kAllowed;
  out.source += "; data/extras.toml: " + extra->source;
  if (!target.gpus.empty()) {
    out.advice = fmt::format(
        "tensorflow {} from PyPI without [{}] installs no CUDA libraries: it runs on the CPU "
        "unless CUDA {} and cuDNN {} are installed system-wide",
        row->version.MajorMinor(), extra->extra, row->cuda.MajorMinor(), row->cudnn.text);
    out.pin = runs(*row)
                  ? fmt::format("tensorflow[{}]=={}.*", extra->extra, row->version.MajorMinor())
                  : alternative();
  }
  return out;
}

FrameworkJudgement JudgeJax(const std::optional<Version>& version, int cuda_major,
                            const StackTarget& target, const ConstraintTables& kb) {
  FrameworkJudgement out;
  if (kb.jax == nullptr) return out;
  auto row_for = [&](int major) -> const JaxCudaNeeds* {
    if (version) return kb.jax->For(*version, major);
    const JaxCudaNeeds* found = nullptr;
    for (const JaxCudaNeeds& r : kb.jax->rows())
      if (r.cuda_major == major) found = &r;
    return found;
  };
  // {constraint, why}: empty when the row's needs hold here.
  auto problem = [&](const JaxCudaNeeds& r) -> std::pair<std::string, std::string> {
    if (r.min_driver && target.driver && *target.driver < *r.min_driver)
      return {"driver", fmt::format("jax for CUDA {} needs driver >= {}, not {}", r.cuda_major,
                                    r.min_driver->text, target.driver->text)};
    if (r.min_compute_capability)
      for (const TargetGpu& g : target.gpus)
        if (MM(g.cc) < *r.min_compute_capability)
          return {"gpu",
                  fmt::format("jax for CUDA {} needs compute capability >= {}; {} is {}",
                              r.cuda_major, r.min_compute_capability->text, g.name, g.cc.text)};
    return {};
  };
  const JaxCudaNeeds* row = row_for(cuda_major);
  if (row == nullptr) {
    out.reason = fmt::format("data/jax.toml has no CUDA {} row{}", cuda_major,
                             version ? " for jaxlib " + version->text : "");
    return out;
  }
  out.source = "data/jax.toml: " + row->source;
  auto [constraint, why] = problem(*row);
  if (why.empty()) {
    out.verdict = Verdict::kAllowed;
    out.reason = fmt::format("jax for CUDA {}", cuda_major);
    return out;
  }
  out.verdict = Verdict::kRefused;
  out.constraint = constraint;
  out.reason = why;
  for (int other : {13, 12})
    if (other != cuda_major)
      if (const JaxCudaNeeds* r = row_for(other); r != nullptr && problem(*r).second.empty()) {
        out.pin = fmt::format("jax[cuda{}]", other);
        out.source += "; data/jax.toml: " + r->source;
        break;
      }
  return out;
}

}  // namespace dlrig
