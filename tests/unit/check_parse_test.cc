// The project-file readers behind `dlrig check`: each fact with the line it came from.
#include <gtest/gtest.h>

#include "plan/project_files.h"
#include "test_util.h"

namespace dlrig {
namespace {

const PackageSpec* Find(const std::vector<PackageSpec>& ps, std::string_view name) {
  for (const auto& p : ps)
    if (p.name == name) return &p;
  return nullptr;
}

TEST(CheckParse, PipRequirementForms) {
  auto tagged = ParsePipRequirement("torch==2.1.0+cu121 ; sys_platform == 'linux'", {});
  ASSERT_TRUE(tagged);
  EXPECT_EQ(tagged->name, "torch");
  ASSERT_TRUE(tagged->version);
  EXPECT_EQ(tagged->version->text, "2.1.0+cu121");
  EXPECT_EQ(tagged->version->suffix, "+cu121");
  EXPECT_EQ(tagged->marker, "sys_platform == 'linux'");

  auto wildcard = ParsePipRequirement("Flash_Attn==2.5.*", {});
  ASSERT_TRUE(wildcard);
  EXPECT_EQ(wildcard->name, "flash-attn");
  EXPECT_EQ(wildcard->version->text, "2.5");
  EXPECT_FALSE(ParsePipRequirement("torch>=2.1,<2.3", {})->version);  // a range pins nothing
  EXPECT_FALSE(ParsePipRequirement("torch~=2.1.0", {})->version);

  auto egg = ParsePipRequirement(
      "git+https://github.com/NVIDIA/apex.git#egg=apex --global-option=\"--cpp_ext\" "
      "--global-option=\"--cuda_ext\"",
      {});
  ASSERT_TRUE(egg);
  EXPECT_EQ(egg->name, "apex");
  EXPECT_TRUE(egg->from_source);
  ASSERT_EQ(egg->options.size(), 2u);
  EXPECT_EQ(egg->options[1], "--global-option=\"--cuda_ext\"");

  auto repo = ParsePipRequirement("git+https://github.com/Dao-AILab/flash-attention@v2.6.3", {});
  ASSERT_TRUE(repo);
  EXPECT_EQ(repo->name, "flash-attention");
  EXPECT_TRUE(repo->from_source);

  auto wheel = ParsePipRequirement(
      "https://download.pytorch.org/whl/cu118/torch-2.1.0%2Bcu118-cp310-cp310-linux_x86_64.whl",
      {});
  ASSERT_TRUE(wheel);
  EXPECT_EQ(wheel->name, "torch");
  EXPECT_EQ(wheel->version->text, "2.1.0+cu118");
  EXPECT_FALSE(wheel->from_source);

  auto at = ParsePipRequirement("apex @ git+https://github.com/NVIDIA/apex", {});
  ASSERT_TRUE(at);
  EXPECT_EQ(at->name, "apex");
  EXPECT_TRUE(at->from_source);

  EXPECT_FALSE(ParsePipRequirement("this is prose, not a requirement", {}));
  EXPECT_FALSE(ParsePipRequirement("torch=2.1", {}));  // conda syntax: pip refuses it
}

TEST(CheckParse, RequirementsFileLinesOptionsAndContinuations) {
  auto facts = ParseRequirements(
      "# comment\n--index-url "
      "https://download.pytorch.org/whl/cu121\n--extra-index-url=https://pypi.org/simple\n"
      "torch==2.1.0 \\\n    --hash=sha256:abc\n\ntorchvision==0.16.0  # pinned\n-e "
      "./vendor/apex\n-r base.txt\n",
      "req.txt");
  ASSERT_TRUE(facts) << facts.error().message;
  ASSERT_EQ(facts->indexes.size(), 2u);
  EXPECT_EQ(facts->indexes[0].url, "https://download.pytorch.org/whl/cu121");
  EXPECT_FALSE(facts->indexes[0].extra);
  EXPECT_EQ(facts->indexes[0].at.line, 2);
  EXPECT_TRUE(facts->indexes[1].extra);
  const PackageSpec* torch = Find(facts->packages, "torch");
  ASSERT_TRUE(torch);
  EXPECT_EQ(torch->at.line, 4);  // a continued line is reported where it starts
  EXPECT_EQ(Find(facts->packages, "torchvision")->at.line, 7);
  EXPECT_EQ(Find(facts->packages, "torchvision")->at.text, "torchvision==0.16.0");
  ASSERT_TRUE(Find(facts->packages, "apex"));
  EXPECT_TRUE(Find(facts->packages, "apex")->from_source);
  ASSERT_EQ(facts->includes.size(), 1u);
  EXPECT_EQ(facts->includes[0], "base.txt");
}

TEST(CheckParse, RequirementsGarbageNamesTheLine) {
  auto facts = ParseRequirements("numpy\nthis is not a requirement\n", "req.txt");
  ASSERT_FALSE(facts);
  EXPECT_EQ(facts.error().kind, ErrorKind::kMalformed);
  EXPECT_NE(facts.error().message.find("req.txt:2:"), std::string::npos) << facts.error().message;
  EXPECT_FALSE(ParseRequirements(std::string("torch\n\x00\x01", 8), "bin.txt"));
}

TEST(CheckParse, IncludesAreReadRelativeToTheirFile) {
  testing::TempTree tree;
  tree.Write("proj/requirements.txt", "-r deps/base.txt\ntorch==2.1.0\n");
  tree.Write("proj/deps/base.txt",
             "--index-url https://download.pytorch.org/whl/cu118\n-r ../requirements.txt\n"
             "numpy==1.26.4\n");
  auto facts = LoadProjectFile((tree.dir() / "proj/requirements.txt").string(), std::nullopt);
  ASSERT_TRUE(facts) << facts.error().message;
  EXPECT_EQ(facts->kind, ProjectFileKind::kRequirements);
  const PackageSpec* numpy = Find(facts->packages, "numpy");
  ASSERT_TRUE(numpy);
  EXPECT_NE(numpy->at.file.find("deps/base.txt"), std::string::npos) << numpy->at.file;
  EXPECT_EQ(numpy->at.line, 3);
  ASSERT_EQ(facts->indexes.size(), 1u);  // the cycle back to requirements.txt is read once

  tree.Write("proj/broken.txt", "-r missing.txt\n");
  auto missing = LoadProjectFile((tree.dir() / "proj/broken.txt").string(), std::nullopt);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("missing.txt"), std::string::npos)
      << missing.error().message;
  EXPECT_NE(missing.error().message.find("broken.txt"), std::string::npos);
}

TEST(CheckParse, CondaSpecs) {
  auto fuzzy = ParseCondaSpec("pytorch=2.1.*=*cuda*", {});
  ASSERT_TRUE(fuzzy);
  EXPECT_EQ(fuzzy->name, "pytorch");
  EXPECT_EQ(fuzzy->version->text, "2.1");
  EXPECT_EQ(fuzzy->build, "*cuda*");
  auto channel = ParseCondaSpec("pytorch::pytorch==2.1.0=py3.10_cuda12.1_cudnn8_0", {});
  ASSERT_TRUE(channel);
  EXPECT_EQ(channel->channel, "pytorch");
  EXPECT_EQ(channel->version->text, "2.1.0");
  EXPECT_EQ(channel->build, "py3.10_cuda12.1_cudnn8_0");
  auto spaced = ParseCondaSpec("cudatoolkit 11.3.1 h2bc3f7f_2", {});
  ASSERT_TRUE(spaced);
  EXPECT_EQ(spaced->version->text, "11.3.1");
  EXPECT_FALSE(ParseCondaSpec("numpy >=1.24", {})->version);
  EXPECT_FALSE(ParseCondaSpec("pytorch=2.1|2.2", {})->version);
  auto label = ParseCondaSpec("nvidia/label/cuda-12.1.1::cuda", {});
  ASSERT_TRUE(label);
  EXPECT_EQ(label->name, "cuda");
}

TEST(CheckParse, CondaEnvironmentWithPipSublist) {
  auto facts = ParseCondaEnvironment(
      "name: x\nchannels: [pytorch, nvidia]\ndependencies:\n  - python=3.10\n  - "
      "pytorch-cuda=12.1\n  - pip:\n"
      "    - --extra-index-url https://download.pytorch.org/whl/cu121\n    - torchaudio==2.1.0\n",
      "environment.yml");
  ASSERT_TRUE(facts) << facts.error().message;
  ASSERT_EQ(facts->channels.size(), 2u);
  ASSERT_TRUE(facts->python);
  EXPECT_EQ(facts->python->version->text, "3.10");
  EXPECT_EQ(facts->python->at.line, 4);
  const PackageSpec* cuda = Find(facts->packages, "pytorch-cuda");
  ASSERT_TRUE(cuda);
  EXPECT_EQ(cuda->at.text, "- pytorch-cuda=12.1");
  EXPECT_EQ(cuda->manager, "conda");
  const PackageSpec* audio = Find(facts->packages, "torchaudio");
  ASSERT_TRUE(audio);
  EXPECT_EQ(audio->manager, "pip");
  EXPECT_EQ(audio->at.line, 8);
  ASSERT_EQ(facts->indexes.size(), 1u);
  EXPECT_EQ(facts->indexes[0].at.line, 7);

  auto not_env = ParseCondaEnvironment("services:\n  a: {}\n", "compose.yml");
  ASSERT_FALSE(not_env);
  EXPECT_NE(not_env.error().message.find("dependencies"), std::string::npos);
}

TEST(CheckParse, Pyproject) {
  auto facts = ParsePyproject(
      "[project]\nname = \"p\"\nrequires-python = \">=3.10\"\ndependencies = [\n  "
      "\"torch==2.5.1\",\n"
      "  \"numpy\",\n]\n[project.optional-dependencies]\ngpu = [\"flash-attn==2.6.3\"]\n"
      "[[tool.uv.index]]\nname = \"pytorch-cu124\"\nurl = "
      "\"https://download.pytorch.org/whl/cu124\"\n",
      "pyproject.toml");
  ASSERT_TRUE(facts) << facts.error().message;
  const PackageSpec* torch = Find(facts->packages, "torch");
  ASSERT_TRUE(torch);
  EXPECT_EQ(torch->at.line, 5);
  ASSERT_TRUE(Find(facts->packages, "flash-attn"));
  ASSERT_TRUE(facts->python);
  EXPECT_EQ(facts->python->spec, ">=3.10");
  ASSERT_EQ(facts->indexes.size(), 1u);
  EXPECT_EQ(facts->indexes[0].at.line, 12);
  EXPECT_FALSE(ParsePyproject("[project\n", "broken.toml"));
  // toml++ 3.3.0 assumes a key after "[": found by fuzzing, refused before it parses.
  auto header = ParsePyproject("[project]\n[# pro", "pyproject.toml");
  ASSERT_FALSE(header);
  EXPECT_NE(header.error().message.find("pyproject.toml:2:"), std::string::npos)
      << header.error().message;
  EXPECT_FALSE(ParsePyproject("[`r:`", "pyproject.toml"));
  // A line inside an array or a multi-line string may start with '[' without being a header.
  EXPECT_TRUE(ParsePyproject("[tool.x]\nm = [\n  [1, 2],\n  [ ],\n]\ns = \"\"\"\n[# text\n\"\"\"\n",
                             "pyproject.toml"));
}

TEST(CheckParse, DockerfileStagesArgsAndRunInstalls) {
  auto facts = ParseDockerfile(
      "# syntax=docker/dockerfile:1\nARG CUDA=12.4.1\nFROM "
      "nvidia/cuda:${CUDA}-cudnn-devel-ubuntu22.04 AS build\n"
      "ENV NVIDIA_DRIVER_CAPABILITIES compute,utility\n"
      "RUN pip install torch==2.4.1 --index-url https://download.pytorch.org/whl/cu124 && \\\n"
      "    git clone https://github.com/NVIDIA/apex && cd apex && \\\n"
      "    DS_BUILD_OPS=1 pip install -v --config-settings \"--build-option=--cuda_ext\" ./\n"
      "FROM build\nFROM docker.io/library/python:3.11-slim\n",
      "Dockerfile");
  ASSERT_TRUE(facts) << facts.error().message;
  ASSERT_EQ(facts->stages.size(), 3u);
  const DockerStage& s = facts->stages[0];
  EXPECT_EQ(s.image.name, "nvidia/cuda");
  EXPECT_EQ(s.image.tag, "12.4.1-cudnn-devel-ubuntu22.04");
  EXPECT_EQ(s.image.at.line, 3);
  ASSERT_EQ(s.indexes.size(), 1u);
  EXPECT_EQ(s.indexes[0].at.line, 5);
  const PackageSpec* apex = Find(s.packages, "apex");
  ASSERT_TRUE(apex);
  EXPECT_EQ(apex->at.line, 7);  // the physical line the "./" is on
  EXPECT_TRUE(apex->from_source);
  ASSERT_FALSE(apex->options.empty());
  bool ds = false, caps = false;
  for (const auto& e : s.env) {
    ds = ds || (e.name == "DS_BUILD_OPS" && e.value == "1");
    caps = caps || (e.name == "NVIDIA_DRIVER_CAPABILITIES" && e.value == "compute,utility" &&
                    e.at.line == 4);
  }
  EXPECT_TRUE(ds);
  EXPECT_TRUE(caps);
  EXPECT_EQ(facts->stages[1].image.tag, "12.4.1-cudnn-devel-ubuntu22.04");  // FROM an earlier stage
  EXPECT_EQ(facts->stages[1].image.at.line, 8);
  EXPECT_EQ(facts->stages[2].image.name, "python");

  EXPECT_FALSE(ParseDockerfile("RUN echo no base\n", "Dockerfile"));
  EXPECT_FALSE(ParseDockerfile("", "Dockerfile"));
}

TEST(CheckParse, ComposeGpuStanzas) {
  auto facts = ParseCompose(
      "services:\n  a:\n    image: nvcr.io/nvidia/pytorch:24.05-py3\n    runtime: nvidia\n    "
      "environment:\n"
      "      - NVIDIA_VISIBLE_DEVICES=all\n    deploy:\n      resources:\n        reservations:\n  "
      "        devices:\n"
      "            - driver: nvidia\n              device_ids: ['0']\n              capabilities:\n"
      "                - utility\n  b:\n    environment:\n      NVIDIA_DRIVER_CAPABILITIES: "
      "utility\n",
      "compose.yml");
  ASSERT_TRUE(facts) << facts.error().message;
  ASSERT_EQ(facts->services.size(), 2u);
  const ComposeService& a = facts->services[0];
  EXPECT_EQ(a.image->name, "nvcr.io/nvidia/pytorch");
  EXPECT_EQ(a.image->tag, "24.05-py3");
  ASSERT_TRUE(a.runtime_nvidia);
  ASSERT_EQ(a.devices.size(), 1u);
  EXPECT_EQ(a.devices[0].driver, "nvidia");
  EXPECT_EQ(a.devices[0].capabilities, std::vector<std::string>{"utility"});
  EXPECT_EQ(a.devices[0].capabilities_at.line, 13);
  EXPECT_FALSE(a.devices[0].capabilities_flow);
  ASSERT_EQ(a.env.size(), 1u);
  EXPECT_EQ(a.env[0].value, "all");
  EXPECT_EQ(facts->services[1].env[0].at.line, 17);
  EXPECT_FALSE(ParseCompose("version: '3'\n", "compose.yml"));
}

TEST(CheckParse, KindFromNameThenContent) {
  EXPECT_EQ(DetectProjectFileKind("envs/environment-gpu.yml", ""), ProjectFileKind::kConda);
  EXPECT_EQ(DetectProjectFileKind("requirements/dev-requirements.txt", ""),
            ProjectFileKind::kRequirements);
  EXPECT_EQ(DetectProjectFileKind("docker/Dockerfile.cuda", ""), ProjectFileKind::kDockerfile);
  EXPECT_EQ(DetectProjectFileKind("compose.yaml", ""), ProjectFileKind::kCompose);
  EXPECT_EQ(DetectProjectFileKind("pyproject.toml", ""), ProjectFileKind::kPyproject);
  EXPECT_EQ(DetectProjectFileKind("stack.yml", "services:\n  a: {}\n"), ProjectFileKind::kCompose);
  EXPECT_EQ(DetectProjectFileKind("gpu.yml", "name: x\ndependencies:\n  - numpy\n"),
            ProjectFileKind::kConda);
  EXPECT_EQ(DetectProjectFileKind("build", "# base\nFROM ubuntu:22.04\n"),
            ProjectFileKind::kDockerfile);
  EXPECT_EQ(DetectProjectFileKind("deps", "torch==2.1.0\nnumpy\n"), ProjectFileKind::kRequirements);
  EXPECT_EQ(DetectProjectFileKind("notes", "Some prose here.\n"), std::nullopt);
}

}  // namespace
}  // namespace dlrig
