// The fatbin scan against libraries nvcc built with known -gencode flags (built here when
// nvcc exists, and the committed fixtures always), and the compatibility rules against the
// CUDA C++ Programming Guide's examples.
#include "probe/fatbin.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>

#include "test_util.h"

namespace dlrig {
namespace {

using dlrig::testing::TempTree;
using Kind = GpuCodeTarget::Kind;

std::vector<std::string> Names(const std::vector<GpuCodeTarget>& targets) {
  std::vector<std::string> out;
  for (const GpuCodeTarget& t : targets) out.push_back(t.Name());
  return out;
}

std::string Fixture(const std::string& name) {
  return std::string(DLRIG_SOURCE_DIR) + "/tests/fixtures/fatbin/" + name;
}

FatbinScan Scan(const std::string& path) {
  auto root = Root::Open("/");
  auto scan = ReadFatbin(*root, path);
  EXPECT_TRUE(scan) << scan.error().message;
  return scan ? *scan : FatbinScan{};
}

TEST(FatbinTest, BuiltByNvccListsItsGencodeTargets) {
  const char* nvcc = "/usr/local/cuda/bin/nvcc";
  if (!std::filesystem::exists(nvcc)) GTEST_SKIP() << "no nvcc";
  TempTree tree;
  tree.Write("k.cu", "__global__ void k(int* x) { x[0] = 1; }\n");
  std::string so = (tree.dir() / "libk.so").string();
  std::string cmd = std::string(nvcc) +
                    " -shared -Xcompiler -fPIC -cudart none"
                    " -gencode arch=compute_80,code=sm_80"
                    " -gencode arch=compute_90,code=[sm_90,compute_90] -o " +
                    so + " " + (tree.dir() / "k.cu").string() + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  FatbinScan scan = Scan(so);
  EXPECT_TRUE(scan.has_fatbin_section);
  EXPECT_EQ(Names(scan.sass), (std::vector<std::string>{"sm_80", "sm_90"}));
  EXPECT_EQ(Names(scan.ptx), (std::vector<std::string>{"compute_90"}));
}

TEST(FatbinTest, CommittedFixtures) {
  FatbinScan plain = Scan(Fixture("libfatbin_fixture.so"));
  EXPECT_EQ(Names(plain.sass), (std::vector<std::string>{"sm_80", "sm_90"}));
  EXPECT_EQ(Names(plain.ptx), (std::vector<std::string>{"compute_90"}));
  EXPECT_EQ(plain.containers, 1u);
  EXPECT_EQ(plain.entries, 3u);
  FatbinScan variants = Scan(Fixture("libfatbin_variants.so"));
  EXPECT_EQ(Names(variants.sass), (std::vector<std::string>{"sm_90a", "sm_100f"}));
  EXPECT_EQ(Names(variants.ptx), (std::vector<std::string>{"compute_100f"}));
}

TEST(FatbinTest, LibraryWithoutDeviceCodeIsAnEmptyScan) {
  TempTree tree;
  tree.Write("f.c", "int f(void){return 1;}\n");
  std::string so = (tree.dir() / "libf.so").string();
  if (std::system(("cc -shared -fPIC -o " + so + " " + (tree.dir() / "f.c").string() + " 2>/dev/null").c_str()) != 0)
    GTEST_SKIP() << "no C compiler";
  FatbinScan scan = Scan(so);
  EXPECT_FALSE(scan.has_fatbin_section);
  EXPECT_TRUE(scan.sass.empty() && scan.ptx.empty());
}

TEST(FatbinTest, TruncatedOrGarbledContainerIsAClearError) {
  auto root = Root::Open("/");
  auto bytes = root->ReadFile(Fixture("libfatbin_fixture.so"), 1 << 20);
  ASSERT_TRUE(bytes);
  // Find the container in the image and damage it in two ways.
  size_t at = bytes->find(std::string("\x50\xed\x55\xba", 4));
  ASSERT_NE(at, std::string::npos);
  std::string grown = *bytes;
  grown[at + 8] = static_cast<char>(0xff);  // container size beyond the section
  grown[at + 9] = static_cast<char>(0xff);
  auto r = ScanFatbinBytes(grown);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kMalformed);
  EXPECT_NE(r.error().message.find(".nv_fatbin"), std::string::npos) << r.error().message;
  std::string garbled = *bytes;
  garbled[at] = 'X';  // no magic where a container must start
  r = ScanFatbinBytes(garbled);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("garbled"), std::string::npos) << r.error().message;
  // The section alone, cut inside its first entry's payload.
  FatbinScan partial;
  std::string section = bytes->substr(at, 3000);
  EXPECT_FALSE(ScanFatbinSectionBytes(section, partial));
  // Zero padding between containers is allowed.
  FatbinScan twice;
  uint64_t size = 0;
  for (int i = 7; i >= 0; --i) size = (size << 8) | static_cast<unsigned char>((*bytes)[at + 8 + i]);
  std::string whole = bytes->substr(at, 16 + size);
  ASSERT_TRUE(ScanFatbinSectionBytes(whole + std::string(24, '\0') + whole, twice));
  EXPECT_EQ(twice.containers, 2u);
  EXPECT_EQ(Names(twice.sass), (std::vector<std::string>{"sm_80", "sm_90"}));
}

// Issue 14: a garbled entry reported "sm_795177825a". An architecture number no GPU can have
// makes the scan malformed (unknown), not a target.
TEST(FatbinTest, ImplausibleArchitectureIsMalformedNotATarget) {
  auto root = Root::Open("/");
  auto bytes = root->ReadFile(Fixture("libfatbin_fixture.so"), 1 << 20);
  ASSERT_TRUE(bytes);
  size_t at = bytes->find(std::string("\x50\xed\x55\xba", 4));
  ASSERT_NE(at, std::string::npos);
  size_t header = static_cast<unsigned char>((*bytes)[at + 6]) |
                  static_cast<unsigned char>((*bytes)[at + 7]) << 8;
  size_t entry = at + header;
  for (uint32_t arch : {795177825u, 0u, 1000u, 0xffffffffu}) {
    std::string garbled = *bytes;
    for (int i = 0; i < 4; ++i) garbled[entry + 28 + i] = static_cast<char>(arch >> (8 * i));
    auto r = ScanFatbinBytes(garbled);
    ASSERT_FALSE(r) << arch << ": " << TargetNames(*r);
    EXPECT_EQ(r.error().kind, ErrorKind::kMalformed);
    EXPECT_NE(r.error().message.find("architecture " + std::to_string(arch)), std::string::npos)
        << r.error().message;
  }
}

GpuCodeTarget T(Kind kind, int major, int minor, char variant = 0) {
  return GpuCodeTarget{kind, major, minor, variant};
}

// Examples from the CUDA C++ Programming Guide (Binary Compatibility, PTX Compatibility,
// Feature Set Compiler Targets).
TEST(FatbinCompatTest, DocumentedRules) {
  EXPECT_TRUE(TargetRunsOn(T(Kind::kSass, 8, 0), {8, 6}));   // X.y runs on X.z, z >= y
  EXPECT_FALSE(TargetRunsOn(T(Kind::kSass, 8, 6), {8, 0}));  // not to a lower minor
  EXPECT_FALSE(TargetRunsOn(T(Kind::kSass, 8, 0), {9, 0}));  // not across majors
  EXPECT_TRUE(TargetRunsOn(T(Kind::kPtx, 9, 0), {10, 0}));   // PTX JIT to >= CC
  EXPECT_TRUE(TargetRunsOn(T(Kind::kPtx, 8, 0), {12, 0}));
  EXPECT_FALSE(TargetRunsOn(T(Kind::kPtx, 10, 0), {9, 0}));
  EXPECT_TRUE(TargetRunsOn(T(Kind::kSass, 9, 0, 'a'), {9, 0}));
  EXPECT_FALSE(TargetRunsOn(T(Kind::kSass, 9, 0, 'a'), {10, 0}));  // arch-specific: that CC only
  EXPECT_FALSE(TargetRunsOn(T(Kind::kPtx, 9, 0, 'a'), {10, 0}));
  EXPECT_TRUE(TargetRunsOn(T(Kind::kSass, 10, 0, 'f'), {10, 3}));  // family: same major, >= minor
  EXPECT_FALSE(TargetRunsOn(T(Kind::kPtx, 10, 0, 'f'), {12, 0}));
  // No signed overflow on numbers from a file or a device (UBSan; it wrapped to "runs").
  EXPECT_FALSE(TargetRunsOn(T(Kind::kPtx, 429496729, 5), {9, 0}));
  EXPECT_TRUE(TargetRunsOn(T(Kind::kPtx, 9, 0), {2147483647, 7}));
}

TEST(FatbinCompatTest, PickKernelImageForFixture) {
  FatbinScan plain = Scan(Fixture("libfatbin_fixture.so"));
  auto on = [&](const FatbinScan& s, int major, int minor) {
    KernelImageChoice c = PickKernelImage(s, {major, minor});
    return c.target ? c.target->Name() : std::string("none");
  };
  EXPECT_EQ(on(plain, 8, 0), "sm_80");
  EXPECT_EQ(on(plain, 8, 6), "sm_80");  // A10 / RTX 3090 run the sm_80 SASS
  EXPECT_EQ(on(plain, 9, 0), "sm_90");
  EXPECT_EQ(on(plain, 10, 0), "compute_90");  // B200: through the PTX JIT
  EXPECT_EQ(PickKernelImage(plain, {10, 0}).how, KernelImageChoice::How::kPtxJit);
  EXPECT_EQ(PickKernelImage(plain, {7, 5}).how, KernelImageChoice::How::kNone);  // T4
  FatbinScan variants = Scan(Fixture("libfatbin_variants.so"));
  EXPECT_EQ(on(variants, 9, 0), "sm_90a");
  EXPECT_EQ(on(variants, 10, 3), "sm_100f");
  EXPECT_EQ(PickKernelImage(variants, {12, 0}).how, KernelImageChoice::How::kNone);
}

// Benchmark, not a test: DLRIG_BENCH_FATBIN=/path/to/libtorch_cuda.so dlrig_tests
//   --gtest_also_run_disabled_tests --gtest_filter='*DISABLED_Bench*'
TEST(FatbinBench, DISABLED_BenchScanLargeLibrary) {
  const char* path = std::getenv("DLRIG_BENCH_FATBIN");
  if (path == nullptr) GTEST_SKIP() << "set DLRIG_BENCH_FATBIN";
  auto root = Root::Open("/");
  ReadFatbin(*root, path);  // warm the page cache
  auto t0 = std::chrono::steady_clock::now();
  auto scan = ReadFatbin(*root, path);
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(scan) << scan.error().message;
  std::string sass, ptx;
  // Appended in two steps: GCC 12 at -O3 misreports `" " + name` (-Wrestrict).
  for (const auto& t : scan->sass) sass.append(" ").append(t.Name());
  for (const auto& t : scan->ptx) ptx.append(" ").append(t.Name());
  std::printf("%s: %llu containers, %llu entries in %.1f ms\n  SASS:%s\n  PTX:%s\n", path,
              static_cast<unsigned long long>(scan->containers),
              static_cast<unsigned long long>(scan->entries), ms, sass.c_str(), ptx.c_str());
}

}  // namespace
}  // namespace dlrig
