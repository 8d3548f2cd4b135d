// serve's HTTP/1.1 server: one listening socket and one epoll thread that owns every
// connection. Built for a scrape endpoint on a GPU machine, safe to leave reachable by hostile
// peers: GET and HEAD only (405 otherwise), request heads capped at 8 KiB (431), a request head
// that is not whole within the read deadline is dropped (slowloris, idle keep-alive), an answer
// not taken within the write deadline is dropped (clients that do not read), at most
// max_connections at once and max_per_peer from one address. A new connection is never
// refused for want of room: the oldest one still waiting for its request (else the oldest
// stalled answer), of the same peer when that peer is at its cap, is closed for it, so a
// complete scrape is always served. Keep-alive, Content-Length on every answer, nothing ever
// run. Handlers run on the server thread, so they must be quick: they render from data already
// in memory. Memory is bounded: each connection holds at most one request head and one answer.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "core/result.h"
#include "monitor/http_request.h"

namespace dlrig {

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;  ///< sent for GET, left out (its length kept) for HEAD
  std::vector<std::pair<std::string, std::string>> headers;  ///< beyond the ones always sent
};

/// Answers one GET (HEAD is answered as GET without the body). Unknown paths → 404.
using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

/// Where to listen: a numeric address and a port.
struct ListenAddress {
  std::string host;   ///< "127.0.0.1", "::1", "0.0.0.0" (no brackets)
  uint16_t port = 0;  ///< 0: any free port (tests)
  /// "127.0.0.1:9835", "[::1]:9835"
  std::string ToString() const;
};

/// "ADDR:PORT" with a numeric IPv4 address or "localhost", "[IPv6]:PORT", or ":PORT"
/// (loopback). kMalformed with the reason otherwise; never resolves names through DNS.
Result<ListenAddress> ParseListenAddress(std::string_view text);

/// The reason phrase of a status code ("Not Found").
const char* HttpStatusText(int status);

struct HttpServerOptions {
  /// A connection must deliver a whole request head within this from when it was accepted or
  /// its last answer went out, else it is closed (slowloris; idle keep-alive connections too).
  std::chrono::milliseconds read_deadline{5000};
  /// An answer must be taken by the client within this, else the connection is closed.
  std::chrono::milliseconds write_deadline{10000};
  /// Connections held at once; lowered to RLIMIT_NOFILE's soft limit less 64 where that is
  /// smaller. At the limit a new one takes the place of the oldest that is waiting.
  size_t max_connections = 1024;
  /// Connections held at once from one peer (an IPv4 address, an IPv6 /64); at the cap a new
  /// one from that peer takes the place of that peer's oldest waiting one.
  size_t max_per_peer = 256;
};

class HttpServer {
 public:
  /// Binds and listens (no thread yet): kIo / kNoPermission with the address and errno text.
  static Result<std::unique_ptr<HttpServer>> Listen(const ListenAddress& address,
                                                    HttpServerOptions options, HttpHandler handler);
  ~HttpServer();  ///< stops and closes everything
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /// The address actually bound (the real port when 0 was asked).
  const ListenAddress& address() const { return bound_; }
  /// The connection table's size: max_connections after the descriptor limit.
  size_t max_connections() const { return options_.max_connections; }
  /// Starts the event thread.
  void Start();
  /// Stops the thread and closes every connection; safe from any thread, idempotent.
  void Stop();

 private:
  class Loop;  // the event thread's state (http_loop.cc)
  /// epoll tokens of the two fixed descriptors; a connection's is generation << 32 | fd.
  static constexpr uint64_t kWakeToken = 0, kListenToken = 1;
  HttpServer(int listen_fd, int wake_fd, int epoll_fd, ListenAddress bound,
             HttpServerOptions options, HttpHandler handler);

  int listen_fd_;
  int wake_fd_;   ///< eventfd: Stop wakes epoll_wait
  int epoll_fd_;  ///< the listener, the eventfd and every connection
  ListenAddress bound_;
  HttpServerOptions options_;
  HttpHandler handler_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace dlrig
