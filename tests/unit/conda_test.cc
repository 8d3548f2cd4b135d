#include "probe/conda.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace dlrig {
namespace {

using dlrig::testing::Fixture;
using dlrig::testing::TempTree;

TEST(CondaTest, ParsesMetaFileNames) {
  auto p = ParseCondaMetaName("pytorch-2.5.1-py3.12_cuda12.4_cudnn9.1.0_0.json");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->name, "pytorch");
  EXPECT_EQ(p->version, "2.5.1");
  EXPECT_EQ(p->build, "py3.12_cuda12.4_cudnn9.1.0_0");
  auto dashed = ParseCondaMetaName("cuda-version-12.4-h3060b56_3.json");
  ASSERT_TRUE(dashed);
  EXPECT_EQ(dashed->name, "cuda-version");
  EXPECT_EQ(dashed->version, "12.4");
  EXPECT_FALSE(ParseCondaMetaName("history"));
  EXPECT_FALSE(ParseCondaMetaName("-1-2.json"));
  EXPECT_FALSE(ParseCondaMetaName("a-b.json"));
  EXPECT_TRUE(IsCondaCudaPackage("cuda-cudart"));
  EXPECT_FALSE(IsCondaCudaPackage("numpy"));
}

TEST(CondaTest, FindsEnvsFromEveryPlaceOnce) {
  TempTree t;
  t.Write("root/miniconda3/conda-meta/python-3.11.9-h955ad1f_0.json", "{}");
  t.Write("root/miniconda3/envs/ml/conda-meta/pytorch-2.5.1-py3.12_cuda12.4_0.json", "{}");
  t.Mkdir("root/miniconda3/envs/not-an-env");
  t.Write("home/ann/.conda/environments.txt",
          "/root/miniconda3/envs/ml\n/gone/env\n\n/opt/conda\n");
  t.Write("opt/conda/conda-meta/cudnn-9.1.1.17-cuda12_0.json", "{}");
  Fixture f(t.dir().string(),
            Environment(std::map<std::string, std::string>{{"CONDA_PREFIX", "/opt/conda"}}));
  auto envs = FindCondaEnvs(f.ctx());
  ASSERT_EQ(envs.size(), 3u);
  EXPECT_EQ(envs[0].prefix, "/opt/conda");
  EXPECT_EQ(envs[0].origins.front(), "CONDA_PREFIX");
  EXPECT_EQ(envs[1].prefix, "/root/miniconda3");
  EXPECT_EQ(envs[2].prefix, "/root/miniconda3/envs/ml");
  auto pkgs = ListCondaPackages(f.root, "/root/miniconda3/envs/ml");
  ASSERT_TRUE(pkgs);
  ASSERT_EQ(pkgs->size(), 1u);
  EXPECT_EQ(pkgs->front().build, "py3.12_cuda12.4_0");
  EXPECT_FALSE(ListCondaPackages(f.root, "/gone"));
}

}  // namespace
}  // namespace dlrig
