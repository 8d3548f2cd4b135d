// `dlrig history record` on the fault-injection NVML, then `dlrig history` reads back what it
// recorded: JSON with the fake's values, a table, a chart python3's XML parser accepts, and a
// plain message and exit code for every way there is nothing to show.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "../unit/test_util.h"
#include "cli_run.h"

namespace dlrig {
namespace {

using nlohmann::json;

using testing::CliRun;

CliRun Dlrig(const testing::TempTree& tree, std::vector<std::string> args) {
  std::vector<std::string> argv = {"env", std::string("DLRIG_NVML_LIBRARY=") + DLRIG_FAKE_NVML_LIBRARY,
                                   "DLRIG_FAKE_NVML=" + (tree.dir() / "fake-nvml.conf").string(),
                                   "XDG_DATA_HOME=" + (tree.dir() / "xdg").string(), DLRIG_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return testing::RunCli(argv);
}

constexpr const char* kFake =
    "driver_version=580.159.04\ncuda_version=13000\ndevice_count=2\n"
    "gpu0.name=NVIDIA H100 80GB HBM3\ngpu0.uuid=GPU-11111111-2222-3333-4444-555555555555\n"
    "gpu0.pci_bus_id=00000000:01:00.0\ngpu0.memory_total=85520809984\ngpu0.memory_used=4294967296\n"
    "gpu0.temperature=47\ngpu0.power=312000\ngpu0.clock_sm=1980\ngpu0.util_gpu=87\n"
    "gpu0.energy=123456789\n"
    "gpu1.name=NVIDIA H100 80GB HBM3\ngpu1.uuid=GPU-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee\n"
    "gpu1.pci_bus_id=00000000:02:00.0\ngpu1.memory_total=85520809984\ngpu1.memory_used=1048576\n"
    "gpu1.power=70000\ngpu1.fail.nvmlDeviceGetTemperature=3\n";

class HistoryCli : public ::testing::Test {
 protected:
  void SetUp() override {
    tree_.Write("fake-nvml.conf", kFake);
    CliRun record = Dlrig(tree_, {"history", "record", "--duration", "3s", "--interval", "500ms"});
    ASSERT_EQ(record.exit_code, 0) << record.err;
    EXPECT_NE(record.err.find("recorded"), std::string::npos) << record.err;
  }
  testing::TempTree tree_;
};

TEST_F(HistoryCli, RecordsTheFakesValuesAndReadsThemBack) {
  // The default file, under XDG_DATA_HOME, in a directory only its owner may enter.
  EXPECT_TRUE(std::filesystem::exists(tree_.dir() / "xdg/dlrig/history.db"));
  EXPECT_EQ(std::filesystem::status(tree_.dir() / "xdg/dlrig").permissions(),
            std::filesystem::perms::owner_all);
  CliRun run = Dlrig(tree_, {"history", "--json", "--since", "10m"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  json doc = json::parse(run.out, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << run.out;
  EXPECT_EQ(doc["schema"], "dlrig.history/1");
  ASSERT_EQ(doc["gpus"].size(), 2u);
  EXPECT_EQ(doc["gpus"][0]["uuid"], "GPU-11111111-2222-3333-4444-555555555555");
  EXPECT_EQ(doc["gpus"][0]["pci_bus_id"], "0000:01:00.0");
  size_t gpu0 = 0, gpu1 = 0;
  for (const json& s : doc["samples"]) {
    if (s["gpu_uuid"] == doc["gpus"][0]["uuid"]) {
      ++gpu0;
      EXPECT_EQ(s["temperature_c"], 47);
      EXPECT_EQ(s["power_mw"], 312000);
      EXPECT_EQ(s["memory_used_bytes"], 4294967296LL);
      EXPECT_EQ(s["memory_total_bytes"], 85520809984LL);
      // Fields the fake and the sampler give since the clocks/utilisation work; a null here
      // would mean the sampler does not ask them.
      EXPECT_EQ(s["clock_sm_mhz"], 1980) << s.dump();
      EXPECT_EQ(s["utilization_gpu_percent"], 87) << s.dump();
      EXPECT_EQ(s["energy_mj"], 123456789) << s.dump();
    } else {
      ++gpu1;
      EXPECT_TRUE(s["temperature_c"].is_null()) << s.dump();  // unsupported: NULL, never 0
      EXPECT_EQ(s["power_mw"], 70000);
    }
  }
  // 3 s at 500 ms: six or seven samples each; four at the least on a loaded machine.
  EXPECT_GE(gpu0, 4u);
  EXPECT_GE(gpu1, 4u);

  CliRun one = Dlrig(tree_, {"history", "--json", "--gpu", "1"});
  ASSERT_EQ(one.exit_code, 0) << one.err;
  json only = json::parse(one.out);
  ASSERT_EQ(only["gpus"].size(), 1u);
  for (const json& s : only["samples"]) EXPECT_EQ(s["gpu_uuid"], only["gpus"][0]["uuid"]);
  CliRun by_uuid = Dlrig(tree_, {"history", "--json", "--gpu", "GPU-aaaa"});
  ASSERT_EQ(by_uuid.exit_code, 0) << by_uuid.err;
  EXPECT_EQ(json::parse(by_uuid.out)["gpus"][0]["uuid"], only["gpus"][0]["uuid"]);
}

TEST_F(HistoryCli, TableHasRowsAndASummary) {
  CliRun run = Dlrig(tree_, {"history", "--metric", "temp,power,mem"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("GPU 0 NVIDIA H100 80GB HBM3"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("temp °C"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("power W"), std::string::npos);
  EXPECT_NE(run.out.find("312"), std::string::npos);  // 312000 mW in watts
  for (const char* row : {"\n  min (", "\n  avg ", "\n  max "})
    EXPECT_NE(run.out.find(row), std::string::npos) << row << run.out;
}

TEST_F(HistoryCli, SvgIsWellFormedXml) {
  auto svg = tree_.dir() / "chart.svg";
  CliRun run = Dlrig(tree_, {"history", "--svg", svg.string(), "--metric", "temp,power,util"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  ASSERT_TRUE(std::filesystem::exists(svg));
  for (const auto& entry : std::filesystem::directory_iterator(tree_.dir()))  // no temp left
    EXPECT_EQ(entry.path().filename().string().find("chart.svg.tmp"), std::string::npos);
  SystemRunner runner;
  auto parsed = runner.Run(
      {"python3", "-c",
       "import sys, xml.etree.ElementTree as ET\n"
       "root = ET.parse(sys.argv[1]).getroot()\n"
       "ns = '{http://www.w3.org/2000/svg}'\n"
       "assert root.tag == ns + 'svg', root.tag\n"
       "panels = [g for g in root.iter(ns + 'g') if g.get('class') == 'panel']\n"
       "print(len(panels), sum(len(list(p.iter(ns + 'path'))) for p in panels))\n",
       svg.string()},
      ExecOptions{std::chrono::milliseconds(30000), 1u << 20});
  ASSERT_TRUE(parsed);
  if (parsed->exit_code == 127) GTEST_SKIP() << "python3 not installed";
  ASSERT_EQ(parsed->exit_code, 0) << parsed->err;
  // Three panels; temperature has one line (GPU 1 has none), power and util two each.
  EXPECT_EQ(parsed->out, "3 5\n");
}

TEST_F(HistoryCli, NothingToShowIsAPlainMessage) {
  CliRun none = Dlrig(tree_, {"history", "--db", (tree_.dir() / "none.db").string()});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_NE(none.err.find("no history at"), std::string::npos) << none.err;
  EXPECT_FALSE(std::filesystem::exists(tree_.dir() / "none.db"));

  CliRun gpu = Dlrig(tree_, {"history", "--gpu", "7"});
  EXPECT_EQ(gpu.exit_code, 64);
  EXPECT_NE(gpu.err.find("no GPU '7'"), std::string::npos) << gpu.err;
  EXPECT_NE(gpu.err.find("GPU-aaaaaaaa"), std::string::npos) << gpu.err;  // says which exist

  CliRun since = Dlrig(tree_, {"history", "--since", "last tuesday"});
  EXPECT_EQ(since.exit_code, 64);
  EXPECT_NE(since.err.find("--since"), std::string::npos) << since.err;

  CliRun old = Dlrig(tree_, {"history", "--since", "2001-01-01", "--until", "2001-01-02"});
  EXPECT_EQ(old.exit_code, 2);
  EXPECT_NE(old.err.find("nothing recorded"), std::string::npos) << old.err;
}

TEST(HistoryCliFiles, AGarbageFileIsNamedAndKept) {
  testing::TempTree tree;
  tree.Write("fake-nvml.conf", kFake);
  std::string garbage = "this is not a database, it is a user's file\n";
  garbage.resize(4096, 'x');
  tree.Write("h.db", garbage);
  std::string path = (tree.dir() / "h.db").string();
  for (std::vector<std::string> args : {std::vector<std::string>{"history", "--db", path},
                                        {"history", "record", "--db", path, "--duration", "1s"}}) {
    CliRun run = Dlrig(tree, args);
    EXPECT_EQ(run.exit_code, 2) << args[1];
    EXPECT_NE(run.err.find(path), std::string::npos) << run.err;
    EXPECT_NE(run.err.find("move it aside"), std::string::npos) << run.err;
    std::ifstream in(path, std::ios::binary);
    std::stringstream now;
    now << in.rdbuf();
    EXPECT_EQ(now.str(), garbage);
  }
}

}  // namespace
// serve --history records what it serves through the same store.
TEST(HistoryServe, ServeRecordsEverySampleItServes) {
  testing::TempTree tree;
  tree.Write("fake-nvml.conf", kFake);
  std::string db = (tree.dir() / "serve.db").string();
  std::vector<std::string> argv = {"env", std::string("DLRIG_NVML_LIBRARY=") + DLRIG_FAKE_NVML_LIBRARY,
                                   "DLRIG_FAKE_NVML=" + (tree.dir() / "fake-nvml.conf").string(),
                                   "timeout", "-s", "TERM", "3", DLRIG_BINARY, "serve",
                                   "--listen", "127.0.0.1:0", "--interval", "500ms", "--history", db};
  SystemRunner runner;
  auto served = runner.Run(argv, ExecOptions{std::chrono::milliseconds(30000), 1u << 20});
  ASSERT_TRUE(served);
  EXPECT_NE(served->err.find("recording samples in " + db), std::string::npos) << served->err;
  CliRun run = Dlrig(tree, {"history", "--db", db, "--json", "--since", "10m"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  json doc = json::parse(run.out, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << run.out;
  size_t samples = 0;
  for (const json& s : doc["samples"])
    if (s["gpu_uuid"] == "GPU-11111111-2222-3333-4444-555555555555") {
      ++samples;
      EXPECT_EQ(s["temperature_c"], 47);
    }
  EXPECT_GE(samples, 3u) << run.out;
}

}  // namespace dlrig
