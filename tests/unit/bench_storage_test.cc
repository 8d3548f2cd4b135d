// The storage benchmark: option parsing, spec validation, the latency histogram, the PCIe link
// formula, the sysfs walk on fixture trees (tests/fixtures/storage/) and on this machine, and the
// engine's error paths and clean-up on a real directory.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <set>

#include "bench/storage.h"
#include "bench/storage_device.h"
#include "bench/storage_files.h"
#include "core/root.h"
#include "knowledge/tensor_rates.h"

namespace dlrig::bench {
namespace {

namespace fs = std::filesystem;

TEST(StorageParse, ByteSizesUseBinaryUnitsLikeFio) {
  EXPECT_EQ(*ParseByteSize("4k"), 4096u);
  EXPECT_EQ(*ParseByteSize("1M"), 1048576u);
  EXPECT_EQ(*ParseByteSize("1G"), 1073741824u);
  EXPECT_EQ(*ParseByteSize("512"), 512u);
  EXPECT_EQ(*ParseByteSize("1MiB"), 1048576u);
  EXPECT_EQ(*ParseByteSize("64KB"), 65536u);
  EXPECT_EQ(*ParseByteSize(" 2g "), 2147483648u);
  EXPECT_EQ(*ParseByteSize("1t"), 1ull << 40);
  for (const char* bad :
       {"", "M", "-1", "1.5G", "1X", "1 M", "99999999999999999999", "16777216T", "k4"}) {
    auto r = ParseByteSize(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().kind, ErrorKind::kMalformed);
  }
}

TEST(StorageParse, PatternsByKeyOrFioName) {
  EXPECT_EQ(*ParseStoragePattern("seq-read"), StoragePattern::kSeqRead);
  EXPECT_EQ(*ParseStoragePattern("randwrite"), StoragePattern::kRandWrite);
  EXPECT_EQ(*ParseStoragePattern("Rand-Read"), StoragePattern::kRandRead);
  EXPECT_FALSE(ParseStoragePattern("sequential"));
  for (auto p : {StoragePattern::kSeqRead, StoragePattern::kSeqWrite, StoragePattern::kRandRead,
                 StoragePattern::kRandWrite}) {
    EXPECT_EQ(*ParseStoragePattern(StoragePatternKey(p)), p);
    EXPECT_EQ(*ParseStoragePattern(FioRwName(p)), p);
  }
  EXPECT_EQ(FioRwName(StoragePattern::kSeqWrite), "write");
  EXPECT_TRUE(IsRead(StoragePattern::kRandRead));
  EXPECT_FALSE(IsRead(StoragePattern::kSeqWrite));
}

StorageSpec ValidSpec() {
  StorageSpec s;
  s.dir = "/somewhere";
  return s;
}

TEST(StorageSpecTest, DefaultsAreValidAndEachBadFieldIsNamed) {
  EXPECT_TRUE(ValidateStorageSpec(ValidSpec()));
  struct Case {
    void (*mutate)(StorageSpec&);
    const char* word;
  } cases[] = {
      {[](StorageSpec& s) { s.dir.clear(); }, "directory"},
      {[](StorageSpec& s) { s.block_bytes = 0; }, "block"},
      {[](StorageSpec& s) { s.block_bytes = 1000; }, "4096"},
      {[](StorageSpec& s) { s.threads = 0; }, "threads"},
      {[](StorageSpec& s) { s.queue_depth = 0; }, "queue depth"},
      {[](StorageSpec& s) { s.seconds = 0; }, "seconds"},
      {[](StorageSpec& s) { s.seconds = NAN; }, "seconds"},
      {[](StorageSpec& s) { s.file_bytes = (1u << 20) + 4096; }, "whole number of blocks"},
      {[](StorageSpec& s) { s.file_bytes = 4096; }, "whole number of blocks"},
      {[](StorageSpec& s) { s.threads = 128, s.queue_depth = 256; }, "buffers"},
      {[](StorageSpec& s) { s.allocator.allocate = [](size_t) -> void* { return nullptr; }; },
       "allocate and release"},
  };
  for (const auto& c : cases) {
    StorageSpec s = ValidSpec();
    c.mutate(s);
    auto r = ValidateStorageSpec(s);
    ASSERT_FALSE(r) << c.word;
    EXPECT_NE(r.error().message.find(c.word), std::string::npos) << r.error().message;
  }
  StorageSpec buffered = ValidSpec();
  buffered.direct = false;
  buffered.block_bytes = 1000;
  buffered.file_bytes = 1000 * 1000;
  EXPECT_TRUE(ValidateStorageSpec(buffered)) << "O_DIRECT alone needs 4096-byte multiples";
}

TEST(StorageLatency, PercentilesWithinOnePointSixPercent) {
  LatencyHistogram h;
  EXPECT_EQ(h.PercentileNs(0.5), 0);
  for (uint64_t v = 1; v <= 100000; ++v) h.Add(v * 1000);  // 1 us .. 100 ms, uniform
  EXPECT_EQ(h.count(), 100000u);
  EXPECT_NEAR(h.PercentileNs(0.50), 50000e3, 50000e3 * 0.016);
  EXPECT_NEAR(h.PercentileNs(0.99), 99000e3, 99000e3 * 0.016);
  EXPECT_NEAR(h.PercentileNs(1.0), 100000e3, 100000e3 * 0.016);
  LatencyHistogram small;
  for (uint64_t v : {3, 5, 7, 9}) small.Add(v);
  EXPECT_EQ(small.PercentileNs(0.5), 5) << "values below 64 ns are exact";
  EXPECT_EQ(small.PercentileNs(0.99), 9);
  LatencyHistogram big;
  big.Add(UINT64_MAX);
  EXPECT_GT(big.PercentileNs(0.5), 1e19);
  small.Merge(h);
  EXPECT_EQ(small.count(), 100004u);
}

TEST(StorageDeviceLink, FormulaForEachGenerationMatchesPublishedFigures) {
  const auto& table = TensorRates::BuiltIn();
  ASSERT_TRUE(table) << table.error().message;
  auto link = [&](double gts, int lanes) { return PcieLinkBandwidth(*table, gts, lanes); };
  // Per-lane figures: PCIe 1.1 250 MB/s, 2.0 twice that (8b/10b); research §6.4 table for 3-5.
  EXPECT_NEAR(link(2.5, 1)->gb_per_s, 0.25, 1e-9);
  EXPECT_NEAR(link(5.0, 1)->gb_per_s, 0.5, 1e-9);
  EXPECT_NEAR(link(8.0, 16)->gb_per_s, 15.75, 0.01);
  EXPECT_NEAR(link(8.0, 4)->gb_per_s, 3.94, 0.01);
  EXPECT_NEAR(link(16.0, 4)->gb_per_s, 7.88, 0.01);
  EXPECT_NEAR(link(16.0, 16)->gb_per_s, 31.5, 0.01);
  EXPECT_NEAR(link(32.0, 16)->gb_per_s, 63.0, 0.02);
  EXPECT_NEAR(link(32.0, 4)->gb_per_s, 15.75, 0.01);
  for (double gts : {2.5, 5.0, 8.0, 16.0, 32.0}) EXPECT_TRUE(link(gts, 1)->confirmed) << gts;
  EXPECT_NE(link(16.0, 4)->formula.find("128/130"), std::string::npos);
  EXPECT_NE(link(5.0, 4)->formula.find("8/10"), std::string::npos);
  auto gen6 = link(64.0, 16);
  ASSERT_TRUE(gen6);
  EXPECT_NEAR(gen6->gb_per_s, 121, 0.5) << "research §6.4: ~121 GB/s for x16";
  EXPECT_FALSE(gen6->confirmed);
  EXPECT_FALSE(link(3.0, 4));
  EXPECT_FALSE(link(16.0, 0));
  EXPECT_FALSE(link(128.0, 16)) << "no sourced figure for PCIe 7";
}

Root Fixture(const std::string& name) {
  return std::move(*Root::Open(std::string(DLRIG_SOURCE_DIR) + "/tests/fixtures/storage/" + name));
}

TEST(StorageDeviceSysfs, NvmePartitionResolvesToDiskAndLink) {
  Root root = Fixture("nvme");
  auto dev = FindStorageDevice(root, 259, 2);
  ASSERT_TRUE(dev) << dev.error().message;
  EXPECT_EQ(dev->name, "nvme0n1p2");
  ASSERT_EQ(dev->disks.size(), 1u);
  const StorageDisk& d = dev->disks[0];
  EXPECT_EQ(d.name, "nvme0n1");
  EXPECT_EQ(d.transport, "nvme");
  EXPECT_EQ(d.model, "Samsung SSD 980 PRO 1TB");
  EXPECT_EQ(d.rotational, false);
  ASSERT_FALSE(d.pcie_path.empty());
  EXPECT_EQ(d.pcie_path[0].address, "0000:02:00.0");
  EXPECT_EQ(d.pcie_path[0].now.lanes, 4);
  EXPECT_EQ(d.pcie_path[0].max.gts, 16.0);
  ASSERT_TRUE(dev->limit_gb_per_s);
  EXPECT_NEAR(*dev->limit_gb_per_s, 7.88, 0.01);
  EXPECT_TRUE(dev->limit_confirmed);
  EXPECT_NE(dev->limit_reason.find("Gen4 x4"), std::string::npos) << dev->limit_reason;

  auto whole = FindStorageDevice(root, 259, 0);
  ASSERT_TRUE(whole);
  ASSERT_EQ(whole->disks.size(), 1u);
  EXPECT_EQ(whole->disks[0].sysfs_path, d.sysfs_path);
}

TEST(StorageDeviceSysfs, AnonymousDeviceFoundThroughMountinfo) {
  Root root = Fixture("nvme");
  auto btrfs = FindStorageDevice(root, 0, 31);
  ASSERT_TRUE(btrfs);
  ASSERT_EQ(btrfs->disks.size(), 1u);
  EXPECT_EQ(btrfs->disks[0].name, "nvme0n1");
  auto tmpfs = FindStorageDevice(root, 0, 26);
  ASSERT_TRUE(tmpfs) << "not a block device is an answer, not an error";
  EXPECT_TRUE(tmpfs->disks.empty());
  EXPECT_FALSE(tmpfs->limit_gb_per_s);
  EXPECT_NE(tmpfs->limit_reason.find("not a block device"), std::string::npos);
}

TEST(StorageDeviceSysfs, NarrowestLinkOnThePathSetsTheLimit) {
  Root root = Fixture("switch");
  auto dev = FindStorageDevice(root, 259, 0);
  ASSERT_TRUE(dev);
  ASSERT_EQ(dev->disks.size(), 1u);
  EXPECT_EQ(dev->disks[0].pcie_path.size(), 4u);
  EXPECT_EQ(dev->disks[0].pcie_path[0].address, "0000:07:00.0");
  ASSERT_TRUE(dev->limit_gb_per_s);
  EXPECT_NEAR(*dev->limit_gb_per_s, 3.94, 0.01) << "the Gen3 x4 uplink, not the Gen4 x4 endpoint";
  EXPECT_NE(dev->limit_reason.find("0000:05:00.0"), std::string::npos) << dev->limit_reason;
}

TEST(StorageDeviceSysfs, DeviceMapperTakesItsSlaves) {
  Root root = Fixture("dm");
  auto dev = FindStorageDevice(root, 253, 0);
  ASSERT_TRUE(dev);
  EXPECT_EQ(dev->name, "dm-0");
  ASSERT_EQ(dev->disks.size(), 2u);
  std::set<std::string> names{dev->disks[0].name, dev->disks[1].name};
  EXPECT_EQ(names, (std::set<std::string>{"nvme0n1", "nvme1n1"}));
  ASSERT_TRUE(dev->limit_gb_per_s);
  EXPECT_NEAR(*dev->limit_gb_per_s, 3.94 + 7.88, 0.02);
  EXPECT_NE(dev->limit_reason.find("2 disks"), std::string::npos);
}

TEST(StorageDeviceSysfs, VirtioDiskHasNoLinkLimit) {
  Root root = Fixture("virtio");
  auto dev = FindStorageDevice(root, 254, 0);
  ASSERT_TRUE(dev);
  ASSERT_EQ(dev->disks.size(), 1u);
  EXPECT_EQ(dev->disks[0].transport, "virtio");
  EXPECT_EQ(dev->disks[0].rotational, true);
  EXPECT_FALSE(dev->disks[0].limit);
  EXPECT_FALSE(dev->limit_gb_per_s);
  EXPECT_NE(dev->limit_reason.find("virtio"), std::string::npos) << dev->limit_reason;
}

TEST(StorageDeviceSysfs, SataDiskIsNotLimitedByItsControllersPcieLink) {
  Root root = Fixture("sata");
  auto dev = FindStorageDevice(root, 8, 1);
  ASSERT_TRUE(dev);
  ASSERT_EQ(dev->disks.size(), 1u);
  EXPECT_EQ(dev->disks[0].name, "sda");
  EXPECT_EQ(dev->disks[0].transport, "sata");
  EXPECT_EQ(dev->disks[0].model, "Samsung SSD 860");
  EXPECT_FALSE(dev->limit_gb_per_s);
  EXPECT_NE(dev->limit_reason.find("SATA"), std::string::npos);
  EXPECT_NE(dev->limit_reason.find("Samsung SSD 860"), std::string::npos);
}

TEST(StorageDeviceSysfs, ThisMachine) {
  if (!fs::exists("/sys/dev/block")) GTEST_SKIP() << "no /sys/dev/block here";
  std::string dir = fs::current_path().string();
  struct stat st;
  ASSERT_EQ(stat(dir.c_str(), &st), 0);
  auto dev = ProbeStorageDevice(dir);
  ASSERT_TRUE(dev) << dev.error().message;
  EXPECT_EQ(dev->block_device,
            std::to_string(major(st.st_dev)) + ":" + std::to_string(minor(st.st_dev)));
  EXPECT_FALSE(dev->limit_reason.empty());
  if (fs::exists("/sys/dev/block/" + dev->block_device)) {
    EXPECT_FALSE(dev->disks.empty());
  }
  for (const auto& d : dev->disks) {
    EXPECT_TRUE(fs::exists(d.sysfs_path)) << d.sysfs_path;
    if (d.limit) {
      EXPECT_GT(d.limit->gb_per_s, 0);
    }
  }
  if (dev->limit_gb_per_s) {
    EXPECT_GT(*dev->limit_gb_per_s, 0.1);
  }
}

/// A directory on the disk the tests run from (the build tree), never /tmp (maybe tmpfs).
class DiskDir {
 public:
  DiskDir() {
    auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::current_path() / ("storage-" + std::to_string(getpid()) + "-" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  ~DiskDir() { fs::remove_all(dir_); }
  std::string str() const { return dir_.string(); }
  size_t Entries() const {
    return static_cast<size_t>(std::distance(fs::directory_iterator(dir_), {}));
  }

 private:
  fs::path dir_;
};

StorageSpec SmallSpec(const std::string& dir, StoragePattern pattern) {
  StorageSpec s;
  s.dir = dir;
  s.pattern = pattern;
  s.block_bytes = 64 << 10;
  s.threads = 2;
  s.queue_depth = 4;
  s.seconds = 0.2;
  s.file_bytes = 8 << 20;
  return s;
}

/// Runs `spec`; when this disk refuses O_DIRECT the test is skipped with that reason.
Result<StorageResult> RunOrSkip(const StorageSpec& spec, bool* skipped) {
  auto r = RunStorage(spec);
  *skipped = !r && r.error().kind == ErrorKind::kUnsupported;
  return r;
}

TEST(StorageRun, EveryPatternMovesBytesAndLeavesNoFile) {
  DiskDir dir;
  for (auto p : {StoragePattern::kSeqRead, StoragePattern::kSeqWrite, StoragePattern::kRandRead,
                 StoragePattern::kRandWrite}) {
    bool skipped = false;
    auto r = RunOrSkip(SmallSpec(dir.str(), p), &skipped);
    if (skipped) GTEST_SKIP() << r.error().message;
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->pattern, p);
    EXPECT_GT(r->ios, 0u);
    EXPECT_EQ(r->bytes, r->ios * (64u << 10));
    EXPECT_GE(r->seconds, 0.2);
    EXPECT_LT(r->seconds, 30);
    EXPECT_NEAR(r->gb_per_s, double(r->bytes) / r->seconds / 1e9, 1e-9);
    EXPECT_NEAR(r->iops, double(r->ios) / r->seconds, 1e-6);
    EXPECT_GT(r->lat_p50_us, 0);
    EXPECT_GE(r->lat_p99_us, r->lat_p50_us);
    EXPECT_EQ(r->layout_bytes, IsRead(p) ? 2u * (8u << 20) : 0u);
    EXPECT_EQ(dir.Entries(), 0u) << StoragePatternKey(p);
  }
}

TEST(StorageRun, CallerBuffersAndReadCallback) {
  DiskDir dir;
  StorageSpec spec = SmallSpec(dir.str(), StoragePattern::kSeqRead);
  std::mutex mu;
  std::set<void*> live;
  int allocations = 0;
  spec.allocator.allocate = [&](size_t bytes) -> void* {
    void* p = nullptr;
    if (posix_memalign(&p, 4096, bytes) != 0) return nullptr;
    std::lock_guard lock(mu);
    live.insert(p);
    ++allocations;
    return p;
  };
  spec.allocator.release = [&](void* p, size_t) {
    std::lock_guard lock(mu);
    live.erase(p);
    std::free(p);
  };
  std::atomic<uint64_t> seen{0};
  std::atomic<bool> foreign{false};
  spec.on_read = [&](const void* data, size_t bytes, int thread) -> Result<void> {
    {
      std::lock_guard lock(mu);
      if (!live.count(const_cast<void*>(data)) || thread < 0 || thread >= 2) foreign = true;
    }
    seen += bytes;
    return {};
  };
  bool skipped = false;
  auto r = RunOrSkip(spec, &skipped);
  if (skipped) GTEST_SKIP() << r.error().message;
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(allocations, 2 * 4);
  EXPECT_TRUE(live.empty()) << "every buffer released";
  EXPECT_FALSE(foreign) << "the callback saw only the caller's buffers and thread indexes 0-1";
  EXPECT_EQ(seen.load(), r->bytes);
}

TEST(StorageRun, CallbackErrorStopsTheRunAndFilesGo) {
  DiskDir dir;
  StorageSpec spec = SmallSpec(dir.str(), StoragePattern::kRandRead);
  spec.seconds = 30;
  std::atomic<int> calls{0};
  spec.on_read = [&](const void*, size_t, int) -> Result<void> {
    if (++calls > 10) return Fail(ErrorKind::kIo, "copy to the GPU failed");
    return {};
  };
  bool skipped = false;
  auto r = RunOrSkip(spec, &skipped);
  if (skipped) GTEST_SKIP() << r.error().message;
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "copy to the GPU failed");
  EXPECT_EQ(dir.Entries(), 0u);
}

TEST(StorageRun, UnalignedCallerBufferIsRefused) {
  DiskDir dir;
  StorageSpec spec = SmallSpec(dir.str(), StoragePattern::kSeqWrite);
  spec.allocator.allocate = [](size_t bytes) -> void* {
    return static_cast<char*>(std::malloc(bytes + 64)) + 16;
  };
  spec.allocator.release = [](void* p, size_t) { std::free(static_cast<char*>(p) - 16); };
  auto r = RunStorage(spec);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("aligned"), std::string::npos) << r.error().message;
  EXPECT_EQ(dir.Entries(), 0u);
}

TEST(StorageRun, MissingDirectoryAndFileAreClearErrors) {
  auto r = RunStorage(SmallSpec("/nonexistent/dlrig-storage", StoragePattern::kSeqRead));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kNotFound);
  EXPECT_NE(r.error().message.find("/nonexistent/dlrig-storage"), std::string::npos);
  DiskDir dir;
  std::string file = dir.str() + "/plain";
  { std::ofstream(file) << "x"; }
  auto f = RunStorage(SmallSpec(file, StoragePattern::kSeqRead));
  ASSERT_FALSE(f);
  EXPECT_NE(f.error().message.find("not a directory"), std::string::npos);
}

TEST(StorageRun, MoreThanHalfTheFreeSpaceIsRefused) {
  DiskDir dir;
  StorageSpec spec = SmallSpec(dir.str(), StoragePattern::kSeqWrite);
  spec.block_bytes = 1 << 20;
  spec.file_bytes = 1ull << 50;  // 1 PiB per file
  auto r = RunStorage(spec);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("free"), std::string::npos) << r.error().message;
  EXPECT_EQ(dir.Entries(), 0u);
}

TEST(StorageRun, UnwritableDirectory) {
  if (geteuid() == 0) GTEST_SKIP() << "root writes everywhere";
  DiskDir dir;
  fs::permissions(dir.str(), fs::perms::owner_read | fs::perms::owner_exec);
  auto r = RunStorage(SmallSpec(dir.str(), StoragePattern::kSeqWrite));
  fs::permissions(dir.str(), fs::perms::owner_all);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kNoPermission);
  EXPECT_NE(r.error().message.find(dir.str()), std::string::npos);
}

TEST(StorageFiles, RandomOffsetsAreUniform) {
  storage_detail::Rng rng(42);
  constexpr int kBuckets = 16, kDraws = 1 << 20;
  int counts[kBuckets] = {};
  for (int i = 0; i < kDraws; ++i) ++counts[rng.Below(kBuckets)];
  for (int c : counts) EXPECT_NEAR(c, kDraws / kBuckets, kDraws / kBuckets * 0.02);
  storage_detail::Rng again(42);
  EXPECT_EQ(again.Below(1ull << 40), storage_detail::Rng(42).Below(1ull << 40)) << "seeded";
}

TEST(StorageFiles, LaidOutFileKeepsODirectAndHasNoName) {
  DiskDir dir;
  StorageSpec spec = SmallSpec(dir.str(), StoragePattern::kSeqRead);
  storage_detail::Rng rng(7);
  auto file = storage_detail::CreateBenchFile(spec, 0, rng);
  if (!file && file.error().kind == ErrorKind::kUnsupported) GTEST_SKIP() << file.error().message;
  ASSERT_TRUE(file) << file.error().message;
  EXPECT_EQ(dir.Entries(), 0u) << "unlinked as soon as it was created";
  ASSERT_TRUE(storage_detail::Preallocate(spec, *file));
  ASSERT_TRUE(storage_detail::LayOut(spec, *file, rng));
  struct stat st;
  ASSERT_EQ(fstat(file->fd(), &st), 0);
  EXPECT_EQ(uint64_t(st.st_size), spec.file_bytes);
  EXPECT_EQ(st.st_nlink, 0u);
  EXPECT_NE(fcntl(file->fd(), F_GETFL) & O_DIRECT, 0) << "the buffered layout gives O_DIRECT back";
  void* raw = nullptr;
  ASSERT_EQ(posix_memalign(&raw, 4096, 4096), 0);
  std::unique_ptr<void, decltype(&std::free)> block(raw, &std::free);
  ASSERT_EQ(pread(file->fd(), raw, 4096, off_t(spec.file_bytes - 4096)), 4096);
  auto* bytes = static_cast<const unsigned char*>(raw);
  EXPECT_FALSE(std::all_of(bytes, bytes + 4096, [](unsigned char b) { return b == 0; }))
      << "laid out with data, not a hole";
}

// Storage that deduplicates blocks would keep one copy of a repeated buffer and read it back at
// no cost: every 4 KiB of a laid-out file, and of two files, must differ.
TEST(StorageFiles, LaidOutBlocksAreAllDifferent) {
  DiskDir dir;
  StorageSpec spec = SmallSpec(dir.str(), StoragePattern::kSeqRead);
  spec.file_bytes = 4u << 20;  // four layout chunks
  storage_detail::Rng rng(11);
  std::set<std::string> blocks;
  for (int f = 0; f < 2; ++f) {
    auto file = storage_detail::CreateBenchFile(spec, f, rng);
    if (!file && file.error().kind == ErrorKind::kUnsupported) GTEST_SKIP() << file.error().message;
    ASSERT_TRUE(file) << file.error().message;
    ASSERT_TRUE(storage_detail::Preallocate(spec, *file));
    ASSERT_TRUE(storage_detail::LayOut(spec, *file, rng));
    void* raw = nullptr;
    ASSERT_EQ(posix_memalign(&raw, 4096, spec.file_bytes), 0);
    std::unique_ptr<void, decltype(&std::free)> data(raw, &std::free);
    ASSERT_EQ(pread(file->fd(), raw, spec.file_bytes, 0), ssize_t(spec.file_bytes));
    for (uint64_t at = 0; at < spec.file_bytes; at += 4096)
      blocks.emplace(static_cast<const char*>(raw) + at, 4096);
  }
  EXPECT_EQ(blocks.size(), 2 * spec.file_bytes / 4096);
}

TEST(StorageFiles, StampMakesEachWriteNew) {
  std::string a(8192, 'x'), b = a;
  storage_detail::Stamp(a.data(), a.size(), 0, 1);
  storage_detail::Stamp(b.data(), b.size(), 0, 2);  // the same offset written again
  EXPECT_NE(a, b);
  EXPECT_NE(a.substr(0, 4096), a.substr(4096)) << "each 4 KiB of one buffer differs too";
  EXPECT_EQ(a.substr(16, 4080), b.substr(16, 4080)) << "only the first 16 bytes of each 4 KiB change";
}

/// A directory whose filesystem refuses O_DIRECT: a ramfs mounted for the test (as root), or
/// /dev/shm where tmpfs still refuses it (Linux before 6.6). Empty when there is none.
class NoDirectDir {
 public:
  NoDirectDir() {
    fs::path mnt = fs::current_path() / ("ramfs-" + std::to_string(getpid()));
    fs::create_directories(mnt);
    if (mount("ramfs", mnt.c_str(), "ramfs", 0, nullptr) == 0) {
      dir_ = mnt.string();
      mounted_ = true;
      return;
    }
    fs::remove(mnt);
    std::string probe = "/dev/shm/dlrig-odirect-probe-" + std::to_string(getpid());
    int fd = open(probe.c_str(), O_RDWR | O_CREAT | O_EXCL | O_DIRECT, 0600);
    if (fd >= 0) close(fd);
    unlink(probe.c_str());
    if (fd < 0 && errno == EINVAL) {
      dir_ = "/dev/shm/dlrig-odirect-" + std::to_string(getpid());
      fs::create_directories(dir_);
    }
  }
  ~NoDirectDir() {
    if (dir_.empty()) return;
    if (mounted_) umount(dir_.c_str());
    fs::remove_all(dir_);
  }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  bool mounted_ = false;
};

TEST(StorageRun, DirectRefusedNamesThePathAndLeavesNothing) {
  NoDirectDir nodirect;
  if (nodirect.dir().empty())
    GTEST_SKIP() << "no filesystem here refuses O_DIRECT (not root, and tmpfs accepts it)";
  auto r = RunStorage(SmallSpec(nodirect.dir(), StoragePattern::kSeqRead));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kUnsupported);
  EXPECT_NE(r.error().message.find(nodirect.dir()), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("real disk"), std::string::npos);
  EXPECT_TRUE(fs::is_empty(nodirect.dir())) << "the file Linux creates before refusing is gone";
  StorageSpec buffered = SmallSpec(nodirect.dir(), StoragePattern::kSeqWrite);
  buffered.direct = false;
  auto b = RunStorage(buffered);
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_GT(b->bytes, 0u);
  EXPECT_TRUE(fs::is_empty(nodirect.dir()));
}

}  // namespace
}  // namespace dlrig::bench
