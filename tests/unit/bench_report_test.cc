// bench's outputs on hand-built runs: the text table, the JSON and its reader, the HTML page,
// compare, and the runs kept in the SQLite history.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "bench/bench_history.h"
#include "bench/compare.h"
#include "bench/report_html.h"
#include "bench/report_json.h"
#include "bench/report_svg.h"
#include "bench/report_text.h"
#include "test_util.h"

namespace dlrig::bench {
namespace {

using nlohmann::json;

size_t Count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos;
       at = text.find(needle, at + needle.size()))
    ++n;
  return n;
}

DeviceInfo H100(int index) {
  DeviceInfo d;
  d.index = index;
  d.name = "NVIDIA H100 80GB HBM3";
  d.uuid = "GPU-" + std::to_string(index);
  d.pci_bus_id = "0000:0" + std::to_string(index + 1) + ":00.0";
  d.cc_major = 9;
  d.sm_count = 132;
  d.memory_total = 85520809984ULL;
  d.sm_clock_max_mhz = 1980;
  d.memory_clock_max_mhz = 2619;
  d.memory_bus_bits = 5120;
  d.pcie_gen_max = 5;
  d.pcie_width_max = 16;
  d.nvlinks_active = 18;
  return d;
}

Measurement Figure(std::string key, double median, std::optional<int> device = 0,
                   std::string unit = "GB/s") {
  Measurement m;
  m.key = std::move(key);
  m.bench = m.key.substr(0, m.key.find('.'));
  m.device = device;
  m.unit = std::move(unit);
  m.samples = {median * 0.99, median, median * 1.01};
  Summarize(m);
  return m;
}

Measurement Limited(std::string key, double median, double limit, Verdict verdict) {
  Measurement m = Figure(std::move(key), median);
  m.limits = {{limit, "max clock", "2 x 2619 MHz x 5120 bit / 8"}};
  m.ratio = median / limit;
  m.goal = 0.9;
  m.verdict = verdict;
  return m;
}

Measurement Waived(std::string key, std::string why) {
  Measurement m;
  m.key = key;
  m.bench = key;
  m.verdict = Verdict::kWaived;
  m.message = std::move(why);
  return m;
}

Telemetry BurnTelemetry() {
  Telemetry t;
  t.samples = 20;
  t.sm_clock_mean_mhz = 1755;
  t.power_mean_w = 650;
  t.power_max_w = 700;
  t.temperature_max_c = 71;
  t.throttle_reasons = {"sw_power_cap"};
  return t;
}

BenchRun SampleRun() {
  BenchRun run;
  run.dlrig_version = "0.1.0";
  run.started_ms = 1795341662000;  // 2026-11-22T10:01:02Z
  run.host = "node1";
  run.profile = "quick";
  run.backend = "cuda";
  run.driver = "580.159.04";
  run.libraries = {{"cuda driver", "13.0"}};
  run.devices = {H100(0), H100(1)};
  Measurement memory = Limited("memory.copy", 2900, 3352, Verdict::kFair);
  memory.telemetry = {BurnTelemetry()};
  memory.params = {{"bytes", "4294967296"}};
  run.results.push_back(memory);
  run.results.push_back(
      Waived("storage", "no --path given: the storage benchmark needs a directory"));
  Measurement error;
  error.key = "nccl";
  error.bench = "nccl";
  error.verdict = Verdict::kError;
  error.message = "libnccl.so.2 not found";
  run.results.push_back(error);
  return run;
}

// ---- text ----

TEST(BenchText, AFigureLineCarriesValueSpreadLimitShareAndVerdict) {
  BenchRun run = SampleRun();
  std::string text = BenchText(run, false);
  std::istringstream lines(text);
  std::string line, memory_line;
  while (std::getline(lines, line))
    if (line.find("memory.copy") != std::string::npos) memory_line = line;
  ASSERT_FALSE(memory_line.empty()) << text;
  EXPECT_NE(memory_line.find("2900 GB/s"), std::string::npos) << memory_line;
  EXPECT_NE(memory_line.find("±1.0%"), std::string::npos) << memory_line;
  EXPECT_NE(memory_line.find("3352 GB/s max clock"), std::string::npos) << memory_line;
  EXPECT_NE(memory_line.find("86.5%"), std::string::npos) << memory_line;
  EXPECT_NE(memory_line.find("fair"), std::string::npos) << memory_line;
  // The telemetry, in short, on the line below.
  EXPECT_NE(text.find("SM 1755 MHz mean, 700 W max, 71 C max, throttle: sw_power_cap"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("\033["), std::string::npos) << "colour without a terminal";
}

TEST(BenchText, WaivedAndErrorLinesSayWhy) {
  std::string text = BenchText(SampleRun(), false);
  EXPECT_NE(text.find("waived: no --path given: the storage benchmark needs a directory"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("error: libnccl.so.2 not found"), std::string::npos) << text;
  EXPECT_NE(text.find("1 fair, 1 waived, 1 error"), std::string::npos) << text;
}

TEST(BenchText, TheHeaderNamesDevicesDriverAndAModelledBackend) {
  BenchRun run = SampleRun();
  std::string text = BenchText(run, false);
  EXPECT_NE(text.find("backend cuda"), std::string::npos);
  EXPECT_EQ(text.find("modelled"), std::string::npos);
  EXPECT_NE(text.find("driver 580.159.04"), std::string::npos) << text;
  EXPECT_NE(text.find("GPU 1  NVIDIA H100 80GB HBM3"), std::string::npos) << text;
  EXPECT_NE(text.find("SM 1980 MHz max"), std::string::npos) << text;
  run.backend = "null";
  text = BenchText(run, true);
  EXPECT_NE(text.find("null: figures are modelled, not measured"), std::string::npos) << text;
  EXPECT_NE(text.find("\033["), std::string::npos) << "colour was asked for";
}

TEST(BenchText, ExitCodeFollowsTheWorstVerdict) {
  std::vector<Measurement> ok = {Limited("memory.copy", 3100, 3352, Verdict::kGood),
                                 Waived("p2p", "one GPU")};
  EXPECT_EQ(BenchExitCode(ok), 0);
  ok.push_back(Limited("memory.triad", 2000, 3352, Verdict::kLow));
  EXPECT_EQ(BenchExitCode(ok), 1);
  ok.push_back(SampleRun().results[2]);  // error
  EXPECT_EQ(BenchExitCode(ok), 2);
}

// ---- JSON ----

TEST(BenchJson, UnknownValuesAreLeftOutNotZero) {
  BenchRun run = SampleRun();
  run.devices[1].sm_clock_max_mhz.reset();
  run.devices[1].sm_count = 0;
  ojson j = BenchJson(run);
  EXPECT_EQ(j["schema"], "dlrig.bench/1");
  EXPECT_EQ(j["started"], "2026-11-22T10:01:02Z");
  EXPECT_EQ(j["libraries"]["cuda driver"], "13.0");
  EXPECT_EQ(j["devices"][0]["sm_clock_max_mhz"], 1980);
  EXPECT_EQ(j["devices"][0]["cc"], "9.0");
  EXPECT_FALSE(j["devices"][1].contains("sm_clock_max_mhz"));
  EXPECT_FALSE(j["devices"][1].contains("sm_count"));
  EXPECT_EQ(j["devices"][1]["nvlinks_active"], 18);
  const ojson& waived = j["results"][1];
  EXPECT_EQ(waived["verdict"], "waived");
  EXPECT_EQ(waived["message"], "no --path given: the storage benchmark needs a directory");
  for (const char* absent : {"median", "min", "max", "samples", "ratio", "goal", "device", "limits",
                             "telemetry", "unit"})
    EXPECT_FALSE(waived.contains(absent)) << absent << " in " << waived.dump();
  const ojson& memory = j["results"][0];
  EXPECT_EQ(memory["median"], 2900);
  EXPECT_EQ(memory["limits"][0]["basis"], "max clock");
  EXPECT_EQ(memory["params"]["bytes"], "4294967296");
  EXPECT_EQ(memory["telemetry"][0]["throttle_reasons"][0], "sw_power_cap");
  EXPECT_FALSE(memory["telemetry"][0].contains("sm_clock_min_mhz"));
}

TEST(BenchJson, ARunSurvivesTheRoundTrip) {
  BenchRun run = SampleRun();
  Measurement burn = Figure("burn", 650, 1, "TFLOP/s");
  burn.verdict = Verdict::kPassed;
  burn.seconds = 61.5;
  for (int i = 0; i < 3; ++i) {
    Measurement::Point p;
    p.t = i * 10.0;
    p.figure = 640 + i;
    p.telemetry = BurnTelemetry();
    burn.timeline.push_back(p);
  }
  run.results.push_back(burn);
  std::string text = BenchJson(run).dump(2);
  auto back = ParseBenchJson(text);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->started_ms, run.started_ms);
  EXPECT_EQ(back->host, "node1");
  EXPECT_EQ(back->driver, "580.159.04");
  ASSERT_EQ(back->devices.size(), 2u);
  EXPECT_EQ(back->devices[1].pci_bus_id, "0000:02:00.0");
  EXPECT_EQ(back->devices[1].memory_total, 85520809984ULL);
  EXPECT_EQ(back->devices[1].memory_bus_bits, 5120);
  ASSERT_EQ(back->results.size(), run.results.size());
  for (size_t i = 0; i < run.results.size(); ++i) {
    const Measurement &a = run.results[i], &b = back->results[i];
    EXPECT_EQ(b.key, a.key);
    EXPECT_EQ(b.device, a.device);
    EXPECT_EQ(b.verdict, a.verdict);
    EXPECT_EQ(b.message, a.message);
    EXPECT_EQ(b.samples, a.samples);
    EXPECT_DOUBLE_EQ(b.median, a.median);
    EXPECT_EQ(b.ratio, a.ratio);
    EXPECT_EQ(b.params, a.params);
    EXPECT_EQ(b.limits.size(), a.limits.size());
    EXPECT_EQ(b.telemetry.size(), a.telemetry.size());
    ASSERT_EQ(b.timeline.size(), a.timeline.size());
  }
  const Measurement& b = back->results.back();
  EXPECT_EQ(b.timeline[2].figure, 642);
  EXPECT_EQ(b.timeline[2].telemetry.sm_clock_mean_mhz, 1755);
  EXPECT_EQ(b.timeline[2].telemetry.throttle_reasons, std::vector<std::string>{"sw_power_cap"});
  EXPECT_DOUBLE_EQ(b.seconds, 61.5);
  // And the text again is the same text.
  EXPECT_EQ(BenchJson(*back).dump(2), text);
}

TEST(BenchJson, GarbageIsAClearErrorNeverACrash) {
  const char* bad[] = {
      "",
      "{",
      "[]",
      "null",
      "42",
      "{\"schema\": 1}",
      "{\"results\": []}",
      "{\"schema\": \"dlrig.bench/2\", \"results\": []}",
      "{\"schema\": \"dlrig.bench/1\"}",
      "{\"schema\": \"dlrig.bench/1\", \"results\": {}}",
      "{\"schema\": \"dlrig.bench/1\", \"results\": [5]}",
      "{\"schema\": \"dlrig.bench/1\", \"results\": [{\"key\": 5, \"verdict\": \"good\"}]}",
      "{\"schema\": \"dlrig.bench/1\", \"results\": [{\"key\": \"a\"}]}",
      "{\"schema\": \"dlrig.bench/1\", \"results\": [{\"key\": \"a\", \"verdict\": \"great\"}]}",
      "{\"schema\": \"dlrig.bench/1\", \"results\": [{\"key\": \"a\", \"verdict\": \"good\", "
      "\"samples\": [\"x\"]}]}",
      "{\"schema\": \"dlrig.bench/1\", \"results\": [{\"key\": \"a\", \"verdict\": \"good\", "
      "\"device\": 1e30}]}",
      "{\"schema\": \"dlrig.bench/1\", \"results\": [{\"key\": \"a\", \"verdict\": \"good\", "
      "\"device\": 99999999999}]}",
      "{\"schema\": \"dlrig.bench/1\", \"results\": [{\"key\": \"a\", \"verdict\": \"good\", "
      "\"limits\": [{}]}]}",
      "{\"schema\": \"dlrig.bench/1\", \"results\": [{\"key\": \"a\", \"verdict\": \"good\", "
      "\"params\": {\"x\": [1]}}]}",
      "{\"schema\": \"dlrig.bench/1\", \"started\": \"yesterday\", \"results\": []}",
      "{\"schema\": \"dlrig.bench/1\", \"devices\": [{\"index\": 0, \"cc\": \"nine\"}], "
      "\"results\": []}",
      "{\"schema\": \"dlrig.bench/1\", \"devices\": [{\"index\": 0, \"memory_total\": -1}], "
      "\"results\": []}",
      "{\"schema\": \"dlrig.bench/1\", \"libraries\": {\"x\": 1}, \"results\": []}",
      "{\"schema\": \"dlrig.bench/1\", \"results\": [{\"key\": \"a\", \"verdict\": \"good\", "
      "\"timeline\": [{\"telemetry\": 3}]}]}",
  };
  for (const char* text : bad) {
    auto run = ParseBenchJson(text);
    ASSERT_FALSE(run) << text;
    EXPECT_EQ(run.error().kind, ErrorKind::kMalformed) << text;
    EXPECT_FALSE(run.error().message.empty()) << text;
  }
  // The smallest valid document.
  auto run = ParseBenchJson(
      "{\"schema\": \"dlrig.bench/1\", \"results\": [{\"key\": \"a\", \"verdict\": \"info\"}]}");
  ASSERT_TRUE(run) << run.error().message;
  EXPECT_EQ(run->results.at(0).key, "a");
}

TEST(BenchJson, ALongTimelineIsThinnedAndSaysSo) {
  for (size_t n : {2001u, 2002u, 10001u, 1234567u}) {
    std::vector<Measurement::Point> timeline(n);
    for (size_t i = 0; i < n; ++i) timeline[i].t = static_cast<double>(i);
    auto [points, stride] = ThinTimeline(timeline, 2000);
    EXPECT_LE(points.size(), 2000u) << n;
    EXPECT_GE(points.size(), 1000u) << n;
    EXPECT_GT(stride, 1u);
    EXPECT_EQ(points.front().t, 0);
    EXPECT_EQ(points.back().t, static_cast<double>(n - 1)) << "the end of the run is kept";
    EXPECT_EQ(points[1].t, static_cast<double>(stride));
  }
  std::vector<Measurement::Point> short_one(2000);
  EXPECT_EQ(ThinTimeline(short_one, 2000).second, 1u);
  EXPECT_EQ(ThinTimeline(short_one, 2000).first.size(), 2000u);
  Measurement burn = Figure("burn", 650);
  burn.timeline.resize(5000);
  ojson j = MeasurementJson(burn);
  EXPECT_LE(j["timeline"].size(), kMaxTimelinePoints);
  EXPECT_EQ(j["timeline_stride"], 3);
}

TEST(BenchJson, UtcTimesReadBack) {
  EXPECT_EQ(IsoUtc(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(ParseIsoUtc("2026-11-22T10:01:02Z").value_or(-1), 1795341662000);
  EXPECT_EQ(ParseIsoUtc("2026-11-22T10:01:02.25Z").value_or(-1), 1795341662250);
  EXPECT_FALSE(ParseIsoUtc("2026-11-22 10:01:02"));
  EXPECT_FALSE(ParseIsoUtc("2026-13-22T10:01:02Z"));
}

// ---- HTML ----

TEST(BenchHtml, EveryStringIsEscaped) {
  BenchRun run = SampleRun();
  run.results[1].message = "<script>alert('x')</script> & more";
  run.host = "<b>host</b>";
  std::string html = BenchHtml(run);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<b>host"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; more"),
            std::string::npos);
  // Self-contained: nothing is fetched.
  EXPECT_EQ(html.find(" src="), std::string::npos);
  EXPECT_EQ(html.find(" href="), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
}

TEST(BenchHtml, ThePeerHeatMapHasNByNCells) {
  BenchRun run = SampleRun();
  run.devices.push_back(H100(2));
  run.results.clear();
  for (int a = 0; a < 3; ++a)
    for (int b = 0; b < 3; ++b)
      if (a != b) {
        Measurement m = Figure(fmt::format("p2p.{}-{}.uni", a, b), 370 + a * 3 + b, std::nullopt);
        m.bench = "p2p";
        run.results.push_back(m);
      }
  std::string html = BenchHtml(run);
  EXPECT_EQ(Count(html, "class=\"cell\""), 9u);  // 3 x 3, the diagonal empty
  EXPECT_EQ(Count(html, "<title>GPU 0 to GPU 0: no figure</title>"), 1u);
  EXPECT_NE(html.find("<title>GPU 1 to GPU 2: 375 GB/s</title>"), std::string::npos) << html;
  run.results.push_back(Figure("p2p.0-1.bidir", 700, std::nullopt));
  EXPECT_EQ(Count(BenchHtml(run), "class=\"cell\""), 18u);  // a second map: bidirectional
}

TEST(BenchHtml, SizedFiguresBecomeOneLinePerSeries) {
  BenchRun run = SampleRun();
  run.results.clear();
  for (double mib : {8.0, 64.0, 1024.0}) {
    for (const char* dir : {"h2d", "d2h"}) {
      Measurement m = Figure(fmt::format("pcie.{}.pinned.{}M", dir, mib), 50 + mib / 100);
      m.params["bytes"] = fmt::format("{:.0f}", mib * 1048576);
      run.results.push_back(m);
    }
  }
  EXPECT_EQ(SizeSeriesLabel(run.results[0]), "pcie.h2d.pinned GPU 0");
  std::string html = BenchHtml(run);
  EXPECT_EQ(Count(html, "class=\"series\""), 2u) << "one line per direction";
  EXPECT_NE(html.find(">1 GiB</text>"), std::string::npos) << "sizes on the axis";
  EXPECT_NE(html.find("pcie: GB/s against transfer size"), std::string::npos);
}

TEST(BenchHtml, BurnTimelineAndLimitBarsAreDrawn) {
  BenchRun run = SampleRun();
  Measurement burn = Figure("burn", 650, 0, "TFLOP/s");
  for (int i = 0; i < 5; ++i) burn.timeline.push_back({i * 1.0, BurnTelemetry(), 640.0 + i});
  run.results.push_back(burn);
  run.results.push_back(Limited("memory.triad", 3100, 3352, Verdict::kGood));
  std::string html = BenchHtml(run);
  EXPECT_NE(html.find("SM clock during the run"), std::string::npos);
  EXPECT_NE(html.find("power during the run"), std::string::npos);
  EXPECT_NE(html.find("temperature during the run"), std::string::npos);
  EXPECT_EQ(Count(html, "<g class=\"bar "), 2u) << "one bar per figure with a limit";
  EXPECT_NE(html.find("<g class=\"bar good\">"), std::string::npos);
  EXPECT_EQ(Count(html, "class=\"goal\""), 2u);
}

TEST(BenchHtml, PeerKeysParseStrictly) {
  auto k = ParsePeerKey("p2p.3-12.bidir");
  ASSERT_TRUE(k);
  EXPECT_EQ(k->from, 3);
  EXPECT_EQ(k->to, 12);
  EXPECT_EQ(k->direction, "bidir");
  for (const char* bad :
       {"p2p.3-12.latency", "p2p.3.uni", "p2p.a-1.uni", "pcie.0-1.uni", "p2p.0-1.uni.x"})
    EXPECT_FALSE(ParsePeerKey(bad)) << bad;
}

// ---- compare ----

TEST(BenchCompare, RegressionIsFlaggedBeyondTheThresholdOnly) {
  std::vector<Measurement> a = {Figure("memory.copy", 100), Figure("memory.triad", 100),
                                Figure("pcie.h2d", 100), Figure("p2p.latency", 10, 0, "us")};
  std::vector<Measurement> b = {Figure("memory.copy", 94), Figure("memory.triad", 96),
                                Figure("pcie.h2d", 106), Figure("p2p.latency", 10.6, 0, "us")};
  Comparison c = Compare(a, b, 5);
  ASSERT_EQ(c.rows.size(), 4u);
  EXPECT_EQ(c.rows[0].change, Change::kRegression);  // -6%
  EXPECT_NEAR(*c.rows[0].change_percent, -6, 1e-9);
  EXPECT_EQ(c.rows[1].change, Change::kSame);         // -4%
  EXPECT_EQ(c.rows[2].change, Change::kImprovement);  // +6%
  EXPECT_EQ(c.rows[3].change, Change::kRegression);   // latency up 6%: worse
  EXPECT_EQ(c.regressions, 2);
  EXPECT_EQ(c.improvements, 1);
  EXPECT_EQ(Compare(a, b, 7).regressions, 0);
  std::string text = ComparisonText(c, "run 1", "run 2", 5, false);
  EXPECT_NE(text.find("-6.0%"), std::string::npos) << text;
  EXPECT_NE(text.find("regression"), std::string::npos) << text;
}

TEST(BenchCompare, FiguresOnOneSideAreListedAndGpusKeptApart) {
  std::vector<Measurement> a = {Figure("memory.copy", 100, 0), Figure("memory.copy", 100, 1),
                                Figure("gemm.bf16", 700)};
  std::vector<Measurement> b = {Figure("memory.copy", 80, 1), Figure("memory.copy", 100, 0),
                                Figure("nccl.all_reduce", 300, std::nullopt)};
  Comparison c = Compare(a, b, 5);
  ASSERT_EQ(c.rows.size(), 4u);
  EXPECT_EQ(c.rows[0].change, Change::kSame);  // GPU 0 matched with GPU 0, not by position
  EXPECT_EQ(c.rows[1].change, Change::kRegression);
  EXPECT_EQ(c.rows[1].device, 1);
  EXPECT_EQ(c.rows[2].key, "gemm.bf16");
  EXPECT_EQ(c.rows[2].change, Change::kOnlyA);
  EXPECT_EQ(c.rows[3].key, "nccl.all_reduce");
  EXPECT_EQ(c.rows[3].change, Change::kOnlyB);
  ojson j = ComparisonJson(c, "a", "b", 5);
  EXPECT_EQ(j["rows"][2]["change"], "only_a");
  EXPECT_FALSE(j["rows"][2].contains("b"));
}

TEST(BenchCompare, AFigureThatFailsInBIsARegression) {
  Measurement err;
  err.key = "memory.copy";
  err.device = 0;
  err.verdict = Verdict::kError;
  err.message = "GPU is lost";
  std::vector<Measurement> a = {Figure("memory.copy", 100)}, b = {err};
  Comparison c = Compare(a, b, 5);
  ASSERT_EQ(c.rows.size(), 1u);
  EXPECT_EQ(c.rows[0].change, Change::kRegression);
  EXPECT_FALSE(c.rows[0].b);
  Measurement errors = Figure("burn", 0, 0, "errors");
  errors.samples = {0};
  Measurement more = Figure("burn", 5, 0, "errors");
  std::vector<Measurement> x = {errors}, y = {more};
  EXPECT_EQ(Compare(x, y, 5).rows[0].change, Change::kRegression) << "0 -> 5 errors";
}

// ---- history ----

TEST(BenchHistory, StoresListsLoadsAndComparesRuns) {
  testing::TempTree tree;
  std::string db = (tree.dir() / "h.db").string();
  auto history = BenchHistory::Open(db, HistoryAccess::kReadWrite);
  ASSERT_TRUE(history) << history.error().message;
  BenchRun first = SampleRun();
  BenchRun second = SampleRun();
  second.started_ms += 3600000;
  second.results[0] = Limited("memory.copy", 2700, 3352, Verdict::kLow);  // -6.9%
  auto id1 = history->Store(first);
  auto id2 = history->Store(second);
  ASSERT_TRUE(id1 && id2);
  EXPECT_NE(*id1, *id2);

  auto reader = BenchHistory::Open(db, HistoryAccess::kReadOnly);
  ASSERT_TRUE(reader) << reader.error().message;
  auto recent = reader->Recent(10);
  ASSERT_TRUE(recent) << recent.error().message;
  ASSERT_EQ(recent->size(), 2u);
  EXPECT_EQ((*recent)[0].id, *id2);  // newest first
  EXPECT_EQ((*recent)[0].figures, 3);
  EXPECT_EQ((*recent)[0].profile, "quick");
  EXPECT_EQ((*recent)[0].backend, "cuda");
  using V = std::pair<Verdict, int>;
  EXPECT_EQ((*recent)[0].verdicts,
            (std::vector<V>{{Verdict::kLow, 1}, {Verdict::kWaived, 1}, {Verdict::kError, 1}}));
  EXPECT_EQ(reader->Recent(1)->size(), 1u);

  auto loaded = reader->Load(*id1);
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->host, "node1");
  EXPECT_EQ(loaded->driver, "580.159.04");
  EXPECT_EQ(loaded->devices.size(), 2u);
  EXPECT_EQ(loaded->libraries, first.libraries);
  EXPECT_EQ(BenchJson(*loaded).dump(), BenchJson(first).dump()) << "what was stored comes back";
  auto again = reader->Load(*id2);
  ASSERT_TRUE(again);
  Comparison c = Compare(loaded->results, again->results, 5);
  EXPECT_EQ(c.regressions, 1);
  EXPECT_EQ(c.rows[0].change, Change::kRegression);

  auto missing = reader->Load(*id2 + 100);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorKind::kNotFound);

  // The rows are queryable by key without parsing JSON.
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(
      sqlite3_prepare_v2(
          raw,
          "SELECT median, verdict FROM bench_results WHERE key = 'memory.copy' ORDER BY run_id", -1,
          &st, nullptr),
      SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_DOUBLE_EQ(sqlite3_column_double(st, 0), 2900);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 1)), "low");
  sqlite3_finalize(st);
  sqlite3_close(raw);
}

TEST(BenchHistory, ACorruptFileIsAnErrorThatNamesIt) {
  testing::TempTree tree;
  std::string garbage(8192, '\0');
  for (size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<char>((i * 131 + 7) % 251);
  tree.Write("h.db", garbage);
  std::string db = (tree.dir() / "h.db").string();
  auto history = BenchHistory::Open(db, HistoryAccess::kReadWrite);
  ASSERT_FALSE(history);
  EXPECT_NE(history.error().message.find(db), std::string::npos) << history.error().message;
}

TEST(BenchHistory, ALockedFileFailsTheStoreWithAClearMessage) {
  testing::TempTree tree;
  std::string db = (tree.dir() / "h.db").string();
  auto history = BenchHistory::Open(db, HistoryAccess::kReadWrite);
  ASSERT_TRUE(history);
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  auto id = history->Store(SampleRun());  // waits the busy timeout, then gives up
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  ASSERT_FALSE(id);
  EXPECT_NE(id.error().message.find("locked"), std::string::npos) << id.error().message;
  EXPECT_TRUE(history->Store(SampleRun())) << "and works once the lock is gone";
}

}  // namespace
}  // namespace dlrig::bench
