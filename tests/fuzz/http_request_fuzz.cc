// serve's request parser and listen-address parser: bytes straight from the network / the
// command line.
#include <cstdint>
#include <string_view>

#include "monitor/http_request.h"
#include "monitor/http_server.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)dlrig::RequestHeadEnd(text);
  if (auto r = dlrig::ParseHttpRequest(text)) {
    // What the server relies on: the head lies inside the input and the path is a prefix of
    // an absolute target.
    if (r->head_bytes > size || r->path.empty() || r->path[0] != '/') __builtin_trap();
    (void)r->Header("host");
  }
  (void)dlrig::ParseListenAddress(text);
  return 0;
}
