// Parsing one HTTP/1.x request into a ports::HttpRequest, with the server's limits and checks: the
// functions HttpServer runs on every connection (http_server.cc reads the bytes asynchronously;
// the parsing, the checks and the conversion are these), reachable here without a socket for the
// fuzz target (fuzz/http_request_fuzz.cc) and tests.
//
// What a request must be to reach the handler:
// - HTTP/1.0 or HTTP/1.1, a method Beast knows (else 400 method_not_understood);
// - HTTP/1.1 with exactly one Host header (RFC 9112 §3.2; else 400 malformed_request);
// - a target in origin form ("/a/b?q"), absolute form (whose authority is dropped) or "*", whose
//   path is validly percent-encoded and decodes to no NUL and no "/" (an encoded slash would
//   change how the path splits into segments, and no route or file name holds one: 400);
// - headers within max_header_bytes (else 431), a body within max_body_bytes (else 413).
//
// Thread-safety: reentrant.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "ports/http.h"

namespace dovira::http {

// The adapter's own refusal of a request it cannot pass on; answered with the project's one error
// shape.
struct RequestRefusal {
  int status = 400;  // 400, 413 or 431 (500 for the adapter's own failure)
  std::string code;  // malformed_request, method_not_understood, body_too_large, headers_too_large
  std::string message;
};

struct RequestLimits {
  size_t max_body_bytes = 1 << 20;
  size_t max_header_bytes = size_t{16} * 1024;
};

// The outcome of parsing bytes as one request.
struct ParsedRequest {
  enum class Outcome {
    kRequest,     // `request` is complete and may go to the handler
    kRefused,     // `refusal` says why it may not
    kIncomplete,  // the bytes end before the request does (the server would wait for more)
  };
  Outcome outcome = Outcome::kIncomplete;
  ports::HttpRequest request;
  RequestRefusal refusal;
  size_t consumed = 0;  // bytes of the input that the request took (kRequest)
};

// Parses the request at the start of `bytes` (what follows it, a pipelined request, is left).
// `remote_address` becomes the request's remote_address.
ParsedRequest ParseRequest(std::string_view bytes, const RequestLimits& limits,
                           std::string remote_address = "");

// The response for a refusal: {"error":{"code","message","field":null}} as application/json.
ports::HttpResponse RefusalResponse(const RequestRefusal& refusal);

}  // namespace dovira::http
