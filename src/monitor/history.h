// The monitor's memory: GPU samples and events kept in a SQLite file (WAL mode, so readers
// never wait for the recorder), pruned by age. One writer at a time (the recorder, serve or
// top); any number of readers (`dlrig history`). Values NVML did not give are NULL, never 0.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/environment.h"
#include "core/result.h"
#include "monitor/history_lock.h"
#include "monitor/sampler.h"

struct sqlite3;

namespace dlrig {

/// One GPU at one time. Every metric is nullopt when NVML did not give it.
struct HistorySample {
  int64_t time_ms = 0;  ///< Unix time, milliseconds
  std::string gpu_uuid;
  std::optional<int64_t> utilization_gpu_percent, utilization_memory_percent;
  std::optional<int64_t> memory_used_bytes, memory_total_bytes;
  std::optional<int64_t> temperature_c, memory_temperature_c;
  std::optional<int64_t> power_mw;
  std::optional<int64_t> energy_mj;  ///< a counter since the driver loaded
  std::optional<int64_t> clock_sm_mhz, clock_memory_mhz;
  std::optional<int64_t> pcie_tx_kbps, pcie_rx_kbps;
  std::optional<int64_t> clock_event_reasons;  ///< nvmlClocksEventReasons mask
  std::optional<int64_t> ecc_corrected_volatile, ecc_uncorrected_volatile;
  std::optional<int64_t> performance_state;  ///< 0 for P0
  std::optional<int64_t> fan_percent;
};

/// A metric column of the samples table and the HistorySample member it holds.
struct SampleColumn {
  const char* name;  ///< the column's name, also HistorySample's member name and the JSON key
  std::optional<int64_t> HistorySample::*field;
};
/// Every metric column, in table order.
std::span<const SampleColumn> SampleColumns();

/// Something that happened, once: an Xid in the kernel log, a GPU lost or back, NVML
/// unavailable or back, the sampler's NVML child restarted.
struct HistoryEvent {
  int64_t time_ms = 0;
  std::string kind;        ///< "xid", "gpu_lost", "gpu_back", "unavailable", "available", "sampler_restart"
  std::string gpu_uuid;    ///< "" when not known
  std::string pci_bus_id;  ///< "" when not known
  std::optional<int64_t> code;  ///< the Xid; NVML's return code for gpu_lost; restarts so far
  std::string text;        ///< the kernel line, NVML's message, why NVML is unavailable
  /// An event whose key is already stored is not stored again ("": always stored). An Xid's
  /// key is its kernel line, so the sampler listing this boot's Xids again adds nothing.
  std::string key;
};

/// A GPU the history has seen.
struct HistoryGpu {
  std::string uuid;
  std::string name;
  std::string pci_bus_id;
  int64_t last_index = 0;  ///< its NVML index when last seen
  int64_t first_seen_ms = 0;
  int64_t last_seen_ms = 0;  ///< written at most once a minute while nothing else changes
};

enum class HistoryAccess { kReadWrite, kReadOnly };

struct HistoryOptions {
  HistoryAccess access = HistoryAccess::kReadWrite;
  std::chrono::milliseconds sample_retention = std::chrono::hours(24 * 7);
  std::chrono::milliseconds event_retention = std::chrono::hours(24 * 90);
  /// How long a write waits for another writer's lock before it fails; a recorder waits as
  /// long for the recorder lock.
  std::chrono::milliseconds busy_timeout{5000};
  /// Non-empty for a process that records samples ("dlrig history record", "dlrig serve"):
  /// it holds the file's recorder lock (history_lock.h) while open, so a second recorder fails
  /// with an error naming this one. Others (bench, tests) write single transactions only.
  std::string recorder;
  /// Old rows are deleted at most this often, at most `prune_batch` rows per transaction.
  std::chrono::milliseconds prune_every{60000};
  int prune_batch = 5000;
};

/// $XDG_DATA_HOME/dlrig/history.db, or ~/.local/share/dlrig/history.db ($HOME, else the
/// password database).
Result<std::string> DefaultHistoryPath(const Environment& env);

/// The schema version this dlrig writes (the number of migrations it knows).
int HistorySchemaVersion();

class History {
 public:
  /// Read-write: creates the file (its directory 0700) and migrates it to the current schema.
  /// Read-only: the file must exist. A file that is not a history database, a newer schema or
  /// a lock held past busy_timeout is an error that names the path; the file is never changed.
  static Result<History> Open(const std::string& path, HistoryOptions options = {});
  History(History&&) noexcept;
  History& operator=(History&&) noexcept;
  ~History();

  const std::string& path() const { return path_; }
  /// The open connection, for the tables other modules keep in this file (bench_runs,
  /// bench_results: bench/bench_history.cc). The schema is still this class's.
  sqlite3* connection() const { return db_; }

  /// Writes one sample of several GPUs, the GPUs seen and new events in one transaction;
  /// events with a key already stored (Xid lines) are dropped. Prunes when it is time.
  /// A sample of a GPU at a time the file already holds is not stored (the stored one stays:
  /// two readings are never merged into one row) and the rest goes in; the result lists those
  /// left out ("GPU-… at 2026-…Z"), empty when everything was stored.
  Result<std::vector<std::string>> Write(const std::vector<HistoryGpu>& gpus, const std::vector<HistorySample>& samples,
                     const std::vector<HistoryEvent>& events);
  /// Deletes samples older than `now - sample_retention` and events older than
  /// `now - event_retention`, in batches; returns the rows deleted.
  Result<int64_t> Prune(int64_t now_ms);

  Result<std::vector<HistoryGpu>> Gpus() const;
  /// Samples with from_ms <= time < to_ms, oldest first; of one GPU when `uuid` is not "".
  Result<std::vector<HistorySample>> Samples(int64_t from_ms, int64_t to_ms,
                                             const std::string& uuid = "") const;
  Result<std::vector<HistoryEvent>> Events(int64_t from_ms, int64_t to_ms,
                                           const std::string& uuid = "") const;
  /// "wal" once opened read-write.
  Result<std::string> JournalMode() const;
  Result<int> StoredSchemaVersion() const;

  /// What RecordSnapshot needs to remember between snapshots to record changes only once.
  struct RecorderState {
    bool seen_any = false;
    std::string unavailable;               ///< the last snapshot's reason, "" when NVML answered
    /// GPUs lost now (by UUID, or "index N" when it was never read) → what was said.
    std::map<std::string, std::string> lost;
    std::map<int, std::string> uuid_by_index;  ///< the UUID each NVML index last had
    std::map<std::string, std::string> uuid_by_pci;  ///< "0000:01:00.0" → the UUID it last had
    int restarts = 0;
    std::optional<Error> last_error;       ///< the last write that failed or left samples out
    int64_t failed_writes = 0;
    int64_t rejected_samples = 0;  ///< samples left out: the file held one of that GPU and time
  };
  RecorderState& recorder() { return recorder_; }

 private:
  struct Statements;
  History(sqlite3* db, std::string path, HistoryOptions options);
  Result<void> Migrate();
  Result<void> Prepare();
  Result<int64_t> UpsertGpu(const std::string& uuid, const std::string& name,
                            const std::string& pci_bus_id, std::optional<int64_t> index,
                            int64_t seen_ms);
  Result<void> Exec(const char* sql) const;
  Error SqlError(const char* doing) const;

  sqlite3* db_ = nullptr;
  std::string path_;
  HistoryOptions options_;
  std::unique_ptr<Statements> statements_;
  RecorderLock lock_;  ///< held while open when options_.recorder is set
  int64_t last_prune_ms_ = 0;
  RecorderState recorder_;
  /// GPUs as last written, so a snapshot rewrites a GPU's row only when it changed or
  /// last_seen_ms is a minute old (one page less per transaction).
  struct WrittenGpu {
    int64_t id;
    std::string name, pci_bus_id;
    int64_t index, seen_ms;
  };
  std::map<std::string, WrittenGpu> written_gpus_;
};

/// The rows one snapshot becomes (pure; RecordSnapshot's first half). `state` carries what
/// was seen before, so a lost GPU or a restart is one event, not one per sample.
/// `monotonic_now_s` (CLOCK_MONOTONIC, the kernel log's clock) dates Xid lines: their
/// `since_boot_s` becomes a wall time.
struct SnapshotRows {
  std::vector<HistoryGpu> gpus;
  std::vector<HistorySample> samples;
  std::vector<HistoryEvent> events;
};
SnapshotRows RowsOfSnapshot(const MonitorSnapshot& snapshot, History::RecorderState& state,
                            double monotonic_now_s);

/// The hook serve, top and `history record` call after each sample. A failed write is kept in
/// history.recorder().last_error (and counted), never thrown: monitoring goes on.
void RecordSnapshot(History& history, const MonitorSnapshot& snapshot);

}  // namespace dlrig
