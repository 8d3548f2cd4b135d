#include "core/tar.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>

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

Result<TarWriter> TarWriter::Create(const std::string& path, unsigned mode) {
  auto file = AtomicFile::Create(path, mode);
  if (!file) return tl::unexpected(file.error());
  // zlib closes the descriptor it is given; the AtomicFile keeps its own to sync and rename.
  int fd = ::fcntl(file->fd(), F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return Fail(ErrorKindFromErrno(errno), path + ": " + std::strerror(errno));
  gzFile gz = gzdopen(fd, "wb6");
  if (gz == nullptr) {
    ::close(fd);
    return Fail(ErrorKind::kIo, path + ": cannot start gzip");
  }
  return TarWriter(std::move(*file), gz);
}

TarWriter::TarWriter(TarWriter&& other) noexcept : file_(std::move(other.file_)), gz_(other.gz_) {
  other.gz_ = nullptr;
}

TarWriter::~TarWriter() {
  if (gz_ != nullptr) gzclose(static_cast<gzFile>(gz_));
  // file_'s destructor removes the temporary unless Finish() published it.
}

Result<void> TarWriter::Write(const void* data, size_t n) {
  if (n == 0) return {};
  if (gzwrite(static_cast<gzFile>(gz_), data, static_cast<unsigned>(n)) != static_cast<int>(n))
    return Fail(ErrorKind::kIo, file_.path() + ": write failed");
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
  if (rc != Z_OK) {
    file_.Discard();
    return Fail(ErrorKind::kIo, file_.path() + ": write failed (gzip close)");
  }
  return file_.Commit();
}

}  // namespace dlrig
