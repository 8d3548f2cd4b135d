#include "bench/linux_aio.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace dlrig::bench {

namespace {

Error SyscallError(const char* call, int err) {
  std::string hint;
  if (err == EAGAIN && std::strcmp(call, "io_setup") == 0)
    hint = " (the system-wide limit /proc/sys/fs/aio-max-nr is used up: lower --qd or --threads)";
  return Error{ErrorKindFromErrno(err), std::string(call) + ": " + std::strerror(err) + hint};
}

}  // namespace

Result<AioContext> AioContext::Create(unsigned max_events) {
  aio_context_t ctx = 0;
  if (syscall(SYS_io_setup, max_events, &ctx) != 0)
    return tl::unexpected(SyscallError("io_setup", errno));
  return AioContext(ctx);
}

AioContext& AioContext::operator=(AioContext&& other) noexcept {
  if (this != &other) {
    if (ctx_ != 0) syscall(SYS_io_destroy, ctx_);
    ctx_ = other.ctx_;
    other.ctx_ = 0;
  }
  return *this;
}

AioContext::~AioContext() {
  // io_destroy waits for the I/O still in flight, so buffers may be freed after it.
  if (ctx_ != 0) syscall(SYS_io_destroy, ctx_);
}

Result<void> AioContext::Submit(std::span<iocb*> iocbs) const {
  size_t done = 0;
  while (done < iocbs.size()) {
    long n = syscall(SYS_io_submit, ctx_, 1L, iocbs.data() + done);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return tl::unexpected(SyscallError("io_submit", errno));
    }
    done += static_cast<size_t>(n);
  }
  return {};
}

Result<int> AioContext::GetEvents(int min, std::span<io_event> events) const {
  for (;;) {
    long n = syscall(SYS_io_getevents, ctx_, static_cast<long>(min),
                     static_cast<long>(events.size()), events.data(), nullptr);
    if (n >= 0) return static_cast<int>(n);
    if (errno != EINTR) return tl::unexpected(SyscallError("io_getevents", errno));
  }
}

iocb MakeIocb(AioOp op, int fd, void* buffer, size_t bytes, uint64_t offset, uint64_t data) {
  iocb cb;
  std::memset(&cb, 0, sizeof cb);
  cb.aio_data = data;
  cb.aio_lio_opcode = op == AioOp::kWrite ? IOCB_CMD_PWRITE : IOCB_CMD_PREAD;
  cb.aio_fildes = static_cast<uint32_t>(fd);
  cb.aio_buf = reinterpret_cast<uint64_t>(buffer);
  cb.aio_nbytes = bytes;
  cb.aio_offset = static_cast<int64_t>(offset);
  return cb;
}

}  // namespace dlrig::bench
