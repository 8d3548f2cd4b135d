// What serve answers on each path, from hand-made snapshots: /metrics follows the newest
// snapshot, /healthz tells fresh from stale, / escapes driver strings, /api/v1/gpus is
// dlrig.gpus/1 with the sample's sequence, anything else is 404.
#include "monitor/serve_routes.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "monitor/status_page.h"

namespace dlrig {
namespace {

HttpRequest Get(const std::string& path) {
  HttpRequest r;
  r.method = "GET";
  r.path = path;
  r.target = path;
  return r;
}

std::shared_ptr<MonitorSnapshot> Snapshot(uint64_t sequence, const std::string& name,
                                          std::chrono::system_clock::time_point taken) {
  auto s = std::make_shared<MonitorSnapshot>();
  s->sequence = sequence;
  s->taken = taken;
  s->nvml.loaded_path = "/lib/libnvidia-ml.so.1";
  s->nvml.device_count = 1;
  GpuFacts g;
  g.name = name;
  g.uuid = "GPU-x";
  g.temperature_c = 50 + static_cast<long long>(sequence);
  s->nvml.devices = {g};
  return s;
}

TEST(ServeRoutes, MetricsFollowTheNewestSnapshot) {
  std::shared_ptr<const MonitorSnapshot> current;
  HttpHandler handler = MakeServeHandler([&] { return current; }, {});
  HttpResponse none = handler(Get("/metrics"));
  EXPECT_EQ(none.status, 200);
  EXPECT_EQ(none.content_type, kPrometheusContentType);
  EXPECT_NE(none.body.find("dlrig_sampler_unavailable{reason=\"no sample taken yet\"} 1"),
            std::string::npos);
  auto now = std::chrono::system_clock::now();
  current = Snapshot(1, "A", now);
  std::string first = handler(Get("/metrics")).body;
  EXPECT_NE(first.find("dlrig_gpu_temperature_celsius{gpu=\"0\",uuid=\"GPU-x\"} 51"),
            std::string::npos)
      << first;
  EXPECT_EQ(handler(Get("/metrics")).body, first);
  current = Snapshot(2, "A", now);
  EXPECT_NE(handler(Get("/metrics")).body.find("} 52\n"), std::string::npos);
}

TEST(ServeRoutes, HealthzTellsFreshFromStale) {
  std::shared_ptr<const MonitorSnapshot> current;
  ServeRoutesOptions options;
  options.stale_after = std::chrono::milliseconds(10000);
  HttpHandler handler = MakeServeHandler([&] { return current; }, options);
  EXPECT_EQ(handler(Get("/healthz")).status, 503);
  current = Snapshot(1, "A", std::chrono::system_clock::now());
  EXPECT_EQ(handler(Get("/healthz")).status, 200);
  current = Snapshot(2, "A", std::chrono::system_clock::now() - std::chrono::seconds(60));
  HttpResponse stale = handler(Get("/healthz"));
  EXPECT_EQ(stale.status, 503);
  EXPECT_NE(stale.body.find("stale"), std::string::npos);
}

TEST(ServeRoutes, StatusPageEscapesAndJsonHasTheSample) {
  std::shared_ptr<const MonitorSnapshot> current =
      Snapshot(7, "<script>alert('x')</script>&", std::chrono::system_clock::now());
  HttpHandler handler = MakeServeHandler([&] { return current; }, {});
  HttpResponse page = handler(Get("/"));
  EXPECT_EQ(page.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(page.body.find("<script>"), std::string::npos);
  EXPECT_NE(page.body.find("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;"),
            std::string::npos);
  EXPECT_NE(page.body.find("http-equiv=refresh"), std::string::npos);
  EXPECT_EQ(page.body.find("src="), std::string::npos);  // nothing loaded from elsewhere

  auto doc = nlohmann::json::parse(handler(Get("/api/v1/gpus")).body);
  EXPECT_EQ(doc["schema"], "dlrig.gpus/1");
  EXPECT_EQ(doc["sample"]["sequence"], 7);
  EXPECT_EQ(doc["gpus"][0]["temperature_c"], 57);
  EXPECT_FALSE(doc.contains("unavailable"));
  EXPECT_EQ(HtmlEscape("a\"b"), "a&quot;b");
}

TEST(ServeRoutes, UnknownPathsAre404) {
  HttpHandler handler = MakeServeHandler([] { return nullptr; }, {});
  for (const char* path : {"/metrics/", "/api/v1/gpus/0", "/index.html", "/..", "/favicon.ico"})
    EXPECT_EQ(handler(Get(path)).status, 404) << path;
  auto doc = nlohmann::json::parse(handler(Get("/api/v1/gpus")).body);
  EXPECT_EQ(doc["unavailable"], "no sample taken yet");
}

}  // namespace
}  // namespace dlrig
