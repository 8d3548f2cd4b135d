// The history's queries (what `dlrig history` reads).
#include <fmt/format.h>
#include <sqlite3.h>

#include "monitor/history.h"
#include "monitor/history_sql.h"

namespace dlrig {

using namespace history_sql;

Result<std::vector<HistoryGpu>> History::Gpus() const {
  Stmt st;
  std::vector<HistoryGpu> gpus;
  if (sqlite3_prepare_v2(db_,
                         "SELECT uuid, name, pci_bus_id, coalesce(last_index, -1), first_seen_ms, "
                         "last_seen_ms FROM gpus ORDER BY last_index, uuid",
                         -1, &st.st, nullptr) != SQLITE_OK)
    return tl::unexpected(SqlError("listing GPUs"));
  int rc;
  while ((rc = sqlite3_step(st.st)) == SQLITE_ROW)
    gpus.push_back({ColumnText(st.st, 0), ColumnText(st.st, 1), ColumnText(st.st, 2),
                    sqlite3_column_int64(st.st, 3), sqlite3_column_int64(st.st, 4),
                    sqlite3_column_int64(st.st, 5)});
  if (rc != SQLITE_DONE) return tl::unexpected(SqlError("listing GPUs"));
  return gpus;
}

Result<std::vector<HistorySample>> History::Samples(int64_t from_ms, int64_t to_ms,
                                                    const std::string& uuid) const {
  std::string columns;
  for (const auto& c : SampleColumns()) columns += fmt::format(", s.{}", c.name);
  std::string sql = fmt::format(
      "SELECT s.time_ms, g.uuid{} FROM samples s JOIN gpus g ON g.id = s.gpu_id "
      "WHERE s.time_ms >= ?1 AND s.time_ms < ?2 AND (?3 IS NULL OR g.uuid = ?3) "
      "ORDER BY s.time_ms, g.last_index",
      columns);
  Stmt st;
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st.st, nullptr) != SQLITE_OK)
    return tl::unexpected(SqlError("reading samples"));
  sqlite3_bind_int64(st.st, 1, from_ms);
  sqlite3_bind_int64(st.st, 2, to_ms);
  BindText(st.st, 3, uuid);
  std::vector<HistorySample> samples;
  int rc;
  while ((rc = sqlite3_step(st.st)) == SQLITE_ROW) {
    HistorySample& s = samples.emplace_back();
    s.time_ms = sqlite3_column_int64(st.st, 0);
    s.gpu_uuid = ColumnText(st.st, 1);
    int i = 2;
    for (const auto& c : SampleColumns()) s.*c.field = ColumnOptional(st.st, i++);
  }
  if (rc != SQLITE_DONE) return tl::unexpected(SqlError("reading samples"));
  return samples;
}

Result<std::vector<HistoryEvent>> History::Events(int64_t from_ms, int64_t to_ms,
                                                  const std::string& uuid) const {
  // Events of no particular GPU (NVML unavailable, sampler restarts) belong to every GPU.
  Stmt st;
  if (sqlite3_prepare_v2(db_,
                         "SELECT time_ms, kind, gpu_uuid, pci_bus_id, code, text, dedup_key "
                         "FROM events WHERE time_ms >= ?1 AND time_ms < ?2 AND "
                         "(?3 IS NULL OR gpu_uuid IS NULL OR gpu_uuid = ?3) ORDER BY time_ms, id",
                         -1, &st.st, nullptr) != SQLITE_OK)
    return tl::unexpected(SqlError("reading events"));
  sqlite3_bind_int64(st.st, 1, from_ms);
  sqlite3_bind_int64(st.st, 2, to_ms);
  BindText(st.st, 3, uuid);
  std::vector<HistoryEvent> events;
  int rc;
  while ((rc = sqlite3_step(st.st)) == SQLITE_ROW)
    events.push_back({sqlite3_column_int64(st.st, 0), ColumnText(st.st, 1), ColumnText(st.st, 2),
                      ColumnText(st.st, 3), ColumnOptional(st.st, 4), ColumnText(st.st, 5),
                      ColumnText(st.st, 6)});
  if (rc != SQLITE_DONE) return tl::unexpected(SqlError("reading events"));
  return events;
}

}  // namespace dlrig
