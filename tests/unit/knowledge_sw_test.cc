// The software knowledge tables: PyTorch builds, TensorFlow, JAX, cuDNN, host compilers.
// Known lookups assert what the sourced data says (research/compat-data.md, the JAX docs at
// their release tags, host_config.h); invariants catch typos in the tables.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <sstream>

#include "knowledge/cuda_drivers.h"
#include "knowledge/framework_builds.h"
#include "knowledge/host_compilers.h"
#include "knowledge/pytorch_builds.h"

namespace dlrig {
namespace {

Version V(const char* s) { return *Version::Parse(s); }

const PytorchBuilds& Torch() {
  const auto& t = PytorchBuilds::BuiltIn();
  EXPECT_TRUE(t) << t.error().message;
  return *t;
}

/// Is CUDA `cuda` a release data/cuda-drivers.toml knows?
bool KnownCuda(const Version& cuda) {
  const auto& drivers = CudaDrivers::BuiltIn();
  return drivers && drivers->Runs(cuda, V("9999.0")).has_value();
}

bool HasArch(const TorchBuild& b, int major, int minor) {
  return std::any_of(b.archs.begin(), b.archs.end(),
                     [&](const CudaArch& a) { return a.major == major && a.minor == minor; });
}

// --- the built-in tables ---

TEST(KnowledgeSwTest, EveryTableParsesAndEveryRowIsSourced) {
  ASSERT_TRUE(PytorchBuilds::BuiltIn()) << PytorchBuilds::BuiltIn().error().message;
  ASSERT_TRUE(TensorflowBuilds::BuiltIn()) << TensorflowBuilds::BuiltIn().error().message;
  ASSERT_TRUE(JaxBuilds::BuiltIn()) << JaxBuilds::BuiltIn().error().message;
  ASSERT_TRUE(CudnnTable::BuiltIn()) << CudnnTable::BuiltIn().error().message;
  ASSERT_TRUE(HostCompilers::BuiltIn()) << HostCompilers::BuiltIn().error().message;
  std::vector<std::string> sources;
  for (const auto& r : Torch().releases()) sources.push_back(r.source);
  for (const auto& b : Torch().builds()) sources.push_back(b.source);
  for (const auto& r : TensorflowBuilds::BuiltIn()->rows()) sources.push_back(r.source);
  for (const auto& r : JaxBuilds::BuiltIn()->rows()) sources.push_back(r.source);
  for (const auto& r : CudnnTable::BuiltIn()->rows()) sources.push_back(r.source);
  for (const auto& r : CudnnTable::BuiltIn()->encodings()) sources.push_back(r.source);
  for (const auto& r : HostCompilers::BuiltIn()->gcc()) sources.push_back(r.source);
  for (const auto& r : HostCompilers::BuiltIn()->clang()) sources.push_back(r.source);
  EXPECT_GT(sources.size(), 100u);
  for (const auto& s : sources) EXPECT_GT(s.size(), 20u) << "thin source: " << s;
}

TEST(KnowledgeSwTest, TorchReleasesRunFrom112To213) {
  const auto& t = Torch();
  ASSERT_GE(t.releases().size(), 16u);
  EXPECT_EQ(t.releases().front().version.MajorMinor(), "1.12");
  EXPECT_TRUE(t.Release(V("2.10.0")));
  EXPECT_TRUE(t.Release(V("2.13.0")));
  EXPECT_FALSE(t.Release(V("1.11.0")));
}

TEST(KnowledgeSwTest, EveryTorchVariantIsACudaTheDriverTableKnows) {
  for (const auto& r : Torch().releases())
    for (const auto& variant : r.variants) {
      auto cuda = CudaOfVariant(variant);
      ASSERT_TRUE(cuda) << r.version.text << " " << variant;
      EXPECT_TRUE(KnownCuda(*cuda)) << r.version.text << " " << variant << " -> " << cuda->text;
    }
}

TEST(KnowledgeSwTest, EveryTorchReleaseHasAPypiDefaultAmongItsVariants) {
  for (const auto& r : Torch().releases()) {
    EXPECT_FALSE(r.pypi_default.empty()) << r.version.text;
    EXPECT_NE(std::find(r.variants.begin(), r.variants.end(), r.pypi_default), r.variants.end())
        << r.version.text;
    EXPECT_LE(r.python_min, r.python_max) << r.version.text;
  }
}

TEST(KnowledgeSwTest, ArchListsAreStrictlyAscendingAndPtxOnlyLast) {
  for (const auto& b : Torch().builds()) {
    ASSERT_FALSE(b.archs.empty()) << b.release.text << " " << b.variant;
    for (size_t i = 1; i < b.archs.size(); ++i) {
      const auto& prev = b.archs[i - 1];
      const auto& cur = b.archs[i];
      EXPECT_TRUE(prev.major < cur.major || (prev.major == cur.major && prev.minor < cur.minor))
          << b.release.text << " " << b.variant << ": " << b.arch_list;
      EXPECT_FALSE(prev.ptx) << b.release.text << " " << b.variant << ": PTX before the end";
    }
  }
}

TEST(KnowledgeSwTest, TorchvisionStepsByOneMinorPerTorchRelease) {
  // pytorch/vision's table pairs each torch X.Y with one torchvision 0.N, N rising by one.
  const TorchRelease* previous = nullptr;
  for (const auto& r : Torch().releases()) {
    ASSERT_TRUE(r.torchvision) << r.version.text;
    EXPECT_EQ(r.torchvision->major(), 0) << r.version.text;
    if (previous != nullptr) {
      EXPECT_EQ(r.torchvision->minor(), previous->torchvision->minor() + 1) << r.version.text;
    }
    previous = &r;
  }
  // torchaudio follows torch's own number from 2.0 (pytorch/audio's compatibility matrix).
  for (const auto& r : Torch().releases())
    if (r.torchaudio && r.version.major() >= 2) {
      EXPECT_EQ(r.torchaudio->MajorMinor(), r.version.MajorMinor());
    }
}

TEST(KnowledgeSwTest, TorchLookupsFromTheVersionString) {
  const auto& t = Torch();
  const TorchBuild* b = t.Find(V("2.5.1+cu124"));
  ASSERT_TRUE(b);
  EXPECT_EQ(b->variant, "cu124");
  EXPECT_EQ(b->release.MajorMinor(), "2.5");
  EXPECT_TRUE(HasArch(*b, 9, 0));
  EXPECT_TRUE(HasArch(*b, 5, 0));
  EXPECT_FALSE(HasArch(*b, 10, 0));  // no Blackwell before cu128
  // PyPI wheels carry no local tag: 2.5's PyPI default is cu124, 2.11's is cu130.
  EXPECT_EQ(*t.VariantOf(V("2.5.1")), "cu124");
  EXPECT_EQ(*t.VariantOf(V("2.11.0")), "cu130");
  EXPECT_EQ(t.Find(V("2.5.1")), b);
  EXPECT_FALSE(t.VariantOf(V("2.5.1+cpu")));
  EXPECT_FALSE(t.Find(V("2.5.1+cpu")));
  EXPECT_FALSE(t.Find(V("2.5.1+cu999")));
  EXPECT_FALSE(t.Find(V("1.11.0+cu113")));
}

TEST(KnowledgeSwTest, Cu130DropsMaxwellPascalVoltaAndShipsPtx) {
  // PT-CI-210 (.ci/manywheel/build_cuda.sh @ 799d09f21574): cu130 = 7.5;8.0;8.6;9.0;10.0;12.0+PTX.
  const TorchBuild* b = Torch().Find(V("2.9.1+cu130"));
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->confirmed);
  EXPECT_FALSE(HasArch(*b, 5, 0));
  EXPECT_FALSE(HasArch(*b, 6, 0));
  EXPECT_FALSE(HasArch(*b, 7, 0));
  EXPECT_EQ(b->archs.front(), (CudaArch{7, 5, false}));
  EXPECT_EQ(b->archs.back(), (CudaArch{12, 0, true}));
  // The same release's cu126 wheel still carries Maxwell.
  const TorchBuild* old = Torch().Find(V("2.9.1+cu126"));
  ASSERT_TRUE(old);
  EXPECT_TRUE(HasArch(*old, 5, 0));
}

TEST(KnowledgeSwTest, UnconfirmedArchListsSaySo) {
  // 2.8 cu128: the build script keeps sm_70, the release notes say it was dropped.
  const TorchBuild* b = Torch().Find(V("2.8.0+cu128"));
  ASSERT_TRUE(b);
  EXPECT_FALSE(b->confirmed);
  EXPECT_TRUE(Torch().Find(V("2.8.0+cu129"))->confirmed);
  EXPECT_FALSE(Torch().Find(V("2.11.0+cu130")));  // not found by the research: left out
}

TEST(KnowledgeSwTest, CompanionPackagesAndVariants) {
  const auto& t = Torch();
  EXPECT_EQ(t.TorchvisionFor(V("2.5.1"))->MajorMinor(), "0.20");
  EXPECT_EQ(t.TorchvisionFor(V("2.13.0+cu130"))->MajorMinor(), "0.28");
  EXPECT_EQ(t.TorchvisionFor(V("1.12.1"))->MajorMinor(), "0.13");
  EXPECT_EQ(t.TorchaudioFor(V("1.13.1"))->MajorMinor(), "0.13");
  EXPECT_EQ(t.TorchaudioFor(V("2.6.0"))->MajorMinor(), "2.6");
  EXPECT_EQ(t.TorchaudioFor(V("2.7.0"))->MajorMinor(), "2.7");  // PyPI's release history
  EXPECT_EQ(t.TorchaudioFor(V("2.11.0"))->MajorMinor(), "2.11");
  EXPECT_FALSE(t.TorchaudioFor(V("2.12.0")));  // torchaudio made no release after 2.11.1
  EXPECT_FALSE(t.TorchvisionFor(V("3.0.0")));
  EXPECT_EQ(t.VariantsFor(V("2.11.0")), (std::vector<std::string>{"cu126", "cu128", "cu130"}));
  EXPECT_TRUE(t.VariantsFor(V("1.0")).empty());
}

TEST(KnowledgeSwTest, VariantNamesMapToCuda) {
  EXPECT_EQ(CudaOfVariant("cu118")->MajorMinor(), "11.8");
  EXPECT_EQ(CudaOfVariant("cu102")->MajorMinor(), "10.2");
  EXPECT_EQ(CudaOfVariant("cu130")->MajorMinor(), "13.0");
  EXPECT_FALSE(CudaOfVariant("cpu"));
  EXPECT_FALSE(CudaOfVariant("rocm6.2"));
  EXPECT_FALSE(CudaOfVariant("cu"));
}

TEST(KnowledgeSwTest, ArchListParsing) {
  auto archs = ParseArchList("5.0;8.6;12.0+PTX");
  ASSERT_TRUE(archs);
  EXPECT_EQ(*archs, (std::vector<CudaArch>{{5, 0, false}, {8, 6, false}, {12, 0, true}}));
  for (const char* bad :
       {"8.0;7.5", "8.0;8.0", "8.0;;9.0", "9.0a", "9", "8.0+ptx", "", "9.0+PTX;10.0x"})
    EXPECT_FALSE(ParseArchList(bad)) << bad;
}

// --- malformed pytorch.toml names the row ---

std::string Release(const std::string& pypi_default = "cu124",
                    const std::string& tail = "source = \"test\"\n") {
  return "[[release]]\nversion = \"2.5\"\npython_min = \"3.9\"\npython_max = \"3.12\"\n"
         "variants = [\"cu118\", \"cu124\"]\npypi_default = \"" +
         pypi_default + "\"\nconfirmed = true\n" + tail;
}

std::string Build(const std::string& arch_list, const std::string& variant = "cu124") {
  return "[[build]]\nreleases = [\"2.5\"]\nvariant = \"" + variant + "\"\narch_list = \"" +
         arch_list + "\"\nconfirmed = true\nsource = \"test\"\n";
}

void ExpectMalformed(const Result<PytorchBuilds>& r, const std::string& names) {
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kMalformed);
  EXPECT_NE(r.error().message.find(names), std::string::npos) << r.error().message;
}

TEST(KnowledgeSwTest, MalformedPytorchTableNamesTheRow) {
  ASSERT_TRUE(PytorchBuilds::Parse(Release() + Build("5.0;9.0")));
  ExpectMalformed(PytorchBuilds::Parse(Release() + Build("9.0;5.0")), "[[build]] #1 (cu124)");
  ExpectMalformed(PytorchBuilds::Parse(Release() + Build("5.0;9,0")), "[[build]] #1 (cu124)");
  ExpectMalformed(PytorchBuilds::Parse(Release() + Build("5.0", "cu121")), "has no variant cu121");
  ExpectMalformed(PytorchBuilds::Parse(Release() + Build("5.0") + Build("6.0")),
                  "[[build]] #2 (cu124)");
  ExpectMalformed(PytorchBuilds::Parse(Release("cu124", "") + Build("5.0")),
                  "[[release]] #1 (2.5)");  // no source
  ExpectMalformed(PytorchBuilds::Parse(Release("cu121") + Build("5.0")), "pypi_default");
  ExpectMalformed(PytorchBuilds::Parse(Release("cu124", "source = \"t\"\ntorchvison = \"0.20\"\n") +
                                       Build("5.0")),
                  "torchvison");
  ExpectMalformed(PytorchBuilds::Parse(Release()), "[[build]]");
  ExpectMalformed(PytorchBuilds::Parse("[[release]]\nversion = "), "pytorch.toml");
}

// --- TensorFlow, JAX, cuDNN ---

TEST(KnowledgeSwTest, TensorflowTestedConfigurations) {
  const auto& tf = TensorflowBuilds::BuiltIn();
  ASSERT_TRUE(tf) << tf.error().message;
  const TensorflowBuild* b = tf->Find(V("2.16.2"));  // the 2.16.1 row
  ASSERT_TRUE(b);
  EXPECT_EQ(b->cuda.MajorMinor(), "12.3");
  EXPECT_EQ(b->cudnn.MajorMinor(), "8.9");
  EXPECT_EQ(tf->Find(V("2.18.0"))->cudnn.MajorMinor(), "9.3");
  EXPECT_EQ(tf->Find(V("2.12.0"))->compiler, "gcc");
  EXPECT_EQ(tf->Find(V("1.15.0"))->package, "tensorflow_gpu");
  EXPECT_TRUE(tf->Find(V("1.15.0"))->python2);
  EXPECT_FALSE(tf->Find(V("2.99.0")));
  for (const auto& row : tf->rows()) EXPECT_TRUE(KnownCuda(row.cuda)) << row.version.text;
}

TEST(KnowledgeSwTest, JaxNeedsByRelease) {
  const auto& jax = JaxBuilds::BuiltIn();
  ASSERT_TRUE(jax) << jax.error().message;
  EXPECT_EQ(jax->For(V("0.4.29"), 12)->cudnn_below->MajorMinor(), "9.0");
  EXPECT_EQ(jax->For(V("0.4.35"), 12)->min_cudnn->MajorMinor(), "9.1");
  EXPECT_EQ(jax->For(V("0.6.2"), 12)->min_cudnn->MajorMinor(), "9.8");
  const JaxCudaNeeds* cu13 = jax->For(V("0.10.1"), 13);
  ASSERT_TRUE(cu13);
  EXPECT_EQ(cu13->min_driver->major(), 580);
  EXPECT_EQ(cu13->min_compute_capability->MajorMinor(), "7.5");
  EXPECT_FALSE(jax->For(V("0.7.2"), 13));   // CUDA 13 wheels documented from 0.8.0
  EXPECT_FALSE(jax->For(V("0.4.20"), 12));  // before the table
  for (const auto& row : jax->rows())
    if (row.min_cuda) {
      EXPECT_TRUE(KnownCuda(*row.min_cuda)) << row.since.text;
    }
}

TEST(KnowledgeSwTest, CudnnSupportMatrix) {
  const auto& c = CudnnTable::BuiltIn();
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->SupportsCuda(V("9.10.2.21"), V("12.8")), true);
  EXPECT_EQ(c->SupportsCuda(V("9.10.2"), V("13.0")), false);
  EXPECT_EQ(c->SupportsCuda(V("9.17.0"), V("11.8")), false);  // 9.17 has no CUDA 11 build
  EXPECT_EQ(c->SupportsCuda(V("9.17.0"), V("13.1.1")), true);
  EXPECT_EQ(c->SupportsCuda(V("8.0.1"), V("10.1")), false);  // 10.1 from 8.0.2
  EXPECT_EQ(c->SupportsCuda(V("8.0.2"), V("10.1")), true);
  EXPECT_EQ(c->SupportsCuda(V("8.2.4"), V("11.3")), true);  // the 8.2 row covers 8.2.x
  EXPECT_EQ(c->SupportsCuda(V("9.13.0"), V("13.0")), true);
  EXPECT_EQ(c->SupportsCuda(V("9.13.0"), V("12.8")), std::nullopt);  // partial list
  EXPECT_EQ(c->SupportsCuda(V("9.3.0"), V("12.4")), std::nullopt);   // no row
  EXPECT_EQ(c->MinDriver(V("9.17.0"), 13)->text, "580.65.06");
  EXPECT_EQ(c->MinDriver(V("8.9.6"), 11)->text, "450.80.02");
  EXPECT_FALSE(c->MinDriver(V("7.6.5"), 10));
  for (const auto& row : c->rows())
    for (const auto& range : row.cuda)
      for (const Version& end : {range.first, range.last})
        if (end.major() >= 10) {
          EXPECT_TRUE(KnownCuda(end)) << row.first.text << " " << end.text;
        }
}

TEST(KnowledgeSwTest, CudnnVersionFromIntAndHeaders) {
  const auto& c = CudnnTable::BuiltIn();
  ASSERT_TRUE(c);
  EXPECT_EQ(c->FromInt(90100)->text, "9.1.0");
  EXPECT_EQ(c->FromInt(91000)->text, "9.10.0");  // JAX compares 91000 for 9.10.0
  EXPECT_EQ(c->FromInt(8905)->text, "8.9.5");
  EXPECT_EQ(c->FromInt(7605)->text, "7.6.5");
  EXPECT_FALSE(c->FromInt(0));
  EXPECT_FALSE(c->FromInt(-1));
  EXPECT_EQ(*c->HeaderFor(9), "cudnn_version.h");
  EXPECT_EQ(*c->HeaderFor(8), "cudnn_version.h");
  EXPECT_EQ(*c->HeaderFor(7), "cudnn.h");
}

TEST(KnowledgeSwTest, MalformedFrameworkTablesNameTheRow) {
  auto tf = TensorflowBuilds::Parse(
      "[[tensorflow]]\nversion = \"2.16.1\"\npython_min = \"3.9\"\npython_max = \"3.12\"\n"
      "compiler = \"msvc\"\ncompiler_version = \"1\"\nbazel = \"6.5.0\"\ncudnn = \"8.9\"\n"
      "cuda = \"12.3\"\nconfirmed = true\nsource = \"test\"\n");
  ASSERT_FALSE(tf);
  EXPECT_NE(tf.error().message.find("[[tensorflow]] #1 (2.16.1)"), std::string::npos)
      << tf.error().message;
  auto jax = JaxBuilds::Parse(
      "[[jax]]\nsince = \"0.8.0\"\ncuda_major = 13\nmin_cuda = \"12.1\"\n"
      "confirmed = true\nsource = \"test\"\n");
  ASSERT_FALSE(jax);
  EXPECT_NE(jax.error().message.find("[[jax]] #1 (0.8.0)"), std::string::npos);
  auto cudnn = CudnnTable::Parse(
      "[[cudnn]]\nfirst = \"9.0\"\nlast = \"9.0\"\ncuda = [\"12.0-11.8\"]\n"
      "confirmed = true\nsource = \"t\"\n[[header]]\nfile = \"x.h\"\n"
      "since_major = 1\nconfirmed = true\nsource = \"t\"\n[[encoding]]\n"
      "since_major = 1\nmajor_factor = 1000\nconfirmed = true\nsource = \"t\"\n");
  ASSERT_FALSE(cudnn);
  EXPECT_EQ(cudnn.error().kind, ErrorKind::kMalformed);
  EXPECT_NE(cudnn.error().message.find("[[cudnn]] #1 (9.0)"), std::string::npos)
      << cudnn.error().message;
}

// --- host compilers ---

TEST(KnowledgeSwTest, NewestHostCompilers) {
  const auto& h = HostCompilers::BuiltIn();
  ASSERT_TRUE(h) << h.error().message;
  EXPECT_EQ(h->NewestGccFor(V("13.0")), 15);  // host_config.h: __GNUC__ > 15
  EXPECT_EQ(h->NewestGccFor(V("12.6.3")), 13);
  EXPECT_EQ(h->NewestGccFor(V("12.4")), 13);
  EXPECT_EQ(h->NewestGccFor(V("12.8")), 14);
  EXPECT_EQ(h->NewestGccFor(V("11.8")), 11);
  EXPECT_EQ(h->NewestClangFor(V("13.0")), 20);
  EXPECT_EQ(h->NewestClangFor(V("12.6")), 18);
  EXPECT_TRUE(h->GccRow(V("13.0"))->confirmed);
  EXPECT_FALSE(h->NewestGccFor(V("11.2")));  // left out: Spack's rows disagree
  EXPECT_FALSE(h->NewestGccFor(V("13.3")));
  for (const auto* rows : {&h->gcc(), &h->clang()})
    for (size_t i = 0; i < rows->size(); ++i) {
      const auto& row = (*rows)[i];
      EXPECT_TRUE(KnownCuda(row.cuda_first)) << row.cuda_first.text;
      EXPECT_TRUE(KnownCuda(row.cuda_last)) << row.cuda_last.text;
      if (i > 0) {
        EXPECT_GE(row.newest_major, (*rows)[i - 1].newest_major) << row.cuda_first.text;
      }
    }
}

TEST(KnowledgeSwTest, InstalledToolkitAgreesWithTheTable) {
  // The toolkit on this machine, if any, is a primary source: its host_config.h refuses GCC
  // newer than N with `#if __GNUC__ > N`.
  std::ifstream cuda_h("/usr/local/cuda/include/cuda.h");
  std::ifstream config("/usr/local/cuda/include/crt/host_config.h");
  if (!cuda_h || !config) GTEST_SKIP() << "no CUDA toolkit in /usr/local/cuda";
  std::stringstream a, b;
  a << cuda_h.rdbuf();
  b << config.rdbuf();
  std::smatch version, gnuc;
  std::string cuda_text = a.str(), config_text = b.str();
  ASSERT_TRUE(std::regex_search(cuda_text, version, std::regex(R"(#define CUDA_VERSION (\d+))")));
  ASSERT_TRUE(std::regex_search(config_text, gnuc, std::regex(R"(#if __GNUC__ > (\d+))")));
  auto cuda = V(CudaVersionFromInt(std::stoi(version[1])).c_str());
  auto newest = HostCompilers::BuiltIn()->NewestGccFor(cuda);
  if (!newest) GTEST_SKIP() << "CUDA " << cuda.text << " has no row";
  EXPECT_EQ(*newest, std::stoi(gnuc[1])) << "CUDA " << cuda.text;
}

TEST(KnowledgeSwTest, MalformedHostCompilerTable) {
  const char* row =
      "cuda_first = \"12.0\"\ncuda_last = \"12.3\"\nnewest_major = 12\n"
      "confirmed = true\nsource = \"t\"\n";
  std::string good = std::string("[[gcc]]\n") + row + "[[clang]]\n" + row;
  EXPECT_TRUE(HostCompilers::Parse(good));
  auto overlap = HostCompilers::Parse(good +
                                      "[[gcc]]\ncuda_first = \"12.2\"\ncuda_last = \"12.4\"\n"
                                      "newest_major = 13\nconfirmed = true\nsource = \"t\"\n");
  ASSERT_FALSE(overlap);
  EXPECT_NE(overlap.error().message.find("overlap"), std::string::npos);
  auto bad =
      HostCompilers::Parse(std::string("[[gcc]]\ncuda_first = \"12\"\ncuda_last = \"12.3\"\n"
                                       "newest_major = 12\nconfirmed = true\nsource = \"t\"\n"
                                       "[[clang]]\n") +
                           row);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, ErrorKind::kMalformed);
  EXPECT_NE(bad.error().message.find("[[gcc]] #1 (12)"), std::string::npos) << bad.error().message;
  EXPECT_FALSE(HostCompilers::Parse(std::string("[[gcc]]\n") + row));  // no [[clang]]
}

}  // namespace
}  // namespace dlrig
