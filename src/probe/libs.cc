#include "probe/libs.h"

#include <algorithm>
#include <set>

#include "core/strings.h"
#include "core/version.h"
#include "probe/toolkit.h"

namespace dlrig {
namespace {

struct LibrarySpec {
  const char* library;
  const char* so_base;   ///< "libcudnn.so"
  const char* headers[2];  ///< newest first
  const char* macros[3];  ///< major, minor, patch
  const char* package_prefixes[2];
};

const LibrarySpec kSpecs[] = {
    {"cudnn", "libcudnn.so", {"cudnn_version.h", "cudnn.h"},
     {"CUDNN_MAJOR", "CUDNN_MINOR", "CUDNN_PATCHLEVEL"}, {"libcudnn", "cudnn"}},
    {"nccl", "libnccl.so", {"nccl.h", nullptr}, {"NCCL_MAJOR", "NCCL_MINOR", "NCCL_PATCH"},
     {"libnccl", nullptr}},
    {"cublas", "libcublas.so", {"cublas_api.h", nullptr},
     {"CUBLAS_VER_MAJOR", "CUBLAS_VER_MINOR", "CUBLAS_VER_PATCH"}, {"libcublas", "cuda-cublas"}},
    {"tensorrt", "libnvinfer.so", {"NvInferVersion.h", nullptr},
     {"NV_TENSORRT_MAJOR", "NV_TENSORRT_MINOR", "NV_TENSORRT_PATCH"},
     {"libnvinfer", "tensorrt"}},
};

const char* const kLibDirs[] = {"/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib",
                                "/usr/local/lib", "/lib/x86_64-linux-gnu"};
const char* const kIncludeDirs[] = {"/usr/include", "/usr/include/x86_64-linux-gnu",
                                    "/usr/local/include"};
const char* const kToolkitLibs[] = {"lib64", "lib", "targets/x86_64-linux/lib",
                                    "targets/sbsa-linux/lib"};
const char* const kToolkitIncludes[] = {"include", "targets/x86_64-linux/include",
                                        "targets/sbsa-linux/include"};

// Canonical directories, each once, in the order first seen.
class DirSet {
 public:
  explicit DirSet(const Root& root) : root_(root) {}
  void Add(const std::string& dir) {
    if (dir.empty() || dir[0] != '/') return;
    auto real = root_.Resolve(dir);
    if (!real || !root_.IsDir(*real) || !seen_.insert(*real).second) return;
    dirs_.push_back(*real);
  }
  const std::vector<std::string>& dirs() const { return dirs_; }

 private:
  const Root& root_;
  std::set<std::string> seen_;
  std::vector<std::string> dirs_;
};

void AddToolkitDirs(const Root& root, DirSet& libs, DirSet& includes) {
  auto entries = root.ListDir("/usr/local");
  if (!entries) return;
  for (auto& e : *entries) {
    if (!StartsWith(e.name, "cuda") && !StartsWith(e.name, "tensorrt") &&
        !StartsWith(e.name, "TensorRT"))
      continue;
    std::string base = JoinPath("/usr/local", e.name);
    for (const char* sub : kToolkitLibs) libs.Add(JoinPath(base, sub));
    for (const char* sub : kToolkitIncludes) includes.Add(JoinPath(base, sub));
  }
}

void ScanLibDir(const Root& root, const std::string& dir, std::vector<LibraryCopy>& out) {
  auto entries = root.ListDir(dir);
  if (!entries) return;
  for (const LibrarySpec& spec : kSpecs) {
    std::vector<std::string> names;
    for (auto& e : *entries)
      if (e.name == spec.so_base || StartsWith(e.name, std::string(spec.so_base) + "."))
        names.push_back(e.name);
    if (names.empty()) continue;
    LibraryCopy copy{spec.library, "shared library", dir, names, {}, ""};
    if (auto v = VersionFromSoNames(spec.so_base, names)) {
      copy.version = *v;
      copy.version_source = std::string(spec.so_base) + "." + *v;
    } else {
      copy.version = Fail(ErrorKind::kNotFound, "no versioned file name (only " + names[0] + ")");
    }
    out.push_back(std::move(copy));
  }
}

void ScanIncludeDir(const Root& root, const std::string& dir, std::vector<LibraryCopy>& out) {
  for (const LibrarySpec& spec : kSpecs) {
    for (const char* header : spec.headers) {
      if (!header) continue;
      std::string path = JoinPath(dir, header);
      auto text = root.ReadFile(path, 8u << 20);
      if (!text && text.error().kind == ErrorKind::kNotFound) continue;
      LibraryCopy copy{spec.library, "header", path, {}, {}, header};
      copy.version = text ? ParseLibraryHeaderVersion(spec.library, *text)
                          : Result<std::string>(tl::unexpected(text.error()));
      out.push_back(std::move(copy));
      break;  // cudnn.h only when there is no cudnn_version.h
    }
  }
}

}  // namespace

Result<std::string> ParseLibraryHeaderVersion(std::string_view library, std::string_view text) {
  for (const LibrarySpec& spec : kSpecs) {
    if (library != spec.library) continue;
    std::string out;
    for (const char* macro : spec.macros) {
      auto v = HeaderDefine(text, macro);
      if (!v || *v < 0)
        return Fail(ErrorKind::kMalformed, std::string("no numeric #define ") + macro);
      if (!out.empty()) out += '.';
      out += std::to_string(*v);
    }
    return out;
  }
  return Fail(ErrorKind::kUnsupported, "unknown library " + std::string(library));
}

std::optional<std::string> VersionFromSoNames(std::string_view base,
                                              const std::vector<std::string>& names) {
  std::optional<Version> best;
  std::string prefix = std::string(base) + ".";
  for (auto& name : names) {
    if (!StartsWith(name, prefix)) continue;
    auto v = Version::Parse(name.substr(prefix.size()));
    if (!v || !v->suffix.empty()) continue;
    if (!best || v->parts.size() > best->parts.size() ||
        (v->parts.size() == best->parts.size() && *v > *best))
      best = v;
  }
  if (!best) return std::nullopt;
  return best->text;
}

LibraryFacts ProbeLibraries(const ProbeContext& ctx, const LoaderConfig& loader,
                            const DpkgFacts& dpkg) {
  const Root& root = ctx.root;
  DirSet libs(root), includes(root);
  for (auto& dir : loader.conf_dirs) libs.Add(dir);
  if (loader.cache)
    for (auto& e : *loader.cache) libs.Add(DirName(e.path));
  for (const char* dir : kLibDirs) libs.Add(dir);
  for (auto& dir : loader.default_dirs) libs.Add(dir);
  for (const char* dir : kIncludeDirs) includes.Add(dir);
  AddToolkitDirs(root, libs, includes);

  LibraryFacts facts;
  for (auto& dir : libs.dirs()) ScanLibDir(root, dir, facts.copies);
  for (auto& dir : includes.dirs()) ScanIncludeDir(root, dir, facts.copies);
  std::stable_sort(facts.copies.begin(), facts.copies.end(),
                   [](const LibraryCopy& a, const LibraryCopy& b) { return a.library < b.library; });
  facts.searched_dirs = libs.dirs();
  facts.searched_dirs.insert(facts.searched_dirs.end(), includes.dirs().begin(),
                             includes.dirs().end());
  for (const LibrarySpec& spec : kSpecs)
    for (const char* prefix : spec.package_prefixes)
      if (prefix)
        for (auto& p : dpkg.WithPrefix(prefix)) facts.packages.push_back(p);
  return facts;
}

}  // namespace dlrig
