// The readers of a project's environment files behind `dlrig check`, and the checks over what
// they read: requirements, conda, pyproject, Dockerfile, compose.
#include <cstdint>
#include <string_view>

#include "plan/check.h"
#include "plan/project_files.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  static const dlrig::Result<dlrig::CheckKnowledge> kb = dlrig::BuiltInCheckKnowledge();
  dlrig::MachineSpec machine;
  machine.gpus.push_back({.name = "fuzz", .compute_capability = dlrig::Version::Parse("6.1")});
  machine.driver = dlrig::Version::Parse("470.223.02");
  for (auto parse : {dlrig::ParseRequirements, dlrig::ParseCondaEnvironment, dlrig::ParsePyproject,
                     dlrig::ParseDockerfile, dlrig::ParseCompose}) {
    auto facts = parse(text, "fuzz");
    if (facts && kb) (void)dlrig::CheckProject(*facts, machine, *kb);
  }
  (void)dlrig::DetectProjectFileKind("fuzz", text);
  return 0;
}
