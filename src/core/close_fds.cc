#include "core/close_fds.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstddef>
#include <cstdint>

#ifndef SYS_close_range
#define SYS_close_range 436  // the same number on every architecture (Linux 5.9)
#endif

namespace dlrig {
namespace {

constexpr size_t kMaxKept = 8;

bool Kept(int fd, const int* keep, size_t count) {
  return std::find(keep, keep + count, fd) != keep + count;
}

// Closes [first, last] with close_range; false when the kernel (or a seccomp filter) refuses.
bool CloseRange(unsigned first, unsigned last) {
  if (first > last) return true;
  return ::syscall(SYS_close_range, first, last, 0) == 0;
}

// The descriptor numbers /proc/self/fd lists, closed as they are read; false without /proc.
bool CloseListed(const int* keep, size_t count) {
  int dir = ::open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return false;
  alignas(8) char buffer[4096];
  for (;;) {
    long n = ::syscall(SYS_getdents64, dir, buffer, sizeof buffer);
    if (n <= 0) break;
    for (long at = 0; at < n;) {
      // struct linux_dirent64: ino (8), off (8), reclen (2), type (1), name.
      uint16_t reclen;
      __builtin_memcpy(&reclen, buffer + at + 16, sizeof reclen);
      const char* name = buffer + at + 19;
      at += reclen;
      int fd = 0;
      bool number = *name != '\0';
      for (const char* c = name; *c != '\0' && number; ++c) {
        number = *c >= '0' && *c <= '9' && fd < INT_MAX / 10;
        fd = fd * 10 + (*c - '0');
      }
      if (number && fd > 2 && fd != dir && !Kept(fd, keep, count)) ::close(fd);
    }
  }
  ::close(dir);
  return true;
}

}  // namespace

void CloseDescriptorsExcept(std::initializer_list<int> keep) {
  int kept[kMaxKept];
  size_t count = 0;
  for (int fd : keep) {
    if (fd <= 2 || count == kMaxKept || Kept(fd, kept, count)) continue;
    size_t at = count++;  // insertion keeps them in order
    for (; at > 0 && kept[at - 1] > fd; --at) kept[at] = kept[at - 1];
    kept[at] = fd;
  }
  bool done = true;
  unsigned next = 3;
  for (size_t i = 0; i < count && done; ++i) {
    done = CloseRange(next, static_cast<unsigned>(kept[i]) - 1);
    next = static_cast<unsigned>(kept[i]) + 1;
  }
  if (done && CloseRange(next, UINT_MAX)) return;
  if (CloseListed(kept, count)) return;
  rlimit limit{};
  rlim_t top = ::getrlimit(RLIMIT_NOFILE, &limit) == 0 ? limit.rlim_cur : 1024;
  top = std::min<rlim_t>(top, rlim_t{1} << 20);
  for (rlim_t fd = 3; fd < top; ++fd)
    if (!Kept(static_cast<int>(fd), kept, count)) ::close(static_cast<int>(fd));
}

}  // namespace dlrig
