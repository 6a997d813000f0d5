#include "adapters/http/request_parser.h"

#include "adapters/http/beast_request.h"

#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <cstdint>
#include <limits>
#include <random>

namespace dovira::http {
namespace internal {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using error_code = boost::system::error_code;

bool IsValidRequestId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (AsciiLower(s[i]) != prefix[i]) return false;
  }
  return true;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

RequestRefusal Malformed(std::string message) {
  return RequestRefusal{400, "malformed_request", std::move(message)};
}

// Splits a request target into its percent-decoded path and its raw query. Accepts origin form
// ("/a/b?q"), absolute form ("http://host/a/b?q", whose authority is dropped) and "*".
std::optional<RequestRefusal> SplitTarget(std::string_view target, std::string* path,
                                          std::string* query) {
  path->clear();
  query->clear();
  if (target == "*") {
    *path = "*";
    return std::nullopt;
  }
  std::string absolute_rest;
  if (StartsWithNoCase(target, "http://") || StartsWithNoCase(target, "https://")) {
    size_t authority = target.find("//") + 2;
    size_t end = target.find_first_of("/?", authority);
    absolute_rest = "/";
    if (end != std::string_view::npos) {
      absolute_rest.append(target.substr(target[end] == '/' ? end + 1 : end));
    }
    target = absolute_rest;
  }
  if (target.empty() || target[0] != '/') return Malformed("The request target is not a path.");
  size_t q = target.find('?');
  std::string_view raw = target.substr(0, q);
  if (q != std::string_view::npos) query->assign(target.substr(q + 1));
  path->reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '\0') return Malformed("The request path contains a NUL byte.");
    if (c != '%') {
      path->push_back(c);
      continue;
    }
    if (raw.size() - i < 3) return Malformed("The request path is not validly percent-encoded.");
    int hi = HexValue(raw[i + 1]);
    int lo = HexValue(raw[i + 2]);
    if (hi < 0 || lo < 0) return Malformed("The request path is not validly percent-encoded.");
    char decoded = static_cast<char>(hi * 16 + lo);
    if (decoded == '\0') return Malformed("The request path contains a NUL byte.");
    // Routing splits the decoded path at "/", so "a%2Fb" would become two segments; no path
    // parameter or file name holds a slash, so an encoded one is refused rather than guessed at.
    if (decoded == '/') return Malformed("The request path contains an encoded slash (%2F).");
    path->push_back(decoded);
    i += 2;
  }
  return std::nullopt;
}

}  // namespace

std::string NewRequestId() {
  thread_local std::mt19937_64 rng = [] {
    std::random_device device;
    std::seed_seq seed{device(), device(), device(), device()};
    return std::mt19937_64(seed);
  }();
  static constexpr char kHex[] = "0123456789abcdef";
  uint64_t v = rng();
  std::string id(16, '0');
  for (int i = 15; i >= 0; --i) {
    id[i] = kHex[v & 0xf];
    v >>= 4;
  }
  return id;
}

std::string RequestIdFrom(std::string_view incoming) {
  return IsValidRequestId(incoming) ? std::string(incoming) : NewRequestId();
}

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && StartsWithNoCase(a, b);
}

void ApplyLimits(Parser& parser, const RequestLimits& limits) {
  parser.body_limit(static_cast<uint64_t>(limits.max_body_bytes));
  parser.header_limit(static_cast<uint32_t>(
      std::min<size_t>(limits.max_header_bytes, std::numeric_limits<uint32_t>::max())));
}

std::optional<RequestRefusal> CheckHead(const Message& head) {
  if (head.version() / 10 != 1) return Malformed("The request is not valid HTTP/1.1.");
  if (head.method() == bhttp::verb::unknown) {
    return RequestRefusal{400, "method_not_understood", "The request method is not understood."};
  }
  if (head.version() >= 11 && head.count(bhttp::field::host) != 1) {
    return Malformed("An HTTP/1.1 request needs exactly one Host header.");
  }
  return std::nullopt;
}

std::optional<RequestRefusal> RefusalForReadError(const error_code& ec) {
  if (ec == bhttp::error::body_limit) {
    return RequestRefusal{413, "body_too_large",
                          "The request body is larger than the server accepts."};
  }
  if (ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow) {
    return RequestRefusal{431, "headers_too_large",
                          "The request headers are larger than the server accepts."};
  }
  if (&ec.category() == &bhttp::make_error_code(bhttp::error::bad_target).category() &&
      ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
    return Malformed("The request is not valid HTTP/1.1.");
  }
  return std::nullopt;
}

std::optional<RequestRefusal> ToHttpRequest(Message&& message, std::string remote_address,
                                            ports::HttpRequest* out) {
  ports::HttpRequest& request = *out;
  request = ports::HttpRequest();
  request.method = ToString(message.method_string());
  request.target = ToString(message.target());
  for (const auto& field : message) {
    std::string name = ToString(field.name_string());
    std::transform(name.begin(), name.end(), name.begin(), AsciiLower);
    auto [it, inserted] = request.headers.try_emplace(std::move(name), ToString(field.value()));
    if (!inserted) {
      it->second.append(", ");
      it->second.append(field.value().data(), field.value().size());
    }
  }
  request.request_id = RequestIdFrom(request.Header("x-request-id"));
  if (auto refused = SplitTarget(request.target, &request.path, &request.query)) return refused;
  request.body = std::move(message.body());
  request.remote_address = std::move(remote_address);
  return std::nullopt;
}

}  // namespace internal

ParsedRequest ParseRequest(std::string_view bytes, const RequestLimits& limits,
                           std::string remote_address) {
  ParsedRequest out;
  auto refuse = [&out](RequestRefusal refusal) {
    out.outcome = ParsedRequest::Outcome::kRefused;
    out.refusal = std::move(refusal);
    return out;
  };
  internal::Parser parser;
  internal::ApplyLimits(parser, limits);
  bool head_checked = false;
  size_t used = 0;
  int stalls = 0;
  while (!parser.is_done()) {
    if (parser.is_header_done() && !head_checked) {
      head_checked = true;
      if (auto refused = internal::CheckHead(parser.get())) return refuse(std::move(*refused));
      parser.eager(true);  // as the server's body read: the whole body in one go
    }
    if (used == bytes.size()) return out;  // kIncomplete
    boost::system::error_code ec;
    size_t n = parser.put(boost::asio::const_buffer(bytes.data() + used, bytes.size() - used), ec);
    used += n;
    if (ec == boost::beast::http::error::need_more) {
      if (n == 0) return out;  // the rest is a part of something still to come
      continue;
    }
    // A step between states may take no bytes; two in a row would be a parser that cannot go on.
    stalls = (n == 0 && !ec) ? stalls + 1 : 0;
    if (stalls > 1) return out;
    if (ec) {
      if (auto refused = internal::RefusalForReadError(ec)) return refuse(std::move(*refused));
      return out;  // the server closes such a connection without an answer
    }
  }
  if (!head_checked) {
    if (auto refused = internal::CheckHead(parser.get())) return refuse(std::move(*refused));
  }
  if (auto refused =
          internal::ToHttpRequest(parser.release(), std::move(remote_address), &out.request)) {
    return refuse(std::move(*refused));
  }
  out.outcome = ParsedRequest::Outcome::kRequest;
  out.consumed = used;
  return out;
}

namespace {

std::string JsonEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

ports::HttpResponse RefusalResponse(const RequestRefusal& refusal) {
  ports::HttpResponse response;
  response.status = refusal.status;
  response.Header("Content-Type", "application/json");
  response.body = "{\"error\":{\"code\":\"" + JsonEscape(refusal.code) + "\",\"message\":\"" +
                  JsonEscape(refusal.message) + "\",\"field\":null}}";
  return response;
}

}  // namespace dovira::http
