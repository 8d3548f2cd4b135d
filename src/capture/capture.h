// dlrig capture: everything the probes read on this machine, saved as a tree in a .tar.gz
// that `dlrig doctor --root` accepts. Files keep their content; shared libraries and programs
// become empty placeholders with their names and links kept; device nodes
// are listed in dev.listing. Beside the tree: environ.txt (only the variables dlrig reads),
// doctor.json (the report, with the driver's answers), uname.txt. Secrets in shell start-up
// files and token-shaped values in environ.txt and doctor.json are replaced by "<redacted>"
// (capture/redact.h); the archive is written with mode 0600.
#pragma once

#include <string>

#include "core/result.h"
#include "probe/context.h"

namespace dlrig {

struct CaptureStats {
  size_t files = 0, placeholders = 0, links = 0, dirs = 0;
  uint64_t bytes = 0;
};

/// Runs every probe on `ctx` (which must read this machine) and writes the archive to `out`.
Result<CaptureStats> WriteCapture(const ProbeContext& ctx, Root& root, const std::string& out);

}  // namespace dlrig
