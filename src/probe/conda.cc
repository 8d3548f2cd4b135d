#include "probe/conda.h"

#include <algorithm>

#include "core/strings.h"

namespace dlrig {
namespace {

const char* const kBaseNames[] = {"miniconda3", "anaconda3", "miniforge3", "mambaforge",
                                  "micromamba", ".conda",    "conda"};
const char* const kSystemBases[] = {"/opt/conda",      "/opt/miniconda3",  "/opt/anaconda3",
                                    "/opt/miniforge3", "/usr/local/conda", "/opt/micromamba"};
constexpr size_t kMaxEnvironmentsTxt = 1 << 20;

bool IsCondaPrefix(const Root& root, const std::string& prefix) {
  return root.IsDir(JoinPath(prefix, "conda-meta"));
}

class EnvList {
 public:
  explicit EnvList(const Root& root) : root_(root) {}
  void Add(const std::string& raw, const std::string& origin) {
    std::string prefix = NormalizePath(raw);
    if (raw.empty() || raw[0] != '/' || !Accept(prefix)) return;
    auto it = std::find_if(envs_.begin(), envs_.end(),
                           [&](const CondaEnvRef& e) { return e.prefix == prefix; });
    if (it == envs_.end())
      envs_.push_back({prefix, {origin}});
    else if (std::find(it->origins.begin(), it->origins.end(), origin) == it->origins.end())
      it->origins.push_back(origin);
  }
  // A base install and every env under its envs/ directory.
  void AddBase(const std::string& base) {
    if (!root_.IsDir(base)) return;
    Add(base, base + " (base install)");
    std::string envs = JoinPath(base, "envs");
    auto entries = root_.ListDir(envs);
    if (!entries) return;
    for (const DirEntry& e : *entries) Add(JoinPath(envs, e.name), envs);
  }
  std::vector<CondaEnvRef> Take() { return std::move(envs_); }

 private:
  // A conda prefix, or one we may not look into: that env is reported with the reason rather
  // than silently left out.
  bool Accept(const std::string& prefix) const {
    if (IsCondaPrefix(root_, prefix)) return true;
    auto meta = root_.Stat(JoinPath(prefix, "conda-meta"));
    return !meta && meta.error().kind == ErrorKind::kNoPermission;
  }

  const Root& root_;
  std::vector<CondaEnvRef> envs_;
};

}  // namespace

std::optional<CondaPackage> ParseCondaMetaName(std::string_view file_name) {
  if (!EndsWith(file_name, ".json")) return std::nullopt;
  std::string_view stem = file_name.substr(0, file_name.size() - 5);
  size_t build_dash = stem.rfind('-');
  if (build_dash == std::string_view::npos || build_dash == 0) return std::nullopt;
  size_t version_dash = stem.rfind('-', build_dash - 1);
  if (version_dash == std::string_view::npos || version_dash == 0) return std::nullopt;
  CondaPackage p{std::string(stem.substr(0, version_dash)),
                 std::string(stem.substr(version_dash + 1, build_dash - version_dash - 1)),
                 std::string(stem.substr(build_dash + 1))};
  if (p.version.empty() || p.build.empty()) return std::nullopt;
  return p;
}

bool IsCondaCudaPackage(std::string_view name) {
  static const char* const kExact[] = {"cuda-version", "cudatoolkit",  "cudnn",    "nccl",
                                       "pytorch",      "tensorflow",   "jaxlib",   "python",
                                       "pytorch-cuda", "cuda-toolkit", "libcudnn", "libnccl",
                                       "cpuonly",      "pytorch-mutex", "libtorch"};
  for (const char* n : kExact)
    if (name == n) return true;
  return StartsWith(name, "cuda-cudart") || StartsWith(name, "cuda-nvcc") ||
         StartsWith(name, "cuda-runtime") || StartsWith(name, "cuda-libraries") ||
         StartsWith(name, "libcublas") || StartsWith(name, "libcusparse") ||
         StartsWith(name, "libcufft") || StartsWith(name, "libcurand") ||
         StartsWith(name, "libcusolver") || StartsWith(name, "libnvjitlink");
}

std::vector<std::string> HomeDirs(const Root& root) {
  std::vector<std::string> homes;
  if (root.IsDir("/root")) homes.push_back("/root");
  if (auto entries = root.ListDir("/home")) {
    for (const DirEntry& e : *entries)
      if (root.IsDir("/home/" + e.name)) homes.push_back("/home/" + e.name);
  }
  return homes;
}

std::vector<CondaEnvRef> FindCondaEnvs(const ProbeContext& ctx) {
  EnvList list(ctx.root);
  if (auto prefix = ctx.env.Get("CONDA_PREFIX")) list.Add(*prefix, "CONDA_PREFIX");
  for (const std::string& home : HomeDirs(ctx.root)) {
    std::string txt = home + "/.conda/environments.txt";
    if (auto text = ctx.root.ReadFile(txt, kMaxEnvironmentsTxt)) {
      for (const std::string& line : SplitLines(*text)) list.Add(std::string(Trim(line)), txt);
    }
    for (const char* base : kBaseNames) list.AddBase(JoinPath(home, base));
  }
  for (const char* base : kSystemBases) list.AddBase(base);
  return list.Take();
}

Result<std::vector<CondaPackage>> ListCondaPackages(const Root& root, std::string_view prefix) {
  auto entries = root.ListDir(JoinPath(prefix, "conda-meta"));
  if (!entries) return tl::unexpected(entries.error());
  std::vector<CondaPackage> packages;
  for (const DirEntry& e : *entries)
    if (auto p = ParseCondaMetaName(e.name)) packages.push_back(std::move(*p));
  return packages;
}

}  // namespace dlrig
