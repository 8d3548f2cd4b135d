// `dlrig bench` runs in the monitor's SQLite history file (monitor/history.h): its migration 2
// adds bench_runs (one row per run, with the machine's inventory) and bench_results (one row
// per figure, with its full JSON). The file, its locking and its schema stay the History's;
// this module only reads and writes its own two tables through that connection.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bench/bench_run.h"
#include "core/result.h"
#include "monitor/history.h"

namespace dlrig::bench {

/// One stored run, as `bench history` lists it.
struct StoredRunSummary {
  int64_t id = 0;
  int64_t started_ms = 0;
  std::string host, profile, backend;
  int figures = 0;
  std::vector<std::pair<Verdict, int>> verdicts;  ///< how many figures got each verdict
};

class BenchHistory {
 public:
  /// Read-write creates and migrates the file; read-only needs it to exist at the current schema.
  static Result<BenchHistory> Open(const std::string& path, HistoryAccess access);

  /// The run and its figures in one transaction; returns the run's id.
  Result<int64_t> Store(const BenchRun& run);
  /// The newest `limit` runs, newest first.
  Result<std::vector<StoredRunSummary>> Recent(int limit) const;
  /// A stored run, as it was given to Store(). kNotFound for an id never stored.
  Result<BenchRun> Load(int64_t id) const;

  const std::string& path() const { return history_.path(); }

 private:
  explicit BenchHistory(History history) : history_(std::move(history)) {}
  Error SqlError(const char* doing) const;
  History history_;
};

}  // namespace dlrig::bench
