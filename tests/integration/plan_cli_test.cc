// dlrig plan end to end: exit codes, no files left behind on failure, and the generated files
// checked by the real tools: bash -n, shellcheck, python3's yaml/json parsers, and pip resolving
// requirements.txt against PyPI in a fresh venv (--dry-run: metadata only, no wheel installed).
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "cli_run.h"

namespace dlrig {
namespace {

namespace fs = std::filesystem;

using testing::CliRun;

CliRun Exec(std::vector<std::string> argv, int timeout_ms = 60000) {
  return testing::RunCli(argv, std::chrono::milliseconds(timeout_ms));
}

/// plan from the tables alone (--offline): these tests check exit codes and files, not the
/// resolver (tests/integration/plan_resolve_test.cc runs it).
CliRun Plan(std::vector<std::string> args) {
  args.insert(args.begin(), {DLRIG_BINARY, "plan", "--offline"});
  return Exec(args);
}

fs::path FreshDir(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / ("dlrig-plan-it-" + std::to_string(::getpid()) + "-" + name);
  fs::remove_all(dir);
  return dir;
}

bool HasShellcheck() { return std::system("command -v shellcheck >/dev/null 2>&1") == 0; }

TEST(PlanCli, BadInputExitsWithUsageOrNoStackAndWritesNothing) {
  fs::path dir = FreshDir("bad");
  CliRun unknown = Plan({"torch", "--gpu", "RTX 9999 Super", "-o", dir.string()});
  EXPECT_EQ(unknown.exit_code, 64);
  EXPECT_NE(unknown.err.find("did you mean"), std::string::npos) << unknown.err;
  CliRun malformed = Plan({"torch==two", "--gpu", "RTX 4090", "-o", dir.string()});
  EXPECT_EQ(malformed.exit_code, 64);
  CliRun impossible = Plan({"torch==2.8", "--gpu", "RTX 3090", "--driver", "470.82", "-o", dir.string()});
  EXPECT_EQ(impossible.exit_code, 2) << impossible.err;
  EXPECT_NE(impossible.err.find("--upgrade-driver"), std::string::npos) << impossible.err;
  EXPECT_FALSE(fs::exists(dir));
}

TEST(PlanCli, ExistingFilesNeedForce) {
  fs::path dir = FreshDir("force");
  fs::create_directories(dir);
  std::ofstream(dir / "requirements.txt") << "mine\n";
  CliRun first = Plan({"torch", "--gpu", "RTX 4090", "--driver", "580.95.05", "-o", dir.string()});
  EXPECT_EQ(first.exit_code, 64) << first.err;
  EXPECT_FALSE(fs::exists(dir / "setup.sh"));
  CliRun forced = Plan({"torch", "--gpu", "RTX 4090", "--driver", "580.95.05", "-o", dir.string(), "--force"});
  EXPECT_EQ(forced.exit_code, 0) << forced.err;
  EXPECT_TRUE(fs::exists(dir / "setup.sh"));
  fs::remove_all(dir);
}

// Every target's files, checked by the tools that will run them.
TEST(PlanCli, GeneratedFilesPassTheirTools) {
  struct Case { std::string name; std::vector<std::string> args; };
  const std::vector<Case> cases = {
      {"venv", {"torch", "torchvision", "--gpu", "GTX 1080 Ti", "--driver", "580.95.05"}},
      {"conda", {"torch", "torchaudio", "--gpu", "RTX 3090", "--driver", "535.183.01", "--cuda", "12.1", "--target", "conda", "--compile"}},
      {"docker", {"torch", "flash-attn", "--gpu", "RTX 4090", "--driver", "535.183.01", "--target", "devcontainer"}},
      {"system", {"torch", "apex", "--gpu", "V100", "--driver", "418.87", "--upgrade-driver", "--target", "system", "--os", "ubuntu-22.04"}},
      {"tensorflow", {"tensorflow", "--gpu", "RTX 3090", "--driver", "535.183.01", "--os", "ubuntu-22.04"}},
      {"docker-550", {"torch", "--gpu", "RTX 3090", "--driver", "550.54", "--target", "docker"}},
      {"uv-python", {"torch", "torchaudio", "--gpu", "RTX 4090", "--driver", "580.95.05", "--os", "ubuntu-20.04"}},
      {"debian-driver", {"torch", "--gpu", "RTX 5090", "--os", "debian-12", "--target", "conda"}},
      {"debian-no-gpu", {"torch", "deepspeed", "--os", "debian-12"}},
      {"rhel-compile", {"torch", "--gpu", "RTX 4090", "--os", "rhel-9", "--compile"}},
  };
  for (const Case& c : cases) {
    fs::path dir = FreshDir(c.name);
    std::vector<std::string> args = c.args;
    args.insert(args.end(), {"-o", dir.string()});
    CliRun run = Plan(args);
    ASSERT_EQ(run.exit_code, 0) << c.name << ": " << run.err;
    for (const char* sh : {"setup.sh", "docker-run.sh"}) {
      if (!fs::exists(dir / sh)) continue;
      EXPECT_EQ(Exec({"bash", "-n", (dir / sh).string()}).exit_code, 0) << c.name << " " << sh;
      if (HasShellcheck()) {
        CliRun sc = Exec({"shellcheck", (dir / sh).string()});
        EXPECT_EQ(sc.exit_code, 0) << c.name << " " << sh << ":\n" << sc.out;
      }
    }
    if (fs::exists(dir / "environment.yml")) {
      CliRun y = Exec({"python3", "-c", "import sys,yaml; d=yaml.safe_load(open(sys.argv[1])); "
                                       "assert d['dependencies'], d", (dir / "environment.yml").string()});
      EXPECT_EQ(y.exit_code, 0) << y.err;
    }
    if (fs::exists(dir / ".devcontainer/devcontainer.json")) {
      // devcontainer.json is JSON with comments: the header lines are // comments.
      CliRun j = Exec({"python3", "-c", "import sys,json; t=open(sys.argv[1]).read(); "
                                       "json.loads(''.join(l for l in t.splitlines(True) if not l.startswith('//')))",
                      (dir / ".devcontainer/devcontainer.json").string()});
      EXPECT_EQ(j.exit_code, 0) << j.err;
    }
    fs::remove_all(dir);
  }
  if (!HasShellcheck()) GTEST_SKIP() << "shellcheck is not installed (apt-get install shellcheck); bash -n ran";
}

// The variants PyPI itself serves (no --index-url): pip must resolve the pins against PyPI.
TEST(PlanCli, PypiRequirementsResolveWithPip) {
  fs::path dir = FreshDir("pip");
  CliRun run = Plan({"torch", "torchvision", "--gpu", "H100", "--driver", "580.95.05", "--cuda", "13.0",
                     "--python", "3.11", "-o", dir.string()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  std::ifstream in(dir / "requirements.txt");
  std::string req((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_EQ(req.find("--index-url"), std::string::npos) << "expected PyPI's own variant:\n" << req;
  fs::path venv = dir / "venv";
  ASSERT_EQ(Exec({"python3", "-m", "venv", venv.string()}).exit_code, 0);
  CliRun pip = Exec({(venv / "bin/python").string(), "-m", "pip", "install", "--dry-run",
                    "--ignore-installed", "--quiet", "--report", "-", "-r", (dir / "requirements.txt").string()},
                   300000);
  if (pip.exit_code != 0 && pip.err.find("Python") != std::string::npos &&
      pip.err.find("Requires-Python") != std::string::npos)
    GTEST_SKIP() << "this python3 is outside torch's range: " << pip.err.substr(0, 300);
  ASSERT_EQ(pip.exit_code, 0) << pip.err.substr(0, 2000);
  EXPECT_NE(pip.out.find("\"name\": \"torch\""), std::string::npos) << pip.out.substr(0, 500);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace dlrig
