// What a project's own environment files ask for, read without judging: conda
// environment.yml, pip requirements files, pyproject.toml, Dockerfile, docker-compose.yml.
// Every fact keeps the file and line it came from, so `dlrig check` can name the line to change.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/strings.h"
#include "core/version.h"

namespace dlrig {

enum class ProjectFileKind { kConda, kRequirements, kPyproject, kDockerfile, kCompose };

/// "conda", "requirements", "pyproject", "dockerfile", "compose" (the --type names).
const char* ProjectFileKindName(ProjectFileKind kind);
std::optional<ProjectFileKind> ParseProjectFileKind(std::string_view name);
/// The kind of `path` from its name ("environment.yml", "requirements-dev.txt", "Dockerfile.gpu",
/// "compose.yaml"), else from its content; nullopt when neither says.
std::optional<ProjectFileKind> DetectProjectFileKind(std::string_view path, std::string_view text);

/// A line of a project file as written, shared by every fact read from it: a 260 KB
/// `RUN pip install` line naming 20,000 packages is held once, not once per package.
class LineText {
 public:
  LineText() = default;
  LineText(std::string text) : text_(std::make_shared<const std::string>(std::move(text))) {}
  LineText(const char* text) : LineText(std::string(text)) {}
  const std::string& str() const { return text_ ? *text_ : Empty(); }
  operator std::string_view() const { return str(); }
  bool empty() const { return str().empty(); }
  size_t find(std::string_view what, size_t pos = 0) const { return str().find(what, pos); }
  size_t find(char c, size_t pos = 0) const { return str().find(c, pos); }
  size_t rfind(char c) const { return str().rfind(c); }
  friend bool operator==(const LineText& a, std::string_view b) { return a.str() == b; }

 private:
  static const std::string& Empty() {
    static const std::string empty;
    return empty;
  }
  std::shared_ptr<const std::string> text_;
};

/// Where a fact was read: the file, its 1-based line, and that line as written (trimmed).
struct Located {
  std::string file;
  int line = 0;
  LineText text;
};

/// The lines of one text, found once: At(n) is LineOf(text, n), the same shared LineText for
/// every fact on line n (LineOf scans from the start and copies on every call).
class LineIndex {
 public:
  explicit LineIndex(std::string_view text);
  /// Line `number` (1-based), trimmed; "" past the end.
  LineText At(int number);

 private:
  std::string_view text_;
  std::vector<size_t> starts_;
  std::map<int, LineText> made_;
};

/// One package a file asks for.
struct PackageSpec {
  std::string name;     ///< PEP 503 normalised: lowercase, runs of "-_." -> "-"
  std::string manager;  ///< "pip" or "conda"
  std::string spec;     ///< the version constraint as written: "==2.1.0+cu121", "=2.1.*"
  /// The one release the spec allows, when it names one: "==2.1.0+cu121", conda "=2.1" or
  /// "2.1.*" (-> 2.1). Ranges (">=2.1") leave it unset: nothing is guessed.
  std::optional<Version> version;
  std::string build;         ///< a conda build string ("*cuda*", "py3.10_cuda12.1_cudnn8_0")
  std::string channel;       ///< conda "pytorch::pytorch" -> "pytorch"
  std::string url;           ///< "git+https://github.com/NVIDIA/apex", a path, or a wheel URL
  bool from_source = false;  ///< a VCS URL, a local path or -e: built at install
  std::vector<std::string> options;  ///< per-requirement options ("--config-settings=...")
  std::string marker;                ///< the environment marker after ';', verbatim
  std::vector<std::string> extras;   ///< "[and-cuda]" -> {"and-cuda"}, lowercase
  Located at;
};

/// A package index a pip file points at (--index-url / --extra-index-url / uv's [[tool.uv.index]]).
struct IndexUrl {
  std::string url;
  bool extra = false;
  Located at;
};

/// `ENV NAME=value` of a Dockerfile or a compose service's `environment`.
struct EnvSetting {
  std::string name, value;
  Located at;
};

/// A container image reference: "nvidia/cuda:12.4.1-cudnn-devel-ubuntu22.04".
struct ImageRef {
  std::string name;  ///< "nvidia/cuda" (registry kept: "nvcr.io/nvidia/pytorch")
  std::string tag;   ///< "12.4.1-cudnn-devel-ubuntu22.04"; "" when none
  Located at;
};

/// One stage of a Dockerfile: its base image and what its RUN lines install.
struct DockerStage {
  ImageRef image;
  std::vector<PackageSpec> packages;  ///< from RUN pip/conda install
  std::vector<IndexUrl> indexes;      ///< from RUN pip install --index-url
  std::vector<EnvSetting> env;        ///< ENV, plus VAR=value prefixes of RUN commands
};

/// `deploy.resources.reservations.devices[]` of a compose service.
struct ComposeDevice {
  std::string driver;                     ///< "nvidia", "" when not given
  std::vector<std::string> capabilities;  ///< as written
  Located at;                             ///< the device entry
  Located capabilities_at;                ///< the capabilities line
  bool capabilities_flow = false;         ///< written as "[gpu, utility]" on one line
};

struct ComposeService {
  std::string name;
  Located at;
  std::optional<ImageRef> image;
  std::optional<Located> runtime_nvidia;  ///< "runtime: nvidia"
  std::optional<Located> gpus;            ///< the service-level "gpus:" attribute
  std::vector<ComposeDevice> devices;
  std::vector<EnvSetting> env;
};

/// Everything read from one file (and the requirements files it includes).
struct ProjectFacts {
  ProjectFileKind kind = ProjectFileKind::kRequirements;
  std::string path;
  std::vector<PackageSpec> packages;  ///< conda, pip and pyproject dependencies
  std::vector<IndexUrl> indexes;
  std::vector<std::string> channels;  ///< conda channels, in order
  std::optional<PackageSpec> python;  ///< conda "python=3.10", pyproject requires-python
  std::vector<DockerStage> stages;
  std::vector<ComposeService> services;
  std::vector<std::string> includes;  ///< -r / -c files, as written, relative to `path`
};

/// PEP 503 name normalisation.
std::string NormalizePackageName(std::string_view name);

/// Reads `path` (a file on this machine) as `kind`, or as the kind its name and content say;
/// requirements files it includes (-r, -c) are read too, relative to it. kNotFound,
/// kNoPermission or kMalformed with a message naming the file (and line).
Result<ProjectFacts> LoadProjectFile(const std::string& path, std::optional<ProjectFileKind> kind);

// The parsers, one per kind (project_<kind>.cc). `path` only names the file in facts/errors.
Result<ProjectFacts> ParseCondaEnvironment(std::string_view text, const std::string& path);
Result<ProjectFacts> ParseRequirements(std::string_view text, const std::string& path);
Result<ProjectFacts> ParsePyproject(std::string_view text, const std::string& path);
Result<ProjectFacts> ParseDockerfile(std::string_view text, const std::string& path);
Result<ProjectFacts> ParseCompose(std::string_view text, const std::string& path);

/// Adds one requirements-file line (a requirement, -r/-c, --index-url, -e, ...) to `facts`;
/// kMalformed naming the line when it is neither a requirement nor an option.
Result<void> AddRequirementLine(std::string_view line, const Located& at, ProjectFacts& facts);
/// Line `number` (1-based) of `text`, trimmed; "" past the end.
std::string LineOf(std::string_view text, int number);

/// One PEP 508 requirement ("torch==2.1.0+cu121; sys_platform == 'linux'", "name @ url",
/// "git+https://...#egg=apex", a wheel URL), or nullopt when the text is not one.
std::optional<PackageSpec> ParsePipRequirement(std::string_view text, const Located& at);
/// One conda match spec ("pytorch-cuda=12.1", "pytorch::pytorch=2.1.*=*cuda*", "numpy >=1.24").
std::optional<PackageSpec> ParseCondaSpec(std::string_view text, const Located& at);
/// The image in a "FROM" / "image:" value ("nvidia/cuda:12.4.1-devel-ubuntu22.04@sha256:...").
ImageRef ParseImageRef(std::string_view text, const Located& at);

/// The physical line at `pos` (without its "\n" or a trailing "\r"), moving `pos` past it;
/// call while pos < text.size().
inline std::string_view NextLine(std::string_view text, size_t& pos) {
  size_t end = text.find('\n', pos);
  std::string_view line =
      text.substr(pos, end == std::string_view::npos ? text.size() - pos : end - pos);
  pos = end == std::string_view::npos ? text.size() : end + 1;
  if (line.ends_with('\r')) line.remove_suffix(1);
  return line;
}

}  // namespace dlrig
