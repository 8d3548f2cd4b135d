// The one way dlrig writes a file (capture's archive, plan's files, bench --html, history
// --svg): a fresh temporary beside the target, written in full, synced and renamed into place,
// so a reader sees the old file or the new one, never half of one, and a planted link or device
// node is never written through.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace dlrig {

/// Refuses (kIo, the message says what the target is) when `path` exists and is not a regular
/// file: a symbolic link, a directory, a device node (/dev/full), a FIFO, a socket. A missing
/// `path` is fine.
Result<void> CheckWritableTarget(const std::string& path);

/// A temporary file in the target's directory, opened with O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC
/// under an unpredictable name (".NAME.XXXXXXXXXXXX.tmp", 60 random bits from getrandom) and
/// mode `mode` (the umask applies). Commit() puts it in place of the target; if the object is
/// destroyed first, or any step fails, the temporary is removed and the target is untouched.
class AtomicFile {
 public:
  /// kIo naming `path` when the target is not a regular file or the directory refuses.
  static Result<AtomicFile> Create(const std::string& path, unsigned mode = 0644);
  AtomicFile(AtomicFile&& other) noexcept;
  AtomicFile& operator=(AtomicFile&& other) noexcept;
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile();

  /// Writes all of `data` (retrying short writes and EINTR).
  Result<void> Write(std::string_view data);
  /// The open descriptor (for a writer such as zlib's gzdopen to use through dup()).
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  const std::string& temp_path() const { return temp_; }

  /// fsync and close the temporary; it stays beside the target until Publish().
  Result<void> Close();
  /// Checks the target again, renames the closed temporary over it and fsyncs the directory.
  Result<void> Publish();
  /// Close() then Publish().
  Result<void> Commit();
  /// Removes the temporary now (also what the destructor does when not published).
  void Discard();

 private:
  AtomicFile(std::string path, std::string temp, int fd)
      : path_(std::move(path)), temp_(std::move(temp)), fd_(fd) {}
  std::string path_, temp_;
  int fd_ = -1;
  bool published_ = false;
};

/// Writes `text` to `path` through an AtomicFile with `mode`; on failure the target is as it
/// was and the error names `path`.
Result<void> WriteFileAtomically(const std::string& path, std::string_view text,
                                 unsigned mode = 0644);

}  // namespace dlrig
