#include "probe/shell.h"

#include <regex>

#include "core/strings.h"
#include "core/version.h"
#include "probe/path_search.h"

namespace dlrig {
namespace {

const char* const kVariables[] = {
    "CUDA_HOME", "CUDA_PATH", "CUDA_ROOT", "CUDA_VISIBLE_DEVICES", "CUDA_DEVICE_ORDER",
    "NVIDIA_VISIBLE_DEVICES", "NVIDIA_DRIVER_CAPABILITIES", "NVIDIA_REQUIRE_CUDA",
    "LD_PRELOAD", "LIBRARY_PATH", "CUDAHOSTCXX", "TORCH_CUDA_ARCH_LIST", "NCCL_DEBUG",
    "NCCL_P2P_DISABLE", "NCCL_IB_DISABLE", "CONDA_PREFIX", "CONDA_DEFAULT_ENV", "CONDA_EXE",
    "VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PYTHONNOUSERSITE", "PIP_INDEX_URL",
    "PIP_EXTRA_INDEX_URL", "XLA_FLAGS", "TF_FORCE_GPU_ALLOW_GROWTH"};

const char* const kStartupFiles[] = {".bashrc", ".bash_profile", ".profile", ".zshrc",
                                     ".zprofile", ".config/fish/config.fish"};
const char* const kSystemStartupFiles[] = {"/etc/bash.bashrc", "/etc/profile",
                                           "/etc/environment", "/etc/zsh/zshrc"};

std::string LibraryNote(const Root& root, const std::string& dir) {
  auto entries = root.ListDir(dir);
  if (!entries) return "";
  std::string best;
  for (auto& e : *entries) {
    if (!StartsWith(e.name, "libcudart.so.")) continue;
    if (e.name.size() > best.size()) best = e.name;  // the fully versioned name is longest
  }
  for (auto& e : *entries)
    if (best.empty() && (StartsWith(e.name, "libcuda.so") || StartsWith(e.name, "libcudnn.so")))
      best = e.name;
  return best;
}

std::vector<PathEntry> Entries(const ProbeContext& ctx, const char* var, bool binaries) {
  std::vector<PathEntry> out;
  for (auto& dir : ctx.env.GetList(var)) {
    PathEntry e;
    e.dir = dir;
    if (dir.empty() || dir[0] != '/') {
      e.note = "relative entry: searched in the current directory";
      out.push_back(e);
      continue;
    }
    e.exists = ctx.root.IsDir(dir);
    if (!e.exists) e.note = ctx.root.IsHost() ? "does not exist" : "absent from the tree";
    else if (binaries && ctx.root.Exists(JoinPath(dir, "nvcc"))) e.note = "has nvcc";
    else if (!binaries) e.note = LibraryNote(ctx.root, dir);
    out.push_back(std::move(e));
  }
  return out;
}

// A pip-installed tool (`pip install cmake`) is a Python entry-point script; its version is in
// the env's <name>-<version>.dist-info, so no Python interpreter needs to start (150+ ms).
std::optional<std::string> EntryPointVersion(const Root& root, const std::string& path,
                                             const std::string& name) {
  auto head = root.ReadFile(path, 64 * 1024);
  if (!head || !StartsWith(*head, "#!") || !Contains(head->substr(0, head->find('\n')), "python"))
    return std::nullopt;
  std::string lib = JoinPath(DirName(DirName(path)), "lib");
  auto pythons = root.ListDir(lib);
  if (!pythons) return std::nullopt;
  for (auto& py : *pythons) {
    if (!StartsWith(py.name, "python")) continue;
    auto dists = root.ListDir(lib + "/" + py.name + "/site-packages");
    if (!dists) continue;
    for (auto& d : *dists)
      if (StartsWith(d.name, name + "-") && EndsWith(d.name, ".dist-info"))
        return d.name.substr(name.size() + 1, d.name.size() - name.size() - 11);
  }
  return std::nullopt;
}

std::optional<ToolVersion> Tool(const ProbeContext& ctx, const std::string& name,
                                const std::vector<std::string>& args) {
  auto path = FindOnPath(ctx, name);
  if (!path) return std::nullopt;
  ToolVersion tool{*path};
  if (auto version = EntryPointVersion(ctx.root, *path, name)) {
    tool.version = *version;
    return tool;
  }
  std::vector<std::string> argv{*path};
  argv.insert(argv.end(), args.begin(), args.end());
  auto run = ctx.runner.Run(argv, ExecOptions{std::chrono::milliseconds(3000), 64 * 1024});
  if (!run) {
    tool.version = tl::unexpected(run.error());
  } else if (auto v = ParseToolVersion(run->out)) {
    tool.version = *v;
  } else {
    tool.version = Fail(ErrorKind::kMalformed, *path + " printed no version");
  }
  return tool;
}

}  // namespace

std::optional<std::string> ParseToolVersion(std::string_view output) {
  static const std::regex kVersion(R"((\d+\.\d+(\.\d+)?))");
  std::string first_line(output.substr(0, output.find('\n')));
  std::smatch m;
  if (std::regex_search(first_line, m, kVersion)) return m[1].str();
  return std::nullopt;
}

std::vector<StartupLine> ScanStartupFile(const std::string& file, std::string_view text) {
  std::vector<StartupLine> out;
  auto lines = SplitLines(text);
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view l = Trim(lines[i]);
    if (l.empty() || l[0] == '#') {
      if (Contains(l, ">>> conda initialize >>>") || Contains(l, ">>> mamba initialize >>>"))
        out.push_back({file, static_cast<int>(i + 1), std::string(l), "conda-init"});
      continue;
    }
    bool cuda = Contains(ToLower(l), "cuda") || Contains(l, "nvidia");
    if (Contains(l, "LD_LIBRARY_PATH") && cuda)
      out.push_back({file, static_cast<int>(i + 1), std::string(l), "ld-library-path"});
    else if (Contains(l, "PATH") && cuda)
      out.push_back({file, static_cast<int>(i + 1), std::string(l), "cuda-path"});
    else if (Contains(l, "conda activate") || Contains(l, "conda.sh"))
      out.push_back({file, static_cast<int>(i + 1), std::string(l), "conda-init"});
  }
  return out;
}

ShellFacts ProbeShell(const ProbeContext& ctx) {
  ShellFacts facts;
  for (const char* var : kVariables)
    if (auto value = ctx.env.Get(var)) facts.variables.emplace_back(var, *value);
  facts.path = Entries(ctx, "PATH", true);
  facts.ld_library_path = Entries(ctx, "LD_LIBRARY_PATH", false);

  std::vector<std::string> files(std::begin(kSystemStartupFiles), std::end(kSystemStartupFiles));
  if (auto dir = ctx.root.ListDir("/etc/profile.d"))
    for (auto& e : *dir) files.push_back("/etc/profile.d/" + e.name);
  if (auto home = ctx.env.Get("HOME"); home && !home->empty() && (*home)[0] == '/')
    for (const char* f : kStartupFiles) files.push_back(JoinPath(*home, f));
  for (auto& file : files) {
    auto text = ctx.root.ReadFile(file, 1u << 20);
    if (!text) continue;
    facts.startup_files_read.push_back(file);
    for (auto& line : ScanStartupFile(file, *text)) facts.startup_lines.push_back(line);
  }
  facts.gcc = Tool(ctx, "gcc", {"-dumpfullversion", "-dumpversion"});
  facts.cmake = Tool(ctx, "cmake", {"--version"});
  return facts;
}

}  // namespace dlrig
