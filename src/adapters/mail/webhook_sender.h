// The libcurl implementation of the outbound webhook port (ports::WebhookSender): one HTTP POST
// of the call's JSON body with Content-Type: application/json (unless the call sets its own) and
// the call's headers.
//
// Where it may go: https:// to any host, certificates verified; http:// only to the loopback
// interface (127.0.0.1, localhost, ::1), and only while allow_plain_http_loopback is set. Any
// other URL is kInvalidArgument ("webhook url must be https") before a connection is made.
// Redirects are not followed: a 3xx answer is a permanent failure, so a recipient cannot move the
// call somewhere the URL rules would refuse.
// Proxies named by the environment (https_proxy, all_proxy, no_proxy) are honoured, except for
// loopback URLs, which always go direct.
//
// Results follow the port's contract: a 2xx answer returns its status. kUnavailable (retry later)
// for 408, 429 and 5xx answers and when the recipient cannot be reached, times out or drops the
// connection. kFailedPrecondition with reason "webhook_rejected" for every other answer (other
// 4xx, 3xx). kInvalidArgument for a bad URL, or a header whose name is not an HTTP token or whose
// value holds CR, LF or NUL (`field` is "url" or "headers"). The answer's body is read and
// dropped. Error messages never contain the URL's path or query, which often carry a secret.
//
// Thread-safety: a CurlWebhookSender is immutable after Create(); Post() may be called
// concurrently from any thread (each call uses its own libcurl handle and connection).
#pragma once

#include <memory>

#include "common/result.h"
#include "ports/mailer.h"

namespace dovira::mail {

struct WebhookSenderOptions {
  long timeout_ms = 10000;  // the whole call, connection included
  bool allow_plain_http_loopback = true;
};

class CurlWebhookSender final : public ports::WebhookSender {
 public:
  // kInvalidArgument for a timeout that is not positive; kUnavailable if libcurl cannot be
  // initialised.
  static Result<std::unique_ptr<CurlWebhookSender>> Create(WebhookSenderOptions options = {});

  CurlWebhookSender(const CurlWebhookSender&) = delete;
  CurlWebhookSender& operator=(const CurlWebhookSender&) = delete;

  // Posts the call. Returns the 2xx status, or an error as in the header comment.
  Result<int> Post(const ports::WebhookCall& call) override;

 private:
  explicit CurlWebhookSender(WebhookSenderOptions options) : options_(options) {}

  WebhookSenderOptions options_;
};

}  // namespace dovira::mail
