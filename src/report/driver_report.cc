#include "report/driver_report.h"

#include <fmt/format.h>

#include "core/strings.h"
#include "core/version.h"
#include "report/gpu_report.h"

namespace dlrig {
namespace {

const char* SecureBootText(SecureBoot s) {
  switch (s) {
    case SecureBoot::kEnabled: return "enabled";
    case SecureBoot::kDisabled: return "disabled";
    case SecureBoot::kNoEfi: return "not applicable (no EFI: legacy BIOS boot)";
  }
  return "?";
}

const char* SecureBootName(SecureBoot s) {
  switch (s) {
    case SecureBoot::kEnabled: return "enabled";
    case SecureBoot::kDisabled: return "disabled";
    case SecureBoot::kNoEfi: return "no_efi";
  }
  return "?";
}

std::string NodeText(const DeviceNode& n) {
  std::string dev = n.major >= 0 ? fmt::format("{:>3}:{:<3}", n.major, n.minor) : "       ";
  return fmt::format("{} {} {} {} {}", ModeText(n.type, n.mode), n.owner, n.group, dev, n.path);
}

void RenderModules(TextWriter& out, const KernelDriverFacts& f) {
  if (!f.loaded) return out.Unknown("loaded modules", f.loaded.error());
  std::vector<std::string> names;
  bool nouveau = false;
  for (auto& m : *f.loaded) {
    names.push_back(m.name);
    nouveau |= m.name == "nouveau";
  }
  out.Item("loaded modules", names.empty() ? "none of nvidia*, nouveau"
                                           : fmt::format("{}", fmt::join(names, ", ")));
  std::string config = f.nouveau.blacklisted ? "blacklisted" : "not blacklisted";
  if (f.nouveau.modeset_off) config += ", modeset=0";
  out.Item("nouveau", std::string(nouveau ? "LOADED" : "not loaded") + "; " + config,
           nouveau ? Colour::kYellow : Colour::kNone);
  for (auto& e : f.nouveau.evidence) out.Detail(e);
}

void RenderModuleFiles(TextWriter& out, const KernelDriverFacts& f) {
  out.Fact("running kernel", f.running_kernel, [](const std::string& k) { return k; });
  if (!f.module_files) {
    out.Unknown("module for kernel", f.module_files.error());
  } else {
    out.Item("module for kernel", f.module_files->empty() ? "no nvidia*.ko for this kernel"
                                                          : (*f.module_files)[0]);
    for (size_t i = 1; i < f.module_files->size(); ++i) out.Detail((*f.module_files)[i]);
  }
  if (!f.dkms) {
    out.Unknown("dkms", f.dkms.error());
    return;
  }
  if (f.dkms->empty()) out.Item("dkms", "no nvidia module registered");
  for (auto& b : *f.dkms)
    out.Item("dkms", fmt::format("{}/{} for {} ({}) {}", b.module, b.version, b.kernel, b.arch,
                                 b.installed ? "installed" : "built, not installed"));
}

void RenderDevices(TextWriter& out, const KernelDriverFacts& f) {
  if (!f.devices) return out.Unknown("device nodes", f.devices.error());
  if (f.devices->empty()) return out.Item("device nodes", "no /dev/nvidia* in " + f.devices_source);
  out.Item("device nodes", fmt::format("{} from {}", f.devices->size(), f.devices_source));
  for (auto& n : *f.devices) out.Detail(NodeText(n));
}

std::string FileText(const DriverLibraryFile& f) {
  std::string real = f.real_path ? BaseName(*f.real_path)
                                 : std::string("unreadable: ") + ErrorKindName(f.real_path.error().kind);
  std::string version = f.kind == DriverFileKind::kStub ? "not a driver"
                        : f.version                       ? *f.version
                                                          : "version ?";
  std::string where = fmt::format("{}", fmt::join(f.found_by, ", "));
  return fmt::format("{} → {} ({}, {}) [{}]", f.path, real, version, DriverFileKindName(f.kind),
                     where);
}

void RenderCalls(TextWriter& out, const LibraryAnswers& a) {
  for (auto& c : a.calls) {
    if (c.code && *c.code == 0) continue;
    std::string code = c.code ? std::to_string(*c.code) : "-";
    out.Detail(fmt::format("{} → {}{}: {}", c.function, code, c.name.empty() ? "" : " " + c.name,
                           c.message), Colour::kYellow);
  }
}

void RenderAnswers(TextWriter& out, const char* key, const LibraryAnswers& a, bool nvml) {
  if (!a.loaded_path) {
    out.Item(key, fmt::format("dlopen(\"{}\") failed: {}", a.requested,
                              a.loaded_path.error().message), Colour::kYellow);
    return;
  }
  std::vector<std::string> parts;
  if (nvml && a.driver_version) parts.push_back("driver " + *a.driver_version);
  if (a.cuda_driver_version) parts.push_back("CUDA " + CudaVersionFromInt(*a.cuda_driver_version));
  if (a.device_count) parts.push_back(fmt::format("{} device(s)", *a.device_count));
  out.Item(key, fmt::format("loaded {}{}{}", *a.loaded_path, parts.empty() ? "" : ": ",
                            fmt::join(parts, ", ")));
  RenderCalls(out, a);
}

json AnswersJson(const LibraryAnswers& a) {
  json calls = json::array();
  for (auto& c : a.calls)
    calls.push_back({{"function", c.function}, {"code", c.code ? json(*c.code) : json(nullptr)},
                     {"name", c.name}, {"message", c.message}});
  return {{"requested", a.requested},       {"loaded_path", FactJson(a.loaded_path)},
          {"calls", calls},                 {"driver_version", FactJson(a.driver_version)},
          {"nvml_version", FactJson(a.nvml_version)},
          {"cuda_driver_version", FactJson(a.cuda_driver_version)},
          {"device_count", FactJson(a.device_count)}};
}

json NvmlAnswersJson(const LibraryAnswers& a) {
  json j = AnswersJson(a);
  j["devices"] = json::array();
  for (auto& g : a.devices) j["devices"].push_back(GpuJson(g));
  return j;
}

std::string XidText(const XidEvent& e) {
  std::string when = e.since_boot_s ? fmt::format("[{:.1f} s] ", *e.since_boot_s)
                     : e.wall_time.empty() ? ""
                                           : "[" + e.wall_time + "] ";
  return fmt::format("{}{} Xid {}: {}", when, e.pci_address, e.xid, e.text);
}

}  // namespace

std::string ModeText(char type, uint32_t mode) {
  std::string s(1, type);
  const char* rwx = "rwxrwxrwx";
  for (int i = 0; i < 9; ++i) s += (mode & (1u << (8 - i))) ? rwx[i] : '-';
  return s;
}

void RenderKernelDriver(TextWriter& out, const KernelDriverFacts& f) {
  out.Section("kernel driver");
  out.Fact("nvidia module", f.proc_version, [](const NvidiaProcVersion& v) {
    return v.version + (v.open_module ? " (open kernel module)" : " (proprietary kernel module)");
  });
  if (f.proc_version && !f.proc_version->gcc.empty())
    out.Detail("built with " + f.proc_version->gcc);
  out.Fact("/sys/module/nvidia", f.module_version, [](const std::string& v) { return v; });
  RenderModules(out, f);
  RenderModuleFiles(out, f);
  out.Fact("secure boot", f.secure_boot, [](SecureBoot s) { return SecureBootText(s); });
  RenderDevices(out, f);
  if (!f.gpus) return out.Unknown("driver gpus", f.gpus.error());
  for (auto& g : *f.gpus) out.Item("gpu " + g.bus_id, g.model + "  " + g.uuid);
}

void RenderUserDriver(TextWriter& out, const UserDriverFacts& f) {
  out.Section("user-space driver");
  for (auto& pick : f.picks) {
    auto& r = pick.resolution;
    if (r.path)
      out.Item(pick.soname, fmt::format("loader picks {} ({})", *r.path, LoaderStepName(r.step)));
    else
      out.Item(pick.soname, "not found by the loader: " + r.path.error().message, Colour::kYellow);
  }
  if (f.files.empty()) out.Item("files", "no libcuda / libnvidia-ml anywhere the loader looks");
  for (auto& file : f.files)
    out.Item(file.on_loader_path ? "file" : "file (off path)", FileText(file),
             file.kind == DriverFileKind::kDriver ? Colour::kNone : Colour::kDim);
  if (!f.query) return out.Unknown("dlopen", f.query.error());
  RenderAnswers(out, "nvml", f.query->nvml, true);
  for (auto& g : f.query->nvml.devices) RenderGpu(out, g);
  RenderAnswers(out, "libcuda", f.query->cuda, false);
}

void RenderKernelLog(TextWriter& out, const KernelLogFacts& f) {
  if (!f.source) return out.Unknown("kernel log", f.source.error());
  out.Item("kernel log", fmt::format("{}: {} NVIDIA line(s), {} Xid event(s) this boot", *f.source,
                                     f.lines.size(), f.xids.size() + f.xids_dropped),
           f.xids.empty() ? Colour::kNone : Colour::kYellow);
  constexpr size_t kShown = 5;  // the newest; the rest are in --json
  size_t first = f.xids.size() > kShown ? f.xids.size() - kShown : 0;
  for (size_t i = first; i < f.xids.size(); ++i) out.Detail(XidText(f.xids[i]), Colour::kYellow);
}

json KernelLogJson(const KernelLogFacts& f) {
  json xids = json::array();
  for (auto& e : f.xids)
    xids.push_back({{"pci_address", e.pci_address},
                    {"xid", e.xid},
                    {"text", e.text},
                    {"since_boot_s", e.since_boot_s ? json(*e.since_boot_s) : json(nullptr)},
                    {"wall_time", e.wall_time},
                    {"line", e.line}});
  return {{"source", FactJson(f.source)}, {"lines", f.lines.size()}, {"xids", xids},
          {"xids_dropped", f.xids_dropped}};
}

json KernelDriverJson(const KernelDriverFacts& f) {
  json j;
  if (f.proc_version)
    j["proc_version"] = {{"version", f.proc_version->version},
                         {"open_module", f.proc_version->open_module},
                         {"gcc", f.proc_version->gcc},
                         {"first_line", f.proc_version->first_line}};
  else
    j["proc_version"] = UnavailableJson(f.proc_version.error());
  j["module_version"] = FactJson(f.module_version);
  if (f.loaded) {
    j["loaded_modules"] = json::array();
    for (auto& m : *f.loaded)
      j["loaded_modules"].push_back({{"name", m.name}, {"size_bytes", m.size_bytes},
                                     {"state", m.state}, {"used_by", m.used_by}});
  } else {
    j["loaded_modules"] = UnavailableJson(f.loaded.error());
  }
  j["nouveau"] = {{"blacklisted", f.nouveau.blacklisted}, {"modeset_off", f.nouveau.modeset_off},
                  {"evidence", f.nouveau.evidence}};
  j["running_kernel"] = FactJson(f.running_kernel);
  j["module_files"] = FactJson(f.module_files);
  if (f.dkms) {
    j["dkms"] = json::array();
    for (auto& b : *f.dkms)
      j["dkms"].push_back({{"module", b.module}, {"version", b.version}, {"kernel", b.kernel},
                           {"arch", b.arch}, {"installed", b.installed}});
  } else {
    j["dkms"] = UnavailableJson(f.dkms.error());
  }
  j["secure_boot"] = f.secure_boot ? json(SecureBootName(*f.secure_boot))
                                   : UnavailableJson(f.secure_boot.error());
  j["secure_boot_source"] = f.secure_boot_source;
  if (f.devices) {
    j["devices"] = json::array();
    for (auto& n : *f.devices)
      j["devices"].push_back({{"path", n.path}, {"mode", ModeText(n.type, n.mode)},
                              {"owner", n.owner}, {"group", n.group},
                              {"major", n.major >= 0 ? json(n.major) : json(nullptr)},
                              {"minor", n.minor >= 0 ? json(n.minor) : json(nullptr)}});
  } else {
    j["devices"] = UnavailableJson(f.devices.error());
  }
  j["devices_source"] = f.devices_source;
  if (f.gpus) {
    j["gpus"] = json::array();
    for (auto& g : *f.gpus) {
      json fields = json::object();
      for (auto& [k, v] : g.fields) fields[k] = v;
      j["gpus"].push_back({{"bus_id", g.bus_id}, {"model", g.model}, {"uuid", g.uuid},
                           {"fields", fields}});
    }
  } else {
    j["gpus"] = UnavailableJson(f.gpus.error());
  }
  return j;
}

json UserDriverJson(const UserDriverFacts& f) {
  json j;
  j["loader_picks"] = json::array();
  for (auto& p : f.picks)
    j["loader_picks"].push_back(
        {{"soname", p.soname}, {"path", FactJson(p.resolution.path)},
         {"step", p.resolution.path ? LoaderStepName(p.resolution.step) : ""}});
  j["files"] = json::array();
  for (auto& file : f.files)
    j["files"].push_back({{"path", file.path}, {"library", file.library},
                          {"real_path", FactJson(file.real_path)},
                          {"version", FactJson(file.version)},
                          {"kind", DriverFileKindName(file.kind)}, {"found_by", file.found_by},
                          {"on_loader_path", file.on_loader_path}});
  if (f.query)
    j["dlopen"] = {{"nvml", NvmlAnswersJson(f.query->nvml)}, {"cuda", AnswersJson(f.query->cuda)}};
  else
    j["dlopen"] = UnavailableJson(f.query.error());
  return j;
}

}  // namespace dlrig
