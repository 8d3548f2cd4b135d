// The request side of serve's HTTP/1.1 server: one request head (request line + headers) as
// it arrived from the network, parsed strictly. Pure, so the fuzzer and the tests drive it
// without a socket. Bodies are never accepted: serve only answers GET and HEAD.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace dlrig {

/// The most a request head may take, request line and headers together (431 beyond it).
inline constexpr size_t kMaxRequestHeadBytes = 8 * 1024;
/// The most header fields a request may carry (431 beyond it).
inline constexpr size_t kMaxRequestHeaders = 64;

struct HttpRequest {
  std::string method;     ///< as sent, case-sensitive ("GET")
  std::string target;     ///< origin-form, as sent ("/metrics?x=1")
  std::string path;       ///< target up to '?' ("/metrics"), not percent-decoded
  std::string query;      ///< after '?', "" when none
  int minor_version = 1;  ///< HTTP/1.<minor_version>; only 1.0 and 1.1 are accepted
  /// Header fields in arrival order; names lower-cased, values without surrounding blanks.
  std::vector<std::pair<std::string, std::string>> headers;
  /// Whether the connection stays open after the answer (HTTP/1.1 unless "Connection: close",
  /// HTTP/1.0 only with "Connection: keep-alive").
  bool keep_alive = true;
  /// Content-Length other than 0 or any Transfer-Encoding: a body follows, which nothing
  /// here reads (the server answers and closes the connection).
  bool announces_body = false;
  /// Bytes of the input the head took, its final blank line included.
  size_t head_bytes = 0;

  /// The first value of header `name` (lower-case), or nullptr.
  const std::string* Header(std::string_view name) const;
};

/// Where a request head ends in `buffer` (the offset just past "\r\n\r\n"), or 0 when it has
/// not arrived yet.
size_t RequestHeadEnd(std::string_view buffer);

/// Parses the request head at the start of `text` (it must contain the whole head: see
/// RequestHeadEnd). Errors: kTooLarge (head over kMaxRequestHeadBytes or too many headers:
/// answer 431), kUnsupported (an HTTP version other than 1.0/1.1: 505), kMalformed (anything
/// else: 400), each with a short reason.
Result<HttpRequest> ParseHttpRequest(std::string_view text);

}  // namespace dlrig
