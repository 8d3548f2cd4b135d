// data/tensor-rates.toml: per-SM rates by compute capability and segment, NVLink and PCIe rates,
// GeForce detection, and the parser's refusals.
#include "knowledge/tensor_rates.h"

#include <gtest/gtest.h>

#include <string>

namespace dlrig {
namespace {

const TensorRates& Rates() {
  const auto& t = TensorRates::BuiltIn();
  EXPECT_TRUE(t) << t.error().message;
  return *t;
}

double Rate(int major, int minor, Segment segment, const char* kind) {
  auto rate = Rates().Compute(major, minor, segment, kind);
  EXPECT_TRUE(rate) << kind << ": " << rate.error().message;
  return rate ? rate->per_clk_per_sm : -1;
}

TEST(TensorRatesTest, BuiltInTableParsesAndCitesSources) {
  ASSERT_TRUE(TensorRates::BuiltIn()) << TensorRates::BuiltIn().error().message;
  EXPECT_GE(Rates().compute().size(), 10u);
  for (const auto& row : Rates().compute()) {
    EXPECT_FALSE(row.sources.empty());
    EXPECT_FALSE(row.parts.empty());
    // The research derives every rate from datasheet TFLOP/s (section 6.1).
    EXPECT_TRUE(row.derived) << row.cc_major << "." << row.cc_minor;
  }
  for (const auto& row : Rates().nvlink()) EXPECT_FALSE(row.sources.empty());
  for (const auto& row : Rates().pcie()) EXPECT_FALSE(row.sources.empty());
}

TEST(TensorRatesTest, RatesOfTheResearchTable) {
  EXPECT_EQ(Rate(9, 0, Segment::kDatacenter, "bf16"), 4096);
  EXPECT_EQ(Rate(9, 0, Segment::kDatacenter, "fp8"), 8192);
  EXPECT_EQ(Rate(9, 0, Segment::kDatacenter, "fp64_tensor"), 256);
  EXPECT_EQ(Rate(8, 0, Segment::kDatacenter, "tf32"), 1024);
  EXPECT_EQ(Rate(7, 5, Segment::kDatacenter, "int8"), 2048);
  EXPECT_EQ(Rate(10, 0, Segment::kDatacenter, "fp4"), 32768);
  EXPECT_EQ(Rate(12, 0, Segment::kGeForce, "fp8_fp16acc"), 2048);
}

// GeForce GA10x / Ada / sm_120 run FP32-accumulate tensor math at half the FP16-accumulate rate;
// the professional parts of the same compute capability do not.
TEST(TensorRatesTest, GeForceRunsFp32AccumulateAtHalfRate) {
  for (auto [major, minor] : {std::pair{8, 6}, std::pair{8, 9}}) {
    double pro = Rate(major, minor, Segment::kDatacenter, "bf16");
    double geforce = Rate(major, minor, Segment::kGeForce, "bf16");
    EXPECT_EQ(geforce * 2, pro) << major << "." << minor;
    EXPECT_EQ(Rate(major, minor, Segment::kGeForce, "fp16_fp16acc"),
              Rate(major, minor, Segment::kDatacenter, "fp16_fp16acc"));
    EXPECT_EQ(Rate(major, minor, Segment::kGeForce, "tf32") * 2,
              Rate(major, minor, Segment::kDatacenter, "tf32"));
  }
  EXPECT_EQ(Rate(12, 0, Segment::kGeForce, "fp16") * 2,
            Rate(12, 0, Segment::kGeForce, "fp16_fp16acc"));
  EXPECT_EQ(Rate(8, 9, Segment::kGeForce, "fp8") * 2, Rate(8, 9, Segment::kGeForce, "fp8_fp16acc"));
}

TEST(TensorRatesTest, UnknownIsNotFoundAndMissingUnitIsUnsupported) {
  struct Case {
    int major, minor;
    Segment segment;
    const char* kind;
    ErrorKind want;
  } cases[] = {
      {12, 0, Segment::kGeForce, "tf32", ErrorKind::kNotFound},            // "?" in the research
      {10, 0, Segment::kDatacenter, "fp64_tensor", ErrorKind::kNotFound},  // "128?"
      {12, 0, Segment::kDatacenter, "bf16", ErrorKind::kNotFound},         // RTX PRO: no source
      {9, 0, Segment::kGeForce, "bf16", ErrorKind::kNotFound},             // no such part
      {7, 0, Segment::kDatacenter, "bf16", ErrorKind::kNotFound},
      {9, 0, Segment::kDatacenter, "fp3", ErrorKind::kNotFound},
      {8, 0, Segment::kDatacenter, "fp8", ErrorKind::kUnsupported},  // "-": no FP8 on A100
      {8, 6, Segment::kGeForce, "fp64_tensor", ErrorKind::kUnsupported},
  };
  for (const Case& c : cases) {
    auto rate = Rates().Compute(c.major, c.minor, c.segment, c.kind);
    ASSERT_FALSE(rate) << c.kind;
    EXPECT_EQ(rate.error().kind, c.want) << rate.error().message;
    EXPECT_NE(rate.error().message.find(c.kind), std::string::npos) << rate.error().message;
  }
}

TEST(TensorRatesTest, UnconfirmedRatesSaySo) {
  auto a6000 = Rates().Compute(8, 6, Segment::kDatacenter, "bf16");
  ASSERT_TRUE(a6000);
  EXPECT_FALSE(a6000->confirmed);  // full-rate FP32 accumulate on pro parts is assumed
  auto h100 = Rates().Compute(9, 0, Segment::kDatacenter, "bf16");
  ASSERT_TRUE(h100);
  EXPECT_TRUE(h100->confirmed);
}

TEST(TensorRatesTest, SegmentFromNvmlName) {
  EXPECT_EQ(SegmentFromName("NVIDIA GeForce RTX 4090"), Segment::kGeForce);
  EXPECT_EQ(SegmentFromName("NVIDIA GeForce RTX 3090"), Segment::kGeForce);
  EXPECT_EQ(SegmentFromName("NVIDIA GeForce RTX 5090 D"), Segment::kGeForce);
  EXPECT_EQ(SegmentFromName("GeForce RTX 4090"), Segment::kGeForce);  // the catalog's spelling
  EXPECT_EQ(SegmentFromName("NVIDIA GEFORCE RTX 4090 Laptop GPU"), Segment::kGeForce);
  EXPECT_EQ(SegmentFromName("NVIDIA RTX A6000"), Segment::kDatacenter);
  EXPECT_EQ(SegmentFromName("NVIDIA RTX 6000 Ada Generation"), Segment::kDatacenter);
  EXPECT_EQ(SegmentFromName("NVIDIA H100 80GB HBM3"), Segment::kDatacenter);
  EXPECT_EQ(SegmentFromName("NVIDIA L40S"), Segment::kDatacenter);
  EXPECT_EQ(SegmentFromName("NVIDIA TITAN RTX"), Segment::kDatacenter);
  EXPECT_EQ(SegmentFromName(""), Segment::kDatacenter);
  EXPECT_STREQ(SegmentName(Segment::kGeForce), "geforce");
}

TEST(TensorRatesTest, NvlinkRates) {
  const NvlinkRow* v4 = Rates().Nvlink(4);
  ASSERT_NE(v4, nullptr);
  EXPECT_EQ(v4->per_link_gbs, 25);
  ASSERT_TRUE(v4->signaling_gbs);
  EXPECT_EQ(*v4->signaling_gbs, 26.5625);
  EXPECT_EQ(Rates().Nvlink(5)->per_link_gbs, 50);
  EXPECT_EQ(Rates().Nvlink(3)->signaling_gbs, std::nullopt);  // no source gives it
  EXPECT_EQ(Rates().Nvlink(9), nullptr);
  ASSERT_NE(Rates().NvlinkForCc(9, 0), nullptr);
  EXPECT_EQ(Rates().NvlinkForCc(9, 0)->version, 4);
  EXPECT_EQ(Rates().NvlinkForCc(10, 0)->version, 5);
  EXPECT_EQ(Rates().NvlinkForCc(8, 6), nullptr);
}

// nvmlDeviceGetNvLinkVersion answers NVML's enum: the lent H200s answer 6 for NVLink4. Taken as
// a generation, 6 would be unknown (and 5, NVML's 3_1, would claim NVLink5's 50 GB/s).
TEST(TensorRatesTest, NvmlVersionAnswersMapToGenerations) {
  ASSERT_NE(Rates().NvlinkForNvml(6), nullptr);
  EXPECT_EQ(Rates().NvlinkForNvml(6)->version, 4);
  EXPECT_EQ(Rates().NvlinkForNvml(7)->version, 5);
  EXPECT_EQ(Rates().NvlinkForNvml(5)->version, 3);
  EXPECT_EQ(Rates().NvlinkForNvml(4)->version, 3);
  EXPECT_EQ(Rates().NvlinkForNvml(3)->version, 2);
  EXPECT_EQ(Rates().NvlinkForNvml(0), nullptr);  // NVML_NVLINK_VERSION_INVALID
  EXPECT_EQ(Rates().NvlinkForNvml(99), nullptr);
}

// Per-lane figures of research section 6.4 (hpc-notes), Wikipedia's 250 MB/s for Gen1 and
// ml-engineering's 121 GB/s for Gen6 x16: independent of the GT/s x encoding formula.
TEST(TensorRatesTest, PciePerLaneRates) {
  struct Case {
    int gen;
    double per_lane_gbs;
  } cases[] = {{1, 0.25}, {2, 0.5}, {3, 0.985}, {4, 1.969}, {5, 3.938}, {6, 121.0 / 16}};
  for (const Case& c : cases) {
    const PcieRow* row = Rates().Pcie(c.gen);
    ASSERT_NE(row, nullptr) << c.gen;
    EXPECT_NEAR(row->PerLaneGbs(), c.per_lane_gbs, 0.001) << "Gen" << c.gen;
  }
  EXPECT_FALSE(Rates().Pcie(6)->confirmed);
  EXPECT_EQ(Rates().Pcie(7), nullptr);
}

// ---- the parser refuses what would silently change a limit ------------------------------------

std::string Table(const std::string& compute_row) {
  return R"([sources]
s = "a source"
[[compute]]
compute_capability = "9.0"
segment = "datacenter"
parts = ["H100"]
source = ["s"]
)" + compute_row +
         R"(
[[nvlink]]
version = 4
compute_capabilities = ["9.0"]
nvml_versions = [6]
per_link_gbs = 25
source = ["s"]
[[pcie]]
gen = 4
gt_s = 16
encoding = "128b/130b"
payload_bits = 128
line_bits = 130
source = ["s"]
)";
}

// The minimal table whose [[compute]] row cites `key`.
std::string WithSource(const std::string& key) {
  std::string text = Table("per_clk_per_sm = { bf16 = 4096 }");
  text.replace(text.find("source = [\"s\"]"), 14, "source = [\"" + key + "\"]");
  return text;
}

TEST(TensorRatesTest, ParsesAMinimalTable) {
  auto t = TensorRates::Parse(Table("per_clk_per_sm = { bf16 = 4096 }\nunsupported = [\"fp4\"]"));
  ASSERT_TRUE(t) << t.error().message;
  auto rate = t->Compute(9, 0, Segment::kDatacenter, "bf16");
  ASSERT_TRUE(rate);
  EXPECT_EQ(rate->per_clk_per_sm, 4096);
  EXPECT_EQ(t->Compute(9, 0, Segment::kDatacenter, "fp4").error().kind, ErrorKind::kUnsupported);
}

TEST(TensorRatesTest, RefusesBadTables) {
  struct Case {
    std::string text;
    const char* says;
  } cases[] = {
      {Table("per_clk_per_sm = { bf17 = 4096 }"), "bf17"},
      {Table("per_clk_per_sm = { bf16 = 0 }"), "positive"},
      {Table("per_clk_per_sm = { bf16 = \"fast\" }"), "positive"},
      {Table("per_clk_per_sm = { bf16 = 4096 }\nunsupported = [\"bf16\"]"), "unsupported"},
      {Table("per_clk_per_sm = { bf16 = 4096 }\nunconfirmed = [\"fp8\"]"), "fp8"},
      {Table("per_clk_per_sm = { bf16 = 4096 }\ntflops = 1"), "tflops"},
      {Table(""), "per_clk_per_sm"},
      {Table("per_clk_per_sm = { bf16 = 4096 }\n[[compute]]\ncompute_capability = \"9.0\"\n"
             "segment = \"datacenter\"\nparts = [\"x\"]\nper_clk_per_sm = { bf16 = 1 }\n"
             "source = [\"s\"]"),
       "twice"},
      {Table("per_clk_per_sm = { bf16 = 4096 }\n[[compute]]\ncompute_capability = \"9.0\"\n"
             "segment = \"consumer\"\nparts = [\"x\"]\nper_clk_per_sm = { bf16 = 1 }\n"
             "source = [\"s\"]"),
       "segment"},
      {WithSource("nope"), "nope"},
      {Table("per_clk_per_sm = { bf16 = 4096 }") + "[rates]\nx = 1\n", "rates"},
      {Table("per_clk_per_sm = { bf16 = 4096 }") +
           "[[pcie]]\ngen = 5\ngt_s = 32\nencoding = \"x\"\npayload_bits = 131\nline_bits = 130\n"
           "source = [\"s\"]\n",
       "payload_bits"},
      {Table("per_clk_per_sm = { bf16 = 4096 }") +
           "[[nvlink]]\nversion = 4\ncompute_capabilities = [\"9.0\"]\nnvml_versions = [7]\n"
           "per_link_gbs = 25\nsource = [\"s\"]\n",
       "twice"},
      {Table("per_clk_per_sm = { bf16 = 4096 }") +
           "[[nvlink]]\nversion = 5\ncompute_capabilities = [\"10.0\"]\nnvml_versions = [6]\n"
           "per_link_gbs = 50\nsource = [\"s\"]\n",
       "maps to two"},
      {Table("per_clk_per_sm = { bf16 = 4096 }") +
           "[[nvlink]]\nversion = 5\ncompute_capabilities = [\"10.0\"]\nnvml_versions = [\"7\"]\n"
           "per_link_gbs = 50\nsource = [\"s\"]\n",
       "nvml_versions"},
      {"[sources]\ns = \"x\"\n", "compute"},
      {"not toml [", ""},
  };
  for (const Case& c : cases) {
    auto t = TensorRates::Parse(c.text);
    ASSERT_FALSE(t) << c.says;
    EXPECT_EQ(t.error().kind, ErrorKind::kMalformed) << t.error().message;
    EXPECT_NE(t.error().message.find(c.says), std::string::npos) << t.error().message;
  }
}

}  // namespace
}  // namespace dlrig
