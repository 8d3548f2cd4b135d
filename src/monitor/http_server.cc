#include "monitor/http_server.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace dlrig {
namespace {

Result<uint16_t> ParsePort(std::string_view text) {
  if (text.empty() || text.size() > 5 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return Fail(ErrorKind::kMalformed, fmt::format("bad port '{}'", text));
  int port = std::stoi(std::string(text));
  if (port > 65535) return Fail(ErrorKind::kMalformed, fmt::format("port {} over 65535", port));
  return static_cast<uint16_t>(port);
}

// The socket address of a numeric host; false when the host is not a numeric address.
bool ToSockaddr(const ListenAddress& a, sockaddr_storage& out, socklen_t& length) {
  std::memset(&out, 0, sizeof out);
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out);
  if (inet_pton(AF_INET, a.host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(a.port);
    length = sizeof(sockaddr_in);
    return true;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out);
  if (inet_pton(AF_INET6, a.host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(a.port);
    length = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

std::string ErrnoText(int err) { return std::strerror(err); }

}  // namespace

std::string ListenAddress::ToString() const {
  return host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, port)
                                             : fmt::format("{}:{}", host, port);
}

Result<ListenAddress> ParseListenAddress(std::string_view text) {
  ListenAddress a;
  std::string_view port;
  if (text.starts_with('[')) {
    size_t close = text.find(']');
    if (close == std::string_view::npos || text.substr(close + 1, 1) != ":")
      return Fail(ErrorKind::kMalformed, "an IPv6 address is written [ADDR]:PORT");
    a.host = std::string(text.substr(1, close - 1));
    port = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos)
      return Fail(ErrorKind::kMalformed, "expected ADDR:PORT, e.g. 127.0.0.1:9835");
    a.host = std::string(text.substr(0, colon));
    if (a.host.find(':') != std::string::npos)
      return Fail(ErrorKind::kMalformed, "an IPv6 address is written [ADDR]:PORT");
    if (a.host.empty() || a.host == "localhost") a.host = "127.0.0.1";
    port = text.substr(colon + 1);
  }
  auto p = ParsePort(port);
  if (!p) return tl::unexpected(p.error());
  a.port = *p;
  sockaddr_storage storage;
  socklen_t length = 0;
  if (!ToSockaddr(a, storage, length))
    return Fail(ErrorKind::kMalformed,
                fmt::format("'{}' is not a numeric IPv4 or IPv6 address", a.host));
  return a;
}

const char* HttpStatusText(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

namespace {

// The connection table's size: what was asked, within the descriptor limit (less some for
// the listener, the sampler, its child's pipes, a history database).
size_t TableSize(size_t asked) {
  rlimit limit{};
  size_t room = asked;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY)
    room = limit.rlim_cur > 128 ? limit.rlim_cur - 64 : limit.rlim_cur / 2;
  return std::max<size_t>(1, std::min(asked, room));
}

epoll_event Readable(uint64_t token) {
  epoll_event e{};
  e.events = EPOLLIN;
  e.data.u64 = token;
  return e;
}

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::Listen(const ListenAddress& address,
                                                       HttpServerOptions options,
                                                       HttpHandler handler) {
  sockaddr_storage storage;
  socklen_t length = 0;
  if (!ToSockaddr(address, storage, length))
    return Fail(ErrorKind::kMalformed, fmt::format("'{}' is not a numeric address", address.host));
  int fd = socket(storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Fail(ErrorKindFromErrno(errno), "socket(): " + ErrnoText(errno));
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (storage.ss_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  // A long backlog: a burst of connections must not push a scrape's SYN into a retry.
  if (bind(fd, reinterpret_cast<sockaddr*>(&storage), length) != 0 || listen(fd, SOMAXCONN) != 0) {
    int err = errno;
    close(fd);
    return Fail(ErrorKindFromErrno(err),
                fmt::format("cannot listen on {}: {}", address.ToString(), ErrnoText(err)));
  }
  ListenAddress bound = address;
  sockaddr_storage actual;
  socklen_t actual_length = sizeof actual;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&actual), &actual_length) == 0)
    bound.port =
        ntohs(actual.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&actual)->sin6_port
                                           : reinterpret_cast<sockaddr_in*>(&actual)->sin_port);
  int wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  int poller = epoll_create1(EPOLL_CLOEXEC);
  epoll_event on_wake = Readable(kWakeToken), on_listen = Readable(kListenToken);
  if (wake < 0 || poller < 0 || epoll_ctl(poller, EPOLL_CTL_ADD, wake, &on_wake) != 0 ||
      epoll_ctl(poller, EPOLL_CTL_ADD, fd, &on_listen) != 0) {
    int err = errno;
    for (int open_fd : {fd, wake, poller})
      if (open_fd >= 0) close(open_fd);
    return Fail(ErrorKindFromErrno(err), "eventfd/epoll: " + ErrnoText(err));
  }
  options.max_connections = TableSize(options.max_connections);
  options.max_per_peer = std::clamp<size_t>(options.max_per_peer, 1, options.max_connections);
  return std::unique_ptr<HttpServer>(
      new HttpServer(fd, wake, poller, std::move(bound), options, std::move(handler)));
}

HttpServer::HttpServer(int listen_fd, int wake_fd, int epoll_fd, ListenAddress bound,
                       HttpServerOptions options, HttpHandler handler)
    : listen_fd_(listen_fd),
      wake_fd_(wake_fd),
      epoll_fd_(epoll_fd),
      bound_(std::move(bound)),
      options_(options),
      handler_(std::move(handler)) {}

HttpServer::~HttpServer() {
  Stop();
  close(listen_fd_);
  close(wake_fd_);
  close(epoll_fd_);
}

void HttpServer::Stop() {
  stop_ = true;
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof one);
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

}  // namespace dlrig
