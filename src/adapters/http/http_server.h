// The inbound HTTP/1.1 adapter: an event-driven server that turns HTTP requests into
// ports::HttpRequest values, hands each to the one ports::HttpHandler, and writes back whatever the
// handler's responder is given. Routing, JSON and error mapping belong to the caller; the adapter
// only produces its own errors for requests it cannot pass on (malformed, too large), in the
// project's one error shape: {"error":{"code":"...","message":"...","field":null}}.
//
// Design: one event loop per thread. A single acceptor hands accepted connections to the loops in
// turn; a connection stays on its loop for its whole life. Keep-alive without pipelining: the next
// request on a connection is read only after the previous response is written.
//
// Adapter error codes: 400 malformed_request and method_not_understood, 413 body_too_large,
// 431 headers_too_large (the rules are those of ParseRequest, request_parser.h, which parses with
// the same functions: no HTTP/1.1 request without exactly one Host, no encoded slash in the path),
// and 500 internal when a handler drops its responder without calling it (or throws). A request
// that does not fully arrive within read_timeout closes the connection.
//
// Every response carries Server: dovira, X-Request-Id (the request's id: a valid incoming
// X-Request-Id, else a fresh 16-hex one) and Content-Length, except 204 and 304, which go out
// without body or length. HEAD gets the length but no body. A status outside 200-599 becomes 500.
// Handler headers the adapter owns (Content-Length, Transfer-Encoding, Connection, Keep-Alive,
// Server, X-Request-Id) and malformed ones (bad name, CR/LF/NUL in value) are dropped.
//
// Thread-safety: Start(), port() and Stop() may be called from any thread except the server's own
// I/O threads (a handler must not call Stop()). The handler is called concurrently from the I/O
// threads and must not block them: slow work goes elsewhere and answers through the responder. The
// responder may be called from any thread, at any later time, at most once (later calls are
// ignored), and may safely outlive the server. A connection stays open until its responder is
// called or dropped (or Stop() gives up on it), so a handler must not hoard responders.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "common/result.h"
#include "ports/http.h"

namespace dovira::http {

struct HttpServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 0;                            // 0: an ephemeral port; port() tells which
  int threads = 2;                              // one event loop per thread
  size_t max_body_bytes = 1 << 20;              // larger → 413
  size_t max_header_bytes = size_t{16} * 1024;  // request line plus headers; larger → 431
  // Headers and body must arrive within this; idle keep-alive connections are closed after it, and
  // a response must be taken by the client within it.
  std::chrono::seconds read_timeout{30};
  int backlog = 4096;
  // How long Stop() waits for in-flight requests to be answered before closing them.
  std::chrono::milliseconds stop_grace{2000};
};

class HttpServer {
 public:
  // Binds and starts serving; every request goes to `handler`. Error kUnavailable if the address
  // cannot be bound (naming it), kInvalidArgument for an unusable option.
  static Result<std::unique_ptr<HttpServer>> Start(HttpServerOptions options,
                                                   ports::HttpHandler handler);

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  ~HttpServer();  // calls Stop()

  // The bound port (the ephemeral one when options.port was 0).
  uint16_t port() const;

  // Stops accepting, closes idle connections, lets in-flight requests be answered for up to
  // options.stop_grace, then closes the rest and joins the I/O threads. Idempotent.
  void Stop();

 private:
  class Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

}  // namespace dovira::http
