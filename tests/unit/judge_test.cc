// The constraint engine plan and check share (plan/judge.h) on the built-in tables:
// every extra allowed where its project says it runs and refused, with the reason and the
// pin to use, where it does not.
#include "plan/judge.h"

#include <gtest/gtest.h>

namespace dlrig {
namespace {

const ConstraintTables& Kb() {
  static const Result<ConstraintTables> kb = BuiltInConstraintTables();
  EXPECT_TRUE(kb) << kb.error().message;
  return *kb;
}

Version V(const char* text) { return *Version::Parse(text); }

StackTarget Target(const char* gpu, const char* cc, const char* driver = "580.95.05") {
  StackTarget t;
  t.gpus.push_back({gpu, V(cc)});
  t.driver = V(driver);
  return t;
}

StackTarget WithTorch(StackTarget t, const char* torch, const char* variant) {
  t.torch = V(torch);
  t.torch_variant = variant;
  return t;
}

TEST(ExtrasTable, ParsesAndOrdersPostReleases) {
  ASSERT_TRUE(Kb().extras);
  EXPECT_TRUE(ComparePackageVersions(V("0.0.28.post1"), V("0.0.28")) > 0);
  EXPECT_TRUE(ComparePackageVersions(V("0.0.28.post1"), V("0.0.28.post2")) < 0);
  EXPECT_EQ(Satisfies(V("2.5.1"), "==2.5.1"), true);
  EXPECT_EQ(Satisfies(V("2.5.0"), "==2.5.1"), false);
  EXPECT_EQ(Satisfies(V("2.11.0"), ">=2.10"), true);
  EXPECT_EQ(Satisfies(V("3.0"), "<3,>=2.2"), false);
  EXPECT_EQ(Satisfies(V("2.1.7"), "==2.1.*"), true);
  EXPECT_FALSE(Satisfies(V("2.1"), "%2.1").has_value());
  // Every extra the issue names has rows, each with a source.
  for (const char* p :
       {"flash-attn", "flash-attn-3", "xformers", "bitsandbytes", "deepspeed", "apex", "vllm"})
    EXPECT_TRUE(Kb().extras->Knows(p)) << p;
  for (const ExtraRow& r : Kb().extras->rows()) EXPECT_FALSE(r.source.empty()) << r.package;
  // A pin read from PyPI's METADATA today.
  const ExtraPin* pin = Kb().extras->Pin("xformers", V("0.0.28.post3"));
  ASSERT_TRUE(pin);
  EXPECT_EQ(pin->torch, "==2.5.1");
}

TEST(ExtrasTable, MalformedRowsAreErrors) {
  EXPECT_FALSE(Extras::Parse("[[extra]]\npackage = \"x\"\n"));  // no since, build, note, source
  auto typo = Extras::Parse(
      "[[extra]]\npackage=\"x\"\nsince=\"1.0\"\nbuild=\"wheel\"\nnote=\"n\"\nsource=\"s\"\n"
      "min_capability=\"8.0\"\n");
  ASSERT_FALSE(typo);
  EXPECT_NE(typo.error().message.find("min_capability"), std::string::npos) << typo.error().message;
  EXPECT_FALSE(Extras::Parse(
      "[[extra]]\npackage=\"x\"\nsince=\"1.0\"\nbuild=\"binary\"\nnote=\"n\"\nsource=\"s\"\n"));
  EXPECT_FALSE(
      Extras::Parse("[[extra]]\npackage=\"x\"\nsince=\"1.0\"\nbuild=\"release-wheel\"\nnote=\"n\"\n"
                    "source=\"s\"\n"));  // a release-wheel row without its wheels
}

TEST(Constraints, FlashAttention2NeedsAmpere) {
  auto pascal = JudgeExtra("flash-attn", V("2.5.8"), Target("GTX 1080 Ti", "6.1"), Kb());
  EXPECT_EQ(pascal.verdict, Verdict::kRefused);
  EXPECT_EQ(pascal.constraint, "gpu");
  EXPECT_NE(pascal.reason.find("8.0;9.0"), std::string::npos) << pascal.reason;
  EXPECT_EQ(pascal.pin, "");  // FA1 starts at Turing: nothing runs on Pascal
  // Turing: FA2 refused, FlashAttention 1.x (sm_75) is the pin, built from source.
  auto turing = JudgeExtra("flash-attn", V("2.5.8"), Target("Tesla T4", "7.5"), Kb());
  EXPECT_EQ(turing.verdict, Verdict::kRefused);
  EXPECT_EQ(turing.pin, "flash-attn==1.0.9");
  EXPECT_TRUE(turing.build.from_source);
  // Ampere with torch 2.3 cu121: the v2.5.8 release wheel (CUDA 12.2, torch 2.3) fits.
  auto ampere = JudgeExtra("flash-attn", V("2.5.8"),
                           WithTorch(Target("RTX 3090", "8.6"), "2.3.0", "cu121"), Kb());
  EXPECT_EQ(ampere.verdict, Verdict::kAllowed) << ampere.reason;
  EXPECT_EQ(ampere.pin, "flash-attn==2.5.8");
  EXPECT_FALSE(ampere.build.from_source);
  EXPECT_NE(ampere.build.wheel_url.find("/v2.5.8/"), std::string::npos);
}

TEST(Constraints, FlashAttentionWithoutReleaseWheelIsBuiltForTheMachinesGpus) {
  // flash-attn 2.7.4.post1 has wheels for torch 2.2-2.6 only: torch 2.8 builds from source,
  // with the arch list limited to this GPU (sm_86 runs the sm_80 code) and MAX_JOBS.
  StackTarget t = WithTorch(Target("RTX 3090", "8.6"), "2.8.0", "cu128");
  auto j = JudgeExtra("flash-attn", V("2.7.4.post1"), t, Kb());
  EXPECT_EQ(j.verdict, Verdict::kAllowed) << j.reason;
  EXPECT_TRUE(j.build.from_source);
  ASSERT_TRUE(j.build.nvcc);
  EXPECT_EQ(j.build.nvcc->text, "12.8");
  EXPECT_EQ(j.build.env, (std::vector<std::string>{"FLASH_ATTN_CUDA_ARCHS=80", "MAX_JOBS=4"}));
  ASSERT_FALSE(j.notes.empty());
  EXPECT_NE(j.notes[0].find("torch 2.8"), std::string::npos) << j.notes[0];
  // An nvcc of another CUDA major is refused by torch's extension builder.
  t.nvcc = V("11.8");
  auto mismatch = JudgeExtra("flash-attn", V("2.7.4.post1"), t, Kb());
  EXPECT_EQ(mismatch.verdict, Verdict::kRefused);
  EXPECT_EQ(mismatch.constraint, "nvcc");
  // Blackwell: the 2.7 wheels (CUDA 12.4) carry no sm_120; 2.8's (CUDA 12.9) do.
  auto blackwell = JudgeExtra("flash-attn", V("2.7.4.post1"),
                              WithTorch(Target("RTX 5090", "12.0"), "2.7.1", "cu128"), Kb());
  EXPECT_EQ(blackwell.verdict, Verdict::kRefused);
  EXPECT_EQ(blackwell.pin.rfind("flash-attn==2.8", 0), 0u) << blackwell.pin;
}

TEST(Constraints, FlashAttention3IsHopperOnly) {
  auto a100 = JudgeExtra("flash-attn-3", std::nullopt, Target("A100", "8.0"), Kb());
  EXPECT_EQ(a100.verdict, Verdict::kRefused);
  EXPECT_NE(a100.reason.find("compute capability 9.0"), std::string::npos) << a100.reason;
  auto h100 = JudgeExtra("flash-attn-3", std::nullopt,
                         WithTorch(Target("H100", "9.0"), "2.8.0", "cu128"), Kb());
  EXPECT_EQ(h100.verdict, Verdict::kAllowed) << h100.reason;
  EXPECT_TRUE(h100.build.from_source);
  EXPECT_EQ(h100.pin, "");  // not on PyPI: built from the repository's hopper/ directory
}

TEST(Constraints, XformersWheelIsBuiltAgainstOneTorch) {
  StackTarget t = WithTorch(Target("RTX 3090", "8.6", "535.183.01"), "2.4.1", "cu121");
  auto j = JudgeExtra("xformers", V("0.0.28.post3"), t, Kb());
  EXPECT_EQ(j.verdict, Verdict::kRefused);
  EXPECT_EQ(j.constraint, "torch");
  EXPECT_NE(j.reason.find("torch==2.5.1"), std::string::npos) << j.reason;
  EXPECT_EQ(j.pin, "xformers==0.0.28.post1");  // the newest built against torch 2.4.1
  // Nothing asked: pip's pick next to torch 2.4.1 is the same release.
  auto any = JudgeExtra("xformers", std::nullopt, t, Kb());
  EXPECT_EQ(any.verdict, Verdict::kAllowed) << any.reason;
  EXPECT_EQ(any.pin, "xformers==0.0.28.post1");
  // No torch in the stack: the wheel brings its own.
  auto alone = JudgeExtra("xformers", V("0.0.30"), Target("RTX 3090", "8.6"), Kb());
  EXPECT_EQ(alone.verdict, Verdict::kAllowed) << alone.reason;
  EXPECT_EQ(alone.torch_pin, "torch==2.7.0");
}

TEST(Constraints, VllmNeedsVoltaThenTuring) {
  auto v100 = JudgeExtra("vllm", V("0.30.0"), Target("Tesla V100", "7.0"), Kb());
  EXPECT_EQ(v100.verdict, Verdict::kRefused);
  EXPECT_EQ(v100.constraint, "gpu");
  EXPECT_NE(v100.reason.find("7.5"), std::string::npos) << v100.reason;
  // The newest vLLM that runs on a V100 also needs a torch whose wheels still carry sm_70:
  // vLLM 0.20 pins torch 2.11.0 (PyPI: cu130, no sm_70), so the pin is older.
  ASSERT_FALSE(v100.pin.empty());
  std::string pinned = v100.pin.substr(v100.pin.find("==") + 2);
  EXPECT_TRUE(ComparePackageVersions(V(pinned.c_str()), V("0.21.0")) < 0) << v100.pin;
  auto again = JudgeExtra("vllm", V(pinned.c_str()), Target("Tesla V100", "7.0"), Kb());
  EXPECT_EQ(again.verdict, Verdict::kAllowed) << again.reason;
  // Driver 470 cannot run the CUDA 12 torch vLLM 0.8.5 pulls from PyPI.
  auto old = JudgeExtra("vllm", V("0.8.5"), Target("A100", "8.0", "470.223.02"), Kb());
  EXPECT_EQ(old.verdict, Verdict::kRefused);
  EXPECT_EQ(old.constraint, "driver");
  // vLLM 0.2.1.post1 pins torch 2.0.1, whose PyPI build (cu117) 470 runs by minor-version
  // compatibility; the 0.2.2-0.2.5 ranges (torch>=2.1) let pip take the newest torch.
  EXPECT_EQ(old.pin, "vllm==0.2.1.post1");
  EXPECT_EQ(old.torch_pin, "torch==2.0.1");
}

TEST(Constraints, BitsandbytesLibraryFollowsTorchsCuda) {
  // 0.48's CUDA 12.8 library starts at sm_70; its CUDA 12.6 one carries sm_60.
  StackTarget pascal = Target("Tesla P100", "6.0");
  auto cu128 = JudgeExtra("bitsandbytes", V("0.48.2"), WithTorch(pascal, "2.7.1", "cu128"), Kb());
  EXPECT_EQ(cu128.verdict, Verdict::kRefused);
  EXPECT_NE(cu128.reason.find("CUDA 12.8"), std::string::npos) << cu128.reason;
  auto cu126 = JudgeExtra("bitsandbytes", V("0.48.2"), WithTorch(pascal, "2.7.1", "cu126"), Kb());
  EXPECT_EQ(cu126.verdict, Verdict::kAllowed) << cu126.reason;
  // Maxwell: 0.47 still carries sm_50 for CUDA <= 12.6; 0.48 does not.
  StackTarget maxwell = WithTorch(Target("Tesla M40", "5.2"), "2.6.0", "cu124");
  auto new_bnb = JudgeExtra("bitsandbytes", V("0.49.0"), maxwell, Kb());
  EXPECT_EQ(new_bnb.verdict, Verdict::kRefused);
  EXPECT_EQ(new_bnb.pin, "bitsandbytes==0.47.0");
  // Torch's CUDA unknown: refused only when every library refuses (Kepler: none has 3.x).
  auto kepler = JudgeExtra("bitsandbytes", V("0.48.2"), Target("Tesla K80", "3.7"), Kb());
  EXPECT_EQ(kepler.verdict, Verdict::kRefused);
  auto unknown_cuda = JudgeExtra("bitsandbytes", V("0.48.2"), pascal, Kb());
  EXPECT_EQ(unknown_cuda.verdict, Verdict::kAllowed) << unknown_cuda.reason;
}

TEST(Constraints, ApexAndDeepspeedNeedNvccOfTorchsCuda) {
  StackTarget t = WithTorch(Target("RTX 3090", "8.6"), "2.3.1", "cu118");
  t.nvcc = V("12.1");
  auto apex = JudgeExtra("apex", std::nullopt, t, Kb());
  EXPECT_EQ(apex.verdict, Verdict::kRefused);
  EXPECT_EQ(apex.constraint, "nvcc");
  ASSERT_TRUE(apex.build.nvcc);
  EXPECT_EQ(apex.build.nvcc->text, "11.8");
  // Apex wants X.Y exactly; DeepSpeed accepts a minor difference within CUDA 11 or 12.
  t.nvcc = V("11.7");
  EXPECT_EQ(JudgeExtra("apex", std::nullopt, t, Kb()).verdict, Verdict::kRefused);
  auto ds = JudgeExtra("deepspeed", V("0.19.8"), t, Kb());
  EXPECT_EQ(ds.verdict, Verdict::kAllowed) << ds.reason;
  EXPECT_TRUE(ds.build.jit);
  EXPECT_EQ(ds.build.env, (std::vector<std::string>{"TORCH_CUDA_ARCH_LIST=8.6"}));
  // CUDA 13 is not in DeepSpeed's minor-mismatch list.
  StackTarget c13 = WithTorch(Target("RTX 3090", "8.6"), "2.11.0", "cu130");
  c13.nvcc = V("13.1");
  EXPECT_EQ(JudgeExtra("deepspeed", V("0.19.8"), c13, Kb()).verdict, Verdict::kRefused);
  c13.nvcc = V("13.0");
  EXPECT_EQ(JudgeExtra("deepspeed", V("0.19.8"), c13, Kb()).verdict, Verdict::kAllowed);
}

TEST(Constraints, UnknownFactsAreNotRefusals) {
  StackTarget nothing;
  for (const char* p : {"flash-attn", "xformers", "vllm", "bitsandbytes", "deepspeed", "apex"})
    EXPECT_NE(JudgeExtra(p, std::nullopt, nothing, Kb()).verdict, Verdict::kRefused) << p;
  auto old = JudgeExtra("xformers", V("0.0.9"), Target("RTX 3090", "8.6"), Kb());
  EXPECT_EQ(old.verdict, Verdict::kUnknown);  // older than the table
  EXPECT_EQ(JudgeExtra("not-an-extra", std::nullopt, nothing, Kb()).verdict, Verdict::kUnknown);
}

TEST(Constraints, TensorflowAndCudaNeedsTheDriverOfItsCuda) {
  StackTarget t = Target("RTX 3090", "8.6", "470.223.02");
  auto j = JudgeTensorflow(V("2.15.1"), true, t, Kb());
  EXPECT_EQ(j.verdict, Verdict::kRefused);
  EXPECT_EQ(j.constraint, "driver");
  EXPECT_EQ(j.pin, "tensorflow[and-cuda]==2.14.*");
  EXPECT_EQ(
      JudgeTensorflow(V("2.15.1"), true, Target("RTX 3090", "8.6", "535.183.01"), Kb()).verdict,
      Verdict::kAllowed);
  // Without [and-cuda] pip installs no CUDA libraries: allowed, with the better line.
  auto plain = JudgeTensorflow(V("2.16.1"), false, Target("RTX 3090", "8.6", "535.183.01"), Kb());
  EXPECT_EQ(plain.verdict, Verdict::kAllowed);
  EXPECT_FALSE(plain.advice.empty());
  EXPECT_EQ(plain.pin, "tensorflow[and-cuda]==2.16.*");
  // Python outside the release's wheels.
  t.driver = V("535.183.01");
  t.python = V("3.12");
  auto py = JudgeTensorflow(V("2.15.1"), true, t, Kb());
  EXPECT_EQ(py.verdict, Verdict::kRefused);
  EXPECT_EQ(py.constraint, "python");
}

TEST(Constraints, JaxCuda13NeedsDriver580AndTuring) {
  auto j = JudgeJax(V("0.8.1"), 13, Target("RTX 3090", "8.6", "535.183.01"), Kb());
  EXPECT_EQ(j.verdict, Verdict::kRefused);
  EXPECT_EQ(j.constraint, "driver");
  EXPECT_EQ(j.pin, "jax[cuda12]");
  auto v100 = JudgeJax(V("0.8.1"), 13, Target("Tesla V100", "7.0", "580.95.05"), Kb());
  EXPECT_EQ(v100.verdict, Verdict::kRefused);
  EXPECT_EQ(v100.constraint, "gpu");
  EXPECT_EQ(v100.pin, "jax[cuda12]");
  EXPECT_EQ(JudgeJax(V("0.8.1"), 12, Target("RTX 3090", "8.6", "535.183.01"), Kb()).verdict,
            Verdict::kAllowed);
  auto old = JudgeJax(V("0.4.30"), 12, Target("RTX 3090", "8.6", "470.223.02"), Kb());
  EXPECT_EQ(old.verdict, Verdict::kRefused);
  EXPECT_EQ(old.pin, "");
}

}  // namespace
}  // namespace dlrig
