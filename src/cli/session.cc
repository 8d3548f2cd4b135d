#include "cli/session.h"

#include <cstdio>

#include "cli/commands.h"

namespace dlrig {

void AddSessionOptions(CLI::App& app, SessionOptions& options) {
  app.add_option("--root", options.root,
                 "inspect the tree at DIR (a capture or a mounted disk) instead of this machine")
      ->type_name("DIR");
  app.add_option("--env", options.envs, "also inspect this venv or conda prefix (repeatable)")
      ->type_name("PATH");
  app.add_flag("--no-dlopen", options.no_dlopen,
               "never load driver libraries (libcuda, libnvidia-ml), read files only");
}

std::unique_ptr<Session> Session::Open(const SessionOptions& options) {
  auto root = Root::Open(options.root);
  if (!root) {
    std::fprintf(stderr, "dlrig: cannot use --root %s: %s\n", options.root.c_str(),
                 root.error().message.c_str());
    return nullptr;
  }
  Environment env;
  std::unique_ptr<CommandRunner> runner;
  if (root->IsHost()) {
    env = Environment::FromProcess();
    runner = std::make_unique<SystemRunner>();
  } else {
    // A capture keeps its shell's variables in environ.txt at its top.
    if (auto text = root->ReadFile("/environ.txt", 1u << 20)) env = Environment::Parse(*text);
    runner = std::make_unique<NoRunner>();
  }
  return std::unique_ptr<Session>(
      new Session(std::move(*root), std::move(env), std::move(runner), options));
}

ProbeContext Session::context() const {
  return ProbeContext{root_, env_, *runner_, options_.envs,
                      root_.IsHost() && !options_.no_dlopen};
}

std::optional<int> ParseArgs(CLI::App& app, const std::vector<std::string>& args) {
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    return kExitHealthy;
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "%s: %s\n", app.get_name().c_str(), e.what());
    return kExitUsage;
  }
  return std::nullopt;
}

}  // namespace dlrig
