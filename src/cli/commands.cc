#include "cli/commands.h"

namespace dlrig {

std::span<const Command> Commands() {
  static const Command kCommands[] = {
      {"doctor", "inventory every layer of the GPU stack and report what was found",
       Needs::kInventory, RunDoctor},
      {"capture", "save what doctor reads into a .tar.gz (any machine becomes a test case)",
       Needs::kHostOnly, RunCapture},
  };
  return kCommands;
}

}  // namespace dlrig
