// HttpServer's event thread: the connection table (admission, eviction, deadlines) and each
// connection's reading, answering and writing. One thread, level-triggered epoll, nothing
// blocks. See http_server.h for the contract.
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <optional>

#include "monitor/http_server.h"

namespace dlrig {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kEventsPerWait = 256;
/// Accepted per wake-up, so a flood of connections cannot starve the ones already open.
constexpr int kAcceptsPerWake = 64;
/// How long accepting stops when descriptors run out and nothing can be closed for room.
constexpr std::chrono::milliseconds kAcceptPause{100};
/// A buffer that has held more than this is given back once empty.
constexpr size_t kKeepCapacity = 4096;
/// The kernel's send buffer per connection (it doubles this): what a client that pipelines
/// requests and never reads can make the server produce before its answers stall, instead of
/// the megabytes the kernel would allow on loopback. A large answer just takes more rounds.
constexpr int kSendBufferBytes = 64 * 1024;

/// Whom a connection comes from, for the per-peer cap: an IPv4 address or an IPv6 /64.
struct PeerId {
  int family = 0;
  uint64_t bits = 0;
  bool operator==(const PeerId& o) const { return family == o.family && bits == o.bits; }
};

PeerId PeerOf(const sockaddr_storage& peer) {
  PeerId key{peer.ss_family, 0};
  if (peer.ss_family == AF_INET) {
    uint32_t v4;
    std::memcpy(&v4, &reinterpret_cast<const sockaddr_in*>(&peer)->sin_addr, sizeof v4);
    key.bits = v4;
  } else if (peer.ss_family == AF_INET6) {
    const in6_addr& a = reinterpret_cast<const sockaddr_in6*>(&peer)->sin6_addr;
    if (IN6_IS_ADDR_V4MAPPED(&a)) {
      uint32_t v4;
      std::memcpy(&v4, a.s6_addr + 12, sizeof v4);
      key = {AF_INET, v4};
    } else {
      std::memcpy(&key.bits, a.s6_addr, sizeof key.bits);
    }
  }
  return key;
}

struct Connection {
  int fd = -1;
  uint64_t token = 0;  ///< generation << 32 | fd: an event for an earlier holder of fd is stale
  PeerId peer;
  std::string in;   ///< read ahead: one head, or pipelined ones; at most kMaxRequestHeadBytes + 4
  std::string out;  ///< the answer being sent; empty while waiting for a request
  size_t out_sent = 0;
  bool close_after_write = false;
  uint32_t watching = EPOLLIN;  ///< the events epoll reports for it now
  uint64_t waiting = 0;  ///< when its current wait began (accept, answer, queue), as a serial
  Clock::time_point deadline;
  bool writing() const { return !out.empty(); }
};

void Release(std::string& buffer) {
  if (buffer.empty() && buffer.capacity() > kKeepCapacity) std::string().swap(buffer);
}

}  // namespace

class HttpServer::Loop {
 public:
  explicit Loop(HttpServer& server) : s_(server) {}
  ~Loop() {
    for (auto& c : table_)
      if (c) Close(*c);
  }
  void Run();

 private:
  Connection* Find(uint64_t token) const;
  void OnEvent(Connection& c, uint32_t events);
  void AcceptSome(Clock::time_point now);
  void Admit(int fd, const sockaddr_storage& peer, Clock::time_point now);
  Connection* Victim(const PeerId* peer) const;
  /// How a connection ends: after its last answer with a FIN; dropped at a deadline or for
  /// room with a reset, which frees at once what the kernel still holds for it (an unsent
  /// answer, TIME_WAIT) instead of leaving that to a client that may never take it.
  enum class Ending { kFin, kReset };
  void Close(Connection& c, Ending ending = Ending::kFin);
  void Sweep(Clock::time_point now);
  void Wait(Connection& c, Clock::time_point since, std::chrono::milliseconds limit);
  void PauseAccepting(bool pause);
  bool Read(Connection& c);
  bool Flush(Connection& c);
  bool ServeBuffered(Connection& c);
  void Serve(Connection& c);
  void Queue(Connection& c, const HttpResponse& response, bool head_only, bool keep_alive);

  HttpServer& s_;
  std::vector<std::unique_ptr<Connection>> table_;  ///< indexed by descriptor
  size_t open_ = 0;
  uint32_t generation_ = 0;
  uint64_t serial_ = 0;  ///< orders the waits: a smaller Connection::waiting began earlier
  Clock::time_point next_sweep_ = Clock::time_point::max();  ///< no deadline is earlier
  std::optional<Clock::time_point> paused_until_;
  /// Connections with requests already read (pipelined), answered one per round so that one
  /// client's queue cannot hold up everyone else's; epoll would not report them again.
  std::vector<uint64_t> buffered_;
};

void HttpServer::Start() {
  if (!thread_.joinable()) thread_ = std::thread([this] { Loop(*this).Run(); });
}

void HttpServer::Loop::Run() {
  epoll_event events[kEventsPerWait];
  while (!s_.stop_) {
    Clock::time_point wake = std::min(next_sweep_, paused_until_.value_or(next_sweep_));
    int timeout = -1;
    if (!buffered_.empty()) {
      timeout = 0;
    } else if (wake != Clock::time_point::max()) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(wake - Clock::now());
      timeout = static_cast<int>(std::clamp<long long>(left.count() + 1, 0, 60000));
    }
    int ready = epoll_wait(s_.epoll_fd_, events, kEventsPerWait, timeout);
    if (ready < 0 && errno != EINTR) break;
    if (s_.stop_) break;
    bool accept = false;
    std::vector<uint64_t> buffered;
    buffered.swap(buffered_);
    for (uint64_t token : buffered)
      if (Connection* c = Find(token)) OnEvent(*c, 0);
    for (int i = 0; i < ready; ++i) {
      if (events[i].data.u64 == kListenToken)
        accept = true;  // after the connections' events: theirs are served before any eviction
      else if (Connection* c = Find(events[i].data.u64))
        OnEvent(*c, events[i].events);
    }
    Clock::time_point now = Clock::now();
    if (paused_until_ && now >= *paused_until_) PauseAccepting(false);
    if (accept && !paused_until_) AcceptSome(now);
    if (now >= next_sweep_) Sweep(now);
  }
}

Connection* HttpServer::Loop::Find(uint64_t token) const {
  auto fd = static_cast<size_t>(token & 0xffffffffu);
  Connection* c = fd < table_.size() ? table_[fd].get() : nullptr;
  return c != nullptr && c->token == token ? c : nullptr;
}

void HttpServer::Loop::OnEvent(Connection& c, uint32_t events) {
  bool alive = true;
  if (events & EPOLLERR)
    alive = false;
  else if (c.writing())
    alive = !(events & (EPOLLOUT | EPOLLHUP)) || Flush(c);
  else if (events & (EPOLLIN | EPOLLHUP))
    alive = Read(c);
  else if (events == 0)  // a buffered request's turn
    alive = ServeBuffered(c);
  uint32_t want = c.writing() ? EPOLLOUT : EPOLLIN;
  if (alive && want != c.watching) {
    epoll_event e{};
    e.events = want;
    e.data.u64 = c.token;
    alive = epoll_ctl(s_.epoll_fd_, EPOLL_CTL_MOD, c.fd, &e) == 0;
    c.watching = want;
  }
  if (!alive) Close(c);
}

void HttpServer::Loop::AcceptSome(Clock::time_point now) {
  for (int i = 0; i < kAcceptsPerWake; ++i) {
    sockaddr_storage peer{};
    socklen_t length = sizeof peer;
    int fd = accept4(s_.listen_fd_, reinterpret_cast<sockaddr*>(&peer), &length,
                     SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      Admit(fd, peer, now);
      continue;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) return;
    if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
      // Out of descriptors: room from the oldest waiting connection; with none to close, a
      // pause, not a spin on a listener that stays readable.
      if (Connection* victim = Victim(nullptr)) {
        Close(*victim, Ending::kReset);
        continue;
      }
      paused_until_ = now + kAcceptPause;
      PauseAccepting(true);
      return;
    }
    // ECONNABORTED, EINTR, or a network error pending on that connection: the next one.
  }
}

// A new connection always gets a place: at its peer's cap it takes that of the peer's oldest
// waiting connection, in a full table that of the oldest waiting one of all.
void HttpServer::Loop::Admit(int fd, const sockaddr_storage& peer, Clock::time_point now) {
  PeerId key = PeerOf(peer);
  size_t from_peer = std::count_if(table_.begin(), table_.end(),
                                   [&](const auto& c) { return c && c->peer == key; });
  Connection* victim = from_peer >= s_.options_.max_per_peer  ? Victim(&key)
                       : open_ >= s_.options_.max_connections ? Victim(nullptr)
                                                              : nullptr;
  if (victim != nullptr) Close(*victim, Ending::kReset);
  int one = 1, send_buffer = kSendBufferBytes;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // answers are one write
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &send_buffer, sizeof send_buffer);
  if (++generation_ == 0) generation_ = 1;
  auto c = std::make_unique<Connection>();
  c->fd = fd;
  c->token = uint64_t{generation_} << 32 | static_cast<uint32_t>(fd);
  c->peer = key;
  epoll_event e{};
  e.events = EPOLLIN;
  e.data.u64 = c->token;
  if (open_ >= s_.options_.max_connections || epoll_ctl(s_.epoll_fd_, EPOLL_CTL_ADD, fd, &e) != 0) {
    close(fd);
    return;
  }
  Wait(*c, now, s_.options_.read_deadline);
  if (static_cast<size_t>(fd) >= table_.size()) table_.resize(static_cast<size_t>(fd) + 1);
  table_[static_cast<size_t>(fd)] = std::move(c);
  ++open_;
}

// The oldest connection still waiting for its request (of `peer`, if given); else the one
// whose answer has waited longest to be taken; nullptr when there is none.
Connection* HttpServer::Loop::Victim(const PeerId* peer) const {
  Connection *reading = nullptr, *writing = nullptr;
  for (const auto& c : table_) {
    if (!c || (peer != nullptr && !(c->peer == *peer))) continue;
    Connection*& best = c->writing() ? writing : reading;
    if (best == nullptr || c->waiting < best->waiting) best = c.get();
  }
  return reading != nullptr ? reading : writing;
}

void HttpServer::Loop::Close(Connection& c, Ending ending) {
  int fd = c.fd;
  epoll_ctl(s_.epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  if (ending == Ending::kReset) {
    linger reset{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
  } else {
    shutdown(fd, SHUT_WR);  // a FIN after the last answer, before the descriptor goes
  }
  close(fd);
  table_[static_cast<size_t>(fd)].reset();
  --open_;
}

// Closes every connection past its deadline (a slow or idle client, one that does not read).
void HttpServer::Loop::Sweep(Clock::time_point now) {
  next_sweep_ = Clock::time_point::max();
  for (auto& c : table_) {
    if (!c) continue;
    if (c->deadline <= now)
      Close(*c, Ending::kReset);
    else
      next_sweep_ = std::min(next_sweep_, c->deadline);
  }
}

void HttpServer::Loop::Wait(Connection& c, Clock::time_point since,
                            std::chrono::milliseconds limit) {
  c.waiting = ++serial_;
  c.deadline = since + limit;
  next_sweep_ = std::min(next_sweep_, c.deadline);
}

void HttpServer::Loop::PauseAccepting(bool pause) {
  epoll_event e{};
  e.events = pause ? 0u : static_cast<uint32_t>(EPOLLIN);
  e.data.u64 = kListenToken;
  epoll_ctl(s_.epoll_fd_, EPOLL_CTL_MOD, s_.listen_fd_, &e);
  if (!pause) paused_until_.reset();
}

bool HttpServer::Loop::Read(Connection& c) {
  // No more than can still complete a head, so c.in stays within one head's bytes.
  char buffer[kMaxRequestHeadBytes + 4];
  size_t room = sizeof buffer > c.in.size() ? sizeof buffer - c.in.size() : 1;
  ssize_t n = recv(c.fd, buffer, std::min(room, sizeof buffer), 0);
  if (n == 0) return false;
  if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
  c.in.append(buffer, static_cast<size_t>(n));
  Serve(c);
  return !c.writing() || Flush(c);
}

bool HttpServer::Loop::Flush(Connection& c) {
  while (c.out_sent < c.out.size()) {
    ssize_t n = send(c.fd, c.out.data() + c.out_sent, c.out.size() - c.out_sent, MSG_NOSIGNAL);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    c.out_sent += static_cast<size_t>(n);
  }
  c.out.clear();
  c.out_sent = 0;
  Release(c.out);
  if (c.close_after_write) return false;
  Wait(c, Clock::now(), s_.options_.read_deadline);  // the next request's own deadline
  if (!c.in.empty()) buffered_.push_back(c.token);   // a pipelined request: next round
  return true;
}

bool HttpServer::Loop::ServeBuffered(Connection& c) {
  Serve(c);
  return !c.writing() || Flush(c);
}

// Answers the request at the front of c.in, if a whole head has arrived.
void HttpServer::Loop::Serve(Connection& c) {
  if (c.writing() || c.close_after_write) return;
  size_t end = RequestHeadEnd(c.in);
  if (end == 0) {
    if (c.in.size() > kMaxRequestHeadBytes + 2)
      Queue(c, {431, "text/plain; charset=utf-8", "request head over 8 KiB\n"}, false, false);
    return;
  }
  Result<HttpRequest> request = ParseHttpRequest(std::string_view(c.in).substr(0, end));
  if (!request) {
    int status = request.error().kind == ErrorKind::kTooLarge      ? 431
                 : request.error().kind == ErrorKind::kUnsupported ? 505
                                                                   : 400;
    Queue(c, {status, "text/plain; charset=utf-8", request.error().message + "\n"}, false, false);
    return;
  }
  c.in.erase(0, request->head_bytes);
  Release(c.in);
  bool head_only = request->method == "HEAD";
  if (request->method != "GET" && !head_only) {
    // The body it may carry is never read, so the connection cannot go on.
    Queue(c,
          {405,
           "text/plain; charset=utf-8",
           "only GET and HEAD are served\n",
           {{"Allow", "GET, HEAD"}}},
          false, false);
    return;
  }
  if (request->announces_body) {
    Queue(c, {400, "text/plain; charset=utf-8", "request bodies are not accepted\n"}, head_only,
          false);
    return;
  }
  HttpResponse response;
  try {
    response = s_.handler_(*request);
  } catch (const std::exception& e) {  // a handler bug must not take the exporter down
    response = {500, "text/plain; charset=utf-8",
                std::string("internal error: ") + e.what() + "\n"};
  }
  Queue(c, response, head_only, request->keep_alive);
}

void HttpServer::Loop::Queue(Connection& c, const HttpResponse& response, bool head_only,
                             bool keep_alive) {
  c.out = fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: {}\r\n"
      "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n",
      response.status, HttpStatusText(response.status), response.content_type, response.body.size(),
      keep_alive ? "keep-alive" : "close");
  for (const auto& [name, value] : response.headers)
    c.out += fmt::format("{}: {}\r\n", name, value);
  c.out += "\r\n";
  if (!head_only) c.out += response.body;
  c.out_sent = 0;
  c.close_after_write = !keep_alive;
  Wait(c, Clock::now(), s_.options_.write_deadline);
}

}  // namespace dlrig
