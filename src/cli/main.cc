// dlrig: entry point. Everything else lives in dlrig_lib.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/knowledge_check.h"
#include "knowledge/data_files.h"

namespace {

void PrintUsage(FILE* out) {
  std::fprintf(out,
               "dlrig %s — diagnose, plan and verify NVIDIA deep-learning machines\n\n"
               "usage: dlrig <command> [options]   (dlrig <command> --help for its options)\n\n"
               "commands:\n",
               DLRIG_VERSION);
  for (const auto& cmd : dlrig::Commands()) std::fprintf(out, "  %-10s %s\n", cmd.name, cmd.summary);
  std::fprintf(out, "\nglobal options:\n  --kb DIR   use the knowledge tables in DIR (*.toml) over the built-in ones\n");
  std::fprintf(out,
               "\nexit codes: 0 healthy, 1 warnings, 2 errors, 64 usage, 70 internal error\n");
}

// Takes --kb DIR / --kb=DIR out of `args` (it may come before or after the command) and loads
// that directory; false after printing why when it cannot, or when one of its tables does not
// load (a rule would otherwise skip that table without a word).
bool TakeKnowledgeDir(std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    std::string dir;
    if (args[i] == "--kb" && i + 1 < args.size()) {
      dir = args[i + 1];
      args.erase(args.begin() + i, args.begin() + i + 2);
    } else if (args[i].starts_with("--kb=")) {
      dir = args[i].substr(5);
      args.erase(args.begin() + i);
    } else {
      continue;
    }
    if (auto ok = dlrig::UseKnowledgeDir(dir); !ok) {
      std::fprintf(stderr, "dlrig: cannot use --kb %s: %s\n", dir.c_str(), ok.error().message.c_str());
      return false;
    }
    bool usable = true;
    for (const auto& problem : dlrig::KnowledgeTableProblems())
      if (problem.origin != "built in") {
        std::fprintf(stderr, "dlrig: cannot use --kb %s: %s does not load: %s\n", dir.c_str(),
                     problem.origin.c_str(), problem.error.message.c_str());
        usable = false;
      }
    return usable;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> all(argv + 1, argv + argc);
  if (!TakeKnowledgeDir(all)) return dlrig::kExitUsage;
  if (all.empty()) {
    PrintUsage(stderr);
    return dlrig::kExitUsage;
  }
  std::string name = all[0];
  if (name == "--help" || name == "-h" || name == "help") {
    PrintUsage(stdout);
    return dlrig::kExitHealthy;
  }
  if (name == "--version" || name == "-V") {
    std::printf("dlrig %s\n", DLRIG_VERSION);
    return dlrig::kExitHealthy;
  }
  for (const auto& cmd : dlrig::Commands()) {
    if (name != cmd.name) continue;
    std::vector<std::string> args(all.begin() + 1, all.end());
    try {
      return cmd.run(args);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "dlrig %s: internal error: %s\n", cmd.name, e.what());
      return dlrig::kExitInternal;
    }
  }
  std::fprintf(stderr, "dlrig: unknown command '%s'\n\n", name.c_str());
  PrintUsage(stderr);
  return dlrig::kExitUsage;
}
