// The sampler through the fault-injection NVML (tests/fakenvml/fake_nvml.c): live values and
// lists come through; a GPU lost mid-run, a call that hangs mid-run, a missing library, a
// driver/library mismatch, a refused call and an older driver's symbols are each reported as
// what they are, never as 0, and the sampler recovers when the fault goes.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "monitor/sampler.h"
#include "test_util.h"

namespace dlrig {
namespace {

constexpr const char* kTwoGpus = R"(device_count=2
gpu0.name=NVIDIA H100 80GB HBM3
gpu0.uuid=GPU-aaaa
gpu0.serial=1650324001234
gpu0.pci_device_id=0x233010DE
gpu0.memory_total=85520809984
gpu0.memory_used=1048576
gpu0.bus_width=5120
gpu0.power_default_limit=700000
gpu0.temp_shutdown=92
gpu0.temp_slowdown=89
gpu0.temp_mem_max=95
gpu0.temp_gpu_max=87
gpu0.clock_sm_max=1980
gpu0.clock_mem_max=2619
gpu0.clock_sm=1755
gpu0.clock_mem=2619
gpu0.clock_graphics=1755
gpu0.util_gpu=97
gpu0.util_mem=41
gpu0.memory_temp=52
gpu0.pstate=0
gpu0.energy=123456789
gpu0.clock_events=0x24
gpu0.replay=7
gpu0.pcie_tx=1000
gpu0.pcie_rx=2000
gpu0.temperature=61
gpu0.power=650000
gpu0.nvlinks=3
gpu0.nvlink0.active=1
gpu0.nvlink0.remote=00000000:1B:00.0
gpu0.nvlink1.active=1
gpu0.nvlink1.remote=00000000:1B:00.0
gpu0.processes=)" "%PID%" R"(:2147483648,999999:-
gpu0.topology1=40
gpu0.nvlink_p2p1=1
gpu1.name=NVIDIA H100 80GB HBM3
gpu1.fail.nvmlDeviceGetFanSpeed=3
)";

class SamplerTest : public ::testing::Test {
 protected:
  void Configure(std::string config) {
    for (size_t at; (at = config.find("%PID%")) != std::string::npos;)
      config.replace(at, 5, std::to_string(::getpid()));
    // A new mtime each time, even within one clock tick: the fake reloads on change.
    std::string path = (tree_.dir() / "fake-nvml.conf").string();
    tree_.Write("fake-nvml.conf.new", config);
    std::filesystem::rename(tree_.dir() / "fake-nvml.conf.new", path);
    timespec times[2] = {{0, UTIME_NOW}, {static_cast<time_t>(++stamp_), 0}};
    ::utimensat(AT_FDCWD, path.c_str(), times, 0);
    ::setenv("DLRIG_FAKE_NVML", path.c_str(), 1);
  }
  SamplerOptions Options(const char* library = DLRIG_FAKE_NVML_LIBRARY) {
    SamplerOptions o;
    o.driver.nvml_library = library;
    o.driver.deadline = std::chrono::milliseconds(800);
    o.kernel_log = false;
    return o;
  }
  void TearDown() override { ::unsetenv("DLRIG_FAKE_NVML"); }
  testing::TempTree tree_;
  long stamp_ = 1000;
};

TEST_F(SamplerTest, LiveValuesListsAndTopologyComeThrough) {
  Configure(kTwoGpus);
  Sampler sampler(Options());
  auto first = sampler.SampleNow();
  auto s = sampler.SampleNow();  // a live pass over the first full one
  ASSERT_EQ(s->sequence, 2u);
  ASSERT_EQ(s->unavailable, "") << s->unavailable;
  ASSERT_EQ(s->nvml.devices.size(), 2u);
  const GpuFacts& g = s->nvml.devices[0];
  EXPECT_EQ(g.name.value_or(""), "NVIDIA H100 80GB HBM3");
  EXPECT_EQ(g.serial.value_or(""), "1650324001234");
  EXPECT_EQ(g.pci_device_id.value_or(0), 0x233010DE);
  EXPECT_EQ(g.memory_bus_width_bits.value_or(0), 5120);
  EXPECT_EQ(g.power_default_limit_mw.value_or(0), 700000);
  EXPECT_EQ(g.temperature_slowdown_c.value_or(0), 89);
  EXPECT_EQ(g.temperature_shutdown_c.value_or(0), 92);
  EXPECT_EQ(g.temperature_gpu_max_c.value_or(0), 87);
  EXPECT_EQ(g.temperature_memory_max_c.value_or(0), 95);
  EXPECT_EQ(g.clock_sm_max_mhz.value_or(0), 1980);
  EXPECT_EQ(g.clock_memory_max_mhz.value_or(0), 2619);
  EXPECT_EQ(g.clock_sm_mhz.value_or(0), 1755);
  EXPECT_EQ(g.utilization_gpu_percent.value_or(0), 97);
  EXPECT_EQ(g.utilization_memory_percent.value_or(0), 41);
  EXPECT_EQ(g.memory_temperature_c.value_or(0), 52);
  EXPECT_EQ(g.energy_mj.value_or(0), 123456789);
  EXPECT_EQ(g.pcie_replay_count.value_or(0), 7);
  EXPECT_EQ(g.pcie_tx_kbps.value_or(0), 1000);
  EXPECT_EQ(g.pcie_rx_kbps.value_or(0), 2000);
  ASSERT_TRUE(g.clock_event_reasons);
  EXPECT_EQ(ClockEventNames(*g.clock_event_reasons),
            (std::vector<std::string>{"sw_power_cap", "sw_thermal_slowdown"}));
  EXPECT_TRUE(ClockEventIsThrottle(*g.clock_event_reasons));
  EXPECT_FALSE(ClockEventIsThrottle(0x1));
  ASSERT_TRUE(g.nvlinks) << g.nvlinks.error().message;
  ASSERT_EQ(g.nvlinks->size(), 3u);
  EXPECT_TRUE((*g.nvlinks)[0].active);
  EXPECT_EQ((*g.nvlinks)[1].remote_bus_id.value_or(""), "00000000:1B:00.0");
  EXPECT_FALSE((*g.nvlinks)[2].active);
  ASSERT_TRUE(g.processes) << g.processes.error().message;
  ASSERT_EQ(g.processes->size(), 2u);
  const GpuProcess& me = (*g.processes)[0];
  EXPECT_EQ(me.pid, ::getpid());
  EXPECT_EQ(me.used_memory_bytes.value_or(0), 2147483648LL);
  EXPECT_NE(me.command.find(program_invocation_short_name), std::string::npos) << me.command;
  EXPECT_FALSE(me.user.empty());
  EXPECT_FALSE((*g.processes)[1].used_memory_bytes);  // NVML_VALUE_NOT_AVAILABLE
  ASSERT_TRUE(g.topology.count(1));
  EXPECT_EQ(g.topology.at(1).value_or(TopologyLevel::kInternal), TopologyLevel::kNode);
  EXPECT_STREQ(TopologyName(TopologyLevel::kNode), "NODE");
  // GPU 1: no NVLink (NOT_SUPPORTED), a fan NVML cannot read: unsupported, not 0.
  const GpuFacts& g1 = s->nvml.devices[1];
  ASSERT_FALSE(g1.nvlinks);
  EXPECT_EQ(g1.nvlinks.error().kind, ErrorKind::kUnsupported);
  ASSERT_FALSE(g1.fan_percent);
  EXPECT_EQ(g1.fan_percent.error().kind, ErrorKind::kUnsupported);
  EXPECT_EQ(g1.topology.at(0).value_or(TopologyLevel::kInternal), TopologyLevel::kSystem);
  EXPECT_TRUE(g.nvlink_p2p.at(1).value_or(false));
  EXPECT_FALSE(g1.nvlink_p2p.at(0).value_or(true));
}

TEST_F(SamplerTest, GpuLostMidRunIsReportedAndRecovered) {
  Configure(kTwoGpus);
  Sampler sampler(Options());
  auto before = sampler.SampleNow();
  ASSERT_TRUE(before->nvml.devices[0].temperature_c);
  Configure(std::string(kTwoGpus) + "gpu0.lost=1\n");
  auto lost = sampler.SampleNow();
  const GpuFacts& g = lost->nvml.devices[0];
  ASSERT_FALSE(g.temperature_c);
  EXPECT_NE(g.temperature_c.error().message.find("15"), std::string::npos)
      << g.temperature_c.error().message;
  EXPECT_FALSE(g.utilization_gpu_percent);
  EXPECT_EQ(g.name.value_or(""), "NVIDIA H100 80GB HBM3");  // who was lost stays known
  EXPECT_TRUE(lost->nvml.devices[1].temperature_c);           // the other GPU is unaffected
  Configure(kTwoGpus);
  EXPECT_TRUE(sampler.SampleNow()->nvml.devices[0].temperature_c);
}

TEST_F(SamplerTest, HungCallIsCutByTheDeadlineAndTheChildRestarted) {
  Configure(kTwoGpus);
  Sampler sampler(Options());
  ASSERT_EQ(sampler.SampleNow()->unavailable, "");
  Configure(std::string(kTwoGpus) + "gpu0.hang.nvmlDeviceGetUtilizationRates=1\n");
  auto start = std::chrono::steady_clock::now();
  auto hung = sampler.SampleNow();
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, std::chrono::seconds(3));
  EXPECT_EQ(hung->restarts, 1);
  EXPECT_NE(hung->unavailable.find("did not answer"), std::string::npos) << hung->unavailable;
  const GpuFacts& g = hung->nvml.devices[0];
  EXPECT_EQ(g.name.value_or(""), "NVIDIA H100 80GB HBM3");
  ASSERT_FALSE(g.utilization_gpu_percent);
  EXPECT_EQ(g.utilization_gpu_percent.error().kind, ErrorKind::kTimeout);
  EXPECT_NE(g.utilization_gpu_percent.error().message.find("nvmlDeviceGetUtilizationRates"),
            std::string::npos)
      << g.utilization_gpu_percent.error().message;
  // A value the cut pass never reached is not shown from the earlier pass.
  EXPECT_FALSE(g.memory_temperature_c);
  Configure(kTwoGpus);
  auto back = sampler.SampleNow();
  EXPECT_EQ(back->unavailable, "") << back->unavailable;
  EXPECT_EQ(back->nvml.devices[0].utilization_gpu_percent.value_or(0), 97);
}

TEST_F(SamplerTest, MissingLibraryMismatchAndRefusalSaySo) {
  Configure(kTwoGpus);
  Sampler missing(Options("/nonexistent/libnvidia-ml.so.1"));
  auto s = missing.SampleNow();
  EXPECT_NE(s->unavailable.find("cannot load NVML"), std::string::npos) << s->unavailable;
  EXPECT_TRUE(s->nvml.devices.empty());

  Configure(std::string(kTwoGpus) + "init=18\n");  // NVML_ERROR_LIB_RM_VERSION_MISMATCH
  Sampler mismatch(Options());
  s = mismatch.SampleNow();
  EXPECT_NE(s->unavailable.find("returned 18"), std::string::npos) << s->unavailable;
  EXPECT_NE(mismatch.SampleNow()->unavailable, "");  // and stays so, without a crash

  Configure(std::string(kTwoGpus) + "gpu0.fail.nvmlDeviceGetPowerUsage=4\n");
  Sampler refused(Options());
  s = refused.SampleNow();
  ASSERT_FALSE(s->nvml.devices[0].power_mw);
  EXPECT_EQ(s->nvml.devices[0].power_mw.error().kind, ErrorKind::kNoPermission);
}

TEST_F(SamplerTest, OlderDriverFallsBackToOlderSymbols) {
  Configure(kTwoGpus);
  Sampler sampler(Options(DLRIG_FAKE_NVML_OLD_LIBRARY));
  auto s = sampler.SampleNow();
  ASSERT_EQ(s->unavailable, "");
  const GpuFacts& g = s->nvml.devices[0];
  EXPECT_EQ(g.clock_event_reasons.value_or(0), 0x24);  // ...ThrottleReasons
  ASSERT_TRUE(g.processes);                              // ..._v2
  EXPECT_EQ(g.processes->size(), 2u);
  EXPECT_EQ(g.memory_total_bytes.value_or(0), 85520809984LL);  // nvmlDeviceGetMemoryInfo
}

TEST_F(SamplerTest, SlowCountersAreReadEveryTenthPassAndKeptBetween) {
  Configure(kTwoGpus);
  Sampler sampler(Options());
  EXPECT_EQ(sampler.SampleNow()->nvml.devices[0].energy_mj.value_or(0), 123456789);  // full pass
  Configure(std::string(kTwoGpus) + "gpu0.energy=223456789\ngpu0.util_gpu=50\n");
  for (int pass = 1; pass <= 10; ++pass) {
    auto s = sampler.SampleNow();
    const GpuFacts& g = s->nvml.devices[0];
    EXPECT_EQ(g.utilization_gpu_percent.value_or(0), 50) << pass;  // live: every pass
    // Energy (about 4 ms of CPU per GPU on an H200) is read on the tenth live pass; until
    // then the last reading stands, never a gap or a 0.
    EXPECT_EQ(g.energy_mj.value_or(0), pass < 10 ? 123456789 : 223456789) << pass;
  }
  EXPECT_EQ(sampler.SampleNow()->nvml.devices[0].energy_mj.value_or(0), 223456789);
}

TEST_F(SamplerTest, BackgroundThreadSamplesAtTheInterval) {
  Configure(kTwoGpus);
  auto options = Options();
  options.interval = std::chrono::milliseconds(50);
  options.keep = 3;
  Sampler sampler(options);
  sampler.Start();
  auto s = sampler.WaitNewer(4, std::chrono::seconds(10));
  ASSERT_TRUE(s);
  EXPECT_GE(s->sequence, 5u);
  auto recent = sampler.Recent();
  ASSERT_EQ(recent.size(), 3u);
  EXPECT_LT(recent.front()->sequence, recent.back()->sequence);
}

// fork() copies every descriptor, O_CLOEXEC or not: a child wedged in NVML must hold none of
// the parent's (serve's listening socket above all), or it keeps them for as long as it hangs.
TEST_F(SamplerTest, ChildHoldsNoDescriptorOfTheParent) {
  Configure("hang_in_init=1\n");
  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in any{};
  any.sin_family = AF_INET;
  any.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&any), sizeof any), 0);
  ASSERT_EQ(::listen(listener, 4), 0);
  int ends[2];
  ASSERT_EQ(::pipe2(ends, O_CLOEXEC), 0);
  tree_.Write("plain", "x");
  int plain = ::open((tree_.dir() / "plain").c_str(), O_RDONLY);  // as a library might
  std::set<std::string> ours;
  for (int fd : {listener, ends[0], ends[1], plain})
    ours.insert(std::filesystem::read_symlink("/proc/self/fd/" + std::to_string(fd)).string());

  auto options = Options();
  options.driver.deadline = std::chrono::milliseconds(1500);
  Sampler sampler(options);
  std::thread sample([&] { sampler.SampleNow(); });
  std::vector<std::string> held, seen;
  pid_t child = 0;
  for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(1);
       child == 0 && std::chrono::steady_clock::now() < until;
       std::this_thread::sleep_for(std::chrono::milliseconds(10))) {
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
      std::ifstream stat(entry.path() / "stat");
      std::string line;
      std::getline(stat, line);
      size_t close = line.rfind(") ");
      if (close == std::string::npos) continue;
      std::istringstream rest(line.substr(close + 2));
      std::string state;
      pid_t parent = 0;
      rest >> state >> parent;
      if (parent == ::getpid() && state != "Z") child = std::stoi(entry.path().filename());
    }
  }
  ASSERT_NE(child, 0) << "no NVML child found";
  std::error_code ec;
  for (const auto& fd :
       std::filesystem::directory_iterator("/proc/" + std::to_string(child) + "/fd", ec)) {
    std::string target = std::filesystem::read_symlink(fd.path(), ec).string();
    seen.push_back(target);
    if (ours.count(target)) held.push_back(fd.path().filename().string() + " -> " + target);
  }
  sample.join();
  for (int fd : {listener, ends[0], ends[1], plain}) ::close(fd);
  EXPECT_FALSE(seen.empty()) << "the child's descriptors could not be read";
  EXPECT_EQ(held, std::vector<std::string>{});
}

}  // namespace
}  // namespace dlrig
