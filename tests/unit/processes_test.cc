#include <gtest/gtest.h>
#include <errno.h>
#include <unistd.h>

#include "monitor/processes.h"

namespace dlrig {
namespace {

TEST(ContainerId, EachRuntimeLayout) {
  const std::string id = "4f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f";
  EXPECT_EQ(ContainerIdFromCgroup("0::/system.slice/docker-" + id + ".scope\n"), "4f2a9c1e8b7d");
  EXPECT_EQ(ContainerIdFromCgroup("12:memory:/docker/" + id + "\n1:name=systemd:/docker/" + id),
            "4f2a9c1e8b7d");
  EXPECT_EQ(ContainerIdFromCgroup("0::/kubepods.slice/kubepods-burstable.slice/"
                                  "kubepods-burstable-pod1234.slice/cri-containerd-" + id + ".scope"),
            "4f2a9c1e8b7d");
  EXPECT_EQ(ContainerIdFromCgroup("0::/machine.slice/libpod-" + id + ".scope/container"),
            "4f2a9c1e8b7d");
  EXPECT_EQ(ContainerIdFromCgroup("0::/user.slice/user-1000.slice/session-3.scope\n"), "");
  EXPECT_EQ(ContainerIdFromCgroup(""), "");
  EXPECT_EQ(ContainerIdFromCgroup("0::/docker-" + id.substr(0, 63) + ".scope"), "");
}

TEST(CommandLine, NulSeparatedArgumentsBecomeOneCappedLine) {
  EXPECT_EQ(CommandLine(std::string("python\0train.py\0--epochs\0" "3\0", 27)), "python train.py --epochs 3");
  EXPECT_EQ(CommandLine(std::string(500, 'x'), 200).size(), 200u);
  EXPECT_EQ(CommandLine(""), "");
}

TEST(DescribeProcesses, ThisProcessFromProc) {
  auto root = Root::Open("/");
  ASSERT_TRUE(root);
  std::vector<GpuProcess> list(2);
  list[0].pid = ::getpid();
  list[1].pid = 0x7ffffff0;  // no such process: stays unknown
  DescribeProcesses(*root, list);
  EXPECT_NE(list[0].command.find(program_invocation_short_name), std::string::npos) << list[0].command;
  EXPECT_FALSE(list[0].user.empty());
  EXPECT_TRUE(list[1].command.empty());
  EXPECT_TRUE(list[1].user.empty());
}

TEST(ProgramName, OnlyTheProgramNeverAnArgument) {
  EXPECT_EQ(ProgramName(std::string("/usr/bin/python3\0train.py\0--hf-token=hf_abc\0", 43)), "python3");
  EXPECT_EQ(ProgramName("python train.py --hf-token=hf_abc/def"), "python");  // a rewritten title
  EXPECT_EQ(ProgramName(std::string("torchrun\0--nproc=8\0", 20)), "torchrun");
  EXPECT_EQ(ProgramName("/opt/x/bin/vllm"), "vllm");
  EXPECT_EQ(ProgramName(""), "");
}

// gpus --json, /api/v1/gpus and top showed every process's arguments (tokens included):
// only the program's name now, unless --show-commands.
TEST(DescribeProcesses, ArgumentsOnlyWhenAskedFor) {
  auto root = Root::Open("/");
  ASSERT_TRUE(root);
  std::vector<GpuProcess> named(1), full(1);
  named[0].pid = full[0].pid = ::getpid();
  DescribeProcesses(*root, named);
  DescribeProcesses(*root, full, CommandDetail::kFullCommandLine);
  EXPECT_EQ(named[0].command, std::string(program_invocation_short_name));
  EXPECT_EQ(named[0].command.find(' '), std::string::npos) << named[0].command;
  auto raw = root->ReadFile("/proc/self/cmdline", 4096);
  ASSERT_TRUE(raw);
  EXPECT_EQ(full[0].command, CommandLine(*raw));
}

}  // namespace
}  // namespace dlrig
