// The recorder's lock: one process at a time records samples into a history file. Two
// recorders would each sample the same GPUs and interleave their rows; the second one waits
// HistoryOptions::busy_timeout for the first to finish, then fails with an error that names
// the file and the process holding it.
//
// An flock on PATH.lock, beside the database and not on it: closing any other descriptor of
// the database would drop the POSIX locks SQLite holds on it. The kernel releases the lock
// when its holder exits, however it exits, so a crashed recorder leaves no stale lock. The
// holder writes who it is into the file, for the error the next one gives.
#pragma once

#include <chrono>
#include <string>

#include "core/result.h"

namespace dlrig {

class RecorderLock {
 public:
  /// Takes the lock of the history at `db_path` for `who` ("dlrig history record"), waiting
  /// at most `wait`. kTimeout when another process holds it (its pid and what it is are in
  /// the message); the OS error (with the path) when the lock file cannot be made.
  static Result<RecorderLock> Acquire(const std::string& db_path, const std::string& who,
                                      std::chrono::milliseconds wait);
  RecorderLock() = default;
  RecorderLock(RecorderLock&& other) noexcept;
  RecorderLock& operator=(RecorderLock&& other) noexcept;
  ~RecorderLock();

  bool held() const { return fd_ >= 0; }

 private:
  explicit RecorderLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace dlrig
