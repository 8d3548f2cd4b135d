// dlrig top's frame from hand-built snapshots: it fits 80x24 with 1, 2 and 8 GPUs, says n/a for
// what NVML did not give, marks a lost GPU, sorts, filters, scrolls, and falls back to ASCII.
#include "monitor/top_view.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "monitor/display_width.h"

namespace dlrig {
namespace {

using Snapshots = std::vector<std::shared_ptr<const MonitorSnapshot>>;

constexpr long long kGiB = 1LL << 30;

GpuFacts Gpu(int index, std::string name, long long util) {
  GpuFacts g;
  g.index = index;
  g.name = std::move(name);
  g.uuid = "GPU-" + std::to_string(index);
  g.memory_total_bytes = 80 * kGiB;
  g.memory_used_bytes = 20 * kGiB;
  g.utilization_gpu_percent = util;
  g.temperature_c = 45;
  g.temperature_slowdown_c = 87;
  g.power_mw = 312000;
  g.power_limit_mw = 700000;
  g.clock_sm_mhz = 1980;
  g.clock_memory_mhz = 2619;
  g.pcie_tx_kbps = 1200000;
  g.pcie_rx_kbps = 3400;
  g.fan_percent = Fail(ErrorKind::kUnsupported, "nvmlDeviceGetFanSpeed returned 3: Not Supported");
  g.performance_state = 0;
  g.clock_event_reasons = 0;
  g.processes = std::vector<GpuProcess>{};
  return g;
}

GpuProcess Process(long long pid, std::string user, long long mib, std::string command) {
  GpuProcess p;
  p.pid = pid;
  p.user = std::move(user);
  p.used_memory_bytes = mib << 20;
  p.command = std::move(command);
  return p;
}

std::shared_ptr<MonitorSnapshot> Snapshot(std::vector<GpuFacts> gpus) {
  auto s = std::make_shared<MonitorSnapshot>();
  s->sequence = 1;
  s->taken = std::chrono::system_clock::now();
  s->nvml.driver_version = std::string("580.159.04");
  s->nvml.cuda_driver_version = 13000;
  s->nvml.device_count = static_cast<int>(gpus.size());
  s->nvml.devices = std::move(gpus);
  return s;
}

// `count` GPUs named "GPU-NAME-<i>", each with `per_gpu` processes.
std::shared_ptr<MonitorSnapshot> Machine(int count, int per_gpu) {
  std::vector<GpuFacts> gpus;
  for (int i = 0; i < count; ++i) {
    GpuFacts g = Gpu(i, "NVIDIA GPU-NAME-" + std::to_string(i), 10 * i);
    std::vector<GpuProcess> procs;
    for (int k = 0; k < per_gpu; ++k)
      procs.push_back(
          Process(1000 + 100 * i + k, k % 2 ? "alice" : "bob", 100 + k, "python train.py"));
    g.processes = procs;
    gpus.push_back(std::move(g));
  }
  return Snapshot(std::move(gpus));
}

std::string Text(const TopFrame& frame) { return TopFrameText(frame, false); }

void ExpectFits(const TopFrame& frame, int width, int height) {
  EXPECT_LE(static_cast<int>(frame.lines.size()), height);
  std::string text = Text(frame);
  size_t start = 0;
  for (size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1) {
    std::string line = text.substr(start, end - start);
    EXPECT_LE(DisplayWidth(line), width) << "[" << line << "]";
  }
}

bool Has(const TopFrame& frame, const std::string& needle) {
  return Text(frame).find(needle) != std::string::npos;
}

// The line holding `needle`, with its spans, or nullptr.
const TopLine* LineWith(const TopFrame& frame, const std::string& needle) {
  for (const TopLine& line : frame.lines) {
    std::string text;
    for (const TopSpan& s : line) text += s.text;
    if (text.find(needle) != std::string::npos) return &line;
  }
  return nullptr;
}

TEST(TopView, FitsEightyByTwentyFourWithOneTwoAndEightGpus) {
  for (int gpus : {1, 2, 8}) {
    for (bool utf8 : {true, false}) {
      TopViewState state{.utf8 = utf8, .interactive = true};
      TopFrame frame = RenderTop({Machine(gpus, 6)}, state);
      SCOPED_TRACE(std::to_string(gpus) + " GPUs, utf8 " + std::to_string(utf8));
      ExpectFits(frame, 80, 24);
      EXPECT_EQ(frame.lines.size(), 24u);  // the footer sits on the last line
      for (int i = 0; i < gpus; ++i)
        EXPECT_TRUE(Has(frame, "GPU-NAME-" + std::to_string(i))) << Text(frame);
      EXPECT_TRUE(Has(frame, "PID")) << Text(frame);
      EXPECT_TRUE(Has(frame, "COMMAND"));
      EXPECT_TRUE(Has(frame, "580.159.04"));
      EXPECT_TRUE(Has(frame, "q quit"));
      EXPECT_EQ(frame.rows.size(), static_cast<size_t>(gpus * 6));
    }
  }
}

TEST(TopView, FullPanelsShowEveryLiveValue) {
  GpuFacts g = Gpu(0, "NVIDIA H100 80GB HBM3", 45);
  g.clock_event_reasons = 0x4 | 0x40;  // sw_power_cap, hw_thermal_slowdown
  TopFrame frame = RenderTop({Snapshot({g})}, TopViewState{});
  std::string text = Text(frame);
  for (const char* fact : {"NVIDIA H100 80GB HBM3", " 45%", "20.0/80.0 GiB", "45°C", "312/700 W",
                           "SM 1980 MHz", "mem 2619 MHz", "tx 1.2 GB/s", "rx 3 MB/s", "P0",
                           "throttled: sw_power_cap, hw_thermal_slowdown"})
    EXPECT_NE(text.find(fact), std::string::npos) << fact << "\n" << text;
  EXPECT_NE(text.find("fan n/a"), std::string::npos) << text;
  const TopLine* line = LineWith(frame, "throttled");
  ASSERT_NE(line, nullptr);
  EXPECT_EQ(line->back().style, TopStyle::kYellow);
}

TEST(TopView, IdleClocksAreNotCalledThrottling) {
  GpuFacts g = Gpu(0, "Idle GPU", 0);
  g.clock_event_reasons = 0x1;  // gpu_idle
  EXPECT_FALSE(Has(RenderTop({Snapshot({g})}, TopViewState{}), "throttled"));
}

TEST(TopView, UnknownValuesAreNaNeverZero) {
  GpuFacts g;
  g.index = 0;
  g.name = std::string("Mystery GPU");
  // Every other field keeps its "not asked" / unsupported error.
  g.utilization_gpu_percent =
      Fail(ErrorKind::kUnsupported, "nvmlDeviceGetUtilizationRates returned 3: Not Supported");
  g.processes = std::vector<GpuProcess>{Process(42, "", 0, "")};
  g.processes->front().used_memory_bytes = Fail(ErrorKind::kUnsupported, "not available");
  TopFrame frame = RenderTop({Snapshot({g})}, TopViewState{});
  std::string text = Text(frame);
  EXPECT_NE(text.find("Mystery GPU"), std::string::npos);
  EXPECT_NE(text.find("util ["), std::string::npos) << text;
  for (const char* zero : {" 0%", "0 MHz", "0/", "0 W", "0°C", "0 KB/s", "0 KiB"})
    EXPECT_EQ(text.find(zero), std::string::npos) << zero << "\n" << text;
  for (const char* na : {" n/a ", "SM n/a", "tx n/a rx n/a", "n/a W", "fan n/a", "P?"})
    EXPECT_NE(text.find(na), std::string::npos) << na << "\n" << text;
  const TopLine* row = LineWith(frame, "     42 ");
  ASSERT_NE(row, nullptr) << text;
  std::string row_text = (*row)[0].text;
  int unknown = 0;  // user, memory, command
  for (size_t at = 0; (at = row_text.find("n/a", at)) != std::string::npos; ++at) ++unknown;
  EXPECT_EQ(unknown, 3) << row_text;
}

TEST(TopView, LostGpuIsMarkedAndTheOthersStillShow) {
  GpuFacts lost;
  lost.index = 1;
  lost.handle_code = 15;
  Error gone{ErrorKind::kIo, "nvmlDeviceGetHandleByIndex returned 15: GPU is lost"};
  lost.name = tl::unexpected(gone);
  lost.utilization_gpu_percent = tl::unexpected(gone);
  lost.processes = tl::unexpected(gone);
  for (int gpus : {2, 8}) {
    auto s = Machine(gpus, 2);
    s->nvml.devices[1] = lost;
    TopFrame frame = RenderTop({s}, TopViewState{.colour = true});
    ExpectFits(frame, 80, 24);
    const TopLine* line = LineWith(frame, "LOST");
    ASSERT_NE(line, nullptr) << Text(frame);
    EXPECT_EQ(line->back().style, TopStyle::kRed);
    EXPECT_TRUE(Has(frame, "dlrig doctor"));
    EXPECT_TRUE(Has(frame, "GPU-NAME-0"));
    EXPECT_TRUE(Has(frame, "processes n/a on GPU 1 (lost)")) << Text(frame);
    EXPECT_NE(TopFrameText(frame, true).find("\033[31mLOST"), std::string::npos);
  }
}

TEST(TopView, GpuLostMidRunIsRecognisedFromItsLiveValues) {
  GpuFacts g = Gpu(0, "H100", 50);
  EXPECT_FALSE(GpuIsLost(g));
  g.utilization_gpu_percent =
      Fail(ErrorKind::kIo, "nvmlDeviceGetUtilizationRates returned 15: GPU is lost");
  EXPECT_TRUE(GpuIsLost(g));
  g.utilization_gpu_percent =
      Fail(ErrorKind::kIo, "nvmlDeviceGetUtilizationRates returned 999: Unknown Error");
  EXPECT_FALSE(GpuIsLost(g));
}

TEST(TopView, GpuNoLongerListedShowsAsLost) {
  auto before = Machine(2, 0);
  auto after = Machine(1, 0);
  TopFrame frame = RenderTop({before, after}, TopViewState{});
  const TopLine* line = LineWith(frame, "no longer listed");
  ASSERT_NE(line, nullptr) << Text(frame);
  EXPECT_TRUE(Has(frame, "GPU 1 NVIDIA GPU-NAME-1"));
  EXPECT_EQ(line->back().style, TopStyle::kRed);
}

TEST(TopView, UnavailableSaysWhyAndPointsAtDoctor) {
  auto s = Snapshot({});
  s->unavailable = "cannot load NVML: libnvidia-ml.so.1: cannot open shared object file";
  TopFrame frame = RenderTop({s}, TopViewState{});
  ExpectFits(frame, 80, 24);
  EXPECT_TRUE(Has(frame, "no GPU can be described: cannot load NVML"));
  EXPECT_TRUE(Has(frame, "run `dlrig doctor`"));
  EXPECT_TRUE(frame.rows.empty());
}

TEST(TopView, WaitingBeforeTheFirstSample) {
  TopFrame frame = RenderTop({}, TopViewState{});
  EXPECT_TRUE(Has(frame, "waiting for the first sample"));
  ExpectFits(frame, 80, 24);
}

std::vector<long long> Pids(const std::vector<TopProcessRow>& rows) {
  std::vector<long long> pids;
  for (const auto& r : rows) pids.push_back(r.process.pid);
  return pids;
}

TEST(TopView, SortsByEveryKey) {
  GpuFacts a = Gpu(0, "A", 0), b = Gpu(1, "B", 0);
  a.processes =
      std::vector<GpuProcess>{Process(30, "carol", 500, "x"), Process(10, "bob", 100, "y")};
  b.processes = std::vector<GpuProcess>{Process(20, "alice", 900, "z"), Process(40, "", 0, "w")};
  b.processes->back().used_memory_bytes = Fail(ErrorKind::kUnsupported, "n/a");
  auto s = Snapshot({a, b});
  using V = std::vector<long long>;
  EXPECT_EQ(Pids(TopProcessRows(*s, {.sort = TopSort::kMemory})), (V{20, 30, 10, 40}));
  EXPECT_EQ(Pids(TopProcessRows(*s, {.sort = TopSort::kPid})), (V{10, 20, 30, 40}));
  EXPECT_EQ(Pids(TopProcessRows(*s, {.sort = TopSort::kGpu})), (V{30, 10, 20, 40}));
  EXPECT_EQ(Pids(TopProcessRows(*s, {.sort = TopSort::kUser})), (V{20, 10, 30, 40}));
  // The frame lists them in the same order.
  TopFrame frame = RenderTop({s}, {.sort = TopSort::kPid});
  std::string text = Text(frame);
  EXPECT_LT(text.find("     10 bob"), text.find("     20 alice"));
  EXPECT_LT(text.find("     20 alice"), text.find("     30 carol"));
  // s cycles through all four and comes back.
  TopSort sort = TopSort::kMemory;
  for (int i = 0; i < 4; ++i) sort = NextTopSort(sort);
  EXPECT_EQ(sort, TopSort::kMemory);
  EXPECT_STREQ(TopSortName(NextTopSort(TopSort::kMemory)), "pid");
}

TEST(TopView, FiltersByUser) {
  auto s = Machine(2, 4);
  s->nvml.devices[0].processes->at(0).command = "only-bob-runs-this";
  TopViewState state{.user_filter = "alice"};
  TopFrame frame = RenderTop({s}, state);
  ASSERT_EQ(frame.rows.size(), 4u);
  for (const auto& r : frame.rows) EXPECT_EQ(r.process.user, "alice");
  EXPECT_FALSE(Has(frame, "only-bob-runs-this"));
  EXPECT_TRUE(Has(frame, "user:alice"));
  EXPECT_TRUE(Has(RenderTop({s}, {.user_filter = "nobody"}), "no processes of user nobody"));
}

TEST(TopView, ScrollsToKeepTheSelectionVisible) {
  auto s = Machine(1, 40);
  TopViewState state{.sort = TopSort::kPid, .selected = 35, .interactive = true};
  TopFrame frame = RenderTop({s}, state);
  ExpectFits(frame, 80, 24);
  EXPECT_GT(frame.first_row, 0);
  const TopLine* line = LineWith(frame, "   1035 ");
  ASSERT_NE(line, nullptr) << Text(frame);
  EXPECT_EQ(line->front().style, TopStyle::kSelected);
  EXPECT_FALSE(Has(frame, "   1000 "));  // scrolled off the top
  EXPECT_TRUE(Has(frame, "of 40"));
  // A selection past the end is clamped to the last row.
  EXPECT_EQ(RenderTop({s}, {.selected = 99}).selected, 39);
}

TEST(TopView, AsciiFallbackHasNoMultibyteCharacters) {
  auto s = Machine(2, 3);
  s->nvml.devices[0].processes->at(0).command = "python tráin.py \x1b[31m";
  TopFrame frame = RenderTop({s, s, s}, {.utf8 = false, .interactive = true});
  std::string text = Text(frame);
  for (unsigned char c : text) EXPECT_LT(c, 0x80) << text;
  EXPECT_NE(text.find("tr?in.py ?[31m"), std::string::npos) << text;
  EXPECT_TRUE(Has(frame, "[|"));  // bars in ASCII
}

TEST(TopView, SparklineFollowsUtilisationHistory) {
  std::vector<std::shared_ptr<const MonitorSnapshot>> recent;
  for (long long util : {0, 50, 100}) recent.push_back(Snapshot({Gpu(0, "H100", util)}));
  auto gap = Snapshot({Gpu(0, "H100", 0)});
  gap->nvml.devices[0].utilization_gpu_percent = Fail(ErrorKind::kTimeout, "no answer");
  recent.push_back(gap);
  recent.push_back(Snapshot({Gpu(0, "H100", 100)}));
  std::string text = Text(RenderTop(recent, TopViewState{}));
  EXPECT_NE(text.find("▁▄█ █"), std::string::npos) << text;  // the unknown sample is a gap
  std::string ascii = Text(RenderTop(recent, {.utf8 = false}));
  EXPECT_NE(ascii.find("_~# #"), std::string::npos) << ascii;
}

TEST(TopView, WiderTerminalsUseTheWidth) {
  TopFrame frame = RenderTop({Machine(2, 2)}, {.width = 132, .height = 40});
  ExpectFits(frame, 132, 40);
  EXPECT_EQ(frame.lines.size(), 40u);
  // --once: no height, every process listed.
  TopFrame once = RenderTop({Machine(2, 30)}, {.height = 0});
  EXPECT_EQ(once.rows.size(), 60u);
  EXPECT_TRUE(Has(once, "   1129 "));
  ExpectFits(once, 80, 1000);
}

TEST(TopView, TinyTerminalsNeverOverflow) {
  for (auto [w, h] : {std::pair{1, 1}, {20, 6}, {40, 10}, {80, 8}}) {
    TopFrame frame = RenderTop({Machine(8, 5)}, {.width = w, .height = h, .interactive = true});
    SCOPED_TRACE(std::to_string(w) + "x" + std::to_string(h));
    EXPECT_EQ(static_cast<int>(frame.lines.size()), h);
    ExpectFits(frame, w, h);
  }
  // 64 GPUs in 24 lines: as many as fit, then a count of the rest.
  TopFrame many = RenderTop({Machine(64, 0)}, TopViewState{});
  ExpectFits(many, 80, 24);
  EXPECT_TRUE(Has(many, "more GPU lines")) << Text(many);
  EXPECT_TRUE(Has(many, "PID USER"));
}

TEST(TopView, NoColourMeansNoEscapes) {
  std::string plain = TopFrameText(RenderTop({Machine(1, 1)}, {.colour = true}), false);
  EXPECT_EQ(plain.find('\033'), std::string::npos);
  std::string coloured = TopFrameText(RenderTop({Machine(1, 1)}, {.colour = true}), true);
  EXPECT_NE(coloured.find("\033[1m"), std::string::npos);
}

TEST(DisplayWidth, CountsColumnsNotBytes) {
  EXPECT_EQ(DisplayWidth("abc"), 3);
  EXPECT_EQ(DisplayWidth("▁▂█"), 3);
  EXPECT_EQ(DisplayWidth("45°C"), 4);
  EXPECT_EQ(DisplayWidth("日本"), 4);
  EXPECT_EQ(DisplayWidth("e\xcc\x81"), 1);   // e + combining acute
  EXPECT_EQ(FitWidth("日本語", 5), "日本");  // a wide character is never split
  EXPECT_EQ(FitWidth("██x", 2), "██");
  EXPECT_EQ(PadWidth("ab", 4), "ab  ");
  EXPECT_EQ(PrintableText("a\tb\xff", true), "a?b?");
  EXPECT_EQ(PrintableText("é", false), "?");
}

}  // namespace
}  // namespace dlrig
