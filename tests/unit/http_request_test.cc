// serve's request parser: what a well-formed head gives, and every malformed or oversize one
// is an error of the kind the server maps to 400 / 431 / 505.
#include "monitor/http_request.h"

#include <gtest/gtest.h>

#include "monitor/http_server.h"

namespace dlrig {
namespace {

TEST(HttpRequest, ParsesAGetWithHeaders) {
  std::string text =
      "GET /metrics?name[]=x HTTP/1.1\r\nHost: 127.0.0.1:9835\r\nUser-Agent:  Prometheus/2.42.0 "
      "\r\n"
      "Accept: text/plain\r\n\r\nGET /next";
  auto r = ParseHttpRequest(text);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->method, "GET");
  EXPECT_EQ(r->path, "/metrics");
  EXPECT_EQ(r->query, "name[]=x");
  EXPECT_EQ(r->minor_version, 1);
  EXPECT_TRUE(r->keep_alive);
  EXPECT_FALSE(r->announces_body);
  ASSERT_NE(r->Header("user-agent"), nullptr);
  EXPECT_EQ(*r->Header("user-agent"), "Prometheus/2.42.0");
  EXPECT_EQ(r->head_bytes, text.find("GET /next"));
  EXPECT_EQ(RequestHeadEnd(text), text.find("GET /next"));
}

TEST(HttpRequest, ConnectionPersistence) {
  auto close11 =
      ParseHttpRequest("GET / HTTP/1.1\r\nHost: h\r\nConnection: Keep-Alive, close\r\n\r\n");
  ASSERT_TRUE(close11);
  EXPECT_FALSE(close11->keep_alive);
  auto plain10 = ParseHttpRequest("GET / HTTP/1.0\r\n\r\n");  // 1.0 needs no Host
  ASSERT_TRUE(plain10);
  EXPECT_FALSE(plain10->keep_alive);
  auto keep10 = ParseHttpRequest("\r\nGET / HTTP/1.0\r\nconnection: keep-alive\r\n\r\n");
  ASSERT_TRUE(keep10);
  EXPECT_TRUE(keep10->keep_alive);
}

TEST(HttpRequest, BodiesAreAnnounced) {
  auto post = ParseHttpRequest("POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n");
  ASSERT_TRUE(post);
  EXPECT_TRUE(post->announces_body);
  auto chunked =
      ParseHttpRequest("GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n");
  ASSERT_TRUE(chunked);
  EXPECT_TRUE(chunked->announces_body);
  auto zero = ParseHttpRequest("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n");
  ASSERT_TRUE(zero);
  EXPECT_FALSE(zero->announces_body);
}

TEST(HttpRequest, MalformedHeadsAre400) {
  for (const char* text : {
           "GET /\r\n\r\n",                                 // no version
           "GET / http/1.1\r\nHost: h\r\n\r\n",             // lower-case version
           "GET metrics HTTP/1.1\r\nHost: h\r\n\r\n",       // not an absolute path
           "GET http://h/ HTTP/1.1\r\nHost: h\r\n\r\n",     // absolute-form
           "GET /a b HTTP/1.1\r\nHost: h\r\n\r\n",          // space in target
           "GET  / HTTP/1.1\r\nHost: h\r\n\r\n",            // two spaces
           "G\x01T / HTTP/1.1\r\nHost: h\r\n\r\n",          // control char in method
           "GET /\x7f HTTP/1.1\r\nHost: h\r\n\r\n",         // DEL in target
           "GET / HTTP/1.1\r\nHost h\r\n\r\n",              // header without ':'
           "GET / HTTP/1.1\r\nHost : h\r\n\r\n",            // blank before ':'
           "GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n",  // obs-fold
           "GET / HTTP/1.1\r\nHost: h\x01\r\n\r\n",         // control char in value
           "GET / HTTP/1.1\nHost: h\r\n\r\n",               // bare LF
           "GET / HTTP/1.1\r\nX: a\rb\r\nHost: h\r\n\r\n",  // bare CR
           "GET / HTTP/1.1\r\n\r\n",                        // 1.1 without Host
           "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",  // two Hosts
           "GET / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: h\r\n",  // incomplete
           "",
       }) {
    auto r = ParseHttpRequest(text);
    ASSERT_FALSE(r) << text;
    EXPECT_EQ(r.error().kind, ErrorKind::kMalformed) << text << ": " << r.error().message;
  }
}

TEST(HttpRequest, OtherVersionsAre505) {
  for (const char* text :
       {"GET / HTTP/2.0\r\n\r\n", "GET / HTTP/1.2\r\nHost: h\r\n\r\n", "GET / HTTP/0.9\r\n\r\n"}) {
    auto r = ParseHttpRequest(text);
    ASSERT_FALSE(r) << text;
    EXPECT_EQ(r.error().kind, ErrorKind::kUnsupported) << text;
  }
}

TEST(HttpRequest, OversizeHeadsAre431) {
  std::string big =
      "GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + std::string(kMaxRequestHeadBytes, 'a') + "\r\n\r\n";
  auto r = ParseHttpRequest(big);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kTooLarge);
  // Without its end, as a slow or hostile client leaves it.
  auto unfinished =
      ParseHttpRequest("GET / HTTP/1.1\r\nX: " + std::string(kMaxRequestHeadBytes, 'a'));
  ASSERT_FALSE(unfinished);
  EXPECT_EQ(unfinished.error().kind, ErrorKind::kTooLarge);
  std::string many = "GET / HTTP/1.1\r\nHost: h\r\n";
  for (size_t i = 0; i < kMaxRequestHeaders; ++i) many += "X: y\r\n";
  auto too_many = ParseHttpRequest(many + "\r\n");
  ASSERT_FALSE(too_many);
  EXPECT_EQ(too_many.error().kind, ErrorKind::kTooLarge);
}

TEST(ListenAddress, ParsesIpv4Ipv6AndPortOnly) {
  auto v4 = ParseListenAddress("0.0.0.0:9835");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->host, "0.0.0.0");
  EXPECT_EQ(v4->port, 9835);
  auto v6 = ParseListenAddress("[::1]:9836");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->ToString(), "[::1]:9836");
  EXPECT_EQ(ParseListenAddress(":80")->host, "127.0.0.1");
  EXPECT_EQ(ParseListenAddress("localhost:80")->host, "127.0.0.1");
  for (const char* bad : {"::1:9835", "gpu-node:9835", "1.2.3.4:65536", "1.2.3.4", "[::1]",
                          "[::1]9835", "1.2.3.4:", "1.2.3.4:x1", "[nothost]:1"})
    EXPECT_FALSE(ParseListenAddress(bad)) << bad;
}

}  // namespace
}  // namespace dlrig
