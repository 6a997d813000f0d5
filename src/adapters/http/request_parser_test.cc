#include "adapters/http/request_parser.h"

#include <gtest/gtest.h>

#include <string>

namespace dovira::http {
namespace {

using Outcome = ParsedRequest::Outcome;

TEST(ParseRequest, CompleteRequestIsConvertedAsTheServerDoes) {
  const std::string bytes =
      "POST /v1/a%20b?x=%2F HTTP/1.1\r\nHost: h\r\nX-Multi: 1\r\nx-multi: 2\r\n"
      "X-Request-Id: abc\r\nContent-Length: 2\r\n\r\n{}GET / HTTP/1.1\r\n";
  ParsedRequest p = ParseRequest(bytes, {}, "10.0.0.1");
  ASSERT_EQ(p.outcome, Outcome::kRequest) << p.refusal.message;
  EXPECT_EQ(p.request.method, "POST");
  EXPECT_EQ(p.request.path, "/v1/a b");
  EXPECT_EQ(p.request.query, "x=%2F");
  EXPECT_EQ(p.request.Header("x-multi"), "1, 2");
  EXPECT_EQ(p.request.request_id, "abc");
  EXPECT_EQ(p.request.body, "{}");
  EXPECT_EQ(p.request.remote_address, "10.0.0.1");
  // The pipelined request after it is left for the next parse.
  EXPECT_EQ(bytes.substr(p.consumed), "GET / HTTP/1.1\r\n");
  EXPECT_EQ(ParseRequest(bytes.substr(p.consumed), {}).outcome, Outcome::kIncomplete);
}

TEST(ParseRequest, ChunkedBodyIsAssembled) {
  ParsedRequest p = ParseRequest(
      "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
      {});
  ASSERT_EQ(p.outcome, Outcome::kRequest) << p.refusal.message;
  EXPECT_EQ(p.request.body, "hello world");
}

TEST(ParseRequest, RefusalsCarryTheServersStatusAndCode) {
  struct Case {
    std::string bytes;
    int status;
    std::string code;
  };
  RequestLimits small{8, 64};
  for (const Case& c : {
           Case{"GET / HTTP/1.1\r\n\r\n", 400, "malformed_request"},
           Case{"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "malformed_request"},
           Case{"GET /a%2fb HTTP/1.1\r\nHost: a\r\n\r\n", 400, "malformed_request"},
           Case{"GET /a%zz HTTP/1.1\r\nHost: a\r\n\r\n", 400, "malformed_request"},
           Case{"GET a HTTP/1.1\r\nHost: a\r\n\r\n", 400, "malformed_request"},
           Case{"BREW / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "method_not_understood"},
           Case{"\x01\x02 garbage\r\n\r\n", 400, "malformed_request"},
           Case{"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9\r\n\r\n", 413, "body_too_large"},
           Case{"GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(100, 'a') + "\r\n\r\n", 431,
                "headers_too_large"},
       }) {
    ParsedRequest p = ParseRequest(c.bytes, small);
    ASSERT_EQ(p.outcome, Outcome::kRefused) << c.bytes;
    EXPECT_EQ(p.refusal.status, c.status) << c.bytes;
    EXPECT_EQ(p.refusal.code, c.code) << c.bytes;
  }
}

TEST(ParseRequest, TruncatedRequestIsIncomplete) {
  for (const std::string& bytes :
       {std::string(""), std::string("GET / HT"), std::string("GET / HTTP/1.1\r\nHost: a\r\n"),
        std::string("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nab")}) {
    EXPECT_EQ(ParseRequest(bytes, {}).outcome, Outcome::kIncomplete) << bytes;
  }
}

TEST(ParseRequest, Http10NeedsNoHost) {
  ParsedRequest p = ParseRequest("GET /old HTTP/1.0\r\n\r\n", {});
  ASSERT_EQ(p.outcome, Outcome::kRequest) << p.refusal.message;
  EXPECT_EQ(p.request.path, "/old");
}

}  // namespace
}  // namespace dovira::http
