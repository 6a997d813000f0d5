// Fuzz target: any bytes as what a client sends on a connection, through the HTTP adapter's own
// request parsing (ParseRequest: Boost.Beast with the server's limits, the Host and target rules,
// the conversion to ports::HttpRequest), request after request as on a kept-alive connection.
// Nothing may crash, and a request that gets through must be one the handler can trust.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "adapters/http/http_server.h"
#include "adapters/http/request_parser.h"

namespace {

void Check(bool ok, const char* what, std::string_view detail) {
  if (!ok) {
    std::fprintf(stderr, "contract broken: %s: %.*s\n", what, static_cast<int>(detail.size()),
                 detail.data());
    std::abort();
  }
}

bool ValidRequestId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using dovira::http::ParsedRequest;
  // The server's own limits, and small ones so that the limits themselves are reached.
  static const dovira::http::HttpServerOptions kServer;
  const dovira::http::RequestLimits limits =
      size > 0 && (data[0] & 1) ? dovira::http::RequestLimits{64, 256}
                                : dovira::http::RequestLimits{kServer.max_body_bytes,
                                                              kServer.max_header_bytes};
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  for (int i = 0; i < 8 && !bytes.empty(); ++i) {
    ParsedRequest p = dovira::http::ParseRequest(bytes, limits, "127.0.0.1");
    if (p.outcome == ParsedRequest::Outcome::kRefused) {
      const int s = p.refusal.status;
      Check(s == 400 || s == 413 || s == 431, "refusal status", p.refusal.code);
      (void)dovira::http::RefusalResponse(p.refusal);
      return 0;
    }
    if (p.outcome == ParsedRequest::Outcome::kIncomplete) return 0;
    const auto& r = p.request;
    Check(p.consumed > 0 && p.consumed <= bytes.size(), "consumed", r.target);
    Check(r.path == "*" || (!r.path.empty() && r.path[0] == '/'), "path", r.path);
    Check(r.path.find('\0') == std::string::npos, "NUL in path", r.path);
    // An encoded slash would route as more segments than the client meant (issue 11).
    std::string_view raw_path = std::string_view(r.target).substr(0, r.target.find('?'));
    if (raw_path.find("://") != std::string_view::npos) {  // absolute form: the authority goes
      const size_t authority = raw_path.find("://") + 3;
      const size_t slash = raw_path.find('/', authority);
      raw_path = slash == std::string_view::npos ? std::string_view() : raw_path.substr(slash);
    }
    Check(raw_path.find("%2f") == std::string::npos && raw_path.find("%2F") == std::string::npos,
          "no encoded slash in an accepted path", r.target);
    Check(r.body.size() <= limits.max_body_bytes, "body within the limit", r.target);
    Check(ValidRequestId(r.request_id), "request id", r.request_id);
    for (const auto& [name, value] : r.headers) {
      for (char c : name) Check(!(c >= 'A' && c <= 'Z'), "lower-case header name", name);
    }
    bytes.remove_prefix(p.consumed);
  }
  return 0;
}
