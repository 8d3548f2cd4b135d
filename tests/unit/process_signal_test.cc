// top's signal sending: the owner check reads /proc/<pid>/status, refuses other users'
// processes unless root, and a real signal reaches a real child.
#include "monitor/process_signal.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace dlrig {
namespace {

TEST(ProcessSignal, OwnerIsTheRealUidOfTheStatusText) {
  auto owner = ProcessOwner("Name:\tpython3\nState:\tS (sleeping)\nUid:\t1001\t1002\t1002\t1002\n");
  ASSERT_TRUE(owner);
  EXPECT_EQ(*owner, 1001u);
  EXPECT_FALSE(ProcessOwner("Name:\tx\n"));
  EXPECT_FALSE(ProcessOwner("Uid:\tjunk\t0\n"));
}

TEST(ProcessSignal, OnlyTheOwnerOrRootMaySignal) {
  EXPECT_TRUE(MaySignal(1000, 1000, 42));
  EXPECT_TRUE(MaySignal(1000, 0, 42));  // root
  auto refused = MaySignal(0, 1000, 42);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, ErrorKind::kNoPermission);
  EXPECT_NE(refused.error().message.find("pid 42 belongs to root"), std::string::npos)
      << refused.error().message;
}

TEST(ProcessSignal, SignalsOwnChildAndSaysWhenItHasGone) {
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    pause();
    _exit(0);
  }
  ASSERT_TRUE(SignalProcess(child, 0));  // a check only
  ASSERT_TRUE(SignalProcess(child, SIGTERM));
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGTERM);
  auto gone = SignalProcess(child, SIGTERM);  // reaped: no /proc entry
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().kind, ErrorKind::kNotFound);
  EXPECT_NE(gone.error().message.find("has exited"), std::string::npos);
}

TEST(ProcessSignal, NeverInitOrProcessGroups) {
  for (long long pid : {1LL, 0LL, -1LL}) {
    auto r = SignalProcess(pid, SIGTERM);
    ASSERT_FALSE(r) << pid;
    EXPECT_EQ(r.error().kind, ErrorKind::kNoPermission);
  }
  EXPECT_EQ(SignalName(SIGKILL), "SIGKILL");
}

}  // namespace
}  // namespace dlrig
