// --kb DIR is the user's data: a table there that does not load is a clear message and exit
// 64 (usage and data errors), before any command runs on it. Before, `kb` exited 70 (an
// internal error) on bad TOML and `doctor` ran without the table, silently, exit 0.
#include <gtest/gtest.h>

#include "../unit/test_util.h"
#include "cli_run.h"

namespace dlrig {
namespace {

using testing::CliRun;

CliRun Dlrig(std::vector<std::string> args) {
  args.insert(args.begin(), DLRIG_BINARY);
  return testing::RunCli(args);
}

struct BadTable {
  const char* file;
  const char* text;
  const char* said;  ///< part of the loader's reason
};

constexpr BadTable kBadTables[] = {
    {"gpus.toml", "[[gpu]\nname = 'x'\n", "gpus.toml"},              // TOML syntax
    {"gpus.toml", "title = 'no rows'\n", "has no [sources] table"},  // the loader's structure
    {"findings.toml", "[[[\n", "line 1"},                            // toml++'s assertion
    {"wheel-layouts.toml", "x = \"\xff\"\n", "non-ASCII"},           // refused before toml++
};

TEST(KbCli, ATableThatDoesNotLoadIsAUsageError) {
  for (const BadTable& bad : kBadTables) {
    testing::TempTree kb;
    kb.Write(bad.file, bad.text);
    std::string path = (kb.dir() / bad.file).string();
    testing::TempTree root;  // doctor reads an empty tree: nothing else can fail
    for (std::vector<std::string> args :
         {std::vector<std::string>{"--kb", kb.dir().string(), "kb"},
          {"--kb", kb.dir().string(), "doctor", "--root", root.dir().string()},
          {"doctor", "--json", "--root", root.dir().string(), "--kb=" + kb.dir().string()}}) {
      CliRun run = Dlrig(args);
      EXPECT_EQ(run.exit_code, 64) << bad.file << " " << args[2] << ": " << run.err;
      EXPECT_NE(run.err.find("cannot use --kb " + kb.dir().string()), std::string::npos) << run.err;
      EXPECT_NE(run.err.find(path), std::string::npos) << run.err;
      EXPECT_NE(run.err.find(bad.said), std::string::npos) << run.err;
      EXPECT_EQ(run.out, "") << args[2];
    }
  }
}

// An unreadable file in DIR (a directory in a table's name here, so that root sees it too).
TEST(KbCli, AnUnreadableTableIsAUsageError) {
  testing::TempTree kb;
  kb.Mkdir("gpus.toml");
  CliRun run = Dlrig({"--kb", kb.dir().string(), "doctor", "--root", kb.dir().string()});
  EXPECT_EQ(run.exit_code, 64) << run.err;
  EXPECT_NE(run.err.find("gpus.toml"), std::string::npos) << run.err;
}

TEST(KbCli, TheBuiltInTablesAllLoad) {
  CliRun run = Dlrig({"kb"});
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_EQ(run.out.find("unreadable"), std::string::npos) << run.out;
}

}  // namespace
}  // namespace dlrig
