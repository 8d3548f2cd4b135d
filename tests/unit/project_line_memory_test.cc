// `check` on a Dockerfile with one long `RUN pip install` line: every package kept its own
// copy of the line (130 KB -> 1.3 GB RSS, 260 KB -> 5.1 GB); a one-line dependency list of
// pyproject.toml or environment.yml did the same. The line is held once now.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "plan/project_files.h"

namespace dlrig {
namespace {

/// A Dockerfile whose RUN line is about `bytes` long, one short package per ~13 bytes.
std::string LongRunLine(size_t bytes) {
  std::string text = "FROM nvidia/cuda:12.4.1-devel-ubuntu22.04\nRUN pip install";
  for (int i = 0; text.size() < bytes; ++i) text += " pkg" + std::to_string(i) + "==1.0";
  return text + "\n";
}

// In a child under an address-space limit, its peak RSS growth measured with getrusage: a
// quadratic parse dies there (bad_alloc) instead of taking the machine's memory. First in the
// file: a child inherits its parent's peak, so it must run before anything large.
TEST(DockerfileMemory, ParsingA260KbLineStaysUnder64MbOfRss) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "ASan reserves far more address space than the limit allows";
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  GTEST_SKIP() << "ASan reserves far more address space than the limit allows";
#endif
#endif
  std::string text = LongRunLine(260 << 10);
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(pipe_fds[0]);
    struct rusage before {
    }, after{};
    ::getrusage(RUSAGE_SELF, &before);
    // Room for what is mapped already plus 1 GiB: far above the bound, far below 5 GB.
    long long grown_kb = -1;
    {
      rlimit cap{};
      cap.rlim_cur = cap.rlim_max = RLIM_INFINITY;
      FILE* statm = std::fopen("/proc/self/statm", "r");
      unsigned long long pages = 0;
      if (statm != nullptr) {
        if (std::fscanf(statm, "%llu", &pages) != 1) pages = 0;
        std::fclose(statm);
      }
      if (pages > 0) {
        cap.rlim_cur = cap.rlim_max =
            pages * static_cast<unsigned long long>(::sysconf(_SC_PAGESIZE)) + (1ull << 30);
        ::setrlimit(RLIMIT_AS, &cap);
      }
      try {
        auto facts = ParseDockerfile(text, "Dockerfile");
        ::getrusage(RUSAGE_SELF, &after);
        if (facts) grown_kb = after.ru_maxrss - before.ru_maxrss;
      } catch (...) {
        grown_kb = -2;  // out of memory under the limit
      }
    }
    (void)!::write(pipe_fds[1], &grown_kb, sizeof grown_kb);
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  long long grown_kb = -3;
  ASSERT_EQ(::read(pipe_fds[0], &grown_kb, sizeof grown_kb), static_cast<ssize_t>(sizeof grown_kb));
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_GE(grown_kb, 0) << "-2: ran out of memory under a 1 GiB limit";
  EXPECT_LT(grown_kb, 64 << 10) << grown_kb << " KiB";
  std::printf("parsing a %zu-byte RUN line grew the peak RSS by %lld KiB\n", text.size(), grown_kb);
}

// Counting, the same in process: the bytes of distinct line buffers the facts hold stay within
// the file's size (before: packages x line length, 19,800 x 260 KB).
TEST(DockerfileMemory, OneCopyOfALongLineHowManyPackagesItNames) {
  std::string text = LongRunLine(260 << 10);
  auto facts = ParseDockerfile(text, "Dockerfile");
  ASSERT_TRUE(facts) << facts.error().message;
  ASSERT_EQ(facts->stages.size(), 1u);
  const auto& packages = facts->stages[0].packages;
  ASSERT_GT(packages.size(), 19000u);
  std::set<const char*> buffers;
  size_t held = 0;
  for (const PackageSpec& p : packages) {
    std::string_view line = p.at.text;
    ASSERT_EQ(line.size(), text.size() - text.find("RUN") - 1);  // the whole line, as before
    if (buffers.insert(line.data()).second) held += line.size();
  }
  EXPECT_LE(held, 2 * text.size()) << buffers.size() << " copies of the line";
}

/// Bytes of distinct line buffers held by `packages`.
size_t HeldLineBytes(const std::vector<PackageSpec>& packages) {
  std::set<const char*> buffers;
  size_t held = 0;
  for (const PackageSpec& p : packages) {
    std::string_view line = p.at.text;
    if (buffers.insert(line.data()).second) held += line.size();
  }
  return held;
}

TEST(ProjectLineMemory, OneLineDependencyListsOfPyprojectAndConda) {
  std::string deps, specs;
  for (int i = 0; i < 10000; ++i) {
    deps += (i ? ", " : "") + ("\"pkg" + std::to_string(i) + "==1.0\"");
    specs += (i ? ", " : "") + ("pkg" + std::to_string(i) + "=1.0");
  }
  std::string pyproject =
      "[project]\nname = \"x\"\nversion = \"1\"\ndependencies = [" + deps + "]\n";
  auto py = ParsePyproject(pyproject, "pyproject.toml");
  ASSERT_TRUE(py) << py.error().message;
  ASSERT_EQ(py->packages.size(), 10000u);
  EXPECT_LE(HeldLineBytes(py->packages), 2 * pyproject.size());
  std::string conda = "name: x\ndependencies: [" + specs + "]\n";
  auto env = ParseCondaEnvironment(conda, "environment.yml");
  ASSERT_TRUE(env) << env.error().message;
  ASSERT_EQ(env->packages.size(), 10000u);
  EXPECT_LE(HeldLineBytes(env->packages), 2 * conda.size());
}

}  // namespace
}  // namespace dlrig
