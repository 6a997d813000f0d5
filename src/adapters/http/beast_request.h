// Private to the HTTP adapter (it includes Beast): the steps of request parsing that the server's
// connections (http_server.cc) and ParseRequest (request_parser.cc) share, so both refuse and
// convert a request the same way. See request_parser.h for the rules.
#pragma once

// clang-format off
// Boost 1.74 with GCC 12 in C++20 mode fails to build unless <utility> precedes Asio and Beast.
#include <utility>
// clang-format on

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "adapters/http/request_parser.h"
#include "ports/http.h"

namespace dovira::http::internal {

using Parser = boost::beast::http::request_parser<boost::beast::http::string_body>;
using Message = boost::beast::http::request<boost::beast::http::string_body>;

// A parser bounded by the limits (header bytes, body bytes).
void ApplyLimits(Parser& parser, const RequestLimits& limits);

// The checks once the head is in, before any body is read: version, method, Host.
std::optional<RequestRefusal> CheckHead(const Message& head);

// The refusal for a read error, or nullopt when the connection should just close (the client went
// away, the deadline passed, the server is stopping).
std::optional<RequestRefusal> RefusalForReadError(const boost::system::error_code& ec);

// The complete message as the handler sees it; a refusal for a target the server cannot route.
std::optional<RequestRefusal> ToHttpRequest(Message&& message, std::string remote_address,
                                            ports::HttpRequest* out);

// A valid incoming X-Request-Id (1-64 of [A-Za-z0-9._-]), else a fresh 16-hex id.
std::string RequestIdFrom(std::string_view incoming);
std::string NewRequestId();

bool EqualsNoCase(std::string_view a, std::string_view b);

inline std::string ToString(boost::beast::string_view s) { return std::string(s.data(), s.size()); }

}  // namespace dovira::http::internal
