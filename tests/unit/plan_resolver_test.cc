// The planner against described machines: each expectation is a fact of data/*.toml checked by
// hand (arch lists, driver floors, branch limits), not the resolver's own output replayed.
#include <gtest/gtest.h>

#include "plan/resolver.h"

namespace dlrig {
namespace {

MachineSpec Machine(const std::string& gpu, const std::string& driver) {
  auto m = DescribeMachine({gpu, driver, "ubuntu-22.04"});
  EXPECT_TRUE(m.has_value()) << (m ? "" : m.error().message);
  return m.value_or(MachineSpec{});
}

Request Req(std::vector<std::string> packages, RequestArgs args = {}) {
  args.packages = std::move(packages);
  auto r = ParseRequest(args);
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
  return r.value_or(Request{});
}

TEST(PlanResolver, ArchListRunsSameMajorCubinOrOlderPtx) {
  auto archs = ParseArchList("7.5;8.0;8.6;9.0;10.0;12.0+PTX").value();
  EXPECT_TRUE(ArchListRuns(archs, *Version::Parse("8.9")));   // sm_86 cubin
  EXPECT_TRUE(ArchListRuns(archs, *Version::Parse("12.1")));  // 12.0 cubin
  EXPECT_FALSE(ArchListRuns(archs, *Version::Parse("6.1")));  // Pascal: nothing <= 6.1
  EXPECT_FALSE(ArchListRuns(archs, *Version::Parse("7.0")));  // Volta: 7.5 is newer
  auto no_ptx = ParseArchList("7.5;8.0;8.6;9.0;10.0;12.0").value();
  EXPECT_FALSE(ArchListRuns(no_ptx, *Version::Parse("11.0")));  // no cubin of major 11, no PTX
}

// uv's --torch-backend=auto would give cu130 on a 580 driver; cu130 starts at 7.5.
TEST(PlanResolver, PascalOn580GetsAVariantWithSm60) {
  auto plan = Resolve(Machine("GTX 1080 Ti", "580.95.05"), Req({"torch"}));
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->variant, "cu126");
  EXPECT_EQ(plan->index_url, "https://download.pytorch.org/whl/cu126");
  EXPECT_FALSE(plan->driver.has_value());
}

TEST(PlanResolver, Rtx5090NeedsABlackwellBuild) {
  auto plan = Resolve(Machine("RTX 5090", "570.86.16"), Req({"torch"}));
  ASSERT_TRUE(plan) << plan.error().message;
  // cu126 lists up to 9.0 only; 570 runs CUDA 12.x but not 13.x; 2.11 cu128 has 12.0.
  EXPECT_EQ(plan->variant, "cu128");
  EXPECT_EQ(plan->torch->text, "2.11");
}

TEST(PlanResolver, DriverTooOldForBlackwellIsADriverFailure) {
  auto plan = Resolve(Machine("RTX 5090", "560.35.03"), Req({"torch"}));
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().constraint, "driver");
  ASSERT_FALSE(plan.error().alternatives.empty());
  EXPECT_NE(plan.error().alternatives[0].find("--upgrade-driver"), std::string::npos);
}

TEST(PlanResolver, Rtx3090Driver535CondaCuda121) {
  RequestArgs args;
  args.cuda = "12.1";
  args.target = "conda";
  auto plan = Resolve(Machine("RTX 3090", "535.183.01"), Req({"torch", "torchvision"}, args));
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->variant, "cu121");
  EXPECT_EQ(plan->torch->text, "2.5");  // the newest release with a cu121 build
  EXPECT_NE(std::find(plan->requirements.begin(), plan->requirements.end(), "torchvision==0.20.*"),
            plan->requirements.end());
}

TEST(PlanResolver, ImpossibleWithoutDriverUpgradeNamesTheConstraint) {
  auto plan = Resolve(Machine("RTX 3090", "470.82"), Req({"torch==2.8"}));
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().constraint, "driver");
  ASSERT_GE(plan.error().alternatives.size(), 2u);
  EXPECT_NE(plan.error().alternatives[1].find("torch==2.7.* cu118"), std::string::npos)
      << plan.error().alternatives[1];  // 470 runs 11.8 through minor-version compatibility;
                                        // 2.7 is the last release with a cu118 build
}

TEST(PlanResolver, UpgradeDriverForVoltaStopsAtItsLastBranch) {
  RequestArgs args;
  args.upgrade_driver = true;
  auto plan = Resolve(Machine("V100", "418.87"), Req({"torch", "apex"}, args));
  ASSERT_TRUE(plan) << plan.error().message;
  ASSERT_TRUE(plan->driver);
  EXPECT_EQ(plan->driver->branch, 580);
  EXPECT_FALSE(plan->driver->open_module);
  ASSERT_TRUE(plan->toolkit);
  EXPECT_EQ(plan->toolkit->text, "12.6");  // nvcc of the cu126 variant
  EXPECT_EQ(plan->newest_gcc, 13);         // host-compilers.toml: CUDA 12.6 -> GCC 13
  EXPECT_EQ(plan->build_requirements.size(), 1u);
}

TEST(PlanResolver, Cuda100HasNoTorchBuild) {
  RequestArgs args;
  args.cuda = "10.0";
  auto plan = Resolve(Machine("V100", "418.87"), Req({"torch", "apex"}, args));
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().constraint, "cuda");
}

TEST(PlanResolver, DockerCompileNeedsADevelImageOfTheSameCuda) {
  RequestArgs args;
  args.target = "docker";
  args.compile = true;
  auto plan = Resolve(Machine("RTX 4090", "535.183.01"), Req({"torch"}, args));
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_NE(plan->docker_image.find("devel"), std::string::npos);
  EXPECT_NE(plan->docker_image.find(":" + plan->cuda->MajorMinor()), std::string::npos)
      << plan->docker_image << " vs CUDA " << plan->cuda->text;
}

TEST(PlanMachine, GpuNamesMatchLooselyAndFailWithSuggestions) {
  for (const char* name : {"RTX 4090", "4090", "NVIDIA GeForce RTX 4090", "rtx 4090"}) {
    auto m = DescribeMachine({name, "", ""});
    ASSERT_TRUE(m) << name;
    EXPECT_EQ(m->gpus.at(0).compute_capability->text, "8.9") << name;
  }
  auto unknown = DescribeMachine({"RTX 4099", "", ""});
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("GeForce RTX 4090"), std::string::npos) << unknown.error().message;
  EXPECT_FALSE(DescribeMachine({"A10", "", ""})->gpus.empty());  // the A10, not the A100
  EXPECT_EQ(DescribeMachine({"A10", "", ""})->gpus[0].compute_capability->text, "8.6");
  EXPECT_FALSE(DescribeMachine({"", "535.x", ""}));
  EXPECT_FALSE(DescribeMachine({"", "", "ubuntu"}));
}

TEST(PlanRequest, MalformedInputIsRejectedWithAHint) {
  RequestArgs a;
  a.packages = {"torch>=2.3"};
  EXPECT_FALSE(ParseRequest(a));
  a.packages = {"torch==2.x"};
  EXPECT_FALSE(ParseRequest(a));
  a.packages = {"tensorflo"};
  auto r = ParseRequest(a);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("tensorflow"), std::string::npos);
  a.packages = {"torchvision"};
  EXPECT_FALSE(ParseRequest(a));
  a.packages = {"jax[cuda12]"};
  ASSERT_TRUE(ParseRequest(a));
  EXPECT_EQ(ParseRequest(a)->frameworks[0].extra, "cuda12");
  a.packages = {"torch", "flash-attn"};
  EXPECT_TRUE(ParseRequest(a)->compile);  // built from source
  a.target = "kubernetes";
  EXPECT_FALSE(ParseRequest(a));
}

}  // namespace
}  // namespace dlrig
