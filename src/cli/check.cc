// dlrig check FILE...: will a project's environment files work on this machine?
#include <cstdio>

#include "cli/commands.h"
#include "cli/session.h"
#include "core/json_dump.h"
#include "plan/check_report.h"
#include "probe/inventory.h"

namespace dlrig {

int RunCheck(const std::vector<std::string>& args) {
  CLI::App app(
      "Read a project's environment.yml, requirements.txt, pyproject.toml, Dockerfile or "
      "docker-compose.yml and report each line that cannot work on this machine (or a "
      "--root tree, or a described one), with the line that would.",
      "dlrig check");
  SessionOptions options;
  MachineDescription described;
  std::vector<std::string> paths;
  std::string type, nvcc;
  bool as_json = false;
  AddSessionOptions(app, options);
  app.add_option("files", paths, "the files to check")->required();
  app.add_option("--type", type,
                 "read every FILE as conda, requirements, pyproject, dockerfile or compose");
  app.add_option("--gpu", described.gpu,
                 "check for a described GPU instead of this machine (\"RTX 4090\")");
  app.add_option("--cc", described.cc,
                 "describe a GPU the catalogue lacks by its compute capability (8.6)");
  app.add_option("--memory", described.memory, "the described GPU's memory in GB (24)");
  app.add_option("--driver", described.driver, "the described machine's driver (535.183)");
  app.add_option("--os", described.os, "the described machine's OS (ubuntu-22.04)");
  app.add_option("--nvcc", nvcc, "the described machine has a CUDA toolkit of this version (12.1)");
  app.add_flag("--json", as_json, "machine-readable output (schema dlrig.check/1)");
  if (auto done = ParseArgs(app, args)) return *done;

  std::optional<ProjectFileKind> kind;
  if (!type.empty() && !(kind = ParseProjectFileKind(type))) {
    std::fprintf(
        stderr,
        "dlrig check: --type %s: use conda, requirements, pyproject, dockerfile or compose\n",
        type.c_str());
    return kExitUsage;
  }
  MachineSpec machine;
  bool describe =
      described.Given() || !nvcc.empty();
  if (describe) {
    if (options.root != "/") {
      std::fprintf(stderr,
                   "dlrig check: --root and --gpu/--cc/--driver/--os/--nvcc describe the machine twice; "
                   "give one\n");
      return kExitUsage;
    }
    auto spec = DescribeMachine(described);
    if (!spec) {
      std::fprintf(stderr, "dlrig check: %s\n", spec.error().message.c_str());
      return kExitUsage;
    }
    machine = *spec;
    for (const std::string& note : machine.notes)
      std::fprintf(stderr, "dlrig check: %s\n", note.c_str());
    if (!nvcc.empty() && !(machine.nvcc = Version::Parse(nvcc))) {
      std::fprintf(stderr, "dlrig check: --nvcc %s is not a version\n", nvcc.c_str());
      return kExitUsage;
    }
  } else {
    auto session = Session::Open(options);
    if (!session) return kExitUsage;
    machine = MachineFromInventory(CollectInventory(session->context()));
  }
  auto kb = BuiltInCheckKnowledge();
  if (!kb) {
    std::fprintf(stderr, "dlrig check: knowledge table unreadable: %s\n",
                 kb.error().message.c_str());
    return kExitInternal;
  }
  std::vector<CheckedFile> files;
  for (const std::string& path : paths) {
    CheckedFile f{.path = path};
    auto facts = LoadProjectFile(path, kind);
    if (!facts) {
      f.error = facts.error().message;
      std::fprintf(stderr, "dlrig check: %s\n", f.error.c_str());
    } else {
      f.kind = ProjectFileKindName(facts->kind);
      f.findings = CheckProject(*facts, machine, *kb);
    }
    files.push_back(std::move(f));
  }
  std::string text = as_json ? DumpJson(CheckJson(machine, files)) + "\n" : CheckText(machine, files);
  std::fwrite(text.data(), 1, text.size(), stdout);
  return CheckExitCode(files);
}

}  // namespace dlrig
