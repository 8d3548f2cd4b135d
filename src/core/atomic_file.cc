#include "core/atomic_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/file_type.h"

namespace dlrig {
namespace {

std::string DirOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string BaseOf(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

tl::unexpected<Error> Errno(int err, const std::string& what) {
  return Fail(ErrorKindFromErrno(err), fmt::format("{}: {}", what, std::strerror(err)));
}

/// 12 characters of [a-z0-9] from getrandom (60 bits): no name another user can plant first.
Result<std::string> RandomName() {
  unsigned char bytes[12];
  size_t got = 0;
  while (got < sizeof bytes) {
    ssize_t n = ::getrandom(bytes + got, sizeof bytes - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Errno(n < 0 ? errno : EIO, "getrandom");
    got += static_cast<size_t>(n);
  }
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz012345";
  std::string name;
  for (unsigned char b : bytes) name += kAlphabet[b & 31];
  return name;
}

}  // namespace

Result<void> CheckWritableTarget(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return {};
    return Errno(errno, "cannot write " + path);
  }
  if (S_ISREG(st.st_mode)) return {};
  return Fail(ErrorKind::kIo,
              fmt::format("refusing to write {}: it exists and is {}; dlrig only replaces regular "
                          "files (remove it or choose another name)",
                          path, FileTypeName(st.st_mode)));
}

Result<AtomicFile> AtomicFile::Create(const std::string& path, unsigned mode) {
  if (path.empty() || path.back() == '/')
    return Fail(ErrorKind::kIo, fmt::format("cannot write \"{}\": not a file name", path));
  if (auto ok = CheckWritableTarget(path); !ok) return tl::unexpected(ok.error());
  std::string dir = DirOf(path), base = BaseOf(path);
  for (int attempt = 0; attempt < 64; ++attempt) {
    auto random = RandomName();
    if (!random) return tl::unexpected(random.error());
    std::string temp = fmt::format("{}/.{}.{}.tmp", dir, base.substr(0, 200), *random);
    int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                    static_cast<mode_t>(mode & 07777));
    if (fd >= 0) return AtomicFile(path, std::move(temp), fd);
    if (errno != EEXIST)
      return Errno(errno, "cannot write " + path + " (temporary file in " + dir + ")");
  }
  return Fail(ErrorKind::kIo, "cannot write " + path + ": no free temporary name in " + dir);
}

AtomicFile::AtomicFile(AtomicFile&& other) noexcept
    : path_(std::move(other.path_)),
      temp_(std::move(other.temp_)),
      fd_(other.fd_),
      published_(other.published_) {
  other.fd_ = -1;
  other.published_ = true;  // nothing left for the moved-from object to remove
}

AtomicFile& AtomicFile::operator=(AtomicFile&& other) noexcept {
  if (this != &other) {
    Discard();
    path_ = std::move(other.path_);
    temp_ = std::move(other.temp_);
    fd_ = other.fd_;
    published_ = other.published_;
    other.fd_ = -1;
    other.published_ = true;
  }
  return *this;
}

AtomicFile::~AtomicFile() { Discard(); }

void AtomicFile::Discard() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (!published_ && !temp_.empty()) ::unlink(temp_.c_str());
  published_ = true;
}

Result<void> AtomicFile::Write(std::string_view data) {
  if (fd_ < 0) return Fail(ErrorKind::kIo, "cannot write " + path_ + ": already closed");
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd_, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Errno(n < 0 ? errno : EIO, "cannot write " + path_);
    done += static_cast<size_t>(n);
  }
  return {};
}

Result<void> AtomicFile::Close() {
  if (fd_ < 0)
    return published_ ? Fail(ErrorKind::kIo, "cannot write " + path_ + ": discarded")
                      : Result<void>{};
  int err = ::fsync(fd_) != 0 ? errno : 0;
  if (::close(fd_) != 0 && err == 0) err = errno;
  fd_ = -1;
  if (err != 0) return Errno(err, "cannot write " + path_);
  return {};
}

Result<void> AtomicFile::Publish() {
  if (published_) return Fail(ErrorKind::kIo, "cannot write " + path_ + ": discarded");
  if (fd_ >= 0) return Fail(ErrorKind::kIo, "cannot write " + path_ + ": not closed");
  // Again: the target may have been replaced by a link or a device while we wrote.
  if (auto ok = CheckWritableTarget(path_); !ok) return ok;
  if (::rename(temp_.c_str(), path_.c_str()) != 0) return Errno(errno, "cannot write " + path_);
  published_ = true;
  // The rename is durable only once the directory is.
  int dir = ::open(DirOf(path_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return {};
  int err = ::fsync(dir) != 0 ? errno : 0;
  ::close(dir);
  if (err != 0 && err != EINVAL && err != EROFS)
    return Errno(err, "wrote " + path_ + " but could not sync its directory");
  return {};
}

Result<void> AtomicFile::Commit() {
  if (auto ok = Close(); !ok) {
    Discard();
    return ok;
  }
  if (auto ok = Publish(); !ok) {
    Discard();
    return ok;
  }
  return {};
}

Result<void> WriteFileAtomically(const std::string& path, std::string_view text, unsigned mode) {
  auto file = AtomicFile::Create(path, mode);
  if (!file) return tl::unexpected(file.error());
  if (auto ok = file->Write(text); !ok) return ok;  // the destructor removes the temporary
  return file->Commit();
}

}  // namespace dlrig
