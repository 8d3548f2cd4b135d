#include "probe/ldconfig.h"

#include <fnmatch.h>

#include <algorithm>

#include <cstdint>
#include <cstring>
#include <set>

#include "core/strings.h"

namespace dlrig {
namespace {

constexpr char kOldMagic[] = "ld.so-1.7.0";
constexpr char kNewMagic[] = "glibc-ld.so.cache1.1";
constexpr size_t kNewHeaderBytes = 48;  // magic+version 20, nlibs, len_strings, flags, ext, unused
constexpr size_t kNewEntryBytes = 24;   // flags, key, value, osversion, hwcap(8)
constexpr size_t kOldEntryBytes = 12;   // flags, key, value
constexpr uint32_t kArchMask = 0xff00;
constexpr uint32_t kArchX8664 = 0x0300;
constexpr int kMaxIncludeDepth = 8;

uint32_t Le32(std::string_view bytes, size_t at) {
  uint32_t v;
  std::memcpy(&v, bytes.data() + at, 4);
  return v;
}

std::optional<std::string> CString(std::string_view bytes, size_t base, uint32_t offset) {
  size_t at = base + offset;
  if (at >= bytes.size()) return std::nullopt;
  size_t end = bytes.find('\0', at);
  if (end == std::string_view::npos) return std::nullopt;
  return std::string(bytes.substr(at, end - at));
}

// ld.so.conf: directories, "include GLOB" lines (relative to the including file's dir).
void ReadConf(const Root& root, const std::string& path, int depth, LoaderConfig& cfg,
              std::set<std::string>& seen) {
  if (depth > kMaxIncludeDepth || !seen.insert(path).second) return;
  auto text = root.ReadFile(path, 1u << 20);
  if (!text) return;
  cfg.conf_files.push_back(path);
  for (auto& raw : SplitLines(*text)) {
    std::string line(Trim(raw.substr(0, raw.find('#'))));
    if (line.empty()) continue;
    if (StartsWith(line, "include") && line.size() > 7 && std::isspace(line[7])) {
      for (auto& pattern : Split(std::string(Trim(line.substr(7))), ' ')) {
        std::string abs = pattern[0] == '/' ? pattern : JoinPath(DirName(path), pattern);
        auto entries = root.ListDir(DirName(abs));
        if (!entries) continue;
        std::string glob = BaseName(abs);
        for (auto& e : *entries)
          if (::fnmatch(glob.c_str(), e.name.c_str(), 0) == 0)
            ReadConf(root, JoinPath(DirName(abs), e.name), depth + 1, cfg, seen);
      }
    } else if (StartsWith(line, "hwcap")) {
      continue;
    } else {
      for (auto& dir : Split(line, ' ')) {
        std::string d = NormalizePath(dir.substr(0, dir.find('=')));
        if (std::find(cfg.conf_dirs.begin(), cfg.conf_dirs.end(), d) == cfg.conf_dirs.end())
          cfg.conf_dirs.push_back(d);
      }
    }
  }
}

}  // namespace

Result<std::vector<LoaderCacheEntry>> ParseLdSoCache(std::string_view bytes) {
  size_t base = 0;
  if (StartsWith(bytes, kOldMagic)) {
    // Old header, its entries, then the new format aligned to 8 bytes.
    if (bytes.size() < 16) return Fail(ErrorKind::kMalformed, "truncated ld.so.cache");
    uint64_t nlibs = Le32(bytes, 12);
    uint64_t after = 16 + nlibs * kOldEntryBytes;
    base = static_cast<size_t>((after + 7) & ~uint64_t{7});
    if (after > bytes.size() || base > bytes.size())
      return Fail(ErrorKind::kMalformed, "old-format ld.so.cache without a new-format part");
  }
  std::string_view rest = bytes.substr(base);
  if (!StartsWith(rest, kNewMagic) || rest.size() < kNewHeaderBytes)
    return Fail(ErrorKind::kMalformed, "not a glibc-ld.so.cache1.1 file");
  uint64_t nlibs = Le32(rest, 20);
  if (kNewHeaderBytes + nlibs * kNewEntryBytes > rest.size())
    return Fail(ErrorKind::kMalformed, "ld.so.cache entry table runs past the end");
  std::vector<LoaderCacheEntry> entries;
  entries.reserve(static_cast<size_t>(nlibs));
  for (uint64_t i = 0; i < nlibs; ++i) {
    size_t at = kNewHeaderBytes + static_cast<size_t>(i) * kNewEntryBytes;
    uint32_t flags = Le32(rest, at);
    if ((flags & kArchMask) != kArchX8664) continue;
    auto key = CString(rest, 0, Le32(rest, at + 4));
    auto value = CString(rest, 0, Le32(rest, at + 8));
    if (!key || !value) return Fail(ErrorKind::kMalformed, "ld.so.cache string out of range");
    entries.push_back({*key, *value});
  }
  return entries;
}

std::vector<LoaderCacheEntry> ParseLdconfigP(std::string_view text) {
  std::vector<LoaderCacheEntry> entries;
  for (auto& line : SplitLines(text)) {
    size_t arrow = line.find(" => ");
    size_t paren = line.find(" (");
    if (arrow == std::string::npos || paren == std::string::npos || paren > arrow) continue;
    std::string_view flags = std::string_view(line).substr(paren, arrow - paren);
    if (!Contains(flags, "x86-64")) continue;
    entries.push_back({std::string(Trim(line.substr(0, paren))),
                       std::string(Trim(line.substr(arrow + 4)))});
  }
  return entries;
}

LoaderConfig ProbeLoaderConfig(const ProbeContext& ctx) {
  const Root& root = ctx.root;
  LoaderConfig cfg;
  std::set<std::string> seen;
  ReadConf(root, "/etc/ld.so.conf", 0, cfg, seen);

  auto bytes = root.ReadFile("/etc/ld.so.cache", 64u << 20);
  if (bytes) {
    cfg.cache_source = "/etc/ld.so.cache";
    cfg.cache = ParseLdSoCache(*bytes);
  } else if (!root.IsHost() && root.Exists("/ldconfig-p.txt")) {
    // A capture without the binary cache keeps `ldconfig -p` output at its top.
    cfg.cache_source = "ldconfig-p.txt (captured `ldconfig -p`)";
    auto text = root.ReadFile("/ldconfig-p.txt", 16u << 20);
    if (text) cfg.cache = ParseLdconfigP(*text);
    else cfg.cache = tl::unexpected(text.error());
  } else {
    cfg.cache_source = "/etc/ld.so.cache";
    cfg.cache = tl::unexpected(bytes.error());
  }
  for (const char* dir : {"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64",
                          "/usr/lib64", "/lib", "/usr/lib"}) {
    if (root.IsDir(dir)) cfg.default_dirs.push_back(dir);
  }
  return cfg;
}

}  // namespace dlrig
