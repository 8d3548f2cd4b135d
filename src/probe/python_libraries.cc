#include "probe/python_libraries.h"

#include "probe/elf_symbols.h"

#include <algorithm>

#include "core/strings.h"
#include "core/version.h"
#include "probe/libs.h"

namespace dlrig {
namespace {

const char* const kReportedPrefixes[] = {"libcudart.so", "libcudnn.so", "libnccl.so"};
constexpr size_t kMaxHeader = 1 << 20;

bool IsReported(std::string_view soname) {
  return std::any_of(std::begin(kReportedPrefixes), std::end(kReportedPrefixes),
                     [&](const char* p) { return StartsWith(soname, p); });
}

std::string SonamePrefix(std::string_view soname) {
  size_t at = soname.find(".so");
  return std::string(soname.substr(0, at == std::string_view::npos ? soname.size() : at + 3));
}

const WheelLayout* FindLayout(const WheelLayouts& layouts, std::string_view framework, int major) {
  for (const WheelLayout& l : layouts.layouts)
    if (l.framework == framework && l.cuda_major == major) return &l;
  return nullptr;
}

// The sonames to report: the importer's DT_NEEDED, plus those the layout names that it lacks.
std::vector<std::string> Sonames(const std::vector<std::string>& needed,
                                 const WheelLayout* layout) {
  std::vector<std::string> out;
  for (const std::string& n : needed)
    if (IsReported(n)) out.push_back(n);
  for (const std::string& n : layout ? layout->needed : std::vector<std::string>{})
    if (std::none_of(out.begin(), out.end(),
                     [&](const std::string& o) { return SonamePrefix(o) == SonamePrefix(n); }))
      out.push_back(n);
  return out;
}

// A framework that dlopens <site>/<dir>/<soname> itself before ld.so's own search.
LoaderResolution Preload(const Root& root, const LoaderSearch& search, const WheelLayout& layout,
                         const std::string& site, const std::string& importer,
                         const std::string& soname) {
  std::vector<LoaderCandidate> tried;
  for (const std::string& dir : layout.runpath) {
    LoaderResolution r =
        ResolveNeeded(root, search, importer, ElfInfo{}, JoinPath(JoinPath(site, dir), soname));
    tried.insert(tried.end(), r.tried.begin(), r.tried.end());
    if (r.path) return r.tried = tried, r;
  }
  LoaderResolution r = ResolveNeeded(root, search, importer, ElfInfo{}, soname);
  tried.insert(tried.end(), r.tried.begin(), r.tried.end());
  r.tried = tried;
  return r;
}

std::optional<std::string> WheelVersion(const LibraryContext& lc, const std::vector<PythonDist>& dists,
                                        const std::string& path, std::string* source) {
  std::string file = BaseName(path);
  auto major = Version::Parse(file.substr(std::min(file.size(), SonamePrefix(file).size() + 1)));
  for (const LibraryWheels& lib : lc.layouts.libraries) {
    if (!StartsWith(file, lib.prefix)) continue;
    for (const PythonDist& d : dists) {
      auto v = Version::Parse(d.version);
      if (std::find(lib.wheels.begin(), lib.wheels.end(), d.name) == lib.wheels.end() ||
          !StartsWith(path, d.site_dir + "/nvidia/") ||
          (major && v && v->major() != major->major()))
        continue;
      *source = d.name + " wheel (dist-info)";
      return d.version;
    }
  }
  return std::nullopt;
}

}  // namespace

Result<std::string> LibraryVersion(const Root& root, const LibraryContext& lc, const PythonEnv& env,
                                   const std::string& path, std::string* source) {
  if (env.dists)
    if (auto v = WheelVersion(lc, *env.dists, path, source)) return *v;
  // A wheel library of another environment (its directory put in LD_LIBRARY_PATH): the
  // dist-info next to it says which version it is.
  // (The env's own site dirs were searched just above.)
  size_t at = path.find("/nvidia/");
  std::string site = path.substr(0, at);
  if (at != std::string::npos &&
      std::find(env.site_dirs.begin(), env.site_dirs.end(), site) == env.site_dirs.end()) {
    if (auto entries = root.ListDir(site)) {
      std::vector<PythonDist> dists;
      for (const DirEntry& e : *entries)
        if (auto d = ParseDistInfoName(e.name); d && StartsWith(d->name, "nvidia-")) {
          d->site_dir = site;
          dists.push_back(std::move(*d));
        }
      if (auto v = WheelVersion(lc, dists, path, source)) return *v;
    }
  }
  std::string real = BaseName(root.Resolve(path).value_or(path));
  auto from_name =
      Version::Parse(real.substr(std::min(real.size(), SonamePrefix(real).size() + 1)));
  if (from_name && from_name->parts.size() >= 2) {
    *source = "file name " + real;
    return from_name->text;
  }
  // The wheel's own header, read with the libraries probe's macro table.
  bool cudnn = StartsWith(real, "libcudnn");
  if (cudnn || StartsWith(real, "libnccl")) {
    std::string header = JoinPath(JoinPath(DirName(DirName(path)), "include"),
                                  cudnn ? "cudnn_version.h" : "nccl.h");
    auto text = root.ReadFile(header, kMaxHeader);
    auto v = text ? ParseLibraryHeaderVersion(cudnn ? "cudnn" : "nccl", *text)
                  : tl::unexpected(text.error());
    if (v) {
      *source = header;
      return *v;
    }
  }
  return Fail(ErrorKind::kNotFound, "no version in the file name, a wheel or a header");
}

Result<std::vector<LibraryLoad>> ResolveFrameworkLoads(const Root& root, const LibraryContext& lc,
                                                       const PythonEnv& env,
                                                       const std::string& site_dir,
                                                       std::string_view framework,
                                                       std::string_view cuda) {
  auto cuda_version = Version::Parse(cuda);
  const WheelLayout* layout =
      cuda_version ? FindLayout(lc.layouts, framework, cuda_version->major()) : nullptr;
  std::string importer = JoinPath(site_dir, layout ? layout->importer : std::string(framework));
  if (framework == "tensorflow")
    importer = JoinPath(site_dir, "tensorflow/libtensorflow_framework.so.2");
  Result<ElfInfo> elf = Fail(ErrorKind::kNotFound, "preloaded by the framework");
  bool assumed = false;
  if (!layout || !layout->preload) {
    elf = ReadElf(root, importer);
    auto info = root.Stat(importer);
    bool placeholder = info && info->type == FileType::kRegular && info->size_bytes == 0;
    if (!elf && layout && placeholder) {
      elf = ElfInfo{};
      if (layout->rpath) {
        elf->rpath = layout->runpath;
      } else {
        elf->runpath = layout->runpath;
        elf->has_runpath = true;
      }
      assumed = true;
    }
    // A file that is there but unreadable, not ELF or garbled: nothing can be said of its needs
    // (a zero-filled libtorch_cuda.so needs nothing "missing"). A missing importer is left to
    // the loads below, which then name it.
    if (!elf && info && !placeholder) {
      const std::string& why = elf.error().message;
      bool named = why.find(importer) != std::string::npos;  // Root's errors name the file
      return Fail(elf.error().kind,
                  (named ? why : importer + ": " + why) + " (what it loads is unknown)");
    }
  }
  // The importer's versioned needs, read once for all its dependencies (a real file only).
  std::optional<ElfSymbols> symbols;
  if (elf && !assumed)
    if (auto read = ReadElfSymbols(root, importer)) symbols = std::move(*read);
  std::vector<LibraryLoad> loads;
  for (const std::string& soname :
       Sonames(elf ? elf->needed : std::vector<std::string>{}, layout)) {
    LibraryLoad load;
    load.soname = soname;
    load.importer = importer;
    load.assumed_layout = assumed;
    if (assumed) load.layout_source = layout->source;
    if (layout && layout->preload) {
      load.resolution = Preload(root, lc.search, *layout, site_dir, importer, soname);
      load.layout_source = layout->source;
    } else if (elf) {
      load.resolution = ResolveNeeded(root, lc.search, importer, *elf, soname,
                                      symbols ? &*symbols : nullptr);
    } else {
      load.resolution.path = tl::unexpected(elf.error());
    }
    if (load.resolution.path)
      load.version = LibraryVersion(root, lc, env, *load.resolution.path, &load.version_source);
    loads.push_back(std::move(load));
  }
  return loads;
}

}  // namespace dlrig
