// The inbound HTTP port: adapter-neutral request and response values and the one handler type
// the HTTP adapter (src/adapters/http, Boost.Beast) calls. Routing, JSON and error mapping live in
// src/api; the adapter knows nothing of them.
//
// Thread-safety: a handler may be called concurrently from several I/O threads; the Responder it
// receives may be invoked from any thread, exactly once (a streamed response: see
// HttpResponse::stream).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"

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

// Where a streamed body goes (HttpResponse::stream).
class HttpBodyWriter {
 public:
  virtual ~HttpBodyWriter() = default;
  // Sends `chunk` as the next piece of the body (an empty chunk is ignored). Blocks while the
  // connection has more than a bounded amount queued unsent, so a slow client slows the producer
  // instead of filling memory. False once the connection is gone: stop producing.
  virtual bool Write(std::string chunk) = 0;
};

// Produces a body piece by piece through the writer. Returns an error if the body cannot be
// completed; the headers have left by then, so the adapter ends the response abnormally (the
// connection closes without the body's end) and the client sees an incomplete body.
using HttpBodyProducer = std::function<Status(HttpBodyWriter&)>;

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // e.g. {"Content-Type", "..."}
  std::string body;
  // When set, the body is this producer's output instead of `body` (which must stay empty), sent
  // with chunked transfer encoding. The adapter sends the status and headers, then runs the
  // producer on the thread that called the responder, before the responder returns; so a
  // responder carrying a stream must be called from a thread that may block (a worker, never an
  // event loop). Called from an event loop, the adapter runs the producer into memory first and
  // sends the whole body at once, so the output is the same either way.
  HttpBodyProducer stream;
  // For the server's own log, never sent: what an error's client-facing message leaves out (the
  // file, the table, a library's message). The API logs it with the request id.
  std::string log_detail;

  HttpResponse& Header(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
};

using HttpResponder = std::function<void(HttpResponse&&)>;
using HttpHandler = std::function<void(HttpRequest&&, HttpResponder)>;

}  // namespace dovira::ports
