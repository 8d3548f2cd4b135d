#include "probe/elf.h"

#include <fmt/format.h>

#include <cstring>
#include <optional>

#include "core/strings.h"

namespace dlrig {
namespace {

constexpr size_t kEhdrBytes = 64, kPhdrBytes = 56, kShdrBytes = 64, kDynBytes = 16;
constexpr size_t kMaxHeaders = 4096;   // program or section headers we look at
constexpr size_t kMaxDynamic = 16384;  // dynamic entries
constexpr size_t kMaxString = 4096;    // one DT_NEEDED / RPATH string, bytes
constexpr uint32_t kPtLoad = 1, kPtDynamic = 2, kShtDynamic = 6;
constexpr int64_t kDtNull = 0, kDtNeeded = 1, kDtStrtab = 5, kDtSoname = 14,
                  kDtRpath = 15, kDtRunpath = 29;

uint64_t Le(const unsigned char* p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

struct Segment {
  uint64_t offset, vaddr, filesz;
};

// Everything found while walking the headers.
struct Layout {
  std::vector<Segment> loads;
  std::optional<Segment> dynamic;  // file range of the dynamic table
  std::optional<uint64_t> dynstr_section_offset;
};

class Reader {
 public:
  explicit Reader(const ElfSource& src) : src_(src) {}

  Result<void> Read(uint64_t offset, void* out, size_t n) const {
    if (offset > src_.size_bytes || n > src_.size_bytes - offset)
      return Fail(ErrorKind::kMalformed, fmt::format("offset {} + {} beyond the file", offset, n));
    return src_.read(offset, out, n);
  }

  // A NUL-terminated string at `offset`, read in small chunks.
  Result<std::string> String(uint64_t offset) const {
    std::string out;
    char chunk[256];
    while (out.size() < kMaxString) {
      if (offset >= src_.size_bytes) return Fail(ErrorKind::kMalformed, "string past end of file");
      size_t n = static_cast<size_t>(std::min<uint64_t>(sizeof chunk, src_.size_bytes - offset));
      if (auto r = Read(offset, chunk, n); !r) return tl::unexpected(r.error());
      size_t len = strnlen(chunk, n);
      out.append(chunk, len);
      if (len < n) return out;
      offset += n;
    }
    return Fail(ErrorKind::kMalformed, "string longer than 4096 bytes");
  }

  uint64_t size() const { return src_.size_bytes; }

 private:
  const ElfSource& src_;
};

Result<Layout> ReadProgramHeaders(const Reader& r, const unsigned char* eh) {
  Layout layout;
  uint64_t phoff = Le(eh + 32, 8);
  uint64_t phentsize = Le(eh + 54, 2), phnum = Le(eh + 56, 2);
  if (phnum > 0 && phentsize < kPhdrBytes) return Fail(ErrorKind::kMalformed, "bad e_phentsize");
  for (uint64_t i = 0; i < std::min<uint64_t>(phnum, kMaxHeaders); ++i) {
    unsigned char ph[kPhdrBytes];
    if (auto ok = r.Read(phoff + i * phentsize, ph, sizeof ph); !ok)
      return tl::unexpected(ok.error());
    uint32_t type = static_cast<uint32_t>(Le(ph, 4));
    Segment s{Le(ph + 8, 8), Le(ph + 16, 8), Le(ph + 32, 8)};
    if (type == kPtLoad) layout.loads.push_back(s);
    if (type == kPtDynamic) layout.dynamic = s;
  }
  return layout;
}

// Section headers: the dynamic table when there are no program headers, and .dynstr
// (the dynamic section's sh_link) as the fallback string table.
void ReadSectionHeaders(const Reader& r, const unsigned char* eh, Layout& layout) {
  uint64_t shoff = Le(eh + 40, 8);
  uint64_t shentsize = Le(eh + 58, 2), shnum = Le(eh + 60, 2);
  if (shoff == 0 || shentsize < kShdrBytes) return;
  for (uint64_t i = 0; i < std::min<uint64_t>(shnum, kMaxHeaders); ++i) {
    unsigned char sh[kShdrBytes];
    if (!r.Read(shoff + i * shentsize, sh, sizeof sh)) return;
    if (Le(sh + 4, 4) != kShtDynamic) continue;
    if (!layout.dynamic) layout.dynamic = Segment{Le(sh + 24, 8), Le(sh + 16, 8), Le(sh + 32, 8)};
    uint64_t link = Le(sh + 40, 4);
    unsigned char str[kShdrBytes];
    if (link < shnum && r.Read(shoff + link * shentsize, str, sizeof str))
      layout.dynstr_section_offset = Le(str + 24, 8);
    return;
  }
}

// File offset of a virtual address, through the PT_LOAD segments.
std::optional<uint64_t> VaddrToOffset(const Layout& layout, uint64_t vaddr) {
  for (const Segment& s : layout.loads)
    if (vaddr >= s.vaddr && vaddr - s.vaddr < s.filesz) return s.offset + (vaddr - s.vaddr);
  return std::nullopt;
}

struct DynamicTable {
  std::vector<std::pair<int64_t, uint64_t>> entries;
  std::optional<uint64_t> strtab;
};

Result<DynamicTable> ReadDynamic(const Reader& r, const Segment& dyn) {
  DynamicTable t;
  size_t count = static_cast<size_t>(std::min<uint64_t>(dyn.filesz / kDynBytes, kMaxDynamic));
  for (size_t i = 0; i < count; ++i) {
    unsigned char d[kDynBytes];
    if (auto ok = r.Read(dyn.offset + i * kDynBytes, d, sizeof d); !ok)
      return tl::unexpected(ok.error());
    int64_t tag = static_cast<int64_t>(Le(d, 8));
    uint64_t val = Le(d + 8, 8);
    if (tag == kDtNull) break;
    if (tag == kDtStrtab) t.strtab = val;
    t.entries.emplace_back(tag, val);
  }
  return t;
}

Result<void> CheckIdent(const unsigned char* eh, uint64_t size) {
  if (std::memcmp(eh,
                  "\x7f"
                  "ELF",
                  4) != 0)
    return Fail(ErrorKind::kMalformed, "not an ELF file");
  if (eh[4] == 1) return Fail(ErrorKind::kUnsupported, "ELF32 files are not supported");
  if (eh[4] != 2) return Fail(ErrorKind::kMalformed, "bad ELF class");
  if (eh[5] != 1) return Fail(ErrorKind::kUnsupported, "big-endian ELF is not supported");
  (void)size;
  return {};
}

Result<void> FillDynamic(const Reader& r, const Layout& layout, const DynamicTable& t,
                         ElfInfo& info) {
  std::optional<uint64_t> strtab;
  if (t.strtab) strtab = VaddrToOffset(layout, *t.strtab);
  if (!strtab) strtab = layout.dynstr_section_offset;
  if (!strtab) return Fail(ErrorKind::kMalformed, "no dynamic string table");
  for (auto [tag, val] : t.entries) {
    if (tag != kDtNeeded && tag != kDtSoname && tag != kDtRpath && tag != kDtRunpath) continue;
    auto text = r.String(*strtab + val);
    if (!text) return tl::unexpected(text.error());
    if (tag == kDtNeeded) info.needed.push_back(*text);
    if (tag == kDtSoname) info.soname = *text;
    if (tag == kDtRpath) info.rpath = Split(*text, ':');
    if (tag == kDtRunpath) info.runpath = Split(*text, ':'), info.has_runpath = true;
  }
  return {};
}

}  // namespace

Result<ElfInfo> ParseElf(const ElfSource& source) {
  if (source.size_bytes == 0)
    return Fail(ErrorKind::kMalformed, "empty file (a placeholder for the real library)");
  if (source.size_bytes < kEhdrBytes) return Fail(ErrorKind::kMalformed, "too short for ELF");
  Reader r(source);
  unsigned char eh[kEhdrBytes];
  if (auto ok = r.Read(0, eh, sizeof eh); !ok) return tl::unexpected(ok.error());
  if (auto ok = CheckIdent(eh, source.size_bytes); !ok) return tl::unexpected(ok.error());
  ElfInfo info;
  info.machine = static_cast<uint16_t>(Le(eh + 18, 2));
  auto layout = ReadProgramHeaders(r, eh);
  if (!layout) return tl::unexpected(layout.error());
  ReadSectionHeaders(r, eh, *layout);
  if (!layout->dynamic) return info;  // static executable or object: nothing to load
  auto table = ReadDynamic(r, *layout->dynamic);
  if (!table) return tl::unexpected(table.error());
  if (auto ok = FillDynamic(r, *layout, *table, info); !ok) return tl::unexpected(ok.error());
  return info;
}

Result<ElfInfo> ParseElfBytes(std::string_view bytes) { return ParseElf(ElfBytesSource(bytes)); }

ElfSource ElfBytesSource(std::string_view bytes) {
  ElfSource src;
  src.size_bytes = bytes.size();
  src.read = [bytes](uint64_t offset, void* out, size_t n) -> Result<void> {
    if (offset > bytes.size() || n > bytes.size() - offset)
      return Fail(ErrorKind::kMalformed, "read beyond the end of the image");
    std::memcpy(out, bytes.data() + offset, n);
    return {};
  };
  return src;
}

ElfSource ElfFileSource(const File& file) {
  ElfSource src;
  src.size_bytes = file.size_bytes();
  src.read = [&file](uint64_t offset, void* out, size_t n) { return file.ReadAt(offset, out, n); };
  return src;
}

Result<std::vector<ElfSection>> ReadElfSections(const ElfSource& source) {
  if (source.size_bytes < kEhdrBytes) return Fail(ErrorKind::kMalformed, "too short for ELF");
  Reader r(source);
  unsigned char eh[kEhdrBytes];
  if (auto ok = r.Read(0, eh, sizeof eh); !ok) return tl::unexpected(ok.error());
  if (auto ok = CheckIdent(eh, source.size_bytes); !ok) return tl::unexpected(ok.error());
  uint64_t shoff = Le(eh + 40, 8), shentsize = Le(eh + 58, 2), shnum = Le(eh + 60, 2);
  uint64_t shstrndx = Le(eh + 62, 2);
  std::vector<ElfSection> sections;
  if (shoff == 0 || shnum == 0) return sections;
  if (shentsize < kShdrBytes) return Fail(ErrorKind::kMalformed, "bad e_shentsize");
  if (shnum > kMaxHeaders) return Fail(ErrorKind::kTooLarge, "more than 4096 sections");
  std::string table(shnum * shentsize, '\0');
  if (auto ok = r.Read(shoff, table.data(), table.size()); !ok) return tl::unexpected(ok.error());
  std::vector<uint32_t> name_at;
  for (uint64_t i = 0; i < shnum; ++i) {
    auto* sh = reinterpret_cast<const unsigned char*>(table.data()) + i * shentsize;
    name_at.push_back(static_cast<uint32_t>(Le(sh, 4)));
    sections.push_back({"", static_cast<uint32_t>(Le(sh + 4, 4)), Le(sh + 24, 8), Le(sh + 32, 8),
                        static_cast<uint32_t>(Le(sh + 40, 4)),
                        static_cast<uint32_t>(Le(sh + 44, 4))});
  }
  if (shstrndx >= sections.size()) return sections;
  auto names = ReadElfSection(source, sections[shstrndx], 1u << 20);
  if (!names) return sections;  // nameless sections are still usable by type
  for (size_t i = 0; i < sections.size(); ++i)
    if (name_at[i] < names->size())
      sections[i].name.assign(names->c_str() + name_at[i],
                              strnlen(names->data() + name_at[i], names->size() - name_at[i]));
  return sections;
}

Result<std::string> ReadElfSection(const ElfSource& source, const ElfSection& section,
                                   uint64_t max_bytes) {
  constexpr uint32_t kShtNobits = 8;
  if (section.type == kShtNobits) return std::string();
  if (section.size_bytes > max_bytes)
    return Fail(ErrorKind::kTooLarge, fmt::format("section {} is {} bytes (cap {})", section.name,
                                                  section.size_bytes, max_bytes));
  std::string out(section.size_bytes, '\0');
  if (auto ok = Reader(source).Read(section.offset, out.data(), out.size()); !ok)
    return tl::unexpected(ok.error());
  return out;
}

Result<ElfInfo> ReadElf(const Root& root, std::string_view path) {
  auto file = root.OpenFile(path);
  if (!file) return tl::unexpected(file.error());
  auto info = ParseElf(ElfFileSource(*file));
  if (!info) return Fail(info.error().kind, std::string(path) + ": " + info.error().message);
  return info;
}

std::string ElfMachineName(uint16_t machine) {
  switch (machine) {
    case 3:
      return "i386";
    case 62:
      return "x86-64";
    case 183:
      return "aarch64";
    case 21:
      return "ppc64";
    case 243:
      return "riscv";
    default:
      return fmt::format("machine 0x{:x}", machine);
  }
}

}  // namespace dlrig
