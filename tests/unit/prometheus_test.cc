// serve's /metrics text, read back by a strict checker of the 0.0.4 text format: every sample
// has a TYPE before it, families are contiguous, names and labels are well formed, escapes are
// valid, values parse and are never NaN; native counters end in _total.
#include "monitor/prometheus.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <regex>
#include <set>
#include <sstream>

namespace dlrig {
namespace {

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
  std::string raw_value;
};

struct Parsed {
  std::vector<std::string> errors;
  std::map<std::string, std::string> types;
  std::vector<Sample> samples;

  // The samples of `name` whose labels include every pair in `match`.
  std::vector<const Sample*> Find(const std::string& name,
                                  const std::map<std::string, std::string>& match = {}) const {
    std::vector<const Sample*> out;
    for (const Sample& s : samples) {
      if (s.name != name) continue;
      bool all = true;
      for (const auto& [k, v] : match) {
        auto it = s.labels.find(k);
        all &= it != s.labels.end() && it->second == v;
      }
      if (all) out.push_back(&s);
    }
    return out;
  }
  std::optional<double> Value(const std::string& name,
                              const std::map<std::string, std::string>& match = {}) const {
    auto found = Find(name, match);
    if (found.size() != 1) return std::nullopt;
    return found[0]->value;
  }
};

// Reads one label value up to its closing quote, undoing the three escapes the format has.
bool ReadLabelValue(const std::string& line, size_t& i, std::string& out) {
  for (; i < line.size(); ++i) {
    if (line[i] == '"') return ++i, true;
    if (line[i] != '\\') {
      out += line[i];
      continue;
    }
    if (++i >= line.size()) return false;
    if (line[i] == 'n')
      out += '\n';
    else if (line[i] == '\\' || line[i] == '"')
      out += line[i];
    else
      return false;
  }
  return false;
}

Parsed Check(const std::string& text, bool native) {
  static const std::regex kName("[a-zA-Z_:][a-zA-Z0-9_:]*");
  static const std::regex kLabel("[a-zA-Z_][a-zA-Z0-9_]*");
  Parsed p;
  std::set<std::string> closed, helped, series;
  std::string current;
  if (!text.empty() && text.back() != '\n') p.errors.push_back("no final newline");
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line.starts_with("# HELP ") || line.starts_with("# TYPE ")) {
      std::string rest = line.substr(7);
      std::string name = rest.substr(0, rest.find(' '));
      if (!std::regex_match(name, kName)) p.errors.push_back("bad name in: " + line);
      if (line[2] == 'H') {
        if (!helped.insert(name).second) p.errors.push_back("second HELP: " + name);
        continue;
      }
      std::string type = rest.substr(name.size() + 1);
      if (p.types.count(name)) p.errors.push_back("second TYPE: " + name);
      if (type != "counter" && type != "gauge" && type != "untyped")
        p.errors.push_back("bad type: " + line);
      if (native && type == "counter" && !name.ends_with("_total"))
        p.errors.push_back("counter without _total: " + name);
      p.types[name] = type;
      if (!current.empty()) closed.insert(current);
      current = name;
      continue;
    }
    if (line[0] == '#') continue;
    Sample s;
    size_t i = line.find_first_of("{ ");
    s.name = line.substr(0, i);
    if (!std::regex_match(s.name, kName)) p.errors.push_back("bad sample name: " + line);
    if (!p.types.count(s.name)) p.errors.push_back("sample before its TYPE: " + line);
    if (s.name != current || closed.count(s.name))
      p.errors.push_back("family not contiguous: " + line);
    if (i != std::string::npos && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        size_t eq = line.find('=', i);
        if (eq == std::string::npos || eq + 1 >= line.size() || line[eq + 1] != '"') {
          p.errors.push_back("bad label in: " + line);
          break;
        }
        std::string key = line.substr(i, eq - i), value;
        if (!std::regex_match(key, kLabel)) p.errors.push_back("bad label name: " + key);
        i = eq + 2;
        if (!ReadLabelValue(line, i, value)) {
          p.errors.push_back("bad label value in: " + line);
          break;
        }
        if (!s.labels.emplace(key, value).second) p.errors.push_back("label twice: " + line);
        if (i < line.size() && line[i] == ',') ++i;
      }
      ++i;
    }
    if (i >= line.size() || line[i] != ' ') {
      p.errors.push_back("no value in: " + line);
      continue;
    }
    s.raw_value = line.substr(i + 1);
    char* end = nullptr;
    s.value = std::strtod(s.raw_value.c_str(), &end);
    if (s.raw_value.empty() || *end != '\0') p.errors.push_back("bad value: " + line);
    if (std::isnan(s.value) || s.raw_value.find("NaN") != std::string::npos)
      p.errors.push_back("NaN: " + line);
    std::string key = s.name;
    for (const auto& [k, v] : s.labels) key += "," + k + "=" + v;
    if (!series.insert(key).second) p.errors.push_back("series twice: " + line);
    p.samples.push_back(std::move(s));
  }
  return p;
}

GpuFacts FullGpu(int index) {
  GpuFacts g;
  g.index = index;
  g.name = "NVIDIA H100 80GB HBM3";
  g.uuid = "GPU-" + std::to_string(index) + "aa";
  g.pci_bus_id = "00000000:0" + std::to_string(index + 1) + ":00.0";
  g.serial = "1650923011234";
  g.compute_capability = "9.0";
  g.memory_total_bytes = 85520809984LL;
  g.memory_used_bytes = 3 * 1048576LL + 5;
  g.memory_free_bytes = 85520809984LL - (3 * 1048576LL + 5);
  g.utilization_gpu_percent = 37;
  g.utilization_memory_percent = 4;
  g.temperature_c = 31;
  g.memory_temperature_c = 40;
  g.power_mw = 71234;
  g.power_limit_mw = 700000;
  g.energy_mj = 123456789;
  g.clock_sm_mhz = 1410;
  g.clock_memory_mhz = 2619;
  g.pcie_replay_count = 3;
  g.ecc_enabled = true;
  g.ecc_corrected_volatile = 7;
  g.ecc_uncorrected_volatile = 0;
  g.ecc_corrected_aggregate = 11;
  g.ecc_uncorrected_aggregate = 1;
  g.remapped_rows_correctable = 2;
  g.remapped_rows_uncorrectable = 0;
  g.remap_failed = false;
  g.clock_event_reasons = 1;
  return g;
}

MonitorSnapshot TwoGpus() {
  MonitorSnapshot s;
  s.sequence = 42;
  s.taken = std::chrono::system_clock::time_point(std::chrono::milliseconds(1763800000123));
  s.took = std::chrono::milliseconds(12);
  s.restarts = 1;
  s.nvml.loaded_path = "/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1";
  s.nvml.driver_version = "580.159.04";
  s.nvml.cuda_driver_version = 13000;
  s.nvml.device_count = 2;
  s.nvml.devices = {FullGpu(0), FullGpu(1)};
  GpuFacts& second = s.nvml.devices[1];
  second.temperature_c = Fail(ErrorKind::kUnsupported, "nvmlDeviceGetTemperature: Not Supported");
  second.power_mw = Fail(ErrorKind::kNoPermission, "Insufficient Permissions");
  second.energy_mj = Fail(ErrorKind::kTimeout, "no answer");
  // The kernel log writes the address its own way; NVML's 8-digit domain must still match.
  s.xids = {{"0000:01:00.0", 79, "GPU has fallen off the bus."},
            {"0000:01:00.0", 13, "Graphics Exception"},
            {"0000:01:00.0", 79, "again"},
            {"0000:9a:00.0", 48, "a GPU NVML no longer lists"}};
  return s;
}

TEST(Prometheus, NativeValuesInBaseUnits) {
  MonitorSnapshot s = TwoGpus();
  std::string text = RenderMetrics(&s, {});
  Parsed p = Check(text, true);
  EXPECT_TRUE(p.errors.empty()) << ::testing::PrintToString(p.errors) << text;
  const std::map<std::string, std::string> gpu0 = {{"gpu", "0"}, {"uuid", "GPU-0aa"}};
  EXPECT_EQ(p.Value("dlrig_gpu_up", gpu0), 1);
  EXPECT_EQ(p.Value("dlrig_gpu_power_watts", gpu0), 71.234);
  EXPECT_EQ(p.Value("dlrig_gpu_utilization_ratio", gpu0), 0.37);
  EXPECT_EQ(p.Value("dlrig_gpu_memory_utilization_ratio", gpu0), 0.04);
  EXPECT_EQ(p.Value("dlrig_gpu_sm_clock_hertz", gpu0), 1410e6);
  EXPECT_EQ(p.Value("dlrig_gpu_energy_joules_total", gpu0), 123456.789);
  EXPECT_EQ(p.Value("dlrig_gpu_memory_total_bytes", gpu0), 85520809984.0);
  EXPECT_EQ(p.Value("dlrig_gpu_temperature_celsius", gpu0), 31);
  EXPECT_EQ(p.Value("dlrig_gpu_pcie_replays_total", gpu0), 3);
  EXPECT_EQ(p.types["dlrig_gpu_pcie_replays_total"], "counter");
  EXPECT_EQ(p.types["dlrig_gpu_temperature_celsius"], "gauge");
  EXPECT_EQ(p.Value("dlrig_gpu_ecc_errors_total", {{"gpu", "0"}, {"error", "corrected"}}), 7);
  EXPECT_EQ(
      p.Value("dlrig_gpu_ecc_lifetime_errors_total", {{"gpu", "0"}, {"error", "uncorrected"}}), 1);
  EXPECT_EQ(p.Value("dlrig_gpu_remapped_rows_total", {{"gpu", "0"}, {"error", "correctable"}}), 2);

  auto info = p.Find("dlrig_gpu_info", gpu0);
  ASSERT_EQ(info.size(), 1u);
  EXPECT_EQ(info[0]->value, 1);
  EXPECT_EQ(info[0]->labels.at("name"), "NVIDIA H100 80GB HBM3");
  EXPECT_EQ(info[0]->labels.at("pci_bus_id"), "00000000:01:00.0");
  EXPECT_EQ(info[0]->labels.at("driver_version"), "580.159.04");
  EXPECT_EQ(info[0]->labels.at("cuda_driver_version"), "13.0");

  EXPECT_EQ(p.Value("dlrig_sampler_samples_total"), 42);
  EXPECT_EQ(p.Value("dlrig_sampler_restarts_total"), 1);
  EXPECT_EQ(p.Value("dlrig_sampler_sample_duration_seconds"), 0.012);
  EXPECT_EQ(p.Value("dlrig_sampler_last_sample_timestamp_seconds"), 1763800000.123);
  EXPECT_TRUE(p.Find("dlrig_sampler_unavailable").empty());
}

TEST(Prometheus, UnreadableValuesAreLeftOutNeverZero) {
  MonitorSnapshot s = TwoGpus();
  Parsed p = Check(RenderMetrics(&s, {}), true);
  ASSERT_TRUE(p.errors.empty()) << ::testing::PrintToString(p.errors);
  // GPU 1: temperature unsupported, power forbidden, energy timed out: no series at all.
  EXPECT_TRUE(p.Find("dlrig_gpu_temperature_celsius", {{"gpu", "1"}}).empty());
  EXPECT_TRUE(p.Find("dlrig_gpu_power_watts", {{"gpu", "1"}}).empty());
  EXPECT_TRUE(p.Find("dlrig_gpu_energy_joules_total", {{"gpu", "1"}}).empty());
  // Fields never asked (serial of a bare GpuFacts, fan) have no series either.
  EXPECT_TRUE(p.Find("dlrig_gpu_fan_speed_ratio").empty());
  EXPECT_EQ(p.Value("dlrig_gpu_up", {{"gpu", "1"}}), 1);
  for (const Sample& sample : p.samples) EXPECT_GE(sample.value, 0) << sample.name;
}

TEST(Prometheus, XidEventsAreCountersPerGpuAndCode) {
  MonitorSnapshot s = TwoGpus();
  Parsed p = Check(RenderMetrics(&s, {}), true);
  ASSERT_TRUE(p.errors.empty()) << ::testing::PrintToString(p.errors);
  EXPECT_EQ(p.types["dlrig_gpu_xid_events_total"], "counter");
  EXPECT_EQ(
      p.Value("dlrig_gpu_xid_events_total", {{"gpu", "0"}, {"uuid", "GPU-0aa"}, {"xid", "79"}}), 2);
  EXPECT_EQ(p.Value("dlrig_gpu_xid_events_total", {{"gpu", "0"}, {"xid", "13"}}), 1);
  EXPECT_TRUE(p.Find("dlrig_gpu_xid_events_total", {{"gpu", "1"}}).empty());
  // A GPU gone from NVML keeps its Xids, by PCI address.
  EXPECT_EQ(p.Value("dlrig_gpu_xid_events_total", {{"pci_bus_id", "0000:9a:00.0"}, {"xid", "48"}}),
            1);
}

TEST(Prometheus, ClockEventReasonsAreZeroOrOne) {
  MonitorSnapshot s = TwoGpus();
  Parsed p = Check(RenderMetrics(&s, {}), true);
  std::string bit0 = ClockEventNames(1).at(0);
  EXPECT_EQ(p.Value("dlrig_gpu_clock_event_active", {{"gpu", "0"}, {"reason", bit0}}), 1);
  auto all = p.Find("dlrig_gpu_clock_event_active", {{"gpu", "0"}});
  EXPECT_GT(all.size(), 3u);
  double active = 0;
  for (const Sample* sample : all) active += sample->value;
  EXPECT_EQ(active, 1);
  EXPECT_EQ(p.Value("dlrig_gpu_clock_throttled", {{"gpu", "0"}}), ClockEventIsThrottle(1) ? 1 : 0);
}

TEST(Prometheus, LostGpuIsDown) {
  MonitorSnapshot s;
  s.nvml.device_count = 1;
  GpuFacts lost;
  lost.handle_code = 15;
  lost.name = Fail(ErrorKind::kIo, "GPU is lost");
  s.nvml.devices = {lost};
  Parsed p = Check(RenderMetrics(&s, {}), true);
  ASSERT_TRUE(p.errors.empty()) << ::testing::PrintToString(p.errors);
  EXPECT_EQ(p.Value("dlrig_gpu_up", {{"gpu", "0"}}), 0);
  EXPECT_EQ(p.Find("dlrig_gpu_info")[0]->labels.count("name"), 0u);
}

TEST(Prometheus, NoDriverSaysWhichLayerAndServesSelfMetrics) {
  MonitorSnapshot s;
  s.sequence = 1;
  s.nvml.requested = "libnvidia-ml.so.1";
  s.nvml.loaded_path =
      Fail(ErrorKind::kNotFound, "libnvidia-ml.so.1: cannot open shared object file");
  s.unavailable = "cannot load NVML";
  for (MetricNaming naming : {MetricNaming::kNative, MetricNaming::kDcgm}) {
    Parsed p = Check(RenderMetrics(&s, {naming, "host"}), naming == MetricNaming::kNative);
    ASSERT_TRUE(p.errors.empty()) << ::testing::PrintToString(p.errors);
    EXPECT_TRUE(p.Find("dlrig_gpu_up").empty());
    auto why = p.Find("dlrig_sampler_unavailable");
    ASSERT_EQ(why.size(), 1u);
    EXPECT_NE(why[0]->labels.at("reason").find("user-space driver layer"), std::string::npos);
    EXPECT_EQ(p.Value("dlrig_sampler_samples_total"), 1);
  }
  MonitorSnapshot no_module = s;
  no_module.nvml.loaded_path = "/lib/libnvidia-ml.so.1";
  no_module.nvml.calls = {{"nvmlInit_v2", 9, "", "Driver Not Loaded"}};
  EXPECT_NE(UnavailableReason(&no_module).find("kernel driver layer"), std::string::npos);

  Parsed before = Check(RenderMetrics(nullptr, {}), true);
  ASSERT_TRUE(before.errors.empty());
  EXPECT_EQ(before.samples.size(), 1u);
  EXPECT_EQ(before.Value("dlrig_sampler_unavailable", {{"reason", "no sample taken yet"}}), 1);
}

TEST(Prometheus, LabelValuesAreEscaped) {
  MonitorSnapshot s = TwoGpus();
  std::string odd = "quote\" backslash\\ newline\n end";
  s.nvml.devices[0].name = odd;
  std::string text = RenderMetrics(&s, {});
  Parsed p = Check(text, true);
  ASSERT_TRUE(p.errors.empty()) << ::testing::PrintToString(p.errors);
  EXPECT_EQ(p.Find("dlrig_gpu_info", {{"gpu", "0"}})[0]->labels.at("name"), odd);
  EXPECT_EQ(EscapeLabelValue(odd), "quote\\\" backslash\\\\ newline\\n end");
}

TEST(Prometheus, DcgmNamesUnitsAndLabels) {
  MonitorSnapshot s = TwoGpus();
  std::string text = RenderMetrics(&s, {MetricNaming::kDcgm, "node7"});
  Parsed p = Check(text, false);
  ASSERT_TRUE(p.errors.empty()) << ::testing::PrintToString(p.errors) << text;
  auto used = p.Find("DCGM_FI_DEV_FB_USED", {{"gpu", "0"}});
  ASSERT_EQ(used.size(), 1u);
  EXPECT_EQ(used[0]->value, 3);  // MiB, whole
  const auto& l = used[0]->labels;
  EXPECT_EQ(l.at("UUID"), "GPU-0aa");
  EXPECT_EQ(l.at("device"), "nvidia0");
  EXPECT_EQ(l.at("modelName"), "NVIDIA H100 80GB HBM3");
  EXPECT_EQ(l.at("pci_bus_id"), "00000000:01:00.0");
  EXPECT_EQ(l.at("hostname"), "node7");
  EXPECT_EQ(l.at("DCGM_FI_DRIVER_VERSION"), "580.159.04");
  EXPECT_EQ(p.Value("DCGM_FI_DEV_GPU_UTIL", {{"gpu", "0"}}), 37);
  EXPECT_EQ(p.Value("DCGM_FI_DEV_MEM_COPY_UTIL", {{"gpu", "0"}}), 4);
  EXPECT_EQ(p.Value("DCGM_FI_DEV_GPU_TEMP", {{"gpu", "0"}}), 31);
  EXPECT_EQ(p.Value("DCGM_FI_DEV_MEMORY_TEMP", {{"gpu", "0"}}), 40);
  EXPECT_EQ(p.Find("DCGM_FI_DEV_POWER_USAGE", {{"gpu", "0"}})[0]->raw_value, "71.234000");
  EXPECT_EQ(p.Value("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", {{"gpu", "0"}}), 123456789);
  EXPECT_EQ(p.types["DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"], "counter");
  EXPECT_EQ(p.Value("DCGM_FI_DEV_SM_CLOCK", {{"gpu", "0"}}), 1410);
  EXPECT_EQ(p.Value("DCGM_FI_DEV_PCIE_REPLAY_COUNTER", {{"gpu", "0"}}), 3);
  EXPECT_EQ(p.Value("DCGM_FI_DEV_ECC_SBE_VOL_TOTAL", {{"gpu", "0"}}), 7);
  EXPECT_EQ(p.Value("DCGM_FI_DEV_ECC_DBE_AGG_TOTAL", {{"gpu", "0"}}), 1);
  // The last Xid of the GPU, with its code as a label.
  auto xid = p.Find("DCGM_FI_DEV_XID_ERRORS", {{"gpu", "0"}});
  ASSERT_EQ(xid.size(), 1u);
  EXPECT_EQ(xid[0]->value, 79);
  EXPECT_EQ(xid[0]->labels.at("err_code"), "79");
  EXPECT_TRUE(p.Find("DCGM_FI_DEV_GPU_TEMP", {{"gpu", "1"}}).empty());
  EXPECT_TRUE(p.Find("DCGM_FI_DEV_POWER_USAGE", {{"gpu", "1"}}).empty());
  EXPECT_EQ(text.find("dlrig_gpu_info"), std::string::npos);
  EXPECT_EQ(p.Value("dlrig_gpu_up", {{"gpu", "1"}}), 1);
}

TEST(Prometheus, CheckerCatchesBrokenText) {
  // The checker itself must fail on what it is meant to catch.
  EXPECT_FALSE(Check("x 1\n", true).errors.empty());                             // no TYPE
  EXPECT_FALSE(Check("# TYPE x counter\nx 1\n", true).errors.empty());           // no _total
  EXPECT_FALSE(Check("# TYPE x gauge\nx NaN\n", true).errors.empty());           // NaN
  EXPECT_FALSE(Check("# TYPE x gauge\nx{a=\"\\q\"} 1\n", true).errors.empty());  // bad escape
  EXPECT_FALSE(Check("# TYPE 1x gauge\n1x 1\n", true).errors.empty());           // bad name
  EXPECT_FALSE(
      Check("# TYPE x gauge\nx 1\n# TYPE y gauge\ny 1\nx{a=\"b\"} 2\n", true).errors.empty());
  EXPECT_TRUE(
      Check("# HELP x_total h\n# TYPE x_total counter\nx_total{a=\"b\"} 2\n", true).errors.empty());
}

}  // namespace
}  // namespace dlrig
