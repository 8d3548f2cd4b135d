// NCCL collectives over the listed GPUs, one process driving them all (ncclCommInitAll), timed
// as nccl-tests times them but on the device clock: events around `iterations` grouped calls on
// every GPU's stream, the slowest GPU's time counted. No spin gate holds the streams: NCCL's host
// side waits for room in its work FIFO, which a held stream never frees, so a gate would stall
// the enqueue of many small collectives. Results are checked once, before timing, with known
// small integers (nccl-tests' #wrong). NCCL_NVLS_ENABLE and every other NCCL variable are left
// as the environment has them.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "bench/cuda_ops.h"
#include "bench/nccl.h"
#include "bench/nccl_check.h"
#include "gpu/nccl.h"

namespace dlrig::bench {
namespace {

using gpu::CudaDriver;
using gpu::Nccl;
using gpu::NcclComm;

constexpr double kInitDeadlineS = 120;

// Generous: the first call of a communicator connects its peers (NCCL's runtime connect) and a
// healthy link moves far more than 1 GB/s; this only bounds how long a wedged GPU holds the run.
double Deadline(double wire_bytes) { return 60.0 + wire_bytes / 1e9; }

std::string DeviceList(const std::vector<int>& devices) {
  return fmt::format("{}", fmt::join(devices, ","));
}

// Communicators of one device set, made once (ncclCommInitAll costs seconds) and shared by every
// operation over that set until an error aborts them.
struct Communicators {
  const Nccl* nccl = nullptr;
  std::vector<int> devices;
  std::vector<NcclComm> comms;
  bool aborted = false;

  void Abort() {
    if (aborted) return;
    aborted = true;
    for (NcclComm c : comms) nccl->ncclCommAbort(c);
  }
  ~Communicators() {
    if (!aborted) {
      for (NcclComm c : comms) nccl->ncclCommDestroy(c);
    }
  }
};

struct Cache {
  std::mutex mutex;
  std::map<std::vector<int>, std::shared_ptr<Communicators>> sets;
};

// Never freed: tearing NCCL down from a static destructor at exit, after the CUDA runtime inside
// libnccl may be gone, can crash; the process's end frees everything.
Cache& TheCache() {
  static auto* cache = new Cache();
  return *cache;
}

// ncclCommInitAll on a thread of its own, so that a machine where it hangs (a broken fabric
// manager, a wedged GPU) costs the deadline rather than the run. On a timeout the thread is left
// behind; its state is shared so that it never writes to freed memory.
Result<std::vector<NcclComm>> InitAll(const Nccl& nccl, const std::vector<int>& devices) {
  struct State {
    std::mutex mutex;
    std::condition_variable done_cv;
    bool done = false;
    gpu::NcclResult result = gpu::kNcclSuccess;
    std::vector<NcclComm> comms;
  };
  auto state = std::make_shared<State>();
  state->comms.resize(devices.size(), nullptr);
  std::thread([state, devices, &nccl] {
    gpu::NcclResult r =
        nccl.ncclCommInitAll(state->comms.data(), static_cast<int>(devices.size()), devices.data());
    std::lock_guard lock(state->mutex);
    state->result = r;
    state->done = true;
    state->done_cv.notify_all();
  }).detach();
  std::unique_lock lock(state->mutex);
  if (!state->done_cv.wait_for(lock, std::chrono::duration<double>(kInitDeadlineS),
                               [&] { return state->done; })) {
    return Fail(ErrorKind::kTimeout,
                fmt::format("ncclCommInitAll over GPUs {} did not finish in {:.0f} s",
                            DeviceList(devices), kInitDeadlineS));
  }
  if (auto ok = nccl.Check(state->result, "ncclCommInitAll"); !ok) {
    return Fail(ok.error().kind,
                fmt::format("{} (GPUs {})", ok.error().message, DeviceList(devices)));
  }
  return state->comms;
}

Result<std::shared_ptr<Communicators>> CommunicatorsFor(const Nccl& nccl,
                                                        const std::vector<int>& devices) {
  Cache& cache = TheCache();
  std::lock_guard lock(cache.mutex);
  auto it = cache.sets.find(devices);
  if (it != cache.sets.end() && !it->second->aborted) return it->second;
  auto comms = InitAll(nccl, devices);
  if (!comms) return tl::unexpected(comms.error());
  auto set = std::make_shared<Communicators>();
  set->nccl = &nccl;
  set->devices = devices;
  set->comms = std::move(*comms);
  cache.sets[devices] = set;
  return set;
}

void Forget(const std::shared_ptr<Communicators>& set) {
  Cache& cache = TheCache();
  std::lock_guard lock(cache.mutex);
  auto it = cache.sets.find(set->devices);
  if (it != cache.sets.end() && it->second == set) cache.sets.erase(it);
}

Result<gpu::NcclDataType> NcclType(DType dtype) {
  switch (dtype) {
    case DType::kFp32:
      return gpu::kNcclFloat32;
    case DType::kFp64:
      return gpu::kNcclFloat64;
    case DType::kFp16:
      return gpu::kNcclFloat16;
    case DType::kBf16:
      return gpu::kNcclBfloat16;
    default:
      break;
  }
  return Fail(
      ErrorKind::kUnsupported,
      fmt::format("the nccl benchmark runs fp32, fp64, fp16 or bf16, not {}", DTypeName(dtype)));
}

struct Rank {
  int device = 0;
  NcclComm comm = nullptr;
  gpu::DeviceMemory send;
  gpu::DeviceMemory recv;
  gpu::TimedStream timed;  ///< the rank's stream and the events that time it
};

class CudaCollective final : public TimedOp, public CheckedCollective {
 public:
  static Result<std::unique_ptr<CudaCollective>> Create(const Nccl& nccl,
                                                        const CollectiveSpec& spec);

  Result<double> Time(int iterations) override;
  long long wrong() const override { return wrong_; }
  long long checked() const override { return checked_; }
  std::string detail() const override {
    return fmt::format("NCCL {} over GPUs {}; {} of {} sampled values wrong", nccl_.VersionString(),
                       DeviceList(comms_->devices), wrong_, checked_);
  }

 private:
  CudaCollective(const Nccl& nccl, const CollectiveSpec& spec, std::shared_ptr<Communicators> comms,
                 gpu::NcclDataType type)
      : nccl_(nccl),
        spec_(spec),
        comms_(std::move(comms)),
        type_(type),
        counts_(CountsFor(spec.op, spec.bytes, static_cast<int>(spec.devices.size()), spec.dtype)) {
  }

  Result<void> Allocate();
  Result<void> Enqueue(int iterations);
  Result<void> Wait(double deadline_s, const char* what);
  Result<void> Verify();
  bool in_place_ = false;
  Result<void> Failed(const Error& error);

  const Nccl& nccl_;
  CollectiveSpec spec_;
  std::shared_ptr<Communicators> comms_;
  gpu::NcclDataType type_;
  CollectiveCounts counts_;
  std::vector<Rank> ranks_;
  long long wrong_ = 0;
  long long checked_ = 0;
};

Result<std::unique_ptr<CudaCollective>> CudaCollective::Create(const Nccl& nccl,
                                                               const CollectiveSpec& spec) {
  auto type = NcclType(spec.dtype);
  if (!type) return tl::unexpected(type.error());
  auto comms = CommunicatorsFor(nccl, spec.devices);
  if (!comms) return tl::unexpected(comms.error());
  auto op =
      std::unique_ptr<CudaCollective>(new CudaCollective(nccl, spec, std::move(*comms), *type));
  if (auto ok = op->Allocate(); !ok) return tl::unexpected(ok.error());
  if (auto ok = op->Verify(); !ok) return tl::unexpected(ok.error());
  // The check ran out of place, where its expected values are simple; the timed runs go in
  // place, which was faster for all-gather and reduce-scatter at 8 GiB on 2x H200 (nccl-tests).
  op->in_place_ = true;
  // Random values for the timed runs (the check left small integers): NCCL's speed does not
  // depend on them, so without device kernels the check's data serves.
  for (size_t r = 0; r < op->ranks_.size(); ++r) {
    Rank& rank = op->ranks_[r];
    auto ok = FillRandomDevice(rank.device, rank.send.ptr(), rank.send.bytes(), spec.dtype, 7 + r,
                               rank.timed.get());
    if (!ok && ok.error().kind != ErrorKind::kUnsupported) return tl::unexpected(ok.error());
  }
  if (auto ok = op->Wait(Deadline(static_cast<double>(spec.bytes)), "filling the buffers"); !ok) {
    return tl::unexpected(ok.error());
  }
  return op;
}

Result<void> CudaCollective::Allocate() {
  size_t type_bytes = static_cast<size_t>(DTypeBytes(spec_.dtype));
  for (size_t r = 0; r < spec_.devices.size(); ++r) {
    Rank rank{.device = spec_.devices[r], .comm = comms_->comms[r]};
    auto send = gpu::DeviceMemory::Allocate(rank.device, counts_.send * type_bytes);
    if (!send) return tl::unexpected(send.error());
    auto recv = gpu::DeviceMemory::Allocate(rank.device, counts_.recv * type_bytes);
    if (!recv) return tl::unexpected(recv.error());
    auto timed = gpu::TimedStream::Create(rank.device);
    if (!timed) return tl::unexpected(timed.error());
    rank.send = std::move(*send);
    rank.recv = std::move(*recv);
    rank.timed = std::move(*timed);
    ranks_.push_back(std::move(rank));
  }
  return {};
}

// An NCCL error leaves the communicators unusable: abort them and let the next operation over
// these GPUs make new ones.
Result<void> CudaCollective::Failed(const Error& error) {
  comms_->Abort();
  Forget(comms_);
  return tl::unexpected(error);
}

Result<void> CudaCollective::Enqueue(int iterations) {
  if (comms_->aborted) {
    return Fail(ErrorKind::kIo, "the NCCL communicators were aborted after an earlier error");
  }
  const size_t slice = counts_.call * static_cast<size_t>(DTypeBytes(spec_.dtype));
  auto call = [this, slice](const Rank& rank, size_t index) -> gpu::NcclResult {
    const void* send = reinterpret_cast<const void*>(rank.send.ptr());
    void* recv = reinterpret_cast<void*>(rank.recv.ptr());
    // In place, as nccl-tests' second row runs it (and as training frameworks mostly call
    // NCCL): the rank's slice of the gathered buffer is its input; the reduce-scatter output is
    // the rank's slice of its input; the all-reduce reads and writes one buffer.
    if (in_place_) {
      switch (spec_.op) {
        case Collective::kAllReduce: recv = const_cast<void*>(send); break;
        case Collective::kAllGather: send = static_cast<char*>(recv) + index * slice; break;
        case Collective::kReduceScatter:
          recv = reinterpret_cast<char*>(rank.send.ptr()) + index * slice;
          break;
      }
    }
    switch (spec_.op) {
      case Collective::kAllReduce:
        return nccl_.ncclAllReduce(send, recv, counts_.call, type_, gpu::kNcclSum, rank.comm,
                                   rank.timed.get());
      case Collective::kAllGather:
        return nccl_.ncclAllGather(send, recv, counts_.call, type_, rank.comm, rank.timed.get());
      case Collective::kReduceScatter:
        return nccl_.ncclReduceScatter(send, recv, counts_.call, type_, gpu::kNcclSum, rank.comm,
                                       rank.timed.get());
    }
    return gpu::kNcclSuccess;
  };
  for (int i = 0; i < iterations; ++i) {
    if (auto ok = nccl_.Check(nccl_.ncclGroupStart(), "ncclGroupStart"); !ok)
      return Failed(ok.error());
    for (size_t index = 0; index < ranks_.size(); ++index) {
      const Rank& rank = ranks_[index];
      if (gpu::NcclResult r = call(rank, index); r != gpu::kNcclSuccess) {
        nccl_.ncclGroupEnd();
        return Failed(nccl_.Check(r, CollectiveName(spec_.op).data()).error());
      }
    }
    if (auto ok = nccl_.Check(nccl_.ncclGroupEnd(), "ncclGroupEnd"); !ok) return Failed(ok.error());
  }
  return {};
}

// Polls every stream until it is idle, NCCL's asynchronous errors included, under a deadline;
// a collective that does not finish aborts the communicators (which stops their kernels).
Result<void> CudaCollective::Wait(double deadline_s, const char* what) {
  CudaDriver* d = *CudaDriver::Get();
  auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(deadline_s);
  auto pause = std::chrono::microseconds(20);
  std::vector<bool> idle(ranks_.size(), false);
  for (;;) {
    bool all = true;
    for (size_t r = 0; r < ranks_.size(); ++r) {
      if (idle[r]) continue;
      gpu::CUresult q = d->cuStreamQuery(ranks_[r].timed.get());
      if (q == gpu::kCudaSuccess) {
        idle[r] = true;
        continue;
      }
      if (q != gpu::kCudaErrorNotReady) return Failed(d->Check(q, "cuStreamQuery").error());
      all = false;
      gpu::NcclResult async = gpu::kNcclSuccess;
      nccl_.ncclCommGetAsyncError(ranks_[r].comm, &async);
      if (async != gpu::kNcclSuccess && async != gpu::kNcclInProgress) {
        auto e = nccl_.Check(async, "ncclCommGetAsyncError").error();
        return Failed(
            {e.kind, fmt::format("{} on GPU {} while {}", e.message, ranks_[r].device, what)});
      }
    }
    if (all) return {};
    if (std::chrono::steady_clock::now() > until) {
      return Failed(
          {ErrorKind::kTimeout,
           fmt::format("NCCL collective did not finish in {:.0f} s ({} {} B over GPUs {}, {})",
                       deadline_s, CollectiveName(spec_.op), counts_.bytes,
                       DeviceList(comms_->devices), what)});
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(2000));
  }
}

Result<double> CudaCollective::Time(int iterations) {
  for (Rank& rank : ranks_) {
    if (auto ok = gpu::UseDevice(rank.device); !ok) return tl::unexpected(ok.error());
    if (auto ok = rank.timed.Start(); !ok) return tl::unexpected(ok.error());
  }
  if (auto ok = Enqueue(iterations); !ok) return tl::unexpected(ok.error());
  for (Rank& rank : ranks_) {
    if (auto ok = gpu::UseDevice(rank.device); !ok) return tl::unexpected(ok.error());
    if (auto ok = rank.timed.Stop(); !ok) return tl::unexpected(ok.error());
  }
  double wire = static_cast<double>(counts_.bytes) *
                std::max(1.0, BusFactor(spec_.op, static_cast<int>(ranks_.size())));
  if (auto ok = Wait(Deadline(wire * iterations), "timing"); !ok) return tl::unexpected(ok.error());
  double slowest = 0;
  for (const Rank& rank : ranks_) {
    // The events are complete: Elapsed returns at once.
    auto t = rank.timed.Elapsed(1.0);
    if (!t) return tl::unexpected(t.error());
    slowest = std::max(slowest, *t);
  }
  return slowest;
}

Result<void> CudaCollective::Verify() {
  auto check = NcclCheck::Create(spec_.op, spec_.dtype, counts_, static_cast<int>(ranks_.size()));
  if (!check) {
    // A dtype without an exact small-integer encoding: timed, not checked.
    if (check.error().kind == ErrorKind::kUnsupported) return {};
    return tl::unexpected(check.error());
  }
  for (size_t r = 0; r < ranks_.size(); ++r) {
    Rank& rank = ranks_[r];
    if (auto ok = check->Fill(static_cast<int>(r), rank.send, rank.recv, rank.timed.stream()); !ok) {
      return tl::unexpected(ok.error());
    }
  }
  if (auto ok = Enqueue(1); !ok) return tl::unexpected(ok.error());
  for (size_t r = 0; r < ranks_.size(); ++r) {
    if (auto ok = check->Sample(static_cast<int>(r), ranks_[r].recv, ranks_[r].timed.stream()); !ok) {
      return tl::unexpected(ok.error());
    }
  }
  double wire = static_cast<double>(counts_.bytes) * 2;
  if (auto ok = Wait(Deadline(wire), "checking the result"); !ok) return tl::unexpected(ok.error());
  NcclCheck::Tally tally = check->Compare();
  wrong_ = tally.wrong;
  checked_ = tally.checked;
  return {};
}

}  // namespace

Result<std::unique_ptr<TimedOp>> MakeCudaCollective(const std::vector<DeviceInfo>& devices,
                                                    const CollectiveSpec& spec) {
  if (devices.size() < 2 || devices.size() != spec.devices.size()) {
    return Fail(ErrorKind::kUnsupported, "a collective needs 2 or more GPUs");
  }
  const auto& nccl = Nccl::Get();
  if (!nccl) return tl::unexpected(nccl.error());
  auto d = CudaDriver::Get();
  if (!d) return tl::unexpected(d.error());
  auto op = CudaCollective::Create(**nccl, spec);
  if (!op) return tl::unexpected(op.error());
  return std::unique_ptr<TimedOp>(std::move(*op));
}

void ReleaseCudaCollectives() {
  Cache& cache = TheCache();
  std::lock_guard lock(cache.mutex);
  cache.sets.clear();
}

}  // namespace dlrig::bench
