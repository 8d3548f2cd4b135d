#include "probe/driver_query.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace dlrig {
namespace {

// A fake libnvidia-ml + libcuda in one file. -DHANG: nvmlInit_v2 sleeps; -DMISSING: no
// nvmlSystemGetCudaDriverVersion*; -DOLD_INIT: only the old nvmlInit; -DMISMATCH: init fails.
constexpr const char* kFakeSource = R"(
#include <string.h>
#include <unistd.h>
#ifdef OLD_INIT
int nvmlInit(void) { return 0; }
#else
int nvmlInit_v2(void) {
#ifdef HANG
  sleep(30);
#endif
#ifdef MISMATCH
  return 18;
#else
  return 0;
#endif
}
#endif
const char* nvmlErrorString(int r) { return r == 18 ? "Driver/library version mismatch" : "Success"; }
int nvmlSystemGetDriverVersion(char* b, unsigned n) { strncpy(b, "580.159.04", n); return 0; }
int nvmlSystemGetNVMLVersion(char* b, unsigned n) { strncpy(b, "13.580.159.04", n); return 0; }
#ifndef MISSING
int nvmlSystemGetCudaDriverVersion_v2(int* v) { *v = 13000; return 0; }
#endif
int nvmlDeviceGetCount_v2(unsigned* c) { *c = 2; return 0; }
int nvmlShutdown(void) { return 0; }
int cuDriverGetVersion(int* v) { *v = 13000; return 0; }
int cuInit(unsigned f) { (void)f; return 100; }
int cuDeviceGetCount(int* c) { *c = 0; return 0; }
int cuGetErrorName(int e, const char** s) { (void)e; *s = "CUDA_ERROR_NO_DEVICE"; return 0; }
int cuGetErrorString(int e, const char** s) { (void)e; *s = "no CUDA-capable device is detected"; return 0; }
)";

class DriverQueryTest : public ::testing::Test {
 protected:
  // Builds the fake with `define` ("" for none); empty string when no C compiler.
  std::string Build(const std::string& define) {
    tree_.Write("fake.c", kFakeSource);
    std::string out = (tree_.dir() / ("libfake" + define + ".so")).string();
    std::vector<std::string> argv = {"cc", "-shared", "-fPIC", "-o", out,
                                     (tree_.dir() / "fake.c").string()};
    if (!define.empty()) argv.push_back("-D" + define);
    auto r = SystemRunner().Run(argv, {std::chrono::milliseconds(30000), 1 << 16});
    return r && r->exit_code == 0 ? out : "";
  }
  DriverQuery Query(const std::string& lib, int deadline_ms = 5000) {
    return QueryDriver({lib, lib, std::chrono::milliseconds(deadline_ms)});
  }
  testing::TempTree tree_;
};

TEST_F(DriverQueryTest, AnswersAndErrorCodesVerbatim) {
  std::string lib = Build("");
  if (lib.empty()) GTEST_SKIP() << "no C compiler";
  DriverQuery q = Query(lib);
  ASSERT_TRUE(q.nvml.loaded_path) << q.nvml.loaded_path.error().message;
  EXPECT_EQ(*q.nvml.loaded_path, lib);
  EXPECT_EQ(*q.nvml.driver_version, "580.159.04");
  EXPECT_EQ(*q.nvml.nvml_version, "13.580.159.04");
  EXPECT_EQ(*q.nvml.cuda_driver_version, 13000);
  EXPECT_EQ(*q.nvml.device_count, 2);
  EXPECT_EQ(q.nvml.calls.front().function, "nvmlInit_v2");
  EXPECT_EQ(*q.cuda.cuda_driver_version, 13000);
  ASSERT_FALSE(q.cuda.device_count);
  EXPECT_EQ(q.cuda.device_count.error().kind, ErrorKind::kNotFound);
  EXPECT_NE(q.cuda.device_count.error().message.find(
                "cuInit returned 100 CUDA_ERROR_NO_DEVICE: no CUDA-capable device is detected"),
            std::string::npos);
}

TEST_F(DriverQueryTest, InitFailureCarriesNvmlErrorString) {
  std::string lib = Build("MISMATCH");
  if (lib.empty()) GTEST_SKIP() << "no C compiler";
  DriverQuery q = Query(lib);
  ASSERT_FALSE(q.nvml.driver_version);
  EXPECT_NE(q.nvml.driver_version.error().message.find(
                "nvmlInit_v2 returned 18: Driver/library version mismatch"),
            std::string::npos);
}

TEST_F(DriverQueryTest, OldInitSymbolIsTheFallback) {
  std::string lib = Build("OLD_INIT");
  if (lib.empty()) GTEST_SKIP() << "no C compiler";
  DriverQuery q = Query(lib);
  EXPECT_EQ(q.nvml.calls.front().function, "nvmlInit");
  EXPECT_EQ(*q.nvml.driver_version, "580.159.04");
}

TEST_F(DriverQueryTest, MissingSymbolFailsOnlyThatValue) {
  std::string lib = Build("MISSING");
  if (lib.empty()) GTEST_SKIP() << "no C compiler";
  DriverQuery q = Query(lib);
  EXPECT_EQ(*q.nvml.driver_version, "580.159.04");
  EXPECT_EQ(*q.nvml.device_count, 2);
  ASSERT_FALSE(q.nvml.cuda_driver_version);
  EXPECT_EQ(q.nvml.cuda_driver_version.error().kind, ErrorKind::kUnsupported);
  EXPECT_NE(q.nvml.cuda_driver_version.error().message.find("nvmlSystemGetCudaDriverVersion_v2"),
            std::string::npos);
}

TEST_F(DriverQueryTest, HangIsATimeoutNotAHang) {
  std::string lib = Build("HANG");
  if (lib.empty()) GTEST_SKIP() << "no C compiler";
  auto start = std::chrono::steady_clock::now();
  DriverQuery q = Query(lib, 500);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  ASSERT_TRUE(q.nvml.loaded_path);
  ASSERT_FALSE(q.nvml.driver_version);
  EXPECT_EQ(q.nvml.driver_version.error().kind, ErrorKind::kTimeout);
  EXPECT_NE(q.nvml.driver_version.error().message.find("nvmlInit_v2"), std::string::npos);
  ASSERT_FALSE(q.cuda.loaded_path);  // never reached
  EXPECT_EQ(q.cuda.loaded_path.error().kind, ErrorKind::kTimeout);
}

TEST_F(DriverQueryTest, DlopenErrorIsVerbatim) {
  DriverQuery q = Query("/nonexistent/libnvidia-ml.so.1");
  ASSERT_FALSE(q.nvml.loaded_path);
  EXPECT_EQ(q.nvml.loaded_path.error().message,
            "/nonexistent/libnvidia-ml.so.1: cannot open shared object file: "
            "No such file or directory");
  EXPECT_EQ(q.nvml.driver_version.error().message, q.nvml.loaded_path.error().message);
}

TEST(DriverQueryParseTest, ProtocolAndGarbage) {
  DriverQueryOptions o;
  ChildEnd end;
  end.timed_out = true;
  end.deadline = std::chrono::milliseconds(5000);
  DriverQuery q = ParseDriverQuery(
      "nvml open /usr/lib/libnvidia-ml.so.1\nnvml call nvmlInit_v2\nnvml return nvmlInit_v2 0 - "
      "Success\nnvml call nvmlSystemGetDriverVersion\nnvml return nvmlSystemGetDriverVersion 0 - "
      "ok\nnvml value driver_version 580\\\\x\ncuda open_error line1\\nline2\n"
      "junk\nnvml return\nnvml value device_count notanumber\n",
      o, end);
  EXPECT_EQ(*q.nvml.loaded_path, "/usr/lib/libnvidia-ml.so.1");
  EXPECT_EQ(*q.nvml.driver_version, "580\\x");
  EXPECT_EQ(q.nvml.device_count.error().kind, ErrorKind::kMalformed);
  EXPECT_EQ(q.cuda.loaded_path.error().message, "line1\nline2");
  DriverQuery empty = ParseDriverQuery("", o, end);
  EXPECT_EQ(empty.nvml.loaded_path.error().kind, ErrorKind::kTimeout);
}

}  // namespace
}  // namespace dlrig
