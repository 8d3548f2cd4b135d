// serve's `/`: a small self-contained HTML page (no scripts, styles inline, no outside
// assets) with one row per GPU, that reloads itself. Every text from the driver is escaped.
#pragma once

#include <string>
#include <string_view>

#include "monitor/sampler.h"

namespace dlrig {

struct StatusPageOptions {
  int refresh_seconds = 5;
  std::string hostname;
};

std::string RenderStatusPage(const MonitorSnapshot* snapshot, const StatusPageOptions& options);

/// & < > " ' as HTML character references.
std::string HtmlEscape(std::string_view text);

}  // namespace dlrig
