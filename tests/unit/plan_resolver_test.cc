// The planner against described machines: each expectation is a fact of data/*.toml checked by
// hand (arch lists, driver floors, branch limits), not the resolver's own output replayed.
#include <gtest/gtest.h>

#include "plan/docker_images.h"
#include "plan/emit.h"
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
  EXPECT_NE(std::find(plan->requirements.begin(), plan->requirements.end(), "torchvision==0.20.1+cu121"),
            plan->requirements.end());
}

TEST(PlanResolver, ImpossibleWithoutDriverUpgradeNamesTheConstraint) {
  auto plan = Resolve(Machine("RTX 3090", "470.82"), Req({"torch==2.8"}));
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().constraint, "driver");
  ASSERT_GE(plan.error().alternatives.size(), 2u);
  EXPECT_NE(plan.error().alternatives[1].find("torch==2.7.1+cu118"), std::string::npos)
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


MachineSpec On(const std::string& gpu, const std::string& driver, const std::string& os) {
  auto m = DescribeMachine({gpu, driver, os});
  EXPECT_TRUE(m.has_value()) << (m ? "" : m.error().message);
  return m.value_or(MachineSpec{});
}

bool Has(const std::vector<std::string>& lines, const std::string& line) {
  return std::find(lines.begin(), lines.end(), line) != lines.end();
}

// torchaudio's last release, 2.11.1, is one py3-none wheel that works with torch 2.11 and every
// later torch (its METADATA): asking for it never holds torch back, never exits 2 "no nearby
// alternative" (RTX 5090 on 570) nor drops silently to 2.6 (RTX 4090 on 580), and it is pinned
// without a +cuXYZ tag from PyPI, behind tagged torch pins.
TEST(PlanResolver, TorchaudioAfter211IsItsOneUniversalWheel) {
  for (const char* driver : {"570.133.07", "580.95.05"}) {
    for (const char* gpu : {"RTX 5090", "RTX 4090"}) {
      auto with = Resolve(Machine(gpu, driver), Req({"torch", "torchvision", "torchaudio"}));
      auto without = Resolve(Machine(gpu, driver), Req({"torch", "torchvision"}));
      ASSERT_TRUE(with && without) << gpu << " " << driver;
      EXPECT_EQ(with->torch->text, without->torch->text) << gpu << " " << driver;
      EXPECT_GE(*with->torch, *Version::Parse("2.11")) << gpu << " " << driver;
      EXPECT_TRUE(Has(with->requirements, "torchaudio==2.11.1")) << gpu << " " << driver;
    }
  }
  auto plan = Resolve(Machine("RTX 5090", "570.133.07"), Req({"torch", "torchvision", "torchaudio"}));
  EXPECT_EQ(plan->variant, "cu128");
  EXPECT_TRUE(Has(plan->requirements, "torch==2.11.0+cu128"));
  std::string req = EmitRequirements(*plan);
  EXPECT_NE(req.find("--extra-index-url https://pypi.org/simple"), std::string::npos) << req;
}

TEST(PlanResolver, TensorflowOnAGpuIsAndCuda) {
  auto plan = Resolve(Machine("RTX 3090", "535.183.01"), Req({"tensorflow"}));
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_TRUE(Has(plan->requirements, "tensorflow[and-cuda]==2.21.0"));
  EXPECT_TRUE(Has(plan->constraints, "tensorflow[and-cuda]==2.21.*"));
  auto cpu = Resolve(On("", "", "ubuntu-24.04"), Req({"tensorflow"}));
  ASSERT_TRUE(cpu) << cpu.error().message;
  EXPECT_TRUE(Has(cpu->requirements, "tensorflow==2.21.0"));
  EXPECT_FALSE(cpu->driver);  // no GPU: no driver
}

TEST(PlanResolver, PythonIsTheTargetOses) {
  RequestArgs venv;
  auto jammy = Resolve(On("GTX 1080 Ti", "580.95.05", "ubuntu-22.04"), Req({"torch"}, venv));
  ASSERT_TRUE(jammy) << jammy.error().message;
  EXPECT_EQ(jammy->python.text, "3.10");
  EXPECT_EQ(jammy->python_source, PythonSource::kOs);
  std::string setup = EmitSetupSh(*jammy);
  EXPECT_EQ(setup.find("python3.14"), std::string::npos) << setup;
  EXPECT_NE(setup.find("python3.10 -m venv .venv"), std::string::npos) << setup;
  auto noble = Resolve(On("RTX 4090", "580.95.05", "ubuntu-24.04"), Req({"torch"}));
  EXPECT_EQ(noble->python.text, "3.12");
  auto bookworm = Resolve(On("RTX 4090", "580.95.05", "debian-12"), Req({"torch"}));
  EXPECT_EQ(bookworm->python.text, "3.11");
  // Ubuntu 20.04's 3.8 is below torch 2.15's 3.11: uv brings 3.11, the newest torch stays.
  auto focal = Resolve(On("RTX 4090", "580.95.05", "ubuntu-20.04"), Req({"torch"}));
  ASSERT_TRUE(focal);
  EXPECT_EQ(focal->torch->text, "2.15");
  EXPECT_EQ(focal->python.text, "3.11");
  EXPECT_EQ(focal->python_source, PythonSource::kUv);
  EXPECT_NE(EmitSetupSh(*focal).find("uv python install 3.11"), std::string::npos);
  RequestArgs system;
  system.target = "system";  // pip --user into 3.8: an older torch whose wheels have 3.8
  auto sys = Resolve(On("RTX 4090", "580.95.05", "ubuntu-20.04"), Req({"torch"}, system));
  ASSERT_TRUE(sys) << sys.error().message;
  EXPECT_EQ(sys->python.text, "3.8");
  EXPECT_LT(*sys->torch, *Version::Parse("2.5"));
}

TEST(PlanResolver, DockerImageMatchesTheWheelsCudaMajorAndTheDriver) {
  RequestArgs docker;
  docker.target = "docker";
  auto plan = Resolve(Machine("RTX 3090", "550.54.14"), Req({"torch"}, docker));
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->variant, "cu126");
  // 550.54.14 reports CUDA 12.4: the newest 12.x runtime image it runs, on the target's Ubuntu.
  EXPECT_EQ(plan->docker_image, "nvidia/cuda:12.4.1-runtime-ubuntu22.04");
  auto older = Resolve(Machine("RTX 3090", "550.54"), Req({"torch"}, docker));  // before 12.4's
  ASSERT_TRUE(older);
  EXPECT_EQ(older->docker_image, "nvidia/cuda:12.3.2-runtime-ubuntu22.04");
  EXPECT_EQ(plan->python.text, "3.10");
  auto h100 = Resolve(On("H100", "580.95.05", "ubuntu-24.04"), Req({"torch"}, docker));
  ASSERT_TRUE(h100);
  EXPECT_EQ(h100->variant, "cu132");  // 2.15's PyPI build; 580 runs 13.x by minor-version compat
  EXPECT_EQ(h100->docker_image, "nvidia/cuda:13.0.2-runtime-ubuntu24.04");
  for (const DockerImage& img : DockerImages::BuiltIn()->rows())
    EXPECT_TRUE(img.image.rfind("nvidia/cuda:" + img.cuda.text + ".", 0) == 0 ||
                img.image.rfind("nvidia/cuda:" + img.cuda.text + "-", 0) == 0)
        << img.image;
}

TEST(PlanResolver, NoGpuInstallsNoDriverAndDebianUsesItsOwnPackages) {
  auto none = Resolve(On("", "", "debian-12"), Req({"torch"}));
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_FALSE(none->driver);
  std::string setup = EmitSetupSh(*none);
  EXPECT_EQ(setup.find("nvidia-driver"), std::string::npos) << setup;
  EXPECT_NE(setup.find("No NVIDIA GPU"), std::string::npos);
  // Debian 12's own nvidia-driver is 535: enough for a 3090 and a CUDA 12 build, not for 13.
  RequestArgs cu126;
  cu126.cuda = "12.6";
  auto deb = Resolve(On("RTX 3090", "", "debian-12"), Req({"torch"}, cu126));
  ASSERT_TRUE(deb && deb->driver) << (deb ? "" : deb.error().message);
  EXPECT_TRUE(deb->driver->distro_package_runs);
  setup = EmitSetupSh(*deb);
  EXPECT_NE(setup.find("apt-get install -y linux-headers-amd64 nvidia-open-kernel-dkms nvidia-driver "
                       "firmware-misc-nonfree"),
            std::string::npos) << setup;
  EXPECT_EQ(setup.find("nvidia-driver-5"), std::string::npos) << setup;
  auto deb13 = Resolve(On("RTX 5090", "", "debian-12"), Req({"torch"}));
  ASSERT_TRUE(deb13 && deb13->driver);
  EXPECT_FALSE(deb13->driver->distro_package_runs);  // Blackwell needs 570+
  EXPECT_NE(EmitSetupSh(*deb13).find("cuda-drivers-"), std::string::npos);
  auto rhel = Resolve(On("RTX 4090", "", "rhel-9"), Req({"torch"}));
  ASSERT_TRUE(rhel && rhel->driver);
  EXPECT_NE(EmitSetupSh(*rhel).find("sudo dnf install -y cuda-drivers-"), std::string::npos);
}

TEST(PlanResolver, OfflineFilesSayTheyAreOffline) {
  auto plan = Resolve(Machine("RTX 3090", "550.54"), Req({"torch", "torchvision"}));
  ASSERT_TRUE(plan);
  EXPECT_TRUE(Has(plan->requirements, "torch==2.14.1+cu126"));
  EXPECT_TRUE(Has(plan->requirements, "torchvision==0.29.2+cu126"));
  for (const GeneratedFile& f : EmitPlan(*plan))
    EXPECT_NE(f.text.find("OFFLINE: versions from dlrig's tables"), std::string::npos) << f.path;
  std::string req = EmitRequirements(*plan);
  EXPECT_NE(req.find("--index-url https://download.pytorch.org/whl/cu126\n"), std::string::npos);
  EXPECT_EQ(req.find("--extra-index-url"), std::string::npos) << req;  // nothing needs PyPI
  auto ds = Resolve(Machine("RTX 3090", "550.54"), Req({"torch", "deepspeed"}));
  ASSERT_TRUE(ds);
  req = EmitRequirements(*ds);
  EXPECT_NE(req.find("--extra-index-url https://pypi.org/simple"), std::string::npos) << req;
  EXPECT_NE(req.find("torch==2.14.1+cu126"), std::string::npos) << req;
}

}  // namespace
}  // namespace dlrig

namespace dlrig {
namespace {

// Extras are judged by the engine check uses (plan/judge.h, data/extras.toml): FlashAttention-2
// needs sm_80+, so a Pascal card gets exit 2 naming flash-attn, never a torch-only reason; on
// Ampere the source build is limited to the machine's architecture.
TEST(PlanResolver, ExtrasAreJudgedLikeCheckJudgesThem) {
  auto pascal = Resolve(DescribeMachine({"GTX 1080 Ti", "580.95.05", "ubuntu-22.04"}).value(),
                        ParseRequest([] { RequestArgs a; a.packages = {"torch", "flash-attn"}; return a; }()).value());
  ASSERT_FALSE(pascal);
  EXPECT_EQ(pascal.error().constraint, "extra");
  EXPECT_NE(pascal.error().message.find("cannot run flash-attn"), std::string::npos)
      << pascal.error().message;
  auto ampere = Resolve(DescribeMachine({"RTX 3090", "550.54.15", "ubuntu-22.04"}).value(),
                        ParseRequest([] { RequestArgs a; a.packages = {"torch", "flash-attn"}; return a; }()).value());
  ASSERT_TRUE(ampere) << ampere.error().message;
  bool limited = false;
  for (const std::string& n : ampere->notes) limited = limited || n.find("FLASH_ATTN_CUDA_ARCHS=80") != std::string::npos;
  EXPECT_TRUE(limited);
}

}  // namespace
}  // namespace dlrig
