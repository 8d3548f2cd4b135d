// What the inventory-reading subcommands share: --root, --env, --probes, and the context
// built from them.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "core/environment.h"
#include "core/exec.h"
#include "core/root.h"
#include "probe/context.h"

namespace dlrig {

struct SessionOptions {
  std::string root = "/";
  std::vector<std::string> envs;
  bool no_dlopen = false;
};

/// Adds --root, --env and --no-dlopen to `app`.
void AddSessionOptions(CLI::App& app, SessionOptions& options);

/// Everything a probe needs, owned in one place.
class Session {
 public:
  /// Opens the root; prints a clear message and returns nullopt when it cannot.
  static std::unique_ptr<Session> Open(const SessionOptions& options);
  ProbeContext context() const;
  const Root& root() const { return root_; }
  Root& mutable_root() { return root_; }

 private:
  Session(Root root, Environment env, std::unique_ptr<CommandRunner> runner, SessionOptions opts)
      : root_(std::move(root)), env_(std::move(env)), runner_(std::move(runner)),
        options_(std::move(opts)) {}
  Root root_;
  Environment env_;
  std::unique_ptr<CommandRunner> runner_;
  SessionOptions options_;
};

/// Parses `args` with `app`; returns an exit code when parsing ended the command
/// (--help: 0, bad usage: 64), nullopt to go on.
std::optional<int> ParseArgs(CLI::App& app, const std::vector<std::string>& args);

}  // namespace dlrig
