// Asking the ecosystem's own resolver whether a plan's requirements install, and what exactly:
// `python -m pip install --dry-run --ignore-installed --report FILE` in a throwaway venv of the
// plan's Python (or `uv pip compile` where uv is installed), through a CommandRunner (argv and
// a deadline, never a shell). Its answer becomes the plan's exact pins; when it cannot answer
// the plan keeps the tables' pins and says so.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/exec.h"
#include "core/result.h"
#include "core/version.h"
#include "plan/plan.h"

namespace dlrig {

/// What the resolver is asked.
struct ResolverRequest {
  Version python;                    ///< X.Y of the target environment
  std::optional<Version> glibc;      ///< the target's glibc: its newest manylinux tag
  std::string machine = "x86_64";
  std::string index_url;             ///< "" = PyPI
  std::vector<std::string> extra_index_urls;
  std::vector<std::string> requirements;
};

enum class ResolverChoice { kAuto, kPip, kUv };

struct ResolverOptions {
  /// The whole answer (venv and resolution): past it the plan falls back to its tables.
  std::chrono::milliseconds deadline{180000};
  ResolverChoice tool = ResolverChoice::kAuto;
  std::string scratch_dir;  ///< where the throwaway venv goes; "" = $TMPDIR or /tmp
};

/// The platform tags of a glibc X.Y target, newest first: manylinux_2_35_x86_64 and the levels
/// wheels are built for below it (2_34, 2_31, 2_28, 2_27, 2_24, 2_17 ...), with the legacy
/// manylinux2014/2010/1 aliases.
std::vector<std::string> ManylinuxPlatforms(const Version& glibc, const std::string& machine);

/// pip's argv: `<python> -m pip install --dry-run --ignore-installed --isolated --report FILE
/// [--index-url ..] [--extra-index-url ..] [--target DIR --python-version .. --platform ..
/// --only-binary=:all:] REQS` (DIR beside the report; --dry-run writes nothing there). `cross` adds the target flags when the venv's Python is not the target's.
std::vector<std::string> PipArgv(const std::string& venv_python, const ResolverRequest& request,
                                 const std::string& report_path, bool cross);

/// uv's argv: `uv pip compile IN --python-version X.Y --python-platform x86_64-manylinux_2_NN
/// --no-header --no-annotate` and the indexes, the variant index first in uv's order (uv prefers
/// --extra-index-url to --index-url and takes a package from the first index that has it).
std::vector<std::string> UvArgv(const ResolverRequest& request, const std::string& in_path);

/// pip's --report JSON (version "1"): the "install" list.
Result<std::vector<ResolvedPackage>> ParsePipReport(std::string_view json_text);
/// `uv pip compile` output: "name==version" lines (comments and options skipped).
Result<std::vector<ResolvedPackage>> ParseUvCompile(std::string_view text,
                                                    const std::vector<std::string>& requested);

/// Runs the resolver for `request`. Never fails: a resolver that cannot run or answer gives
/// a Resolution with ran = false and the reason (kTimeout past the deadline).
Resolution RunResolver(const CommandRunner& runner, const ResolverRequest& request,
                       const ResolverOptions& options);

/// Takes the resolver's answer into `plan`: the exact pins of the requested packages, checked
/// with CheckAnswer. On a wrong variant or no answer, the plan keeps its table pins and
/// `plan.resolution` says why (offline = true). Pure.
void ApplyResolution(Plan& plan, Resolution answer);

/// The request for `plan`: its constraints, index, Python and target glibc.
ResolverRequest RequestFor(const Plan& plan, const std::optional<Version>& glibc);

/// Marks `plan` as resolved from the tables only, for `reason` ("--offline").
void MarkOffline(Plan& plan, const std::string& reason);

}  // namespace dlrig
