#include "gpu/cublaslt.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

#include "test_util.h"

namespace dlrig::gpu {
namespace {

// The CUDA toolkit of the build machine, when present (CI images have it; skip elsewhere).
constexpr const char* kToolkitLibrary = "/usr/local/cuda/lib64/libcublasLt.so.13";

class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(CublasLt, AMissingOverrideIsAnErrorNamingIt) {
  ScopedEnv env("DLRIG_CUBLASLT", "/nonexistent/libcublasLt.so.13");
  CublasLtSearch search = DefaultCublasLtSearch();
  EXPECT_EQ(search.override_path, "/nonexistent/libcublasLt.so.13");
  auto lt = CublasLt::Load(search);
  ASSERT_FALSE(lt.has_value());
  EXPECT_EQ(lt.error().kind, ErrorKind::kNotFound);
  EXPECT_NE(lt.error().message.find("DLRIG_CUBLASLT=/nonexistent/libcublasLt.so.13"),
            std::string::npos)
      << lt.error().message;
}

TEST(CublasLt, NotFoundNamesEveryPlaceSearched) {
  dlrig::testing::TempTree a, b;
  CublasLtSearch search{.loader_search = false, .dirs = {a.dir().string(), b.dir().string()}};
  auto lt = CublasLt::Load(search);
  ASSERT_FALSE(lt.has_value());
  EXPECT_EQ(lt.error().kind, ErrorKind::kNotFound);
  EXPECT_NE(lt.error().message.find(a.dir().string()), std::string::npos) << lt.error().message;
  EXPECT_NE(lt.error().message.find(b.dir().string()), std::string::npos) << lt.error().message;
  EXPECT_NE(lt.error().message.find("DLRIG_CUBLASLT"), std::string::npos);

  // With the loader's search on, the sonames it was asked for are named too. The soname of a
  // real library may be found here; that answer is then not an error.
  search.loader_search = true;
  auto with_loader = CublasLt::Load(search);
  if (!with_loader) {
    EXPECT_NE(with_loader.error().message.find("libcublasLt.so.13"), std::string::npos);
    EXPECT_NE(with_loader.error().message.find("libcublasLt.so.11"), std::string::npos);
  }
}

TEST(CublasLt, AFileThatWillNotLoadIsReportedWithTheLoadersReason) {
  dlrig::testing::TempTree tree;
  tree.Write("libcublasLt.so.12", "not an ELF file\n");
  auto lt = CublasLt::Load({.loader_search = false, .dirs = {tree.dir().string()}});
  ASSERT_FALSE(lt.has_value());
  const std::string path = (tree.dir() / "libcublasLt.so.12").string();
  EXPECT_NE(lt.error().message.find("not loadable: " + path), std::string::npos)
      << lt.error().message;
}

TEST(CublasLt, TheDefaultSearchCoversToolkitAndWheels) {
  dlrig::testing::TempTree venv;
  venv.Mkdir("lib/python3.12/site-packages/nvidia/cu13/lib");
  venv.Mkdir("lib/python3.12/site-packages/nvidia/cublas/lib");
  ScopedEnv env("VIRTUAL_ENV", venv.dir().string());
  ScopedEnv no_override("DLRIG_CUBLASLT", "");
  CublasLtSearch search = DefaultCublasLtSearch();
  EXPECT_TRUE(search.override_path.empty());
  EXPECT_TRUE(search.loader_search);
  auto has = [&](const std::filesystem::path& dir) {
    return std::find(search.dirs.begin(), search.dirs.end(), dir.string()) != search.dirs.end();
  };
  EXPECT_TRUE(has(venv.dir() / "lib/python3.12/site-packages/nvidia/cu13/lib"));
  EXPECT_TRUE(has(venv.dir() / "lib/python3.12/site-packages/nvidia/cublas/lib"));
  if (std::filesystem::is_directory("/usr/local/cuda/lib64")) {
    EXPECT_TRUE(has("/usr/local/cuda/lib64"));
  }
}

TEST(CublasLt, TheToolkitLibraryLoadsAndReportsItsVersion) {
  if (!std::filesystem::exists(kToolkitLibrary)) GTEST_SKIP() << kToolkitLibrary << " absent";
  auto lt = CublasLt::Load({.override_path = kToolkitLibrary});
  ASSERT_TRUE(lt.has_value()) << lt.error().message;
  // The .so.13 soname is cuBLAS 13.x: cublasLtGetVersion is major*10000 + minor*100 + patch.
  EXPECT_EQ((*lt)->version / 10000, 13u);
  EXPECT_EQ((*lt)->VersionText().rfind("13.", 0), 0u) << (*lt)->VersionText();
  EXPECT_NE((*lt)->path.find("libcublasLt.so"), std::string::npos) << (*lt)->path;
  EXPECT_NE((*lt)->cublasLtGetStatusName, nullptr);
  EXPECT_EQ((*lt)->StatusName(kCublasNotSupported), "CUBLAS_STATUS_NOT_SUPPORTED");
  auto unsupported = (*lt)->Check(kCublasNotSupported, "cublasLtMatmul");
  ASSERT_FALSE(unsupported.has_value());
  EXPECT_EQ(unsupported.error().kind, ErrorKind::kUnsupported);
  EXPECT_EQ(unsupported.error().message, "cublasLtMatmul: CUBLAS_STATUS_NOT_SUPPORTED");

  // Without a GPU, cublasLtCreate answers with a status (no crash); with one, a handle.
  auto handle = CreateLtHandle(**lt);
  if (handle) {
    EXPECT_NE(handle->get(), nullptr);
  } else {
    EXPECT_EQ(handle.error().message.rfind("cublasLtCreate: CUBLAS_STATUS_", 0), 0u)
        << handle.error().message;
  }
}

// The descriptors are host objects: without a GPU they still check our declarations against
// the library (attribute ids and sizes it rejects as CUBLAS_STATUS_INVALID_VALUE).
TEST(CublasLt, OurDeclarationsMatchTheLibrarysDescriptors) {
  if (!std::filesystem::exists(kToolkitLibrary)) GTEST_SKIP() << kToolkitLibrary << " absent";
  auto loaded = CublasLt::Load({.override_path = kToolkitLibrary});
  ASSERT_TRUE(loaded.has_value()) << loaded.error().message;
  const CublasLt& lt = **loaded;

  LtMatmulDesc desc = nullptr;
  ASSERT_EQ(lt.cublasLtMatmulDescCreate(&desc, kCompute32F, kR32F), kCublasSuccess);
  const int32_t t = kOpT;
  EXPECT_EQ(lt.cublasLtMatmulDescSetAttribute(desc, kDescTransA, &t, sizeof t), kCublasSuccess);
  const int64_t wrong = kOpT;  // TRANSA is an int32_t: 8 bytes are refused
  EXPECT_NE(lt.cublasLtMatmulDescSetAttribute(desc, kDescTransA, &wrong, sizeof wrong),
            kCublasSuccess);
  const int32_t scale = kR32F;
  EXPECT_EQ(lt.cublasLtMatmulDescSetAttribute(desc, kDescScaleType, &scale, sizeof scale),
            kCublasSuccess);
  const uint64_t device_pointer = 0x1000;
  EXPECT_EQ(lt.cublasLtMatmulDescSetAttribute(desc, kDescAScalePointer, &device_pointer,
                                              sizeof device_pointer),
            kCublasSuccess);
  EXPECT_EQ(lt.cublasLtMatmulDescDestroy(desc), kCublasSuccess);

  for (int type : {kR64F, kR32F, kR16F, kR16BF, kR8FE4M3, kR8I, kR32I}) {
    LtLayout layout = nullptr;
    EXPECT_EQ(lt.cublasLtMatrixLayoutCreate(&layout, type, 8192, 8192, 8192), kCublasSuccess)
        << "cudaDataType " << type;
    if (layout) lt.cublasLtMatrixLayoutDestroy(layout);
  }

  LtPreference pref = nullptr;
  ASSERT_EQ(lt.cublasLtMatmulPreferenceCreate(&pref), kCublasSuccess);
  const uint64_t workspace = 32u << 20;
  EXPECT_EQ(lt.cublasLtMatmulPreferenceSetAttribute(pref, kPrefMaxWorkspaceBytes, &workspace,
                                                    sizeof workspace),
            kCublasSuccess);
  EXPECT_EQ(lt.cublasLtMatmulPreferenceDestroy(pref), kCublasSuccess);
}

TEST(CublasLt, TileAndStageNamesFollowTheHeader) {
  EXPECT_EQ(LtTileName(0), "undefined");
  EXPECT_EQ(LtTileName(20), "128x128");
  EXPECT_EQ(LtTileName(23), "128x256");
  EXPECT_EQ(LtTileName(35), "256x32");
  EXPECT_EQ(LtTileName(600), "#600");
  EXPECT_EQ(LtStagesName(16), "64x4");
  EXPECT_EQ(LtStagesName(29), "#29");  // unassigned in CUDA 13.0
  EXPECT_EQ(LtStagesName(38), "768xAUTO");
}

}  // namespace
}  // namespace dlrig::gpu
