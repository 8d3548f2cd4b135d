#include "report/stack_report.h"

#include <fmt/format.h>

#include "core/strings.h"

namespace dlrig {
namespace {

std::string VersionText(const Result<std::string>& version, const std::string& source) {
  if (!version) return "version unknown (" + version.error().message + ")";
  return *version + " (from " + source + ")";
}

json PackageJson(const DpkgPackage& p) {
  return {{"name", p.name}, {"version", p.version}, {"status", p.status}, {"held", p.held}};
}

}  // namespace

void RenderToolkits(TextWriter& out, const ToolkitFacts& f) {
  out.Section("toolkits");
  if (f.toolkits.empty()) out.Item("cuda toolkit", "none found outside Python environments");
  for (auto& tk : f.toolkits) {
    out.Item("cuda " + tk.path, VersionText(tk.version, tk.version_source));
    if (!tk.aliases.empty()) out.Detail(fmt::format("linked from {}", fmt::join(tk.aliases, ", ")));
    out.Detail(tk.nvcc ? "nvcc: " + *tk.nvcc : "no bin/nvcc");
    if (!tk.dpkg_package.empty()) out.Detail("dpkg: " + tk.dpkg_package);
  }
  if (f.nvcc_on_path.empty()) out.Item("nvcc on PATH", "none");
  else out.Item("nvcc on PATH", f.nvcc_on_path[0]);
  for (size_t i = 1; i < f.nvcc_on_path.size(); ++i) out.Detail("also " + f.nvcc_on_path[i]);
  for (auto& v : f.variables) {
    if (!v.value) out.Item(v.name, "unset");
    else out.Item(v.name, *v.value + (v.exists ? "" : " (does not exist)"),
                  v.exists ? Colour::kNone : Colour::kYellow);
  }
}

void RenderLibraries(TextWriter& out, const LibraryFacts& f, const DpkgFacts& dpkg) {
  out.Section("libraries");
  if (f.copies.empty()) out.Item("libraries", "no cuDNN, NCCL, cuBLAS or TensorRT found");
  for (auto& c : f.copies) {
    std::string value = c.version ? *c.version : "version unknown (" + c.version.error().message + ")";
    out.Item(c.library, fmt::format("{}  {} {}", value, c.kind == "header" ? "header" : "libs in",
                                    c.path));
  }
  if (!dpkg.packages) {
    out.Unknown("dpkg", dpkg.packages.error());
    return;
  }
  for (auto& p : f.packages)
    out.Item("package", p.name + " " + p.version + (p.held ? " (held)" : ""));
}

json ToolkitsJson(const ToolkitFacts& f) {
  json list = json::array();
  for (auto& tk : f.toolkits)
    list.push_back({{"path", tk.path},
                    {"aliases", tk.aliases},
                    {"version", FactJson(tk.version)},
                    {"version_source", tk.version_source},
                    {"nvcc", tk.nvcc ? json(*tk.nvcc) : json(nullptr)},
                    {"dpkg_package", tk.dpkg_package}});
  json vars = json::object();
  for (auto& v : f.variables)
    vars[v.name] = v.value ? json{{"value", *v.value}, {"exists", v.exists}} : json(nullptr);
  return {{"cuda", list}, {"nvcc_on_path", f.nvcc_on_path}, {"variables", vars}};
}

json LibrariesJson(const LibraryFacts& f, const DpkgFacts& dpkg) {
  json copies = json::array();
  for (auto& c : f.copies)
    copies.push_back({{"library", c.library},
                      {"kind", c.kind},
                      {"path", c.path},
                      {"files", c.files},
                      {"version", FactJson(c.version)},
                      {"version_source", c.version_source}});
  json packages = json::array();
  for (auto& p : f.packages) packages.push_back(PackageJson(p));
  json j = {{"copies", copies}, {"searched_dirs", f.searched_dirs}};
  j["dpkg_packages"] = dpkg.packages ? packages : UnavailableJson(dpkg.packages.error());
  return j;
}

}  // namespace dlrig
