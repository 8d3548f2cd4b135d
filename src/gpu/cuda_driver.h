// The CUDA driver API, dlopen'ed from libcuda.so.1: our own declarations of the few types and
// entry points the benchmarks use (values from CUDA 13.0's cuda.h), resolved once, every return
// code turned into an Error that names the call. The binary links no CUDA library.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "core/result.h"

namespace dlrig::gpu {

using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUcontext = struct CUctx_st*;
using CUstream = struct CUstream_st*;
using CUevent = struct CUevent_st*;
using CUmodule = struct CUmod_st*;
using CUfunction = struct CUfunc_st*;

inline constexpr CUresult kCudaSuccess = 0;
inline constexpr CUresult kCudaErrorNotReady = 600;

// cuDeviceGetAttribute (CUdevice_attribute).
enum CuAttribute : int {
  kAttrClockRateKhz = 13,
  kAttrMultiprocessorCount = 16,
  kAttrPciBusId = 33,
  kAttrPciDeviceId = 34,
  kAttrMemoryClockRateKhz = 36,
  kAttrGlobalMemoryBusWidth = 37,
  kAttrL2CacheSize = 38,
  kAttrPciDomainId = 50,
  kAttrComputeCapabilityMajor = 75,
  kAttrComputeCapabilityMinor = 76,
};

inline constexpr unsigned kMemHostAllocPortable = 0x01;
inline constexpr unsigned kMemHostAllocDeviceMap = 0x02;
inline constexpr unsigned kStreamNonBlocking = 0x1;
inline constexpr unsigned kEventDefault = 0x0;

// X(name, (parameters), symbols to try, newest first...); every entry point returns CUresult.
#define DLRIG_CUDA_DRIVER_SYMBOLS(X)                                                         \
  X(cuInit, (unsigned), "cuInit")                                                \
  X(cuDriverGetVersion, (int*), "cuDriverGetVersion")                            \
  X(cuGetErrorName, (CUresult, const char**), "cuGetErrorName")                  \
  X(cuGetErrorString, (CUresult, const char**), "cuGetErrorString")              \
  X(cuDeviceGetCount, (int*), "cuDeviceGetCount")                                \
  X(cuDeviceGet, (CUdevice*, int), "cuDeviceGet")                                \
  X(cuDeviceGetName, (char*, int, CUdevice), "cuDeviceGetName")                  \
  X(cuDeviceGetAttribute, (int*, int, CUdevice), "cuDeviceGetAttribute")         \
  X(cuDeviceTotalMem, (size_t*, CUdevice), "cuDeviceTotalMem_v2")                \
  X(cuDeviceCanAccessPeer, (int*, CUdevice, CUdevice), "cuDeviceCanAccessPeer")  \
  X(cuDevicePrimaryCtxRetain, (CUcontext*, CUdevice), "cuDevicePrimaryCtxRetain") \
  X(cuDevicePrimaryCtxRelease, (CUdevice), "cuDevicePrimaryCtxRelease_v2",       \
    "cuDevicePrimaryCtxRelease")                                                             \
  X(cuCtxSetCurrent, (CUcontext), "cuCtxSetCurrent")                             \
  X(cuCtxSynchronize, (), "cuCtxSynchronize")                                    \
  X(cuCtxEnablePeerAccess, (CUcontext, unsigned), "cuCtxEnablePeerAccess")       \
  X(cuMemGetInfo, (size_t*, size_t*), "cuMemGetInfo_v2")                         \
  X(cuMemAlloc, (CUdeviceptr*, size_t), "cuMemAlloc_v2")                         \
  X(cuMemFree, (CUdeviceptr), "cuMemFree_v2")                                    \
  X(cuMemHostAlloc, (void**, size_t, unsigned), "cuMemHostAlloc")                \
  X(cuMemFreeHost, (void*), "cuMemFreeHost")                                     \
  X(cuMemHostGetDevicePointer, (CUdeviceptr*, void*, unsigned),                  \
    "cuMemHostGetDevicePointer_v2")                                                          \
  X(cuMemcpyHtoDAsync, (CUdeviceptr, const void*, size_t, CUstream),             \
    "cuMemcpyHtoDAsync_v2")                                                                  \
  X(cuMemcpyDtoHAsync, (void*, CUdeviceptr, size_t, CUstream),                   \
    "cuMemcpyDtoHAsync_v2")                                                                  \
  X(cuMemcpyDtoDAsync, (CUdeviceptr, CUdeviceptr, size_t, CUstream),             \
    "cuMemcpyDtoDAsync_v2")                                                                  \
  X(cuMemcpyHtoD, (CUdeviceptr, const void*, size_t), "cuMemcpyHtoD_v2")         \
  X(cuMemcpyDtoH, (void*, CUdeviceptr, size_t), "cuMemcpyDtoH_v2")               \
  X(cuMemsetD32Async, (CUdeviceptr, unsigned, size_t, CUstream),                 \
    "cuMemsetD32Async")                                                                      \
  X(cuStreamCreate, (CUstream*, unsigned), "cuStreamCreate")                     \
  X(cuStreamDestroy, (CUstream), "cuStreamDestroy_v2")                           \
  X(cuStreamSynchronize, (CUstream), "cuStreamSynchronize")                      \
  X(cuStreamQuery, (CUstream), "cuStreamQuery")                                  \
  X(cuStreamWaitEvent, (CUstream, CUevent, unsigned), "cuStreamWaitEvent")       \
  X(cuEventCreate, (CUevent*, unsigned), "cuEventCreate")                        \
  X(cuEventDestroy, (CUevent), "cuEventDestroy_v2")                              \
  X(cuEventRecord, (CUevent, CUstream), "cuEventRecord")                         \
  X(cuEventSynchronize, (CUevent), "cuEventSynchronize")                         \
  X(cuEventQuery, (CUevent), "cuEventQuery")                                     \
  X(cuEventElapsedTime, (float*, CUevent, CUevent), "cuEventElapsedTime_v2",     \
    "cuEventElapsedTime")                                                                    \
  X(cuModuleLoadData, (CUmodule*, const void*), "cuModuleLoadData")              \
  X(cuModuleUnload, (CUmodule), "cuModuleUnload")                                \
  X(cuModuleGetFunction, (CUfunction*, CUmodule, const char*),                   \
    "cuModuleGetFunction")                                                                   \
  X(cuLaunchKernel,                                                                          \
    (CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,     \
                 unsigned, CUstream, void**, void**),                                        \
    "cuLaunchKernel")

/// libcuda.so.1, loaded and initialised once per process.
class CudaDriver {
 public:
  /// The driver, or why it cannot be used (library missing, a symbol missing, cuInit failed:
  /// the message names which, with the CUDA error name).
  static const Result<CudaDriver*>& Get();

#define DLRIG_CUDA_MEMBER(name, params, ...) CUresult(*name) params = nullptr;
  DLRIG_CUDA_DRIVER_SYMBOLS(DLRIG_CUDA_MEMBER)
#undef DLRIG_CUDA_MEMBER

  int version = 0;  ///< cuDriverGetVersion: 13000 for CUDA 13.0
  std::string path;  ///< where libcuda.so.1 was found

  /// kCudaSuccess -> value; anything else -> Error "call: CUDA_ERROR_NAME (text)".
  Result<void> Check(CUresult code, const char* call) const;
  std::string Describe(CUresult code) const;

 private:
  CudaDriver() = default;
};

/// The primary context of a device, made current for the calling thread while in scope.
class ContextScope {
 public:
  static Result<ContextScope> Enter(int device);
  ContextScope(ContextScope&& other) noexcept : context_(std::exchange(other.context_, nullptr)) {}
  ContextScope& operator=(ContextScope&&) = delete;
  ~ContextScope();
  CUcontext context() const { return context_; }

 private:
  explicit ContextScope(CUcontext context) : context_(context) {}
  CUcontext context_ = nullptr;
};

/// The primary context of `device` (retained once for the process's life).
Result<CUcontext> PrimaryContext(int device);
/// Makes the primary context of `device` current on this thread.
Result<void> UseDevice(int device);

/// Owning handles; each frees with the driver on destruction (errors there are ignored: the
/// process may be tearing down after a lost GPU).
class DeviceMemory {
 public:
  static Result<DeviceMemory> Allocate(int device, size_t bytes);
  DeviceMemory() = default;
  DeviceMemory(DeviceMemory&& o) noexcept { *this = std::move(o); }
  DeviceMemory& operator=(DeviceMemory&& o) noexcept;
  ~DeviceMemory();
  CUdeviceptr ptr() const { return ptr_; }
  size_t bytes() const { return bytes_; }
  int device() const { return device_; }

 private:
  CUdeviceptr ptr_ = 0;
  size_t bytes_ = 0;
  int device_ = -1;
};

class PinnedMemory {
 public:
  /// Page-locked host memory, mapped for every context (portable) and into the device's space.
  static Result<PinnedMemory> Allocate(size_t bytes);
  PinnedMemory() = default;
  PinnedMemory(PinnedMemory&& o) noexcept { *this = std::move(o); }
  PinnedMemory& operator=(PinnedMemory&& o) noexcept;
  ~PinnedMemory();
  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }

 private:
  void* data_ = nullptr;
  size_t bytes_ = 0;
};

class Stream {
 public:
  static Result<Stream> Create(int device);  ///< non-blocking, on the device's primary context
  Stream() = default;
  Stream(Stream&& o) noexcept { *this = std::move(o); }
  Stream& operator=(Stream&& o) noexcept;
  ~Stream();
  CUstream get() const { return stream_; }
  int device() const { return device_; }

 private:
  CUstream stream_ = nullptr;
  int device_ = -1;
};

class Event {
 public:
  static Result<Event> Create(int device);
  Event() = default;
  Event(Event&& o) noexcept { *this = std::move(o); }
  Event& operator=(Event&& o) noexcept;
  ~Event();
  CUevent get() const { return event_; }

 private:
  CUevent event_ = nullptr;
};

/// Seconds between two recorded events, after waiting for the second under `deadline_s`
/// (a hung GPU gives kTimeout, never a hang).
Result<double> ElapsedSeconds(const Event& start, const Event& stop, double deadline_s);
/// Waits for a stream under a deadline.
Result<void> SyncStream(const Stream& stream, double deadline_s);

/// A stream and the two events that time what is queued on it between Start() and Stop().
class TimedStream {
 public:
  static Result<TimedStream> Create(int device);
  CUstream get() const { return stream_.get(); }
  const Stream& stream() const { return stream_; }
  Result<void> Start() const;  ///< records the start event on the stream
  Result<void> Stop() const;   ///< records the stop event
  /// Seconds from Start to Stop, waited for under `deadline_s` (kTimeout, never a hang).
  Result<double> Elapsed(double deadline_s) const { return ElapsedSeconds(start_, stop_, deadline_s); }
  /// Waits for everything queued on the stream under `deadline_s`.
  Result<void> Sync(double deadline_s) const { return SyncStream(stream_, deadline_s); }

 private:
  Stream stream_;
  Event start_, stop_;
};

}  // namespace dlrig::gpu
