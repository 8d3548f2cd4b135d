#include "gpu/cuda_driver.h"

#include <dlfcn.h>
#include <link.h>

#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include <fmt/format.h>

namespace dlrig::gpu {
namespace {

void* Resolve(void* handle, std::initializer_list<const char*> names, std::string* found) {
  for (const char* n : names) {
    if (void* p = ::dlsym(handle, n)) {
      *found = n;
      return p;
    }
  }
  return nullptr;
}

Result<CudaDriver*> Load(CudaDriver* d) {
  const char* library = "libcuda.so.1";
  void* handle = ::dlopen(library, RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* err = ::dlerror();
    return Fail(ErrorKind::kNotFound,
                fmt::format("cannot load {} (the NVIDIA driver's CUDA library): {}", library,
                            err ? err : "dlopen failed"));
  }
  // Never dlclose'd: the driver keeps threads that run its code until the process ends.
  std::string found;
#define DLRIG_CUDA_RESOLVE(name, params, ...)                                                 \
  d->name = reinterpret_cast<decltype(d->name)>(Resolve(handle, {__VA_ARGS__}, &found));                  \
  if (!d->name) {                                                                             \
    return Fail(ErrorKind::kUnsupported,                                                      \
                fmt::format("{} lacks {}: the driver is older than this benchmark needs",     \
                            library, std::initializer_list<const char*>{__VA_ARGS__}.begin()[0])); \
  }
  DLRIG_CUDA_DRIVER_SYMBOLS(DLRIG_CUDA_RESOLVE)
#undef DLRIG_CUDA_RESOLVE
  link_map* map = nullptr;
  if (::dlinfo(handle, RTLD_DI_LINKMAP, &map) == 0 && map && map->l_name) d->path = map->l_name;
  if (auto ok = d->Check(d->cuInit(0), "cuInit"); !ok) return tl::unexpected(ok.error());
  if (auto ok = d->Check(d->cuDriverGetVersion(&d->version), "cuDriverGetVersion"); !ok) {
    return tl::unexpected(ok.error());
  }
  return d;
}

}  // namespace

const Result<CudaDriver*>& CudaDriver::Get() {
  static CudaDriver instance;
  static const Result<CudaDriver*> driver = Load(&instance);
  return driver;
}

std::string CudaDriver::Describe(CUresult code) const {
  const char* name = nullptr;
  const char* text = nullptr;
  if (cuGetErrorName) cuGetErrorName(code, &name);
  if (cuGetErrorString) cuGetErrorString(code, &text);
  return fmt::format("{} ({})", name ? name : fmt::format("CUDA error {}", code),
                     text ? text : "no description");
}

Result<void> CudaDriver::Check(CUresult code, const char* call) const {
  if (code == kCudaSuccess) return {};
  ErrorKind kind = ErrorKind::kIo;
  if (code == 2) kind = ErrorKind::kTooLarge;     // CUDA_ERROR_OUT_OF_MEMORY
  if (code == 100) kind = ErrorKind::kNotFound;   // CUDA_ERROR_NO_DEVICE
  if (code == 801) kind = ErrorKind::kUnsupported;  // CUDA_ERROR_NOT_SUPPORTED
  return Fail(kind, fmt::format("{}: {}", call, Describe(code)));
}

namespace {

Result<CudaDriver*> Driver() { return CudaDriver::Get(); }

}  // namespace

Result<CUcontext> PrimaryContext(int device) {
  static std::mutex mutex;
  static std::vector<CUcontext> contexts;
  auto d = Driver();
  if (!d) return tl::unexpected(d.error());
  std::lock_guard lock(mutex);
  if (device < 0) return Fail(ErrorKind::kNotFound, fmt::format("no GPU {}", device));
  if (static_cast<size_t>(device) >= contexts.size()) contexts.resize(device + 1, nullptr);
  if (!contexts[device]) {
    CUdevice handle = 0;
    if (auto ok = (*d)->Check((*d)->cuDeviceGet(&handle, device), "cuDeviceGet"); !ok) {
      return tl::unexpected(ok.error());
    }
    CUcontext ctx = nullptr;
    if (auto ok = (*d)->Check((*d)->cuDevicePrimaryCtxRetain(&ctx, handle), "cuDevicePrimaryCtxRetain");
        !ok) {
      return tl::unexpected(ok.error());
    }
    contexts[device] = ctx;
  }
  return contexts[device];
}

Result<void> UseDevice(int device) {
  auto ctx = PrimaryContext(device);
  if (!ctx) return tl::unexpected(ctx.error());
  auto d = Driver();
  return (*d)->Check((*d)->cuCtxSetCurrent(*ctx), "cuCtxSetCurrent");
}

Result<ContextScope> ContextScope::Enter(int device) {
  if (auto ok = UseDevice(device); !ok) return tl::unexpected(ok.error());
  return ContextScope(*PrimaryContext(device));
}

ContextScope::~ContextScope() = default;

Result<DeviceMemory> DeviceMemory::Allocate(int device, size_t bytes) {
  if (auto ok = UseDevice(device); !ok) return tl::unexpected(ok.error());
  auto d = *Driver();
  DeviceMemory m;
  if (auto ok = d->Check(d->cuMemAlloc(&m.ptr_, bytes), "cuMemAlloc"); !ok) {
    return Fail(ok.error().kind, fmt::format("{} ({} bytes on GPU {})", ok.error().message, bytes, device));
  }
  m.bytes_ = bytes;
  m.device_ = device;
  return m;
}

DeviceMemory& DeviceMemory::operator=(DeviceMemory&& o) noexcept {
  if (this != &o) {
    this->~DeviceMemory();
    ptr_ = std::exchange(o.ptr_, 0);
    bytes_ = std::exchange(o.bytes_, 0);
    device_ = std::exchange(o.device_, -1);
  }
  return *this;
}

DeviceMemory::~DeviceMemory() {
  if (ptr_ && UseDevice(device_)) (*Driver())->cuMemFree(ptr_);
  ptr_ = 0;
}

Result<PinnedMemory> PinnedMemory::Allocate(size_t bytes) {
  auto d = Driver();
  if (!d) return tl::unexpected(d.error());
  PinnedMemory m;
  if (auto ok = (*d)->Check((*d)->cuMemHostAlloc(&m.data_, bytes, kMemHostAllocPortable | kMemHostAllocDeviceMap),
                            "cuMemHostAlloc");
      !ok) {
    return Fail(ok.error().kind, fmt::format("{} ({} bytes of pinned host memory)", ok.error().message, bytes));
  }
  m.bytes_ = bytes;
  return m;
}

PinnedMemory& PinnedMemory::operator=(PinnedMemory&& o) noexcept {
  if (this != &o) {
    this->~PinnedMemory();
    data_ = std::exchange(o.data_, nullptr);
    bytes_ = std::exchange(o.bytes_, 0);
  }
  return *this;
}

PinnedMemory::~PinnedMemory() {
  if (data_) (*Driver())->cuMemFreeHost(data_);
  data_ = nullptr;
}

Result<Stream> Stream::Create(int device) {
  if (auto ok = UseDevice(device); !ok) return tl::unexpected(ok.error());
  auto d = *Driver();
  Stream s;
  if (auto ok = d->Check(d->cuStreamCreate(&s.stream_, kStreamNonBlocking), "cuStreamCreate"); !ok) {
    return tl::unexpected(ok.error());
  }
  s.device_ = device;
  return s;
}

Stream& Stream::operator=(Stream&& o) noexcept {
  if (this != &o) {
    this->~Stream();
    stream_ = std::exchange(o.stream_, nullptr);
    device_ = std::exchange(o.device_, -1);
  }
  return *this;
}

Stream::~Stream() {
  if (stream_) (*Driver())->cuStreamDestroy(stream_);
  stream_ = nullptr;
}

Result<Event> Event::Create(int device) {
  if (auto ok = UseDevice(device); !ok) return tl::unexpected(ok.error());
  auto d = *Driver();
  Event e;
  if (auto ok = d->Check(d->cuEventCreate(&e.event_, kEventDefault), "cuEventCreate"); !ok) {
    return tl::unexpected(ok.error());
  }
  return e;
}

Event& Event::operator=(Event&& o) noexcept {
  if (this != &o) {
    this->~Event();
    event_ = std::exchange(o.event_, nullptr);
  }
  return *this;
}

Event::~Event() {
  if (event_) (*Driver())->cuEventDestroy(event_);
  event_ = nullptr;
}

namespace {

// Polls instead of blocking in the driver, so a GPU that stops answering costs the deadline,
// not the process.
template <class Query>
Result<void> WaitFor(Query query, double deadline_s, const char* what) {
  auto d = *Driver();
  auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(deadline_s);
  auto pause = std::chrono::microseconds(20);
  for (;;) {
    CUresult r = query();
    if (r == kCudaSuccess) return {};
    if (r != kCudaErrorNotReady) return d->Check(r, what);
    if (std::chrono::steady_clock::now() > until) {
      return Fail(ErrorKind::kTimeout,
                  fmt::format("{}: the GPU did not finish within {:.0f} s", what, deadline_s));
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(2000));
  }
}

}  // namespace

Result<TimedStream> TimedStream::Create(int device) {
  TimedStream t;
  auto stream = Stream::Create(device);
  if (!stream) return tl::unexpected(stream.error());
  t.stream_ = std::move(*stream);
  for (Event* e : {&t.start_, &t.stop_}) {
    auto event = Event::Create(device);
    if (!event) return tl::unexpected(event.error());
    *e = std::move(*event);
  }
  return t;
}

Result<void> TimedStream::Start() const {
  auto d = *Driver();
  return d->Check(d->cuEventRecord(start_.get(), stream_.get()), "cuEventRecord");
}

Result<void> TimedStream::Stop() const {
  auto d = *Driver();
  return d->Check(d->cuEventRecord(stop_.get(), stream_.get()), "cuEventRecord");
}

Result<double> ElapsedSeconds(const Event& start, const Event& stop, double deadline_s) {
  auto d = *Driver();
  if (auto ok = WaitFor([&] { return d->cuEventQuery(stop.get()); }, deadline_s, "cuEventQuery"); !ok) {
    return tl::unexpected(ok.error());
  }
  float ms = 0;
  if (auto ok = d->Check(d->cuEventElapsedTime(&ms, start.get(), stop.get()), "cuEventElapsedTime"); !ok) {
    return tl::unexpected(ok.error());
  }
  return static_cast<double>(ms) / 1e3;
}

Result<void> SyncStream(const Stream& stream, double deadline_s) {
  auto d = *Driver();
  return WaitFor([&] { return d->cuStreamQuery(stream.get()); }, deadline_s, "cuStreamQuery");
}

}  // namespace dlrig::gpu
