// `dlrig bench` end to end on the null backend (the real binary, the real harness and every
// registered benchmark; only the device is a model): the JSON schema, the exit code the
// verdicts call for, every benchmark present as a figure or a waiver, the history, compare,
// the HTML page, and the ways it must refuse.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "../unit/test_util.h"
#include "cli_run.h"

namespace dlrig {
namespace {

using nlohmann::json;

using testing::CliRun;

CliRun Dlrig(const testing::TempTree& tree, std::vector<std::string> args) {
  // No GPU may be used by accident, and the default history lives in the tree.
  std::vector<std::string> argv = {"env",        "CUDA_VISIBLE_DEVICES=",
                                   "NO_COLOR=1", "XDG_DATA_HOME=" + (tree.dir() / "xdg").string(),
                                   DLRIG_BINARY, "bench"};
  argv.insert(argv.end(), args.begin(), args.end());
  return testing::RunCli(argv, std::chrono::milliseconds(300000));
}

std::string ReadText(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

// What the verdicts call for: 2 for failed/error, 1 for fair/low, else 0.
int ExpectedExit(const json& doc) {
  int code = 0;
  for (const json& r : doc["results"]) {
    std::string v = r.value("verdict", "");
    if (v == "failed" || v == "error") return 2;
    if (v == "fair" || v == "low") code = 1;
  }
  return code;
}

json BenchmarkList(const testing::TempTree& tree) {
  CliRun list = Dlrig(tree, {"list", "--json"});
  EXPECT_EQ(list.exit_code, 0) << list.err;
  json j = json::parse(list.out, nullptr, false);
  EXPECT_TRUE(j.is_array()) << list.out;
  EXPECT_FALSE(j.empty());
  return j.is_array() ? j : json::array();
}

void CheckDocument(const json& doc, const CliRun& run) {
  // A quick run's document is small: megabytes mean a benchmark records without bound.
  ASSERT_LT(run.out.size(), 16u << 20) << "--json wrote " << run.out.size() << " bytes";
  ASSERT_FALSE(doc.is_discarded()) << run.out << run.err;
  EXPECT_EQ(doc["schema"], "dlrig.bench/1");
  EXPECT_EQ(doc["backend"], "null");
  EXPECT_EQ(doc["modelled"], true);
  EXPECT_TRUE(doc["started"].is_string());
  EXPECT_TRUE(doc["libraries"].is_object());
  EXPECT_EQ(run.exit_code, ExpectedExit(doc)) << run.err;
  for (const json& r : doc["results"]) {
    EXPECT_TRUE(r["key"].is_string()) << r.dump();
    EXPECT_TRUE(r["verdict"].is_string()) << r.dump();
    for (const auto& [name, value] : r.items())
      EXPECT_FALSE(value.is_null()) << name << " in " << r.dump();
    if (r["verdict"] == "waived") {
      EXPECT_FALSE(r.value("message", "").empty()) << r.dump();
    }
  }
}

TEST(BenchCli, QuickOnTheNullBackendGivesEveryQuickBenchmark) {
  testing::TempTree tree;
  json list = BenchmarkList(tree);
  CliRun run = Dlrig(tree, {"--backend", "null", "--quick", "--json", "--burn-seconds", "1"});
  json doc = json::parse(run.out, nullptr, false);
  ASSERT_NO_FATAL_FAILURE(CheckDocument(doc, run));
  EXPECT_EQ(doc["profile"], "quick");
  EXPECT_EQ(doc["devices"].size(), 2u) << "the null backend models 2 GPUs by default";
  std::set<std::string> benches;
  for (const json& r : doc["results"]) benches.insert(r.value("bench", ""));
  for (const json& b : list)
    if (b["quick"] == true) {
      EXPECT_TRUE(benches.count(b["key"])) << b["key"] << " missing: " << run.out;
    }
  EXPECT_NE(run.err.find("modelled, not measured"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("dlrig bench: "), std::string::npos) << "progress on stderr";
  // The null backend stores nothing unless asked.
  EXPECT_FALSE(std::filesystem::exists(tree.dir() / "xdg/dlrig/history.db"));
}

TEST(BenchCli, EveryRegisteredBenchmarkRunsOrIsWaived) {
  testing::TempTree tree;
  std::vector<std::string> args = {"--backend",      "null", "--quick",     "--json",
                                   "--burn-seconds", "1",    "--null-gpus", "1"};
  std::vector<std::string> keys;
  for (const json& b : BenchmarkList(tree)) keys.push_back(b["key"]);
  args.insert(args.end(), keys.begin(), keys.end());
  CliRun run = Dlrig(tree, args);
  json doc = json::parse(run.out, nullptr, false);
  ASSERT_NO_FATAL_FAILURE(CheckDocument(doc, run));
  std::set<std::string> benches;
  for (const json& r : doc["results"]) benches.insert(r.value("bench", ""));
  for (const std::string& key : keys) EXPECT_TRUE(benches.count(key)) << key << " missing";
  // One GPU: the benchmarks of pairs say why they do not run, never fail.
  for (const json& r : doc["results"])
    if (r.value("bench", "") == "p2p") {
      EXPECT_EQ(r["verdict"], "waived") << r.dump();
    }
}

TEST(BenchCli, RunsAreStoredListedAndCompared) {
  testing::TempTree tree;
  std::string db = (tree.dir() / "runs.db").string();
  std::string html = (tree.dir() / "page.html").string();
  CliRun first = Dlrig(tree, {"--backend", "null", "--quick", "--json", "--burn-seconds", "1",
                              "--history-db", db, "--html", html, "memory", "pcie"});
  ASSERT_NE(first.exit_code, 64) << first.err;
  EXPECT_NE(first.err.find("stored as run 1 in " + db), std::string::npos) << first.err;
  CliRun second = Dlrig(
      tree, {"--backend", "null", "--quick", "--burn-seconds", "1", "--history-db", db, "memory"});
  EXPECT_NE(second.err.find("stored as run 2"), std::string::npos) << second.err;
  EXPECT_NE(second.out.find("memory"), std::string::npos) << second.out;

  CliRun history = Dlrig(tree, {"history", "--db", db, "--json"});
  ASSERT_EQ(history.exit_code, 0) << history.err;
  json runs = json::parse(history.out, nullptr, false);
  ASSERT_EQ(runs["runs"].size(), 2u) << history.out;
  EXPECT_EQ(runs["runs"][0]["id"], 2);
  EXPECT_EQ(runs["runs"][0]["backend"], "null");
  EXPECT_GT(runs["runs"][1]["figures"].get<int>(), runs["runs"][0]["figures"].get<int>())
      << "run 1 had pcie too";
  CliRun table = Dlrig(tree, {"history", "--db", db});
  EXPECT_NE(table.out.find("quick"), std::string::npos) << table.out;

  CliRun compare = Dlrig(tree, {"compare", "1", "2", "--db", db, "--json"});
  ASSERT_TRUE(compare.exit_code == 0 || compare.exit_code == 1) << compare.err;
  json c = json::parse(compare.out, nullptr, false);
  ASSERT_FALSE(c.is_discarded()) << compare.out;
  bool only_a = false;
  for (const json& row : c["rows"])
    if (row["key"].get<std::string>().starts_with("pcie"))
      only_a = only_a || row["change"] == "only_a";
  EXPECT_TRUE(only_a) << "pcie ran in run 1 only: " << compare.out;

  // The same with files: the first run's JSON against itself changes nothing.
  tree.Write("a.json", first.out);
  std::string file = (tree.dir() / "a.json").string();
  CliRun same = Dlrig(tree, {"compare", file, file});
  EXPECT_EQ(same.exit_code, 0) << same.err << same.out;
  EXPECT_NE(same.out.find("0 regression(s), 0 improvement(s)"), std::string::npos) << same.out;

  std::string page = ReadText(html);
  EXPECT_NE(page.find("<!DOCTYPE html>"), std::string::npos);
  EXPECT_NE(page.find("<svg"), std::string::npos);
  EXPECT_NE(page.find("figures are modelled, not measured"), std::string::npos);
  EXPECT_EQ(page.find("<script"), std::string::npos);
}

TEST(BenchCli, ABrokenHistoryNeverCostsTheRun) {
  testing::TempTree tree;
  std::string garbage(8192, '\0');
  for (size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<char>((i * 131 + 7) % 251);
  tree.Write("broken.db", garbage);
  std::string db = (tree.dir() / "broken.db").string();
  CliRun run =
      Dlrig(tree, {"--backend", "null", "--quick", "--json", "--history-db", db, "memory"});
  json doc = json::parse(run.out, nullptr, false);
  ASSERT_NO_FATAL_FAILURE(CheckDocument(doc, run));
  EXPECT_FALSE(doc["results"].empty());
  EXPECT_NE(run.err.find("warning: the run was not stored"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find(db), std::string::npos) << run.err;
  EXPECT_EQ(ReadText(db), garbage) << "the broken file is left as it was";
  CliRun compare = Dlrig(tree, {"compare", "1", "2", "--db", db});
  EXPECT_EQ(compare.exit_code, 2);
  tree.Write("junk.json", "{\"schema\": \"dlrig.bench/1\", \"results\": [{\"key\": 3}]}");
  CliRun junk = Dlrig(
      tree, {"compare", (tree.dir() / "junk.json").string(), (tree.dir() / "junk.json").string()});
  EXPECT_EQ(junk.exit_code, 2);
  EXPECT_NE(junk.err.find("is not a `dlrig bench --json` file"), std::string::npos) << junk.err;
}

TEST(BenchCli, UsageErrorsAreRefusedWith64) {
  testing::TempTree tree;
  CliRun unknown = Dlrig(tree, {"--backend", "null", "memroy"});
  EXPECT_EQ(unknown.exit_code, 64);
  EXPECT_NE(unknown.err.find("no benchmark \"memroy\""), std::string::npos) << unknown.err;
  EXPECT_NE(unknown.err.find("memory"), std::string::npos)
      << "the valid keys are listed: " << unknown.err;
  EXPECT_EQ(Dlrig(tree, {"--backend", "null", "--quick", "--full"}).exit_code, 64);
  EXPECT_EQ(Dlrig(tree, {"--backend", "null", "--gpu", "5"}).exit_code, 64);
  EXPECT_EQ(Dlrig(tree, {"--backend", "null", "--sizes", "8X"}).exit_code, 64);
  EXPECT_EQ(Dlrig(tree, {"--backend", "null", "--dtypes", "fp7"}).exit_code, 64);
  CliRun rw = Dlrig(tree, {"--backend", "null", "storage", "--path", tree.dir().string(), "--rw", "read,seqread"});
  EXPECT_EQ(rw.exit_code, 64);
  EXPECT_NE(rw.err.find("unknown storage pattern 'seqread'"), std::string::npos) << rw.err;
  EXPECT_EQ(Dlrig(tree, {"--backend", "opencl"}).exit_code, 64);
  EXPECT_EQ(Dlrig(tree, {"--null-gpus", "3"}).exit_code, 64) << "only with --backend null";
  EXPECT_EQ(Dlrig(tree, {"compare", "x", "y"}).exit_code, 64);
}

// --rw picks the patterns (fio's names or ours), in the order given, with the run's shape as
// asked; the disk is real, the GPU absent.
TEST(BenchCli, StorageRunsThePatternsAskedFor) {
  testing::TempTree tree;
  CliRun run = Dlrig(tree, {"storage", "--backend", "null", "--null-gpus", "0", "--path", tree.dir().string(), "--rw",
                            "randread,seq-write", "--seconds", "0.3", "--size", "8M", "--threads", "2", "--qd",
                            "4", "--json", "--no-history"});
  json doc = json::parse(run.out, nullptr, false);
  ASSERT_TRUE(doc.is_object()) << run.out << run.err;
  std::vector<std::string> keys;
  for (const json& r : doc["results"]) {
    if (r.value("verdict", "") == "error" && r.value("message", "").find("O_DIRECT") != std::string::npos)
      GTEST_SKIP() << "this filesystem refuses O_DIRECT: " << r.value("message", "");
    keys.push_back(r.value("key", ""));
    EXPECT_NE(r.value("verdict", ""), "error") << r.dump();
    EXPECT_EQ(r["params"].value("threads", ""), "2") << r.dump();
    EXPECT_EQ(r["params"].value("queue_depth", ""), "4") << r.dump();
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"storage.rand-read", "storage.seq-write"})) << run.out;
}

TEST(BenchCli, WithoutAUsableGpuItSaysWhyAndNeverFallsBackToTheModel) {
  testing::TempTree tree;
  CliRun run =
      Dlrig(tree, {"--quick", "--json", "memory"});  // CUDA_VISIBLE_DEVICES= hides every GPU
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_TRUE(run.out.empty()) << run.out;
  EXPECT_NE(run.err.find("cannot use the GPUs"), std::string::npos) << run.err;
  EXPECT_EQ(run.err.find("modelled"), std::string::npos) << run.err;
}

}  // namespace
}  // namespace dlrig
