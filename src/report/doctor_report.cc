#include "report/doctor_report.h"

#include "report/env_report.h"
#include "report/findings_report.h"
#include "report/hardware_report.h"
#include "report/summary_report.h"
#include "report/python_report.h"
#include "report/driver_report.h"
#include "report/stack_report.h"

namespace dlrig {

std::string DoctorText(const Inventory& inv, const Findings& findings, bool colour) {
  TextWriter out(colour);
  if (inv.root != "/") out.Line("inspecting the tree at " + inv.root, Colour::kDim);
  RenderSummary(out, inv);
  RenderFindings(out, findings);
  RenderHardware(out, inv.host, inv.pci);
  RenderKernelDriver(out, inv.kernel_driver);
  RenderKernelLog(out, inv.kernel_log);
  RenderUserDriver(out, inv.user_driver);
  RenderToolkits(out, inv.toolkits);
  RenderLibraries(out, inv.libraries, inv.dpkg);
  RenderPython(out, inv.python);
  RenderContainers(out, inv.containers);
  RenderShell(out, inv.shell);
  return out.str();
}

json DoctorJson(const Inventory& inv, const Findings& findings) {
  json j;
  j["schema"] = kDoctorSchema;
  j["dlrig_version"] = DLRIG_VERSION;
  j["root"] = inv.root;
  j["summary"] = SummaryJson(inv);
  j["findings"] = FindingsJson(findings);
  j["hardware"] = {{"host", HostJson(inv.host)}, {"pci", PciJson(inv.pci)},
                   {"kernel_log", KernelLogJson(inv.kernel_log)}};
  j["kernel_driver"] = KernelDriverJson(inv.kernel_driver);
  j["user_driver"] = UserDriverJson(inv.user_driver);
  j["toolkits"] = ToolkitsJson(inv.toolkits);
  j["libraries"] = LibrariesJson(inv.libraries, inv.dpkg);
  j["python"] = PythonJson(inv.python);
  j["containers"] = ContainersJson(inv.containers);
  j["shell"] = ShellJson(inv.shell);
  j["timings_ms"] = json::object();
  for (auto& [name, ms] : inv.timings_ms) j["timings_ms"][name] = ms;
  return j;
}

}  // namespace dlrig
