#include "probe/python.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>

#include "knowledge/embedded.h"
#include "test_util.h"

namespace dlrig {
namespace {

using dlrig::testing::Fixture;
using dlrig::testing::TempTree;

const Framework* FindFramework(const PythonEnv& env, const std::string& name) {
  for (const Framework& f : env.frameworks)
    if (f.name == name) return &f;
  return nullptr;
}
const LibraryLoad* FindLoad(const Framework& fw, const std::string& prefix) {
  for (const LibraryLoad& l : fw.loads)
    if (l.soname.rfind(prefix, 0) == 0) return &l;
  return nullptr;
}

TEST(PythonParseTest, DistInfoNames) {
  auto d = ParseDistInfoName("nvidia_cudnn_cu13-9.19.0.56.dist-info");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->name, "nvidia-cudnn-cu13");
  EXPECT_EQ(d->version, "9.19.0.56");
  EXPECT_EQ(ParseDistInfoName("Foo.Bar-1.0-py3.12.egg-info")->name, "foo-bar");
  EXPECT_EQ(ParseDistInfoName("Foo.Bar-1.0-py3.12.egg-info")->version, "1.0");
  EXPECT_FALSE(ParseDistInfoName("torch"));
  EXPECT_FALSE(ParseDistInfoName("-1.dist-info"));
  EXPECT_EQ(NormalizeDistName("Jax_CUDA13__Plugin"), "jax-cuda13-plugin");
}

TEST(PythonParseTest, GeneratedVersionFiles) {
  std::string torch = "__version__ = '2.11.0+cu130'\ncuda: Optional[str] = '13.0'\nhip = None\n";
  EXPECT_EQ(FindPythonAssignment(torch, "__version__"), "2.11.0+cu130");
  EXPECT_EQ(FindPythonAssignment(torch, "cuda"), "13.0");
  EXPECT_EQ(FindPythonAssignment(torch, "hip"), "");
  EXPECT_FALSE(FindPythonAssignment(torch, "xpu"));
  EXPECT_FALSE(FindPythonAssignment("cudaX = '1'\nif cuda == '2':\n", "cuda"));
  std::string tf =
      "build_info = collections.OrderedDict({'cuda_version': '12.3', "
      "'is_cuda_build': True})";
  EXPECT_EQ(FindDictString(tf, "cuda_version"), "12.3");
  EXPECT_EQ(FindDictString("[(\"cuda_version\", \"11.8\")]", "cuda_version"), "11.8");
  EXPECT_FALSE(FindDictString(tf, "cudnn_version"));
}

TEST(PythonParseTest, EmbeddedWheelLayoutsParseAndCiteSources) {
  auto text = EmbeddedDataFile("wheel-layouts.toml");
  ASSERT_TRUE(text);
  auto layouts = ParseWheelLayouts(*text);
  ASSERT_TRUE(layouts) << layouts.error().message;
  ASSERT_GE(layouts->layouts.size(), 4u);
  for (const WheelLayout& l : layouts->layouts) EXPECT_FALSE(l.source.empty()) << l.framework;
  EXPECT_FALSE(ParseWheelLayouts("[[layout]\nx="));
}

// The golden facts of the H100 capture (see shared/captures/README.md).
TEST(PythonCaptureTest, TorchVenvLoadsTheWheelsCudnnNotTheSystems) {
  auto cap = dlrig::testing::H100Capture();
  if (!cap) GTEST_SKIP() << "captures not present";
  PythonFacts facts = ProbePython(cap->ctx(), ProbeLoaderConfig(cap->ctx()));
  ASSERT_FALSE(facts.envs.empty());
  const PythonEnv& env = facts.envs.front();
  EXPECT_EQ(env.prefix, "/opt/torch/.venv");
  EXPECT_EQ(env.kind, PythonEnvKind::kVenv);
  EXPECT_EQ(env.python_version.value_or(""), "3.12.3");
  EXPECT_EQ(env.python_version_source, "pyvenv.cfg");
  const Framework* torch = FindFramework(env, "torch");
  ASSERT_TRUE(torch);
  EXPECT_EQ(torch->version.value_or(""), "2.11.0+cu130");
  EXPECT_EQ(torch->built_for_cuda.value_or(""), "13.0");
  const std::string site = "/opt/torch/.venv/lib/python3.12/site-packages";
  const LibraryLoad* cudnn = FindLoad(*torch, "libcudnn.so");
  ASSERT_TRUE(cudnn);
  EXPECT_EQ(cudnn->resolution.path.value_or(""), site + "/nvidia/cudnn/lib/libcudnn.so.9");
  EXPECT_EQ(cudnn->version.value_or(""), "9.19.0.56");
  EXPECT_TRUE(cudnn->assumed_layout);
  const LibraryLoad* cudart = FindLoad(*torch, "libcudart.so");
  ASSERT_TRUE(cudart);
  EXPECT_EQ(cudart->soname, "libcudart.so.13");
  EXPECT_EQ(cudart->resolution.path.value_or(""), site + "/nvidia/cu13/lib/libcudart.so.13");
  const LibraryLoad* nccl = FindLoad(*torch, "libnccl.so");
  ASSERT_TRUE(nccl);
  EXPECT_EQ(nccl->version.value_or(""), "2.28.9");
  EXPECT_EQ(nccl->version_source, "nvidia-nccl-cu13 wheel (dist-info)");
  const Framework* jax = FindFramework(env, "jax");
  ASSERT_TRUE(jax);
  EXPECT_EQ(jax->version.value_or(""), "0.11.2");
  EXPECT_EQ(jax->built_for_cuda.value_or(""), "13");
  EXPECT_NE(std::find(jax->details.begin(), jax->details.end(), "jax-cuda13-plugin 0.11.2"),
            jax->details.end());
}

// A hostile tree: 10,000 entries, garbage files, link loops, broken links, huge files.
TEST(PythonTreeTest, BrokenThingsBecomeUnknownsNotCrashes) {
  TempTree t;
  std::string site = "venv/lib/python3.11/site-packages";
  t.Write("venv/pyvenv.cfg", "garbage\0\xff\n= =\n");
  for (int i = 0; i < 10000; ++i) t.Mkdir(site + "/pkg" + std::to_string(i) + "-1.0.dist-info");
  t.Mkdir(site + "/torch-2.4.0.dist-info");
  t.Link("loop1", site + "/torch/version.py");
  t.Link(site + "/torch/version.py", "loop1");  // dangling relative chain: loop or missing
  t.Mkdir(site + "/jax-0.4.30.dist-info");
  t.Mkdir(site + "/tensorflow-2.17.0.dist-info");
  t.Write(site + "/tensorflow/python/platform/build_info.py", std::string(5 << 20, 'x'));
  t.Mkdir(site + "/nvidia_cudnn_cu12-9.1.0.70.dist-info");
  Fixture f(t.dir().string(), Environment(std::map<std::string, std::string>{
                                  {"VIRTUAL_ENV", "/venv"}, {"PATH", "/nowhere"}}));
  auto start = std::chrono::steady_clock::now();
  PythonFacts facts = ProbePython(f.ctx(), ProbeLoaderConfig(f.ctx()));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  ASSERT_EQ(facts.envs.size(), 1u);
  const PythonEnv& env = facts.envs[0];
  EXPECT_TRUE(env.active);
  EXPECT_EQ(env.python_version.value_or(""), "3.11");  // from lib/python3.11
  ASSERT_TRUE(env.dists);
  EXPECT_GE(env.dists->size(), 10000u);
  const Framework* torch = FindFramework(env, "torch");
  ASSERT_TRUE(torch);
  EXPECT_EQ(torch->version.value_or(""), "2.4.0");  // from the dist-info when version.py is broken
  EXPECT_FALSE(torch->built_for_cuda);
  const Framework* tf = FindFramework(env, "tensorflow");
  ASSERT_TRUE(tf);
  ASSERT_FALSE(tf->built_for_cuda);
  EXPECT_EQ(tf->built_for_cuda.error().kind, ErrorKind::kTooLarge);
  ASSERT_EQ(env.nvidia_wheels.size(), 1u);
  EXPECT_EQ(env.nvidia_wheels[0].name, "nvidia-cudnn-cu12");
}

TEST(PythonTreeTest, CondaEnvAndShadowingUserSite) {
  TempTree t;
  t.Write("root/miniforge3/conda-meta/python-3.12.4-h1_0.json", "{}");
  t.Write("root/miniforge3/conda-meta/cuda-version-12.4-h3_3.json", "{}");
  t.Write("root/miniforge3/conda-meta/numpy-2.0.0-py312_0.json", "{}");
  t.Write("root/miniforge3/lib/python3.12/site-packages/torch/version.py",
          "__version__ = '2.5.1'\ncuda = '12.4'\n");
  t.Mkdir("root/miniforge3/lib/python3.12/site-packages/torch-2.5.1.dist-info");
  t.Mkdir("root/.local/lib/python3.12/site-packages/torch-2.3.0.dist-info");
  Fixture f(t.dir().string(), Environment(std::map<std::string, std::string>{{"HOME", "/root"}}));
  PythonFacts facts = ProbePython(f.ctx(), ProbeLoaderConfig(f.ctx()));
  ASSERT_EQ(facts.envs.size(), 1u);
  const PythonEnv& env = facts.envs[0];
  EXPECT_EQ(env.kind, PythonEnvKind::kConda);
  EXPECT_EQ(env.python_version.value_or(""), "3.12.4");
  ASSERT_TRUE(env.conda_packages);
  ASSERT_EQ(env.conda_packages->size(), 2u);  // python and cuda-version, not numpy
  const Framework* torch = FindFramework(env, "torch");
  ASSERT_TRUE(torch);
  EXPECT_EQ(torch->built_for_cuda.value_or(""), "12.4");
  ASSERT_EQ(torch->loads.size(), 3u);  // libtorch_cuda.so is missing: unknowns, with reasons
  EXPECT_FALSE(torch->loads[0].resolution.path);
  ASSERT_EQ(env.user_sites.size(), 1u);
  EXPECT_TRUE(env.user_sites[0].applies);
  EXPECT_EQ(env.user_sites[0].packages, std::vector<std::string>{"torch 2.3.0"});
}

// Issue 14: a zero-filled libtorch_cuda.so is no ELF file: what it loads is unknown (it gave
// "needs libcudart.so.13, which the loader cannot find"), and so is its GPU code. A FIFO there
// fails at once with its type instead of blocking the probe.
TEST(PythonTreeTest, UnreadableImporterMeansUnknownLoadsNotMissingOnes) {
  for (bool fifo : {false, true}) {
    TempTree t;
    std::string site = "opt/venv/lib/python3.12/site-packages/";
    t.Write("opt/venv/pyvenv.cfg", "home = /usr/bin\nversion_info = 3.12.3\n");
    t.Write(site + "torch/version.py", "__version__ = '2.11.0+cu130'\ncuda = '13.0'\n");
    t.Mkdir(site + "torch-2.11.0+cu130.dist-info");
    std::string lib = (t.dir() / site / "torch/lib/libtorch_cuda.so").string();
    if (fifo) {
      t.Mkdir(site + "torch/lib");
      ASSERT_EQ(::mkfifo(lib.c_str(), 0644), 0);
    } else {
      t.Write(site + "torch/lib/libtorch_cuda.so", std::string(65536, '\0'));
    }
    Fixture f(t.dir().string(),
              Environment(std::map<std::string, std::string>{{"VIRTUAL_ENV", "/opt/venv"}}));
    PythonFacts facts = ProbePython(f.ctx(), ProbeLoaderConfig(f.ctx()));
    ASSERT_EQ(facts.envs.size(), 1u);
    const Framework* torch = FindFramework(facts.envs[0], "torch");
    ASSERT_TRUE(torch);
    EXPECT_TRUE(torch->loads.empty()) << torch->loads.size() << " loads from a non-ELF importer";
    ASSERT_TRUE(torch->loads_error);
    EXPECT_NE(torch->loads_error->message.find("libtorch_cuda.so"), std::string::npos);
    ASSERT_TRUE(torch->kernels);
    ASSERT_FALSE(*torch->kernels);
    if (fifo) {
      EXPECT_NE(torch->loads_error->message.find("is a FIFO"), std::string::npos)
          << torch->loads_error->message;
      EXPECT_NE(torch->kernels->error().message.find("is a FIFO"), std::string::npos);
    } else {
      EXPECT_EQ(torch->loads_error->kind, ErrorKind::kMalformed) << torch->loads_error->message;
    }
  }
}

TEST(PythonTreeTest, HundredCondaEnvsStayFast) {
  TempTree t;
  for (int i = 0; i < 100; ++i) {
    std::string env = "opt/conda/envs/e" + std::to_string(i);
    for (const char* pkg : {"python-3.11.9-h_0.json", "pytorch-2.4.0-py3.11_cuda12.1_0.json",
                            "cuda-version-12.1-h_3.json", "numpy-1.26-py_0.json"})
      t.Write(env + "/conda-meta/" + pkg, "{}");
    t.Write(env + "/lib/python3.11/site-packages/torch/version.py", "cuda = '12.1'\n");
    t.Mkdir(env + "/lib/python3.11/site-packages/torch-2.4.0.dist-info");
  }
  Fixture f(t.dir().string());
  auto start = std::chrono::steady_clock::now();
  PythonFacts facts = ProbePython(f.ctx(), ProbeLoaderConfig(f.ctx()));
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  start)
                .count();
  EXPECT_EQ(facts.envs.size(), 100u);
  RecordProperty("probe_ms", static_cast<int>(ms));
}

}  // namespace
}  // namespace dlrig
