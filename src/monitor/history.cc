#include "monitor/history.h"

#include "monitor/history_sql.h"
#include "core/file_type.h"

#include <fmt/format.h>
#include <pwd.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace dlrig {

using namespace history_sql;

namespace {

constexpr SampleColumn kSampleColumns[] = {
    {"utilization_gpu_percent", &HistorySample::utilization_gpu_percent},
    {"utilization_memory_percent", &HistorySample::utilization_memory_percent},
    {"memory_used_bytes", &HistorySample::memory_used_bytes},
    {"memory_total_bytes", &HistorySample::memory_total_bytes},
    {"temperature_c", &HistorySample::temperature_c},
    {"memory_temperature_c", &HistorySample::memory_temperature_c},
    {"power_mw", &HistorySample::power_mw},
    {"energy_mj", &HistorySample::energy_mj},
    {"clock_sm_mhz", &HistorySample::clock_sm_mhz},
    {"clock_memory_mhz", &HistorySample::clock_memory_mhz},
    {"pcie_tx_kbps", &HistorySample::pcie_tx_kbps},
    {"pcie_rx_kbps", &HistorySample::pcie_rx_kbps},
    {"clock_event_reasons", &HistorySample::clock_event_reasons},
    {"ecc_corrected_volatile", &HistorySample::ecc_corrected_volatile},
    {"ecc_uncorrected_volatile", &HistorySample::ecc_uncorrected_volatile},
    {"performance_state", &HistorySample::performance_state},
    {"fan_percent", &HistorySample::fan_percent},
};

// Migration N (1-based) takes a file from schema N-1 to N. Applied migrations never change:
// a new column is a new migration. Samples name their GPU by a small integer (gpus.id), not
// the 40-byte UUID, and are keyed by time so pruning deletes from the front of the b-tree.
constexpr const char* kMigrations[] = {
    R"(CREATE TABLE gpus(
         id INTEGER PRIMARY KEY,
         uuid TEXT NOT NULL UNIQUE,
         name TEXT,
         pci_bus_id TEXT,
         last_index INTEGER,
         first_seen_ms INTEGER NOT NULL,
         last_seen_ms INTEGER NOT NULL);
       CREATE TABLE samples(
         time_ms INTEGER NOT NULL,
         gpu_id INTEGER NOT NULL REFERENCES gpus(id),
         utilization_gpu_percent INTEGER,
         utilization_memory_percent INTEGER,
         memory_used_bytes INTEGER,
         memory_total_bytes INTEGER,
         temperature_c INTEGER,
         memory_temperature_c INTEGER,
         power_mw INTEGER,
         energy_mj INTEGER,
         clock_sm_mhz INTEGER,
         clock_memory_mhz INTEGER,
         pcie_tx_kbps INTEGER,
         pcie_rx_kbps INTEGER,
         clock_event_reasons INTEGER,
         ecc_corrected_volatile INTEGER,
         ecc_uncorrected_volatile INTEGER,
         performance_state INTEGER,
         fan_percent INTEGER,
         PRIMARY KEY(time_ms, gpu_id)) WITHOUT ROWID;
       CREATE TABLE events(
         id INTEGER PRIMARY KEY,
         time_ms INTEGER NOT NULL,
         kind TEXT NOT NULL,
         gpu_uuid TEXT,
         pci_bus_id TEXT,
         code INTEGER,
         text TEXT,
         dedup_key TEXT UNIQUE);
       CREATE INDEX events_by_time ON events(time_ms);)",
    // 2: `dlrig bench` runs (bench/bench_history.cc), kept beside the samples so a slow figure
    // can be read against what the GPU did then. Never pruned: runs are few and small.
    R"(CREATE TABLE bench_runs(
         id INTEGER PRIMARY KEY,
         started_ms INTEGER NOT NULL,
         host TEXT,
         profile TEXT,
         backend TEXT,
         devices TEXT,
         inventory TEXT);
       CREATE TABLE bench_results(
         run_id INTEGER NOT NULL REFERENCES bench_runs(id) ON DELETE CASCADE,
         seq INTEGER NOT NULL,
         key TEXT NOT NULL,
         device INTEGER,
         unit TEXT,
         median REAL,
         ratio REAL,
         verdict TEXT NOT NULL,
         json TEXT NOT NULL,
         PRIMARY KEY(run_id, seq)) WITHOUT ROWID;
       CREATE INDEX bench_results_by_key ON bench_results(key, device);)",
};

std::string SampleColumnList(const char* prefix) {
  std::string list;
  for (const auto& c : kSampleColumns) list += fmt::format(", {}{}", prefix, c.name);
  return list;
}

// mkdir -p where every directory made is 0700: the history says what ran on the GPUs.
Result<void> MakePrivateDirs(const std::filesystem::path& dir) {
  if (dir.empty() || std::filesystem::exists(dir)) return {};
  if (auto up = MakePrivateDirs(dir.parent_path()); !up) return up;
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    return Fail(ErrorKindFromErrno(errno),
                fmt::format("cannot create {}: {}", dir.string(), std::strerror(errno)));
  return {};
}

// SQLite's URI form of a path, for ?immutable=1.
std::string FileUri(const std::string& path) {
  std::string uri = "file:";
  for (unsigned char c : std::filesystem::absolute(path).string()) {
    if (c == '%' || c == '?' || c == '#' || c < 0x21 || c > 0x7e) uri += fmt::format("%{:02X}", c);
    else uri += static_cast<char>(c);
  }
  return uri + "?immutable=1";
}

}  // namespace

std::span<const SampleColumn> SampleColumns() { return kSampleColumns; }

int HistorySchemaVersion() { return static_cast<int>(std::size(kMigrations)); }

Result<std::string> DefaultHistoryPath(const Environment& env) {
  // The XDG spec: a relative XDG_DATA_HOME is invalid and ignored.
  if (auto xdg = env.Get("XDG_DATA_HOME"); xdg && xdg->starts_with('/'))
    return *xdg + "/dlrig/history.db";
  std::string home = env.Get("HOME").value_or("");
  if (home.empty())
    if (const passwd* pw = ::getpwuid(::getuid()); pw && pw->pw_dir) home = pw->pw_dir;
  if (home.empty())
    return Fail(ErrorKind::kNotFound, "no home directory ($HOME unset): give the file with --db PATH");
  return home + "/.local/share/dlrig/history.db";
}

struct History::Statements {
  Stmt upsert_gpu, insert_sample, insert_event, begin, commit, rollback, prune_samples, prune_events;
};

History::History(sqlite3* db, std::string path, HistoryOptions options)
    : db_(db), path_(std::move(path)), options_(options), statements_(new Statements) {}

History::History(History&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), path_(std::move(other.path_)),
      options_(other.options_), statements_(std::move(other.statements_)),
      lock_(std::move(other.lock_)), last_prune_ms_(other.last_prune_ms_), recorder_(std::move(other.recorder_)),
      written_gpus_(std::move(other.written_gpus_)) {}

History& History::operator=(History&& other) noexcept {
  if (this != &other) {
    statements_.reset();
    sqlite3_close_v2(db_);
    db_ = std::exchange(other.db_, nullptr);
    path_ = std::move(other.path_);
    options_ = other.options_;
    statements_ = std::move(other.statements_);
    lock_ = std::move(other.lock_);
    last_prune_ms_ = other.last_prune_ms_;
    recorder_ = std::move(other.recorder_);
    written_gpus_ = std::move(other.written_gpus_);
  }
  return *this;
}

History::~History() {
  statements_.reset();  // statements before the connection
  sqlite3_close_v2(db_);
}

// The operating system's reason behind an I/O error, said plainly: SQLite's "disk I/O error"
// alone does not tell a full disk from a read-only one. Empty when there is none.
std::optional<Error> OsCause(const std::string& path, int err, const char* doing) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  switch (err) {
    case ENOSPC:
    case EDQUOT:
      return Error{ErrorKind::kIo,
                   fmt::format("{}: no space left on the file system that holds it ({}) while {}: "
                               "free some space there (df -h {}) or give another file with --db",
                               path, std::strerror(err), doing, dir)};
    case EROFS:
      return Error{ErrorKind::kNoPermission,
                   fmt::format("{}: the file system that holds it is read-only ({}) while {}: "
                               "give a file on a writable one with --db",
                               path, std::strerror(err), doing)};
    case EACCES:
    case EPERM:
      return Error{ErrorKind::kNoPermission,
                   fmt::format("{}: {} while {}: the file or its directory {} is not writable "
                               "for this user; give another file with --db",
                               path, std::strerror(err), doing, dir)};
    default:
      return std::nullopt;
  }
}

Error History::SqlError(const char* doing) const {
  int code = sqlite3_extended_errcode(db_);
  int primary = code & 0xff;
  std::string why = sqlite3_errmsg(db_);
  // SQLite keeps the errno of its last failed system call; it belongs to this error only when
  // the error is about the file itself.
  bool file_error = primary == SQLITE_IOERR || primary == SQLITE_FULL ||
                    primary == SQLITE_CANTOPEN || primary == SQLITE_READONLY ||
                    primary == SQLITE_PERM;
  int err = file_error ? sqlite3_system_errno(db_) : 0;
  if (primary == SQLITE_FULL && err == 0) err = ENOSPC;
  if (auto cause = OsCause(path_, err, doing)) return *cause;
  switch (primary) {
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      return {ErrorKind::kMalformed,
              fmt::format("{} is not a readable history database ({} while {}); dlrig leaves it "
                          "as it is: move it aside (mv {} {}.broken) and a new one is started",
                          path_, why, doing, path_, path_)};
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return {ErrorKind::kTimeout,
              fmt::format("{} is locked by another writer (waited {} ms while {}): is another "
                          "`dlrig history record`, `dlrig serve` or `dlrig bench` writing into it?",
                          path_, options_.busy_timeout.count(), doing)};
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_AUTH:
      return {ErrorKind::kNoPermission, fmt::format("{}: {} while {}", path_, why, doing)};
    case SQLITE_CANTOPEN:
      return {ErrorKindFromErrno(err),
              fmt::format("cannot open {}: {}{}", path_, why,
                          err != 0 ? fmt::format(" ({})", std::strerror(err)) : "")};
    default:
      return {ErrorKind::kIo, fmt::format("{}: {}{} while {}", path_, why,
                                          err != 0 ? fmt::format(" ({})", std::strerror(err)) : "",
                                          doing)};
  }
}

Result<void> History::Exec(const char* sql) const {
  if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK)
    return tl::unexpected(SqlError(sql));
  return {};
}

Result<int> History::StoredSchemaVersion() const {
  Stmt tables;
  if (sqlite3_prepare_v2(db_, "SELECT name FROM sqlite_master WHERE type = 'table'", -1,
                         &tables.st, nullptr) != SQLITE_OK)
    return tl::unexpected(SqlError("reading the schema"));
  bool versioned = false;
  std::vector<std::string> others;
  int rc;
  while ((rc = sqlite3_step(tables.st)) == SQLITE_ROW) {
    std::string name = ColumnText(tables.st, 0);
    if (name == "schema_version") versioned = true;
    else others.push_back(name);
  }
  if (rc != SQLITE_DONE) return tl::unexpected(SqlError("reading the schema"));
  if (!versioned) {
    if (others.empty()) return 0;  // a new, empty file
    return Fail(ErrorKind::kMalformed,
                fmt::format("{} is a SQLite database but not a dlrig history (it has tables {}); "
                            "dlrig leaves it as it is: give another file with --db",
                            path_, fmt::join(others, ", ")));
  }
  Stmt version;
  if (sqlite3_prepare_v2(db_, "SELECT coalesce(max(version), 0) FROM schema_version", -1,
                         &version.st, nullptr) != SQLITE_OK ||
      sqlite3_step(version.st) != SQLITE_ROW)
    return tl::unexpected(SqlError("reading the schema version"));
  return sqlite3_column_int(version.st, 0);
}

Result<void> History::Migrate() {
  auto stored = StoredSchemaVersion();  // read first: a foreign or broken file stays untouched
  if (!stored) return tl::unexpected(stored.error());
  if (*stored > HistorySchemaVersion())
    return Fail(ErrorKind::kMalformed,
                fmt::format("{} has schema {}, newer than this dlrig's {}: use a newer dlrig or "
                            "another --db", path_, *stored, HistorySchemaVersion()));
  if (auto ok = Exec("PRAGMA journal_mode = WAL"); !ok) return ok;
  if (auto ok = Exec("PRAGMA synchronous = NORMAL"); !ok) return ok;
  if (*stored == HistorySchemaVersion()) return {};
  if (auto ok = Exec("BEGIN IMMEDIATE"); !ok) return ok;
  auto fail = [&](Error e) -> Result<void> {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    return tl::unexpected(std::move(e));
  };
  if (auto ok = Exec("CREATE TABLE IF NOT EXISTS schema_version("
                     "version INTEGER PRIMARY KEY, applied_ms INTEGER NOT NULL)");
      !ok)
    return fail(ok.error());
  auto now = StoredSchemaVersion();  // another process may have migrated meanwhile
  if (!now) return fail(now.error());
  for (int v = *now + 1; v <= HistorySchemaVersion(); ++v) {
    if (auto ok = Exec(kMigrations[v - 1]); !ok) return fail(ok.error());
    std::string record = fmt::format("INSERT INTO schema_version VALUES({}, {})", v, NowMs());
    if (auto ok = Exec(record.c_str()); !ok) return fail(ok.error());
  }
  if (auto ok = Exec("COMMIT"); !ok) return fail(ok.error());
  return {};
}

Result<History> History::Open(const std::string& path, HistoryOptions options) {
  bool read_only = options.access == HistoryAccess::kReadOnly;
  if (read_only && !std::filesystem::exists(path))
    return Fail(ErrorKind::kNotFound,
                fmt::format("no history at {} yet: `dlrig history record` (or `dlrig serve`) "
                            "records one", path));
  // SQLite would block on a FIFO and fail oddly on a device or a directory: only a regular
  // file (or nothing yet) is a history.
  if (struct stat st; ::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
    return Fail(ErrorKind::kMalformed,
                fmt::format("{} is {}, not a history file", path, FileTypeName(st.st_mode)));
  RecorderLock lock;
  if (!read_only) {
    if (auto ok = MakePrivateDirs(std::filesystem::path(path).parent_path()); !ok)
      return Fail(ok.error().kind, path + ": " + ok.error().message);
    if (!options.recorder.empty()) {
      auto taken = RecorderLock::Acquire(path, options.recorder, options.busy_timeout);
      if (!taken) return tl::unexpected(taken.error());
      lock = std::move(*taken);
    }
  }
  int flags = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  for (bool immutable : {false, true}) {
    sqlite3* db = nullptr;
    int rc = immutable ? sqlite3_open_v2(FileUri(path).c_str(), &db, flags | SQLITE_OPEN_URI, nullptr)
                       : sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
    History history(db, path, options);
    if (db == nullptr) return Fail(ErrorKind::kIo, "out of memory opening " + path);
    if (rc != SQLITE_OK) return tl::unexpected(history.SqlError("opening it"));
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, static_cast<int>(options.busy_timeout.count()));
    if (!read_only) {
      history.lock_ = std::move(lock);
      if (auto ok = history.Migrate(); !ok) return tl::unexpected(ok.error());
      return history;
    }
    auto version = history.StoredSchemaVersion();
    // A WAL file in a directory we may not write, with no -shm beside it, opens only as
    // immutable (safe: nobody can be writing where we may not create a file).
    int primary = sqlite3_errcode(db) & 0xff;  // SQLITE_READONLY_CANTINIT, or CANTOPEN
    if (!version && !immutable && (primary == SQLITE_READONLY || primary == SQLITE_CANTOPEN)) continue;
    if (!version) return tl::unexpected(version.error());
    if (*version != HistorySchemaVersion())
      return Fail(ErrorKind::kMalformed,
                  fmt::format("{} has schema {}, this dlrig reads {}: open it once with "
                              "`dlrig history record --duration 1s` to migrate it",
                              path, *version, HistorySchemaVersion()));
    return history;
  }
  return Fail(ErrorKind::kIo, "cannot open " + path);
}

Result<std::string> History::JournalMode() const {
  Stmt st;
  if (sqlite3_prepare_v2(db_, "PRAGMA journal_mode", -1, &st.st, nullptr) != SQLITE_OK ||
      sqlite3_step(st.st) != SQLITE_ROW)
    return tl::unexpected(SqlError("reading the journal mode"));
  return ColumnText(st.st, 0);
}

Result<void> History::Prepare() {
  Statements& s = *statements_;
  if (s.begin.st != nullptr) return {};
  std::string columns = SampleColumnList("");
  std::string values;
  for (size_t i = 0; i < std::size(kSampleColumns); ++i) values += fmt::format(", ?{}", i + 3);
  const std::pair<Stmt*, std::string> all[] = {
      {&s.begin, "BEGIN IMMEDIATE"},
      {&s.commit, "COMMIT"},
      {&s.rollback, "ROLLBACK"},
      {&s.upsert_gpu,
       "INSERT INTO gpus(uuid, name, pci_bus_id, last_index, first_seen_ms, last_seen_ms) "
       "VALUES(?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT(uuid) DO UPDATE SET "
       "name = coalesce(excluded.name, name), pci_bus_id = coalesce(excluded.pci_bus_id, pci_bus_id), "
       "last_index = coalesce(excluded.last_index, last_index), "
       "first_seen_ms = min(first_seen_ms, excluded.first_seen_ms), "
       "last_seen_ms = max(last_seen_ms, excluded.last_seen_ms) RETURNING id"},
      // Never OR REPLACE: a second reading of a GPU at a stored time is left out and said.
      {&s.insert_sample, fmt::format("INSERT INTO samples(time_ms, gpu_id{}) VALUES(?1, ?2{}) "
                                     "ON CONFLICT(time_ms, gpu_id) DO NOTHING", columns, values)},
      {&s.insert_event,
       "INSERT OR IGNORE INTO events(time_ms, kind, gpu_uuid, pci_bus_id, code, text, dedup_key) "
       "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)"},
      {&s.prune_samples,
       "DELETE FROM samples WHERE (time_ms, gpu_id) IN (SELECT time_ms, gpu_id FROM samples "
       "WHERE time_ms < ?1 ORDER BY time_ms LIMIT ?2)"},
      {&s.prune_events,
       "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE time_ms < ?1 "
       "ORDER BY time_ms LIMIT ?2)"},
  };
  for (const auto& [stmt, sql] : all)
    if (sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &stmt->st, nullptr) !=
        SQLITE_OK)
      return tl::unexpected(SqlError("preparing the history's statements"));
  return {};
}

Result<int64_t> History::UpsertGpu(const std::string& uuid, const std::string& name,
                                   const std::string& pci_bus_id, std::optional<int64_t> index,
                                   int64_t seen_ms) {
  sqlite3_stmt* st = statements_->upsert_gpu.st;
  BindText(st, 1, uuid);
  BindText(st, 2, name);
  BindText(st, 3, pci_bus_id);
  BindOptional(st, 4, index);
  sqlite3_bind_int64(st, 5, seen_ms);
  int rc = sqlite3_step(st);
  int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
  while (rc == SQLITE_ROW) rc = sqlite3_step(st);
  sqlite3_reset(st);
  if (rc != SQLITE_DONE || id < 0) return tl::unexpected(SqlError("recording a GPU"));
  return id;
}

Result<std::vector<std::string>> History::Write(const std::vector<HistoryGpu>& gpus,
                                                const std::vector<HistorySample>& samples,
                                                const std::vector<HistoryEvent>& events) {
  if (options_.access == HistoryAccess::kReadOnly)
    return Fail(ErrorKind::kNoPermission, path_ + " was opened read-only");
  if (auto ok = Prepare(); !ok) return tl::unexpected(ok.error());
  Statements& s = *statements_;
  auto step = [](sqlite3_stmt* st) {
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE;
  };
  if (!step(s.begin.st)) return tl::unexpected(SqlError("starting a write"));
  auto fail = [&](Error e) -> Result<std::vector<std::string>> {
    step(s.rollback.st);
    written_gpus_.clear();  // may name rows the rollback removed
    return tl::unexpected(std::move(e));
  };
  std::map<std::string, int64_t> ids;
  for (const HistoryGpu& g : gpus) {
    auto known = written_gpus_.find(g.uuid);
    if (known != written_gpus_.end() && known->second.name == g.name &&
        known->second.pci_bus_id == g.pci_bus_id && known->second.index == g.last_index &&
        g.last_seen_ms - known->second.seen_ms < 60'000 && g.last_seen_ms >= known->second.seen_ms) {
      ids[g.uuid] = known->second.id;
      continue;
    }
    auto id = UpsertGpu(g.uuid, g.name, g.pci_bus_id, g.last_index, g.last_seen_ms);
    if (!id) return fail(id.error());
    ids[g.uuid] = *id;
    written_gpus_[g.uuid] = {*id, g.name, g.pci_bus_id, g.last_index, g.last_seen_ms};
  }
  int64_t newest_ms = 0;
  std::vector<std::string> left_out;
  for (const HistorySample& sample : samples) {
    if (!ids.count(sample.gpu_uuid)) {  // a GPU the caller did not describe: its UUID only
      auto id = UpsertGpu(sample.gpu_uuid, "", "", std::nullopt, sample.time_ms);
      if (!id) return fail(id.error());
      ids[sample.gpu_uuid] = *id;
    }
    sqlite3_stmt* st = s.insert_sample.st;
    sqlite3_bind_int64(st, 1, sample.time_ms);
    sqlite3_bind_int64(st, 2, ids[sample.gpu_uuid]);
    for (size_t i = 0; i < std::size(kSampleColumns); ++i)
      BindOptional(st, static_cast<int>(i + 3), sample.*kSampleColumns[i].field);
    if (!step(st)) return fail(SqlError("recording a sample"));
    if (sqlite3_changes(db_) == 0)
      left_out.push_back(fmt::format("{} at {} ms", sample.gpu_uuid, sample.time_ms));
    newest_ms = std::max(newest_ms, sample.time_ms);
  }
  for (const HistoryEvent& e : events) {
    sqlite3_stmt* st = s.insert_event.st;
    sqlite3_bind_int64(st, 1, e.time_ms);
    BindText(st, 2, e.kind);
    BindText(st, 3, e.gpu_uuid);
    BindText(st, 4, e.pci_bus_id);
    BindOptional(st, 5, e.code);
    BindText(st, 6, e.text);
    BindText(st, 7, e.key);
    if (!step(st)) return fail(SqlError("recording an event"));
  }
  if (!step(s.commit.st)) return fail(SqlError("committing a sample"));
  // The samples' own time is the clock: a sample is "now" when it is written.
  if (newest_ms > 0 && newest_ms - last_prune_ms_ >= options_.prune_every.count()) {
    last_prune_ms_ = newest_ms;
    if (auto pruned = Prune(newest_ms); !pruned) return tl::unexpected(pruned.error());
  }
  return left_out;
}

Result<int64_t> History::Prune(int64_t now_ms) {
  if (auto ok = Prepare(); !ok) return tl::unexpected(ok.error());
  int64_t deleted = 0;
  const std::pair<sqlite3_stmt*, int64_t> work[] = {
      {statements_->prune_samples.st, now_ms - options_.sample_retention.count()},
      {statements_->prune_events.st, now_ms - options_.event_retention.count()}};
  for (auto [st, cutoff_ms] : work) {
    // One short transaction per batch, so a reader or the next sample never waits long.
    for (;;) {
      sqlite3_bind_int64(st, 1, cutoff_ms);
      sqlite3_bind_int(st, 2, options_.prune_batch);
      int rc = sqlite3_step(st);
      sqlite3_reset(st);
      if (rc != SQLITE_DONE) return tl::unexpected(SqlError("deleting old rows"));
      int changed = sqlite3_changes(db_);
      deleted += changed;
      if (changed < options_.prune_batch) break;
    }
  }
  return deleted;
}

}  // namespace dlrig
