#include "core/tar.h"

#include <zlib.h>

#include <cstdio>
#include <cstring>
#include <ctime>

namespace dlrig {
namespace {

constexpr size_t kBlock = 512;

void Octal(char* field, size_t width, uint64_t value) {
  std::snprintf(field, width, "%0*llo", static_cast<int>(width - 1),
                static_cast<unsigned long long>(value));
}

}  // namespace

Result<TarWriter> TarWriter::Create(const std::string& path) {
  gzFile gz = gzopen((path + ".tmp").c_str(), "wb6");
  if (gz == nullptr)
    return Fail(ErrorKindFromErrno(errno), path + ".tmp: " + std::strerror(errno));
  return TarWriter(path, gz);
}

TarWriter::TarWriter(TarWriter&& other) noexcept : path_(std::move(other.path_)), gz_(other.gz_) {
  other.gz_ = nullptr;
}

TarWriter::~TarWriter() {
  if (gz_ != nullptr) {
    gzclose(static_cast<gzFile>(gz_));
    std::remove((path_ + ".tmp").c_str());
  }
}

Result<void> TarWriter::Write(const void* data, size_t n) {
  if (n == 0) return {};
  if (gzwrite(static_cast<gzFile>(gz_), data, static_cast<unsigned>(n)) != static_cast<int>(n))
    return Fail(ErrorKind::kIo, path_ + ".tmp: write failed");
  return {};
}

Result<void> TarWriter::Header(std::string_view name, char type, uint64_t size, unsigned mode,
                               std::string_view link) {
  // Over-long names and link targets go first as GNU 'L' / 'K' records.
  if (name.size() > 99) {
    if (auto r = Header("././@LongLink", 'L', name.size() + 1, 0644, ""); !r) return r;
    std::string padded(name);
    padded.resize((name.size() + 1 + kBlock - 1) / kBlock * kBlock, '\0');
    if (auto r = Write(padded.data(), padded.size()); !r) return r;
  }
  if (link.size() > 99) {
    if (auto r = Header("././@LongLink", 'K', link.size() + 1, 0644, ""); !r) return r;
    std::string padded(link);
    padded.resize((link.size() + 1 + kBlock - 1) / kBlock * kBlock, '\0');
    if (auto r = Write(padded.data(), padded.size()); !r) return r;
  }
  char h[kBlock] = {};
  std::memcpy(h, name.data(), std::min<size_t>(name.size(), 99));
  Octal(h + 100, 8, mode & 07777);
  Octal(h + 108, 8, 0);
  Octal(h + 116, 8, 0);
  Octal(h + 124, 12, size);
  Octal(h + 136, 12, static_cast<uint64_t>(std::time(nullptr)));
  std::memset(h + 148, ' ', 8);
  h[156] = type;
  std::memcpy(h + 157, link.data(), std::min<size_t>(link.size(), 99));
  std::memcpy(h + 257, "ustar", 6);
  std::memcpy(h + 263, "00", 2);
  std::memcpy(h + 265, "root", 4);
  std::memcpy(h + 297, "root", 4);
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  std::snprintf(h + 148, 8, "%06o", sum);
  return Write(h, kBlock);
}

Result<void> TarWriter::AddFile(std::string_view name, std::string_view content, unsigned mode) {
  if (auto r = Header(name, '0', content.size(), mode, ""); !r) return r;
  if (auto r = Write(content.data(), content.size()); !r) return r;
  static const char kZeros[kBlock] = {};
  size_t pad = (kBlock - content.size() % kBlock) % kBlock;
  return Write(kZeros, pad);
}

Result<void> TarWriter::AddDir(std::string_view name, unsigned mode) {
  std::string dir(name);
  if (dir.empty() || dir.back() != '/') dir += '/';
  return Header(dir, '5', 0, mode, "");
}

Result<void> TarWriter::AddSymlink(std::string_view name, std::string_view target) {
  return Header(name, '2', 0, 0777, target);
}

Result<void> TarWriter::Finish() {
  static const char kZeros[2 * kBlock] = {};
  if (auto r = Write(kZeros, sizeof kZeros); !r) return r;
  int rc = gzclose(static_cast<gzFile>(gz_));
  gz_ = nullptr;
  if (rc != Z_OK) return Fail(ErrorKind::kIo, path_ + ".tmp: gzip close failed");
  if (std::rename((path_ + ".tmp").c_str(), path_.c_str()) != 0)
    return Fail(ErrorKindFromErrno(errno), path_ + ": " + std::strerror(errno));
  return {};
}

}  // namespace dlrig
