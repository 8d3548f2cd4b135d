#include "report/doctor_report.h"

#include "report/env_report.h"
#include "report/hardware_report.h"
// [report-includes]

namespace dlrig {

std::string DoctorText(const Inventory& inv, bool colour) {
  TextWriter out(colour);
  if (inv.root != "/") out.Line("inspecting the tree at " + inv.root, Colour::kDim);
  RenderHardware(out, inv.host, inv.pci);
  // [report-text] (one call per layer, in layer order)
  RenderContainers(out, inv.containers);
  RenderShell(out, inv.shell);
  return out.str();
}

json DoctorJson(const Inventory& inv) {
  json j;
  j["schema"] = kDoctorSchema;
  j["dlrig_version"] = DLRIG_VERSION;
  j["root"] = inv.root;
  j["hardware"] = {{"host", HostJson(inv.host)}, {"pci", PciJson(inv.pci)}};
  // [report-json] (one key per layer: kernel_driver, user_driver, toolkits, libraries, python, containers, shell)
  j["containers"] = ContainersJson(inv.containers);
  j["shell"] = ShellJson(inv.shell);
  return j;
}

}  // namespace dlrig
