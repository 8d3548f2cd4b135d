// dlrig capture: save what doctor reads, so any machine becomes a test case.
#include <cstdio>

#include "capture/capture.h"
#include "cli/commands.h"
#include "cli/session.h"
#include "core/strings.h"

namespace dlrig {

int RunCapture(const std::vector<std::string>& args) {
  CLI::App app("Save everything doctor reads on this machine into a .tar.gz: text files with "
               "their content, libraries as empty placeholders keeping names and links. "
               "`dlrig doctor --root DIR` reads the unpacked tree.",
               "dlrig capture");
  SessionOptions options;
  std::string out = "dlrig-capture.tar.gz";
  app.add_option("-o,--output", out, "archive to write")->type_name("FILE.tar.gz");
  app.add_option("--env", options.envs, "also capture this venv or conda prefix (repeatable)")
      ->type_name("PATH");
  app.add_flag("--no-dlopen", options.no_dlopen, "never load driver libraries");
  if (auto done = ParseArgs(app, args)) return *done;

  auto session = Session::Open(options);
  if (!session) return kExitUsage;
  auto stats = WriteCapture(session->context(), session->mutable_root(), out);
  if (!stats) {
    std::fprintf(stderr, "dlrig capture: %s\n", stats.error().message.c_str());
    return kExitErrors;
  }
  std::printf("wrote %s: %zu files (%s), %zu placeholders, %zu links, %zu directories\n",
              out.c_str(), stats->files, HumanBytes(stats->bytes).c_str(), stats->placeholders,
              stats->links, stats->dirs);
  return kExitHealthy;
}

}  // namespace dlrig
