#include "bench/bench_history.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <cmath>
#include <map>

#include "bench/report_json.h"
#include "core/json_dump.h"
#include "monitor/history_sql.h"

namespace dlrig::bench {
namespace {

using history_sql::BindText;
using history_sql::ColumnText;
using history_sql::Stmt;
using nlohmann::json;

std::string Dump(const ojson& j) { return DumpJson(j, -1); }

// What the history keeps of the machine beside the devices: enough to tell two runs' stacks apart.
ojson InventoryJson(const BenchRun& run) {
  ojson j = ojson::object();
  if (!run.dlrig_version.empty()) j["dlrig_version"] = run.dlrig_version;
  if (!run.driver.empty()) j["driver"] = run.driver;
  j["libraries"] = ojson::object();
  for (const auto& [name, version] : run.libraries) j["libraries"][name] = version;
  j["devices"] = ojson::array();
  for (const DeviceInfo& d : run.devices) j["devices"].push_back(DeviceJson(d));
  return j;
}

void BindOptionalDouble(sqlite3_stmt* st, int index, std::optional<double> v) {
  if (v && std::isfinite(*v))
    sqlite3_bind_double(st, index, *v);
  else
    sqlite3_bind_null(st, index);
}

}  // namespace

Result<BenchHistory> BenchHistory::Open(const std::string& path, HistoryAccess access) {
  HistoryOptions options;
  options.access = access;
  auto history = History::Open(path, options);
  if (!history) return tl::unexpected(history.error());
  return BenchHistory(std::move(*history));
}

Error BenchHistory::SqlError(const char* doing) const {
  sqlite3* db = history_.connection();
  int code = sqlite3_extended_errcode(db) & 0xff;
  std::string why = sqlite3_errmsg(db);
  if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
    return {ErrorKind::kTimeout,
            fmt::format("{} is locked by another writer while {} ({})", path(), doing, why)};
  if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB)
    return {ErrorKind::kMalformed,
            fmt::format("{} is damaged ({} while {}): move it aside", path(), why, doing)};
  if (code == SQLITE_READONLY || code == SQLITE_PERM)
    return {ErrorKind::kNoPermission, fmt::format("{}: {} while {}", path(), why, doing)};
  return {ErrorKind::kIo, fmt::format("{}: {} while {}", path(), why, doing)};
}

Result<int64_t> BenchHistory::Store(const BenchRun& run) {
  sqlite3* db = history_.connection();
  if (sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK)
    return tl::unexpected(SqlError("starting to store a bench run"));
  auto fail = [&](const char* doing) -> Result<int64_t> {
    Error e = SqlError(doing);
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    return tl::unexpected(std::move(e));
  };
  Stmt insert_run, insert_result;
  if (sqlite3_prepare_v2(
          db,
          "INSERT INTO bench_runs(started_ms, host, profile, backend, devices, inventory) "
          "VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
          -1, &insert_run.st, nullptr) != SQLITE_OK ||
      sqlite3_prepare_v2(
          db,
          "INSERT INTO bench_results(run_id, seq, key, device, unit, median, ratio, verdict, json) "
          "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
          -1, &insert_result.st, nullptr) != SQLITE_OK)
    return fail("preparing to store a bench run");
  ojson devices = ojson::array();
  for (const DeviceInfo& d : run.devices) devices.push_back(DeviceJson(d));
  sqlite3_bind_int64(insert_run.st, 1, run.started_ms);
  BindText(insert_run.st, 2, run.host);
  BindText(insert_run.st, 3, run.profile);
  BindText(insert_run.st, 4, run.backend);
  BindText(insert_run.st, 5, Dump(devices));
  BindText(insert_run.st, 6, Dump(InventoryJson(run)));
  if (sqlite3_step(insert_run.st) != SQLITE_DONE) return fail("storing a bench run");
  int64_t id = sqlite3_last_insert_rowid(db);
  for (size_t i = 0; i < run.results.size(); ++i) {
    const Measurement& m = run.results[i];
    sqlite3_stmt* st = insert_result.st;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, static_cast<int64_t>(i));
    BindText(st, 3, m.key);
    history_sql::BindOptional(st, 4, m.device ? std::optional<int64_t>(*m.device) : std::nullopt);
    BindText(st, 5, m.unit);
    bool figure = !m.samples.empty() || m.median != 0;
    BindOptionalDouble(st, 6, figure ? std::optional<double>(m.median) : std::nullopt);
    BindOptionalDouble(st, 7, m.ratio);
    BindText(st, 8, std::string(VerdictName(m.verdict)));
    BindText(st, 9, Dump(MeasurementJson(m)));
    if (sqlite3_step(st) != SQLITE_DONE) return fail("storing a bench figure");
    sqlite3_reset(st);
  }
  if (sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK)
    return fail("committing a bench run");
  return id;
}

Result<std::vector<StoredRunSummary>> BenchHistory::Recent(int limit) const {
  sqlite3* db = history_.connection();
  Stmt runs, counts;
  if (sqlite3_prepare_v2(db,
                         "SELECT id, started_ms, host, profile, backend FROM bench_runs "
                         "ORDER BY id DESC LIMIT ?1",
                         -1, &runs.st, nullptr) != SQLITE_OK ||
      sqlite3_prepare_v2(
          db, "SELECT verdict, count(*) FROM bench_results WHERE run_id = ?1 GROUP BY verdict", -1,
          &counts.st, nullptr) != SQLITE_OK)
    return tl::unexpected(SqlError("reading the bench runs"));
  sqlite3_bind_int(runs.st, 1, limit);
  std::vector<StoredRunSummary> out;
  int rc;
  while ((rc = sqlite3_step(runs.st)) == SQLITE_ROW) {
    StoredRunSummary s;
    s.id = sqlite3_column_int64(runs.st, 0);
    s.started_ms = sqlite3_column_int64(runs.st, 1);
    s.host = ColumnText(runs.st, 2);
    s.profile = ColumnText(runs.st, 3);
    s.backend = ColumnText(runs.st, 4);
    std::map<std::string, int> by_name;
    sqlite3_bind_int64(counts.st, 1, s.id);
    int crc;
    while ((crc = sqlite3_step(counts.st)) == SQLITE_ROW)
      by_name[ColumnText(counts.st, 0)] = sqlite3_column_int(counts.st, 1);
    sqlite3_reset(counts.st);
    if (crc != SQLITE_DONE) return tl::unexpected(SqlError("counting a run's verdicts"));
    for (Verdict v : {Verdict::kGood, Verdict::kFair, Verdict::kLow, Verdict::kPassed,
                      Verdict::kFailed, Verdict::kInfo, Verdict::kWaived, Verdict::kError})
      if (auto it = by_name.find(std::string(VerdictName(v))); it != by_name.end()) {
        s.verdicts.emplace_back(v, it->second);
        s.figures += it->second;
      }
    out.push_back(std::move(s));
  }
  if (rc != SQLITE_DONE) return tl::unexpected(SqlError("reading the bench runs"));
  return out;
}

Result<BenchRun> BenchHistory::Load(int64_t id) const {
  sqlite3* db = history_.connection();
  Stmt run_row, results;
  if (sqlite3_prepare_v2(
          db,
          "SELECT started_ms, host, profile, backend, devices, inventory FROM bench_runs "
          "WHERE id = ?1",
          -1, &run_row.st, nullptr) != SQLITE_OK ||
      sqlite3_prepare_v2(db, "SELECT json FROM bench_results WHERE run_id = ?1 ORDER BY seq", -1,
                         &results.st, nullptr) != SQLITE_OK)
    return tl::unexpected(SqlError("reading a bench run"));
  sqlite3_bind_int64(run_row.st, 1, id);
  int rc = sqlite3_step(run_row.st);
  if (rc == SQLITE_DONE)
    return Fail(
        ErrorKind::kNotFound,
        fmt::format("no bench run {} in {} (`dlrig bench history` lists them)", id, path()));
  if (rc != SQLITE_ROW) return tl::unexpected(SqlError("reading a bench run"));
  BenchRun run;
  run.started_ms = sqlite3_column_int64(run_row.st, 0);
  run.host = ColumnText(run_row.st, 1);
  run.profile = ColumnText(run_row.st, 2);
  run.backend = ColumnText(run_row.st, 3);
  auto damaged = [&](std::string_view what, std::string_view why) {
    return Fail(ErrorKind::kMalformed,
                fmt::format("bench run {} in {}: its {} is damaged: {}", id, path(), what, why));
  };
  std::string devices_text = ColumnText(run_row.st, 4);
  json devices = json::parse(devices_text.empty() ? "[]" : devices_text, nullptr, false);
  if (!devices.is_array()) return damaged("device list", "not a JSON array");
  for (const json& d : devices) {
    auto device = DeviceFromJson(d);
    if (!device) return damaged("device list", device.error().message);
    run.devices.push_back(std::move(*device));
  }
  json inventory = json::parse(ColumnText(run_row.st, 5), nullptr, false);
  if (inventory.is_object()) {
    if (auto it = inventory.find("dlrig_version"); it != inventory.end() && it->is_string())
      run.dlrig_version = it->get<std::string>();
    if (auto it = inventory.find("driver"); it != inventory.end() && it->is_string())
      run.driver = it->get<std::string>();
    if (auto it = inventory.find("libraries"); it != inventory.end() && it->is_object())
      for (const auto& [name, version] : it->items())
        if (version.is_string()) run.libraries.emplace_back(name, version.get<std::string>());
  }
  sqlite3_bind_int64(results.st, 1, id);
  while ((rc = sqlite3_step(results.st)) == SQLITE_ROW) {
    json j = json::parse(ColumnText(results.st, 0), nullptr, false);
    auto m = MeasurementFromJson(j);
    if (!m) return damaged("figure", m.error().message);
    run.results.push_back(std::move(*m));
  }
  if (rc != SQLITE_DONE) return tl::unexpected(SqlError("reading a bench run's figures"));
  return run;
}

}  // namespace dlrig::bench
