// The package rules on venvs and conda envs written with real METADATA and conda-meta shapes:
// each fires on its broken state and is silent on the matching healthy one.
#include <gtest/gtest.h>

#include "machine_fixture.h"
#include "probe/python.h"

namespace dlrig {
namespace {

using testing::Has;
using testing::Machine;

const char* const kSite = "opt/venv/lib/python3.12/site-packages/";

// A dist-info whose METADATA carries `requires` (one Requires-Dist value per entry) the way
// wheels write it, headers first and the description after a blank line.
void Dist(Machine& m, const std::string& name, const std::string& version,
          const std::vector<std::string>& requires_dist = {}) {
  std::string meta = "Metadata-Version: 2.1\nName: " + name + "\nVersion: " + version + "\n";
  for (const auto& r : requires_dist) meta += "Requires-Dist: " + r + "\n";
  meta += "\nRequires-Dist: this-is-description-text==1\n";
  m.Write(std::string(kSite) + name + "-" + version + ".dist-info/METADATA", meta);
}

Machine TorchMachine(const std::string& torch = "2.5.1+cu124") {
  Machine m;
  m.WorkingDriver();
  m.Write("uname.txt", "Linux gpu1 6.8.0-45-generic #45 SMP x86_64 x86_64 x86_64 GNU/Linux\n");
  m.TorchVenv(torch, "12.4");
  return m;
}

TEST(RequiresDist, ParsesBothStylesMarkersAndStopsAtTheDescription) {
  auto reqs = ParseRequiresDist(
      "Name: torch\nRequires-Dist: filelock\nRequires-Dist: torch (==2.5.1)\n"
      "Requires-Dist: nvidia-cudnn-cu12==9.1.0.70; platform_system == \"Linux\" and "
      "platform_machine == \"x86_64\"\nRequires-Dist: opt-einsum>=3.3; extra == \"opt-einsum\"\n"
      "Requires-Dist: numpy[extra]==2.0.1,<3\n\nRequires-Dist: not-a-header==1\n");
  ASSERT_EQ(reqs.size(), 5u);
  EXPECT_EQ(reqs[0].name, "filelock");
  EXPECT_EQ(reqs[0].exact, "");
  EXPECT_EQ(reqs[1].exact, "2.5.1");
  EXPECT_EQ(reqs[2].name, "nvidia-cudnn-cu12");
  EXPECT_EQ(reqs[2].exact, "9.1.0.70");
  EXPECT_TRUE(MarkerHoldsOnLinux(reqs[2].marker, "x86_64"));
  EXPECT_FALSE(MarkerHoldsOnLinux(reqs[2].marker, "aarch64"));
  EXPECT_FALSE(MarkerHoldsOnLinux(reqs[3].marker, "x86_64"));  // an extra is not installed
  EXPECT_EQ(reqs[4].exact, "");                                // a range, not a pin
  EXPECT_FALSE(MarkerHoldsOnLinux("sys_platform == \"win32\"", "x86_64"));
  EXPECT_TRUE(MarkerHoldsOnLinux("platform_machine != \"aarch64\"", "x86_64"));
}

TEST(PythonPackageRules, TorchvisionForAnotherTorch) {
  Machine m = TorchMachine();
  Dist(m, "torchvision", "0.20.1+cu124", {"numpy", "torch (==2.5.1)", "pillow (!=8.3.*,>=5.3.0)"});
  EXPECT_FALSE(Has(m.Ids(), "torchvision-torch-mismatch"));  // "==2.5.1" accepts 2.5.1+cu124
  Dist(m, "torchaudio", "2.4.1+cu124", {"torch==2.4.1"});
  auto ids = m.Ids();
  EXPECT_TRUE(Has(ids, "torchvision-torch-mismatch")) << ::testing::PrintToString(ids);
}

TEST(PythonPackageRules, TorchvisionForAnotherCudaVariant) {
  Machine m = TorchMachine("2.5.1+cu121");
  Dist(m, "torchvision", "0.20.1+cu124", {"torch==2.5.1"});
  EXPECT_TRUE(Has(m.Ids(), "torchvision-torch-mismatch"));
}

TEST(PythonPackageRules, ExtensionPinningAnotherTorch) {
  Machine m = TorchMachine();
  Dist(m, "xformers", "0.0.28.post3", {"numpy", "torch==2.5.1"});
  EXPECT_FALSE(Has(m.Ids(), "extension-abi-mismatch"));
  Dist(m, "vllm", "0.6.3", {"torch==2.4.0", "xformers==0.0.27.post2; platform_system == \"Linux\""});
  EXPECT_TRUE(Has(m.Ids(), "extension-abi-mismatch"));
}

TEST(PythonPackageRules, TorchWithoutItsNvidiaWheels) {
  Machine m = TorchMachine();
  const std::string marker = "; platform_system == \"Linux\" and platform_machine == \"x86_64\"";
  Dist(m, "torch", "2.5.1+cu124",
       {"nvidia-cublas-cu12==12.4.5.8" + marker, "nvidia-cudnn-cu12==9.1.0.70" + marker,
        "nvidia-nvtx-cu12==12.4.127; platform_system == \"Linux\" and platform_machine == \"aarch64\""});
  m.Mkdir(std::string(kSite) + "nvidia_cublas_cu12-12.4.5.8.dist-info");
  auto ids = m.Ids();
  EXPECT_TRUE(Has(ids, "pip-nvidia-wheels-missing")) << ::testing::PrintToString(ids);
  m.Mkdir(std::string(kSite) + "nvidia_cudnn_cu12-9.1.0.70.dist-info");  // nvtx is aarch64-only
  EXPECT_FALSE(Has(m.Ids(), "pip-nvidia-wheels-missing"));
}

TEST(PythonPackageRules, JaxWithoutOrWithAMismatchedPlugin) {
  Machine m;
  m.WorkingDriver();
  m.Write("opt/venv/pyvenv.cfg", "home = /usr/bin\nversion_info = 3.12.3\n");
  m.Env("VIRTUAL_ENV=/opt/venv");
  Dist(m, "jax", "0.4.35");
  Dist(m, "jaxlib", "0.4.35");
  EXPECT_TRUE(Has(m.Ids(), "jax-cpu-jaxlib-or-plugin-mismatch"));  // CPU only
  Dist(m, "jax_cuda12_plugin", "0.4.35");
  Dist(m, "jax_cuda12_pjrt", "0.4.35");
  EXPECT_FALSE(Has(m.Ids(), "jax-cpu-jaxlib-or-plugin-mismatch"));
  Dist(m, "jaxlib", "0.4.38");  // an upgraded jaxlib, the plugin left behind
  m.Remove(std::string(kSite) + "jaxlib-0.4.35.dist-info");
  auto ids = m.Ids();
  EXPECT_TRUE(Has(ids, "jax-cpu-jaxlib-or-plugin-mismatch")) << ::testing::PrintToString(ids);
}

// A conda env, its packages as conda-meta/<name>-<version>-<build>.json files.
Machine CondaMachine(const std::vector<std::string>& packages) {
  Machine m;
  m.WorkingDriver();
  for (const auto& p : packages) m.Write("opt/conda/envs/ml/conda-meta/" + p + ".json", "{}");
  m.Mkdir("opt/conda/envs/ml/lib/python3.12/site-packages");
  m.Env("CONDA_PREFIX=/opt/conda/envs/ml");
  return m;
}

TEST(PythonPackageRules, CondaCpuVariant) {
  auto ids = CondaMachine({"python-3.12.7-h2628c8c_0", "pytorch-2.5.1-py3.12_cuda12.4_cudnn9.1.0_0",
                           "pytorch-mutex-1.0-cuda"}).Ids();
  EXPECT_FALSE(Has(ids, "conda-cpu-variant-resolved")) << ::testing::PrintToString(ids);
  ids = CondaMachine({"python-3.12.7-h2628c8c_0", "pytorch-2.5.1-py3.12_cpu_0", "cpuonly-2.0-0",
                      "pytorch-mutex-1.0-cpu"}).Ids();
  EXPECT_TRUE(Has(ids, "conda-cpu-variant-resolved")) << ::testing::PrintToString(ids);
}

TEST(PythonPackageRules, SameLibraryFromCondaAndPip) {
  Machine m = CondaMachine({"python-3.12.7-h2628c8c_0", "libcusparse-12.0.0.76-0", "cuda-cudart-11.7.99-0"});
  std::string site = "opt/conda/envs/ml/lib/python3.12/site-packages/";
  m.Mkdir(site + "nvidia_cusparse_cu12-12.0.0.76.dist-info");
  EXPECT_FALSE(Has(m.Ids(), "mixed-pip-conda-cuda-libs"));  // same version from both: fine
  m.Mkdir(site + "nvidia_cuda_runtime_cu12-12.4.127.dist-info");
  EXPECT_TRUE(Has(m.Ids(), "mixed-pip-conda-cuda-libs"));
}

}  // namespace
}  // namespace dlrig

namespace dlrig {
namespace {

// What the lent H100 showed (docs/validation.md): torch 2.11.0+cu130 in a venv without its
// nvidia-cudnn-cu13 wheel loads the system's cuDNN 9.14 through the ld.so cache and then
// refuses it ("compiled against (9, 19, 0) but found runtime version (9, 14, 0)").
TEST(PythonPackageRules, MissingCudnnWheelFallsBackToAnOlderSystemCudnn) {
  testing::Machine m;
  m.WorkingDriver();
  m.Write("uname.txt", "Linux gpu1 6.8.0 #1 SMP x86_64 GNU/Linux\n");
  m.TorchVenv("2.11.0+cu130", "13.0");
  const std::string marker = "; platform_system == \"Linux\"";
  Dist(m, "torch", "2.11.0+cu130", {"nvidia-cudnn-cu13==9.19.0.56" + marker});
  m.Write(std::string(kSite) + "torch/lib/libtorch_cuda.so", "");  // a capture's placeholder
  m.Write("usr/lib/x86_64-linux-gnu/libcudnn.so.9.14.0", "");
  m.Link("libcudnn.so.9.14.0", "usr/lib/x86_64-linux-gnu/libcudnn.so.9");
  auto ids = m.Ids();
  EXPECT_TRUE(testing::Has(ids, "pip-nvidia-wheels-missing")) << ::testing::PrintToString(ids);
  EXPECT_TRUE(testing::Has(ids, "cudnn-version-mismatch<-pip-nvidia-wheels-missing"))
      << ::testing::PrintToString(ids);
}

// Issue 14: a zero-filled libtorch_cuda.so made "torch needs libcudart.so.13, which the loader
// cannot find"; what a file that is no ELF needs is unknown, so no finding is drawn from it.
TEST(PythonPackageRules, ZeroFilledImporterDrawsNoMissingLibrary) {
  testing::Machine m;
  m.WorkingDriver();
  m.TorchVenv("2.11.0+cu130", "13.0");
  Dist(m, "torch", "2.11.0+cu130", {});
  m.Write(std::string(kSite) + "torch/lib/libtorch_cuda.so", std::string(65536, '\0'));
  auto ids = m.Ids();
  for (const auto& id : ids)
    EXPECT_EQ(id.find("framework-cuda-library-missing"), std::string::npos)
        << ::testing::PrintToString(ids);
}

}  // namespace
}  // namespace dlrig
