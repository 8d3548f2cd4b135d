// serve's HTTP/1.1 server: one listening socket and one poll() thread that owns every
// connection. Built for a scrape endpoint on a GPU machine, not for the open internet, yet
// safe to leave running: GET and HEAD only (405 otherwise), request heads capped at 8 KiB
// (431), a client that has not sent a whole request within the read deadline is dropped (a
// slow client cannot hold the server), a bounded number of connections, keep-alive,
// Content-Length on every answer, nothing ever run. Handlers run on the server thread, so they
// must be quick: they render from data already in memory.
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
  size_t max_connections = 64;  ///< more are accepted and closed at once
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
  /// Starts the poll thread.
  void Start();
  /// Stops the thread and closes every connection; safe from any thread, idempotent.
  void Stop();

 private:
  struct Connection;
  HttpServer(int listen_fd, int wake_fd, ListenAddress bound, HttpServerOptions options,
             HttpHandler handler);
  void Loop();
  void Accept(std::vector<std::unique_ptr<Connection>>& connections);
  bool OnReadable(Connection& c);
  bool OnWritable(Connection& c);
  void Serve(Connection& c);
  void Queue(Connection& c, const HttpResponse& response, bool head_only, bool keep_alive);

  int listen_fd_;
  int wake_fd_;  ///< eventfd: Stop wakes poll()
  ListenAddress bound_;
  HttpServerOptions options_;
  HttpHandler handler_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace dlrig
