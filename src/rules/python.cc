// python layer rules: what each framework would really run with, judged without importing it.
#include <fmt/format.h>

#include "core/strings.h"
#include "core/version.h"
#include "knowledge/cuda_drivers.h"
#include "rules/facts.h"
#include "rules/rules.h"

namespace dlrig {
namespace {

void CpuOnlyTorch(const Inventory& inv, const PythonEnv& env, const Framework& fw, Findings& out) {
  if (fw.name != "torch" || !fw.built_for_cuda || !fw.built_for_cuda->empty()) return;
  if (NvidiaGpus(inv).empty()) return;
  if (env.conda_packages)  // a conda build: conda-cpu-variant-resolved judges it
    for (const CondaPackage& p : *env.conda_packages)
      if (p.name == "pytorch") return;
  out.push_back({.id = "torch-cpu-only-wheel", .subject = env.prefix,
                 .evidence = {fw.evidence + ": cuda = None", "torch " + fw.version.value_or("?")},
                 .vars = {{"env", env.prefix}, {"version", fw.version.value_or("?")}}});
}

// The framework would load a CUDA library the loader cannot find.
void MissingLibraries(const PythonEnv& env, const Framework& fw, Findings& out) {
  for (const auto& load : fw.loads) {
    if (load.resolution.path) continue;
    out.push_back({.id = "framework-cuda-library-missing", .subject = env.prefix,
                   .evidence = {fmt::format("{} needs {}: {}", load.importer, load.soname,
                                            load.resolution.path.error().message)},
                   .vars = {{"env", env.prefix}, {"framework", fw.name}, {"soname", load.soname}}});
  }
}

// What ld.so would refuse, from the importer's .gnu.version_r against the found file.
std::vector<std::string> MissingSymbols(const LibraryLoad& load) {
  std::vector<std::string> lines;
  if (!load.resolution.symbols || !*load.resolution.symbols) return lines;
  const SymbolCheck& check = **load.resolution.symbols;
  for (const auto& v : check.missing_versions)
    lines.push_back(fmt::format("{}: version `{}' not found (required by {})",
                                *load.resolution.path, v, load.importer));
  for (const auto& m : check.missing_symbols) {
    if (lines.size() >= 4) break;  // enough to name the failure
    lines.push_back(fmt::format("{}: undefined symbol: {}, version {}", load.importer, m.name, m.version));
  }
  return lines;
}

// LD_LIBRARY_PATH put another copy in front of the env's own wheel library. An error when
// that copy is older than the framework needs (then the version rules below are its effects).
void LdLibraryPathShadows(const Inventory& inv, const PythonEnv& env, const Framework& fw,
                          Findings& out) {
  for (const auto& load : fw.loads) {
    if (!load.resolution.path || load.resolution.step != LoaderStep::kLdLibraryPath) continue;
    if (StartsWith(*load.resolution.path, env.prefix + "/")) continue;
    Finding f{.id = "ld-library-path-overrides-wheel-libs", .subject = env.prefix,
              .evidence = {fmt::format("{} -> {} (via LD_LIBRARY_PATH)", load.soname,
                                       *load.resolution.path)},
              .vars = {{"env", env.prefix}, {"framework", fw.name}, {"soname", load.soname},
                       {"path", *load.resolution.path}}};
    std::string needed = NeededVersion(inv, env, fw, load);
    if (OlderThan(load.version, needed)) {
      f.severity = Severity::kError;
      f.evidence.push_back(fmt::format("that copy is {}, older than the {} {} needs", *load.version,
                                       needed, fw.name));
    } else if (!MissingSymbols(load).empty()) {
      f.severity = Severity::kError;
      f.evidence.push_back("that copy lacks symbols " + fw.name + " imports (see below)");
    }
    out.push_back(std::move(f));
  }
}

// The library a framework would load is older than the one it was built with or pins, or
// lacks versioned symbols the framework imports: the import fails with "undefined symbol"
// (cudart, NCCL, cuBLAS...) or a start-up version check (cuDNN).
void LoadedLibraryTooOld(const Inventory& inv, const PythonEnv& env, const Framework& fw,
                         Findings& out) {
  for (const auto& load : fw.loads) {
    if (!load.resolution.path) continue;
    std::string needed = NeededVersion(inv, env, fw, load);
    bool older = OlderThan(load.version, needed);
    std::vector<std::string> missing = MissingSymbols(load);
    if (!older && missing.empty()) continue;
    const char* id = StartsWith(load.soname, "libcudart.so")  ? "cudart-wrong-version-conda-symlink"
                     : StartsWith(load.soname, "libcudnn.so") ? "cudnn-version-mismatch"
                     : StartsWith(load.soname, "libnccl.so")  ? "nccl-library-mismatch"
                                                               : "library-missing-symbols";
    std::string found = load.version.value_or("of unknown version");
    Finding f{.id = id, .subject = env.prefix,
              .evidence = {fmt::format("{} -> {} ({}{})", load.soname, *load.resolution.path, found,
                                       load.version ? " from " + load.version_source : "")},
              .vars = {{"env", env.prefix}, {"framework", fw.name}, {"soname", load.soname},
                       {"path", *load.resolution.path}, {"found", found},
                       {"needed", needed.empty() ? "the version it was built with" : needed}}};
    if (older)
      f.evidence.push_back(fmt::format("{} {} needs {} or newer", fw.name, fw.version.value_or("?"), needed));
    f.evidence.insert(f.evidence.end(), missing.begin(), missing.end());
    out.push_back(std::move(f));
  }
}

// A framework's CUDA build must be runnable by the driver. Asked of the driver itself when it
// answered (cuDriverGetVersion); otherwise judged from the loaded driver's version with the
// table in data/cuda-drivers.toml, minor-version compatibility included.
void DriverTooOld(const Inventory& inv, const PythonEnv& env, const Framework& fw, Findings& out) {
  if (!fw.built_for_cuda || fw.built_for_cuda->empty()) return;
  auto built = Version::Parse(*fw.built_for_cuda);
  if (!built) return;
  std::string driver_cuda, evidence;
  if (auto live = DriverCudaVersion(inv)) {
    if (built->major() <= *live / 1000) return;
    driver_cuda = CudaVersionFromInt(*live);
    evidence = "cuDriverGetVersion: " + std::to_string(*live);
  } else {
    auto loaded = LoadedDriverVersion(inv);
    const auto& table = CudaDrivers::BuiltIn();
    auto driver = loaded ? Version::Parse(*loaded) : std::nullopt;
    if (!driver || !table || table->Runs(*built, *driver).value_or(true)) return;
    auto newest = table->NewestCudaFor(*driver);
    driver_cuda = newest ? newest->MajorMinor() : "older than 10.0";
    evidence = "driver " + *loaded + ": newest CUDA it ships with is " + driver_cuda +
               " (data/cuda-drivers.toml)";
  }
  out.push_back({.id = "cuda-driver-insufficient", .subject = env.prefix,
                 .evidence = {fmt::format("{} {} built for CUDA {}", fw.name,
                                          fw.version.value_or("?"), *fw.built_for_cuda),
                              evidence},
                 .vars = {{"framework", fw.name}, {"built", *fw.built_for_cuda},
                          {"driver_cuda", driver_cuda},
                          {"driver", LoadedDriverVersion(inv).value_or("?")}}});
}

void UserSiteShadows(const PythonEnv& env, Findings& out) {
  for (const auto& site : env.user_sites) {
    if (!site.applies || site.packages.empty()) continue;
    out.push_back({.id = "user-site-shadowing", .subject = env.prefix,
                   .evidence = {site.path + ": " + site.packages.front(), site.why},
                   .vars = {{"env", env.prefix}, {"site", site.path}}});
  }
}

}  // namespace

void PythonRules(const Inventory& inv, Findings& out) {
  for (const auto& env : inv.python.envs) {
    UserSiteShadows(env, out);
    for (const auto& fw : env.frameworks) {
      CpuOnlyTorch(inv, env, fw, out);
      MissingLibraries(env, fw, out);
      LdLibraryPathShadows(inv, env, fw, out);
      LoadedLibraryTooOld(inv, env, fw, out);
      DriverTooOld(inv, env, fw, out);
    }
  }
}

}  // namespace dlrig
