// Root: every file read goes through one, so a captured or mounted tree is valid input.
// Paths given to a Root are absolute paths *on the inspected machine* ("/proc/cpuinfo");
// symbolic links inside the tree resolve against the root, never against the host.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace dlrig {

enum class FileType { kRegular, kDirectory, kSymlink, kCharDevice, kBlockDevice, kOther };

struct FileInfo {
  FileType type = FileType::kOther;
  uint64_t size_bytes = 0;
  uint32_t mode = 0;  ///< permission bits (07777)
  uid_t uid = 0;
  gid_t gid = 0;
  uint32_t rdev_major = 0;
  uint32_t rdev_minor = 0;
};

struct DirEntry {
  std::string name;
  FileType type = FileType::kOther;  ///< of the entry itself (a link is kSymlink)
};

/// An open file for random access (ELF headers of a 1 GB library). Closes on destruction.
class File {
 public:
  File(int fd, uint64_t size_bytes) : fd_(fd), size_bytes_(size_bytes) {}
  File(File&& other) noexcept : fd_(other.fd_), size_bytes_(other.size_bytes_) { other.fd_ = -1; }
  File& operator=(File&& other) noexcept;
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  ~File();
  uint64_t size_bytes() const { return size_bytes_; }
  /// Reads exactly `n` bytes at `offset`; fails with kMalformed on a short read.
  Result<void> ReadAt(uint64_t offset, void* out, size_t n) const;

 private:
  int fd_;
  uint64_t size_bytes_;
};

/// Lexically normalised absolute path: no "", "." or ".." components.
std::string NormalizePath(std::string_view path);

/// Records which paths the probes touched, so `dlrig capture` can save exactly those.
struct AccessLog {
  enum class Kind { kRead, kList, kLink, kStat };
  std::vector<std::pair<Kind, std::string>> entries;  ///< in access order, duplicates kept
};

class Root {
 public:
  /// Default cap for ReadFile: protects against a 1 GB file where a small one is expected.
  static constexpr size_t kDefaultMaxBytes = 4u << 20;

  /// Opens `dir` as the root of all reads; "/" means this machine.
  static Result<Root> Open(const std::string& dir);
  Root(Root&& other) noexcept;
  Root& operator=(Root&& other) noexcept;
  Root(const Root&) = delete;
  Root& operator=(const Root&) = delete;
  ~Root();

  /// True when the root is "/" (the running machine): only then may dlrig run programs,
  /// load libraries or act.
  bool IsHost() const { return host_; }
  const std::string& dir() const { return dir_; }

  /// Whole file, at most `max_bytes` (kTooLarge beyond). Follows links inside the root.
  Result<std::string> ReadFile(std::string_view path, size_t max_bytes = kDefaultMaxBytes) const;
  /// First line of a file without its newline (sysfs attributes, version files).
  Result<std::string> ReadLine(std::string_view path) const;
  /// Directory entries, sorted by name, without "." and "..".
  Result<std::vector<DirEntry>> ListDir(std::string_view path) const;
  /// The literal target of a symbolic link (or of a link flattened in a shared capture).
  Result<std::string> ReadLink(std::string_view path) const;
  /// Canonical absolute path inside the root, all links followed.
  Result<std::string> Resolve(std::string_view path) const;
  /// Follows links.
  Result<FileInfo> Stat(std::string_view path) const;
  /// Does not follow a link in the last component.
  Result<FileInfo> LStat(std::string_view path) const;
  bool Exists(std::string_view path) const { return Stat(path).has_value(); }
  bool IsDir(std::string_view path) const;
  /// Opens a regular file for ReadAt.
  Result<File> OpenFile(std::string_view path) const;
  /// Where `path` lives on this machine: for messages, dlopen and statvfs.
  std::string HostPath(std::string_view path) const;
  /// Every later access is appended to `log` (not owned; nullptr stops recording).
  void set_access_log(AccessLog* log) { log_ = log; }

 private:
  void Note(AccessLog::Kind kind, std::string_view path) const {
    if (log_ != nullptr) log_->entries.emplace_back(kind, NormalizePath(path));
  }
  Root(std::string dir, int fd, bool host) : dir_(std::move(dir)), fd_(fd), host_(host) {}
  /// `hops` is the budget of links left to follow, shared by every link (real or flattened)
  /// that one call of a public method meets; kLoop once spent.
  Result<std::string> ResolveImpl(std::string_view path, int& hops, bool follow_last) const;
  /// For a foreign root: the root-relative path to hand to *at() calls.
  Result<std::string> Locate(std::string_view path, bool follow_last, int& hops) const;
  /// Opens `path` without blocking (O_NONBLOCK: a FIFO or tty cannot stall a probe) and checks
  /// what was opened: a regular file (or a directory when `directory`), else an error naming
  /// the type ("is a FIFO"). The caller closes the descriptor.
  Result<int> OpenForRead(std::string_view path, bool directory) const;
  struct Flattened {
    std::string text;               ///< the target as stored
    Result<std::string> resolved;   ///< where it leads, canonical; kLoop in a loop
  };
  /// Whether the regular file `rel` is a link flattened by a capture: a small file whose text
  /// names something in the root, or leads into a loop. Deciding that follows the target and
  /// spends `hops`.
  std::optional<Flattened> FlattenedLink(const std::string& rel, int& hops) const;

  std::string dir_;
  int fd_ = -1;
  bool host_ = true;
  AccessLog* log_ = nullptr;
};

/// Joins two path parts with exactly one '/'.
std::string JoinPath(std::string_view a, std::string_view b);
/// Directory part of an absolute path ("/a/b" -> "/a"; "/a" -> "/").
std::string DirName(std::string_view path);
/// Last component ("/a/b" -> "b").
std::string BaseName(std::string_view path);

}  // namespace dlrig
