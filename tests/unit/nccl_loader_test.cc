// The libnccl.so.2 loader: where it looks, what it says when it finds nothing, and a real load
// of the copy on this machine when there is one (ncclGetVersion needs no GPU).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>

#include "gpu/nccl.h"
#include "test_util.h"

namespace dlrig::gpu {
namespace {

using testing::TempTree;

size_t IndexOf(const std::vector<std::string>& list, const std::string& item) {
  return static_cast<size_t>(std::find(list.begin(), list.end(), item) - list.begin());
}

TEST(NcclLoaderTest, VersionText) {
  EXPECT_EQ(NcclVersionString(22809), "2.28.9");
  EXPECT_EQ(NcclVersionString(21903), "2.19.3");
  EXPECT_EQ(NcclVersionString(2804), "2.8.4");  // before 2.9: 1000 x major + 100 x minor
}

TEST(NcclLoaderTest, SearchOrder) {
  auto p = NcclSearchPatterns("/venv", "/conda", "/home/u");
  size_t cuda = IndexOf(p, "/usr/local/cuda/lib64/libnccl.so.2");
  size_t distro = IndexOf(p, "/usr/lib/x86_64-linux-gnu/libnccl.so.2");
  size_t venv = IndexOf(p, "/venv/lib/python3*/site-packages/nvidia/nccl/lib/libnccl.so.2");
  size_t venv13 = IndexOf(p, "/venv/lib/python3*/site-packages/nvidia/cu13/lib/libnccl.so.2");
  size_t conda = IndexOf(p, "/conda/lib/libnccl.so.2");
  size_t system = IndexOf(p, "/usr/lib/python3*/dist-packages/nvidia/nccl/lib/libnccl.so.2");
  size_t local = IndexOf(p, "/usr/local/lib/python3*/site-packages/nvidia/cu13/lib/libnccl.so.2");
  size_t opt = IndexOf(p, "/opt/*/.venv/lib/python3*/site-packages/nvidia/nccl/lib/libnccl.so.2");
  size_t user =
      IndexOf(p, "/home/u/.local/lib/python3*/site-packages/nvidia/nccl/lib/libnccl.so.2");
  for (size_t i : {cuda, distro, venv, venv13, conda, system, local, opt, user})
    ASSERT_LT(i, p.size());
  EXPECT_EQ(cuda, 0u);
  EXPECT_LT(cuda, distro);
  EXPECT_LT(distro, venv);
  EXPECT_LT(venv, conda);
  EXPECT_LT(conda, system);
  EXPECT_LT(system, opt);
  EXPECT_LT(local, opt);
  EXPECT_LT(opt, user);

  // Unset variables drop their entries rather than searching "/lib/python3*".
  auto bare = NcclSearchPatterns("", "", "");
  for (const std::string& s : bare) {
    EXPECT_NE(s.rfind("/lib/python3", 0), 0u) << s;
    EXPECT_EQ(s.find("/.local/"), std::string::npos) << s;
  }
  EXPECT_LT(bare.size(), p.size());
}

TEST(NcclLoaderTest, MissingOverrideIsAClearError) {
  NcclSearch search{.override_path = "/nonexistent/dir/libnccl.so.2"};
  auto nccl = Nccl::Load(search);
  ASSERT_FALSE(nccl);
  EXPECT_EQ(nccl.error().kind, ErrorKind::kNotFound);
  EXPECT_NE(nccl.error().message.find("DLRIG_NCCL=/nonexistent/dir/libnccl.so.2"),
            std::string::npos)
      << nccl.error().message;
  EXPECT_NE(nccl.error().message.find("no such file"), std::string::npos) << nccl.error().message;
}

TEST(NcclLoaderTest, OverrideThatIsNoLibrarySaysWhy) {
  TempTree tree;
  tree.Write("libnccl.so.2", "not an ELF file\n");
  std::string path = (tree.dir() / "libnccl.so.2").string();
  auto nccl = Nccl::Load({.override_path = path});
  ASSERT_FALSE(nccl);
  // dlopen's own reason follows the path ("invalid ELF header" or "file too short").
  EXPECT_NE(nccl.error().message.find(path + ": "), std::string::npos) << nccl.error().message;
  EXPECT_GT(nccl.error().message.size(), ("DLRIG_NCCL=" + path + ": ").size());
}

TEST(NcclLoaderTest, NothingFoundListsWhereItLooked) {
  TempTree tree;
  tree.Write("venv/lib/python3.12/site-packages/nvidia/nccl/lib/libnccl.so.2", "broken\n");
  std::string venv = (tree.dir() / "venv").string();
  NcclSearch search{
      .default_search = false,
      .patterns = {venv + "/lib/python3*/site-packages/nvidia/nccl/lib/libnccl.so.2",
                   venv + "/lib/python3*/site-packages/nvidia/cu13/lib/libnccl.so.2"}};
  auto nccl = Nccl::Load(search);
  ASSERT_FALSE(nccl);
  const std::string& m = nccl.error().message;
  EXPECT_EQ(nccl.error().kind, ErrorKind::kNotFound);
  // The broken copy, with why it did not serve, and the place that had nothing.
  EXPECT_NE(m.find(venv + "/lib/python3.12/site-packages/nvidia/nccl/lib/libnccl.so.2: "),
            std::string::npos)
      << m;
  EXPECT_NE(
      m.find("nothing at " + venv + "/lib/python3*/site-packages/nvidia/cu13/lib/libnccl.so.2"),
      std::string::npos)
      << m;
  EXPECT_NE(m.find("DLRIG_NCCL"), std::string::npos) << m;
}

// The copy CUDA 13 ships on this machine (lib64 is a link to lib there).
std::string RealNccl() {
  for (const char* p : {"/usr/local/cuda/lib64/libnccl.so.2", "/usr/local/cuda/lib/libnccl.so.2",
                        "/usr/lib/x86_64-linux-gnu/libnccl.so.2"}) {
    if (std::filesystem::exists(p)) return p;
  }
  return "";
}

// NCCL_VERSION_CODE of the nccl.h beside it, when there is one.
std::optional<int> HeaderVersion() {
  std::ifstream in("/usr/local/cuda/include/nccl.h");
  std::string line;
  std::regex code(R"(^#define NCCL_VERSION_CODE (\d+))");
  std::smatch m;
  while (std::getline(in, line)) {
    if (std::regex_search(line, m, code)) return std::stoi(m[1]);
  }
  return std::nullopt;
}

TEST(NcclLoaderTest, LoadsTheRealLibrary) {
  std::string path = RealNccl();
  if (path.empty()) GTEST_SKIP() << "no libnccl.so.2 on this machine";
  auto nccl = Nccl::Load({.override_path = path});
  ASSERT_TRUE(nccl) << nccl.error().message;
  EXPECT_GE((*nccl)->version, 20000);
  EXPECT_TRUE(std::regex_match((*nccl)->VersionString(), std::regex(R"(2\.\d+\.\d+)")))
      << (*nccl)->VersionString();
  EXPECT_EQ(std::filesystem::canonical((*nccl)->path), std::filesystem::canonical(path));
  if (auto header = HeaderVersion(); header && path.find("/usr/local/cuda") == 0) {
    EXPECT_EQ((*nccl)->version, *header);  // the library and the header CUDA ships agree
  }
  // Every entry point resolved; the error text comes from NCCL itself.
  EXPECT_NE((*nccl)->ncclAllReduce, nullptr);
  EXPECT_NE((*nccl)->ncclCommGetAsyncError, nullptr);
  auto bad = (*nccl)->Check(4, "ncclAllReduce");  // ncclInvalidArgument
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("ncclAllReduce: NCCL error 4"), std::string::npos)
      << bad.error().message;
  EXPECT_TRUE((*nccl)->Check(kNcclSuccess, "ncclGroupEnd"));

  // Found through the pattern search as well, with no default search.
  auto found =
      Nccl::Load({.default_search = false, .patterns = {"/nonexistent/*/libnccl.so.2", path}});
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_EQ((*found)->version, (*nccl)->version);
}

}  // namespace
}  // namespace dlrig::gpu
