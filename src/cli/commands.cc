#include "cli/commands.h"

namespace dlrig {

std::span<const Command> Commands() {
  static const Command kCommands[] = {
      {"doctor", "inventory every layer of the GPU stack and diagnose what is broken at its root", RunDoctor},
      {"gpus", "every GPU as the driver describes it, with its datasheet figures (--json)", RunGpus},
      {"top", "the GPUs and their processes, live in the terminal (--once: one frame)", RunTop},
      {"serve", "live GPU metrics over HTTP: Prometheus /metrics, JSON, a status page", RunServe},
      {"bench", "is this machine as fast as it should be? figures against the device's limits", RunBench},
      {"history", "GPU samples and events over time from the SQLite history (table, --json, --svg)", RunHistory},
      {"plan", "the newest stack this machine runs, explained and written as setup files", RunPlan},
      {"check", "will a project's environment files (conda, pip, Dockerfile, compose) work here?", RunCheck},
      {"capture", "save what doctor reads into a .tar.gz (any machine becomes a test case)", RunCapture},
      {"explain", "what a finding means and how to fix it (dlrig explain --list)", RunExplain},
      {"kb", "list the built-in knowledge base and its sources", RunKb},
  };
  return kCommands;
}

}  // namespace dlrig
