// A MonitorSnapshot becomes rows: one sample per GPU that answered, and the events that are
// news since the last snapshot (a GPU lost or back, NVML unavailable or back, the sampler's
// child restarted, Xid lines not stored before).
#include <fmt/format.h>
#include <time.h>

#include <algorithm>
#include <set>

#include "monitor/history.h"
#include "probe/pci.h"

namespace dlrig {
namespace {

std::optional<int64_t> Value(const Result<long long>& r) {
  if (!r) return std::nullopt;
  return *r;
}

HistorySample SampleOf(const GpuFacts& g, int64_t time_ms) {
  HistorySample s;
  s.time_ms = time_ms;
  s.gpu_uuid = *g.uuid;
  s.utilization_gpu_percent = Value(g.utilization_gpu_percent);
  s.utilization_memory_percent = Value(g.utilization_memory_percent);
  s.memory_used_bytes = Value(g.memory_used_bytes);
  s.memory_total_bytes = Value(g.memory_total_bytes);
  s.temperature_c = Value(g.temperature_c);
  s.memory_temperature_c = Value(g.memory_temperature_c);
  s.power_mw = Value(g.power_mw);
  s.energy_mj = Value(g.energy_mj);
  s.clock_sm_mhz = Value(g.clock_sm_mhz);
  s.clock_memory_mhz = Value(g.clock_memory_mhz);
  s.pcie_tx_kbps = Value(g.pcie_tx_kbps);
  s.pcie_rx_kbps = Value(g.pcie_rx_kbps);
  s.clock_event_reasons = Value(g.clock_event_reasons);
  s.ecc_corrected_volatile = Value(g.ecc_corrected_volatile);
  s.ecc_uncorrected_volatile = Value(g.ecc_uncorrected_volatile);
  s.performance_state = Value(g.performance_state);
  s.fan_percent = Value(g.fan_percent);
  return s;
}

// Why a GPU gave no sample, or "" when it answered.
std::string LostReason(const GpuFacts& g) {
  if (g.handle_code && *g.handle_code != 0)
    return fmt::format("nvmlDeviceGetHandleByIndex returned {}", *g.handle_code);
  if (!g.uuid) return "no UUID: " + g.uuid.error().message;
  return "";
}

// The kernel stamps a line with its monotonic clock; the wall time is the sample's time less
// how long ago that was. Without a stamp (a syslog line), the time it was first seen.
int64_t XidTimeMs(const XidEvent& x, int64_t taken_ms, double monotonic_now_s) {
  if (!x.since_boot_s || monotonic_now_s <= 0 || *x.since_boot_s > monotonic_now_s)
    return taken_ms;
  return taken_ms - static_cast<int64_t>((monotonic_now_s - *x.since_boot_s) * 1000.0);
}

}  // namespace

SnapshotRows RowsOfSnapshot(const MonitorSnapshot& snapshot, History::RecorderState& state,
                            double monotonic_now_s) {
  SnapshotRows rows;
  int64_t t = std::chrono::duration_cast<std::chrono::milliseconds>(
                  snapshot.taken.time_since_epoch()).count();
  auto event = [&](std::string kind, std::string uuid, std::string pci, std::optional<int64_t> code,
                   std::string text) {
    rows.events.push_back({t, std::move(kind), std::move(uuid), std::move(pci), code,
                           std::move(text), ""});
  };

  if (snapshot.unavailable != state.unavailable) {
    if (!snapshot.unavailable.empty()) event("unavailable", "", "", std::nullopt, snapshot.unavailable);
    else if (state.seen_any) event("available", "", "", std::nullopt, "NVML answers again");
    state.unavailable = snapshot.unavailable;
  }
  if (snapshot.restarts > state.restarts)
    event("sampler_restart", "", "", snapshot.restarts,
          fmt::format("the NVML child was started again after a hang or a crash ({} so far)",
                      snapshot.restarts));
  state.restarts = snapshot.restarts;

  std::map<std::string, std::string>& uuid_by_pci = state.uuid_by_pci;
  std::set<std::string> answered;
  for (const GpuFacts& g : snapshot.nvml.devices) {
    std::string pci = g.pci_bus_id ? NormalizePciAddress(*g.pci_bus_id).value_or(*g.pci_bus_id) : "";
    if (g.uuid) state.uuid_by_index[g.index] = *g.uuid;
    if (g.uuid && !pci.empty()) uuid_by_pci[pci] = *g.uuid;  // an Xid names a lost GPU by bus id
    auto known = state.uuid_by_index.find(g.index);
    std::string key = known != state.uuid_by_index.end() ? known->second
                                                         : fmt::format("index {}", g.index);
    if (std::string why = LostReason(g); !why.empty()) {
      if (!state.lost.count(key))
        event("gpu_lost", key.starts_with("index ") ? "" : key, pci,
              g.handle_code ? std::optional<int64_t>(*g.handle_code) : std::nullopt,
              fmt::format("GPU {}: {}", g.index, why));
      state.lost[key] = why;
      continue;
    }
    answered.insert(*g.uuid);
    if (state.lost.erase(key) > 0) event("gpu_back", *g.uuid, pci, std::nullopt,
                                         fmt::format("GPU {} answers again", g.index));
    rows.gpus.push_back({*g.uuid, g.name.value_or(""), pci, g.index, t, t});
    rows.samples.push_back(SampleOf(g, t));
  }
  // A GPU NVML no longer lists at all (it fell off the bus and the driver dropped it).
  if (snapshot.unavailable.empty())
    for (const auto& [index, uuid] : state.uuid_by_index)
      if (!answered.count(uuid) && !state.lost.count(uuid) &&
          std::none_of(snapshot.nvml.devices.begin(), snapshot.nvml.devices.end(),
                       [i = index](const GpuFacts& g) { return g.index == i; })) {
        event("gpu_lost", uuid, "", std::nullopt,
              fmt::format("GPU {} is no longer listed by NVML", index));
        state.lost[uuid] = "not listed";
      }

  for (const XidEvent& x : snapshot.xids) {
    std::string pci = NormalizePciAddress(x.pci_address).value_or(x.pci_address);
    auto uuid = uuid_by_pci.find(pci);
    std::string line = x.line.empty() ? fmt::format("Xid ({}): {}, {}", pci, x.xid, x.text) : x.line;
    rows.events.push_back({XidTimeMs(x, t, monotonic_now_s), "xid",
                           uuid != uuid_by_pci.end() ? uuid->second : "", pci, x.xid, line,
                           "xid " + line});
  }
  state.seen_any = true;
  return rows;
}

void RecordSnapshot(History& history, const MonitorSnapshot& snapshot) {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  // The state moves on only when the rows are stored, so a failed write loses no event.
  History::RecorderState next = history.recorder();
  SnapshotRows rows = RowsOfSnapshot(snapshot, next, now.tv_sec + now.tv_nsec / 1e9);
  auto ok = history.Write(rows.gpus, rows.samples, rows.events);
  History::RecorderState& state = history.recorder();
  if (!ok) {
    state.last_error = ok.error();
    ++state.failed_writes;
    return;
  }
  next.last_error.reset();
  next.failed_writes = state.failed_writes;
  next.rejected_samples = state.rejected_samples + static_cast<int64_t>(ok->size());
  // The rest of the snapshot is stored (the state moves on); the left-out samples are said.
  if (!ok->empty())
    next.last_error = Error{
        ErrorKind::kMalformed,
        fmt::format("{} already holds a sample of {}: the new one was not stored (one sample per "
                    "GPU and millisecond is kept, never two merged): is another process "
                    "recording into this file, or did the clock step back?",
                    history.path(), fmt::join(*ok, ", "))};
  state = std::move(next);
}

}  // namespace dlrig
