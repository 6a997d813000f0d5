// The inbound HTTP port: adapter-neutral request and response values and the one handler type
// the HTTP adapter (src/adapters/http, Boost.Beast) calls. Routing, JSON and error mapping live in
// src/api; the adapter knows nothing of them.
//
// Thread-safety: a handler may be called concurrently from several I/O threads; the Responder it
// receives may be invoked from any thread, exactly once.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace dovira::ports {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as received: path plus query
  std::string path;    // decoded path, no query
  std::string query;   // raw query string without '?'
  // Header names are lower-cased; repeated headers are joined with ", ".
  std::map<std::string, std::string> headers;
  std::string body;
  std::string remote_address;  // peer IP, no port
  std::string request_id;      // assigned by the adapter (or taken from a valid X-Request-Id)

  // The header value or "" when absent. `name` must be lower case.
  const std::string& Header(const std::string& name) const {
    static const std::string kEmpty;
    auto it = headers.find(name);
    return it == headers.end() ? kEmpty : it->second;
  }
};

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // e.g. {"Content-Type", "..."}
  std::string body;

  HttpResponse& Header(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
};

using HttpResponder = std::function<void(HttpResponse&&)>;
using HttpHandler = std::function<void(HttpRequest&&, HttpResponder)>;

}  // namespace dovira::ports
