// What `dlrig history` takes and shows: durations and times, metric names, buckets, the SVG.
#include "monitor/history_view.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <time.h>

#include <regex>

namespace dlrig {
namespace {

constexpr int64_t kT0 = 1'795'341'600'000;  // 2026-11-22T10:00:00Z (python calendar.timegm)

TEST(HistoryView, DurationsNeedANumberAndAUnit) {
  EXPECT_EQ(ParseHistoryDuration("500ms")->count(), 500);
  EXPECT_EQ(ParseHistoryDuration("1s")->count(), 1000);
  EXPECT_EQ(ParseHistoryDuration("10m")->count(), 600'000);
  EXPECT_EQ(ParseHistoryDuration("7d")->count(), 604'800'000);
  EXPECT_EQ(ParseHistoryDuration("2w")->count(), 1'209'600'000);
  for (const char* bad : {"", "10", "5x", "-1h", "0s", "ms", "1.5h", "99999999999999h"}) {
    auto r = ParseHistoryDuration(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().kind, ErrorKind::kMalformed);
    EXPECT_FALSE(r.error().message.empty());
  }
}

TEST(HistoryView, TimesAreDurationsBeforeNowOrDates) {
  EXPECT_EQ(ParseHistoryTime("1h", kT0).value_or(0), kT0 - 3'600'000);
  EXPECT_EQ(ParseHistoryTime("30m", kT0).value_or(0), kT0 - 1'800'000);
  EXPECT_EQ(ParseHistoryTime("now", kT0).value_or(0), kT0);
  EXPECT_EQ(ParseHistoryTime("2026-11-22T10:00Z", 0).value_or(0), kT0);
  EXPECT_EQ(ParseHistoryTime("2026-11-22 10:00:05Z", 0).value_or(0), kT0 + 5000);
  EXPECT_EQ(ParseHistoryTime("2026-11-22Z", 0).value_or(0), 1'795'305'600'000);

  // Without Z, local time: in UTC+2, 10:00 is 08:00Z.
  std::string old_tz = getenv("TZ") ? getenv("TZ") : "";
  bool had_tz = getenv("TZ") != nullptr;
  setenv("TZ", "XYZ-2", 1);
  tzset();
  auto local = ParseHistoryTime("2026-11-22T10:00", 0);
  if (had_tz) setenv("TZ", old_tz.c_str(), 1);
  else unsetenv("TZ");
  tzset();
  EXPECT_EQ(local.value_or(0), 1'795'334'400'000);

  for (const char* bad : {"yesterday", "2026-13-01", "2026-02-30", "2026-11-22T25:00", "2026-11-22T10",
                          "2026/11/22", "2026-11-22T10:00:00:00", "1 hour", ""}) {
    auto r = ParseHistoryTime(bad, kT0);
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().message.find("cannot read the time"), std::string::npos) << bad;
  }
}

TEST(HistoryView, MetricsByNameInTheOrderGiven) {
  auto m = ParseHistoryMetrics("temp, util,temp");
  ASSERT_TRUE(m);
  ASSERT_EQ(m->size(), 2u);
  EXPECT_STREQ(m->at(0)->key, "temp");
  EXPECT_STREQ(m->at(1)->key, "util");
  EXPECT_EQ(ParseHistoryMetrics("all")->size(), HistoryMetrics().size());
  auto bad = ParseHistoryMetrics("util,bogus");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("bogus"), std::string::npos);
  EXPECT_NE(bad.error().message.find("power"), std::string::npos);  // lists what is known
}

std::vector<HistorySample> Ramp(int n, int64_t step_ms) {
  std::vector<HistorySample> samples;
  for (int i = 0; i < n; ++i) {
    HistorySample s;
    s.time_ms = kT0 + i * step_ms;
    s.gpu_uuid = "GPU-a";
    s.temperature_c = i;
    s.power_mw = 100'000 + i * 1000;
    if (i % 2 == 0) s.energy_mj = i * 1'000'000LL;  // a counter, missing every other sample
    s.clock_event_reasons = i % 2 == 0 ? 0x4 : 0x1;  // sw power cap / idle
    samples.push_back(s);
  }
  return samples;
}

TEST(HistoryView, DownsamplingAveragesEqualBuckets) {
  auto metrics = *ParseHistoryMetrics("temp,power,energy,throttle,memtemp");
  std::vector<HistorySample> samples = Ramp(120, 1000);
  std::vector<HistoryBucket> rows = Downsample(samples, metrics, 60);
  ASSERT_EQ(rows.size(), 60u);
  // 119 s over 60 rows: 2 s buckets, samples (0,1), (2,3), ...
  EXPECT_EQ(rows[0].samples, 2u);
  EXPECT_EQ(rows[0].start_ms, kT0);
  EXPECT_DOUBLE_EQ(*rows[0].values[0], 0.5);
  EXPECT_DOUBLE_EQ(*rows[59].values[0], 118.5);
  EXPECT_DOUBLE_EQ(*rows[1].values[1], 102.5);  // watts
  EXPECT_DOUBLE_EQ(*rows[1].values[2], 2.0);    // kJ: the counter's last reading in the bucket
  EXPECT_DOUBLE_EQ(*rows[1].values[3], 50.0);   // held back in one sample of two
  EXPECT_FALSE(rows[1].values[4]);              // never given: no value, not 0
  // Few samples: one row each.
  EXPECT_EQ(Downsample(Ramp(7, 500), metrics, 60).size(), 7u);
  // A gap leaves no empty rows.
  std::vector<HistorySample> gap = Ramp(10, 1000);
  for (auto s : Ramp(10, 1000)) {
    s.time_ms += 3'600'000;
    gap.push_back(s);
  }
  std::vector<HistoryBucket> g = Downsample(gap, metrics, 5);
  EXPECT_LE(g.size(), 5u);
  size_t total = 0;
  for (const auto& b : g) total += b.samples;
  EXPECT_EQ(total, 20u);
}

TEST(HistoryView, SummaryIsOverSamples) {
  auto metrics = *ParseHistoryMetrics("temp,memtemp");
  std::vector<HistorySample> samples = Ramp(11, 1000);
  samples[3].temperature_c.reset();
  auto stats = Summarize(samples, metrics);
  EXPECT_DOUBLE_EQ(*stats[0].min, 0);
  EXPECT_DOUBLE_EQ(*stats[0].max, 10);
  EXPECT_DOUBLE_EQ(*stats[0].mean, (55.0 - 3) / 10);
  EXPECT_FALSE(stats[1].min);
}

TEST(HistoryView, SvgHasAPanelPerMetricAndALinePerGpu) {
  auto metrics = *ParseHistoryMetrics("temp,power,memtemp");
  std::vector<HistorySample> b = Ramp(30, 1000);
  for (int i = 15; i < 30; ++i) b[i].time_ms += 600'000;  // the recorder was off for 10 min
  std::vector<ChartSeries> series = {{"GPU 0 <A&B>", Ramp(30, 1000)}, {"GPU 1", b}};
  std::string svg = HistorySvg(series, metrics);
  auto count = [&](const std::string& pattern) {
    std::regex re(pattern);
    return std::distance(std::sregex_iterator(svg.begin(), svg.end(), re), std::sregex_iterator());
  };
  EXPECT_TRUE(svg.starts_with("<?xml"));
  EXPECT_EQ(count("<svg "), 1);
  EXPECT_EQ(count("</svg>"), 1);
  EXPECT_EQ(count("<g class=\"panel\""), 3);
  EXPECT_EQ(count("<path "), 4);  // temp and power for two GPUs; memtemp has no value at all
  EXPECT_EQ(count("°C"), 4);      // two temperature panels: title and axis each
  EXPECT_NE(svg.find("GPU 0 &lt;A&amp;B&gt;"), std::string::npos);
  EXPECT_EQ(svg.find("<A&B>"), std::string::npos);
  // The gap breaks GPU 1's line: two sub-paths; GPU 0's is one.
  std::vector<std::string> paths;
  const std::regex path_re("<path d=\"([^\"]*)\"");
  for (std::sregex_iterator it(svg.begin(), svg.end(), path_re), end; it != end; ++it)
    paths.push_back((*it)[1]);
  ASSERT_EQ(paths.size(), 4u);
  EXPECT_EQ(std::count(paths[0].begin(), paths[0].end(), 'M'), 1);
  EXPECT_EQ(std::count(paths[1].begin(), paths[1].end(), 'M'), 2);
  // Time labels on the axis (HH:MM at this span).
  EXPECT_GE(count(">[0-9]{2}:[0-9]{2}<"), 3);
}

}  // namespace
}  // namespace dlrig
