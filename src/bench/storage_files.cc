#include "bench/storage_files.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "core/root.h"
#include "core/strings.h"

namespace dlrig::bench::storage_detail {

namespace {

constexpr uint64_t kLayoutChunkBytes = 1u << 20;

}  // namespace

Error ErrnoError(int err, std::string message) {
  return Error{ErrorKindFromErrno(err), message + ": " + std::strerror(err)};
}

Error DirectRefused(const std::string& dir) {
  return Error{ErrorKind::kUnsupported,
               fmt::format("{} does not support O_DIRECT (tmpfs and some overlay filesystems "
                           "refuse it): choose a directory on a real disk",
                           dir)};
}

Error NoSpace(const std::string& dir, std::string_view when) {
  return Error{ErrorKind::kIo, fmt::format("no space left on {} while {}: free some space or "
                                           "lower --size or --threads",
                                           dir, when)};
}

Result<void> CheckDirectory(const StorageSpec& spec) {
  struct stat st;
  if (stat(spec.dir.c_str(), &st) != 0) {
    if (errno == ENOENT)
      return Fail(ErrorKind::kNotFound, fmt::format("directory {} does not exist", spec.dir));
    return tl::unexpected(ErrnoError(errno, "cannot use " + spec.dir));
  }
  if (!S_ISDIR(st.st_mode))
    return Fail(ErrorKind::kMalformed, fmt::format("{} is not a directory", spec.dir));
  struct statvfs fs;
  if (statvfs(spec.dir.c_str(), &fs) != 0)
    return tl::unexpected(ErrnoError(errno, "statvfs " + spec.dir));
  uint64_t free_bytes = uint64_t(fs.f_bavail) * fs.f_frsize;
  uint64_t need = uint64_t(spec.threads) * spec.file_bytes;
  // A filesystem that reports no size at all (ramfs) cannot be checked; ENOSPC still is.
  if (fs.f_blocks != 0 && double(need) > spec.max_free_fraction * double(free_bytes))
    return Fail(ErrorKind::kIo,
                fmt::format("the files need {} ({} x {}) but {} has {} free, and the benchmark "
                            "takes at most {:.0f}% of the free space: lower --size or --threads",
                            HumanBytes(need), spec.threads, HumanBytes(spec.file_bytes), spec.dir,
                            HumanBytes(free_bytes), spec.max_free_fraction * 100));
  return {};
}

Error OpenError(const std::string& dir, int err) {
  switch (err) {
    case EACCES:
    case EPERM:
      return Error{ErrorKind::kNoPermission,
                   fmt::format("cannot create files in {} (no permission): choose a writable "
                               "directory",
                               dir)};
    case EROFS:
      return Error{ErrorKind::kNoPermission, fmt::format("{} is on a read-only filesystem", dir)};
    case ENOSPC:
      return NoSpace(dir, "creating the files");
    default:
      return ErrnoError(err, "cannot create a file in " + dir);
  }
}

Result<BenchFile> CreateBenchFile(const StorageSpec& spec, int index, Rng& rng) {
  int flags = O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | (spec.direct ? O_DIRECT : 0);
  for (int attempt = 0; attempt < 16; ++attempt) {
    std::string path = JoinPath(
        spec.dir, fmt::format(".dlrig-storage-{}-{}-{:016x}", getpid(), index, rng.Next()));
    int fd = open(path.c_str(), flags, 0600);
    if (fd >= 0) {
      if (unlink(path.c_str()) != 0) {
        int err = errno;
        close(fd);
        return tl::unexpected(ErrnoError(err, "cannot remove " + path));
      }
      return BenchFile(fd);
    }
    int err = errno;
    if (err == EEXIST) continue;
    // Linux creates the file before it checks O_DIRECT: the name is ours (O_EXCL), remove it.
    if (err == EINVAL) unlink(path.c_str());
    if (err == EINVAL && spec.direct) return tl::unexpected(DirectRefused(spec.dir));
    return tl::unexpected(OpenError(spec.dir, err));
  }
  return Fail(ErrorKind::kIo, "could not find an unused file name in " + spec.dir);
}

Result<void> Preallocate(const StorageSpec& spec, const BenchFile& file) {
  auto size = static_cast<off_t>(spec.file_bytes);
  if (fallocate(file.fd(), 0, 0, size) == 0) return {};
  int err = errno;
  if (err == ENOSPC || err == EDQUOT)
    return tl::unexpected(NoSpace(spec.dir, "reserving the files"));
  if (err != EOPNOTSUPP && err != ENOSYS)
    return tl::unexpected(ErrnoError(err, "fallocate in " + spec.dir));
  if (ftruncate(file.fd(), size) != 0)
    return tl::unexpected(ErrnoError(errno, "ftruncate in " + spec.dir));
  return {};
}

Result<void> LayOut(const StorageSpec& spec, const BenchFile& file, Rng& rng) {
  // Through the page cache, as fio lays files out (buffered writes, fsync, then invalidate):
  // O_DIRECT is off on the descriptor meanwhile, so the disk sees the same writeback stream.
  int flags = fcntl(file.fd(), F_GETFL);
  if (flags < 0 || fcntl(file.fd(), F_SETFL, flags & ~O_DIRECT) != 0)
    return tl::unexpected(ErrnoError(errno, "fcntl in " + spec.dir));
  std::string chunk(kLayoutChunkBytes, '\0');
  rng.Fill(chunk.data(), chunk.size());
  const uint64_t nonce = rng.Next();  // this file's: no 4 KiB of it equals another's
  for (uint64_t offset = 0; offset < spec.file_bytes;) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(chunk.size(), spec.file_bytes - offset));
    Stamp(chunk.data(), n, offset, nonce);
    ssize_t done = pwrite(file.fd(), chunk.data(), n, static_cast<off_t>(offset));
    if (done < 0 && errno == EINTR) continue;
    if (done < 0 && (errno == ENOSPC || errno == EDQUOT))
      return tl::unexpected(NoSpace(spec.dir, "laying out the files"));
    if (done <= 0)
      return tl::unexpected(ErrnoError(done < 0 ? errno : EIO, "write in " + spec.dir));
    offset += static_cast<uint64_t>(done);
  }
  if (fsync(file.fd()) != 0) return tl::unexpected(ErrnoError(errno, "fsync in " + spec.dir));
  posix_fadvise(file.fd(), 0, 0, POSIX_FADV_DONTNEED);  // fio's invalidate=1
  if (fcntl(file.fd(), F_SETFL, flags) != 0)
    return tl::unexpected(ErrnoError(errno, "fcntl in " + spec.dir));
  return {};
}

}  // namespace dlrig::bench::storage_detail
