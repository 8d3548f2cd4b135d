// python layer rules about packages: what pip and conda installed, judged against what each
// package pins (METADATA Requires-Dist, conda build strings). Files only; nothing is imported.
#include <fmt/format.h>

#include <map>

#include "core/strings.h"
#include "core/version.h"
#include "rules/facts.h"
#include "rules/rules.h"

namespace dlrig {
namespace {

std::string_view PublicPart(std::string_view version) { return version.substr(0, version.find('+')); }
std::string_view LocalPart(std::string_view version) {
  size_t plus = version.find('+');
  return plus == std::string_view::npos ? std::string_view() : version.substr(plus + 1);
}

// Does `installed` satisfy "==pin"? PEP 440: a pin without a local label matches any local
// label ("==2.5.1" accepts "2.5.1+cu124"); numeric parts compare as numbers.
bool PinMatches(std::string_view pin, std::string_view installed) {
  if (pin.find('+') != std::string_view::npos) return pin == installed;
  auto a = Version::Parse(PublicPart(pin));
  auto b = Version::Parse(PublicPart(installed));
  return a && b && *a == *b && a->suffix == b->suffix;
}

// torchvision and torchaudio pin torch exactly and carry the same CUDA local label
// ("+cu124"); either one differing leaves their compiled ops unloadable.
void TorchCompanions(const PythonEnv& env, Findings& out) {
  const PythonDist* torch = FindDist(env, "torch");
  if (torch == nullptr) return;
  for (const char* name : {"torchvision", "torchaudio"}) {
    const PythonDist* d = FindDist(env, name);
    if (d == nullptr) continue;
    std::string why;
    for (const DistRequirement& r : d->requirements)
      if (r.name == "torch" && !r.exact.empty() && !PinMatches(r.exact, torch->version))
        why = fmt::format("{} {} requires torch=={}", name, d->version, r.exact);
    std::string_view mine = LocalPart(d->version), theirs = LocalPart(torch->version);
    if (why.empty() && StartsWith(mine, "cu") && StartsWith(theirs, "cu") && mine != theirs)
      why = fmt::format("{} is built for {}, torch for {}", name, mine, theirs);
    if (why.empty()) continue;
    out.push_back({.id = "torchvision-torch-mismatch", .subject = env.prefix,
                   .evidence = {d->site_dir + "/" + d->dist_info + "/METADATA: " + why,
                                "installed: torch " + torch->version},
                   .vars = {{"env", env.prefix}, {"package", name}, {"version", d->version},
                            {"torch", torch->version}, {"why", why}}});
  }
}

// Packages with compiled torch extensions that pin the torch they were built against
// (vLLM, xformers): another torch gives "undefined symbol: _ZN3c10..." on import.
void ExtensionPins(const PythonEnv& env, Findings& out) {
  const PythonDist* torch = FindDist(env, "torch");
  if (torch == nullptr || !env.dists) return;
  for (const PythonDist& d : *env.dists) {
    if (d.name == "torchvision" || d.name == "torchaudio") continue;
    for (const DistRequirement& r : d.requirements) {
      if (r.name != "torch" || r.exact.empty() || PinMatches(r.exact, torch->version)) continue;
      std::string why = fmt::format("{} {} requires torch=={}", d.name, d.version, r.exact);
      out.push_back({.id = "extension-abi-mismatch", .subject = env.prefix,
                     .evidence = {d.site_dir + "/" + d.dist_info + "/METADATA: " + why,
                                  "installed: torch " + torch->version},
                     .vars = {{"env", env.prefix}, {"package", d.name}, {"version", d.version},
                              {"torch", torch->version}, {"why", why}, {"pin", r.exact}}});
    }
  }
}

// A torch wheel whose nvidia-* dependencies are not installed (pip --no-deps, a lock file
// resolved for another platform): torch cannot preload its CUDA libraries.
void NvidiaWheelsMissing(const Inventory& inv, const PythonEnv& env, Findings& out) {
  const PythonDist* torch = FindDist(env, "torch");
  if (torch == nullptr || !env.dists) return;
  std::string machine = inv.host.machine.value_or("");
  std::vector<std::string> missing, evidence;
  for (const DistRequirement& r : torch->requirements) {
    if (!StartsWith(r.name, "nvidia-") || !MarkerHoldsOnLinux(r.marker, machine)) continue;
    if (FindDist(env, r.name) != nullptr) continue;
    std::string spec = r.exact.empty() ? r.name : r.name + "==" + r.exact;
    missing.push_back(spec);
    evidence.push_back("torch " + torch->version + " requires " + spec + ": not installed");
  }
  if (missing.empty()) return;
  out.push_back({.id = "pip-nvidia-wheels-missing", .subject = env.prefix, .evidence = evidence,
                 .vars = {{"env", env.prefix}, {"torch", torch->version},
                          {"packages", fmt::format("{}", fmt::join(missing, " "))}}});
}

// jax needs a CUDA plugin (jax-cudaNN-plugin and -pjrt) of exactly jaxlib's version; plain
// `pip install jax` runs on the CPU.
void JaxPlugin(const Inventory& inv, const PythonEnv& env, Findings& out) {
  const PythonDist* jaxlib = FindDist(env, "jaxlib");
  if (jaxlib == nullptr || NvidiaGpus(inv).empty()) return;
  if (StartsWith(LocalPart(jaxlib->version), "cuda")) return;  // old jaxlib+cuda12.cudnn89 builds
  std::vector<std::string> evidence;
  bool plugin = false;
  for (const char* name : {"jax-cuda12-plugin", "jax-cuda12-pjrt", "jax-cuda13-plugin", "jax-cuda13-pjrt"}) {
    const PythonDist* d = FindDist(env, name);
    if (d == nullptr) continue;
    plugin = true;
    if (PublicPart(d->version) != PublicPart(jaxlib->version))
      evidence.push_back(fmt::format("{} {} but jaxlib {}", name, d->version, jaxlib->version));
  }
  if (plugin && evidence.empty()) return;
  Finding f{.id = "jax-cpu-jaxlib-or-plugin-mismatch", .subject = env.prefix, .evidence = evidence,
            .vars = {{"env", env.prefix}, {"jaxlib", jaxlib->version}}};
  if (!plugin) {
    f.evidence.push_back("jaxlib " + jaxlib->version + " without jax-cuda12-plugin or jax-cuda13-plugin");
    f.vars["why"] = "no CUDA plugin is installed, so JAX runs on the CPU";
  } else {
    f.vars["why"] = "the CUDA plugin's version differs from jaxlib's, so it fails to initialise";
  }
  out.push_back(std::move(f));
}

// conda picked the CPU build of pytorch (a "cpu" build string, the cpuonly package or the
// cpu pytorch-mutex) on a machine with NVIDIA GPUs.
void CondaCpuVariant(const Inventory& inv, const PythonEnv& env, Findings& out) {
  if (!env.conda_packages || NvidiaGpus(inv).empty()) return;
  for (const CondaPackage& p : *env.conda_packages) {
    bool cpu = (p.name == "pytorch" && Contains(p.build, "cpu")) || p.name == "cpuonly" ||
               (p.name == "pytorch-mutex" && Contains(p.build, "cpu"));
    if (!cpu) continue;
    out.push_back({.id = "conda-cpu-variant-resolved", .subject = env.prefix,
                   .evidence = {fmt::format("{}/conda-meta/{}-{}-{}.json", env.prefix, p.name,
                                            p.version, p.build)},
                   .vars = {{"env", env.prefix}, {"package", p.name + " " + p.version + " " + p.build}}});
    return;
  }
}

// The same CUDA library from conda and from a pip nvidia-* wheel at different versions: which
// one a framework loads depends on search order, and its symbols may not match.
void MixedPipConda(const PythonEnv& env, Findings& out) {
  if (!env.conda_packages) return;
  static const std::map<std::string, std::string> kPipTwin = {
      {"cuda-cudart", "nvidia-cuda-runtime-cu"}, {"cudatoolkit", "nvidia-cuda-runtime-cu"},
      {"libcublas", "nvidia-cublas-cu"},         {"libcusparse", "nvidia-cusparse-cu"},
      {"libcufft", "nvidia-cufft-cu"},           {"libcurand", "nvidia-curand-cu"},
      {"libcusolver", "nvidia-cusolver-cu"},     {"libnvjitlink", "nvidia-nvjitlink-cu"},
      {"cudnn", "nvidia-cudnn-cu"},              {"nccl", "nvidia-nccl-cu"}};
  std::vector<std::string> clashes;
  for (const CondaPackage& p : *env.conda_packages) {
    auto twin = kPipTwin.find(p.name);
    if (twin == kPipTwin.end()) continue;
    auto conda_version = Version::Parse(p.version);
    for (const PythonDist& w : env.nvidia_wheels) {
      if (!StartsWith(w.name, twin->second)) continue;
      auto pip_version = Version::Parse(w.version);
      if (!conda_version || !pip_version || conda_version->MajorMinor() == pip_version->MajorMinor())
        continue;
      clashes.push_back(fmt::format("conda {} {} and pip {} {}", p.name, p.version, w.name, w.version));
    }
  }
  if (clashes.empty()) return;
  out.push_back({.id = "mixed-pip-conda-cuda-libs", .subject = env.prefix, .evidence = clashes,
                 .vars = {{"env", env.prefix}}});
}

}  // namespace

void PythonPackageRules(const Inventory& inv, Findings& out) {
  for (const auto& env : inv.python.envs) {
    TorchCompanions(env, out);
    ExtensionPins(env, out);
    NvidiaWheelsMissing(inv, env, out);
    JaxPlugin(inv, env, out);
    CondaCpuVariant(inv, env, out);
    MixedPipConda(env, out);
  }
}

}  // namespace dlrig
