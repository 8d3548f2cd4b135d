#include "probe/elf_symbols.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

namespace dlrig {
namespace {

constexpr uint32_t kShtDynsym = 11, kShtGnuVerdef = 0x6ffffffd, kShtGnuVerneed = 0x6ffffffe,
                   kShtGnuVersym = 0x6fffffff;
constexpr size_t kSymBytes = 24;
// libtorch_cpu.so has ~100k dynamic symbols and a ~10 MB .dynstr; these caps are far above
// any real library and keep a garbled header from asking for gigabytes.
constexpr uint64_t kMaxDynsymBytes = 64u << 20, kMaxDynstrBytes = 64u << 20,
                   kMaxVersionBytes = 4u << 20;
constexpr size_t kMaxVersionIndex = 0x7fff;  // versym keeps bit 15 for "hidden"
constexpr size_t kMaxChain = 65536;          // entries walked in a verdef/verneed chain
constexpr uint16_t kVerFlgBase = 1, kVerFlgWeak = 2;

uint64_t Le(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

Result<std::string_view> Str(std::string_view strtab, uint64_t offset) {
  if (offset >= strtab.size())
    return Fail(ErrorKind::kMalformed, fmt::format("string offset {} outside .dynstr", offset));
  const char* start = strtab.data() + offset;
  const void* end = std::memchr(start, '\0', strtab.size() - offset);
  if (end == nullptr) return Fail(ErrorKind::kMalformed, "unterminated string in .dynstr");
  return std::string_view(start, static_cast<const char*>(end) - start);
}

// What a version index (.gnu.version entry) stands for.
struct VersionSlot {
  std::string_view name, file;  // file is set for needs only
  bool need = false, weak = false, used = false;
};

// Bounds-checked walk of a vd_next / vn_next chain: `visit(offset)` for each entry. `budget`
// caps the entries visited across all chains of a section, nested ones included.
template <class Visit>
Result<void> WalkChain(std::string_view sec, size_t entry_bytes, size_t next_field,
                       size_t& budget, Visit visit) {
  uint64_t at = 0;
  while (!sec.empty()) {
    if (budget == 0) return Fail(ErrorKind::kTooLarge, "more than 65536 version entries");
    --budget;
    if (at > sec.size() || sec.size() - at < entry_bytes)
      return Fail(ErrorKind::kMalformed, "version entry outside its section");
    if (auto ok = visit(at); !ok) return ok;
    uint64_t next = Le(sec.data() + at + next_field, 4);
    if (next == 0) return {};
    at += next;
  }
  return {};
}

Result<void> ReadVerdef(std::string_view sec, std::string_view strtab, ElfSymbols& out,
                        std::vector<VersionSlot>& slots) {
  size_t budget = kMaxChain;
  return WalkChain(sec, 20, 16, budget, [&](uint64_t at) -> Result<void> {
    const char* vd = sec.data() + at;
    uint64_t aux = at + Le(vd + 12, 4);
    if (aux > sec.size() || sec.size() - aux < 8)
      return Fail(ErrorKind::kMalformed, "verdaux outside .gnu.version_d");
    auto name = Str(strtab, Le(sec.data() + aux, 4));
    if (!name) return tl::unexpected(name.error());
    bool base = (Le(vd + 2, 2) & kVerFlgBase) != 0;
    out.version_defs.push_back({*name, base});
    size_t ndx = Le(vd + 4, 2) & kMaxVersionIndex;
    slots[ndx] = {*name, {}, false, false, true};
    return {};
  });
}

Result<void> ReadVerneed(std::string_view sec, std::string_view strtab, ElfSymbols& out,
                         std::vector<VersionSlot>& slots) {
  size_t budget = kMaxChain;
  return WalkChain(sec, 16, 12, budget, [&](uint64_t at) -> Result<void> {
    auto file = Str(strtab, Le(sec.data() + at + 4, 4));
    if (!file) return tl::unexpected(file.error());
    std::string_view aux_sec = sec.substr(at);
    uint64_t first = Le(sec.data() + at + 8, 4);
    if (first > aux_sec.size()) return Fail(ErrorKind::kMalformed, "vernaux outside its section");
    return WalkChain(aux_sec.substr(first), 16, 12, budget, [&](uint64_t aux) -> Result<void> {
      const char* va = aux_sec.data() + first + aux;
      auto name = Str(strtab, Le(va + 8, 4));
      if (!name) return tl::unexpected(name.error());
      bool weak = (Le(va + 4, 2) & kVerFlgWeak) != 0;
      out.version_needs.push_back({*file, *name, weak});
      slots[Le(va + 6, 2) & kMaxVersionIndex] = {*name, *file, true, weak, true};
      return {};
    });
  });
}

const ElfSection* FindType(const std::vector<ElfSection>& sections, uint32_t type) {
  for (const ElfSection& s : sections)
    if (s.type == type) return &s;
  return nullptr;
}

// Reads a version section, which must use the same string table as .dynsym.
Result<std::string> ReadVersionSection(const ElfSource& src, const ElfSection* sec,
                                       uint32_t strtab_index) {
  if (sec == nullptr) return std::string();
  if (sec->link != strtab_index)
    return Fail(ErrorKind::kUnsupported, sec->name + " uses a string table other than .dynstr");
  return ReadElfSection(src, *sec, kMaxVersionBytes);
}

void AddSymbols(std::string_view syms, std::string_view versym, std::string_view strtab,
                const std::vector<VersionSlot>& slots, ElfSymbols& out) {
  size_t count = syms.size() / kSymBytes;
  out.defs.reserve(count);
  for (size_t i = 1; i < count; ++i) {  // entry 0 is the null symbol
    const char* s = syms.data() + i * kSymBytes;
    unsigned bind = static_cast<unsigned char>(s[4]) >> 4;
    if (bind == 0) continue;  // STB_LOCAL: not visible to other objects
    auto name = Str(strtab, Le(s, 4));
    if (!name || name->empty()) continue;
    size_t ndx = versym.empty() ? 0 : Le(versym.data() + i * 2, 2) & kMaxVersionIndex;
    const VersionSlot* slot = ndx < slots.size() && slots[ndx].used ? &slots[ndx] : nullptr;
    if (Le(s + 6, 2) == 0) {  // SHN_UNDEF
      ElfSymbolNeed need{*name, {}, {}, bind == 2};
      if (ndx >= 2 && slot && slot->need) need.version = slot->name, need.file = slot->file;
      out.needs.push_back(need);
    } else {
      out.defs.push_back({*name, slot && !slot->need ? slot->name : std::string_view()});
    }
  }
}

struct PairHash {
  size_t operator()(const std::pair<std::string_view, std::string_view>& p) const {
    return std::hash<std::string_view>()(p.first) * 31 + std::hash<std::string_view>()(p.second);
  }
};

}  // namespace

Result<ElfSymbols> ParseElfSymbols(const ElfSource& source) {
  auto sections = ReadElfSections(source);
  if (!sections) return tl::unexpected(sections.error());
  if (sections->empty())
    return Fail(ErrorKind::kUnsupported, "no section headers: symbol tables cannot be located");
  ElfSymbols out;
  const ElfSection* dynsym = FindType(*sections, kShtDynsym);
  if (dynsym == nullptr) return out;
  if (dynsym->link >= sections->size())
    return Fail(ErrorKind::kMalformed, ".dynsym links to a missing string table");
  auto strtab = ReadElfSection(source, (*sections)[dynsym->link], kMaxDynstrBytes);
  if (!strtab) return tl::unexpected(strtab.error());
  auto strings = std::make_shared<const std::string>(std::move(*strtab));
  out.strings = strings;
  auto syms = ReadElfSection(source, *dynsym, kMaxDynsymBytes);
  if (!syms) return tl::unexpected(syms.error());
  std::string versym;  // .gnu.version links to .dynsym, so no string-table check
  if (const ElfSection* v = FindType(*sections, kShtGnuVersym)) {
    auto read = ReadElfSection(source, *v, kMaxDynsymBytes / kSymBytes * 2);  // 2 per symbol
    if (!read) return tl::unexpected(read.error());
    if (read->size() / 2 < syms->size() / kSymBytes)
      return Fail(ErrorKind::kMalformed, ".gnu.version is shorter than .dynsym");
    versym = std::move(*read);
    out.has_version_table = true;
  }
  auto verdef = ReadVersionSection(source, FindType(*sections, kShtGnuVerdef), dynsym->link);
  if (!verdef) return tl::unexpected(verdef.error());
  auto verneed = ReadVersionSection(source, FindType(*sections, kShtGnuVerneed), dynsym->link);
  if (!verneed) return tl::unexpected(verneed.error());
  std::vector<VersionSlot> slots(kMaxVersionIndex + 1);
  if (auto ok = ReadVerdef(*verdef, *strings, out, slots); !ok) return tl::unexpected(ok.error());
  if (auto ok = ReadVerneed(*verneed, *strings, out, slots); !ok)
    return tl::unexpected(ok.error());
  AddSymbols(*syms, versym, *strings, slots, out);
  return out;
}

Result<ElfSymbols> ParseElfSymbolsBytes(std::string_view bytes) {
  return ParseElfSymbols(ElfBytesSource(bytes));
}

Result<ElfSymbols> ReadElfSymbols(const Root& root, std::string_view path) {
  auto file = root.OpenFile(path);
  if (!file) return tl::unexpected(file.error());
  auto symbols = ParseElfSymbols(ElfFileSource(*file));
  if (!symbols) return Fail(symbols.error().kind, std::string(path) + ": " + symbols.error().message);
  return symbols;
}

SymbolCheck CheckSymbolNeeds(const ElfSymbols& importer, std::string_view provider_name,
                             const ElfSymbols& provider) {
  SymbolCheck out;
  bool versioned = !provider.version_defs.empty();
  if (versioned) {
    std::unordered_set<std::string_view> defined;
    for (const ElfVersionDef& d : provider.version_defs) defined.insert(d.name);
    std::unordered_set<std::string_view> reported;
    for (const ElfVersionNeedEntry& n : importer.version_needs)
      if (n.file == provider_name && !n.weak && !defined.count(n.version) &&
          reported.insert(n.version).second)
        out.missing_versions.emplace_back(n.version);
  }
  // Index the needs, then pass once over the definitions.
  using Key = std::pair<std::string_view, std::string_view>;
  std::unordered_map<Key, size_t, PairHash> wanted;  // -> index in `keys`
  std::vector<Key> keys;
  for (const ElfSymbolNeed& n : importer.needs) {
    if (n.weak || n.version.empty() || n.file != provider_name) continue;
    if (keys.empty()) wanted.reserve(importer.needs.size());
    if (wanted.emplace(Key{n.name, versioned ? n.version : std::string_view()}, keys.size()).second)
      keys.push_back(Key{n.name, n.version});
  }
  std::vector<bool> met(keys.size(), false);
  // No version table at all: glibc asserts on the first name match, so nothing is met.
  if (!keys.empty() && (versioned || provider.has_version_table))
    for (const ElfSymbolDef& d : provider.defs)
      if (auto it = wanted.find(Key{d.name, versioned ? d.version : std::string_view()});
          it != wanted.end())
        met[it->second] = true;
  for (size_t i = 0; i < keys.size(); ++i)
    if (!met[i]) out.missing_symbols.push_back({std::string(keys[i].first), std::string(keys[i].second)});
  std::sort(out.missing_symbols.begin(), out.missing_symbols.end(),
            [](const MissingSymbol& x, const MissingSymbol& y) {
              return std::tie(x.name, x.version) < std::tie(y.name, y.version);
            });
  return out;
}

}  // namespace dlrig
