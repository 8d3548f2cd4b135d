// --json: the resolved stack, schema dlrig.plan/1.
#include "plan/emit_json.h"

#include "plan/emit.h"

namespace dlrig {
namespace {

json VersionOrNull(const std::optional<Version>& v) { return v ? json(v->text) : json(nullptr); }

const char* PythonSourceName(PythonSource s) {
  switch (s) {
    case PythonSource::kRequested: return "requested";
    case PythonSource::kMachine: return "machine";
    case PythonSource::kOs: return "os";
    case PythonSource::kUv: return "uv";
    case PythonSource::kConda: return "conda";
    case PythonSource::kImage: return "image";
    case PythonSource::kUnknown: return "unknown";
  }
  return "unknown";
}

json ResolutionJson(const Plan& p) {
  const Resolution& r = p.resolution;
  json packages = json::array();
  for (const ResolvedPackage& pkg : r.packages)
    packages.push_back({{"name", pkg.name}, {"version", pkg.version}, {"url", pkg.url},
                        {"requested", pkg.requested}});
  return json{{"ran", r.ran},
              {"offline", r.offline || r.verdict.empty()},
              {"tool", r.tool.empty() ? json(nullptr) : json(r.tool)},
              {"verdict", r.verdict.empty() ? json("offline") : json(r.verdict)},
              {"message", r.message.empty() ? json("no resolver was run") : json(r.message)},
              {"interpreter", r.interpreter.empty() ? json(nullptr) : json(r.interpreter)},
              {"command", r.command},
              {"packages", packages}};
}

}  // namespace

json PlanJson(const Plan& p) {
  json gpus = json::array();
  for (const PlanGpu& g : p.machine.gpus)
    gpus.push_back({{"name", g.name},
                    {"compute_capability", VersionOrNull(g.compute_capability)},
                    {"architecture", g.architecture}});
  json decisions = json::array();
  for (const Decision& d : p.decisions)
    decisions.push_back({{"topic", d.topic}, {"choice", d.choice}, {"why", d.why}, {"source", d.source}});
  json driver = nullptr;
  if (p.driver)
    driver = {{"package", p.driver->Package()}, {"branch", p.driver->branch},
              {"open_module", p.driver->open_module}, {"cuda", VersionOrNull(p.driver->cuda)},
              {"distribution_package", p.driver->distro_package_runs}};
  return json{
      {"schema", "dlrig.plan/1"},
      {"request", p.request.Text()},
      {"target", TargetName(p.request.target)},
      {"machine",
       {{"origin", p.machine.origin},
        {"gpus", gpus},
        {"driver", VersionOrNull(p.machine.driver)},
        {"driver_cuda", VersionOrNull(p.machine.driver_cuda)},
        {"os", p.machine.os_id.empty() ? json(nullptr) : json(p.machine.os_id + "-" + p.machine.os_version)}}},
      {"stack",
       {{"python", p.python.parts.empty() ? json(nullptr) : json(p.python.text)},
        {"python_source", PythonSourceName(p.python_source)},
        {"os", p.os ? json(p.os->Name()) : json(nullptr)},
        {"torch", VersionOrNull(p.torch)},
        {"variant", p.variant.empty() ? json(nullptr) : json(p.variant)},
        {"cuda", VersionOrNull(p.cuda)},
        {"index_url", p.index_url.empty() ? json(nullptr) : json(p.index_url)},
        {"index_lines", RequirementIndexLines(p)},
        {"constraints", p.constraints},
        {"requirements", p.requirements},
        {"build_requirements", p.build_requirements},
        {"driver_install", driver},
        {"toolkit", VersionOrNull(p.toolkit)},
        {"newest_gcc", p.newest_gcc ? json(*p.newest_gcc) : json(nullptr)},
        {"docker_image", p.docker_image.empty() ? json(nullptr) : json(p.docker_image)}}},
      {"resolver", ResolutionJson(p)},
      {"decisions", decisions},
      {"notes", p.notes},
  };
}

}  // namespace dlrig
