// Golden plans for the seeds' machines: the resolved stack (JSON "stack", or the failure) of each
// machine x request, compared with tests/fixtures/plan/<case>.json. Each golden was reviewed by
// hand against data/*.toml; regenerate with DLRIG_UPDATE_GOLDEN=1 and review the diff again.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "plan/emit_json.h"
#include "plan/resolver.h"
#include "test_util.h"

namespace dlrig {
namespace {

struct Case {
  const char* name;
  MachineDescription machine;  ///< empty gpu: the H100 capture
  std::vector<std::string> packages;
  RequestArgs args;
};

json Outcome(const PlanResult& plan) {
  if (!plan)
    return json{{"failure", plan.error().constraint},
                {"message", plan.error().message},
                {"alternatives", plan.error().alternatives}};
  json j = PlanJson(*plan);
  return json{{"stack", j["stack"]}, {"notes", j["notes"]}};
}

void Compare(const std::string& name, const json& got) {
  std::string path = std::string(DLRIG_SOURCE_DIR) + "/tests/fixtures/plan/" + name + ".json";
  std::string text = got.dump(2) + "\n";
  if (std::getenv("DLRIG_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(path) << text;
    return;
  }
  std::ifstream in(path);
  ASSERT_TRUE(in) << "missing golden " << path;
  std::string want((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, want) << name;
}

RequestArgs Args(std::string target, std::string cuda = "", bool compile = false, bool upgrade = false) {
  RequestArgs a;
  a.target = std::move(target);
  a.cuda = std::move(cuda);
  a.compile = compile;
  a.upgrade_driver = upgrade;
  return a;
}

TEST(PlanGolden, SeedMachines) {
  const std::vector<Case> cases = {
      {"rtx3090-535-conda-cu121", {"RTX 3090", "535.183.01", "ubuntu-22.04"}, {"torch", "torchvision", "torchaudio"}, Args("conda", "12.1")},
      {"rtx4090-535-docker", {"RTX 4090", "535.183.01", "ubuntu-22.04"}, {"torch", "torchvision"}, Args("docker")},
      {"rtx4090-535-docker-compile", {"RTX 4090", "535.183.01", "ubuntu-22.04"}, {"torch", "flash-attn"}, Args("docker")},
      {"v100-418-cuda100-apex", {"V100", "418.87", "ubuntu-18.04"}, {"torch", "apex"}, Args("venv", "10.0")},
      {"v100-418-apex-upgrade", {"V100", "418.87", "ubuntu-18.04"}, {"torch", "apex"}, Args("venv", "", false, true)},
      {"p100-580-venv", {"P100", "580.95.05", "ubuntu-22.04"}, {"torch"}, Args("venv")},
      {"gtx1080ti-580-venv", {"GTX 1080 Ti", "580.95.05", "ubuntu-24.04"}, {"torch", "torchvision"}, Args("venv")},
      {"rtx5090-570-venv", {"RTX 5090", "570.86.16", "ubuntu-24.04"}, {"torch"}, Args("venv")},
      {"rtx5090-560-venv", {"RTX 5090", "560.35.03", "ubuntu-24.04"}, {"torch"}, Args("venv")},
      {"rtx3090-470-torch28", {"RTX 3090", "470.82", "ubuntu-20.04"}, {"torch==2.8"}, Args("venv")},
      {"rtx4090-nodriver-system", {"RTX 4090", "", "ubuntu-24.04"}, {"torch", "deepspeed"}, Args("system", "", true)},
  };
  for (const Case& c : cases) {
    auto machine = DescribeMachine(c.machine);
    ASSERT_TRUE(machine) << c.name;
    RequestArgs args = c.args;
    args.packages = c.packages;
    auto request = ParseRequest(args);
    ASSERT_TRUE(request) << c.name << ": " << request.error().message;
    Compare(c.name, Outcome(Resolve(*machine, *request)));
  }
}

TEST(PlanGolden, H100Capture) {
  auto cap = testing::H100Capture();
  if (!cap) GTEST_SKIP() << "shared/captures not present";
  MachineSpec m = MachineFromInventory(CollectInventory(cap->ctx()));
  ASSERT_EQ(m.gpus.size(), 1u);
  EXPECT_EQ(m.gpus[0].compute_capability->text, "9.0");
  EXPECT_EQ(m.driver->text, "580.159.04");
  EXPECT_EQ(m.os_id, "ubuntu");
  EXPECT_EQ(m.os_version, "24.04");
  RequestArgs args;
  args.packages = {"torch", "torchvision"};
  Compare("h100-capture-venv", Outcome(Resolve(m, *ParseRequest(args))));
}

}  // namespace
}  // namespace dlrig
