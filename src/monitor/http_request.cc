#include "monitor/http_request.h"

#include <algorithm>

namespace dlrig {
namespace {

// RFC 9110 §5.6.2 tchar: what a method or header name may be made of.
bool IsTokenChar(unsigned char c) {
  if (c >= '0' && c <= '9') return true;
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

bool IsToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return IsTokenChar(c); });
}

// field-value: visible characters, blanks and obs-text; no control characters.
bool IsFieldValue(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char ch) {
    auto c = static_cast<unsigned char>(ch);
    return c == '\t' || (c >= 0x20 && c != 0x7f);
  });
}

std::string_view TrimBlanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
  return out;
}

Result<void> ParseRequestLine(std::string_view line, HttpRequest& request) {
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
    return Fail(ErrorKind::kMalformed, "request line is not 'METHOD TARGET VERSION'");
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (!IsToken(method) || method.size() > 32) return Fail(ErrorKind::kMalformed, "bad method");
  if (target.empty() || target.front() != '/')
    return Fail(ErrorKind::kMalformed, "target is not an absolute path");
  for (char ch : target) {
    auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7f) return Fail(ErrorKind::kMalformed, "bad character in target");
  }
  if (version.size() != 8 || !version.starts_with("HTTP/") || version[6] != '.' ||
      version[5] < '0' || version[5] > '9' || version[7] < '0' || version[7] > '9')
    return Fail(ErrorKind::kMalformed, "bad HTTP version");
  if (version[5] != '1' || version[7] > '1')
    return Fail(ErrorKind::kUnsupported, "only HTTP/1.0 and HTTP/1.1 are served");
  request.method = std::string(method);
  request.target = std::string(target);
  size_t q = target.find('?');
  request.path = std::string(target.substr(0, q));
  request.query = q == std::string_view::npos ? "" : std::string(target.substr(q + 1));
  request.minor_version = version[7] - '0';
  return {};
}

Result<void> ParseHeaderLine(std::string_view line, HttpRequest& request) {
  if (line.empty() || line.front() == ' ' || line.front() == '\t')
    return Fail(ErrorKind::kMalformed, "folded header line");
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return Fail(ErrorKind::kMalformed, "header without ':'");
  std::string_view name = line.substr(0, colon);
  std::string_view value = TrimBlanks(line.substr(colon + 1));
  if (!IsToken(name)) return Fail(ErrorKind::kMalformed, "bad header name");
  if (!IsFieldValue(value)) return Fail(ErrorKind::kMalformed, "control character in header");
  if (request.headers.size() >= kMaxRequestHeaders)
    return Fail(ErrorKind::kTooLarge, "too many header fields");
  request.headers.emplace_back(Lower(name), std::string(value));
  return {};
}

// What the headers say about bodies, Host and the connection.
Result<void> CheckHeaders(HttpRequest& request) {
  size_t hosts = 0;
  bool close = false, keep_alive = false;
  for (const auto& [name, value] : request.headers) {
    if (name == "host") ++hosts;
    if (name == "transfer-encoding") request.announces_body = true;
    if (name == "content-length") {
      if (!std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
          value.empty())
        return Fail(ErrorKind::kMalformed, "bad Content-Length");
      request.announces_body |= value.find_first_not_of('0') != std::string::npos;
    }
    if (name != "connection") continue;
    std::string_view rest = value;
    while (!rest.empty()) {
      size_t comma = rest.find(',');
      std::string option = Lower(TrimBlanks(rest.substr(0, comma)));
      close |= option == "close";
      keep_alive |= option == "keep-alive";
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
  }
  // RFC 9112 §3.2: an HTTP/1.1 request without exactly one Host is answered 400.
  if (request.minor_version == 1 && hosts != 1)
    return Fail(ErrorKind::kMalformed, "HTTP/1.1 request needs exactly one Host header");
  request.keep_alive = !close && (request.minor_version == 1 || keep_alive);
  return {};
}

}  // namespace

const std::string* HttpRequest::Header(std::string_view name) const {
  for (const auto& [n, v] : headers)
    if (n == name) return &v;
  return nullptr;
}

size_t RequestHeadEnd(std::string_view buffer) {
  size_t end = buffer.find("\r\n\r\n");
  return end == std::string_view::npos ? 0 : end + 4;
}

Result<HttpRequest> ParseHttpRequest(std::string_view text) {
  // RFC 9112 §2.2: empty lines before the request line are ignored.
  size_t skipped = 0;
  while (text.substr(skipped).starts_with("\r\n")) skipped += 2;
  std::string_view rest = text.substr(skipped);
  size_t end = RequestHeadEnd(rest);
  if (end == 0 ? rest.size() > kMaxRequestHeadBytes : end > kMaxRequestHeadBytes)
    return Fail(ErrorKind::kTooLarge, "request head over 8 KiB");
  if (end == 0) return Fail(ErrorKind::kMalformed, "request head is incomplete");
  HttpRequest request;
  request.head_bytes = skipped + end;
  std::string_view head = rest.substr(0, end - 2);  // every line keeps its "\r\n"
  bool first = true;
  while (!head.empty()) {
    size_t eol = head.find("\r\n");
    std::string_view line = head.substr(0, eol);
    head.remove_prefix(eol + 2);
    if (line.find('\r') != std::string_view::npos || line.find('\n') != std::string_view::npos)
      return Fail(ErrorKind::kMalformed, "bare CR or LF in request head");
    Result<void> parsed = first ? ParseRequestLine(line, request) : ParseHeaderLine(line, request);
    if (!parsed) return tl::unexpected(parsed.error());
    first = false;
  }
  if (auto checked = CheckHeaders(request); !checked) return tl::unexpected(checked.error());
  return request;
}

}  // namespace dlrig
