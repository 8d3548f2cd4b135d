// Linux native AIO through raw syscalls (what fio's ioengine=libaio uses, without libaio).
#pragma once

#include <linux/aio_abi.h>

#include <cstdint>
#include <span>

#include "core/result.h"

namespace dlrig::bench {

/// One AIO context; destroyed (in-flight I/O cancelled or waited for by the kernel) on scope exit.
class AioContext {
 public:
  /// io_setup for `max_events` in flight; EAGAIN means /proc/sys/fs/aio-max-nr is exhausted.
  static Result<AioContext> Create(unsigned max_events);
  AioContext(AioContext&& other) noexcept : ctx_(other.ctx_) { other.ctx_ = 0; }
  AioContext& operator=(AioContext&& other) noexcept;
  AioContext(const AioContext&) = delete;
  AioContext& operator=(const AioContext&) = delete;
  ~AioContext();

  /// Submits all of `iocbs`, one io_submit each, as fio does by default
  /// (iodepth_batch_submit=1): one call for many lets the block layer merge adjacent requests
  /// into larger ones, which changes what is measured. Retries EINTR and EAGAIN.
  Result<void> Submit(std::span<iocb*> iocbs) const;
  /// Waits for at least `min` completions, returns how many were stored in `events`.
  Result<int> GetEvents(int min, std::span<io_event> events) const;

 private:
  explicit AioContext(aio_context_t ctx) : ctx_(ctx) {}
  aio_context_t ctx_ = 0;
};

enum class AioOp { kRead, kWrite };

/// An iocb for `fd` at `offset` into `buffer`; `data` comes back in io_event.data.
iocb MakeIocb(AioOp op, int fd, void* buffer, size_t bytes, uint64_t offset, uint64_t data);

}  // namespace dlrig::bench
