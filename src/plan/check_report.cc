#include "plan/check_report.h"

#include <fmt/format.h>

#include "cli/commands.h"

namespace dlrig {

namespace {

std::optional<Version> ShownDriverCuda(const MachineSpec& machine) {
  const auto& drivers = CudaDrivers::BuiltIn();
  return drivers ? DriverCuda(machine, *drivers) : machine.driver_cuda;
}

}  // namespace

std::string MachineLine(const MachineSpec& machine) {
  std::vector<std::string> parts;
  for (const PlanGpu& g : machine.gpus)
    parts.push_back(g.compute_capability ? fmt::format("{} (compute capability {})", g.name,
                                                       g.compute_capability->text)
                                         : g.name);
  if (machine.gpus.empty()) parts.push_back("no NVIDIA GPU known");
  auto cuda = ShownDriverCuda(machine);
  if (machine.driver)
    parts.push_back(
        fmt::format("driver {}{}", machine.driver->text, cuda ? " (CUDA " + cuda->text + ")" : ""));
  else
    parts.push_back("no driver known: driver checks skipped");
  parts.push_back(machine.nvcc ? "nvcc " + machine.nvcc->text : "no nvcc");
  return fmt::format("{}", fmt::join(parts, ", "));
}

std::string CheckText(const MachineSpec& machine, const std::vector<CheckedFile>& files) {
  std::string out = fmt::format("checked against {}: {}\n", machine.origin, MachineLine(machine));
  for (const CheckedFile& f : files) {
    out += fmt::format("\n{}{}\n", f.path, f.kind.empty() ? "" : " (" + f.kind + ")");
    if (!f.error.empty()) {
      out += "  cannot check: " + f.error + "\n";
      continue;
    }
    if (f.findings.empty()) out += "  ok: every line can work here\n";
    for (const CheckFinding& c : f.findings) {
      out += fmt::format("  {:<7} {}:{}  {}\n", SeverityName(c.severity), c.at.file, c.at.line,
                         c.at.text.str());
      out += fmt::format("          {} [{}]\n", c.what, c.id);
      if (!c.why.empty()) out += "          why: " + c.why + "\n";
      if (!c.source.empty()) out += "          source: " + c.source + "\n";
      if (!c.replacement.empty()) out += "          change to: " + c.replacement + "\n";
      if (!c.fix.empty())
        out +=
            "          " + std::string(c.replacement.empty() ? "fix: " : "also: ") + c.fix + "\n";
    }
  }
  return out;
}

nlohmann::ordered_json CheckJson(const MachineSpec& machine,
                                 const std::vector<CheckedFile>& files) {
  using json = nlohmann::ordered_json;
  json gpus = json::array();
  for (const PlanGpu& g : machine.gpus)
    gpus.push_back({{"name", g.name},
                    {"compute_capability",
                     g.compute_capability ? json(g.compute_capability->text) : json(nullptr)}});
  auto cuda = ShownDriverCuda(machine);
  json doc = {{"schema", "dlrig.check/1"},
              {"machine",
               {{"origin", machine.origin},
                {"gpus", gpus},
                {"driver", machine.driver ? json(machine.driver->text) : json(nullptr)},
                {"driver_cuda", cuda ? json(cuda->text) : json(nullptr)},
                {"nvcc", machine.nvcc ? json(machine.nvcc->text) : json(nullptr)}}}};
  json list = json::array();
  int errors = 0, warnings = 0;
  for (const CheckedFile& f : files) {
    json findings = json::array();
    for (const CheckFinding& c : f.findings) {
      errors += c.severity == Severity::kError;
      warnings += c.severity == Severity::kWarning;
      findings.push_back(
          {{"id", c.id},
           {"severity", SeverityName(c.severity)},
           {"file", c.at.file},
           {"line", c.at.line},
           {"text", c.at.text.str()},
           {"what", c.what},
           {"why", c.why},
           {"source", c.source},
           {"replacement", c.replacement.empty() ? json(nullptr) : json(c.replacement)},
           {"fix", c.fix.empty() ? json(nullptr) : json(c.fix)}});
    }
    list.push_back({{"path", f.path},
                    {"type", f.kind.empty() ? json(nullptr) : json(f.kind)},
                    {"error", f.error.empty() ? json(nullptr) : json(f.error)},
                    {"findings", findings}});
  }
  doc["files"] = list;
  doc["summary"] = {
      {"errors", errors}, {"warnings", warnings}, {"exit_code", CheckExitCode(files)}};
  return doc;
}

int CheckExitCode(const std::vector<CheckedFile>& files) {
  int code = kExitHealthy;
  for (const CheckedFile& f : files) {
    if (!f.error.empty()) return kExitUsage;
    for (const CheckFinding& c : f.findings)
      code = std::max(code, c.severity == Severity::kError     ? int(kExitErrors)
                            : c.severity == Severity::kWarning ? int(kExitWarnings)
                                                               : int(kExitHealthy));
  }
  return code;
}

}  // namespace dlrig
