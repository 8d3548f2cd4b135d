// What `dlrig serve` answers on each path, as one HttpHandler over a source of snapshots:
// /metrics (Prometheus), /api/v1/gpus (JSON), / (HTML status page), /healthz. It only reads
// the latest snapshot; it never calls NVML.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "monitor/http_server.h"
#include "monitor/prometheus.h"
#include "monitor/sampler.h"

namespace dlrig {

struct ServeRoutesOptions {
  ExpositionOptions exposition;
  std::string hostname;
  std::chrono::milliseconds interval{1000};
  /// /healthz answers 503 when the newest sample is older than this (or there is none).
  std::chrono::milliseconds stale_after{10000};
};

using SnapshotSource = std::function<std::shared_ptr<const MonitorSnapshot>()>;

/// The handler; /metrics text is rendered once per snapshot and reused by later scrapes.
/// Call it from one thread (the server's).
HttpHandler MakeServeHandler(SnapshotSource latest, ServeRoutesOptions options);

}  // namespace dlrig
