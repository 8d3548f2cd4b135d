#include "probe/user_driver.h"

#include <algorithm>

#include "core/strings.h"
#include "core/version.h"

namespace dlrig {
namespace {

const char* const kLibraries[] = {"libcuda", "libnvidia-ml"};
const char* const kSonames[] = {"libcuda.so.1", "libnvidia-ml.so.1"};
constexpr const char* kWslDir = "/usr/lib/wsl/lib";
// Relative to a toolkit: where stubs and forward-compat copies live.
const char* const kToolkitExtras[] = {"lib64/stubs", "lib/stubs", "targets/x86_64-linux/lib/stubs",
                                      "targets/sbsa-linux/lib/stubs", "compat"};

// "libcuda.so.1", "libcuda.so.580.159.04"; the bare "libcuda.so" only when `bare` (stubs).
bool IsDriverLibraryName(std::string_view name, bool bare = false) {
  for (const char* lib : kLibraries) {
    std::string so = std::string(lib) + ".so";
    if (StartsWith(name, so + ".") || (bare && name == so)) return true;
  }
  return false;
}

class Collector {
 public:
  explicit Collector(const Root& root) : root_(root) {}

  void AddFile(const std::string& path, const std::string& source, bool on_loader_path) {
    std::string norm = NormalizePath(path);
    for (auto& f : files_) {
      if (f.path != norm) continue;
      if (std::find(f.found_by.begin(), f.found_by.end(), source) == f.found_by.end())
        f.found_by.push_back(source);
      f.on_loader_path |= on_loader_path;
      return;
    }
    files_.push_back(Describe(norm, source, on_loader_path));
  }

  void AddDir(const std::string& dir, const std::string& source, bool on_loader_path) {
    if (dir.empty() || dir[0] != '/') return;
    auto entries = root_.ListDir(dir);
    if (!entries) return;
    for (auto& e : *entries)
      if (IsDriverLibraryName(e.name, !on_loader_path)) AddFile(JoinPath(dir, e.name), source, on_loader_path);
  }

  std::vector<DriverLibraryFile> Take() { return std::move(files_); }

 private:
  DriverLibraryFile Describe(const std::string& path, const std::string& source, bool on_path) {
    DriverLibraryFile f;
    f.path = path;
    std::string base = BaseName(path);
    f.library = base.substr(0, base.find(".so"));
    f.found_by.push_back(source);
    f.on_loader_path = on_path;
    f.kind = ClassifyDriverPath(path);
    f.real_path = root_.Resolve(path);
    if (!f.real_path) {
      f.version = tl::unexpected(f.real_path.error());
      return f;
    }
    auto version = DriverVersionFromName(BaseName(*f.real_path));
    if (version) f.version = *version;
    else f.version = Fail(ErrorKind::kMalformed, "no version in the file name " +
                                                     BaseName(*f.real_path));
    if (f.kind == DriverFileKind::kDriver) f.kind = ClassifyDriverPath(*f.real_path);
    return f;
  }

  const Root& root_;
  std::vector<DriverLibraryFile> files_;
};

void ScanToolkitExtras(const Root& root, Collector& c) {
  auto entries = root.ListDir("/usr/local");
  if (!entries) return;
  std::vector<std::string> seen;  // canonical dirs: cuda → cuda-13.0, lib64 → lib
  for (auto& e : *entries) {
    if (!StartsWith(e.name, "cuda")) continue;
    for (const char* sub : kToolkitExtras) {
      std::string dir = JoinPath(JoinPath("/usr/local", e.name), sub);
      auto real = root.Resolve(dir);
      if (!real || std::find(seen.begin(), seen.end(), *real) != seen.end()) continue;
      seen.push_back(*real);
      c.AddDir(*real, "toolkit scan", false);
    }
  }
}

}  // namespace

DriverQueryOptions DriverQueryOptionsFor(const ProbeContext& ctx) {
  DriverQueryOptions options;
  if (auto lib = ctx.env.Get("DLRIG_NVML_LIBRARY"); lib && !lib->empty()) options.nvml_library = *lib;
  if (auto lib = ctx.env.Get("DLRIG_CUDA_LIBRARY"); lib && !lib->empty()) options.cuda_library = *lib;
  return options;
}

const char* DriverFileKindName(DriverFileKind kind) {
  switch (kind) {
    case DriverFileKind::kDriver: return "driver";
    case DriverFileKind::kStub: return "stub";
    case DriverFileKind::kCompat: return "compat";
  }
  return "driver";
}

std::optional<std::string> DriverVersionFromName(std::string_view file_name) {
  for (const char* lib : kLibraries) {
    std::string prefix = std::string(lib) + ".so.";
    if (!StartsWith(file_name, prefix)) continue;
    std::string_view rest = file_name.substr(prefix.size());
    auto v = Version::Parse(rest);
    if (v && v->parts.size() >= 2 && v->suffix.empty()) return std::string(rest);
  }
  return std::nullopt;
}

DriverFileKind ClassifyDriverPath(std::string_view path) {
  for (auto& part : Split(path, '/')) {
    if (part == "stubs") return DriverFileKind::kStub;
    if (part == "compat") return DriverFileKind::kCompat;
  }
  return DriverFileKind::kDriver;
}

UserDriverFacts ProbeUserDriver(const ProbeContext& ctx, const LoaderConfig& loader,
                                PendingDriverQuery* pending) {
  const Root& root = ctx.root;
  UserDriverFacts facts;
  Collector c(root);
  LoaderSearch search;
  search.config = &loader;
  search.lib_dst = DetectLibDst(root, 62);
  for (auto& dir : ctx.env.GetList("LD_LIBRARY_PATH")) {
    search.ld_library_path.push_back(dir);
    c.AddDir(dir, "LD_LIBRARY_PATH", true);
  }
  if (loader.cache)
    for (auto& e : *loader.cache)
      if (IsDriverLibraryName(e.soname)) c.AddFile(e.path, "ld.so.cache", true);
  for (auto& dir : loader.conf_dirs) c.AddDir(dir, "ld.so.conf", true);
  for (auto& dir : loader.default_dirs) c.AddDir(dir, "default dirs", true);
  c.AddDir(kWslDir, "WSL", true);
  ScanToolkitExtras(root, c);
  facts.files = c.Take();
  for (const char* soname : kSonames)
    facts.picks.push_back({soname, ResolveNeeded(root, search, "/", ElfInfo{}, soname)});
  // WSL ships libcuda.so as a plain file that ldconfig skips; cuDNN 8, Triton and
  // bitsandbytes dlopen that unversioned name.
  if (root.Exists(std::string(kWslDir) + "/libcuda.so.1"))
    facts.picks.push_back({"libcuda.so", ResolveNeeded(root, search, "/", ElfInfo{}, "libcuda.so")});
  if (!root.IsHost())
    facts.query = Fail(ErrorKind::kUnsupported, "not loaded: inspecting a foreign root");
  else if (!ctx.load_libraries)
    facts.query = Fail(ErrorKind::kUnsupported, "not loaded: --no-dlopen");
  else if (pending != nullptr)
    facts.query = pending->Finish();
  else
    facts.query = QueryDriver(DriverQueryOptionsFor(ctx));
  return facts;
}

}  // namespace dlrig
