// The SQLite history on temporary files: what goes in comes out (unknown stays NULL), old rows
// go, broken and foreign files are refused untouched, a locked file is a clear error, and a
// reader works while the recorder writes.
#include "monitor/history.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include "test_util.h"

namespace dlrig {
namespace {

using testing::TempTree;

constexpr int64_t kT0 = 1'795'341'600'000;  // 2026-11-22T10:00:00Z
constexpr int64_t kHourMs = 3'600'000;

std::string ReadAll(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Asks SQLite directly, beside the code under test.
int64_t Count(const std::filesystem::path& db, const std::string& sql) {
  sqlite3* h = nullptr;
  EXPECT_EQ(sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(h, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(h);
  int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
  sqlite3_finalize(st);
  sqlite3_close(h);
  return n;
}

HistorySample Sample(int64_t t, const std::string& uuid, int64_t temperature) {
  HistorySample s;
  s.time_ms = t;
  s.gpu_uuid = uuid;
  s.temperature_c = temperature;
  return s;
}

GpuFacts Gpu(int index, const std::string& uuid, const std::string& bus) {
  GpuFacts g;
  g.index = index;
  g.uuid = uuid;
  g.name = "NVIDIA H100 80GB HBM3";
  g.pci_bus_id = bus;
  g.temperature_c = 41 + index;
  g.power_mw = 123456;
  g.memory_used_bytes = 1LL << 33;
  g.memory_total_bytes = 85520809984LL;
  g.utilization_gpu_percent = 0;  // a real 0 must stay 0, not turn into NULL
  g.clock_event_reasons = 0x4;
  g.energy_mj = 987654321012LL;
  g.memory_temperature_c = Fail(ErrorKind::kUnsupported, "nvmlDeviceGetFieldValues: 3");
  g.fan_percent = Fail(ErrorKind::kNoPermission, "no permission");
  return g;
}

MonitorSnapshot Snapshot(int64_t t, std::vector<GpuFacts> gpus) {
  MonitorSnapshot s;
  s.taken = std::chrono::system_clock::time_point(std::chrono::milliseconds(t));
  s.nvml.devices = std::move(gpus);
  return s;
}

TEST(History, HandWrittenRowsComeBackAndUnknownStaysNull) {
  TempTree tree;
  auto db = tree.dir() / "h.db";
  auto h = History::Open(db.string());
  ASSERT_TRUE(h) << h.error().message;
  HistorySample a = Sample(kT0, "GPU-a", 40);
  a.power_mw = 0;  // a real zero
  a.energy_mj = 1LL << 40;
  HistorySample b = Sample(kT0, "GPU-b", 55);
  b.temperature_c.reset();  // unknown
  ASSERT_TRUE(h->Write({{"GPU-a", "A", "0000:01:00.0", 0, kT0, kT0}}, {a, b}, {}));

  auto back = h->Samples(kT0 - 1, kT0 + 1);
  ASSERT_TRUE(back);
  ASSERT_EQ(back->size(), 2u);
  for (const HistorySample& s : *back) {
    const HistorySample& want = s.gpu_uuid == "GPU-a" ? a : b;
    for (const SampleColumn& c : SampleColumns()) EXPECT_EQ(s.*c.field, want.*c.field) << c.name;
  }
  EXPECT_EQ(Count(db, "SELECT count(*) FROM samples WHERE temperature_c IS NULL"), 1);
  EXPECT_EQ(Count(db, "SELECT count(*) FROM samples WHERE power_mw = 0"), 1);
  EXPECT_EQ(Count(db, "SELECT count(*) FROM samples WHERE fan_percent IS NULL"), 2);
  // GPU-b was never described: it is known by its UUID alone.
  auto gpus = h->Gpus();
  ASSERT_TRUE(gpus);
  ASSERT_EQ(gpus->size(), 2u);
  EXPECT_EQ(gpus->at(0).name == "A" ? gpus->at(0).pci_bus_id : gpus->at(1).pci_bus_id, "0000:01:00.0");
  auto only_b = h->Samples(kT0 - 1, kT0 + 1, "GPU-b");
  ASSERT_TRUE(only_b);
  ASSERT_EQ(only_b->size(), 1u);
  EXPECT_FALSE(only_b->at(0).temperature_c);
}

TEST(History, SnapshotValuesAndUnsupportedFieldsAreStoredAsGivenOrNull) {
  TempTree tree;
  auto h = History::Open((tree.dir() / "h.db").string());
  ASSERT_TRUE(h);
  GpuFacts gpu0 = Gpu(0, "GPU-0000", "00000000:01:00.0");
  gpu0.temperature_c = Fail(ErrorKind::kUnsupported, "nvmlDeviceGetTemperature: 3");
  RecordSnapshot(*h, Snapshot(kT0, {gpu0, Gpu(1, "GPU-1111", "00000000:02:00.0")}));
  ASSERT_FALSE(h->recorder().last_error) << h->recorder().last_error->message;
  auto samples = h->Samples(kT0, kT0 + 1);
  ASSERT_TRUE(samples);
  ASSERT_EQ(samples->size(), 2u);
  const HistorySample& s0 = samples->at(0).gpu_uuid == "GPU-0000" ? samples->at(0) : samples->at(1);
  const HistorySample& s1 = samples->at(0).gpu_uuid == "GPU-0000" ? samples->at(1) : samples->at(0);
  EXPECT_FALSE(s0.temperature_c);
  EXPECT_EQ(s1.temperature_c, 42);
  EXPECT_EQ(s1.power_mw, 123456);
  EXPECT_EQ(s1.memory_used_bytes, 1LL << 33);
  EXPECT_EQ(s1.memory_total_bytes, 85520809984LL);
  EXPECT_EQ(s1.utilization_gpu_percent, 0);
  EXPECT_EQ(s1.energy_mj, 987654321012LL);
  EXPECT_EQ(s1.clock_event_reasons, 0x4);
  EXPECT_FALSE(s1.memory_temperature_c);  // unsupported
  EXPECT_FALSE(s1.fan_percent);           // no permission
  EXPECT_FALSE(s1.pcie_tx_kbps);          // never asked
  auto gpus = h->Gpus();
  ASSERT_TRUE(gpus);
  ASSERT_EQ(gpus->size(), 2u);
  EXPECT_EQ(gpus->at(1).uuid, "GPU-1111");
  EXPECT_EQ(gpus->at(1).last_index, 1);
  EXPECT_EQ(gpus->at(1).pci_bus_id, "0000:02:00.0");
  EXPECT_EQ(gpus->at(1).name, "NVIDIA H100 80GB HBM3");
}

TEST(History, AGpuRowIsRewrittenWhenItChangesOrAMinuteHasPassed) {
  TempTree tree;
  auto h = History::Open((tree.dir() / "h.db").string());
  ASSERT_TRUE(h);
  auto last_seen = [&] { return h->Gpus()->at(0).last_seen_ms; };
  RecordSnapshot(*h, Snapshot(kT0, {Gpu(0, "GPU-0", "00000000:01:00.0")}));
  RecordSnapshot(*h, Snapshot(kT0 + 30'000, {Gpu(0, "GPU-0", "00000000:01:00.0")}));
  EXPECT_EQ(last_seen(), kT0);
  RecordSnapshot(*h, Snapshot(kT0 + 61'000, {Gpu(0, "GPU-0", "00000000:01:00.0")}));
  EXPECT_EQ(last_seen(), kT0 + 61'000);
  RecordSnapshot(*h, Snapshot(kT0 + 62'000, {Gpu(0, "GPU-0", "00000000:03:00.0")}));  // moved
  EXPECT_EQ(h->Gpus()->at(0).pci_bus_id, "0000:03:00.0");
  EXPECT_EQ(h->Gpus()->at(0).first_seen_ms, kT0);
  EXPECT_EQ(h->Samples(0, kT0 * 2)->size(), 4u);
}

TEST(History, EventsAreRecordedOnceAcrossSnapshots) {
  TempTree tree;
  auto h = History::Open((tree.dir() / "h.db").string());
  ASSERT_TRUE(h);
  XidEvent xid{"0000:02:00.0", 79, "pid=1234, GPU has fallen off the bus.", std::nullopt, "",
               "[  100.5] NVRM: Xid (PCI:0000:02:00): 79, pid=1234, GPU has fallen off the bus."};
  GpuFacts lost;
  lost.index = 1;
  lost.handle_code = 15;
  lost.uuid = Fail(ErrorKind::kIo, "GPU is lost");

  RecordSnapshot(*h, Snapshot(kT0, {Gpu(0, "GPU-0", "00000000:01:00.0"), Gpu(1, "GPU-1", "00000000:02:00.0")}));
  for (int i = 1; i <= 3; ++i) {  // lost for three samples, the same Xid listed each time
    MonitorSnapshot s = Snapshot(kT0 + i * 1000, {Gpu(0, "GPU-0", "00000000:01:00.0"), lost});
    s.xids = {xid};
    s.restarts = 1;
    RecordSnapshot(*h, s);
  }
  MonitorSnapshot unavailable = Snapshot(kT0 + 4000, {});
  unavailable.unavailable = "nvmlInit_v2 returned 18 (RM version mismatch)";
  unavailable.restarts = 1;
  RecordSnapshot(*h, unavailable);
  unavailable.taken += std::chrono::seconds(1);
  RecordSnapshot(*h, unavailable);
  MonitorSnapshot back = Snapshot(kT0 + 6000, {Gpu(0, "GPU-0", "00000000:01:00.0"), Gpu(1, "GPU-1", "00000000:02:00.0")});
  back.xids = {xid};
  back.restarts = 1;
  RecordSnapshot(*h, back);
  ASSERT_FALSE(h->recorder().last_error);

  auto events = h->Events(kT0 - kHourMs, kT0 + kHourMs);
  ASSERT_TRUE(events);
  std::vector<std::string> kinds;
  for (const auto& e : *events) kinds.push_back(e.kind);
  EXPECT_EQ(kinds, (std::vector<std::string>{"sampler_restart", "gpu_lost", "xid", "unavailable",
                                             "available", "gpu_back"}));
  const HistoryEvent& x = events->at(2);
  EXPECT_EQ(x.code, 79);
  EXPECT_EQ(x.gpu_uuid, "GPU-1");  // named by its bus id, although the GPU no longer answers
  EXPECT_EQ(x.text, xid.line);
  EXPECT_EQ(events->at(1).gpu_uuid, "GPU-1");
  EXPECT_EQ(events->at(1).code, 15);
  // A new recorder (another process) lists the same Xid again: still one row.
  auto again = History::Open(h->path());
  ASSERT_TRUE(again);
  RecordSnapshot(*again, back);
  EXPECT_EQ(Count(h->path(), "SELECT count(*) FROM events WHERE kind = 'xid'"), 1);
}

TEST(History, XidTimeComesFromTheKernelStamp) {
  History::RecorderState state;
  MonitorSnapshot s = Snapshot(kT0, {});
  s.xids.push_back({"0000:01:00.0", 13, "Graphics Exception", 100.0, "", "[  100.000000] NVRM: Xid 13"});
  SnapshotRows rows = RowsOfSnapshot(s, state, /*monotonic_now_s=*/160.0);
  ASSERT_EQ(rows.events.size(), 1u);
  EXPECT_EQ(rows.events[0].time_ms, kT0 - 60'000);  // logged a minute before the sample
}

TEST(History, RetentionDeletesExactlyTheOldRowsInBatches) {
  TempTree tree;
  auto db = tree.dir() / "h.db";
  HistoryOptions options;
  options.sample_retention = std::chrono::hours(1);
  options.event_retention = std::chrono::hours(24 * 90);
  options.prune_batch = 3;  // many batches
  auto h = History::Open(db.string(), options);
  ASSERT_TRUE(h);
  std::vector<HistorySample> samples;
  for (int64_t t = kT0 - 2 * kHourMs; t <= kT0; t += 600'000)  // 13 times, every 10 min
    for (const char* uuid : {"GPU-a", "GPU-b"}) samples.push_back(Sample(t, uuid, 50));
  int64_t day = 24 * kHourMs;
  std::vector<HistoryEvent> events = {{kT0 - 91 * day, "xid", "", "", 79, "old", "k1"},
                                      {kT0 - 89 * day, "xid", "", "", 79, "kept", "k2"}};
  ASSERT_TRUE(h->Write({}, samples, events));  // the write prunes: it is the first
  // Kept: kT0 - 1h and later (7 times × 2 GPUs); the boundary row itself stays.
  EXPECT_EQ(Count(db, "SELECT count(*) FROM samples"), 14);
  EXPECT_EQ(Count(db, "SELECT min(time_ms) FROM samples"), kT0 - kHourMs);
  EXPECT_EQ(Count(db, "SELECT count(*) FROM events"), 1);
  EXPECT_EQ(Count(db, "SELECT count(*) FROM events WHERE text = 'kept'"), 1);

  // At most once a minute: an old row written 30 s later survives until a write 61 s later.
  ASSERT_TRUE(h->Write({}, {Sample(kT0 - 3 * kHourMs, "GPU-a", 1), Sample(kT0 + 30'000, "GPU-a", 1)}, {}));
  EXPECT_EQ(Count(db, "SELECT count(*) FROM samples"), 16);
  // Now the cutoff is kT0 + 61 s - 1 h: the old row and the two at kT0 - 1 h go.
  ASSERT_TRUE(h->Write({}, {Sample(kT0 + 61'000, "GPU-a", 1)}, {}));
  EXPECT_EQ(Count(db, "SELECT count(*) FROM samples"), 14);
  EXPECT_EQ(Count(db, "SELECT min(time_ms) FROM samples"), kT0 - kHourMs + 600'000);
}

TEST(History, WalModeAndAPrivateDirectory) {
  TempTree tree;
  auto db = tree.dir() / "data" / "dlrig" / "history.db";
  auto h = History::Open(db.string());
  ASSERT_TRUE(h) << h.error().message;
  EXPECT_EQ(h->JournalMode().value_or(""), "wal");
  struct stat st {};
  for (auto dir : {tree.dir() / "data", tree.dir() / "data" / "dlrig"}) {
    ASSERT_EQ(::stat(dir.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u) << dir;
  }
  ASSERT_TRUE(h->Write({}, {Sample(kT0, "GPU-a", 1)}, {}));
  EXPECT_TRUE(std::filesystem::exists(db.string() + "-wal"));
}

TEST(History, DefaultPathFollowsXdg) {
  EXPECT_EQ(DefaultHistoryPath(Environment({{"XDG_DATA_HOME", "/x/data"}, {"HOME", "/home/u"}})).value_or(""),
            "/x/data/dlrig/history.db");
  // A relative XDG_DATA_HOME is invalid (XDG base directory spec) and ignored.
  EXPECT_EQ(DefaultHistoryPath(Environment({{"XDG_DATA_HOME", "rel"}, {"HOME", "/home/u"}})).value_or(""),
            "/home/u/.local/share/dlrig/history.db");
}

TEST(History, AnEmptyFileIsMigratedToTheCurrentSchema) {
  TempTree tree;
  tree.Write("h.db", "");
  auto db = tree.dir() / "h.db";
  {
    auto h = History::Open(db.string());
    ASSERT_TRUE(h) << h.error().message;
    EXPECT_EQ(h->StoredSchemaVersion().value_or(-1), HistorySchemaVersion());
  }
  auto h = History::Open(db.string());  // opening again migrates nothing
  ASSERT_TRUE(h);
  EXPECT_EQ(Count(db, "SELECT count(*) FROM schema_version"), HistorySchemaVersion());
  EXPECT_EQ(Count(db, "SELECT count(*) FROM sqlite_master WHERE name IN ('gpus','samples','events')"), 3);
}

TEST(History, ANewerSchemaIsRefused) {
  TempTree tree;
  auto db = (tree.dir() / "h.db").string();
  ASSERT_TRUE(History::Open(db));
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw, "INSERT INTO schema_version VALUES(99, 0)", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(raw);
  auto h = History::Open(db);
  ASSERT_FALSE(h);
  EXPECT_NE(h.error().message.find("newer"), std::string::npos) << h.error().message;
}

TEST(History, GarbageIsRefusedByNameAndLeftUntouched) {
  TempTree tree;
  std::string garbage(8192, '\0');
  for (size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<char>((i * 131 + 7) % 251);
  tree.Write("h.db", garbage);
  auto db = tree.dir() / "h.db";
  for (HistoryAccess access : {HistoryAccess::kReadWrite, HistoryAccess::kReadOnly}) {
    HistoryOptions options;
    options.access = access;
    auto h = History::Open(db.string(), options);
    ASSERT_FALSE(h);
    EXPECT_EQ(h.error().kind, ErrorKind::kMalformed);
    EXPECT_NE(h.error().message.find(db.string()), std::string::npos) << h.error().message;
    EXPECT_NE(h.error().message.find("move it aside"), std::string::npos) << h.error().message;
    EXPECT_EQ(ReadAll(db), garbage);
  }
}

TEST(History, AnotherProgramsDatabaseIsLeftAlone) {
  TempTree tree;
  auto db = (tree.dir() / "other.db").string();
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw, "CREATE TABLE photos(x)", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(raw);
  std::string before = ReadAll(db);
  auto h = History::Open(db);
  ASSERT_FALSE(h);
  EXPECT_NE(h.error().message.find("not a dlrig history"), std::string::npos) << h.error().message;
  EXPECT_NE(h.error().message.find("photos"), std::string::npos);
  EXPECT_EQ(ReadAll(db), before);  // not even switched to WAL
}

TEST(History, ALockHeldByAnotherWriterIsAClearErrorAfterTheTimeout) {
  TempTree tree;
  auto db = (tree.dir() / "h.db").string();
  HistoryOptions options;
  options.busy_timeout = std::chrono::milliseconds(100);
  auto h = History::Open(db, options);
  ASSERT_TRUE(h);
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  RecordSnapshot(*h, Snapshot(kT0, {Gpu(0, "GPU-0", "00000000:01:00.0")}));
  ASSERT_TRUE(h->recorder().last_error);
  EXPECT_EQ(h->recorder().last_error->kind, ErrorKind::kTimeout);
  EXPECT_NE(h->recorder().last_error->message.find("locked by another writer"), std::string::npos)
      << h->recorder().last_error->message;
  EXPECT_EQ(h->recorder().failed_writes, 1);
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  // The next sample goes in, and nothing of the failed one was half written.
  RecordSnapshot(*h, Snapshot(kT0 + 1000, {Gpu(0, "GPU-0", "00000000:01:00.0")}));
  EXPECT_FALSE(h->recorder().last_error);
  EXPECT_EQ(h->Samples(0, kT0 * 2)->size(), 1u);
}

// A second recorder on one file waits busy_timeout for the first, then fails with an error
// that names the file and the recorder holding it; a plain writer (bench) is not a recorder
// and still writes its transactions.
TEST(History, ASecondRecorderIsRefusedNamingTheFirst) {
  TempTree tree;
  auto db = (tree.dir() / "h.db").string();
  HistoryOptions recorder;
  recorder.recorder = "dlrig history record";
  recorder.busy_timeout = std::chrono::milliseconds(200);
  auto first = History::Open(db, recorder);
  ASSERT_TRUE(first) << first.error().message;
  HistoryOptions serve = recorder;
  serve.recorder = "dlrig serve";
  auto started = std::chrono::steady_clock::now();
  auto second = History::Open(db, serve);
  ASSERT_FALSE(second);
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(200));
  EXPECT_EQ(second.error().kind, ErrorKind::kTimeout);
  const std::string& why = second.error().message;
  EXPECT_NE(why.find(db + " is locked by another writer"), std::string::npos) << why;
  EXPECT_NE(why.find("pid " + std::to_string(::getpid()) + ": dlrig history record"),
            std::string::npos) << why;
  auto bench = History::Open(db);
  ASSERT_TRUE(bench);
  EXPECT_TRUE(bench->Write({}, {Sample(kT0, "GPU-a", 1)}, {}));
  *first = std::move(*bench);  // the first recorder closes: its lock goes with it
  EXPECT_TRUE(History::Open(db, serve));
}

// Two readings of one GPU at one millisecond are never merged into one row: the stored one
// stays, the new one is left out and said, and the rest of the snapshot is stored.
TEST(History, ASampleAtAStoredTimeIsLeftOutAndSaid) {
  TempTree tree;
  auto db = (tree.dir() / "h.db").string();
  auto h = History::Open(db);
  ASSERT_TRUE(h);
  auto first = h->Write({}, {Sample(kT0, "GPU-a", 40)}, {});
  ASSERT_TRUE(first);
  EXPECT_TRUE(first->empty());
  auto again = h->Write({}, {Sample(kT0, "GPU-a", 90), Sample(kT0, "GPU-b", 50)}, {});
  ASSERT_TRUE(again) << again.error().message;
  ASSERT_EQ(again->size(), 1u);
  EXPECT_NE(again->at(0).find("GPU-a"), std::string::npos) << again->at(0);
  EXPECT_EQ(Count(db, "SELECT temperature_c FROM samples JOIN gpus ON gpus.id = gpu_id "
                      "WHERE uuid = 'GPU-a'"), 40);
  EXPECT_EQ(Count(db, "SELECT count(*) FROM samples"), 2);

  // Through the recorder's hook: the state moves on (the rest is stored), the error is kept.
  RecordSnapshot(*h, Snapshot(kT0 + 1000, {Gpu(0, "GPU-0", "00000000:01:00.0")}));
  RecordSnapshot(*h, Snapshot(kT0 + 1000, {Gpu(0, "GPU-0", "00000000:01:00.0")}));
  ASSERT_TRUE(h->recorder().last_error);
  EXPECT_NE(h->recorder().last_error->message.find(db + " already holds a sample of GPU-0"),
            std::string::npos) << h->recorder().last_error->message;
  EXPECT_EQ(h->recorder().rejected_samples, 1);
  EXPECT_EQ(h->recorder().failed_writes, 0);
}

TEST(History, AReaderReadsWhileTheRecorderWrites) {
  TempTree tree;
  auto db = (tree.dir() / "h.db").string();
  auto writer = History::Open(db);
  ASSERT_TRUE(writer);
  HistoryOptions read_only;
  read_only.access = HistoryAccess::kReadOnly;
  auto reader = History::Open(db, read_only);
  ASSERT_TRUE(reader) << reader.error().message;
  EXPECT_FALSE(reader->Write({}, {Sample(kT0, "GPU-a", 1)}, {}));  // a reader never writes

  constexpr int kSamples = 300;
  std::atomic<bool> done{false};
  std::thread write([&] {
    for (int i = 0; i < kSamples; ++i)
      RecordSnapshot(*writer, Snapshot(kT0 + i * 1000, {Gpu(0, "GPU-0", "00000000:01:00.0"),
                                                        Gpu(1, "GPU-1", "00000000:02:00.0")}));
    done = true;
  });
  size_t last = 0, reads = 0, failures = 0;
  while (!done || reads == 0) {
    auto samples = reader->Samples(0, kT0 * 2);
    if (!samples) {
      ++failures;
      ADD_FAILURE() << samples.error().message;
      break;
    }
    EXPECT_GE(samples->size(), last);
    EXPECT_EQ(samples->size() % 2, 0u);  // never half a snapshot: one transaction per sample
    last = samples->size();
    ++reads;
  }
  write.join();
  EXPECT_FALSE(writer->recorder().last_error);
  EXPECT_EQ(failures, 0u);
  EXPECT_EQ(reader->Samples(0, kT0 * 2)->size(), 2u * kSamples);
}

TEST(History, ReadOnlyNeedsAnExistingFile) {
  TempTree tree;
  HistoryOptions read_only;
  read_only.access = HistoryAccess::kReadOnly;
  auto h = History::Open((tree.dir() / "none.db").string(), read_only);
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().kind, ErrorKind::kNotFound);
  EXPECT_NE(h.error().message.find("history record"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(tree.dir() / "none.db"));
}

TEST(History, ReadOnlyWorksInADirectoryItMayNotWrite) {
  if (::geteuid() == 0) GTEST_SKIP() << "root writes anywhere: the case cannot be made";
  TempTree tree;
  auto db = (tree.dir() / "ro" / "h.db").string();
  {
    auto h = History::Open(db);
    ASSERT_TRUE(h);
    ASSERT_TRUE(h->Write({}, {Sample(kT0, "GPU-a", 1)}, {}));
  }  // closing removes -wal and -shm
  ::chmod((tree.dir() / "ro").c_str(), 0555);
  HistoryOptions read_only;
  read_only.access = HistoryAccess::kReadOnly;
  auto h = History::Open(db, read_only);
  std::string why = h ? "" : h.error().message;
  size_t count = 0;
  if (h) {
    auto samples = h->Samples(0, kT0 * 2);
    if (samples) count = samples->size();
    else why = samples.error().message;
  }
  ::chmod((tree.dir() / "ro").c_str(), 0700);
  EXPECT_EQ(why, "");
  EXPECT_EQ(count, 1u);
}

}  // namespace
}  // namespace dlrig

namespace dlrig {
namespace {

// A FIFO, a directory or a device at the history's path is refused with its kind; SQLite would
// block forever opening the FIFO (tests/hostile: history.db-fifo).
TEST(History, ANonRegularFileIsNoHistory) {
  testing::TempTree tree;
  std::string fifo = (tree.dir() / "fifo.db").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  for (HistoryAccess access : {HistoryAccess::kReadOnly, HistoryAccess::kReadWrite}) {
    HistoryOptions options;
    options.access = access;
    auto h = History::Open(fifo, options);
    ASSERT_FALSE(h);
    EXPECT_NE(h.error().message.find("is a FIFO, not a history file"), std::string::npos)
        << h.error().message;
  }
  auto dir = History::Open(tree.dir().string(), HistoryOptions{});
  ASSERT_FALSE(dir);
  EXPECT_NE(dir.error().message.find("is a directory"), std::string::npos) << dir.error().message;
}

}  // namespace
}  // namespace dlrig
