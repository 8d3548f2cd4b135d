// `--gpu NAME` against the GPU catalogue (data/gpus.toml): a name or alias exactly, never the
// nearest one; a shared name resolves only when its rows agree on architecture and CC; `--cc`
// describes a GPU the catalogue lacks. Each expectation is a fact of the card (its chip's
// compute capability per developer.nvidia.com/cuda-gpus), not the matcher's output replayed.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "knowledge/architectures.h"
#include "knowledge/gpus.h"
#include "plan/machine.h"

namespace dlrig {
namespace {

const GpuCatalog& Gpus() {
  const auto& t = GpuCatalog::BuiltIn();
  EXPECT_TRUE(t) << t.error().message;
  return *t;
}

Result<MachineSpec> Gpu(const std::string& name) {
  MachineDescription d;
  d.gpu = name;
  return DescribeMachine(d);
}

std::string Cc(const Result<MachineSpec>& m) {
  if (!m) return "error: " + m.error().message;
  if (m->gpus.empty() || !m->gpus[0].compute_capability) return "no CC";
  return m->gpus[0].compute_capability->text;
}

TEST(GpuNames, KeyIgnoresBrandCaseSpacingAndHyphens) {
  EXPECT_EQ(GpuNameKey("NVIDIA GeForce RTX 3090"), "rtx3090");
  EXPECT_EQ(GpuNameKey("rtx-3090"), "rtx3090");
  EXPECT_EQ(GpuNameKey("  RTX3090 "), "rtx3090");
  EXPECT_EQ(GpuNameKey("Tesla V100-SXM2-32GB"), "teslav100sxm232gb");
  EXPECT_EQ(GpuNameKey("Quadro RTX 6000"), "quadrortx6000");  // Quadro is part of the name
  EXPECT_EQ(GpuNameKey("NVIDIA"), "");
}

TEST(GpuNames, CommonCardsResolveToTheirChipsComputeCapability) {
  const std::map<std::string, std::string> expected = {
      {"Quadro RTX 6000", "7.5"},      // TU102, not the RTX 6000 Ada
      {"RTX 6000 Ada", "8.9"},         {"RTX 6000 Ada Generation", "8.9"},
      {"RTX 3060", "8.6"},             {"GeForce RTX 3060", "8.6"},
      {"3060", "8.6"},                 {"RTX 3090", "8.6"},
      {"3090", "8.6"},                 {"RTX 4080 SUPER", "8.9"},
      {"rtx 4080 super", "8.9"},       {"RTX 5090", "12.0"},
      {"RTX 5060 Ti", "12.0"},         {"RTX 5070", "12.0"},
      {"GTX 1080 Ti", "6.1"},          {"1080 Ti", "6.1"},
      {"Tesla K80", "3.7"},            {"K80", "3.7"},
      {"Tesla K40c", "3.5"},           {"GTX TITAN X", "5.2"},
      {"Tesla P100 PCIe 16GB", "6.0"}, {"Tesla V100-SXM2-32GB", "7.0"},
      {"V100", "7.0"},                 {"T4", "7.5"},
      {"A100", "8.0"},                 {"A100 80GB", "8.0"},
      {"A100-SXM4-40GB", "8.0"},       {"A10", "8.6"},  // the A10, not the A100
      {"H100 SXM", "9.0"},             {"H100 NVL", "9.0"},
      {"NVIDIA H100 80GB HBM3", "9.0"},  // what nvidia-smi prints
      {"H200", "9.0"},                 {"GH200", "9.0"},
      {"B200", "10.0"},                {"GB200", "10.0"},
      {"B300", "10.3"},                {"GB10", "12.1"},
      {"RTX PRO 6000 Blackwell Workstation Edition", "12.0"},
      {"RTX A6000", "8.6"},            {"L40S", "8.9"},
  };
  for (const auto& [name, cc] : expected) EXPECT_EQ(Cc(Gpu(name)), cc) << name;
}

TEST(GpuNames, QuadroRtx6000IsTuringNotAda) {
  auto m = Gpu("Quadro RTX 6000");
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->gpus[0].name, "Quadro RTX 6000");
  EXPECT_EQ(m->gpus[0].architecture, "Turing");
  const GpuRow* row = Gpus().MatchName("Quadro RTX 6000").named;
  ASSERT_TRUE(row);
  EXPECT_EQ(row->chip.substr(0, 5), "TU102");
}

TEST(GpuNames, UnknownNameIsRefusedWithTheNearestNames) {
  auto m = Gpu("RTX 9999");
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().kind, ErrorKind::kMalformed);
  EXPECT_NE(m.error().message.find("unknown GPU 'RTX 9999'; did you mean: "), std::string::npos)
      << m.error().message;
  EXPECT_NE(m.error().message.find("GeForce RTX"), std::string::npos) << m.error().message;
  // A near miss is a suggestion, never a silent substitute.
  auto near = Gpu("RTX 4099");
  ASSERT_FALSE(near);
  EXPECT_NE(near.error().message.find("GeForce RTX 4090"), std::string::npos)
      << near.error().message;
  EXPECT_FALSE(Gpu("RTX 6000 Ada Generation Extreme"));
  EXPECT_FALSE(Gpu("A100 96GB"));
  EXPECT_FALSE(Gpu("-"));
}

TEST(GpuNames, SharedNameOfOneChipResolvesAndSaysWhichItTook) {
  auto m = Gpu("A100");
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->gpus[0].architecture, "Ampere");
  ASSERT_EQ(m->notes.size(), 1u);
  EXPECT_NE(m->notes[0].find("planned as A100"), std::string::npos) << m->notes[0];
  EXPECT_NE(m->notes[0].find("A100 SXM4 80GB"), std::string::npos) << m->notes[0];
  EXPECT_TRUE(Gpu("RTX 3090")->notes.empty());  // a name: nothing to say
}

TEST(GpuNames, SharedNameOfDifferentChipsIsRefusedListingThem) {
  auto m = Gpu("RTX 6000");  // Quadro RTX 6000 (Turing) or RTX 6000 Ada
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().message.find("ambiguous"), std::string::npos) << m.error().message;
  EXPECT_NE(m.error().message.find("Quadro RTX 6000 (Turing, CC 7.5)"), std::string::npos)
      << m.error().message;
  EXPECT_NE(m.error().message.find("RTX 6000 Ada Generation (Ada Lovelace, CC 8.9)"),
            std::string::npos)
      << m.error().message;
  auto ti = Gpu("GTX 750 Ti");  // GM107 (Maxwell 5.0) and a GK106 board (Kepler 3.0)
  ASSERT_FALSE(ti);
  EXPECT_NE(ti.error().message.find("GM107"), std::string::npos) << ti.error().message;
}

TEST(GpuNames, ComputeCapabilityDescribesACardTheCatalogueLacks) {
  MachineDescription d;
  d.cc = "8.6";
  d.memory = "12GB";
  auto m = DescribeMachine(d);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->gpus[0].compute_capability->text, "8.6");
  EXPECT_EQ(m->gpus[0].architecture, "Ampere");
  EXPECT_EQ(m->gpus[0].memory_gb, 12.0);
  d.gpu = "My Lab Card";
  m = DescribeMachine(d);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->gpus[0].name, "My Lab Card");
  ASSERT_EQ(m->notes.size(), 1u);
  d.gpu = "RTX 4090";  // 8.9 in the catalogue: a contradiction, not a label
  EXPECT_FALSE(DescribeMachine(d));
  d.gpu = "RTX 3090";
  EXPECT_TRUE(DescribeMachine(d));
  for (const char* bad : {"8", "8.6.1", "4.0", "x.y", ""}) {
    MachineDescription b;
    b.cc = bad;
    b.gpu = *bad ? "" : "NoSuchCard 1";
    EXPECT_FALSE(DescribeMachine(b)) << bad;
  }
  MachineDescription mem;
  mem.cc = "9.0";
  mem.memory = "-3";
  EXPECT_FALSE(DescribeMachine(mem));
  mem.memory = "lots";
  EXPECT_FALSE(DescribeMachine(mem));
  MachineDescription only_memory;
  only_memory.memory = "24";
  EXPECT_FALSE(DescribeMachine(only_memory));
}

TEST(GpuNames, CatalogueNamesThePartsOfEveryGeneration) {
  std::set<std::string> archs;
  for (const GpuRow& row : Gpus().rows()) archs.insert(row.architecture);
  for (const char* a : {"Kepler", "Maxwell", "Pascal", "Volta", "Turing", "Ampere", "Ada Lovelace",
                        "Hopper", "Blackwell"})
    EXPECT_TRUE(archs.contains(a)) << a;
  EXPECT_GE(Gpus().rows().size(), 400u);
  // Recent PCI ids: H100 SXM5 94GB / 64GB variants, HGX B200 168GB, RTX 5060 Ti.
  for (uint16_t id : {0x2339, 0x2337, 0x2909, 0x2d04, 0x2c02, 0x2503, 0x2702, 0x102d})
    EXPECT_TRUE(Gpus().Find(0x10de, id)) << std::hex << id;
}

// Data: every row's architecture and CC agree with architectures.toml and its chip; no two rows
// share a PCI id or a name; no alias is also another row's name.
TEST(GpuNames, EveryRowIsConsistent) {
  const auto& archs = Architectures::BuiltIn();
  ASSERT_TRUE(archs) << archs.error().message;
  const std::map<std::string, std::string> chip_cc = {
      {"GK104", "3.0"}, {"GK106", "3.0"}, {"GK107", "3.0"}, {"GK110", "3.5"}, {"GK180", "3.5"},
      {"GK208", "3.5"}, {"GK210", "3.7"}, {"GM107", "5.0"}, {"GM108", "5.0"}, {"GM200", "5.2"},
      {"GM204", "5.2"}, {"GM206", "5.2"}, {"GP100", "6.0"}, {"GP102", "6.1"}, {"GP104", "6.1"},
      {"GP106", "6.1"}, {"GP107", "6.1"}, {"GP108", "6.1"}, {"GV100", "7.0"}, {"TU102", "7.5"},
      {"TU104", "7.5"}, {"TU106", "7.5"}, {"TU116", "7.5"}, {"TU117", "7.5"}, {"GA100", "8.0"},
      {"GA102", "8.6"}, {"GA103", "8.6"}, {"GA104", "8.6"}, {"GA106", "8.6"}, {"GA107", "8.6"},
      {"AD102", "8.9"}, {"AD103", "8.9"}, {"AD104", "8.9"}, {"AD106", "8.9"}, {"AD107", "8.9"},
      {"GH100", "9.0"}, {"GB100", "10.0"}, {"GB102", "10.0"}, {"GB110", "10.3"},
      {"GB202", "12.0"}, {"GB203", "12.0"}, {"GB205", "12.0"}, {"GB206", "12.0"},
      {"GB207", "12.0"}, {"GB20B", "12.1"}};
  std::set<uint16_t> ids;
  std::set<std::string> names;
  for (const GpuRow& row : Gpus().rows()) {
    const ArchRow* arch = archs->Find(row.cc_major, row.cc_minor);
    ASSERT_TRUE(arch) << row.name;
    EXPECT_EQ(arch->architecture, row.architecture) << row.name;
    EXPECT_FALSE(arch->jetson) << row.name << ": Jetson parts are not PCI GPUs";
    std::string cc = std::to_string(row.cc_major) + "." + std::to_string(row.cc_minor);
    ASSERT_GE(row.chip.size(), 5u) << row.name;
    auto want = chip_cc.find(row.chip.substr(0, 5));
    ASSERT_NE(want, chip_cc.end()) << row.name << " chip " << row.chip;
    EXPECT_EQ(want->second, cc) << row.name << " chip " << row.chip;
    for (const PciId& id : row.pci_ids) {
      EXPECT_EQ(id.vendor, 0x10de) << row.name;
      EXPECT_TRUE(ids.insert(id.device).second) << row.name << " repeats " << std::hex << id.device;
    }
    EXPECT_TRUE(names.insert(GpuNameKey(row.name)).second) << row.name;
  }
  for (const GpuRow& row : Gpus().rows())
    for (const std::string& alias : row.aliases)
      EXPECT_NE(GpuNameKey(alias), GpuNameKey(row.name)) << row.name << " lists its own name";
}

// doctor looks a GPU up without parsing the whole table: the row must be the same.
TEST(GpuNames, OneRowLookUpAgreesWithTheWholeTable) {
  size_t checked = 0;
  for (const GpuRow& row : Gpus().rows()) {
    for (const PciId& id : row.pci_ids) {
      auto one = GpuCatalog::BuiltInRow(id.vendor, id.device);
      ASSERT_TRUE(one) << row.name;
      EXPECT_EQ(one->name, row.name);
      EXPECT_EQ(one->cc_major * 10 + one->cc_minor, row.cc_major * 10 + row.cc_minor) << row.name;
      EXPECT_EQ(one->memory_clock_mhz, row.memory_clock_mhz) << row.name;
      EXPECT_EQ(one->peak_tflops.bf16, row.peak_tflops.bf16) << row.name;
      EXPECT_EQ(one->sources, row.sources) << row.name;
      ++checked;
    }
  }
  EXPECT_GE(checked, 700u);
  EXPECT_FALSE(GpuCatalog::BuiltInRow(0x10de, 0xfffe));
  EXPECT_FALSE(GpuCatalog::BuiltInRow(0x1002, 0x2330));
}

TEST(GpuNames, RowsNamedTwiceAreRejected) {
  const char* text = R"(
[sources]
s = "a source of at least ten characters"
[[gpu]]
name = "RTX 3090"
pci_ids = ["10de:2204"]
architecture = "Ampere"
compute_capability = "8.6"
source = ["s"]
[[gpu]]
name = "NVIDIA GeForce RTX-3090"
pci_ids = ["10de:2205"]
architecture = "Ampere"
compute_capability = "8.6"
source = ["s"]
)";
  auto t = GpuCatalog::Parse(text);
  ASSERT_FALSE(t);
  EXPECT_NE(t.error().message.find("two rows named"), std::string::npos) << t.error().message;
}

}  // namespace
}  // namespace dlrig
