// Subprocesses: argument vector (never a shell), a deadline, capped output.
// A seam: tests hand probes a fake runner that records what was asked.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "core/result.h"

namespace dlrig {

struct ExecResult {
  int exit_code = -1;  ///< exit status, or 128+signal when killed by a signal
  std::string out;     ///< stdout, at most the cap
  std::string err;     ///< stderr, at most the cap
  bool truncated = false;
};

struct ExecOptions {
  std::chrono::milliseconds deadline{3000};
  size_t max_output_bytes = 256 * 1024;
};

class CommandRunner {
 public:
  virtual ~CommandRunner() = default;
  /// Runs argv[0] (searched on PATH when it has no '/'). kNotFound when it does not exist,
  /// kTimeout when the deadline passes (the process group is killed).
  virtual Result<ExecResult> Run(const std::vector<std::string>& argv,
                                 const ExecOptions& options = {}) const = 0;
};

/// Runs real processes with fork/exec.
class SystemRunner : public CommandRunner {
 public:
  Result<ExecResult> Run(const std::vector<std::string>& argv,
                         const ExecOptions& options = {}) const override;
};

/// Refuses everything (foreign roots: nothing of the host may answer for them).
class NoRunner : public CommandRunner {
 public:
  Result<ExecResult> Run(const std::vector<std::string>& argv,
                         const ExecOptions& options = {}) const override;
};

}  // namespace dlrig
