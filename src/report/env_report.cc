#include "report/env_report.h"

#include <fmt/format.h>

namespace dlrig {
namespace {

std::string Joined(const std::vector<std::string>& items) {
  return items.empty() ? "none" : fmt::format("{}", fmt::join(items, ", "));
}

json PathEntriesJson(const std::vector<PathEntry>& entries) {
  json list = json::array();
  for (auto& e : entries) list.push_back({{"dir", e.dir}, {"exists", e.exists}, {"note", e.note}});
  return list;
}

void RenderPathEntries(TextWriter& out, const char* name, const std::vector<PathEntry>& entries) {
  if (entries.empty()) {
    out.Item(name, "unset");
    return;
  }
  out.Item(name, fmt::format("{} entr{}", entries.size(), entries.size() == 1 ? "y" : "ies"));
  for (auto& e : entries)
    out.Detail(e.note.empty() ? e.dir : e.dir + "  (" + e.note + ")",
               e.exists ? Colour::kDim : Colour::kYellow);
}

json ToolJson(const std::optional<ToolVersion>& tool) {
  if (!tool) return json{{"unavailable", "not_found"}, {"reason", "not on PATH"}};
  return json{{"path", tool->path}, {"version", FactJson(tool->version)}};
}

void RenderTool(TextWriter& out, const char* name, const std::optional<ToolVersion>& tool) {
  if (!tool) out.Item(name, "not on PATH");
  else if (tool->version) out.Item(name, *tool->version + "  " + tool->path);
  else out.Unknown(name, tool->version.error());
}

}  // namespace

void RenderContainers(TextWriter& out, const ContainerFacts& f) {
  out.Section("containers");
  out.Item("docker client", f.docker_client.value_or("not on PATH"));
  if (f.podman_client) out.Item("podman client", *f.podman_client);
  if (f.daemon) {
    out.Item("docker daemon", "running, version " + f.daemon->server_version);
    out.Detail("runtimes: " + Joined(f.daemon->runtimes) + "; default: " + f.daemon->default_runtime);
    if (!f.daemon->cdi_spec_dirs.empty()) out.Detail("CDI spec dirs: " + Joined(f.daemon->cdi_spec_dirs));
  } else {
    out.Unknown("docker daemon", f.daemon.error());
  }
  if (f.daemon_json) {
    out.Item("daemon.json", "runtimes: " + Joined(f.daemon_json->runtimes) + "; default-runtime: " +
                                (f.daemon_json->default_runtime.empty() ? "unset"
                                                                        : f.daemon_json->default_runtime));
  } else if (f.daemon_json.error().kind != ErrorKind::kNotFound) {
    out.Unknown("daemon.json", f.daemon_json.error());
  } else {
    out.Item("daemon.json", "absent");
  }
  std::vector<std::string> tools;
  for (auto& [name, path] : f.nvidia_tools) tools.push_back(name);
  out.Item("nvidia toolkit", tools.empty() ? "not installed (no nvidia-ctk / nvidia-container-cli)"
                                           : Joined(tools));
  if (f.nvidia_runtime_mode) out.Item("runtime mode", *f.nvidia_runtime_mode);
  if (f.cdi_specs.empty()) out.Item("CDI specs", "none in /etc/cdi or /var/run/cdi");
  for (auto& spec : f.cdi_specs) {
    if (spec) out.Item("CDI spec", fmt::format("{} {} ({} devices)", spec->path, spec->kind, spec->devices.size()));
    else out.Unknown("CDI spec", spec.error());
  }
}

void RenderShell(TextWriter& out, const ShellFacts& f) {
  out.Section("shell");
  for (auto& [name, value] : f.variables) out.Item(name, value.size() > 120 ? value.substr(0, 117) + "..." : value);
  RenderPathEntries(out, "PATH", f.path);
  RenderPathEntries(out, "LD_LIBRARY_PATH", f.ld_library_path);
  for (auto& l : f.startup_lines)
    out.Item("start-up " + l.kind, fmt::format("{}:{}  {}", l.file, l.line, l.text));
  RenderTool(out, "gcc", f.gcc);
  RenderTool(out, "cmake", f.cmake);
}

json ContainersJson(const ContainerFacts& f) {
  json j;
  j["docker_client"] = f.docker_client ? json(*f.docker_client) : json(nullptr);
  j["podman_client"] = f.podman_client ? json(*f.podman_client) : json(nullptr);
  j["docker_socket"] = f.docker_socket;
  if (f.daemon)
    j["daemon"] = {{"server_version", f.daemon->server_version}, {"runtimes", f.daemon->runtimes},
                   {"default_runtime", f.daemon->default_runtime},
                   {"cdi_spec_dirs", f.daemon->cdi_spec_dirs}};
  else
    j["daemon"] = UnavailableJson(f.daemon.error());
  if (f.daemon_json) {
    j["daemon_json"] = {{"runtimes", f.daemon_json->runtimes},
                        {"default_runtime", f.daemon_json->default_runtime}};
    j["daemon_json"]["cdi_enabled"] =
        f.daemon_json->cdi_enabled ? json(*f.daemon_json->cdi_enabled) : json(nullptr);
  } else {
    j["daemon_json"] = UnavailableJson(f.daemon_json.error());
  }
  j["nvidia_tools"] = json::object();
  for (auto& [name, path] : f.nvidia_tools) j["nvidia_tools"][name] = path;
  j["nvidia_runtime_mode"] = FactJson(f.nvidia_runtime_mode);
  j["cdi_specs"] = json::array();
  for (auto& spec : f.cdi_specs)
    j["cdi_specs"].push_back(spec ? json{{"path", spec->path}, {"kind", spec->kind},
                                         {"devices", spec->devices}}
                                  : UnavailableJson(spec.error()));
  return j;
}

json ShellJson(const ShellFacts& f) {
  json j;
  j["variables"] = json::object();
  for (auto& [name, value] : f.variables) j["variables"][name] = value;
  j["path"] = PathEntriesJson(f.path);
  j["ld_library_path"] = PathEntriesJson(f.ld_library_path);
  j["startup_files_read"] = f.startup_files_read;
  j["startup_lines"] = json::array();
  for (auto& l : f.startup_lines)
    j["startup_lines"].push_back({{"file", l.file}, {"line", l.line}, {"kind", l.kind}, {"text", l.text}});
  j["gcc"] = ToolJson(f.gcc);
  j["cmake"] = ToolJson(f.cmake);
  return j;
}

}  // namespace dlrig
