#include "monitor/history_lock.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>
#include <utility>

#include "core/host.h"
#include "monitor/history_view.h"

namespace dlrig {
namespace {

// What the holder wrote into the lock file: "pid 123: dlrig serve, since ...".
std::string Holder(int fd) {
  char buffer[512];
  ssize_t n = ::pread(fd, buffer, sizeof buffer, 0);
  std::string text = n > 0 ? std::string(buffer, static_cast<size_t>(n)) : "";
  while (!text.empty() && (text.back() == '\n' || text.back() == '\0')) text.pop_back();
  return text.empty() ? "a process that did not say which" : text;
}

}  // namespace

Result<RecorderLock> RecorderLock::Acquire(const std::string& db_path, const std::string& who,
                                           std::chrono::milliseconds wait) {
  std::string path = db_path + ".lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    int err = errno;
    return Fail(ErrorKindFromErrno(err),
                fmt::format("cannot record into {}: cannot create its lock file {}: {}", db_path,
                            path, std::strerror(err)));
  }
  RecorderLock lock(fd);
  auto deadline = std::chrono::steady_clock::now() + wait;
  while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    if (err == EINTR) continue;
    if (err != EWOULDBLOCK)
      return Fail(ErrorKindFromErrno(err), fmt::format("cannot lock {} for recording into {}: {}",
                                                       path, db_path, std::strerror(err)));
    if (std::chrono::steady_clock::now() >= deadline)
      return Fail(ErrorKind::kTimeout,
                  fmt::format("{} is locked by another writer ({}; waited {} ms): one process "
                              "records into a history at a time: stop that one, or give this "
                              "one another file with --db",
                              db_path, Holder(fd), wait.count()));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::string me =
      fmt::format("pid {}: {}, recording since {}\n", ::getpid(), who, UtcTimeText(NowMs()));
  // Best effort: the lock is held either way; the text only names us to the next one.
  if (::ftruncate(fd, 0) == 0) {
    [[maybe_unused]] ssize_t written = ::pwrite(fd, me.data(), me.size(), 0);
  }
  return lock;
}

RecorderLock::RecorderLock(RecorderLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

RecorderLock& RecorderLock::operator=(RecorderLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

RecorderLock::~RecorderLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace dlrig
