#include "monitor/status_page.h"

#include <fmt/format.h>

#include "monitor/prometheus.h"
#include "core/strings.h"

namespace dlrig {
namespace {

// A value, or what stood in its way ("unsupported"), never a made-up 0.
template <class T, class F>
std::string Cell(const Result<T>& r, F format) {
  if (r) return HtmlEscape(format(*r));
  return fmt::format("<span class=na title=\"{}\">{}</span>", HtmlEscape(r.error().message),
                     HtmlEscape(ErrorKindName(r.error().kind)));
}

std::string GpuRow(const GpuFacts& g) {
  auto text = [](const std::string& s) { return s; };
  auto celsius = [](long long v) { return fmt::format("{} °C", v); };
  auto mhz = [](long long v) { return fmt::format("{} MHz", v); };
  auto gib = [](long long v) {
    return fmt::format("{:.1f} GiB", static_cast<double>(v) / (1 << 30));
  };
  auto pct = [](long long v) { return fmt::format("{} %", v); };
  auto watts = [](long long mw) { return fmt::format("{:.0f} W", static_cast<double>(mw) / 1000); };
  return fmt::format(
      "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} / {}</td><td>{}</td><td>{}</td>"
      "<td>{} / {}</td><td>{}</td></tr>\n",
      g.index, Cell(g.name, text), Cell(g.uuid, text), Cell(g.utilization_gpu_percent, pct),
      Cell(g.memory_used_bytes, gib), Cell(g.memory_total_bytes, gib),
      Cell(g.utilization_memory_percent, pct), Cell(g.temperature_c, celsius),
      Cell(g.power_mw, watts), Cell(g.power_limit_mw, watts), Cell(g.clock_sm_mhz, mhz));
}

}  // namespace

std::string HtmlEscape(std::string_view text) { return MarkupEscape(text); }

std::string RenderStatusPage(const MonitorSnapshot* s, const StatusPageOptions& options) {
  std::string html = fmt::format(
      "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
      "<meta http-equiv=refresh content={}>"
      "<title>dlrig serve — {}</title><style>"
      "body{{font:14px system-ui,sans-serif;margin:2em}}table{{border-collapse:collapse}}"
      "td,th{{border:1px solid #ccc;padding:.3em .6em;text-align:left}}"
      ".na{{color:#888}}.bad{{color:#b00;font-weight:bold}}</style></head><body>\n"
      "<h1>dlrig serve — {}</h1>\n",
      options.refresh_seconds, HtmlEscape(options.hostname), HtmlEscape(options.hostname));
  std::string why = UnavailableReason(s);
  if (!why.empty())
    html += fmt::format(
        "<p class=bad>No GPU can be described: {}. Run <code>dlrig doctor</code> "
        "to find which layer is broken and how to fix it.</p>\n",
        HtmlEscape(why));
  if (s != nullptr) {
    const LibraryAnswers& nvml = s->nvml;
    html += fmt::format("<p>Sample {} taken {} ms; driver {}; NVML child restarts: {}.</p>\n",
                        s->sequence, s->took.count(),
                        HtmlEscape(nvml.driver_version.value_or("unknown")), s->restarts);
    if (!nvml.devices.empty()) {
      html +=
          "<table><tr><th>GPU</th><th>name</th><th>UUID</th><th>utilisation</th>"
          "<th>memory</th><th>memory busy</th><th>temperature</th><th>power / limit</th>"
          "<th>SM clock</th></tr>\n";
      for (const GpuFacts& g : nvml.devices) html += GpuRow(g);
      html += "</table>\n";
    }
    if (!s->xids.empty()) {
      html += "<h2>Xid events (kernel log)</h2><ul>\n";
      for (const XidEvent& e : s->xids)
        html += fmt::format("<li>{} Xid {}: {}</li>\n", HtmlEscape(e.pci_address), e.xid,
                            HtmlEscape(e.text));
      html += "</ul>\n";
    }
  }
  html +=
      "<p><a href=\"/metrics\">/metrics</a> · <a href=\"/api/v1/gpus\">/api/v1/gpus</a> · "
      "<a href=\"/healthz\">/healthz</a></p>\n</body></html>\n";
  return html;
}

}  // namespace dlrig
