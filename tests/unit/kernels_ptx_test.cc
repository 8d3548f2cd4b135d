// The device kernels carried in the binary: built to PTX whenever the build found nvcc (the CI
// machine has the CUDA toolkit), every entry point the benchmarks load is there, and the PTX
// compiles for the GPUs the benchmarks were validated on (ptxas from the same toolkit).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/exec.h"
#include "gpu/kernels.h"
#include "gpu/kernels_embedded.h"

namespace dlrig::gpu {
namespace {

bool BuiltWithNvcc() {
  std::string nvcc = DLRIG_NVCC;
  return !nvcc.empty() && nvcc.find("NOTFOUND") == std::string::npos;
}

TEST(KernelsPtx, EveryModuleHasPtxWhenNvccWasFound) {
  if (!BuiltWithNvcc()) {
    EXPECT_EQ(KernelCompiler(), "");
    for (const EmbeddedPtx& m : EmbeddedKernels()) EXPECT_STREQ(m.ptx, "") << m.module;
    GTEST_SKIP() << "this build found no nvcc: the modules are empty, as they should be";
  }
  EXPECT_NE(KernelCompiler(), "");
  EXPECT_EQ(KernelTarget(), "compute_75");
  ASSERT_FALSE(EmbeddedKernels().empty());
  for (const EmbeddedPtx& m : EmbeddedKernels()) {
    std::string_view ptx = m.ptx;
    bool ampere = std::string_view(m.module).ends_with("_sm80");
    EXPECT_NE(ptx.find(ampere ? ".target sm_80" : ".target sm_75"), std::string_view::npos) << m.module;
  }
}

TEST(KernelsPtx, TheEntriesTheBenchmarksLoadExist) {
  if (!BuiltWithNvcc()) GTEST_SKIP() << "no nvcc in this build";
  const std::pair<const char*, const char*> used[] = {
      {"memory", "dlrig_copy"},         {"memory", "dlrig_copy_tile16"}, {"memory", "dlrig_copy_tile1"}, {"memory", "dlrig_copy_chunk8"},
      {"memory", "dlrig_triad"},        {"memory", "dlrig_triad_tile4"}, {"memory", "dlrig_triad_tile1"}, {"memory", "dlrig_read"},
      {"memory", "dlrig_write"},        {"memory", "dlrig_spin"},        {"fill", "dlrig_fill_f64"},
      {"fill", "dlrig_fill_f32"},       {"fill", "dlrig_fill_f16"},      {"fill", "dlrig_fill_bf16"},
      {"fill", "dlrig_fill_e4m3"},      {"fill", "dlrig_fill_u32"},        {"memory_sm80", "dlrig_copy_wide8"},
  };
  for (auto [module, entry] : used) {
    std::string_view ptx = KernelPtx(module);
    EXPECT_NE(ptx.find(std::string(".entry ") + entry + "("), std::string_view::npos) << module << ": " << entry;
  }
  EXPECT_TRUE(KernelPtx("no-such-module").empty());
}

// What the driver does at load time, done here by the toolkit's own assembler: the PTX must
// compile for Hopper (the lent H100 / H200) and Ampere without errors.
TEST(KernelsPtx, PtxAssemblesForSm80AndSm90) {
  if (!BuiltWithNvcc()) GTEST_SKIP() << "no nvcc in this build";
  std::filesystem::path ptxas = std::filesystem::path(DLRIG_NVCC).parent_path() / "ptxas";
  if (!std::filesystem::exists(ptxas)) GTEST_SKIP() << "no ptxas beside " << DLRIG_NVCC;
  auto dir = std::filesystem::temp_directory_path() / ("dlrig-ptx-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  SystemRunner runner;
  for (const EmbeddedPtx& m : EmbeddedKernels()) {
    auto file = dir / (std::string(m.module) + ".ptx");
    std::ofstream(file) << m.ptx;
    for (const char* arch : {"sm_80", "sm_90"}) {
      auto r = runner.Run({ptxas.string(), "-arch", arch, file.string(), "-o", (dir / "out.cubin").string()},
                          {.deadline = std::chrono::seconds(120)});
      ASSERT_TRUE(r) << r.error().message;
      EXPECT_EQ(r->exit_code, 0) << m.module << " for " << arch << ": " << r->err;
    }
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace dlrig::gpu
