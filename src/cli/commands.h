// The table of subcommands: it drives dispatch and --help.
#pragma once

#include <span>
#include <string>
#include <vector>

namespace dlrig {

/// Process exit codes (DESIGN.md).
enum ExitCode : int {
  kExitHealthy = 0,
  kExitWarnings = 1,
  kExitErrors = 2,
  kExitUsage = 64,
  kExitInternal = 70,
};


struct Command {
  const char* name;
  const char* summary;
  int (*run)(const std::vector<std::string>& args);
};

/// All subcommands, in the order --help lists them.
std::span<const Command> Commands();

int RunDoctor(const std::vector<std::string>& args);
int RunCapture(const std::vector<std::string>& args);
int RunExplain(const std::vector<std::string>& args);
int RunKb(const std::vector<std::string>& args);
int RunGpus(const std::vector<std::string>& args);
int RunTop(const std::vector<std::string>& args);
int RunHistory(const std::vector<std::string>& args);
int RunServe(const std::vector<std::string>& args);
int RunPlan(const std::vector<std::string>& args);
int RunCheck(const std::vector<std::string>& args);
int RunBench(const std::vector<std::string>& args);

}  // namespace dlrig
