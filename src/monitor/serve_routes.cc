#include "monitor/serve_routes.h"

#include <fmt/format.h>

#include <algorithm>

#include "monitor/gpus_api.h"
#include "monitor/status_page.h"

namespace dlrig {
namespace {

struct Cache {
  std::shared_ptr<const MonitorSnapshot> snapshot;  ///< what `metrics` was rendered from
  std::string metrics;
  bool valid = false;
};

HttpResponse Healthz(const MonitorSnapshot* s, std::chrono::milliseconds stale_after) {
  if (s == nullptr) return {503, "text/plain; charset=utf-8", "no sample taken yet\n"};
  auto age = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now() - s->taken);
  if (age > stale_after)
    return {503, "text/plain; charset=utf-8",
            fmt::format("stale: the last sample is {} ms old\n", age.count())};
  return {200, "text/plain; charset=utf-8", "ok\n"};
}

}  // namespace

HttpHandler MakeServeHandler(SnapshotSource latest, ServeRoutesOptions options) {
  auto cache = std::make_shared<Cache>();
  return [latest = std::move(latest), options = std::move(options),
          cache](const HttpRequest& request) -> HttpResponse {
    std::shared_ptr<const MonitorSnapshot> s = latest();
    if (request.path == "/metrics") {
      // The same snapshot renders the same text (the unavailable reason included), so
      // scrapes between two samples cost a copy.
      if (!cache->valid || cache->snapshot != s) {
        cache->metrics = RenderMetrics(s.get(), options.exposition);
        cache->snapshot = s;
        cache->valid = true;
      }
      return {200, kPrometheusContentType, cache->metrics};
    }
    if (request.path == "/api/v1/gpus") return {200, "application/json", RenderGpusJson(s.get())};
    if (request.path == "/healthz") return Healthz(s.get(), options.stale_after);
    if (request.path == "/") {
      int refresh = std::max(2, static_cast<int>(options.interval.count() / 1000));
      return {200,
              "text/html; charset=utf-8",
              RenderStatusPage(s.get(), {refresh, options.hostname}),
              {{"Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'"}}};
    }
    return {404, "text/plain; charset=utf-8",
            "not found; dlrig serve answers /metrics, /api/v1/gpus, /healthz and /\n"};
  };
}

}  // namespace dlrig
