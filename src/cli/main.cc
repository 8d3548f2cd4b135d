// dlrig: entry point. Everything else lives in dlrig_lib.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "cli/commands.h"

namespace {

void PrintUsage(FILE* out) {
  std::fprintf(out,
               "dlrig %s — diagnose, plan and verify NVIDIA deep-learning machines\n\n"
               "usage: dlrig <command> [options]   (dlrig <command> --help for its options)\n\n"
               "commands:\n",
               DLRIG_VERSION);
  for (const auto& cmd : dlrig::Commands()) std::fprintf(out, "  %-10s %s\n", cmd.name, cmd.summary);
  std::fprintf(out,
               "\nexit codes: 0 healthy, 1 warnings, 2 errors, 64 usage, 70 internal error\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    PrintUsage(stderr);
    return dlrig::kExitUsage;
  }
  std::string name = argv[1];
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
    std::vector<std::string> args(argv + 2, argv + argc);
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
