// `dlrig check` on extras and framework builds through the constraint engine plan uses: each
// extra and each file kind flags the line that asks for what cannot run, with the line to write.
#include <gtest/gtest.h>

#include "check_test_util.h"
#include "plan/check.h"

namespace dlrig {
namespace {

using namespace check_test;

TEST(CheckExtras, GoodFileOnAmpereIsSilent) {
  auto fs = Fixture("extras/requirements-good.txt", Rtx3090());
  EXPECT_TRUE(fs.empty()) << Ids(fs);
}

TEST(CheckExtras, XformersBuiltForAnotherTorch) {
  auto fs = Fixture("extras/requirements-xformers-torch.txt", Rtx3090());
  const CheckFinding* f = ById(fs, "extra-torch-mismatch", 2);
  ASSERT_TRUE(f) << Ids(fs);
  EXPECT_NE(f->what.find("torch==2.5.1"), std::string::npos) << f->what;
  EXPECT_EQ(f->replacement, "xformers==0.0.28.post1");
  EXPECT_NE(f->source.find("METADATA"), std::string::npos) << f->source;
}

TEST(CheckExtras, VllmOnVolta) {
  auto v100 = Fixture("extras/requirements-vllm.txt", Machine("Tesla V100 SXM2 32GB", "7.0", "580.95.05"));
  const CheckFinding* f = ById(v100, "extra-gpu-unsupported", 1);
  ASSERT_TRUE(f) << Ids(v100);
  EXPECT_EQ(f->replacement.rfind("vllm==0.", 0), 0u) << f->replacement;
  EXPECT_NE(f->fix.find("torch=="), std::string::npos) << f->fix;  // the torch it brings
  EXPECT_TRUE(Fixture("extras/requirements-vllm.txt", Machine("H100", "9.0", "580.95.05")).empty());
}

TEST(CheckExtras, BitsandbytesFollowsTorchsCuda) {
  // bitsandbytes 0.48's CUDA 12.8 library starts at sm_70; a P100 (6.0) runs torch 2.7 cu128?
  // No: torch's own cu128 wheels start at sm_75, so only the bitsandbytes line of a cu126
  // torch is judged clean, and the cu128 one is refused twice (torch and bitsandbytes).
  MachineSpec p100 = Machine("Tesla P100 PCIe 16GB", "6.0", "580.95.05");
  auto cu128 = Text("requirements.txt",
                    "--index-url https://download.pytorch.org/whl/cu128\ntorch==2.7.1\n"
                    "bitsandbytes==0.48.2\n",
                    p100);
  ASSERT_TRUE(ById(cu128, "extra-gpu-unsupported", 3)) << Ids(cu128);
  auto cu126 = Text("requirements.txt",
                    "--index-url https://download.pytorch.org/whl/cu126\ntorch==2.7.1\n"
                    "bitsandbytes==0.48.2\n",
                    p100);
  EXPECT_TRUE(cu126.empty()) << Ids(cu126);
}

TEST(CheckExtras, ApexAndDeepspeedNvccMustMatchTorch) {
  MachineSpec m = Rtx3090();
  m.nvcc = Version::Parse("12.1");
  auto fs = Text("requirements.txt",
                 "--index-url https://download.pytorch.org/whl/cu118\ntorch==2.3.1\n"
                 "git+https://github.com/NVIDIA/apex.git#egg=apex --global-option=--cuda_ext\n"
                 "deepspeed==0.19.8\n",
                 m);
  const CheckFinding* apex = ById(fs, "extra-nvcc-mismatch", 3);
  ASSERT_TRUE(apex) << Ids(fs);
  EXPECT_NE(apex->fix.find("11.8"), std::string::npos) << apex->fix;
  // DeepSpeed refuses a CUDA 12 nvcc for a CUDA 11 torch too (another major).
  ASSERT_TRUE(ById(fs, "extra-nvcc-mismatch", 4)) << Ids(fs);
  m.nvcc = Version::Parse("11.8");
  auto ok = Text("requirements.txt",
                 "--index-url https://download.pytorch.org/whl/cu118\ntorch==2.3.1\n"
                 "git+https://github.com/NVIDIA/apex.git#egg=apex --global-option=--cuda_ext\n"
                 "deepspeed==0.19.8\n",
                 m);
  EXPECT_TRUE(ok.empty()) << Ids(ok);
}

TEST(CheckExtras, FlashAttentionWithoutReleaseWheelIsCompiled) {
  // flash-attn 2.7.4.post1's release wheels stop at torch 2.6: with torch 2.8 pip compiles it.
  std::string text = "torch==2.8.0\nflash-attn==2.7.4.post1\n";
  auto none = Text("requirements.txt", text, Rtx3090());
  const CheckFinding* f = ById(none, "nvcc-missing-cuda-home-unset", 2);
  ASSERT_TRUE(f) << Ids(none);
  EXPECT_NE(f->fix.find("FLASH_ATTN_CUDA_ARCHS=80"), std::string::npos) << f->fix;
  EXPECT_NE(f->fix.find("MAX_JOBS=4"), std::string::npos) << f->fix;
  MachineSpec m = Rtx3090();
  m.nvcc = Version::Parse("12.8");
  auto built = Text("requirements.txt", text, m);
  const CheckFinding* w = ById(built, "extra-built-from-source", 2);
  ASSERT_TRUE(w) << Ids(built);
  EXPECT_EQ(w->severity, Severity::kWarning);
}

TEST(CheckExtras, TensorflowWithoutAndCudaRunsOnTheCpu) {
  auto fs = Text("requirements.txt", "tensorflow==2.16.1\n", Rtx3090());
  const CheckFinding* f = ById(fs, "tensorflow-without-cuda-libraries", 1);
  ASSERT_TRUE(f) << Ids(fs);
  EXPECT_EQ(f->severity, Severity::kWarning);
  EXPECT_EQ(f->replacement, "tensorflow[and-cuda]==2.16.*");
  EXPECT_TRUE(Text("requirements.txt", "tensorflow==2.16.1\n", MachineSpec{}).empty());
}

TEST(CheckExtras, JaxCuda13OnDriver535) {
  auto fs = Fixture("extras/requirements-jax-cuda13.txt", Rtx3090());
  const CheckFinding* f = ById(fs, "cuda-driver-insufficient", 1);
  ASSERT_TRUE(f) << Ids(fs);
  EXPECT_EQ(f->replacement, "jax[cuda12]==0.8.1");
  auto plugin = Text("requirements.txt", "jax==0.8.1\njax-cuda13-plugin==0.8.1\n", Rtx3090());
  const CheckFinding* p = ById(plugin, "cuda-driver-insufficient", 2);
  ASSERT_TRUE(p) << Ids(plugin);
  EXPECT_EQ(p->replacement, "jax-cuda12-plugin==0.8.1");
  EXPECT_TRUE(Fixture("extras/requirements-jax-cuda13.txt", Rtx3090("580.95.05")).empty());
}

// Every file kind check reads flags the same constraints on the line that asks for them.
TEST(CheckExtras, EveryFileKind) {
  MachineSpec pascal = Gtx1080Ti("470.223.02");
  auto conda = Fixture("extras/environment.yml", pascal);
  const CheckFinding* tf = ById(conda, "cuda-driver-insufficient", 9);
  ASSERT_TRUE(tf) << Ids(conda);
  EXPECT_EQ(tf->replacement, "- tensorflow[and-cuda]==2.14.*");
  ASSERT_TRUE(ById(conda, "extra-gpu-unsupported", 10)) << Ids(conda);

  auto pyproject = Fixture("extras/pyproject.toml", pascal);
  ASSERT_TRUE(ById(pyproject, "extra-gpu-unsupported", 7)) << Ids(pyproject);

  auto docker = Fixture("extras/Dockerfile", pascal);
  ASSERT_TRUE(ById(docker, "extra-gpu-unsupported", 2)) << Ids(docker);
  const CheckFinding* dtf = ById(docker, "cuda-driver-insufficient", 3);
  ASSERT_TRUE(dtf) << Ids(docker);
  EXPECT_EQ(dtf->replacement, "RUN pip install \"tensorflow[and-cuda]==2.14.*\"");

  // On an A100 with driver 535 all four files are fine.
  MachineSpec a100 = Machine("A100 SXM4 80GB", "8.0", "535.183.01");
  a100.nvcc = Version::Parse("12.1");
  for (const char* f : {"environment.yml", "pyproject.toml", "Dockerfile"}) {
    auto fs = Fixture(std::string("extras/") + f, a100);
    EXPECT_TRUE(fs.empty()) << f << "\n" << Ids(fs);
  }
}

}  // namespace
}  // namespace dlrig
