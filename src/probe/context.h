// What every probe gets: the root to read through, the inspected shell's environment and
// the subprocess seam. Probes only read; they never print and never judge.
#pragma once

#include <string>
#include <vector>

#include "core/environment.h"
#include "core/exec.h"
#include "core/root.h"

namespace dlrig {

struct ProbeContext {
  const Root& root;
  const Environment& env;
  const CommandRunner& runner;          ///< NoRunner for a foreign root
  std::vector<std::string> extra_envs;  ///< --env PATH (venvs / conda prefixes to inspect)
  bool load_libraries = true;           ///< false: never dlopen driver libraries (--probes=-dlopen)
};

}  // namespace dlrig
