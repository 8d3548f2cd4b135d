#include "knowledge/cuda_drivers.h"

#include <gtest/gtest.h>

namespace dlrig {
namespace {

Version V(const char* s) { return *Version::Parse(s); }

TEST(CudaDriversTest, BuiltInTable) {
  const auto& t = CudaDrivers::BuiltIn();
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_GE(t->rows().size(), 25u);
  EXPECT_EQ(t->NewestCudaFor(V("580.159.04"))->MajorMinor(), "13.0");
  EXPECT_EQ(t->NewestCudaFor(V("535.183.01"))->MajorMinor(), "12.2");
  EXPECT_EQ(t->NewestCudaFor(V("418.39"))->MajorMinor(), "10.1");
  EXPECT_FALSE(t->NewestCudaFor(V("390.1")));
  EXPECT_TRUE(*t->Runs(V("12.8"), V("535.183.01")));   // minor-version compatibility
  EXPECT_FALSE(*t->Runs(V("13.0"), V("575.57.08")));   // 13.x needs >= 580
  EXPECT_FALSE(*t->Runs(V("10.2"), V("418.39")));      // no minor compatibility before 11
  EXPECT_FALSE(*t->Runs(V("11.8"), V("450.51.06")));   // below 450.80.02
  EXPECT_FALSE(t->Runs(V("9.2"), V("580.1")));         // not in the table
}

TEST(CudaDriversTest, RowsNeedASource) {
  EXPECT_FALSE(CudaDrivers::Parse("[[cuda]]\nversion = \"12.0\"\ntoolkit_driver = \"525.60.13\"\n"));
  EXPECT_FALSE(CudaDrivers::Parse("nothing = 1\n"));
}

}  // namespace
}  // namespace dlrig
