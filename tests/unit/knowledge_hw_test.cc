// The hardware tables: architectures.toml, driver-branches.toml, gpus.toml.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include "knowledge/architectures.h"
#include "knowledge/cuda_drivers.h"
#include "knowledge/driver_branches.h"
#include "knowledge/gpus.h"

namespace dlrig {
namespace {

Version V(const char* s) { return *Version::Parse(s); }

const Architectures& Arch() {
  const auto& t = Architectures::BuiltIn();
  EXPECT_TRUE(t) << t.error().message;
  return *t;
}
const DriverBranches& Branches() {
  const auto& t = DriverBranches::BuiltIn();
  EXPECT_TRUE(t) << t.error().message;
  return *t;
}
const GpuCatalog& Gpus() {
  const auto& t = GpuCatalog::BuiltIn();
  EXPECT_TRUE(t) << t.error().message;
  return *t;
}

// ---- built-in tables ---------------------------------------------------------------------------

TEST(KnowledgeHwTest, BuiltInTablesParse) {
  ASSERT_TRUE(Architectures::BuiltIn()) << Architectures::BuiltIn().error().message;
  ASSERT_TRUE(DriverBranches::BuiltIn()) << DriverBranches::BuiltIn().error().message;
  ASSERT_TRUE(GpuCatalog::BuiltIn()) << GpuCatalog::BuiltIn().error().message;
  EXPECT_GE(Arch().rows().size(), 20u);
  EXPECT_GE(Branches().support().size(), 8u);
  EXPECT_GE(Gpus().rows().size(), 25u);
}

TEST(KnowledgeHwTest, EveryRowHasASource) {
  for (const auto& row : Arch().rows()) {
    EXPECT_FALSE(row.sources.empty()) << row.Cc();
    for (const auto& s : row.sources) {
      EXPECT_GT(s.size(), 10u) << row.Cc();
    }
  }
  for (const auto& row : Branches().branches()) {
    EXPECT_FALSE(row.sources.empty()) << row.branch;
  }
  for (const auto& row : Branches().support()) {
    EXPECT_FALSE(row.sources.empty()) << row.architecture;
  }
  for (const auto& row : Gpus().rows()) {
    EXPECT_FALSE(row.sources.empty()) << row.name;
    for (const auto& s : row.sources) {
      EXPECT_GT(s.size(), 10u) << row.name;
    }
  }
}

// ---- architectures -----------------------------------------------------------------------------

TEST(KnowledgeHwTest, ArchitectureLookups) {
  auto hopper = Arch().Find(9, 0);
  ASSERT_TRUE(hopper);
  EXPECT_EQ(hopper->architecture, "Hopper");
  EXPECT_EQ(hopper->sm, "sm_90");
  EXPECT_EQ(Arch().Find(8, 9)->architecture, "Ada Lovelace");
  EXPECT_EQ(Arch().Find(12, 0)->architecture, "Blackwell");
  EXPECT_EQ(Arch().Find(3, 7)->architecture, "Kepler");
  EXPECT_FALSE(Arch().Find(4, 2));
  EXPECT_FALSE(Arch().Find(9, 9));

  const ArchRow* by_sm = Arch().ForName("SM_86");
  ASSERT_NE(by_sm, nullptr);
  EXPECT_EQ(by_sm->Cc(), "8.6");
  const ArchRow* ampere = Arch().ForName("ampere");
  ASSERT_NE(ampere, nullptr);
  EXPECT_EQ(ampere->Cc(), "8.0");  // the lowest CC of the architecture
  EXPECT_EQ(Arch().ForName("Rubin"), nullptr);
}

TEST(KnowledgeHwTest, WhichCudaCanTargetWhichGpu) {
  const auto& a = Arch();
  // Kepler 3.5/3.7 went in 12.0, sm_30 in 11.0.
  EXPECT_EQ(a.CudaCanTarget(V("11.8"), 3, 5), true);
  EXPECT_EQ(a.CudaCanTarget(V("12.0"), 3, 7), false);
  EXPECT_EQ(a.CudaCanTarget(V("10.2"), 3, 0), true);
  EXPECT_EQ(a.CudaCanTarget(V("11.0"), 3, 0), false);
  // Maxwell, Pascal, Volta: offline compilation removed in 13.0.
  EXPECT_EQ(a.CudaCanTarget(V("12.9"), 7, 0), true);
  EXPECT_EQ(a.CudaCanTarget(V("13.0"), 7, 0), false);
  EXPECT_EQ(a.CudaCanTarget(V("13.2"), 6, 1), false);
  EXPECT_EQ(a.CudaCanTarget(V("13.0"), 7, 5), true);
  // First releases: 8.6 in 11.1, Ada and Hopper in 11.8, Blackwell in 12.8, 10.3 in 12.9.
  EXPECT_EQ(a.CudaCanTarget(V("11.0"), 8, 6), false);
  EXPECT_EQ(a.CudaCanTarget(V("11.1"), 8, 6), true);
  EXPECT_EQ(a.CudaCanTarget(V("11.7"), 9, 0), false);
  EXPECT_EQ(a.CudaCanTarget(V("11.8.0"), 8, 9), true);
  EXPECT_EQ(a.CudaCanTarget(V("12.6"), 12, 0), false);
  EXPECT_EQ(a.CudaCanTarget(V("12.8"), 10, 0), true);
  EXPECT_EQ(a.CudaCanTarget(V("12.8"), 10, 3), false);
  // Unknown: a CC the table lacks, or a release older than it covers.
  EXPECT_EQ(a.CudaCanTarget(V("12.4"), 9, 9), std::nullopt);
  EXPECT_EQ(a.CudaCanTarget(V("9.2"), 7, 0), std::nullopt);
  EXPECT_EQ(CudaCanTarget(V("13.0"), 6, 0), false);
}

TEST(KnowledgeHwTest, ArchitectureInvariants) {
  for (const auto& row : Arch().rows()) {
    // The open kernel module needs the GSP that Turing introduced.
    if (row.open_kernel_module) {
      EXPECT_EQ(*row.open_kernel_module, std::pair(row.cc_major, row.cc_minor) >= std::pair(7, 5))
          << row.Cc();
    }
    if (!row.jetson && std::pair(row.cc_major, row.cc_minor) >= std::pair(7, 5)) {
      EXPECT_TRUE(row.first_cuda) << row.Cc() << ": modern CCs have a known first CUDA";
    }
  }
}

// ---- driver branches ---------------------------------------------------------------------------

TEST(KnowledgeHwTest, DriverBranchLimits) {
  const auto& b = Branches();
  EXPECT_EQ(b.LastBranch(3, 5), 470);
  EXPECT_EQ(b.LastBranch(6, 1), 580);
  EXPECT_EQ(b.LastBranch(7, 0), 580);
  EXPECT_EQ(b.LastBranch(9, 0), std::nullopt);
  EXPECT_EQ(b.LastBranch(4, 2), std::nullopt);

  EXPECT_EQ(b.Supports(V("470.256.02"), 3, 7), true);
  EXPECT_EQ(b.Supports(V("525.60.13"), 3, 7), false);
  EXPECT_EQ(b.Supports(V("580.159.04"), 7, 0), true);
  EXPECT_EQ(b.Supports(V("590.44.01"), 7, 0), false);
  EXPECT_EQ(b.Supports(V("565.77"), 10, 0), false);
  EXPECT_EQ(b.Supports(V("570.86.16"), 12, 0), true);
  EXPECT_EQ(b.Supports(V("575.57.08"), 10, 3), false);
  EXPECT_EQ(b.Supports(V("580.82.07"), 10, 3), true);
  EXPECT_EQ(b.Supports(V("570.124.06"), 10, 0, KernelModule::kProprietary), false);
  EXPECT_EQ(b.Supports(V("570.124.06"), 10, 0, KernelModule::kOpen), true);
  EXPECT_EQ(b.Supports(V("535.183.01"), 7, 0, KernelModule::kOpen), false);
  EXPECT_EQ(b.Supports(V("580.159.04"), 9, 0, KernelModule::kProprietary), true);
  EXPECT_EQ(b.Supports(V("580.159.04"), 4, 2), std::nullopt);

  EXPECT_EQ(b.NeedsOpenModule(10, 0), true);
  EXPECT_EQ(b.NeedsOpenModule(9, 0), false);
  EXPECT_EQ(b.OpenModuleDrives(7, 5), true);
  EXPECT_EQ(b.OpenModuleDrives(6, 1), false);

  const BranchRow* r580 = b.Branch(580);
  ASSERT_NE(r580, nullptr);
  EXPECT_EQ(r580->designation, "long-term support");
  EXPECT_EQ(b.Branch(470)->designation, "legacy");
  EXPECT_EQ(b.Branch(123), nullptr);
}

TEST(KnowledgeHwTest, NewestCudaOfABranchComesFromCudaDrivers) {
  const auto& cuda = CudaDrivers::BuiltIn();
  ASSERT_TRUE(cuda) << cuda.error().message;
  EXPECT_EQ(NewestCudaForBranch(470, *cuda)->MajorMinor(), "11.4");
  EXPECT_EQ(NewestCudaForBranch(535, *cuda)->MajorMinor(), "12.2");
  EXPECT_EQ(NewestCudaForBranch(570, *cuda)->MajorMinor(), "12.8");
  EXPECT_EQ(NewestCudaForBranch(580, *cuda)->MajorMinor(), "13.0");
  EXPECT_FALSE(NewestCudaForBranch(300, *cuda));
}

TEST(KnowledgeHwTest, DriverBranchesAgreeWithArchitectures) {
  for (const auto& row : Branches().support()) {
    for (auto [major, minor] : row.ccs) {
      auto arch = Arch().Find(major, minor);
      ASSERT_TRUE(arch) << row.architecture << " " << major << "." << minor
                        << " is not in architectures.toml";
      EXPECT_EQ(arch->architecture, row.architecture) << arch->Cc();
      if (arch->open_kernel_module && row.open_module) {
        EXPECT_EQ(*arch->open_kernel_module, *row.open_module) << arch->Cc();
      }
    }
    if (row.min_branch && row.last_branch) {
      EXPECT_LE(*row.min_branch, *row.last_branch);
    }
  }
}

// ---- GPU catalog -------------------------------------------------------------------------------

TEST(KnowledgeHwTest, GpuLookups) {
  auto h100 = Gpus().Find(0x10de, 0x2330);
  ASSERT_TRUE(h100);
  EXPECT_EQ(h100->architecture, "Hopper");
  EXPECT_EQ(h100->cc_major, 9);
  EXPECT_EQ(h100->cc_minor, 0);
  EXPECT_EQ(h100->sm_count, 132);
  EXPECT_EQ(h100->memory_type, "HBM3");
  EXPECT_EQ(h100->tdp_w, 700);
  ASSERT_TRUE(h100->peak_tflops.bf16);
  EXPECT_NEAR(*h100->peak_tflops.bf16, 989.4, 0.01);

  // Several ids for one product.
  auto a = Gpus().Find(0x10de, 0x20b1), b = Gpus().Find(0x10de, 0x20f1);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->name, b->name);

  EXPECT_FALSE(Gpus().Find(0x10de, 0xffff));
  EXPECT_FALSE(Gpus().Find(0x1002, 0x2330));  // another vendor, same device number
  auto rtx5090 = Gpus().Find(0x10de, 0x2b85);
  ASSERT_TRUE(rtx5090);
  EXPECT_EQ(rtx5090->cc_major, 12);
  EXPECT_FALSE(rtx5090->peak_tflops.tf32) << "no source gave it; it must stay absent";
}

TEST(KnowledgeHwTest, GpuRowsAgreeWithArchitectures) {
  for (const auto& row : Gpus().rows()) {
    auto arch = Arch().Find(row.cc_major, row.cc_minor);
    ASSERT_TRUE(arch) << row.name << ": CC " << row.cc_major << "." << row.cc_minor
                      << " is not in architectures.toml";
    EXPECT_EQ(arch->architecture, row.architecture) << row.name;
    for (const PciId& id : row.pci_ids) {
      EXPECT_EQ(id.vendor, 0x10de) << row.name;
    }
  }
}

TEST(KnowledgeHwTest, GpuFiguresAreConsistent) {
  for (const auto& row : Gpus().rows()) {
    const PeakTflops& p = row.peak_tflops;
    bool tensor_cores = row.cc_major >= 7;
    auto half = p.bf16 ? p.bf16 : p.fp16;
    if (tensor_cores && half && p.fp32) {
      EXPECT_GE(*half, *p.fp32) << row.name;
    }
    if (p.tf32 && p.fp32) {
      EXPECT_GE(*p.tf32, *p.fp32) << row.name;
    }
    if (p.fp8 && half) {
      EXPECT_GE(*p.fp8, *half) << row.name;
    }
    if (p.fp4 && p.fp8) {
      EXPECT_GE(*p.fp4, *p.fp8) << row.name;
    }
    if (p.fp64 && p.fp32) {
      EXPECT_LE(*p.fp64, *p.fp32) << row.name;
    }
    if (p.fp8) {
      EXPECT_GE(row.cc_major * 10 + row.cc_minor, 89) << row.name << ": FP8 needs sm_89+";
    }
    if (auto computed = row.BandwidthFromClockGbs(); computed && row.memory_bandwidth_gbs) {
      EXPECT_NEAR(*computed, *row.memory_bandwidth_gbs, 0.01 * *row.memory_bandwidth_gbs)
          << row.name << ": bandwidth != 2 x clock x bus / 8";
    }
    if (row.boost_clock_mhz) {
      EXPECT_GT(*row.boost_clock_mhz, 500) << row.name;
    }
    if (row.pcie_gen) {
      EXPECT_TRUE(*row.pcie_gen >= 3 && *row.pcie_gen <= 6) << row.name;
    }
    if (row.pcie_lanes) {
      EXPECT_TRUE(*row.pcie_lanes == 8 || *row.pcie_lanes == 16) << row.name;
    }
    // Peak FP32 = SMs x clock x FP32 lanes x 2; 64..128 FP32 lanes per SM on every NVIDIA part
    // since Volta. Catches a digit dropped from either number.
    if (row.sm_count && row.boost_clock_mhz && p.fp32) {
      double per_sm_clock = *p.fp32 * 1e6 / (*row.sm_count * *row.boost_clock_mhz);
      EXPECT_TRUE(per_sm_clock > 2 * 64 * 0.85 && per_sm_clock < 2 * 128 * 1.15)
          << row.name << ": " << per_sm_clock << " FLOP per SM per clock";
    }
  }
}

TEST(KnowledgeHwTest, BandwidthFromClock) {
  GpuRow row;
  row.memory_clock_mhz = 2619;
  row.memory_bus_bits = 5120;
  EXPECT_NEAR(*row.BandwidthFromClockGbs(), 3352.3, 0.1);
  row.memory_bus_bits.reset();
  EXPECT_FALSE(row.BandwidthFromClockGbs());
}

TEST(KnowledgeHwTest, ParsePciId) {
  EXPECT_EQ(ParsePciId("10de:2330"), (PciId{0x10de, 0x2330}));
  EXPECT_EQ(ParsePciId("0x10DE:0x2B85"), (PciId{0x10de, 0x2b85}));
  EXPECT_FALSE(ParsePciId("10de"));
  EXPECT_FALSE(ParsePciId("10de:"));
  EXPECT_FALSE(ParsePciId("10de:12345"));
  EXPECT_FALSE(ParsePciId("10de:23g0"));
}

// The captured machines' NVIDIA display/3D devices must all be in the catalog.
TEST(KnowledgeHwTest, CapturedGpusAreInTheCatalog) {
  namespace fs = std::filesystem;
  fs::path captures(DLRIG_CAPTURES_DIR);
  if (!fs::exists(captures)) GTEST_SKIP() << "no captures";
  auto read = [](const fs::path& p) {
    std::ifstream in(p);
    std::string s;
    in >> s;
    return s;
  };
  int checked = 0;
  for (const auto& capture : fs::directory_iterator(captures)) {
    fs::path devices = capture.path() / "sys/bus/pci/devices";
    if (!fs::is_directory(devices)) continue;
    for (const auto& dev : fs::directory_iterator(devices)) {
      if (read(dev.path() / "vendor") != "0x10de" ||
          !read(dev.path() / "class").starts_with("0x03"))
        continue;
      auto id = ParsePciId("10de:" + read(dev.path() / "device"));
      ASSERT_TRUE(id) << dev.path();
      auto row = Gpus().Find(id->vendor, id->device);
      EXPECT_TRUE(row) << dev.path() << " device " << read(dev.path() / "device")
                       << " is not in gpus.toml";
      if (row && capture.path().filename() == "h100-ubuntu2404-torch211") {
        EXPECT_EQ(row->architecture, "Hopper");
        EXPECT_EQ(row->cc_major * 10 + row->cc_minor, 90);
        EXPECT_EQ(row->sm_count, 132);
      }
      ++checked;
    }
  }
  if (checked == 0) GTEST_SKIP() << "no NVIDIA GPU in the captures";
}

// ---- malformed input ---------------------------------------------------------------------------

constexpr const char* kArchOk = R"(
covered_from_cuda = "10.0"
[sources]
s = "somewhere, section 1"
[[cc]]
cc = "9.0"
sm = "sm_90"
architecture = "Hopper"
family = "Hopper"
first_cuda = "11.8"
source = ["s"]
)";

TEST(KnowledgeHwTest, ArchitecturesRejectBadRows) {
  ASSERT_TRUE(Architectures::Parse(kArchOk)) << Architectures::Parse(kArchOk).error().message;
  auto bad = [](std::string text, const char* expect) {
    auto t = Architectures::Parse(text);
    ASSERT_FALSE(t) << text;
    EXPECT_EQ(t.error().kind, ErrorKind::kMalformed);
    EXPECT_NE(t.error().message.find(expect), std::string::npos) << t.error().message;
  };
  std::string ok = kArchOk;
  auto without = [&](const std::string& line) {
    std::string s = ok;
    s.erase(s.find(line), line.size() + 1);
    return s;
  };
  bad("[[cc]\n", "architectures.toml");
  bad(without("family = \"Hopper\""), "cc 9.0 lacks required field 'family'");
  bad(without("source = [\"s\"]"), "cc 9.0 lacks required field 'source'");
  bad(ok + "removed_in_cuda = \"11.0\"\n", "cc 9.0 removed_in_cuda is not after first_cuda");
  bad(ok + "open_kernel_modul = true\n", "cc 9.0 has unknown field 'open_kernel_modul'");
  bad(std::string(kArchOk).replace(ok.find("[\"s\"]"), 5, "[\"t\"]"), "cites source 't'");
  bad(std::string(kArchOk).replace(ok.find("sm_90"), 5, "sm_89"), "does not match its cc");
  bad(std::string(kArchOk).replace(ok.find("\"9.0\""), 5, "9.0"), "field 'cc' must be");
  bad(without("[sources]\ns = \"somewhere, section 1\""), "no [sources]");
}

constexpr const char* kBranchesOk = R"(
[sources]
s = "somewhere, section 1"
[[branch]]
branch = 470
designation = "legacy"
source = ["s"]
[[support]]
architecture = "Kepler"
cc = ["3.5", "3.7"]
last_branch = 470
source = ["s"]
)";

TEST(KnowledgeHwTest, DriverBranchesRejectBadRows) {
  auto good = DriverBranches::Parse(kBranchesOk);
  ASSERT_TRUE(good) << good.error().message;
  EXPECT_EQ(good->LastBranch(3, 7), 470);
  auto bad = [](std::string text, const char* expect) {
    auto t = DriverBranches::Parse(text);
    ASSERT_FALSE(t) << text;
    EXPECT_EQ(t.error().kind, ErrorKind::kMalformed);
    EXPECT_NE(t.error().message.find(expect), std::string::npos) << t.error().message;
  };
  std::string ok = kBranchesOk;
  bad(ok + "[[branch]]\nbranch = 470\nsource = [\"s\"]\n", "branch 470 appears twice");
  bad(ok + "[[support]]\narchitecture = \"Kepler\"\ncc = [\"3.7\"]\nsource = [\"s\"]\n",
      "cc 3.7 appears in two");
  bad(ok + "[[support]]\narchitecture = \"X\"\ncc = [\"three\"]\nsource = [\"s\"]\n",
      "(X) cc 'three' is not major.minor");
  bad(ok + "[[support]]\ncc = [\"5.0\"]\nsource = [\"s\"]\n",
      "lacks required field 'architecture'");
  bad(std::string(ok).replace(ok.find("last_branch = 470"), 17, "last_branch = \"470\""),
      "(Kepler) field 'last_branch' must be an integer");
}

constexpr const char* kGpusOk = R"(
[sources]
s = "somewhere, section 1"
[[gpu]]
name = "Test GPU"
pci_ids = ["10de:2330", "10de:2331"]
architecture = "Hopper"
compute_capability = "9.0"
sm_count = 132
memory_bandwidth_gbs = 3350
peak_tflops = { fp32 = 66.9, bf16 = 989.4 }
derived = ["peak_tflops.bf16"]
source = ["s"]
)";

TEST(KnowledgeHwTest, GpuCatalogRejectsBadRows) {
  auto good = GpuCatalog::Parse(kGpusOk);
  ASSERT_TRUE(good) << good.error().message;
  EXPECT_EQ(good->Find(0x10de, 0x2331)->name, "Test GPU");
  auto bad = [](std::string text, const char* expect) {
    auto t = GpuCatalog::Parse(text);
    ASSERT_FALSE(t) << text;
    EXPECT_EQ(t.error().kind, ErrorKind::kMalformed);
    EXPECT_NE(t.error().message.find(expect), std::string::npos) << t.error().message;
  };
  std::string ok = kGpusOk;
  auto swap = [&](const std::string& from, const std::string& to) {
    return std::string(ok).replace(ok.find(from), from.size(), to);
  };
  bad("name = \n", "gpus.toml");
  bad(swap("compute_capability = \"9.0\"\n", ""),
      "row 'Test GPU' lacks required field 'compute_capability'");
  bad(swap("name = \"Test GPU\"\n", ""), "row '#1' lacks required field 'name'");
  bad(swap("sm_count = 132", "sm_count = \"132\""),
      "row 'Test GPU' field 'sm_count' must be an integer");
  bad(swap("sm_count = 132", "sm_count = 0"), "field 'sm_count' must be a positive integer");
  bad(swap("sm_count", "sms"), "row 'Test GPU' has unknown field 'sms'");
  bad(swap("bf16 = 989.4", "bf61 = 989.4"), "row 'Test GPU' peak_tflops has unknown field 'bf61'");
  bad(swap("\"peak_tflops.bf16\"", "\"peak_tflops.fp8\""), "derived names 'peak_tflops.fp8'");
  bad(swap("10de:2331", "10de:23310"), "pci id '10de:23310'");
  bad(swap("\"9.0\"", "\"9\""), "compute_capability' must be major.minor");
  bad(ok + "[[gpu]]\nname = \"Twin\"\npci_ids = [\"10de:2330\"]\narchitecture = \"Hopper\"\n"
           "compute_capability = \"9.0\"\nsource = [\"s\"]\n",
      "row 'Twin' repeats a PCI id of row 'Test GPU'");
  bad(swap("source = [\"s\"]", "source = []"), "field 'source' must be an array");
}

}  // namespace
}  // namespace dlrig
