// A capture taken by `dlrig capture` on the lent H100 machine (2026-11-22, driver 580.159.04,
// torch 2.11.0+cu130 in /opt/torch/.venv). Its doctor.json holds what dlrig found live, with
// the real libraries and the driver loaded; replaying the tree must find the same.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "../unit/test_util.h"
#include "core/exec.h"

namespace dlrig {
namespace {

using nlohmann::json;

class LiveCapture : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string archive =
        std::string(DLRIG_SOURCE_DIR) + "/tests/fixtures/captures/h100-venv-torch211-live.tar.gz";
    SystemRunner runner;
    auto untar = runner.Run({"tar", "xzf", archive, "-C", tree_.dir().string()},
                            ExecOptions{std::chrono::milliseconds(60000), 1u << 20});
    ASSERT_TRUE(untar && untar->exit_code == 0);
    std::ifstream live(tree_.dir() / "doctor.json");
    live_ = testing::WithoutReasons(json::parse(live));
    auto run = runner.Run({DLRIG_BINARY, "doctor", "--json", "--root", tree_.dir().string()},
                          ExecOptions{std::chrono::milliseconds(60000), 64u << 20});
    ASSERT_TRUE(run && run->exit_code == 0);
    replay_ = testing::WithoutReasons(json::parse(run->out));
  }
  testing::TempTree tree_;
  json live_, replay_;
};

TEST_F(LiveCapture, FileLayersReplayAsTheyWereReadLive) {
  // Device names come from pci.ids, reference data that a replay may take from this machine.
  for (json* doc : {&replay_, &live_}) {
    (*doc)["hardware"]["pci"].erase("ids_source");
    // The live document predates "unreadable" (added, empty on a readable tree).
    if ((*doc)["hardware"]["pci"].value("unreadable", json::array()).empty())
      (*doc)["hardware"]["pci"].erase("unreadable");
    for (auto& d : (*doc)["hardware"]["pci"]["devices"]) {
      d.erase("name");
      d.erase("subsystem_name");
    }
  }
  EXPECT_EQ(replay_["hardware"]["pci"], live_["hardware"]["pci"]);
  EXPECT_EQ(replay_["hardware"]["host"]["os"], live_["hardware"]["host"]["os"]);
  EXPECT_EQ(replay_["kernel_driver"], live_["kernel_driver"]);
  EXPECT_EQ(replay_["user_driver"]["files"], live_["user_driver"]["files"]);
  EXPECT_EQ(replay_["user_driver"]["loader_picks"], live_["user_driver"]["loader_picks"]);
  EXPECT_EQ(replay_["libraries"], live_["libraries"]);
  EXPECT_EQ(replay_["toolkits"]["cuda"], live_["toolkits"]["cuda"]);
}

// Live, torch's real DT_RPATH was followed; in the capture its library is a placeholder and the
// layout in data/wheel-layouts.toml stands in. Both must land on the same files and versions.
TEST_F(LiveCapture, AssumedWheelLayoutMatchesTheRealRpath) {
  auto frameworks = [](const json& doc) {
    std::map<std::string, std::pair<std::string, std::string>> out;
    for (auto& env : doc["python"]["environments"])
      for (auto& fw : env["frameworks"])
        for (auto& load : fw["loads"])
          out[fw["name"].get<std::string>() + " " + load["soname"].get<std::string>()] = {
              load["path"].dump(), load["version"].dump()};
    return out;
  };
  auto live = frameworks(live_);
  ASSERT_EQ(live.size(), 6u);  // torch and jax, each libcudart, libcudnn, libnccl
  EXPECT_EQ(frameworks(replay_), live);
  EXPECT_EQ(live["torch libcudnn.so.9"].second, "\"9.19.0.56\"");
  // Live, the driver answered through the forked child.
  EXPECT_EQ(live_["user_driver"]["dlopen"]["nvml"]["driver_version"], "580.159.04");
  EXPECT_EQ(live_["user_driver"]["dlopen"]["cuda"]["cuda_driver_version"], 13000);
}

}  // namespace
}  // namespace dlrig
