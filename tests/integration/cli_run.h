// Running the dlrig binary (or any program) from an integration test.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "core/exec.h"

namespace dlrig::testing {

struct CliRun {
  int exit_code = -1;
  std::string out, err;
};

/// Runs `argv` (the program first) under `timeout`, output capped at 64 MiB. A program that
/// could not be run gives exit_code -1 and the reason in `err`.
inline CliRun RunCli(const std::vector<std::string>& argv,
                     std::chrono::milliseconds timeout = std::chrono::milliseconds(60000)) {
  SystemRunner runner;
  auto r = runner.Run(argv, ExecOptions{timeout, 64u << 20});
  if (!r) return {-1, "", r.error().message};
  return {r->exit_code, r->out, r->err};
}

}  // namespace dlrig::testing
