// serve's HTTP server over a real loopback socket: GET, HEAD, 405, 404, 431, keep-alive and
// pipelining, a slow client dropped at the read deadline while others are still served, a
// client that does not read dropped at the write deadline, and a full table or a peer at its
// cap making room from its oldest waiting connection instead of refusing the new one.
#include "monitor/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

namespace dlrig {
namespace {

using namespace std::chrono_literals;

class Client {
 public:
  /// `source`: another loopback address to connect from (another peer); `receive_buffer`:
  /// a small SO_RCVBUF, for a client that takes its answer slowly or never.
  explicit Client(const ListenAddress& a, const char* source = nullptr, int receive_buffer = 0) {
    bool v6 = a.host.find(':') != std::string::npos;
    fd_ = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
    if (receive_buffer > 0)
      setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    if (source != nullptr && !v6) {
      sockaddr_in from{};
      from.sin_family = AF_INET;
      inet_pton(AF_INET, source, &from.sin_addr);
      if (bind(fd_, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0) return;
    }
    sockaddr_storage s{};
    socklen_t length;
    if (v6) {
      auto* in6 = reinterpret_cast<sockaddr_in6*>(&s);
      in6->sin6_family = AF_INET6;
      in6->sin6_port = htons(a.port);
      inet_pton(AF_INET6, a.host.c_str(), &in6->sin6_addr);
      length = sizeof *in6;
    } else {
      auto* in4 = reinterpret_cast<sockaddr_in*>(&s);
      in4->sin_family = AF_INET;
      in4->sin_port = htons(a.port);
      inet_pton(AF_INET, a.host.c_str(), &in4->sin_addr);
      length = sizeof *in4;
    }
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&s), length) == 0;
  }
  ~Client() { close(fd_); }
  bool connected() const { return connected_; }
  bool Send(std::string_view bytes) {
    return send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(bytes.size());
  }
  /// Reads until `want` bytes are buffered, the peer closes, or `wait` passes.
  std::string Read(size_t want, std::chrono::milliseconds wait) {
    auto until = std::chrono::steady_clock::now() + wait;
    while (buffer_.size() < want && !closed_) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          until - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
      char chunk[4096];
      ssize_t n = recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0)
        closed_ = true;
      else
        buffer_.append(chunk, static_cast<size_t>(n));
    }
    return buffer_;
  }
  /// One whole response (head + Content-Length body) off the front of what was read.
  std::string Response(std::chrono::milliseconds wait = 3000ms, bool head = false) {
    auto until = std::chrono::steady_clock::now() + wait;
    for (;;) {
      size_t end = buffer_.find("\r\n\r\n");
      if (end != std::string::npos) {
        size_t cl = buffer_.find("Content-Length: ");
        size_t length = cl < end ? std::stoul(buffer_.substr(cl + 16)) : 0;
        size_t total = end + 4 + (head ? 0 : length);
        if (buffer_.size() >= total) {
          std::string r = buffer_.substr(0, total);
          buffer_.erase(0, total);
          return r;
        }
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          until - std::chrono::steady_clock::now());
      if (left.count() <= 0 || closed_) return "";
      Read(buffer_.size() + 1, left);
    }
  }
  bool closed() const { return closed_; }
  /// Whether the server has closed the connection, waiting up to `wait` (what arrives before
  /// is kept).
  bool ClosedWithin(std::chrono::milliseconds wait) {
    Read(std::string::npos, wait);
    return closed_;
  }
  const std::string& pending() const { return buffer_; }

 private:
  int fd_ = -1;
  bool connected_ = false;
  bool closed_ = false;
  std::string buffer_;
};

std::unique_ptr<HttpServer> Start(HttpServerOptions options = {}, std::string host = "127.0.0.1") {
  auto server = HttpServer::Listen({host, 0}, options, [](const HttpRequest& r) -> HttpResponse {
    if (r.path == "/hello") return {200, "text/plain", "hello " + r.query};
    if (r.path == "/big") return {200, "text/plain", std::string(32u << 20, 'x')};
    return {404, "text/plain", "no\n"};
  });
  if (!server) return nullptr;
  (*server)->Start();
  return std::move(*server);
}

TEST(HttpServer, GetHeadAndUnknownPaths) {
  auto server = Start();
  ASSERT_TRUE(server);
  EXPECT_NE(server->address().port, 0);
  Client c(server->address());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Send("GET /hello?you HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string get = c.Response();
  EXPECT_TRUE(get.starts_with("HTTP/1.1 200 OK\r\n")) << get;
  EXPECT_NE(get.find("Content-Length: 9\r\n"), std::string::npos) << get;
  EXPECT_TRUE(get.ends_with("\r\n\r\nhello you")) << get;
  EXPECT_NE(get.find("Connection: keep-alive"), std::string::npos);

  // HEAD: the same length announced, no body sent; the connection goes on cleanly.
  ASSERT_TRUE(c.Send("HEAD /hello?you HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string head = c.Response(3000ms, true);
  EXPECT_NE(head.find("Content-Length: 9\r\n"), std::string::npos) << head;
  EXPECT_TRUE(head.ends_with("\r\n\r\n"));
  ASSERT_TRUE(c.Send("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string missing = c.Response();
  EXPECT_TRUE(missing.starts_with("HTTP/1.1 404 Not Found\r\n")) << missing << c.pending();
}

TEST(HttpServer, OtherMethodsAre405AndClose) {
  auto server = Start();
  ASSERT_TRUE(server);
  for (const char* method : {"POST", "PUT", "DELETE", "OPTIONS", "TRACE", "get"}) {
    Client c(server->address());
    ASSERT_TRUE(c.Send(std::string(method) +
                       " /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"));
    std::string r = c.Response();
    EXPECT_TRUE(r.starts_with("HTTP/1.1 405 Method Not Allowed\r\n")) << method << r;
    EXPECT_NE(r.find("Allow: GET, HEAD\r\n"), std::string::npos) << r;
    EXPECT_NE(r.find("Connection: close\r\n"), std::string::npos) << r;
    c.Read(1 << 20, 2000ms);
    EXPECT_TRUE(c.closed()) << method;
  }
}

TEST(HttpServer, MalformedAndOversizeRequests) {
  auto server = Start();
  ASSERT_TRUE(server);
  Client bad(server->address());
  ASSERT_TRUE(bad.Send("GET /hello\r\n\r\n"));
  EXPECT_TRUE(bad.Response().starts_with("HTTP/1.1 400 ")) << bad.pending();
  Client big(server->address());
  ASSERT_TRUE(big.Send("GET /hello HTTP/1.1\r\nHost: x\r\nX: " + std::string(9000, 'a')));
  EXPECT_TRUE(big.Response().starts_with("HTTP/1.1 431 ")) << big.pending();
  big.Read(1 << 20, 2000ms);
  EXPECT_TRUE(big.closed());
  Client v2(server->address());
  ASSERT_TRUE(v2.Send("GET /hello HTTP/2.0\r\n\r\n"));
  EXPECT_TRUE(v2.Response().starts_with("HTTP/1.1 505 ")) << v2.pending();
}

TEST(HttpServer, KeepAliveAndPipelining) {
  auto server = Start();
  ASSERT_TRUE(server);
  Client c(server->address());
  ASSERT_TRUE(
      c.Send("GET /hello?1 HTTP/1.1\r\nHost: x\r\n\r\nGET /hello?2 HTTP/1.1\r\nHost: x\r\n\r\n"
             "GET /hello?3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  EXPECT_TRUE(c.Response().ends_with("hello 1"));
  EXPECT_TRUE(c.Response().ends_with("hello 2"));
  std::string last = c.Response();
  EXPECT_TRUE(last.ends_with("hello 3")) << last;
  EXPECT_NE(last.find("Connection: close"), std::string::npos);
  c.Read(1 << 20, 2000ms);
  EXPECT_TRUE(c.closed());
}

TEST(HttpServer, SlowClientIsDroppedOthersServed) {
  HttpServerOptions options;
  options.read_deadline = 400ms;
  auto server = Start(options);
  ASSERT_TRUE(server);
  Client slow(server->address());
  ASSERT_TRUE(slow.connected());
  auto started = std::chrono::steady_clock::now();
  std::string request =
      "GET /hello HTTP/1.1\r\nHost: x\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
  bool dropped = false;
  // One byte every 40 ms: it keeps sending, but never a whole request within the deadline.
  for (char ch : request) {
    if (!slow.Send(std::string_view(&ch, 1))) {
      dropped = true;
      break;
    }
    slow.Read(1, 40ms);
    if (slow.closed()) {
      dropped = true;
      break;
    }
    Client other(server->address());  // meanwhile the server answers everyone else
    ASSERT_TRUE(other.Send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"));
    ASSERT_TRUE(other.Response(1000ms).starts_with("HTTP/1.1 200")) << "while slow client held";
  }
  auto held = std::chrono::steady_clock::now() - started;
  EXPECT_TRUE(dropped);
  EXPECT_LT(held, 2000ms);
  EXPECT_GE(held, 350ms);
  EXPECT_EQ(slow.pending().find("200 OK"), std::string::npos);

  // An idle keep-alive connection is closed at the deadline too.
  Client idle(server->address());
  ASSERT_TRUE(idle.Send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_TRUE(idle.Response().starts_with("HTTP/1.1 200"));
  idle.Read(1 << 20, 2000ms);
  EXPECT_TRUE(idle.closed());
}

bool Served(const ListenAddress& a, const char* source = nullptr) {
  Client c(a, source);
  return c.Send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n") &&
         c.Response(2000ms).starts_with("HTTP/1.1 200");
}

TEST(HttpServer, FullTableMakesRoomFromTheOldestWaitingConnection) {
  HttpServerOptions options;
  options.max_connections = 8;
  auto server = Start(options);
  ASSERT_TRUE(server);
  EXPECT_EQ(server->max_connections(), 8u);
  std::vector<std::unique_ptr<Client>> idle;
  for (int i = 0; i < 8; ++i) {
    idle.push_back(std::make_unique<Client>(server->address()));
    ASSERT_TRUE(idle.back()->connected());
    std::this_thread::sleep_for(5ms);  // accepted one by one, in this order
  }
  // The old server refused a ninth connection; a new scrape now takes the oldest's place.
  // Each scrape's connection stays open, waiting for its next request.
  std::vector<std::unique_ptr<Client>> scrapes;
  auto scrape = [&] {
    scrapes.push_back(std::make_unique<Client>(server->address()));
    return scrapes.back()->Send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n") &&
           scrapes.back()->Response(2000ms).starts_with("HTTP/1.1 200");
  };
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(scrape()) << i;
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(idle[i]->ClosedWithin(1000ms)) << i;
  for (int i = 3; i < 8; ++i) EXPECT_FALSE(idle[i]->ClosedWithin(20ms)) << i;
  // Part of a request does not make a connection younger: it still goes before newer ones.
  ASSERT_TRUE(idle[3]->Send("GET /hello HTTP/1.1\r\n"));
  std::this_thread::sleep_for(20ms);
  EXPECT_TRUE(scrape());
  EXPECT_TRUE(idle[3]->ClosedWithin(1000ms));
  EXPECT_FALSE(idle[4]->ClosedWithin(20ms));
  for (const auto& c : scrapes) EXPECT_FALSE(c->ClosedWithin(20ms));
}

TEST(HttpServer, PeerAtItsCapMakesRoomFromItsOwnOldest) {
  HttpServerOptions options;
  options.max_per_peer = 3;
  auto server = Start(options);
  ASSERT_TRUE(server);
  Client probe(server->address(), "127.0.0.2");
  if (!probe.connected()) GTEST_SKIP() << "cannot connect from 127.0.0.2 here";
  std::vector<std::unique_ptr<Client>> other;  // probe and two more: 127.0.0.2 is at its cap
  for (int i = 0; i < 2; ++i) {
    std::this_thread::sleep_for(5ms);
    other.push_back(std::make_unique<Client>(server->address(), "127.0.0.2"));
  }
  std::this_thread::sleep_for(20ms);
  Client mine(server->address());  // another peer's connection is not touched
  ASSERT_TRUE(mine.Send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_TRUE(mine.Response().starts_with("HTTP/1.1 200"));
  EXPECT_FALSE(probe.ClosedWithin(50ms));
  // A fourth from 127.0.0.2 takes the place of that peer's oldest, and is served.
  EXPECT_TRUE(Served(server->address(), "127.0.0.2"));
  EXPECT_TRUE(probe.ClosedWithin(1000ms));
  EXPECT_FALSE(other[0]->ClosedWithin(20ms));
  EXPECT_FALSE(other[1]->ClosedWithin(20ms));
  ASSERT_TRUE(mine.Send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_TRUE(mine.Response().starts_with("HTTP/1.1 200"));
}

TEST(HttpServer, ClientThatDoesNotReadIsDroppedAtTheWriteDeadline) {
  HttpServerOptions options;
  options.write_deadline = 300ms;
  options.max_connections = 2;
  auto server = Start(options);
  ASSERT_TRUE(server);
  Client stalled(server->address(), nullptr, 4096);  // asks for 32 MiB and takes none of it
  ASSERT_TRUE(stalled.Send("GET /big HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::this_thread::sleep_for(50ms);
  Client idle(server->address());
  std::this_thread::sleep_for(20ms);
  // The table is full: a new connection takes the waiting one's place, not the stalled one's.
  EXPECT_TRUE(Served(server->address()));
  EXPECT_TRUE(idle.ClosedWithin(1000ms));
  auto started = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(500ms);  // past the write deadline
  // What was sent before the server gave up arrives, then the end; far less than was asked.
  EXPECT_TRUE(stalled.ClosedWithin(2000ms));
  EXPECT_LT(stalled.pending().size(), 16u << 20);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2500ms);
  EXPECT_TRUE(Served(server->address()));
}

TEST(HttpServer, TableFitsTheDescriptorLimit) {
  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved), 0);
  if (saved.rlim_max < 300) GTEST_SKIP() << "hard descriptor limit under 300";
  rlimit low = saved;
  low.rlim_cur = 300;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
  auto server =
      HttpServer::Listen({"127.0.0.1", 0}, {}, [](const HttpRequest&) { return HttpResponse{}; });
  setrlimit(RLIMIT_NOFILE, &saved);
  ASSERT_TRUE(server);
  EXPECT_EQ((*server)->max_connections(), 236u);  // 300 less 64 for everything else
}

TEST(HttpServer, Ipv6LoopbackAndStop) {
  auto server = Start({}, "::1");
  if (!server) GTEST_SKIP() << "no IPv6 loopback here";
  Client c(server->address());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Send("GET /hello HTTP/1.1\r\nHost: [::1]\r\n\r\n"));
  EXPECT_TRUE(c.Response().starts_with("HTTP/1.1 200"));
  auto started = std::chrono::steady_clock::now();
  server->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1000ms);
  c.Read(1 << 20, 1000ms);
  EXPECT_TRUE(c.closed());
}

TEST(HttpServer, PortInUseIsAnError) {
  auto first = Start();
  ASSERT_TRUE(first);
  auto second =
      HttpServer::Listen(first->address(), {}, [](const HttpRequest&) { return HttpResponse{}; });
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().message.find(first->address().ToString()), std::string::npos);
}

}  // namespace
}  // namespace dlrig
