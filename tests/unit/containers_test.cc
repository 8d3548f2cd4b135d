#include "probe/containers.h"

#include <gtest/gtest.h>

#include "probe/shell.h"
#include "test_util.h"

namespace dlrig {
namespace {

TEST(ContainersTest, NvidiaRuntimeAndCdiFromFiles) {
  testing::TempTree t;
  t.Write("etc/docker/daemon.json",
          R"({"runtimes":{"nvidia":{"path":"nvidia-container-runtime"}},"default-runtime":"nvidia"})");
  t.Write("etc/nvidia-container-runtime/config.toml", "[nvidia-container-runtime]\nmode = \"cdi\"\n");
  t.Write("etc/cdi/nvidia.yaml", "cdiVersion: 0.5.0\nkind: nvidia.com/gpu\ndevices:\n- name: \"0\"\n- name: all\n");
  t.Write("var/run/cdi/broken.json", "{not json");
  t.Write("usr/bin/nvidia-ctk", "");
  testing::Fixture f(t.dir().string(), Environment(std::map<std::string, std::string>{{"PATH", "/usr/bin"}}));
  ContainerFacts c = ProbeContainers(f.ctx());
  ASSERT_TRUE(c.daemon_json);
  EXPECT_EQ(c.daemon_json->runtimes, std::vector<std::string>{"nvidia"});
  EXPECT_EQ(c.daemon_json->default_runtime, "nvidia");
  EXPECT_EQ(*c.nvidia_runtime_mode, "cdi");
  ASSERT_EQ(c.cdi_specs.size(), 2u);
  ASSERT_TRUE(c.cdi_specs[0]);
  EXPECT_EQ(c.cdi_specs[0]->kind, "nvidia.com/gpu");
  EXPECT_EQ(c.cdi_specs[0]->devices, (std::vector<std::string>{"0", "all"}));
  EXPECT_EQ(c.cdi_specs[1].error().kind, ErrorKind::kMalformed);
  ASSERT_EQ(c.nvidia_tools.size(), 1u);
  EXPECT_EQ(c.nvidia_tools[0].first, "nvidia-ctk");
  EXPECT_EQ(c.daemon.error().kind, ErrorKind::kNotFound);
}

TEST(ContainersTest, GarbageDaemonJsonAndToml) {
  testing::TempTree t;
  t.Write("etc/docker/daemon.json", "[1,2");
  t.Write("etc/nvidia-container-runtime/config.toml", "[[[ nonsense");
  testing::Fixture f(t.dir().string());
  ContainerFacts c = ProbeContainers(f.ctx());
  EXPECT_EQ(c.daemon_json.error().kind, ErrorKind::kMalformed);
  EXPECT_EQ(c.nvidia_runtime_mode.error().kind, ErrorKind::kMalformed);
}

TEST(ShellTest, PathsStartupFilesAndVariables) {
  testing::TempTree t;
  t.Write("usr/local/cuda-12.1/bin/nvcc", "");
  t.Write("usr/local/cuda-11.8/lib64/libcudart.so.11.8.89", "");
  t.Write("usr/local/cuda-11.8/lib64/libcudart.so.11.0", "");
  t.Write("root/.bashrc",
          "# >>> conda initialize >>>\n__conda_setup=x\n# <<< conda initialize <<<\n"
          "export LD_LIBRARY_PATH=/usr/local/cuda-11.8/lib64:$LD_LIBRARY_PATH\n");
  Environment env(std::map<std::string, std::string>{{"PATH", "/usr/local/cuda-12.1/bin:/nonexistent:relative"},
                   {"LD_LIBRARY_PATH", "/usr/local/cuda-11.8/lib64"},
                   {"CUDA_VISIBLE_DEVICES", ""},
                   {"HOME", "/root"}});
  testing::Fixture f(t.dir().string(), env);
  ShellFacts s = ProbeShell(f.ctx());
  ASSERT_EQ(s.path.size(), 3u);
  EXPECT_EQ(s.path[0].note, "has nvcc");
  EXPECT_FALSE(s.path[1].exists);
  EXPECT_NE(s.path[2].note.find("relative"), std::string::npos);
  ASSERT_EQ(s.ld_library_path.size(), 1u);
  EXPECT_EQ(s.ld_library_path[0].note, "libcudart.so.11.8.89");
  ASSERT_EQ(s.startup_lines.size(), 2u);
  EXPECT_EQ(s.startup_lines[0].kind, "conda-init");
  EXPECT_EQ(s.startup_lines[1].kind, "ld-library-path");
  EXPECT_EQ(s.startup_lines[1].line, 4);
  bool empty_cvd = false;
  for (auto& [k, v] : s.variables) empty_cvd |= (k == "CUDA_VISIBLE_DEVICES" && v.empty());
  EXPECT_TRUE(empty_cvd);
  EXPECT_FALSE(s.gcc);  // not on this PATH
}

TEST(ShellTest, PipCmakeVersionComesFromItsDistInfo) {
  testing::TempTree t;
  t.Write("venv/bin/cmake", "#!/venv/bin/python3\nimport sys\nfrom cmake import cmake\n");
  t.Mkdir("venv/lib/python3.12/site-packages/cmake-4.4.3.dist-info");
  testing::Fixture f(t.dir().string(),
                     Environment(std::map<std::string, std::string>{{"PATH", "/venv/bin"}}));
  ShellFacts s = ProbeShell(f.ctx());
  ASSERT_TRUE(s.cmake);
  EXPECT_EQ(s.cmake->path, "/venv/bin/cmake");
  EXPECT_EQ(*s.cmake->version, "4.4.3");  // the NoRunner could not have run it
}

TEST(ShellTest, ToolVersions) {
  EXPECT_EQ(*ParseToolVersion("12.2.0\n"), "12.2.0");
  EXPECT_EQ(*ParseToolVersion("cmake version 3.25.1\n\nCMake suite"), "3.25.1");
  EXPECT_FALSE(ParseToolVersion("no digits"));
}

}  // namespace
}  // namespace dlrig
