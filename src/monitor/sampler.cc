#include "monitor/sampler.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "core/close_fds.h"
#include "monitor/processes.h"
#include "probe/driver_query_child.h"

namespace dlrig {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::string_view kFrameEnd = "nvml frame end\n";
constexpr size_t kMaxFrameBytes = 4u << 20;
constexpr size_t kMaxKmsgReadsPerSample = 4096;
/// Every this many live passes also reads the slow counters (DriverQueryOptions::slow_counters).
constexpr unsigned kSlowEvery = 10;

void CloseFd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// The identity lines of a full frame (library, versions, names, bus ids): what a live pass
// that was cut short may still be shown with. Its live values would be stale, so they go.
std::string IdentityLines(std::string_view full) {
  static const std::vector<std::string_view> kIdentity = {
      "handle", "name", "uuid", "serial", "pci_bus_id", "pci_device_id", "compute_capability"};
  std::string out;
  size_t start = 0;
  while (start < full.size()) {
    size_t end = full.find('\n', start);
    if (end == std::string_view::npos) end = full.size();
    std::string_view line = full.substr(start, end - start);
    start = end + 1;
    bool keep = !line.starts_with("nvml dev ");
    if (!keep) {  // "nvml dev <i> <field> ..."
      auto fields = line.substr(9);
      auto sp = fields.find(' ');
      auto field = sp == std::string_view::npos ? "" : fields.substr(sp + 1, fields.find(' ', sp + 1) - sp - 1);
      keep = std::find(kIdentity.begin(), kIdentity.end(), field) != kIdentity.end();
    }
    if (keep) out.append(line).push_back('\n');
  }
  return out;
}

}  // namespace

// The long-lived NVML child: a socket to ask for a live pass, a pipe it answers on, and the
// text of its full first pass, which each live pass updates.
struct Sampler::Child {
  pid_t pid = -1;
  int command_fd = -1;  ///< our end of a socketpair: a write cannot raise SIGPIPE
  int answer_fd = -1;
  std::string full;     ///< the first frame: identity, fixed facts, topology
  std::string slow;     ///< the last live frame with the slow counters
  unsigned passes = 0;  ///< live passes asked of this child
  std::string pending;  ///< bytes read past the last frame end
  std::vector<pid_t> unreaped;  ///< killed children stuck in the kernel, reaped later

  ~Child() { Stop(); }

  bool Start(const DriverQueryOptions& options) {
    int command[2], answer[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, command) != 0) return false;
    if (::pipe2(answer, O_CLOEXEC) != 0) {
      ::close(command[0]);
      ::close(command[1]);
      return false;
    }
    pid_t p = ::fork();
    if (p == 0) {
      // Only async-signal-safe calls and our own code until _exit: no other thread of ours
      // calls dlopen, so the loader's lock is free here.
      int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
      if (null_fd >= 0) {
        ::dup2(null_fd, 0);
        ::dup2(null_fd, 1);
        ::dup2(null_fd, 2);
      }
      // Nothing of the parent's but the two ends it talks on: not serve's listening socket,
      // its clients' connections or /dev/kmsg, which a child wedged in the driver would keep.
      CloseDescriptorsExcept({command[1], answer[1]});
      SamplerChildMain(command[1], answer[1], options);
      ::_exit(0);
    }
    ::close(command[1]);
    ::close(answer[1]);
    if (p < 0) {
      ::close(command[0]);
      ::close(answer[0]);
      return false;
    }
    pid = p;
    command_fd = command[0];
    answer_fd = answer[0];
    full.clear();
    slow.clear();
    passes = 0;
    pending.clear();
    return true;
  }

  /// Kills the child (if running) and reaps whatever has exited.
  void Stop() {
    CloseFd(command_fd);
    CloseFd(answer_fd);
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      unreaped.push_back(pid);
      pid = -1;
    }
    Reap();
  }

  /// How the child ended (after Stop or EOF), reaping without blocking.
  void Reap(ChildEnd* end = nullptr) {
    for (auto it = unreaped.begin(); it != unreaped.end();) {
      int status = 0;
      pid_t r = ::waitpid(*it, &status, WNOHANG);
      if (r == 0) {
        ++it;
        continue;
      }
      if (end && r > 0) {
        if (WIFSIGNALED(status) && WTERMSIG(status) != SIGKILL) end->signal = WTERMSIG(status);
        if (WIFEXITED(status)) end->exit_code = WEXITSTATUS(status);
      }
      it = unreaped.erase(it);
    }
  }

  bool running() const { return pid > 0; }

  /// Reads until the next frame end or the deadline. Returns the frame's text; `end` says
  /// what happened when no whole frame came.
  bool ReadFrame(Clock::time_point deadline, std::string& frame, ChildEnd& end) {
    char buf[16384];
    for (;;) {
      if (size_t at = pending.find(kFrameEnd); at != std::string::npos) {
        frame = pending.substr(0, at);
        pending.erase(0, at + kFrameEnd.size());
        return true;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      pollfd p{answer_fd, POLLIN, 0};
      int ready = left.count() > 0 ? ::poll(&p, 1, static_cast<int>(left.count())) : 0;
      if (ready < 0 && errno == EINTR) continue;
      if (ready <= 0) {
        end.timed_out = true;
        break;
      }
      ssize_t n = ::read(answer_fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // the child is gone
      if (pending.size() < kMaxFrameBytes) pending.append(buf, static_cast<size_t>(n));
    }
    frame = std::move(pending);
    pending.clear();
    pid_t dead = pid;
    Stop();
    if (!end.timed_out) {  // it exited by itself: wait briefly for its status
      for (int i = 0; i < 50 && std::count(unreaped.begin(), unreaped.end(), dead); ++i) {
        ::usleep(1000);
        Reap(&end);
      }
    }
    return false;
  }
};

Sampler::Sampler(SamplerOptions options)
    : options_(std::move(options)), child_(new Child), root_(Root::Open(options_.root)) {
  options_.driver.processes = options_.processes;
  options_.driver.pcie_throughput = options_.pcie_throughput;
  options_.driver.nvlinks = true;
  options_.driver.topology = true;
  options_.driver.cuda_library.clear();
  if (options_.kernel_log && options_.root == "/")
    kmsg_fd_ = ::open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
}

Sampler::~Sampler() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
  child_.reset();
  CloseFd(kmsg_fd_);
}

void Sampler::Start() {
  if (!thread_.joinable()) thread_ = std::thread([this] { Loop(); });
}

void Sampler::Loop() {
  auto next = Clock::now();
  for (;;) {
    Store(Take());
    next += options_.interval;
    auto now = Clock::now();
    if (next < now) next = now;  // a slow sample delays the next; it never bunches them
    std::unique_lock lock(mutex_);
    if (changed_.wait_until(lock, next, [this] { return stop_; })) return;
  }
}

// New Xid lines since the last read of /dev/kmsg (this boot's, from its start, the first time).
static void ReadXids(int fd, std::vector<XidEvent>& xids) {
  if (fd < 0) return;
  char record[8192];
  for (size_t i = 0; i < kMaxKmsgReadsPerSample; ++i) {
    ssize_t n = ::read(fd, record, sizeof record);
    if (n < 0 && errno == EPIPE) continue;  // records overwritten before we read them
    if (n <= 0) return;                     // EAGAIN: nothing new
    auto line = KmsgRecordToLine(std::string_view(record, static_cast<size_t>(n)));
    if (!line) continue;
    if (auto xid = ParseXidLine(*line)) {
      if (xids.size() >= kMaxXidEvents) xids.erase(xids.begin());
      xids.push_back(std::move(*xid));
    }
  }
}

std::shared_ptr<MonitorSnapshot> Sampler::Take() {
  std::lock_guard take_lock(take_mutex_);
  auto snapshot = std::make_shared<MonitorSnapshot>();
  snapshot->taken = std::chrono::system_clock::now();
  auto started = Clock::now();
  auto deadline = started + options_.driver.deadline;
  Child& c = *child_;
  c.Reap();
  ChildEnd end;
  end.deadline = options_.driver.deadline;
  std::string live;
  bool answered = false, live_pass = false;
  if (!c.running()) {
    if (c.Start(options_.driver)) {
      answered = c.ReadFrame(deadline, c.full, end);
    } else {
      end.exit_code = -1;
    }
  } else if (::send(c.command_fd, ++c.passes % kSlowEvery == 0 ? "s" : "l", 1, MSG_NOSIGNAL) == 1) {
    live_pass = true;
    answered = c.ReadFrame(deadline, live, end);
    if (answered && c.passes % kSlowEvery == 0) c.slow = live;
  } else {
    c.Stop();
  }
  if (!answered && (end.timed_out || end.signal)) ++restarts_;
  // Later lines win: the slow counters from their last pass, then this pass's live values.
  std::string text = answered || !live_pass ? c.full + c.slow + live : IdentityLines(c.full) + live;
  ChildEnd parse_end = answered ? ChildEnd{} : end;
  parse_end.deadline = options_.driver.deadline;
  snapshot->nvml = ParseDriverQuery(text, options_.driver, parse_end).nvml;
  if (!answered) c.full.clear();  // the next sample starts a new child and asks everything
  snapshot->took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  snapshot->unavailable = NvmlUnavailableReason(snapshot->nvml);
  if (snapshot->unavailable.empty() && !answered && end.timed_out)
    snapshot->unavailable = "NVML did not answer within " +
                            std::to_string(options_.driver.deadline.count()) +
                            " ms; its process was killed and is started again";
  if (options_.processes && root_)
    for (GpuFacts& g : snapshot->nvml.devices)
      if (g.processes) DescribeProcesses(*root_, *g.processes, options_.commands);
  ReadXids(kmsg_fd_, xids_);
  snapshot->xids = xids_;
  snapshot->restarts = restarts_;
  return snapshot;
}

void Sampler::Store(std::shared_ptr<MonitorSnapshot> snapshot) {
  {
    std::lock_guard lock(mutex_);
    snapshot->sequence = ++sequence_;
    recent_.push_back(std::move(snapshot));
    while (recent_.size() > std::max<size_t>(options_.keep, 1)) recent_.pop_front();
  }
  changed_.notify_all();
}

std::shared_ptr<const MonitorSnapshot> Sampler::SampleNow() {
  auto snapshot = Take();
  Store(snapshot);
  return snapshot;
}

std::shared_ptr<const MonitorSnapshot> Sampler::Latest() const {
  std::lock_guard lock(mutex_);
  return recent_.empty() ? nullptr : recent_.back();
}

std::vector<std::shared_ptr<const MonitorSnapshot>> Sampler::Recent() const {
  std::lock_guard lock(mutex_);
  return {recent_.begin(), recent_.end()};
}

std::shared_ptr<const MonitorSnapshot> Sampler::WaitNewer(uint64_t sequence,
                                                         std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, timeout, [&] { return stop_ || sequence_ > sequence; });
  return recent_.empty() ? nullptr : recent_.back();
}

}  // namespace dlrig
