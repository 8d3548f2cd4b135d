#include "plan/constraints.h"

#include <algorithm>
#include <array>

#include "core/strings.h"

namespace dlrig {
namespace {

constexpr const char* kPypi = "https://pypi.org/simple";

}  // namespace

std::string NormalizedName(std::string_view name) {
  std::string out;
  for (char c : name) {
    bool sep = c == '-' || c == '_' || c == '.';
    if (sep) {
      if (out.empty() || out.back() != '-') out.push_back('-');
    } else {
      out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
  }
  return out;
}

std::string RequirementName(std::string_view line) {
  size_t end = line.find_first_of("[=<>!~; ");
  return NormalizedName(Trim(line.substr(0, end)));
}

namespace {

bool InRange(const Version& v, const Version& min, const Version& max) {
  Version mm = Version::Parse(v.MajorMinor()).value_or(v);
  return !(mm < min) && !(max < mm);
}

const ResolvedPackage* FindPackage(const std::vector<ResolvedPackage>& packages,
                                   std::string_view name) {
  for (const ResolvedPackage& p : packages)
    if (NormalizedName(p.name) == name) return &p;
  return nullptr;
}

}  // namespace

std::string TensorflowRequirementName(const TensorflowBuild& row, GpuUse gpu) {
  if (gpu == GpuUse::kCuda && row.and_cuda) return row.package + "[and-cuda]";
  return row.package;
}

std::string MissingCompanion(const TorchRelease& rel, const std::vector<std::string>& wanted) {
  for (const std::string& w : wanted) {
    if (w == "torchvision" && !rel.torchvision) return w;
    if (w == "torchaudio" && !rel.torchaudio) return w;
  }
  return "";
}

std::string LocalTag(const TorchRelease& rel, const std::string& variant) {
  return variant == rel.pypi_default ? "" : "+" + variant;
}

std::vector<std::string> TorchConstraints(const TorchRelease& rel,
                                          const std::vector<std::string>& wanted) {
  std::vector<std::string> out = {"torch==" + rel.version.MajorMinor() + ".*"};
  for (const char* c : {"torchvision", "torchaudio"})
    if (std::find(wanted.begin(), wanted.end(), c) != wanted.end()) out.emplace_back(c);
  return out;
}

std::optional<std::vector<std::string>> TorchTablePins(const TorchRelease& rel,
                                                       const std::string& variant,
                                                       const std::vector<std::string>& wanted) {
  std::string tag = LocalTag(rel, variant);
  if (rel.patches.empty()) return std::nullopt;
  std::vector<std::string> out = {"torch==" + rel.patches.back().text + tag};
  auto has = [&](const char* c) { return std::find(wanted.begin(), wanted.end(), c) != wanted.end(); };
  auto pin = [&](const char* name, const std::optional<Version>& exact) {
    bool untagged = std::find(rel.untagged.begin(), rel.untagged.end(), name) != rel.untagged.end();
    out.push_back(std::string(name) + "==" + exact->text + (untagged ? "" : tag));
  };
  if (has("torchvision")) {
    if (!rel.torchvision_exact) return std::nullopt;
    pin("torchvision", rel.torchvision_exact);
  }
  if (has("torchaudio")) {
    if (!rel.torchaudio_exact) return std::nullopt;
    pin("torchaudio", rel.torchaudio_exact);
  }
  return out;
}

bool PinIsExact(std::string_view line) {
  size_t eq = line.find("==");
  if (eq == std::string_view::npos || line.find("===") != std::string_view::npos) return false;
  std::string_view version = Trim(line.substr(eq + 2));
  return !version.empty() && version.find_first_of("*,;<>!~ ") == std::string_view::npos;
}

bool PinExcludesOtherVariants(std::string_view line) {
  if (!PinIsExact(line)) return false;
  return line.substr(line.find("==")).find('+') != std::string_view::npos;
}

Result<std::vector<std::string>> IndexLines(const std::string& index_url,
                                            const std::vector<std::string>& pins,
                                            const std::vector<std::string>& variant_packages,
                                            bool needs_pypi) {
  if (index_url.empty()) return std::vector<std::string>{};
  std::vector<std::string> lines = {"--index-url " + index_url};
  if (!needs_pypi) return lines;
  for (const std::string& pin : pins) {
    std::string name = RequirementName(pin);
    bool variant = std::find(variant_packages.begin(), variant_packages.end(), name) !=
                   variant_packages.end();
    if (variant && !PinExcludesOtherVariants(pin))
      return Fail(ErrorKind::kMalformed,
                  "\"" + pin + "\" is not an exact pin with the variant's local version, so PyPI "
                  "as an extra index could serve its default variant instead of " + index_url);
  }
  lines.push_back("--extra-index-url " + std::string(kPypi));
  return lines;
}

std::optional<PythonPick> PickPython(const std::optional<Version>& requested,
                                     const std::optional<Version>& machine_python,
                                     const OsPythonRow* os, PythonFreedom freedom,
                                     const Version& min, const Version& max) {
  std::string range = min.text + "-" + max.text;
  if (requested) {
    if (!InRange(*requested, min, max)) return std::nullopt;
    return PythonPick{*Version::Parse(requested->MajorMinor()), PythonSource::kRequested,
                      "requested with --python", "request"};
  }
  auto from = [&](const Version& have, PythonSource source, std::string what,
                  std::string row) -> std::optional<PythonPick> {
    Version mm = *Version::Parse(have.MajorMinor());
    if (InRange(mm, min, max))
      return PythonPick{mm, source, what + " " + mm.text + ", within the wheels' range " + range, row};
    if (freedom == PythonFreedom::kFixed) return std::nullopt;
    Version pick = mm < min ? min : max;
    return PythonPick{pick, PythonSource::kUv,
                      what + " " + mm.text + " is outside the wheels' range " + range +
                          ": the setup installs Python " + pick.text + " with uv",
                      row};
  };
  if (machine_python) return from(*machine_python, PythonSource::kMachine, "python3 on PATH is", "this machine");
  if (os) {
    std::string src;
    for (const std::string& s : os->sources) src += (src.empty() ? "" : "; ") + s;
    return from(os->python3, PythonSource::kOs, os->Name() + " ships python3",
                "data/os-python.toml " + os->Name() + ": " + src);
  }
  return PythonPick{max, PythonSource::kUnknown,
                    "the target OS is not known (give --os): the newest Python the wheels have, "
                    "installed with uv",
                    "request"};
}

std::optional<int> CudaMajorOfWheel(std::string_view name, std::string_view version) {
  std::string n = NormalizedName(name);
  if (!StartsWith(n, "nvidia-")) return std::nullopt;
  size_t cu = n.rfind("-cu");
  if (cu != std::string::npos && cu + 3 < n.size() &&
      std::all_of(n.begin() + static_cast<long>(cu) + 3, n.end(), ::isdigit))
    return std::stoi(n.substr(cu + 3));
  // CUDA 13's wheels dropped the suffix; these carry the toolkit's version.
  static constexpr std::array<const char*, 5> kToolkitVersioned = {
      "nvidia-cuda-runtime", "nvidia-cuda-nvrtc", "nvidia-cuda-cupti", "nvidia-nvjitlink",
      "nvidia-cublas"};
  if (std::find(kToolkitVersioned.begin(), kToolkitVersioned.end(), n) == kToolkitVersioned.end())
    return std::nullopt;
  auto v = Version::Parse(version);
  if (!v) return std::nullopt;
  return v->major();
}

std::string CheckAnswer(const Plan& plan, const std::vector<ResolvedPackage>& packages) {
  if (plan.torch) {
    const ResolvedPackage* torch = FindPackage(packages, "torch");
    if (!torch) return "the resolver's answer has no torch";
    auto v = Version::Parse(torch->version);
    if (!v || v->MajorMinor() != plan.torch->MajorMinor())
      return "the resolver chose torch " + torch->version + ", not a " + plan.torch->text + " release";
    std::string want = plan.index_url.empty() ? "" : "+" + plan.variant;
    if (v->suffix != want)
      return "the resolver chose torch " + torch->version + " from " + torch->url + ", not the " +
             plan.variant + " build" +
             (plan.index_url.empty() ? "" : " of " + plan.index_url + " (did the index answer?)");
  }
  if (plan.cuda) {
    for (const ResolvedPackage& p : packages) {
      auto major = CudaMajorOfWheel(p.name, p.version);
      if (major && *major != plan.cuda->major())
        return p.name + " " + p.version + " is a CUDA " + std::to_string(*major) +
               " wheel; the plan's CUDA is " + plan.cuda->MajorMinor();
    }
  }
  for (const std::string& c : plan.constraints) {
    std::string name = RequirementName(c);
    if (name == "tensorflow" && c.find("[and-cuda]") != std::string::npos) {
      bool cuda = std::any_of(packages.begin(), packages.end(), [](const ResolvedPackage& p) {
        return CudaMajorOfWheel(p.name, p.version).has_value();
      });
      if (!cuda) return "tensorflow resolved without its nvidia-* CUDA wheels: it would run on the CPU";
    }
    if (name == "jax") {
      size_t open = c.find("[cuda");
      if (open == std::string::npos) continue;
      std::string major = c.substr(open + 5, c.find(']', open) - open - 5);
      if (!FindPackage(packages, "jax-cuda" + major + "-plugin") &&
          !FindPackage(packages, "jax-cuda" + major + "-pjrt"))
        return "jax resolved without jax-cuda" + major + "-plugin: it would run on the CPU";
    }
  }
  return "";
}

}  // namespace dlrig
