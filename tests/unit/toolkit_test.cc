#include "probe/toolkit.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace dlrig {
namespace {

TEST(ToolkitTest, VersionParsers) {
  EXPECT_EQ(*ParseToolkitVersionJson(R"({"cuda":{"name":"CUDA SDK","version":"12.6.3"}})"),
            "12.6.3");
  EXPECT_FALSE(ParseToolkitVersionJson("{not json"));
  EXPECT_FALSE(ParseToolkitVersionJson(R"({"cuda":{"version":12}})"));
  EXPECT_FALSE(ParseToolkitVersionJson("[1,2]"));
  EXPECT_EQ(*ParseToolkitVersionTxt("CUDA Version 10.2.89\n"), "10.2.89");
  EXPECT_FALSE(ParseToolkitVersionTxt("garbage"));
  EXPECT_EQ(*ParseCudaHeaderVersion("#ifndef X\n#define CUDA_VERSION 12040\n"), "12.4");
  EXPECT_FALSE(ParseCudaHeaderVersion("#define CUDA_VERSION abc\n"));
}

TEST(ToolkitTest, FixtureTree) {
  testing::TempTree t;
  t.Write("usr/local/cuda-12.4/version.json", R"({"cuda":{"version":"12.4.1"}})");
  t.Write("usr/local/cuda-12.4/bin/nvcc", "");
  t.Write("usr/local/cuda-11.8/version.txt", "CUDA Version 11.8.89\n");
  t.Mkdir("usr/local/cuda-11.8/bin");
  t.Write("usr/local/cuda-12.1/version.json", "garbage {");
  t.Write("usr/local/cuda-12.1/bin/nvcc", "");
  t.Link("/usr/local/cuda-12.4", "usr/local/cuda");
  Environment env;
  env.Set("PATH", "/usr/local/cuda/bin:/usr/bin");
  env.Set("CUDA_HOME", "/usr/local/cuda-10.0");
  testing::Fixture f(t.dir().string(), env);
  ToolkitFacts k = ProbeToolkits(f.ctx(), DpkgFacts{});
  ASSERT_EQ(k.toolkits.size(), 3u);
  EXPECT_EQ(k.toolkits[0].path, "/usr/local/cuda-11.8");
  EXPECT_EQ(*k.toolkits[0].version, "11.8.89");
  EXPECT_FALSE(k.toolkits[0].nvcc);
  EXPECT_EQ(k.toolkits[1].path, "/usr/local/cuda-12.1");
  EXPECT_FALSE(k.toolkits[1].version);  // garbage version.json, no other source
  EXPECT_EQ(*k.toolkits[2].version, "12.4.1");
  EXPECT_EQ(k.toolkits[2].version_source, "/usr/local/cuda-12.4/version.json");
  EXPECT_EQ(k.toolkits[2].aliases, std::vector<std::string>{"/usr/local/cuda"});
  ASSERT_EQ(k.nvcc_on_path.size(), 1u);
  EXPECT_EQ(k.nvcc_on_path[0], "/usr/local/cuda/bin/nvcc");
  EXPECT_EQ(k.variables[0].name, "CUDA_HOME");
  EXPECT_FALSE(k.variables[0].exists);
  EXPECT_FALSE(k.variables[1].value);
}

TEST(ToolkitTest, DistroToolkitInUsr) {
  testing::TempTree t;
  t.Write("usr/bin/nvcc", "");
  t.Write("usr/include/cuda.h", "#define CUDA_VERSION 12000\n");
  testing::Fixture f(t.dir().string());
  ToolkitFacts k = ProbeToolkits(f.ctx(), DpkgFacts{});
  ASSERT_EQ(k.toolkits.size(), 1u);
  EXPECT_EQ(k.toolkits[0].path, "/usr");
  EXPECT_EQ(*k.toolkits[0].version, "12.0");
}

TEST(ToolkitTest, H100Capture) {
  auto cap = testing::H100Capture();
  if (!cap) GTEST_SKIP() << "capture not present";
  ToolkitFacts k = ProbeToolkits(cap->ctx(), ProbeDpkg(cap->ctx()));
  ASSERT_EQ(k.toolkits.size(), 1u);
  const CudaToolkit& tk = k.toolkits[0];
  EXPECT_EQ(tk.path, "/usr/local/cuda-13.0");
  ASSERT_TRUE(tk.version);
  EXPECT_EQ(*tk.version, "13.0.96");
  EXPECT_EQ(tk.version_source, "/usr/local/cuda-13.0/targets/x86_64-linux/lib/libcudart.so.13.0.96");
  EXPECT_EQ(tk.aliases.front(), "/usr/local/cuda");
  EXPECT_EQ(*tk.nvcc, "/usr/local/cuda-13.0/bin/nvcc");
  EXPECT_EQ(tk.dpkg_package, "cuda-cudart-13-0 13.0.96-1");
  ASSERT_FALSE(k.nvcc_on_path.empty());
  EXPECT_EQ(k.nvcc_on_path[0], "/usr/local/cuda/bin/nvcc");
  EXPECT_EQ(*k.variables[0].value, "/usr/local/cuda");
  EXPECT_TRUE(k.variables[0].exists);
}

}  // namespace
}  // namespace dlrig
