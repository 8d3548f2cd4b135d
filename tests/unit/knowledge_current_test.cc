// The knowledge tables brought current to 2026-12-07 (issue 13): each table's [meta] date, the
// newest releases they know, and the facts read that day from PyPI's wheels (TensorFlow's
// [and-cuda] extra, JAX's plugins, NCCL wheels, cuDNN pins) and NVIDIA's pages (CUDA 13.4, R615).
#include <gtest/gtest.h>

#include <regex>

#include "knowledge/cuda_drivers.h"
#include "knowledge/data_files.h"
#include "knowledge/driver_branches.h"
#include "knowledge/framework_builds.h"
#include "knowledge/nccl_releases.h"
#include "knowledge/pytorch_builds.h"
#include "knowledge/table_meta.h"
#include "knowledge/xids.h"

namespace dlrig {
namespace {

Version V(const char* s) { return *Version::Parse(s); }

// --- [meta] ---

TEST(KnowledgeCurrentTest, EveryTableThisWorkOwnsCarriesItsCheckedDate) {
  for (const char* file :
       {"pytorch.toml", "jax.toml", "tensorflow.toml", "cuda-drivers.toml", "driver-branches.toml",
        "cudnn.toml", "xid.toml", "architectures.toml", "nccl.toml"}) {
    auto meta = TableMetaOf(file);
    ASSERT_TRUE(meta) << file << ": " << meta.error().message;
    ASSERT_TRUE(meta->checked) << file << " has no [meta] checked";
    EXPECT_TRUE(std::regex_match(*meta->checked, std::regex(R"(\d{4}-\d{2}-\d{2})"))) << file;
  }
  EXPECT_EQ(*TableMetaOf("pytorch.toml")->checked, "2026-12-07");
}

TEST(KnowledgeCurrentTest, MalformedMetaIsRefusedWithTheFileName) {
  auto parse = [](const char* text) {
    auto doc = ParseToml(text, "t.toml");
    EXPECT_TRUE(doc);
    return ReadTableMeta(*doc, "t.toml");
  };
  EXPECT_FALSE(parse("x = 1\n")->checked);  // no [meta]: nothing recorded, not an error
  auto ok = parse("[meta]\nchecked = \"2026-12-07\"\nnewest_release = \"2.15.0\"\n");
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok->checked, "2026-12-07");
  EXPECT_EQ(ok->newest_release->text, "2.15.0");
  for (const char* bad :
       {"[meta]\nnewest_release = \"2.15.0\"\n", "[meta]\nchecked = \"07.12.2026\"\n",
        "[meta]\nchecked = \"2026-13-07\"\n", "[meta]\nchecked = \"2026-12-07\"\nchekced = \"x\"\n",
        "meta = 3\n"}) {
    auto r = parse(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().kind, ErrorKind::kMalformed);
    EXPECT_NE(r.error().message.find("t.toml"), std::string::npos) << r.error().message;
  }
}

TEST(KnowledgeCurrentTest, NewestReleaseAgreesWithTheRows) {
  // pytorch.toml: the newest patch; tensorflow.toml: the newest row; the staleness test
  // compares these with PyPI.
  const auto& torch = PytorchBuilds::BuiltIn();
  ASSERT_TRUE(torch);
  EXPECT_EQ(*TableMetaOf("pytorch.toml")->newest_release,
            *torch->NewestPatch(torch->releases().back().version));
  const auto& tf = TensorflowBuilds::BuiltIn();
  ASSERT_TRUE(tf);
  EXPECT_EQ(TableMetaOf("tensorflow.toml")->newest_release->MajorMinor(),
            tf->rows().front().version.MajorMinor());
  const auto& jax = JaxBuilds::BuiltIn();
  ASSERT_TRUE(jax);
  EXPECT_LE(jax->rows().back().since, *TableMetaOf("jax.toml")->newest_release);
  const auto& nccl = NcclReleases::BuiltIn();
  ASSERT_TRUE(nccl) << nccl.error().message;
  EXPECT_EQ(*TableMetaOf("nccl.toml")->newest_release, *nccl->Newest(13));
}

// --- TensorFlow [and-cuda] ---

TEST(KnowledgeCurrentTest, TensorflowAndCudaExtraAndItsDriverFloor) {
  const auto& tf = TensorflowBuilds::BuiltIn();
  ASSERT_TRUE(tf) << tf.error().message;
  // tensorflow[and-cuda] 2.15.1 pins nvidia-cuda-runtime-cu12==12.2.140: driver >= 525.60.13.
  const TensorflowBuild* b = tf->Find(V("2.15.1"));
  ASSERT_TRUE(b);
  EXPECT_EQ(b->and_cuda->MajorMinor(), "12.2");
  EXPECT_EQ(b->and_cuda_min_driver->text, "525.60.13");
  EXPECT_EQ(tf->Find(V("2.14.1"))->and_cuda->MajorMinor(), "11.8");
  EXPECT_EQ(tf->Find(V("2.21.0"))->and_cuda->MajorMinor(), "12.5");
  EXPECT_FALSE(tf->Find(V("2.13.1"))->and_cuda);  // no [and-cuda] before 2.14
  // The driver floor is the minor-version-compatibility minimum of cuda-drivers.toml.
  const auto& drivers = CudaDrivers::BuiltIn();
  ASSERT_TRUE(drivers);
  for (const auto& row : tf->rows()) {
    if (!row.and_cuda) continue;
    const CudaDriverRow* match = nullptr;
    for (const auto& d : drivers->rows())
      if (d.cuda.MajorMinor() == row.and_cuda->MajorMinor()) match = &d;
    ASSERT_TRUE(match) << row.version.text;
    ASSERT_TRUE(match->minor_compat_driver) << row.version.text;
    EXPECT_EQ(*row.and_cuda_min_driver, *match->minor_compat_driver) << row.version.text;
  }
  auto half = TensorflowBuilds::Parse(
      "[[tensorflow]]\nversion = \"2.16.1\"\npython_min = \"3.9\"\npython_max = \"3.12\"\n"
      "compiler = \"clang\"\ncompiler_version = \"17.0.6\"\nbazel = \"6.5.0\"\ncudnn = \"8.9\"\n"
      "cuda = \"12.3\"\nand_cuda = \"12.3\"\nconfirmed = true\nsource = \"t\"\n");
  ASSERT_FALSE(half);
  EXPECT_NE(half.error().message.find("and_cuda_min_driver"), std::string::npos);
}

// --- JAX through 0.12 ---

TEST(KnowledgeCurrentTest, JaxCuda12PluginNeedsCudnn9102From0112) {
  const auto& jax = JaxBuilds::BuiltIn();
  ASSERT_TRUE(jax) << jax.error().message;
  // jax-cuda12-plugin 0.11.2+: nvidia-cudnn-cu12>=9.10.2.21; 0.11.1: >=9.8.
  EXPECT_EQ(jax->For(V("0.12.0.1"), 12)->min_cudnn->text, "9.10.2");
  EXPECT_EQ(jax->For(V("0.11.1"), 12)->min_cudnn->MajorMinor(), "9.8");
  EXPECT_FALSE(jax->For(V("0.12.0.1"), 12)->confirmed);  // driver/CC carried from the page
  EXPECT_EQ(jax->For(V("0.12.1"), 13)->min_driver->major(), 580);
  EXPECT_EQ(TableMetaOf("jax.toml")->newest_release->text, "0.12.1");
}

// --- CUDA 13.4, R615, cuDNN, NCCL ---

TEST(KnowledgeCurrentTest, Cuda134RunsOnR615AndOn580ByMinorCompatibility) {
  const auto& d = CudaDrivers::BuiltIn();
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->NewestCudaFor(V("615.20.01"))->MajorMinor(), "13.4");
  EXPECT_EQ(d->NewestCudaFor(V("610.43.02"))->MajorMinor(), "13.3");
  EXPECT_EQ(d->Runs(V("13.4"), V("580.95.05")), true);
  EXPECT_EQ(d->Runs(V("13.4"), V("575.51.03")), false);
  EXPECT_FALSE(d->Runs(V("13.5"), V("615.20.01")));  // 13.5's driver was not found: unknown
  // torch 2.14 and 2.15 list cu134: the driver table must know CUDA 13.4.
  EXPECT_TRUE(d->Runs(*CudaOfVariant("cu134"), V("9999")).has_value());
}

TEST(KnowledgeCurrentTest, DriverBranches615And620) {
  const auto& b = DriverBranches::BuiltIn();
  ASSERT_TRUE(b) << b.error().message;
  ASSERT_TRUE(b->Branch(615));
  EXPECT_TRUE(b->Branch(615)->designation.empty());  // not found: left out
  ASSERT_TRUE(b->Branch(620));
  EXPECT_EQ(b->Branch(620)->designation, "long-term support");
  EXPECT_EQ(b->Branch(620)->end_of_life, "2029-09");
  const auto& cuda = CudaDrivers::BuiltIn();
  ASSERT_TRUE(cuda);
  EXPECT_EQ(NewestCudaForBranch(615, *cuda)->MajorMinor(), "13.4");
}

TEST(KnowledgeCurrentTest, CudnnPinnedByTheTorchWheels) {
  const auto& c = CudnnTable::BuiltIn();
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->SupportsCuda(V("9.24.0.43"), V("13.0")), true);
  EXPECT_EQ(c->SupportsCuda(V("9.26.0.51"), V("13.2")), true);
  EXPECT_EQ(c->SupportsCuda(V("9.26.0.51"), V("12.8")), std::nullopt);  // partial list: unknown
  EXPECT_EQ(c->SupportsCuda(V("9.27.0.42"), V("13.0")), std::nullopt);  // no row
}

TEST(KnowledgeCurrentTest, NcclWheelsThrough232) {
  const auto& n = NcclReleases::BuiltIn();
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_EQ(n->Newest(13)->text, "2.32.6");
  EXPECT_EQ(n->Newest(12)->text, "2.32.3");
  EXPECT_FALSE(n->Newest(11));
  const NcclRelease* r = n->Find(V("2.27.7"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->cu13.front().text, "2.27.7");  // the first nvidia-nccl-cu13
  EXPECT_TRUE(n->Find(V("2.26.5"))->cu13.empty());
  EXPECT_FALSE(n->Find(V("2.17.1")));
  // torch 2.15.0's PyPI wheel pins nvidia-nccl-cu13==2.30.7: the table has it.
  const NcclRelease* pinned = n->Find(V("2.30.7"));
  ASSERT_TRUE(pinned);
  EXPECT_EQ(pinned->cu13.back().text, "2.30.7");
  for (const char* bad :
       {"[[nccl]]\nrelease = \"2.32\"\ncu13 = [\"2.31.2\"]\nfirst_upload = \"x\"\nsource = \"t\"\n",
        "[[nccl]]\nrelease = \"2.32\"\nfirst_upload = \"x\"\nsource = \"t\"\n",
        "[[nccl]]\nrelease = \"2.32\"\ncu13 = [\"2.32.6\", \"2.32.3\"]\nfirst_upload = "
        "\"x\"\nsource = \"t\"\n",
        "[[nccl]]\nrelease = \"2.32\"\ncu13 = [\"2.32.6\"]\nfirst_upload = \"x\"\nsource = "
        "\"t\"\ncu11 = [\"2.32.6\"]\n"}) {
    auto r2 = NcclReleases::Parse(bad);
    ASSERT_FALSE(r2) << bad;
    EXPECT_NE(r2.error().message.find("nccl.toml [[nccl]]"), std::string::npos)
        << r2.error().message;
  }
}

// --- Xid ---

TEST(KnowledgeCurrentTest, XidsThroughTheNewestCatalogCode) {
  const auto& x = XidTable::BuiltIn();
  ASSERT_TRUE(x) << x.error().message;
  // NVIDIA's catalog (gpud's 2025-10-29 copy) runs to Xid 172.
  for (int code = 155; code <= 172; ++code) {
    const XidInfo* info = x->Find(code);
    ASSERT_TRUE(info) << code;
    EXPECT_FALSE(info->advice_confirmed) << code;
    EXPECT_FALSE(x->Step(info->action).empty()) << code;
  }
  EXPECT_EQ(x->Find(158)->name, "GPU_FATAL_TIMEOUT");
  EXPECT_EQ(x->Find(158)->nvidia_immediate, "RESET_GPU");
  EXPECT_EQ(x->Find(172)->name, "UNCORRECTABLE_SRAM_ERROR");
  EXPECT_FALSE(x->Find(173));
}

}  // namespace
}  // namespace dlrig
