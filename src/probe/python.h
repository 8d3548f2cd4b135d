// python layer: interpreters, venvs and conda envs; per environment the Python version, the
// frameworks (torch, tensorflow, jax, paddle) and the CUDA each was built for, the nvidia-*
// wheels, and which libcudart / libcudnn / libnccl each framework would load. Facts only:
// nothing is imported or executed, and every file is read through the Root.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "probe/conda.h"
#include "probe/context.h"
#include "probe/fatbin.h"
#include "probe/loader.h"

namespace dlrig {

enum class PythonEnvKind { kSystem, kVenv, kConda };
/// "system", "venv", "conda".
const char* PythonEnvKindName(PythonEnvKind kind);

/// One "Requires-Dist:" line of a dist's METADATA.
struct DistRequirement {
  std::string name;    ///< normalised: "nvidia-cudnn-cu12"
  std::string exact;   ///< the version of a single "==X" clause ("9.1.0.70"), else ""
  std::string marker;  ///< what follows ';' ("platform_system == \"Linux\" ..."), "" if none
};

/// One installed distribution, from its "<name>-<version>.dist-info" directory name.
struct PythonDist {
  std::string name;      ///< normalised: "nvidia-cudnn-cu13"
  std::string version;   ///< "9.19.0.56"
  std::string site_dir;  ///< the site-packages directory that holds it
  std::string dist_info;  ///< its directory name ("torch-2.5.1+cu124.dist-info")
  /// Requires-Dist, read only for frameworks and the packages that pin them (kPinningDists).
  std::vector<DistRequirement> requirements;
};

/// A library a framework would load, and why.
struct LibraryLoad {
  std::string soname;    ///< "libcudnn.so.9"
  std::string importer;  ///< the file whose RUNPATH/RPATH was followed
  LoaderResolution resolution;
  bool assumed_layout = false;  ///< importer is a placeholder: RUNPATH from data/wheel-layouts.toml
  std::string layout_source;    ///< the row's `source` when assumed_layout
  Result<std::string> version = Fail(ErrorKind::kNotFound, "not resolved");  ///< "9.19.0.56"
  std::string version_source;  ///< "nvidia-cudnn-cu13 wheel", "file name", "cudnn_version.h"
};

struct Framework {
  std::string name;                                                      ///< "torch", "jax", ...
  Result<std::string> version = Fail(ErrorKind::kNotFound, "not read");  ///< "2.11.0+cu130"
  Result<std::string> built_for_cuda =
      Fail(ErrorKind::kNotFound, "not read");  ///< "13.0"; "" = CPU
  std::string evidence;                        ///< file the CUDA version came from
  std::vector<std::string> details;            ///< "jaxlib 0.11.2", "jax-cuda13-plugin 0.11.2"
  std::vector<LibraryLoad> loads;
  /// Why `loads` is empty for a CUDA build: its importer (libtorch_cuda.so...) is there but
  /// could not be read or is not a valid ELF file, so what it loads is unknown.
  std::optional<Error> loads_error;
  /// The GPU code (SASS/PTX) in its main CUDA library's fatbin (torch: libtorch_cuda.so);
  /// nullopt when not read (CPU builds, other frameworks).
  std::optional<Result<FatbinScan>> kernels;
  std::string kernels_file;
};

/// The user site-packages (~/.local/lib/pythonX.Y/site-packages) when it holds frameworks.
struct UserSite {
  std::string path;
  std::vector<std::string> packages;  ///< "torch 2.4.0", ...
  bool applies = false;               ///< the env's python would import from it
  std::string why;                    ///< why it does or does not apply
};

struct PythonEnv {
  std::string prefix;
  PythonEnvKind kind = PythonEnvKind::kSystem;
  std::vector<std::string> origins;  ///< "VIRTUAL_ENV", "PATH", "--env", ...
  bool active = false;               ///< VIRTUAL_ENV / CONDA_PREFIX / first python on PATH
  Result<std::string> python_version = Fail(ErrorKind::kNotFound, "not read");  ///< "3.12.3"
  std::string python_version_source;
  std::optional<bool> include_system_site_packages;  ///< venvs only
  std::vector<std::string> site_dirs;                ///< existing site-packages dirs
  Result<std::vector<PythonDist>> dists = Fail(ErrorKind::kNotFound, "not read");
  std::vector<Framework> frameworks;
  std::vector<PythonDist> nvidia_wheels;
  Result<std::vector<CondaPackage>> conda_packages =  ///< CUDA-related ones; conda envs only
      Fail(ErrorKind::kUnsupported, "not a conda env");
  std::vector<UserSite> user_sites;
};

struct PythonInterpreter {
  std::string path;  ///< as found ("/usr/bin/python3")
  Result<std::string> resolved = Fail(ErrorKind::kNotFound, "not read");  ///< links followed
  Result<std::string> version = Fail(ErrorKind::kNotFound, "not read");   ///< "3.12"
};

struct PythonFacts {
  std::vector<PythonInterpreter> interpreters;
  std::vector<PythonEnv> envs;
  std::vector<std::string> problems;  ///< data that could not be used (wheel-layouts.toml)
};

/// `loader`: the loader configuration (ProbeLoaderConfig), read once per inventory.
PythonFacts ProbePython(const ProbeContext& ctx, const LoaderConfig& loader);

// Pieces, exposed for tests and fuzzers.
/// "nvidia_cudnn_cu13-9.19.0.56.dist-info" → {"nvidia-cudnn-cu13", "9.19.0.56"}.
std::optional<PythonDist> ParseDistInfoName(std::string_view dir_name);
/// The dist `name` (normalised) installed in `env`, or null.
const PythonDist* FindDist(const PythonEnv& env, std::string_view name);
/// The Requires-Dist lines of a METADATA text (its headers: up to the first empty line).
std::vector<DistRequirement> ParseRequiresDist(std::string_view metadata);
/// Whether a PEP 508 marker holds on Linux for `machine` ("x86_64"): understands
/// platform_system, sys_platform, platform_machine and extra (an extra never holds);
/// anything else counts as holding.
bool MarkerHoldsOnLinux(std::string_view marker, std::string_view machine);
/// PEP 503 normalisation: lower case, runs of '-', '_', '.' become '-'.
std::string NormalizeDistName(std::string_view name);
/// The string assigned to `name` in Python source ("cuda: Optional[str] = '13.0'" → "13.0");
/// "" for None; nullopt when absent.
std::optional<std::string> FindPythonAssignment(std::string_view text, std::string_view name);
/// "'cuda_version': '12.3'" in tensorflow's build_info.py.
std::optional<std::string> FindDictString(std::string_view text, std::string_view key);

/// One [[layout]] row of data/wheel-layouts.toml.
struct WheelLayout {
  std::string framework;
  int cuda_major = 0;
  bool preload = false;  ///< kind = "preload": the framework dlopens the wheel paths itself
  bool rpath = false;    ///< kind = "rpath": the dirs are DT_RPATH (searched before LD_LIBRARY_PATH)
  std::string importer;  ///< relative to site-packages
  std::vector<std::string> needed, runpath;
  std::string source;
};
/// One [[library]] row: the wheels that ship a library.
struct LibraryWheels {
  std::string prefix;  ///< "libcudnn.so"
  std::vector<std::string> wheels;
};
struct WheelLayouts {
  std::vector<WheelLayout> layouts;
  std::vector<LibraryWheels> libraries;
};
/// Parses the wheel-layouts.toml text; kMalformed with toml++'s message on error.
Result<WheelLayouts> ParseWheelLayouts(std::string_view text);

/// Frameworks found in an env's dists, with what each would load (python_frameworks.cc).
std::vector<Framework> ProbeFrameworks(const Root& root, const LoaderSearch& search,
                                       const WheelLayouts& layouts, const PythonEnv& env);

}  // namespace dlrig
