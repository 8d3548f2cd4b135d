#include "report/python_report.h"

#include <fmt/format.h>

#include "core/strings.h"

namespace dlrig {
namespace {

constexpr char kAssumedNote[] = "assumed from the wheel layout (library is a placeholder)";

std::string CudaText(const Result<std::string>& cuda) {
  if (!cuda) return "built for CUDA ? (" + cuda.error().message + ")";
  return cuda->empty() ? "CPU-only build" : "built for CUDA " + *cuda;
}

std::string LoadText(const LibraryLoad& load) {
  const LoaderResolution& r = load.resolution;
  if (!r.path) return load.soname + " -> not found (" + r.path.error().message + ")";
  std::string version = load.version ? *load.version + ", " + load.version_source : "version ?";
  bool preload = r.step == LoaderStep::kDirectPath && !load.layout_source.empty();
  return fmt::format("{} -> {} ({}; via {})", load.soname, *r.path, version,
                     preload ? "framework preload from the wheel" : LoaderStepName(r.step));
}

std::string WheelsText(const std::vector<PythonDist>& wheels) {
  std::vector<std::string> parts;
  for (const PythonDist& d : wheels)
    parts.push_back((StartsWith(d.name, "nvidia-") ? d.name.substr(7) : d.name) + " " + d.version);
  return fmt::format("{}", fmt::join(parts, ", "));
}

void RenderFramework(TextWriter& out, const Framework& fw) {
  std::string details = fw.details.empty() ? "" : fmt::format(" ({})", fmt::join(fw.details, ", "));
  out.Item(fw.name,
           fw.version.value_or("version ?") + ", " + CudaText(fw.built_for_cuda) + details);
  if (fw.loads_error)
    out.Detail("CUDA libraries it loads: unknown (" + fw.loads_error->message + ")",
               Colour::kYellow);
  for (const LibraryLoad& load : fw.loads) {
    out.Detail(LoadText(load), load.resolution.path ? Colour::kNone : Colour::kYellow);
    if (load.assumed_layout) out.Detail("  " + std::string(kAssumedNote));
  }
  if (fw.kernels) {
    if (*fw.kernels)
      out.Detail(fmt::format("GPU code in {}: {}", BaseName(fw.kernels_file), TargetNames(**fw.kernels)));
    else
      out.Detail(fmt::format("GPU code in {}: unreadable ({})", BaseName(fw.kernels_file),
                             fw.kernels->error().message), Colour::kYellow);
  }
}

void RenderEnv(TextWriter& out, const PythonEnv& env) {
  std::string header = fmt::format("{} {} ({}{})", PythonEnvKindName(env.kind), env.prefix,
                                   env.active ? "active; " : "", fmt::join(env.origins, ", "));
  out.Line(header, Colour::kBold);
  out.Fact("python", env.python_version, [&](const std::string& v) {
    return v + (env.python_version_source.empty() ? "" : " (" + env.python_version_source + ")");
  });
  if (!env.dists) out.Unknown("site-packages", env.dists.error());
  for (const Framework& fw : env.frameworks) RenderFramework(out, fw);
  if (!env.nvidia_wheels.empty()) out.Item("nvidia wheels", WheelsText(env.nvidia_wheels));
  if (env.conda_packages && !env.conda_packages->empty()) {
    std::vector<std::string> parts;
    for (const CondaPackage& p : *env.conda_packages)
      parts.push_back(p.name + " " + p.version + " " + p.build);
    out.Item("conda packages", fmt::format("{}", fmt::join(parts, ", ")));
  }
  for (const UserSite& site : env.user_sites)
    out.Item("user site",
             fmt::format("{}: {} ({})", site.path, fmt::join(site.packages, ", "), site.why),
             site.applies ? Colour::kYellow : Colour::kNone);
}

json LoadJson(const LibraryLoad& load) {
  json tried = json::array();
  for (const LoaderCandidate& c : load.resolution.tried)
    tried.push_back({{"path", c.path}, {"step", LoaderStepName(c.step)}, {"outcome", c.outcome}});
  json j{
      {"soname", load.soname},
      {"importer", load.importer},
      {"path", FactJson(load.resolution.path)},
      {"step", load.resolution.path ? json(LoaderStepName(load.resolution.step)) : json(nullptr)},
      {"placeholder", load.resolution.placeholder},
      {"assumed_layout", load.assumed_layout},
      {"version", FactJson(load.version)},
      {"version_source", load.version_source},
      {"tried", tried}};
  if (load.assumed_layout) j["note"] = kAssumedNote;
  if (!load.layout_source.empty()) j["layout_source"] = load.layout_source;
  if (load.resolution.symbols) {
    if (*load.resolution.symbols) {
      json missing = json::array();
      for (const auto& m : (*load.resolution.symbols)->missing_symbols)
        missing.push_back(m.name + "@" + m.version);
      j["symbols"] = {{"missing_versions", (*load.resolution.symbols)->missing_versions},
                      {"missing_symbols", missing}};
    } else {
      j["symbols"] = FactJson(Result<int>(tl::unexpected(load.resolution.symbols->error())));
    }
  }
  return j;
}

// The GPU code in the framework's fatbin; null when not read.
json KernelsJson(const Framework& fw) {
  if (!fw.kernels) return nullptr;
  if (!*fw.kernels) return {{"file", fw.kernels_file}, {"unavailable", ErrorKindName(fw.kernels->error().kind)},
                            {"reason", fw.kernels->error().message}};
  json sass = json::array(), ptx = json::array();
  for (const auto& t : (*fw.kernels)->sass) sass.push_back(t.Name());
  for (const auto& t : (*fw.kernels)->ptx) ptx.push_back(t.Name());
  return {{"file", fw.kernels_file}, {"sass", sass}, {"ptx", ptx}};
}

json FrameworkJson(const Framework& fw) {
  json loads = json::array();
  for (const LibraryLoad& l : fw.loads) loads.push_back(LoadJson(l));
  return {{"name", fw.name},
          {"version", FactJson(fw.version)},
          {"built_for_cuda", FactJson(fw.built_for_cuda)},
          {"evidence", fw.evidence},
          {"details", fw.details},
          {"loads", loads},
          {"loads_error", fw.loads_error ? UnavailableJson(*fw.loads_error) : json(nullptr)},
          {"kernels", KernelsJson(fw)}};
}

json EnvJson(const PythonEnv& env) {
  json frameworks = json::array(), wheels = json::array(), sites = json::array();
  for (const Framework& fw : env.frameworks) frameworks.push_back(FrameworkJson(fw));
  for (const PythonDist& d : env.nvidia_wheels)
    wheels.push_back({{"name", d.name}, {"version", d.version}, {"site_dir", d.site_dir}});
  for (const UserSite& s : env.user_sites)
    sites.push_back(
        {{"path", s.path}, {"packages", s.packages}, {"applies", s.applies}, {"why", s.why}});
  json conda = json::array();
  if (env.conda_packages)
    for (const CondaPackage& p : *env.conda_packages)
      conda.push_back({{"name", p.name}, {"version", p.version}, {"build", p.build}});
  json j{{"prefix", env.prefix},
         {"kind", PythonEnvKindName(env.kind)},
         {"origins", env.origins},
         {"active", env.active},
         {"python_version", FactJson(env.python_version)},
         {"python_version_source", env.python_version_source},
         {"site_dirs", env.site_dirs}};
  if (env.include_system_site_packages)
    j["include_system_site_packages"] = *env.include_system_site_packages;
  if (!env.dists) j["site_packages"] = UnavailableJson(env.dists.error());
  j["frameworks"] = frameworks;
  j["nvidia_wheels"] = wheels;
  j["conda_packages"] = env.conda_packages ? conda : UnavailableJson(env.conda_packages.error());
  j["user_sites"] = sites;
  return j;
}

}  // namespace

void RenderPython(TextWriter& out, const PythonFacts& python) {
  out.Section("python");
  for (const PythonInterpreter& in : python.interpreters)
    out.Item("interpreter", fmt::format("{} -> {} ({})", in.path, in.resolved.value_or("?"),
                                        in.version ? "python " + *in.version : "version ?"));
  if (python.envs.empty()) out.Item("environments", "none found");
  for (const PythonEnv& env : python.envs) RenderEnv(out, env);
  for (const std::string& p : python.problems) out.Item("problem", p, Colour::kYellow);
}

json PythonJson(const PythonFacts& python) {
  json interpreters = json::array(), envs = json::array();
  for (const PythonInterpreter& in : python.interpreters)
    interpreters.push_back({{"path", in.path},
                            {"resolved", FactJson(in.resolved)},
                            {"version", FactJson(in.version)}});
  for (const PythonEnv& env : python.envs) envs.push_back(EnvJson(env));
  return {{"interpreters", interpreters}, {"environments", envs}, {"problems", python.problems}};
}

}  // namespace dlrig
