#include "probe/toolkit.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/strings.h"
#include "core/version.h"
#include "probe/path_search.h"

namespace dlrig {
namespace {

const char* const kCudartDirs[] = {"targets/x86_64-linux/lib", "targets/sbsa-linux/lib", "lib64",
                                   "lib", "lib/x86_64-linux-gnu"};
const char* const kLinks[] = {"/usr/local/cuda", "/etc/alternatives/cuda"};

// "libcudart.so.13.0.96" → "13.0.96" (three components: the short names are only the major).
std::optional<std::string> CudartVersion(std::string_view name) {
  if (!StartsWith(name, "libcudart.so.")) return std::nullopt;
  std::string_view rest = name.substr(13);
  auto v = Version::Parse(rest);
  if (!v || v->parts.size() < 3 || !v->suffix.empty()) return std::nullopt;
  return std::string(rest);
}

void FromCudart(const Root& root, CudaToolkit& tk) {
  for (const char* sub : kCudartDirs) {
    std::string dir = tk.path == "/usr" && std::string(sub) == "lib"
                          ? "/usr/lib/x86_64-linux-gnu" : JoinPath(tk.path, sub);
    auto entries = root.ListDir(dir);
    if (!entries) continue;
    for (auto& e : *entries) {
      if (auto v = CudartVersion(e.name)) {
        tk.version = *v;
        tk.version_source = JoinPath(dir, e.name);
        return;
      }
    }
  }
}

// "cuda-13.0" → "13-0"; "" when the name carries no version.
std::string DpkgSuffix(const std::string& path) {
  std::string base = BaseName(path);
  if (!StartsWith(base, "cuda-")) return "";
  std::string v = base.substr(5);
  std::replace(v.begin(), v.end(), '.', '-');
  return v;
}

void FromDpkg(const DpkgFacts& dpkg, CudaToolkit& tk, bool use_for_version) {
  std::vector<std::string> names;
  if (tk.path == "/usr") names = {"nvidia-cuda-toolkit", "nvidia-cuda-dev"};
  else if (auto s = DpkgSuffix(tk.path); !s.empty())
    names = {"cuda-cudart-" + s, "cuda-toolkit-" + s, "cuda-nvcc-" + s};
  for (auto& name : names) {
    const DpkgPackage* p = dpkg.Find(name);
    if (!p) continue;
    tk.dpkg_package = p->name + " " + p->version;
    if (use_for_version) {
      tk.version = p->version.substr(0, p->version.find('-'));
      tk.version_source = "dpkg " + p->name;
    }
    return;
  }
}

void ReadVersion(const Root& root, const DpkgFacts& dpkg, CudaToolkit& tk) {
  tk.version = Fail(ErrorKind::kNotFound, "no version.json, version.txt, include/cuda.h, "
                                          "libcudart.so.X.Y.Z or dpkg package");
  std::string inc = tk.path == "/usr" ? "/usr/include" : JoinPath(tk.path, "include");
  struct Source {
    std::string path;
    Result<std::string> (*parse)(std::string_view);
  } sources[] = {{JoinPath(tk.path, "version.json"), ParseToolkitVersionJson},
                 {JoinPath(tk.path, "version.txt"), ParseToolkitVersionTxt},
                 {JoinPath(inc, "cuda.h"), ParseCudaHeaderVersion}};
  for (auto& s : sources) {
    if (tk.path == "/usr" && !EndsWith(s.path, "cuda.h")) continue;
    auto text = root.ReadFile(s.path, 8u << 20);
    if (!text) continue;
    if (auto v = s.parse(*text)) {
      tk.version = *v;
      tk.version_source = s.path;
      break;
    }
  }
  if (!tk.version) FromCudart(root, tk);
  FromDpkg(dpkg, tk, !tk.version);
}

class Finder {
 public:
  explicit Finder(const Root& root) : root_(root) {}

  // Adds the toolkit at `path` (following links); `path` is recorded as an alias if it is one.
  void Add(const std::string& path) {
    auto real = root_.Resolve(path);
    if (!real || !root_.IsDir(*real)) return;
    auto it = std::find_if(found_.begin(), found_.end(),
                           [&](const CudaToolkit& t) { return t.path == *real; });
    if (it == found_.end()) {
      found_.push_back(CudaToolkit{*real, {}, {}, "", {}, ""});
      it = found_.end() - 1;
    }
    if (path != *real && std::find(it->aliases.begin(), it->aliases.end(), path) ==
                             it->aliases.end())
      it->aliases.push_back(path);
  }

  void AddMatching(const std::string& dir, const std::string& needle) {
    auto entries = root_.ListDir(dir);
    if (!entries) return;
    for (auto& e : *entries)
      if (Contains(e.name, needle) && root_.Exists(JoinPath(JoinPath(dir, e.name), "bin")))
        Add(JoinPath(dir, e.name));
  }

  std::vector<CudaToolkit> Take() { return std::move(found_); }

 private:
  const Root& root_;
  std::vector<CudaToolkit> found_;
};

// The libcudart files under a CUDA_HOME that a build's -L$CUDA_HOME/lib64 -lcudart may want.
std::vector<std::string> CudartFiles(const Root& root, const std::string& home) {
  std::vector<std::string> found;
  for (const char* dir : {"lib64", "lib", "targets/x86_64-linux/lib", "targets/sbsa-linux/lib"}) {
    auto entries = root.ListDir(JoinPath(home, dir));
    if (!entries) continue;
    for (const DirEntry& e : *entries)
      if (StartsWith(e.name, "libcudart.so")) found.push_back(std::string(dir) + "/" + e.name);
  }
  std::sort(found.begin(), found.end());
  return found;
}

// The nvcc a PATH entry really runs: links followed, and a wrapper script
// (`exec /usr/local/cuda-13.0/bin/nvcc "$@"`) followed to the nvcc it names.
std::optional<std::string> RealNvcc(const Root& root, const std::string& nvcc) {
  auto real = root.Resolve(nvcc);
  if (!real) return std::nullopt;
  auto head = root.ReadFile(*real, 64 * 1024);
  if (!head || !StartsWith(*head, "#!")) return *real;
  for (auto& word : Split(*head, ' ')) {
    std::string w(Trim(word));
    if (!w.empty() && (w.front() == '"' || w.front() == '\'')) w = w.substr(1);
    if (!w.empty() && (w.back() == '"' || w.back() == '\'')) w.pop_back();
    if (w.size() > 9 && w[0] == '/' && EndsWith(w, "/bin/nvcc") && w != *real)
      if (auto target = root.Resolve(w)) return *target;
  }
  return std::nullopt;  // a script that runs something else: not a toolkit
}

}  // namespace

std::optional<long long> HeaderDefine(std::string_view text, std::string_view name) {
  for (auto& line : SplitLines(text)) {
    auto words = Split(std::string(Trim(line)), ' ');
    std::erase_if(words, [](const std::string& w) { return w.empty(); });
    if (words.size() >= 3 && (words[0] == "#define" || words[0] == "#  define") &&
        words[1] == name)
      if (auto v = ParseInt(words[2])) return v;
  }
  return std::nullopt;
}

Result<int> ParseNewestGcc(std::string_view host_config) {
  std::optional<int> guard;  // the last "#if __GNUC__ > N" seen
  for (const std::string& raw : SplitLines(host_config)) {
    std::string_view line = Trim(raw);
    if (StartsWith(line, "#if __GNUC__ > ")) {
      auto n = ParseInt(Trim(line.substr(15)));
      guard = n ? std::optional<int>(static_cast<int>(*n)) : std::nullopt;
    } else if (guard && Contains(line, "unsupported GNU version")) {
      return *guard;
    } else if (StartsWith(line, "#endif")) {
      guard.reset();
    }
  }
  return Fail(ErrorKind::kMalformed, "host_config.h has no \"unsupported GNU version\" guard");
}

Result<std::string> ParseToolkitVersionJson(std::string_view text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return Fail(ErrorKind::kMalformed, "version.json is not JSON");
  auto it = j.find("cuda");
  if (!j.is_object() || it == j.end() || !it->is_object() || !it->contains("version") ||
      !(*it)["version"].is_string())
    return Fail(ErrorKind::kMalformed, "version.json has no cuda.version");
  return (*it)["version"].get<std::string>();
}

Result<std::string> ParseToolkitVersionTxt(std::string_view text) {
  std::string line(Trim(SplitLines(text).empty() ? "" : SplitLines(text)[0]));
  if (!StartsWith(line, "CUDA Version "))
    return Fail(ErrorKind::kMalformed, "version.txt does not start with 'CUDA Version'");
  std::string v(Trim(line.substr(13)));
  if (!Version::Parse(v)) return Fail(ErrorKind::kMalformed, "version.txt: " + line);
  return v;
}

Result<std::string> ParseCudaHeaderVersion(std::string_view text) {
  auto v = HeaderDefine(text, "CUDA_VERSION");
  if (!v || *v <= 0) return Fail(ErrorKind::kMalformed, "no #define CUDA_VERSION");
  return CudaVersionFromInt(static_cast<int>(*v));
}

ToolkitFacts ProbeToolkits(const ProbeContext& ctx, const DpkgFacts& dpkg) {
  const Root& root = ctx.root;
  ToolkitFacts facts;
  Finder finder(root);
  finder.AddMatching("/usr/local", "cuda");
  for (const char* link : kLinks) finder.Add(link);
  finder.AddMatching("/opt", "cuda");
  finder.AddMatching("/opt/nvidia", "cuda");
  for (const char* var : {"CUDA_HOME", "CUDA_PATH"}) {
    ToolkitVariable v{var, ctx.env.Get(var), false};
    if (v.value && !v.value->empty() && (*v.value)[0] == '/') {
      v.exists = root.IsDir(*v.value);
      if (v.exists && root.Exists(JoinPath(*v.value, "bin/nvcc"))) finder.Add(*v.value);
      if (v.exists) v.cudart_files = CudartFiles(root, *v.value);
    }
    facts.variables.push_back(std::move(v));
  }
  facts.nvcc_on_path = FindAllOnPath(ctx, "nvcc");
  for (auto& nvcc : facts.nvcc_on_path)
    if (auto real = RealNvcc(root, nvcc)) finder.Add(DirName(DirName(*real)));
  facts.toolkits = finder.Take();
  std::sort(facts.toolkits.begin(), facts.toolkits.end(),
            [](const CudaToolkit& a, const CudaToolkit& b) { return a.path < b.path; });
  bool distro = root.Exists("/usr/bin/nvcc") || root.IsDir("/usr/lib/cuda");
  if (distro && std::none_of(facts.toolkits.begin(), facts.toolkits.end(),
                             [](const CudaToolkit& t) { return t.path == "/usr"; }))
    facts.toolkits.push_back(CudaToolkit{"/usr", {}, {}, "", {}, ""});
  for (auto& tk : facts.toolkits) {
    ReadVersion(root, dpkg, tk);
    std::string nvcc = JoinPath(tk.path, "bin/nvcc");
    if (!root.Exists(nvcc)) continue;
    tk.nvcc = nvcc;
    auto header = root.ReadFile(JoinPath(tk.path, "include/crt/host_config.h"), 1u << 20);
    tk.newest_gcc = header ? ParseNewestGcc(*header) : tl::unexpected(header.error());
  }
  return facts;
}

}  // namespace dlrig
