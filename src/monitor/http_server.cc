#include "monitor/http_server.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>

namespace dlrig {
namespace {

using Clock = std::chrono::steady_clock;

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

struct HttpServer::Connection {
  int fd = -1;
  std::string in;
  std::string out;
  size_t out_sent = 0;
  bool close_after_write = false;
  Clock::time_point deadline;
  ~Connection() {
    if (fd < 0) return;
    shutdown(fd, SHUT_WR);  // a FIN after the last answer, before the descriptor goes
    close(fd);
  }
};

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
  if (bind(fd, reinterpret_cast<sockaddr*>(&storage), length) != 0 || listen(fd, 128) != 0) {
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
  if (wake < 0) {
    int err = errno;
    close(fd);
    return Fail(ErrorKindFromErrno(err), "eventfd(): " + ErrnoText(err));
  }
  return std::unique_ptr<HttpServer>(
      new HttpServer(fd, wake, std::move(bound), options, std::move(handler)));
}

HttpServer::HttpServer(int listen_fd, int wake_fd, ListenAddress bound, HttpServerOptions options,
                       HttpHandler handler)
    : listen_fd_(listen_fd),
      wake_fd_(wake_fd),
      bound_(std::move(bound)),
      options_(options),
      handler_(std::move(handler)) {}

HttpServer::~HttpServer() {
  Stop();
  close(listen_fd_);
  close(wake_fd_);
}

void HttpServer::Start() {
  if (!thread_.joinable()) thread_ = std::thread([this] { Loop(); });
}

void HttpServer::Stop() {
  stop_ = true;
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof one);
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void HttpServer::Loop() {
  std::vector<std::unique_ptr<Connection>> connections;
  std::vector<pollfd> fds;
  while (!stop_) {
    fds.clear();
    fds.push_back({wake_fd_, POLLIN, 0});
    fds.push_back({listen_fd_, POLLIN, 0});
    Clock::time_point next = Clock::now() + std::chrono::seconds(60);
    for (const auto& c : connections) {
      fds.push_back({c->fd, static_cast<short>(c->out.empty() ? POLLIN : POLLOUT), 0});
      next = std::min(next, c->deadline);
    }
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next - Clock::now());
    int ready =
        poll(fds.data(), fds.size(), static_cast<int>(std::max<long long>(0, wait.count() + 1)));
    if (ready < 0 && errno != EINTR) break;
    if (stop_) break;
    Clock::time_point now = Clock::now();
    // Connections first (their pollfd slots follow the two fixed ones), then new ones.
    std::vector<std::unique_ptr<Connection>> kept;
    kept.reserve(connections.size());
    for (size_t i = 0; i < connections.size(); ++i) {
      Connection& c = *connections[i];
      short events = ready > 0 ? fds[i + 2].revents : 0;
      bool alive = true;
      if (events & (POLLERR | POLLNVAL))
        alive = false;
      else if (events & POLLOUT)
        alive = OnWritable(c);
      else if (events & (POLLIN | POLLHUP))
        alive = OnReadable(c);
      // A slow client (one byte at a time) or an idle one is dropped at its deadline even
      // while it keeps sending.
      if (alive && now >= c.deadline) alive = false;
      if (alive) kept.push_back(std::move(connections[i]));
    }
    connections = std::move(kept);
    if (ready > 0 && (fds[1].revents & POLLIN)) Accept(connections);
  }
  connections.clear();
}

void HttpServer::Accept(std::vector<std::unique_ptr<Connection>>& connections) {
  for (;;) {
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN: none left; anything else: try again on the next wake-up
    if (connections.size() >= options_.max_connections) {
      close(fd);
      continue;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // answers are one write
    auto c = std::make_unique<Connection>();
    c->fd = fd;
    c->deadline = Clock::now() + options_.read_deadline;
    connections.push_back(std::move(c));
  }
}

bool HttpServer::OnReadable(Connection& c) {
  char buffer[16384];
  ssize_t n = recv(c.fd, buffer, sizeof buffer, 0);
  if (n == 0) return false;
  if (n < 0) return errno == EAGAIN || errno == EINTR;
  c.in.append(buffer, static_cast<size_t>(n));
  Serve(c);
  return c.out.empty() || OnWritable(c);
}

bool HttpServer::OnWritable(Connection& c) {
  for (;;) {
    while (c.out_sent < c.out.size()) {
      ssize_t n = send(c.fd, c.out.data() + c.out_sent, c.out.size() - c.out_sent, MSG_NOSIGNAL);
      if (n < 0) return errno == EAGAIN || errno == EINTR;
      c.out_sent += static_cast<size_t>(n);
    }
    c.out.clear();
    c.out_sent = 0;
    if (c.close_after_write) return false;
    c.deadline = Clock::now() + options_.read_deadline;  // the next request's own deadline
    Serve(c);  // a pipelined request may already be waiting
    if (c.out.empty()) return true;
  }
}

// Answers the request at the front of c.in, if a whole head has arrived.
void HttpServer::Serve(Connection& c) {
  if (!c.out.empty() || c.close_after_write) return;
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
    response = handler_(*request);
  } catch (const std::exception& e) {  // a handler bug must not take the exporter down
    response = {500, "text/plain; charset=utf-8",
                std::string("internal error: ") + e.what() + "\n"};
  }
  Queue(c, response, head_only, request->keep_alive);
}

void HttpServer::Queue(Connection& c, const HttpResponse& response, bool head_only,
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
  c.deadline = Clock::now() + options_.write_deadline;
}

}  // namespace dlrig
