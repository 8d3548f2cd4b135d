// One `dlrig bench` run as its outputs describe it: where and how it ran, on what, and the
// measurements. The text table, the JSON, the HTML page and the history all take this.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "bench/backend.h"
#include "bench/harness.h"

namespace dlrig::bench {

struct BenchRun {
  std::string dlrig_version;
  int64_t started_ms = 0;  ///< Unix time, milliseconds
  std::string host;
  std::string profile;  ///< "quick", "default", "full"
  std::string backend;  ///< "cuda", "null"
  std::string driver;   ///< the kernel driver's version, "" when unknown
  std::vector<std::pair<std::string, std::string>> libraries;  ///< name -> version / path
  std::vector<DeviceInfo> devices;
  std::vector<Measurement> results;
};

/// The null backend's figures come from a model; every output says so.
inline bool IsModelled(const BenchRun& run) { return run.backend == "null"; }

}  // namespace dlrig::bench
