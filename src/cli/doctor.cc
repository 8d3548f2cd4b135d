// dlrig doctor: inventory every layer and report it.
#include <chrono>
#include <cstdio>

#include "cli/commands.h"
#include "cli/session.h"
#include "core/json_dump.h"
#include "report/doctor_report.h"
#include "report/text.h"

namespace dlrig {

int RunDoctor(const std::vector<std::string>& args) {
  CLI::App app("Inventory every layer of the GPU stack: hardware, kernel driver, user-space "
               "driver, toolkits, libraries, Python environments, containers, shell.",
               "dlrig doctor");
  SessionOptions options;
  bool as_json = false, no_colour = false;
  AddSessionOptions(app, options);
  app.add_flag("--json", as_json, "machine-readable output (schema dlrig.doctor/1)");
  app.add_flag("--no-color", no_colour, "no colour even on a terminal");
  if (auto done = ParseArgs(app, args)) return *done;

  auto session = Session::Open(options);
  if (!session) return kExitUsage;
  Inventory inv = CollectInventory(session->context());
  auto start = std::chrono::steady_clock::now();
  Result<Findings> findings = DiagnoseBuiltIn(inv);
  std::chrono::duration<double, std::milli> rules_ms = std::chrono::steady_clock::now() - start;
  inv.timings_ms.emplace_back("rules", rules_ms.count());
  if (!findings) {
    std::fprintf(stderr, "dlrig doctor: internal error: %s\n", findings.error().message.c_str());
    return kExitInternal;
  }
  if (as_json) {
    std::string text = DumpJson(DoctorJson(inv, *findings));
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fputc('\n', stdout);
  } else {
    std::string text = DoctorText(inv, *findings, !no_colour && StdoutWantsColour());
    std::fwrite(text.data(), 1, text.size(), stdout);
  }
  return ExitCodeFor(*findings);
}

}  // namespace dlrig
