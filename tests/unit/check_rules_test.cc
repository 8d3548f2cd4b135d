// `dlrig check` judgements on real-looking project files (tests/fixtures/check) against machines
// built here, no probes: every check fires on a broken file and stays silent on a good one.
#include <gtest/gtest.h>

#include "check_test_util.h"
#include "plan/check.h"

namespace dlrig {
namespace {

using namespace check_test;

// Seed 000: RTX 3090, driver 535, conda pytorch with pytorch-cuda=12.1.
TEST(CheckRules, SeedCondaOnDriver535IsFine) {
  auto fs = Fixture("seed-conda/environment.yml", Rtx3090());
  EXPECT_TRUE(fs.empty()) << Ids(fs);
}

TEST(CheckRules, SeedCondaOnDriver470NeedsCuda118) {
  auto fs = Fixture("seed-conda/environment.yml", Rtx3090("470.223.02"));
  const CheckFinding* f = ById(fs, "cuda-driver-insufficient", 11);
  ASSERT_TRUE(f) << Ids(fs);
  EXPECT_EQ(f->severity, Severity::kError);
  EXPECT_EQ(f->at.text, "- pytorch-cuda=12.1");
  // 470 runs CUDA 11.x through minor-version compatibility (>= 450.80.02); torch 2.1 has cu118.
  EXPECT_EQ(f->replacement, "- pytorch-cuda=11.8");
  EXPECT_NE(f->why.find("525.60.13"), std::string::npos) << f->why;
  EXPECT_NE(f->source.find("cuda-drivers.toml"), std::string::npos);
  EXPECT_EQ(fs.size(), 1u) << Ids(fs);
}

TEST(CheckRules, PascalOnCu128WheelsHasNoKernels) {
  auto fs = Fixture("pascal-cu128/requirements.txt", Gtx1080Ti());
  const CheckFinding* f = ById(fs, "gpu-too-old-for-framework", 2);
  ASSERT_TRUE(f) << Ids(fs);
  EXPECT_EQ(f->severity, Severity::kError);
  EXPECT_NE(f->why.find("7.0;7.5"), std::string::npos) << f->why;
  // cu126 of the same release still carries sm_60, which a 6.1 GPU runs.
  EXPECT_EQ(f->replacement, "--index-url https://download.pytorch.org/whl/cu126");
  // An Ada card runs the sm_86 code of the same wheels.
  EXPECT_TRUE(
      Fixture("pascal-cu128/requirements.txt", Machine("GeForce RTX 4090", "8.9", "580.95.05"))
          .empty());
}

TEST(CheckRules, UnconfirmedArchListIsAWarning) {
  auto fs = Text("requirements.txt", "torch==2.7.1+cu128\n", Gtx1080Ti());
  const CheckFinding* f = ById(fs, "gpu-too-old-for-framework");
  ASSERT_TRUE(f) << Ids(fs);
  EXPECT_EQ(f->severity, Severity::kWarning);
  EXPECT_EQ(f->replacement, "torch==2.7.1+cu126");
}

TEST(CheckRules, BlackwellNeedsNewWheels) {
  MachineSpec rtx5090 = Machine("GeForce RTX 5090", "12.0", "580.95.05");
  auto fs = Text("requirements.txt", "torch==2.5.1\n", rtx5090);
  const CheckFinding* f = ById(fs, "no-kernel-image-arch-missing");
  ASSERT_TRUE(f) << Ids(fs);
  EXPECT_TRUE(f->replacement.empty());  // no 2.5 variant has sm_120
  EXPECT_NE(f->fix.find("newest that does"), std::string::npos) << f->fix;
}

TEST(CheckRules, ComposeWithoutComputeCapability) {
  auto fs = Fixture("compose/docker-compose.yml", Rtx3090());
  const CheckFinding* caps = ById(fs, "container-capabilities-missing-compute", 12);
  ASSERT_TRUE(caps) << Ids(fs);
  EXPECT_EQ(caps->severity, Severity::kError);
  EXPECT_EQ(caps->replacement, "capabilities: [gpu, utility, compute]");
  const CheckFinding* none = ById(fs, "container-started-without-gpus", 16);
  ASSERT_TRUE(none) << Ids(fs);
  EXPECT_EQ(none->severity, Severity::kWarning);
  EXPECT_EQ(fs.size(), 2u) << Ids(fs);
  auto good = Fixture("good/docker-compose.yml", Rtx3090());
  EXPECT_TRUE(good.empty()) << Ids(good);
}

TEST(CheckRules, ApexWithoutNvcc) {
  MachineSpec m = Rtx3090();
  auto fs = Fixture("seed-megatron/requirements-apex.txt", m);
  const CheckFinding* f = ById(fs, "nvcc-missing-cuda-home-unset", 2);
  ASSERT_TRUE(f) << Ids(fs);
  EXPECT_EQ(f->severity, Severity::kError);
  EXPECT_NE(f->source.find("cuda-extensions.toml"), std::string::npos);
  m.nvcc = Version::Parse("12.1");
  EXPECT_TRUE(Fixture("seed-megatron/requirements-apex.txt", m).empty());
  // Without --cuda_ext the build is Python-only: still worth a warning, not an error.
  auto plain = Text("requirements.txt", "git+https://github.com/NVIDIA/apex\n", Rtx3090());
  ASSERT_TRUE(ById(plain, "nvcc-missing-cuda-home-unset"));
  EXPECT_EQ(ById(plain, "nvcc-missing-cuda-home-unset")->severity, Severity::kWarning);
}

TEST(CheckRules, BrokenDockerfile) {
  auto fs = Fixture("bad/Dockerfile", Rtx3090());
  const CheckFinding* require = ById(fs, "container-require-cuda-unsatisfied", 2);
  ASSERT_TRUE(require) << Ids(fs);
  EXPECT_NE(require->what.find("12.4"), std::string::npos);
  const CheckFinding* caps = ById(fs, "container-capabilities-missing-compute", 3);
  ASSERT_TRUE(caps) << Ids(fs);
  EXPECT_EQ(caps->replacement, "ENV NVIDIA_DRIVER_CAPABILITIES=utility,compute");
  const CheckFinding* apex = ById(fs, "nvcc-missing-cuda-home-unset");
  ASSERT_TRUE(apex) << Ids(fs);
  EXPECT_EQ(apex->at.line, 8);
  EXPECT_NE(apex->fix.find("FROM nvidia/cuda:${CUDA}-cudnn-devel-ubuntu22.04"), std::string::npos)
      << apex->fix;
  // torch 2.4 cu124 runs on 535 through minor-version compatibility: no finding for line 5.
  EXPECT_FALSE(ById(fs, "cuda-driver-insufficient")) << Ids(fs);
  // On a CUDA 12.4 driver the image starts.
  EXPECT_FALSE(
      ById(Fixture("bad/Dockerfile", Rtx3090("550.54.14")), "container-require-cuda-unsatisfied"));
  auto good = Fixture("good/Dockerfile", Rtx3090());
  EXPECT_TRUE(good.empty()) << Ids(good);
}

TEST(CheckRules, NvidiaRequireCuda) {
  const char* text =
      "FROM ubuntu:22.04\nENV NVIDIA_REQUIRE_CUDA=\"cuda>=12.4 "
      "brand=tesla,driver>=470,driver<471\"\n";
  ASSERT_TRUE(ById(Text("Dockerfile", text, Rtx3090()), "container-require-cuda-unsatisfied", 2));
  EXPECT_TRUE(Text("Dockerfile", text, Rtx3090("550.54.14")).empty());
  EXPECT_TRUE(Text("Dockerfile", text, Rtx3090("470.82.01")).empty());  // the brand clause's driver
  // A clause dlrig cannot judge (brand alone) is not guessed at.
  EXPECT_TRUE(Text("Dockerfile",
                   "FROM ubuntu:22.04\nENV NVIDIA_REQUIRE_CUDA=\"cuda>=12.4 brand=tesla\"\n",
                   Rtx3090())
                  .empty());
}

TEST(CheckRules, VariantNotPublishedAndTorchvisionMismatch) {
  auto fs = Fixture("bad/requirements.txt", Rtx3090());
  const CheckFinding* v = ById(fs, "torch-variant-not-published", 2);
  ASSERT_TRUE(v) << Ids(fs);
  EXPECT_EQ(v->replacement, "--index-url https://download.pytorch.org/whl/cu121");
  const CheckFinding* tv = ById(fs, "torchvision-torch-mismatch", 4);
  ASSERT_TRUE(tv) << Ids(fs);
  EXPECT_EQ(tv->replacement, "torchvision==0.16.*");
  auto good = Fixture("good/requirements.txt", Rtx3090());
  EXPECT_TRUE(good.empty()) << Ids(good);
  auto tags =
      Text("requirements.txt", "torch==2.1.2+cu121\ntorchvision==0.16.2+cu118\n", Rtx3090());
  ASSERT_TRUE(ById(tags, "torchvision-torch-mismatch", 2)) << Ids(tags);
  EXPECT_EQ(ById(tags, "torchvision-torch-mismatch", 2)->replacement, "torchvision==0.16.2+cu121");
}

TEST(CheckRules, WildcardPinGetsTheIndexNotATag) {
  auto fs = Text("requirements.txt", "torch==2.1.*\n", Rtx3090("470.223.02"));
  const CheckFinding* f = ById(fs, "cuda-driver-insufficient", 1);
  ASSERT_TRUE(f) << Ids(fs);
  EXPECT_TRUE(f->replacement.empty()) << f->replacement;
  EXPECT_NE(f->fix.find("--index-url https://download.pytorch.org/whl/cu118"), std::string::npos)
      << f->fix;
}

TEST(CheckRules, GoodRequirementsOnDriver470) {
  auto fs = Fixture("good/requirements.txt", Rtx3090("470.223.02"));
  const CheckFinding* f = ById(fs, "cuda-driver-insufficient", 2);
  ASSERT_TRUE(f) << Ids(fs);
  EXPECT_EQ(f->replacement, "torch==2.1.2+cu118");
  EXPECT_NE(f->fix.find("whl/cu118"), std::string::npos);
}

TEST(CheckRules, CondaPythonAndCudaPinsThatDisagree) {
  auto fs = Fixture("bad/environment.yml", Rtx3090());
  const CheckFinding* py = ById(fs, "torch-python-unsupported", 5);
  ASSERT_TRUE(py) << Ids(fs);
  EXPECT_EQ(py->replacement, "- python=3.11");
  const CheckFinding* mix = ById(fs, "mixed-pip-conda-cuda-libs", 8);
  ASSERT_TRUE(mix) << Ids(fs);
  EXPECT_EQ(mix->replacement, "- cuda-version=11.3");
  EXPECT_EQ(fs.size(), 2u) << Ids(fs);
}

TEST(CheckRules, PyprojectPythonFloorAndDeepspeedJit) {
  auto fs = Fixture("bad/pyproject.toml", Rtx3090());
  const CheckFinding* py = ById(fs, "torch-python-unsupported", 4);
  ASSERT_TRUE(py) << Ids(fs);
  EXPECT_TRUE(py->replacement.empty());
  EXPECT_NE(py->fix.find("torch 2.2 or newer"), std::string::npos) << py->fix;  // 2.2 added 3.12
  const CheckFinding* ds = ById(fs, "nvcc-missing-cuda-home-unset", 5);
  ASSERT_TRUE(ds) << Ids(fs);
  EXPECT_EQ(ds->severity, Severity::kWarning);  // JIT at first use, not at install
  auto good = Fixture("good/pyproject.toml", Rtx3090());
  EXPECT_TRUE(good.empty()) << Ids(good);
}

TEST(CheckRules, MarkersCpuWheelsAndUnknownMachines) {
  EXPECT_TRUE(Text("requirements.txt", "torch==2.1.0+cu121; sys_platform == \"darwin\"\n",
                   Rtx3090("470.223.02"))
                  .empty());
  auto cpu = Text("requirements.txt",
                  "--index-url https://download.pytorch.org/whl/cpu\ntorch==2.5.1\n", Rtx3090());
  ASSERT_TRUE(ById(cpu, "torch-cpu-only-wheel", 1)) << Ids(cpu);
  MachineSpec nothing;  // no GPU, no driver known: nothing to judge against, nothing guessed
  EXPECT_TRUE(Fixture("seed-conda/environment.yml", nothing).empty());
  EXPECT_TRUE(Fixture("pascal-cu128/requirements.txt", nothing).empty());
  EXPECT_TRUE(Fixture("compose/docker-compose.yml", nothing).size() ==
              2u);  // compose needs no machine
  // Unknown packages are ignored.
  EXPECT_TRUE(Text("requirements.txt", "some-package==1.0\nother>=2\n", Rtx3090()).empty());
}

// Issue 13 repro: tensorflow[and-cuda]==2.15.1 installs NVIDIA's CUDA 12.2 wheels, which need
// driver >= 525.60.13; driver 470 cannot run them. The line to write is the newest TensorFlow
// whose [and-cuda] wheels 470 runs (2.14: CUDA 11.8 by minor-version compatibility).
TEST(CheckRules, TensorflowAndCudaOnDriver470) {
  auto fs = Fixture("extras/requirements-tf-and-cuda.txt", Rtx3090("470.223.02"));
  const CheckFinding* f = ById(fs, "cuda-driver-insufficient", 2);
  ASSERT_TRUE(f) << Ids(fs);
  EXPECT_EQ(f->severity, Severity::kError);
  EXPECT_EQ(f->at.text, "tensorflow[and-cuda]==2.15.1");
  EXPECT_EQ(f->replacement, "tensorflow[and-cuda]==2.14.*");
  EXPECT_NE(f->what.find("525.60.13"), std::string::npos) << f->what;
  EXPECT_NE(f->source.find("tensorflow.toml"), std::string::npos) << f->source;
  EXPECT_TRUE(Fixture("extras/requirements-tf-and-cuda.txt", Rtx3090()).empty());
}

// Issue 13 repro: FlashAttention-2 needs compute capability 8.0+ (Ampere, Ada, Hopper); a GTX
// 1080 Ti is 6.1 and no flash-attn release runs there.
TEST(CheckRules, FlashAttentionOnPascal) {
  auto fs = Fixture("extras/requirements-flash-attn-pascal.txt", Gtx1080Ti());
  const CheckFinding* f = ById(fs, "extra-gpu-unsupported", 3);
  ASSERT_TRUE(f) << Ids(fs);
  EXPECT_EQ(f->severity, Severity::kError);
  EXPECT_NE(f->what.find("6.1"), std::string::npos) << f->what;
  EXPECT_NE(f->source.find("extras.toml"), std::string::npos) << f->source;
  EXPECT_TRUE(f->replacement.empty()) << f->replacement;  // FA1 needs Turing: nothing runs here
  auto ampere = Fixture("extras/requirements-flash-attn-pascal.txt", Rtx3090());
  EXPECT_TRUE(ampere.empty()) << Ids(ampere);
}

}  // namespace
}  // namespace dlrig
