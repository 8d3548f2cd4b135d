#include "probe/python.h"

#include <algorithm>
#include <regex>

#include "core/strings.h"
#include "core/version.h"
#include "knowledge/data_files.h"

namespace dlrig {
namespace {

constexpr size_t kMaxPyvenvCfg = 64 * 1024;
const char* const kUsualBinDirs[] = {"/usr/local/bin", "/usr/bin", "/bin"};
const char* const kFrameworkDists[] = {"torch", "tensorflow", "tensorflow-cpu", "tf-nightly",
                                       "jax",   "jaxlib",     "paddlepaddle",   "paddlepaddle-gpu"};

// Dists whose Requires-Dist the rules judge: frameworks, and packages that pin a framework or
// the nvidia-* wheels exactly. Read for these only: a METADATA is tens of kilobytes.
const char* const kPinningDists[] = {
    "torch",     "torchvision",       "torchaudio",        "jax",              "jaxlib",
    "jax-cuda12-plugin", "jax-cuda13-plugin", "jax-cuda12-pjrt", "jax-cuda13-pjrt",
    "tensorflow", "vllm",             "xformers",          "flash-attn"};
constexpr size_t kMaxMetadataBytes = 4u << 20;

bool IsInterpreterName(const std::string& name) {
  static const std::regex kName(R"(python3(\.[0-9]+)?)");
  return std::regex_match(name, kName);
}

class EnvCollector {
 public:
  explicit EnvCollector(const Root& root) : root_(root) {}

  // Adds (or merges into) the env at `prefix`; the kind comes from what is there.
  enum class KnownConda { kNo, kYes };
  PythonEnv* Add(const std::string& raw, const std::string& origin, bool active,
                 KnownConda known_conda = KnownConda::kNo) {
    std::string prefix = NormalizePath(raw);
    PythonEnvKind kind = PythonEnvKind::kSystem;
    if (root_.Exists(JoinPath(prefix, "pyvenv.cfg")))
      kind = PythonEnvKind::kVenv;
    else if (root_.IsDir(JoinPath(prefix, "conda-meta")) || known_conda == KnownConda::kYes)
      kind = PythonEnvKind::kConda;  // a listed env we may not look into still counts
    else if (origin != "--env" && origin != "VIRTUAL_ENV")
      return nullptr;
    PythonEnv* env = Find(prefix);
    if (!env) {
      envs_.push_back(PythonEnv{});
      env = &envs_.back();
      env->prefix = prefix;
      env->kind = kind == PythonEnvKind::kSystem ? PythonEnvKind::kVenv : kind;
    }
    if (std::find(env->origins.begin(), env->origins.end(), origin) == env->origins.end())
      env->origins.push_back(origin);
    env->active = env->active || active;
    return env;
  }
  PythonEnv& AddSystem(const std::string& prefix, const std::string& xy, bool active) {
    for (PythonEnv& e : envs_)
      if (e.kind == PythonEnvKind::kSystem && e.prefix == prefix &&
          e.python_version.value_or("") == xy) {
        e.active = e.active || active;
        return e;
      }
    envs_.push_back(PythonEnv{});
    PythonEnv& env = envs_.back();
    env.prefix = prefix;
    env.kind = PythonEnvKind::kSystem;
    env.origins = {"PATH"};
    env.active = active;
    env.python_version = xy;
    env.python_version_source = "interpreter file name";
    return env;
  }
  PythonEnv* Find(const std::string& prefix) {
    for (PythonEnv& e : envs_)
      if (e.prefix == prefix && e.kind != PythonEnvKind::kSystem) return &e;
    return nullptr;
  }
  std::vector<PythonEnv> Take() { return std::move(envs_); }

 private:
  const Root& root_;
  std::vector<PythonEnv> envs_;
};

std::vector<std::string> SearchDirs(const ProbeContext& ctx) {
  std::vector<std::string> dirs;
  for (const std::string& d : ctx.env.GetList("PATH"))
    if (!d.empty() && d[0] == '/' && std::find(dirs.begin(), dirs.end(), d) == dirs.end())
      dirs.push_back(d);
  for (const char* d : kUsualBinDirs)
    if (std::find(dirs.begin(), dirs.end(), d) == dirs.end()) dirs.push_back(d);
  return dirs;
}

// A real interpreter binary (ELF, or a 0-byte placeholder in a capture); pyenv/asdf shims
// are scripts that only pick another interpreter, so they define no environment.
bool IsBinary(const Root& root, const std::string& path) {
  auto file = root.OpenFile(path);
  if (!file) return false;
  if (file->size_bytes() == 0) return true;
  char magic[4];
  return file->ReadAt(0, magic, sizeof magic) && std::string_view(magic, 4) ==
                                                     "\x7f"
                                                     "ELF";
}

// Interpreters in PATH order; venv/conda bin dirs become envs, the rest system envs.
void ScanPath(const ProbeContext& ctx, EnvCollector& envs, PythonFacts& facts) {
  bool first = true;  // the first python3 on PATH is the one a shell runs
  for (const std::string& dir : SearchDirs(ctx)) {
    bool env_bin = EndsWith(dir, "/bin") && envs.Add(DirName(dir), "PATH", first) != nullptr;
    auto entries = ctx.root.ListDir(dir);
    bool has_python = false;
    for (const DirEntry& e : entries ? *entries : std::vector<DirEntry>{}) {
      if (!IsInterpreterName(e.name)) continue;
      PythonInterpreter in;
      in.path = JoinPath(dir, e.name);
      in.resolved = ctx.root.Resolve(in.path);
      std::string file = BaseName(in.resolved.value_or(in.path));
      if (IsInterpreterName(file) && file != "python3")
        in.version = file.substr(6);
      else
        in.version = Fail(ErrorKind::kNotFound, "interpreter file name has no X.Y");
      if (!env_bin && in.version && in.resolved && IsBinary(ctx.root, *in.resolved))
        envs.AddSystem(DirName(DirName(*in.resolved)), *in.version, first && e.name == "python3");
      has_python = has_python || e.name == "python3";
      facts.interpreters.push_back(std::move(in));
    }
    if (env_bin || has_python) first = false;
  }
}

void ReadVenvConfig(const Root& root, PythonEnv& env) {
  auto text = root.ReadFile(JoinPath(env.prefix, "pyvenv.cfg"), kMaxPyvenvCfg);
  if (!text) {
    env.python_version = tl::unexpected(text.error());
    return;
  }
  auto kv = ParseKeyValues(*text);
  if (auto v = Lookup(kv, "version_info"))
    env.python_version = *v;
  else if (auto v2 = Lookup(kv, "version"))
    env.python_version = *v2;
  if (env.python_version) env.python_version_source = "pyvenv.cfg";
  if (auto inc = Lookup(kv, "include-system-site-packages"))
    env.include_system_site_packages = ToLower(*inc) == "true";
}

// "3.12" from lib/python3.12 when nothing better said it.
void VersionFromLibDir(const Root& root, PythonEnv& env) {
  if (env.python_version) return;
  auto entries = root.ListDir(JoinPath(env.prefix, "lib"));
  if (!entries) return;
  for (const DirEntry& e : *entries) {
    if (StartsWith(e.name, "python3.") && IsInterpreterName(e.name)) {
      env.python_version = e.name.substr(6);
      env.python_version_source = "lib/" + e.name + " directory";
      return;
    }
  }
}

void ReadCondaPackages(const Root& root, PythonEnv& env) {
  auto all = ListCondaPackages(root, env.prefix);
  if (!all) {
    env.conda_packages = tl::unexpected(all.error());
    return;
  }
  std::vector<CondaPackage> cuda;
  for (CondaPackage& p : *all) {
    if (p.name == "python" && !env.python_version) {
      env.python_version = p.version;
      env.python_version_source = "conda-meta";
    }
    if (IsCondaCudaPackage(p.name)) cuda.push_back(std::move(p));
  }
  env.conda_packages = std::move(cuda);
}

std::string MajorMinor(const Result<std::string>& version) {
  auto v = version ? Version::Parse(*version) : std::nullopt;
  return v ? v->MajorMinor() : "";
}

std::vector<std::string> CandidateSiteDirs(const PythonEnv& env) {
  std::string xy = MajorMinor(env.python_version);
  if (xy.empty()) return {};
  std::string py = "python" + xy;
  if (env.kind != PythonEnvKind::kSystem)
    return {JoinPath(env.prefix, "lib/" + py + "/site-packages")};
  return {"/usr/local/lib/" + py + "/dist-packages", "/usr/local/lib/" + py + "/site-packages",
          "/usr/lib/python3/dist-packages", "/usr/lib/" + py + "/site-packages",
          JoinPath(env.prefix, "lib/" + py + "/site-packages")};
}

Result<std::vector<PythonDist>> ListDists(const Root& root, const std::string& site_dir) {
  auto entries = root.ListDir(site_dir);
  if (!entries) return tl::unexpected(entries.error());
  std::vector<PythonDist> dists;
  for (const DirEntry& e : *entries) {
    auto d = ParseDistInfoName(e.name);
    if (!d) continue;
    d->site_dir = site_dir;
    if (EndsWith(e.name, ".dist-info") &&
        std::find(std::begin(kPinningDists), std::end(kPinningDists), d->name) != std::end(kPinningDists))
      if (auto meta = root.ReadFile(JoinPath(JoinPath(site_dir, e.name), "METADATA"), kMaxMetadataBytes))
        d->requirements = ParseRequiresDist(*meta);
    dists.push_back(std::move(*d));
  }
  return dists;
}

void ReadSitePackages(const Root& root, PythonEnv& env) {
  std::vector<PythonDist> all;
  std::optional<Error> first_error;
  for (const std::string& dir : CandidateSiteDirs(env)) {
    if (std::find(env.site_dirs.begin(), env.site_dirs.end(), dir) != env.site_dirs.end()) continue;
    auto dists = ListDists(root, dir);
    if (!dists) {
      if (dists.error().kind != ErrorKind::kNotFound && !first_error) first_error = dists.error();
      continue;
    }
    env.site_dirs.push_back(dir);
    all.insert(all.end(), dists->begin(), dists->end());
  }
  if (env.site_dirs.empty())
    env.dists = first_error ? tl::unexpected(*first_error)
                            : Fail(ErrorKind::kNotFound, "no site-packages directory found");
  else
    env.dists = std::move(all);
  if (!env.dists) return;
  for (const PythonDist& d : *env.dists)
    if (StartsWith(d.name, "nvidia-")) env.nvidia_wheels.push_back(d);
}

UserSite JudgeUserSite(const ProbeContext& ctx, const PythonEnv& env, const std::string& home,
                       UserSite site) {
  if (env.kind == PythonEnvKind::kVenv && !env.include_system_site_packages.value_or(false)) {
    site.why = "venv without include-system-site-packages: user site disabled";
  } else if (ctx.env.Get("PYTHONNOUSERSITE")) {
    site.why = "PYTHONNOUSERSITE is set";
  } else if (ctx.env.Get("HOME").value_or("") != home) {
    site.why = "applies to the user whose home is " + home;
  } else {
    site.applies = true;
    site.why = "imported before the env's site-packages (user site enabled)";
  }
  return site;
}

void ReadUserSites(const ProbeContext& ctx, PythonEnv& env) {
  std::string xy = MajorMinor(env.python_version);
  if (xy.empty()) return;
  for (const std::string& home : HomeDirs(ctx.root)) {
    UserSite site;
    site.path = home + "/.local/lib/python" + xy + "/site-packages";
    auto dists = ListDists(ctx.root, site.path);
    if (!dists) continue;
    for (const PythonDist& d : *dists)
      if (std::find(std::begin(kFrameworkDists), std::end(kFrameworkDists), d.name) !=
              std::end(kFrameworkDists) ||
          StartsWith(d.name, "nvidia-"))
        site.packages.push_back(d.name + " " + d.version);
    if (!site.packages.empty()) env.user_sites.push_back(JudgeUserSite(ctx, env, home, site));
  }
}

void FillEnv(const ProbeContext& ctx, const LoaderSearch& search, const WheelLayouts& layouts,
             PythonEnv& env) {
  // A prefix we cannot enter (or that is gone): every fact carries that reason.
  if (auto listing = ctx.root.ListDir(env.prefix); !listing) {
    env.python_version = tl::unexpected(listing.error());
    env.dists = tl::unexpected(listing.error());
    if (env.kind == PythonEnvKind::kConda) env.conda_packages = tl::unexpected(listing.error());
    return;
  }
  if (env.kind == PythonEnvKind::kVenv && ctx.root.Exists(JoinPath(env.prefix, "pyvenv.cfg")))
    ReadVenvConfig(ctx.root, env);
  if (env.kind == PythonEnvKind::kConda) ReadCondaPackages(ctx.root, env);
  VersionFromLibDir(ctx.root, env);
  ReadSitePackages(ctx.root, env);
  ReadUserSites(ctx, env);
  env.frameworks = ProbeFrameworks(ctx.root, search, layouts, env);
}

}  // namespace

const char* PythonEnvKindName(PythonEnvKind kind) {
  switch (kind) {
    case PythonEnvKind::kSystem:
      return "system";
    case PythonEnvKind::kVenv:
      return "venv";
    case PythonEnvKind::kConda:
      return "conda";
  }
  return "unknown";
}

PythonFacts ProbePython(const ProbeContext& ctx, const LoaderConfig& loader) {
  PythonFacts facts;
  EnvCollector envs(ctx.root);
  if (auto v = ctx.env.Get("VIRTUAL_ENV")) envs.Add(*v, "VIRTUAL_ENV", true);
  if (auto c = ctx.env.Get("CONDA_PREFIX")) envs.Add(*c, "CONDA_PREFIX", true);
  for (const std::string& e : ctx.extra_envs) envs.Add(e, "--env", false);
  ScanPath(ctx, envs, facts);
  for (const CondaEnvRef& ref : FindCondaEnvs(ctx))
    for (const std::string& origin : ref.origins)
      envs.Add(ref.prefix, origin, false, EnvCollector::KnownConda::kYes);

  WheelLayouts layouts;
  auto text = DataFileText("wheel-layouts.toml");
  auto parsed = text ? ParseWheelLayouts(*text) : tl::unexpected(text.error());
  if (parsed)
    layouts = std::move(*parsed);
  else
    facts.problems.push_back("wheel-layouts.toml: " + parsed.error().message);

  LoaderSearch search;
  search.config = &loader;
  search.ld_library_path = ctx.env.GetList("LD_LIBRARY_PATH");
  search.lib_dst = DetectLibDst(ctx.root, 62);
  facts.envs = envs.Take();
  for (PythonEnv& env : facts.envs) FillEnv(ctx, search, layouts, env);
  return facts;
}

}  // namespace dlrig
