#include "probe/loader.h"

#include <cctype>

#include "core/strings.h"

namespace dlrig {
namespace {

// glibc ends a $NAME token at the first character that cannot be part of a name.
bool IsNameChar(std::string_view rest) {
  return !rest.empty() && (std::isalnum(static_cast<unsigned char>(rest[0])) || rest[0] == '_');
}

// Replaces one dynamic string token, in both $NAME and ${NAME} spellings.
std::string ReplaceToken(std::string_view text, std::string_view name, std::string_view value) {
  std::string out;
  for (size_t i = 0; i < text.size();) {
    std::string_view rest = text.substr(i);
    bool braced = StartsWith(rest, "${") && rest.substr(2).starts_with(name) &&
                  rest.substr(2 + name.size()).starts_with("}");
    bool plain = !braced && StartsWith(rest, "$") && rest.substr(1).starts_with(name) &&
                 !IsNameChar(rest.substr(1 + name.size()));
    if (braced || plain) {
      out.append(value);
      i += braced ? name.size() + 3 : name.size() + 1;
    } else {
      out.push_back(text[i++]);
    }
  }
  return out;
}

class Search {
 public:
  Search(const Root& root, uint16_t machine, LoaderResolution& out)
      : root_(root), machine_(machine), out_(out) {}

  // Tries `dir/soname`; true when the loader would take it.
  bool TryDir(std::string_view dir, std::string_view soname, LoaderStep step) {
    if (dir.empty() || dir[0] != '/') {
      Note(std::string(dir) + "/" + std::string(soname), step,
           "skipped: relative directory depends on the working directory");
      return false;
    }
    // The kernel resolves ".." after following links: name the file by its real directory.
    auto real = root_.Resolve(dir);
    return TryFile(JoinPath(real ? *real : NormalizePath(dir), soname), step);
  }

  bool TryFile(const std::string& path, LoaderStep step) {
    auto info = root_.Stat(path);
    if (!info) return Note(path, step, std::string(ErrorKindName(info.error().kind))), false;
    if (info->type != FileType::kRegular) return Note(path, step, "not a regular file"), false;
    if (info->size_bytes == 0) {
      Note(path, step, "loaded (0-byte placeholder: headers not checked)");
      return Take(path, step, true);
    }
    auto elf = ReadElf(root_, path);
    if (!elf) return Note(path, step, "skipped: " + elf.error().message), false;
    if (machine_ != 0 && elf->machine != machine_) {
      Note(path, step, "skipped: wrong machine " + ElfMachineName(elf->machine));
      return false;
    }
    Note(path, step, "loaded");
    return Take(path, step, false);
  }

 private:
  void Note(const std::string& path, LoaderStep step, std::string outcome) {
    out_.tried.push_back({path, step, std::move(outcome)});
  }
  bool Take(const std::string& path, LoaderStep step, bool placeholder) {
    out_.path = path;
    out_.step = step;
    out_.placeholder = placeholder;
    return true;
  }

  const Root& root_;
  uint16_t machine_;
  LoaderResolution& out_;
};

bool SearchDirs(Search& s, const std::vector<std::string>& dirs, std::string_view origin,
                const LoaderSearch& search, std::string_view soname, LoaderStep step) {
  for (const std::string& dir : dirs)
    if (s.TryDir(ExpandDst(dir, origin, search), soname, step)) return true;
  return false;
}

bool SearchCache(Search& s, const LoaderSearch& search, std::string_view soname,
                 LoaderResolution& out) {
  if (!search.config) return false;
  if (!search.config->cache) {
    out.tried.push_back(
        {"ld.so.cache", LoaderStep::kCache, "unreadable: " + search.config->cache.error().message});
    return false;
  }
  for (const LoaderCacheEntry& e : *search.config->cache)
    if (e.soname == soname && s.TryFile(e.path, LoaderStep::kCache)) return true;
  return false;
}

}  // namespace

const char* LoaderStepName(LoaderStep step) {
  switch (step) {
    case LoaderStep::kDirectPath:
      return "direct_path";
    case LoaderStep::kRpath:
      return "rpath";
    case LoaderStep::kLdLibraryPath:
      return "ld_library_path";
    case LoaderStep::kRunpath:
      return "runpath";
    case LoaderStep::kCache:
      return "ld_so_cache";
    case LoaderStep::kDefaultDirs:
      return "default_dirs";
  }
  return "unknown";
}

std::string ExpandDst(std::string_view entry, std::string_view origin_dir,
                      const LoaderSearch& search) {
  std::string out = ReplaceToken(entry, "ORIGIN", origin_dir);
  out = ReplaceToken(out, "LIB", search.lib_dst);
  return ReplaceToken(out, "PLATFORM", search.platform);
}

namespace {

LoaderResolution ResolveFile(const Root& root, const LoaderSearch& search,
                             std::string_view importer, const ElfInfo& importer_elf,
                             std::string_view soname) {
  LoaderResolution out;
  Search s(root, importer_elf.machine, out);
  if (soname.find('/') != std::string_view::npos) {
    if (!s.TryFile(std::string(soname), LoaderStep::kDirectPath))
      out.path = Fail(ErrorKind::kNotFound, std::string(soname) + " does not exist");
    return out;
  }
  std::string origin = DirName(importer);
  bool found =
      (!importer_elf.has_runpath &&
       SearchDirs(s, importer_elf.rpath, origin, search, soname, LoaderStep::kRpath)) ||
      SearchDirs(s, search.ld_library_path, origin, search, soname, LoaderStep::kLdLibraryPath) ||
      SearchDirs(s, importer_elf.runpath, origin, search, soname, LoaderStep::kRunpath) ||
      SearchCache(s, search, soname, out) ||
      (search.config && SearchDirs(s, search.config->default_dirs, origin, search, soname,
                                   LoaderStep::kDefaultDirs));
  if (!found)
    out.path = Fail(ErrorKind::kNotFound, std::string(soname) + " is not in any searched place");
  return out;
}

// Fills `out.symbols` from the file `out` resolved to.
void CheckSymbols(const Root& root, const ElfSymbols& importer, std::string_view soname,
                  LoaderResolution& out) {
  if (!out.path || out.placeholder) return;
  auto provider = ReadElfSymbols(root, *out.path);
  if (!provider) {
    out.symbols = tl::unexpected(provider.error());
    return;
  }
  out.symbols = CheckSymbolNeeds(importer, soname, *provider);
}

}  // namespace

LoaderResolution ResolveNeeded(const Root& root, const LoaderSearch& search,
                               std::string_view importer, const ElfInfo& importer_elf,
                               std::string_view soname, const ElfSymbols* importer_symbols) {
  LoaderResolution out = ResolveFile(root, search, importer, importer_elf, soname);
  if (importer_symbols != nullptr) CheckSymbols(root, *importer_symbols, soname, out);
  return out;
}

std::string DetectLibDst(const Root& root, uint16_t machine) {
  std::string multiarch = machine == 183 ? "aarch64-linux-gnu" : "x86_64-linux-gnu";
  if (root.IsDir("/usr/lib/" + multiarch)) return "lib/" + multiarch;
  return root.IsDir("/usr/lib64") ? "lib64" : "lib";
}

}  // namespace dlrig
