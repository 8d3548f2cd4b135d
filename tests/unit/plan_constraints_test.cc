// The constraint functions plan and check share, and the resolver's plumbing (argv, report
// parsing, applying an answer) with a fake CommandRunner.
#include <gtest/gtest.h>

#include "plan/constraints.h"
#include "plan/pip_resolve.h"
#include "plan/resolver.h"

namespace dlrig {
namespace {

const TorchRelease& Release(const std::string& v) {
  const TorchRelease* rel = PytorchBuilds::BuiltIn()->Release(*Version::Parse(v));
  EXPECT_NE(rel, nullptr) << v;
  return *rel;
}

const TensorflowBuild& Tf(const std::string& v) {
  const TensorflowBuild* row = TensorflowBuilds::BuiltIn()->Find(*Version::Parse(v));
  EXPECT_NE(row, nullptr) << v;
  return *row;
}

TEST(PlanConstraints, TensorflowOnAGpuGetsAndCudaWhereTheReleaseHasIt) {
  EXPECT_EQ(TensorflowRequirementName(Tf("2.21.0"), GpuUse::kCuda), "tensorflow[and-cuda]");
  EXPECT_EQ(TensorflowRequirementName(Tf("2.14.0"), GpuUse::kCuda), "tensorflow[and-cuda]");
  EXPECT_EQ(TensorflowRequirementName(Tf("2.13.0"), GpuUse::kCuda), "tensorflow");
  EXPECT_EQ(TensorflowRequirementName(Tf("2.21.0"), GpuUse::kCpuOnly), "tensorflow");
}

TEST(PlanConstraints, CompanionsAndExactPins) {
  EXPECT_EQ(MissingCompanion(Release("2.13"), {"torchvision", "torchaudio"}), "");
  TorchRelease without = Release("2.13");
  without.torchaudio.reset();  // a release no torchaudio works with
  EXPECT_EQ(MissingCompanion(without, {"torchvision", "torchaudio"}), "torchaudio");
  EXPECT_EQ(TorchConstraints(Release("2.11"), {"torchaudio", "deepspeed"}),
            (std::vector<std::string>{"torch==2.11.*", "torchaudio"}));
  // cu128 is not 2.11's PyPI build (cu130): every pin carries the local version, but
  // torchaudio 2.11.1, one py3-none wheel for every CUDA (pytorch.toml `untagged`).
  auto pins = TorchTablePins(Release("2.11"), "cu128", {"torchvision", "torchaudio"});
  ASSERT_TRUE(pins);
  EXPECT_EQ(*pins, (std::vector<std::string>{"torch==2.11.0+cu128", "torchvision==0.26.0+cu128",
                                             "torchaudio==2.11.1"}));
  pins = TorchTablePins(Release("2.11"), "cu130", {});
  ASSERT_TRUE(pins);
  EXPECT_EQ(*pins, std::vector<std::string>{"torch==2.11.0"});
  pins = TorchTablePins(Release("2.13"), "cu126", {"torchaudio"});
  ASSERT_TRUE(pins);
  EXPECT_EQ(pins->back(), "torchaudio==2.11.1");
}

TEST(PlanConstraints, PypiIsAnExtraIndexOnlyBehindLocalVersionPins) {
  const std::vector<std::string> family = {"torch", "torchvision", "torchaudio"};
  EXPECT_TRUE(PinExcludesOtherVariants("torch==2.13.0+cu126"));
  EXPECT_FALSE(PinExcludesOtherVariants("torch==2.13.*"));
  EXPECT_FALSE(PinExcludesOtherVariants("torch==2.13.0"));
  EXPECT_FALSE(PinExcludesOtherVariants("torch>=2.13.0+cu126"));
  std::string idx = "https://download.pytorch.org/whl/cu126";
  auto only = IndexLines(idx, {"torch==2.13.*"}, family, false);
  ASSERT_TRUE(only);
  EXPECT_EQ(*only, std::vector<std::string>{"--index-url " + idx});
  auto both = IndexLines(idx, {"torch==2.13.0+cu126", "deepspeed"}, family, true);
  ASSERT_TRUE(both);
  EXPECT_EQ(both->back(), "--extra-index-url https://pypi.org/simple");
  // PyPI's plain 2.13.0 (cu130) satisfies torch==2.13.*: refused.
  EXPECT_FALSE(IndexLines(idx, {"torch==2.13.*", "deepspeed"}, family, true));
  EXPECT_TRUE(IndexLines("", {"torch==2.13.0"}, family, true)->empty());
}

TEST(PlanConstraints, PythonIsTheTargetOsOnesUnlessTheStackNeedsAnother) {
  const OsPythonTable& os = *OsPythonTable::BuiltIn();
  const OsPythonRow* jammy = os.Find("ubuntu", "22.04");
  const OsPythonRow* focal = os.Find("ubuntu", "20.04");
  ASSERT_TRUE(jammy && focal);
  EXPECT_EQ(os.Find("debian", "12")->python3.text, "3.11");
  EXPECT_EQ(os.Find("rocky", "9.4")->python3.text, "3.9");
  EXPECT_EQ(os.Find("ubuntu", "22.10"), nullptr);
  Version min = *Version::Parse("3.10"), max = *Version::Parse("3.14");
  auto pick = PickPython(std::nullopt, std::nullopt, jammy, PythonFreedom::kProvidable, min, max);
  ASSERT_TRUE(pick);
  EXPECT_EQ(pick->version.text, "3.10");
  EXPECT_EQ(pick->source, PythonSource::kOs);
  pick = PickPython(std::nullopt, std::nullopt, focal, PythonFreedom::kProvidable, min, max);
  ASSERT_TRUE(pick);
  EXPECT_EQ(pick->version.text, "3.10");  // nearest in range, not 3.14
  EXPECT_EQ(pick->source, PythonSource::kUv);
  EXPECT_FALSE(PickPython(std::nullopt, std::nullopt, focal, PythonFreedom::kFixed, min, max));
  EXPECT_FALSE(PickPython(Version::Parse("3.9"), std::nullopt, jammy, PythonFreedom::kProvidable, min, max));
  pick = PickPython(std::nullopt, Version::Parse("3.11.7"), jammy, PythonFreedom::kProvidable, min, max);
  EXPECT_EQ(pick->source, PythonSource::kMachine);
  EXPECT_EQ(pick->version.text, "3.11");
}

TEST(PlanConstraints, CudaMajorOfNvidiaWheels) {
  EXPECT_EQ(CudaMajorOfWheel("nvidia-cudnn-cu12", "9.1.0.70"), 12);
  EXPECT_EQ(CudaMajorOfWheel("nvidia_nccl_cu13", "2.28.9"), 13);
  EXPECT_EQ(CudaMajorOfWheel("nvidia-cuda-runtime", "13.0.96"), 13);
  EXPECT_EQ(CudaMajorOfWheel("nvidia-cufft", "12.0.0.61"), std::nullopt);  // cuFFT's own version
  EXPECT_EQ(CudaMajorOfWheel("torch", "2.11.0"), std::nullopt);
}

Plan TorchPlan(const std::string& variant, const std::string& index) {
  Plan p;
  p.torch = Version::Parse("2.11");
  p.variant = variant;
  p.cuda = CudaOfVariant(variant);
  p.index_url = index;
  p.constraints = {"torch==2.11.*", "torchaudio"};
  p.requirements = {"torch==2.11.0+cu128", "torchaudio==2.11.1+cu128"};
  return p;
}

TEST(PlanConstraints, CheckAnswerCatchesAnotherVariant) {
  Plan p = TorchPlan("cu128", "https://download.pytorch.org/whl/cu128");
  std::vector<ResolvedPackage> pypi = {{"torch", "2.11.0", "https://files.pythonhosted.org/x", true},
                                       {"nvidia-cudnn-cu13", "9.19.0.56", "", false}};
  EXPECT_NE(CheckAnswer(p, pypi).find("not the cu128 build"), std::string::npos);
  std::vector<ResolvedPackage> right = {{"torch", "2.11.0+cu128", "https://download.pytorch.org/x", true},
                                        {"torchaudio", "2.11.1+cu128", "", true},
                                        {"nvidia-cudnn-cu12", "9.10.2.21", "", false}};
  EXPECT_EQ(CheckAnswer(p, right), "");
  right.push_back({"nvidia-cuda-runtime", "13.0.96", "", false});
  EXPECT_NE(CheckAnswer(p, right).find("CUDA 13 wheel"), std::string::npos);
  Plan tf;
  tf.cuda = Version::Parse("12.5");
  tf.constraints = {"tensorflow[and-cuda]==2.21.*"};
  EXPECT_NE(CheckAnswer(tf, {{"tensorflow", "2.21.0", "", true}}).find("CPU"), std::string::npos);
  Plan jax;
  jax.constraints = {"jax[cuda12]"};
  EXPECT_NE(CheckAnswer(jax, {{"jax", "0.8.1", "", true}}).find("jax-cuda12-plugin"), std::string::npos);
  EXPECT_EQ(CheckAnswer(jax, {{"jax", "0.8.1", "", true}, {"jax_cuda12_plugin", "0.8.1", "", false}}), "");
}

TEST(PlanConstraints, ApplyResolutionWritesExactPinsOrStaysOffline) {
  Plan p = TorchPlan("cu128", "https://download.pytorch.org/whl/cu128");
  Resolution answer;
  answer.ran = true;
  answer.tool = "pip 25.0";
  answer.packages = {{"torch", "2.11.0+cu128", "", true}, {"torchaudio", "2.11.1+cu128", "", true}};
  Plan ok = p;
  ApplyResolution(ok, answer);
  EXPECT_EQ(ok.resolution.verdict, "resolved");
  EXPECT_FALSE(ok.resolution.offline);
  EXPECT_EQ(ok.requirements, (std::vector<std::string>{"torch==2.11.0+cu128", "torchaudio==2.11.1+cu128"}));
  answer.packages[0].version = "2.11.0";  // PyPI's cu130 won: the tables' pins stay
  Plan wrong = p;
  ApplyResolution(wrong, answer);
  EXPECT_EQ(wrong.resolution.verdict, "wrong-variant");
  EXPECT_TRUE(wrong.resolution.offline);
  EXPECT_EQ(wrong.requirements, p.requirements);
}

TEST(PlanConstraints, ParsesPipReportAndUvOutput) {
  auto report = ParsePipReport(R"({"version": "1", "pip_version": "24.0", "install": [
      {"metadata": {"name": "torch", "version": "2.11.0+cu128"}, "requested": true,
       "download_info": {"url": "https://download.pytorch.org/whl/cu128/torch-2.11.0.whl"}},
      {"metadata": {"name": "nvidia-cudnn-cu12", "version": "9.10.2.21"}, "requested": false}]})");
  ASSERT_TRUE(report) << report.error().message;
  ASSERT_EQ(report->size(), 2u);
  EXPECT_EQ((*report)[0].version, "2.11.0+cu128");
  EXPECT_TRUE((*report)[0].requested);
  EXPECT_FALSE(ParsePipReport("{\"install\": [{}]}"));
  EXPECT_FALSE(ParsePipReport("not json"));
  auto uv = ParseUvCompile("torch==2.11.0+cu128\nnvidia-cudnn-cu12==9.10.2.21 ; sys_platform == 'linux'\n",
                           {"torch==2.11.*"});
  ASSERT_TRUE(uv);
  EXPECT_TRUE((*uv)[0].requested);
  EXPECT_EQ((*uv)[1].version, "9.10.2.21");
}

TEST(PlanConstraints, PipArgvTargetsAnotherPythonAndPlatform) {
  ResolverRequest r;
  r.python = *Version::Parse("3.10");
  r.glibc = Version::Parse("2.35");
  r.index_url = "https://download.pytorch.org/whl/cu126";
  r.requirements = {"torch==2.13.*"};
  auto argv = PipArgv("/v/bin/python", r, "/v/report.json", true);
  auto has = [&](const std::string& a) { return std::find(argv.begin(), argv.end(), a) != argv.end(); };
  EXPECT_TRUE(has("--dry-run") && has("--ignore-installed") && has("--isolated") && has("--report"));
  EXPECT_TRUE(has("--python-version") && has("3.10") && has("manylinux_2_35_x86_64") &&
              has("manylinux2014_x86_64") && has("--only-binary=:all:"));
  EXPECT_TRUE(has("manylinux_2_28_x86_64") && has("manylinux_2_27_x86_64") && has("manylinux1_x86_64"));
  EXPECT_FALSE(has("manylinux_2_36_x86_64") || has("manylinux_2_39_x86_64"));  // newer than 22.04's glibc
  EXPECT_FALSE(has("--extra-index-url"));
  EXPECT_EQ(argv.back(), "torch==2.13.*");
  auto native = PipArgv("p", r, "/v/report.json", false);
  EXPECT_EQ(std::find(native.begin(), native.end(), "--python-version"), native.end());
  EXPECT_EQ(std::find(native.begin(), native.end(), "--target"), native.end());
}

/// Answers like an index that never answers: every command times out.
class SilentRunner : public CommandRunner {
 public:
  mutable std::vector<std::vector<std::string>> asked;
  Result<ExecResult> Run(const std::vector<std::string>& argv, const ExecOptions&) const override {
    asked.push_back(argv);
    if (argv[0] == "uv") return Fail(ErrorKind::kNotFound, "uv: not found");
    if (argv.size() > 1 && argv[1] == "-c") return ExecResult{0, "3.10\n", "", false};
    if (argv.size() > 2 && argv[2] == "venv") return ExecResult{0, "", "", false};
    return Fail(ErrorKind::kTimeout, "deadline passed");
  }
};

TEST(PlanConstraints, NoAnswerFallsBackToTheTablesAndSaysSo) {
  SilentRunner runner;
  ResolverRequest r;
  r.python = *Version::Parse("3.10");
  r.requirements = {"torch==2.13.*"};
  ResolverOptions o;
  o.deadline = std::chrono::milliseconds(2000);
  Resolution res = RunResolver(runner, r, o);
  EXPECT_FALSE(res.ran);
  EXPECT_EQ(res.verdict, "no-answer");
  EXPECT_NE(res.message.find("no answer within"), std::string::npos) << res.message;
  ASSERT_FALSE(runner.asked.empty());
  EXPECT_EQ(runner.asked.back()[2], "pip");  // the venv's python -m pip
  Plan p = TorchPlan("cu128", "https://download.pytorch.org/whl/cu128");
  ApplyResolution(p, res);
  EXPECT_TRUE(p.resolution.offline);
  EXPECT_EQ(p.requirements.front(), "torch==2.11.0+cu128");
}


TEST(PlanConstraints, UvArgvPutsTheVariantIndexFirstInUvsOrder) {
  ResolverRequest r;
  r.python = *Version::Parse("3.12");
  r.glibc = Version::Parse("2.39");
  r.index_url = "https://download.pytorch.org/whl/cu126";
  r.extra_index_urls = {"https://pypi.org/simple"};
  auto argv = UvArgv(r, "/s/in.txt");
  auto at = [&](const std::string& a) { return std::find(argv.begin(), argv.end(), a) - argv.begin(); };
  EXPECT_EQ(argv[at("--python-platform") + 1], "x86_64-manylinux_2_39");
  EXPECT_EQ(argv[at("--index-url") + 1], "https://pypi.org/simple");
  EXPECT_EQ(argv[at("--extra-index-url") + 1], "https://download.pytorch.org/whl/cu126");
  r.extra_index_urls.clear();
  argv = UvArgv(r, "/s/in.txt");
  EXPECT_EQ(argv[at("--index-url") + 1], "https://download.pytorch.org/whl/cu126");
  EXPECT_EQ(std::find(argv.begin(), argv.end(), "--extra-index-url"), argv.end());
}

}  // namespace
}  // namespace dlrig
