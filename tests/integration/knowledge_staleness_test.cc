// Staleness is seen, not discovered by users (issue 13): asks PyPI for the torch, jax and
// tensorflow releases and fails when PyPI lists a release newer than the knowledge tables know
// (their [meta] newest_release, and for torch every patch of a known X.Y) that was uploaded more
// than 60 days ago. PyPI unreachable: the test says so and skips, it never passes silently.
// Also `dlrig kb` prints each table's checked date, in text and in --json.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_run.h"
#include "knowledge/pytorch_builds.h"
#include "knowledge/table_meta.h"

namespace dlrig {
namespace {

using nlohmann::json;
using testing::CliRun;

constexpr int kGraceDays = 60;

/// One final release on PyPI and the days since its first upload.
struct PypiRelease {
  Version version;
  double age_days = 0;
};

/// What the tables know about one package: its newest release, and (torch) every patch per X.Y.
struct Known {
  Version newest;
  const PytorchBuilds* torch = nullptr;
};

/// The releases that make the table stale: newer than known.newest, or (torch) a patch of a
/// known X.Y missing from its patches, first uploaded more than `grace_days` ago.
std::vector<std::string> StaleReleases(const Known& known, const std::vector<PypiRelease>& pypi,
                                       int grace_days) {
  std::vector<std::string> stale;
  for (const auto& r : pypi) {
    if (r.age_days <= grace_days) continue;
    bool newer = known.newest < r.version;
    bool missing_patch = false;
    if (!newer && known.torch != nullptr) {
      const TorchRelease* rel = known.torch->Release(r.version);
      missing_patch =
          rel != nullptr && std::none_of(rel->patches.begin(), rel->patches.end(),
                                         [&](const Version& p) { return p == r.version; });
    }
    if (newer || missing_patch)
      stale.push_back(r.version.text + " (" + std::to_string(static_cast<int>(r.age_days)) +
                      " days on PyPI" + (newer ? "" : ", a patch the table lacks") + ")");
  }
  return stale;
}

// Final releases only (no rc/dev/post), each with the age of its first upload in days.
constexpr const char* kPypiScript = R"PY(
import datetime, json, re, sys, urllib.request
name = sys.argv[1]
req = urllib.request.Request("https://pypi.org/pypi/%s/json" % name,
                             headers={"User-Agent": "dlrig-staleness-test"})
data = json.load(urllib.request.urlopen(req, timeout=20))
now = datetime.datetime.now(datetime.timezone.utc)
for version, files in data["releases"].items():
    if not files or not re.fullmatch(r"\d+(\.\d+)*", version):
        continue
    if all(f.get("yanked") for f in files):
        continue
    first = min(datetime.datetime.fromisoformat(f["upload_time_iso_8601"].replace("Z", "+00:00"))
                for f in files)
    print(version, (now - first).total_seconds() / 86400)
)PY";

/// The package's final releases, or the reason PyPI could not be asked.
Result<std::vector<PypiRelease>> AskPypi(const std::string& package) {
  CliRun run =
      testing::RunCli({"python3", "-c", kPypiScript, package}, std::chrono::milliseconds(40000));
  if (run.exit_code != 0) {
    std::string last;  // the exception line ends Python's traceback
    std::istringstream err(run.err);
    for (std::string line; std::getline(err, line);)
      if (!line.empty()) last = line;
    return Fail(ErrorKind::kNotFound, "python3 could not read https://pypi.org/pypi/" + package +
                                          "/json (exit " + std::to_string(run.exit_code) +
                                          "): " + last);
  }
  std::vector<PypiRelease> out;
  std::istringstream lines(run.out);
  std::string version;
  double age = 0;
  while (lines >> version >> age)
    if (auto v = Version::Parse(version)) out.push_back({*v, age});
  if (out.empty()) return Fail(ErrorKind::kMalformed, "PyPI listed no final release of " + package);
  return out;
}

Version NewestOf(const char* table) {
  auto meta = TableMetaOf(table);
  EXPECT_TRUE(meta) << table << ": " << (meta ? "" : meta.error().message);
  EXPECT_TRUE(meta && meta->newest_release) << table << " has no [meta] newest_release";
  return meta && meta->newest_release ? *meta->newest_release : Version{{0}, "", "0"};
}

void ExpectCurrent(const std::string& package, const Known& known, const char* table) {
  auto pypi = AskPypi(package);
  if (!pypi)
    GTEST_SKIP() << "PyPI unreachable, staleness of " << table
                 << " not checked: " << pypi.error().message;
  auto stale = StaleReleases(known, *pypi, kGraceDays);
  std::string list;
  for (const auto& s : stale) list += "\n  " + s;
  EXPECT_TRUE(stale.empty()) << "data/" << table << " knows " << package << " up to "
                             << known.newest.text << ", but PyPI has, for more than " << kGraceDays
                             << " days:" << list
                             << "\nread the new releases and update the table and its [meta]";
}

TEST(KnowledgeStaleness, TheRuleFlagsOnlyOldNewerReleases) {
  Known known{*Version::Parse("2.15.0")};
  std::vector<PypiRelease> pypi = {{*Version::Parse("2.14.1"), 300},
                                   {*Version::Parse("2.15.0"), 90},
                                   {*Version::Parse("2.16.0"), 30},   // too new to count
                                   {*Version::Parse("2.16.1"), 61}};  // stale
  auto stale = StaleReleases(known, pypi, kGraceDays);
  ASSERT_EQ(stale.size(), 1u);
  EXPECT_EQ(stale[0].rfind("2.16.1", 0), 0u);
  // torch: a patch of a known release that the table's patches lack is stale too.
  const auto& torch = PytorchBuilds::BuiltIn();
  ASSERT_TRUE(torch) << torch.error().message;
  Known t{*Version::Parse("2.15.0"), &*torch};
  EXPECT_TRUE(StaleReleases(t, {{*Version::Parse("2.14.1"), 400}}, kGraceDays).empty());
  EXPECT_EQ(StaleReleases(t, {{*Version::Parse("2.14.2"), 70}}, kGraceDays).size(), 1u);
}

TEST(KnowledgeStaleness, TorchTableKnowsEveryPypiRelease) {
  const auto& torch = PytorchBuilds::BuiltIn();
  ASSERT_TRUE(torch) << torch.error().message;
  ExpectCurrent("torch", Known{NewestOf("pytorch.toml"), &*torch}, "pytorch.toml");
}

TEST(KnowledgeStaleness, JaxTableKnowsTheNewestPypiRelease) {
  ExpectCurrent("jax", Known{NewestOf("jax.toml")}, "jax.toml");
}

TEST(KnowledgeStaleness, TensorflowTableKnowsTheNewestPypiRelease) {
  ExpectCurrent("tensorflow", Known{NewestOf("tensorflow.toml")}, "tensorflow.toml");
}

// --- dlrig kb ---

CliRun Dlrig(std::vector<std::string> args) {
  args.insert(args.begin(), DLRIG_BINARY);
  return testing::RunCli(args);
}

TEST(KbCli, PrintsTheCheckedDateOfEveryTable) {
  CliRun kb = Dlrig({"kb"});
  ASSERT_EQ(kb.exit_code, 0) << kb.err;
  std::istringstream lines(kb.out);
  std::string line;
  bool saw_torch = false;
  while (std::getline(lines, line)) {
    if (line.find("pytorch.toml") == std::string::npos) continue;
    saw_torch = true;
    EXPECT_NE(line.find("checked 2026-12-07 (through 2.15.0)"), std::string::npos) << line;
  }
  EXPECT_TRUE(saw_torch) << kb.out;
  EXPECT_NE(kb.out.find("checked: not recorded"), std::string::npos)  // tables without [meta]
      << kb.out;

  CliRun js = Dlrig({"kb", "--json"});
  ASSERT_EQ(js.exit_code, 0) << js.err;
  json doc = json::parse(js.out, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << js.out.substr(0, 400);
  EXPECT_EQ(doc["schema"], "dlrig.kb/1");
  bool found = false;
  for (const auto& t : doc["tables"]) {
    EXPECT_TRUE(t.contains("checked")) << t.dump();
    if (t["name"] == "nccl.toml") {
      found = true;
      EXPECT_EQ(t["checked"], "2026-12-07");
      EXPECT_EQ(t["newest_release"], "2.32.6");
      EXPECT_GT(t["rows"].get<int>(), 10);
    }
  }
  EXPECT_TRUE(found) << js.out.substr(0, 400);
}

}  // namespace
}  // namespace dlrig
