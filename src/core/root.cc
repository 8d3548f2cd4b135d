#include "core/root.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>

#include <dirent.h>

#include "core/file_type.h"

namespace dlrig {
namespace {

constexpr int kMaxHops = 40;  // as the kernel's MAXSYMLINKS

Error ErrnoError(int err, std::string_view what) {
  return Error{ErrorKindFromErrno(err), std::string(what) + ": " + std::strerror(err)};
}

FileType TypeOf(mode_t mode) {
  if (S_ISREG(mode)) return FileType::kRegular;
  if (S_ISDIR(mode)) return FileType::kDirectory;
  if (S_ISLNK(mode)) return FileType::kSymlink;
  if (S_ISCHR(mode)) return FileType::kCharDevice;
  if (S_ISBLK(mode)) return FileType::kBlockDevice;
  return FileType::kOther;
}

FileInfo InfoOf(const struct stat& st) {
  FileInfo info;
  info.type = TypeOf(st.st_mode);
  info.size_bytes = static_cast<uint64_t>(st.st_size);
  info.mode = st.st_mode & 07777;
  info.uid = st.st_uid;
  info.gid = st.st_gid;
  info.rdev_major = major(st.st_rdev);
  info.rdev_minor = minor(st.st_rdev);
  return info;
}

// Every open of an input: never blocks (a FIFO or a tty), never becomes a controlling
// terminal, never leaks into a child.
constexpr int kReadFlags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;

std::vector<std::string> SplitComponents(std::string_view path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) parts.emplace_back(path.substr(i, j - i));
    i = j + 1;
  }
  return parts;
}

Result<std::string> ReadAll(int fd, size_t max_bytes, std::string_view what) {
  std::string out;
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return tl::unexpected(ErrnoError(errno, what));
    }
    if (n == 0) break;
    if (out.size() + static_cast<size_t>(n) > max_bytes)
      return Fail(ErrorKind::kTooLarge,
                  std::string(what) + ": larger than " + std::to_string(max_bytes) + " bytes");
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

}  // namespace

std::string JoinPath(std::string_view a, std::string_view b) {
  std::string out(a);
  while (!out.empty() && out.back() == '/') out.pop_back();
  size_t i = 0;
  while (i < b.size() && b[i] == '/') ++i;
  out += '/';
  out += b.substr(i);
  return out;
}

std::string NormalizePath(std::string_view path) {
  std::vector<std::string> kept;
  for (auto& part : SplitComponents(path)) {
    if (part == ".") continue;
    if (part == "..") {
      if (!kept.empty()) kept.pop_back();
      continue;
    }
    kept.push_back(part);
  }
  std::string out;
  for (auto& part : kept) out += "/" + part;
  return out.empty() ? "/" : out;
}

std::string DirName(std::string_view path) {
  std::string norm = NormalizePath(path);
  size_t slash = norm.rfind('/');
  return slash == 0 ? "/" : norm.substr(0, slash);
}

std::string BaseName(std::string_view path) {
  std::string norm = NormalizePath(path);
  return norm.substr(norm.rfind('/') + 1);
}

File& File::operator=(File&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    size_bytes_ = other.size_bytes_;
    other.fd_ = -1;
  }
  return *this;
}

File::~File() {
  if (fd_ >= 0) ::close(fd_);
}

Result<void> File::ReadAt(uint64_t offset, void* out, size_t n) const {
  if (offset > size_bytes_ || n > size_bytes_ - offset)
    return Fail(ErrorKind::kMalformed, "read past end of file");
  auto* dst = static_cast<char*>(out);
  size_t done = 0;
  while (done < n) {
    ssize_t got = ::pread(fd_, dst + done, n - done, static_cast<off_t>(offset + done));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return tl::unexpected(ErrnoError(errno, "pread"));
    if (got == 0) return Fail(ErrorKind::kMalformed, "file shorter than expected");
    done += static_cast<size_t>(got);
  }
  return {};
}

Result<Root> Root::Open(const std::string& dir) {
  std::string norm = dir.empty() ? "/" : dir;
  int fd = ::open(norm.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return tl::unexpected(ErrnoError(errno, "root " + norm));
  char real[PATH_MAX];
  bool host = ::realpath(norm.c_str(), real) != nullptr && std::string(real) == "/";
  return Root(host ? "/" : norm, fd, host);
}

Root::Root(Root&& other) noexcept
    : dir_(std::move(other.dir_)), fd_(other.fd_), host_(other.host_), log_(other.log_) {
  other.fd_ = -1;
}

Root& Root::operator=(Root&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    dir_ = std::move(other.dir_);
    fd_ = other.fd_;
    host_ = other.host_;
    log_ = other.log_;
    other.fd_ = -1;
  }
  return *this;
}

Root::~Root() {
  if (fd_ >= 0) ::close(fd_);
}

std::string Root::HostPath(std::string_view path) const {
  if (host_) return NormalizePath(path);
  return JoinPath(dir_, NormalizePath(path));
}

// Shared captures store a symbolic link as a small file holding the target (no newline).
// Such a file counts as a link only when its target resolves inside the root. Deciding that
// follows the target, so the check spends `hops` like any other link: the one budget bounds a
// chain or cycle of flattened links, real links, or both (a file "/proc/cpuinfo" holding
// "cpuinfo/x" is a link through itself, as a real one would be: kLoop, not endless recursion).
std::optional<Root::Flattened> Root::FlattenedLink(const std::string& rel, int& hops) const {
  struct stat st;
  if (::fstatat(fd_, rel.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return std::nullopt;
  if (!S_ISREG(st.st_mode) || st.st_size == 0 || st.st_size > 255) return std::nullopt;
  int fd = ::openat(fd_, rel.c_str(), kReadFlags | O_NOFOLLOW);
  if (fd < 0) return std::nullopt;
  struct stat opened;
  if (::fstat(fd, &opened) != 0 || !S_ISREG(opened.st_mode)) {  // swapped since the fstatat
    ::close(fd);
    return std::nullopt;
  }
  char buf[256];
  ssize_t n = ::read(fd, buf, sizeof buf);
  ::close(fd);
  if (n <= 0) return std::nullopt;
  std::string text(buf, static_cast<size_t>(n));
  if (text.find_first_of(" \t\n\r\0", 0, 5) != std::string::npos) return std::nullopt;
  std::string abs = text[0] == '/' ? text : JoinPath(DirName("/" + rel), text);
  std::string normalized = NormalizePath(abs);
  if (normalized == NormalizePath("/" + rel)) return std::nullopt;
  Flattened link{std::move(text), ""};
  if (--hops < 0) {
    link.resolved =
        Fail(ErrorKind::kLoop, HostPath("/" + rel) + ": too many levels of symbolic links");
    return link;
  }
  link.resolved = ResolveImpl(normalized, hops, true);
  // A file whose text names nothing in the root is just a file; one whose target loops is a
  // link in a loop.
  if (!link.resolved && link.resolved.error().kind != ErrorKind::kLoop) return std::nullopt;
  return link;
}

Result<std::string> Root::ResolveImpl(std::string_view path, int& hops, bool follow_last) const {
  std::deque<std::string> todo;
  for (auto& part : SplitComponents(path)) todo.push_back(part);
  std::vector<std::string> done;
  auto rel_of = [&done]() {
    std::string rel;
    for (auto& part : done) rel += (rel.empty() ? "" : "/") + part;
    return rel;
  };
  while (!todo.empty()) {
    std::string part = todo.front();
    todo.pop_front();
    if (part == ".") continue;
    if (part == "..") {
      if (!done.empty()) done.pop_back();
      continue;
    }
    done.push_back(part);
    bool last = todo.empty();
    if (last && !follow_last) break;
    std::string rel = rel_of();
    struct stat st;
    if (::fstatat(fd_, rel.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
      return tl::unexpected(ErrnoError(errno, HostPath("/" + rel)));
    if (S_ISREG(st.st_mode)) {
      // The check resolved the target already, spending its hops: go on from there.
      auto flat = FlattenedLink(rel, hops);
      if (flat && !flat->resolved) return tl::unexpected(flat->resolved.error());
      if (flat) done = SplitComponents(*flat->resolved);
      continue;
    }
    if (!S_ISLNK(st.st_mode)) continue;
    char buf[PATH_MAX];
    ssize_t n = ::readlinkat(fd_, rel.c_str(), buf, sizeof buf - 1);
    if (n < 0) return tl::unexpected(ErrnoError(errno, HostPath("/" + rel)));
    std::string target(buf, static_cast<size_t>(n));
    if (--hops < 0)
      return Fail(ErrorKind::kLoop, HostPath("/" + rel) + ": too many levels of symbolic links");
    done.pop_back();
    if (!target.empty() && target[0] == '/') done.clear();
    auto parts = SplitComponents(target);
    todo.insert(todo.begin(), parts.begin(), parts.end());
  }
  return "/" + rel_of();
}

Result<std::string> Root::Resolve(std::string_view path) const {
  Note(AccessLog::Kind::kStat, path);
  if (host_) {
    char real[PATH_MAX];
    std::string norm = NormalizePath(path);
    if (::realpath(norm.c_str(), real) == nullptr) return tl::unexpected(ErrnoError(errno, norm));
    return std::string(real);
  }
  int hops = kMaxHops;
  return ResolveImpl(path, hops, true);
}

Result<std::string> Root::Locate(std::string_view path, bool follow_last, int& hops) const {
  auto resolved = ResolveImpl(path, hops, follow_last);
  if (!resolved) return resolved;
  return *resolved == "/" ? std::string(".") : resolved->substr(1);
}

Result<FileInfo> Root::Stat(std::string_view path) const {
  Note(AccessLog::Kind::kStat, path);
  struct stat st;
  if (host_) {
    std::string norm = NormalizePath(path);
    if (::stat(norm.c_str(), &st) != 0) return tl::unexpected(ErrnoError(errno, norm));
    return InfoOf(st);
  }
  int hops = kMaxHops;
  auto rel = Locate(path, true, hops);
  if (!rel) return tl::unexpected(rel.error());
  if (::fstatat(fd_, rel->c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
    return tl::unexpected(ErrnoError(errno, HostPath(path)));
  return InfoOf(st);
}

Result<FileInfo> Root::LStat(std::string_view path) const {
  Note(AccessLog::Kind::kLink, path);
  struct stat st;
  if (host_) {
    std::string norm = NormalizePath(path);
    if (::lstat(norm.c_str(), &st) != 0) return tl::unexpected(ErrnoError(errno, norm));
    return InfoOf(st);
  }
  int hops = kMaxHops;
  auto rel = Locate(path, false, hops);
  if (!rel) return tl::unexpected(rel.error());
  if (::fstatat(fd_, rel->c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
    return tl::unexpected(ErrnoError(errno, HostPath(path)));
  FileInfo info = InfoOf(st);
  if (info.type == FileType::kRegular) {
    // A flattened link in a loop is still a link, as lstat reports a real one in a loop.
    if (FlattenedLink(*rel, hops)) info.type = FileType::kSymlink;
  }
  return info;
}

bool Root::IsDir(std::string_view path) const {
  auto info = Stat(path);
  return info && info->type == FileType::kDirectory;
}

Result<std::string> Root::ReadLink(std::string_view path) const {
  Note(AccessLog::Kind::kLink, path);
  char buf[PATH_MAX];
  if (host_) {
    std::string norm = NormalizePath(path);
    ssize_t n = ::readlink(norm.c_str(), buf, sizeof buf - 1);
    if (n < 0) return tl::unexpected(ErrnoError(errno, norm));
    return std::string(buf, static_cast<size_t>(n));
  }
  int hops = kMaxHops;
  auto rel = Locate(path, false, hops);
  if (!rel) return tl::unexpected(rel.error());
  ssize_t n = ::readlinkat(fd_, rel->c_str(), buf, sizeof buf - 1);
  if (n >= 0) return std::string(buf, static_cast<size_t>(n));
  int err = errno;
  if (err == EINVAL) {
    if (auto flat = FlattenedLink(*rel, hops)) return flat->text;
  }
  return tl::unexpected(ErrnoError(err, HostPath(path)));
}

Result<int> Root::OpenForRead(std::string_view path, bool directory) const {
  auto wrong_type = [&](mode_t mode) -> std::optional<Error> {
    if (directory ? S_ISDIR(mode) : S_ISREG(mode)) return std::nullopt;
    return Error{S_ISDIR(mode) ? ErrorKind::kMalformed : ErrorKind::kUnsupported,
                 HostPath(path) + ": is " + FileTypeName(mode) + ", not a " +
                     (directory ? "directory" : "regular file")};
  };
  // A file's type is checked before the open too: opening a device node can act (a watchdog,
  // a tape), so one planted in a tree is never opened; the check after the open closes the
  // race. (O_DIRECTORY fails with ENOTDIR before any device is opened.)
  int flags = kReadFlags | (directory ? O_DIRECTORY : 0);
  struct stat st;
  int fd;
  if (host_) {
    std::string norm = NormalizePath(path);
    if (!directory && ::stat(norm.c_str(), &st) == 0)
      if (auto wrong = wrong_type(st.st_mode)) return tl::unexpected(*wrong);
    fd = ::open(norm.c_str(), flags);
  } else {
    int hops = kMaxHops;
    auto rel = Locate(path, true, hops);
    if (!rel) return tl::unexpected(rel.error());
    if (!directory && ::fstatat(fd_, rel->c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0)
      if (auto wrong = wrong_type(st.st_mode)) return tl::unexpected(*wrong);
    fd = ::openat(fd_, rel->c_str(), flags | O_NOFOLLOW);
  }
  if (fd < 0) return tl::unexpected(ErrnoError(errno, HostPath(path)));
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return tl::unexpected(ErrnoError(err, HostPath(path)));
  }
  if (auto wrong = wrong_type(st.st_mode)) {
    ::close(fd);
    return tl::unexpected(*wrong);
  }
  return fd;
}

Result<std::string> Root::ReadFile(std::string_view path, size_t max_bytes) const {
  Note(AccessLog::Kind::kRead, path);
  auto fd = OpenForRead(path, false);
  if (!fd) return tl::unexpected(fd.error());
  struct stat st;
  if (::fstat(*fd, &st) == 0 && static_cast<uint64_t>(st.st_size) > max_bytes) {
    ::close(*fd);
    return Fail(ErrorKind::kTooLarge, HostPath(path) + ": " + std::to_string(st.st_size) +
                                          " bytes, more than the " + std::to_string(max_bytes) +
                                          " expected");
  }
  auto text = ReadAll(*fd, max_bytes, HostPath(path));
  ::close(*fd);
  return text;
}

Result<std::string> Root::ReadLine(std::string_view path) const {
  auto text = ReadFile(path, 64 * 1024);
  if (!text) return text;
  size_t nl = text->find('\n');
  if (nl != std::string::npos) text->resize(nl);
  while (!text->empty() && (text->back() == '\r' || text->back() == ' ')) text->pop_back();
  return text;
}

Result<std::vector<DirEntry>> Root::ListDir(std::string_view path) const {
  Note(AccessLog::Kind::kList, path);
  auto opened = OpenForRead(path, true);
  if (!opened) return tl::unexpected(opened.error());
  int dfd = *opened;
  DIR* dir = ::fdopendir(dfd);
  if (dir == nullptr) {
    int err = errno;
    ::close(dfd);
    return tl::unexpected(ErrnoError(err, HostPath(path)));
  }
  std::vector<DirEntry> entries;
  while (struct dirent* ent = ::readdir(dir)) {
    std::string name = ent->d_name;
    if (name == "." || name == "..") continue;
    FileType type = FileType::kOther;
    switch (ent->d_type) {
      case DT_REG: type = FileType::kRegular; break;
      case DT_DIR: type = FileType::kDirectory; break;
      case DT_LNK: type = FileType::kSymlink; break;
      case DT_CHR: type = FileType::kCharDevice; break;
      case DT_BLK: type = FileType::kBlockDevice; break;
      default: {
        struct stat st;
        if (::fstatat(dfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) type = TypeOf(st.st_mode);
      }
    }
    entries.push_back({std::move(name), type});
  }
  ::closedir(dir);
  std::sort(entries.begin(), entries.end(),
            [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
  return entries;
}

Result<File> Root::OpenFile(std::string_view path) const {
  Note(AccessLog::Kind::kRead, path);
  auto fd = OpenForRead(path, false);
  if (!fd) return tl::unexpected(fd.error());
  struct stat st;
  if (::fstat(*fd, &st) != 0) {
    int err = errno;
    ::close(*fd);
    return tl::unexpected(ErrnoError(err, HostPath(path)));
  }
  return File(*fd, static_cast<uint64_t>(st.st_size));
}

}  // namespace dlrig
