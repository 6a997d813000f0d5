// Outbound messages: e-mail to subjects and staff (SMTP) and webhooks to recipients. Services put
// messages in the outbox (a table of the store, so they survive restarts); a delivery job takes
// them from there and hands each to these ports. The adapters live in src/adapters/mail (libcurl).
//
// Failures are reported so that the job can decide: ErrorCode::kUnavailable is transient (the
// server could not be reached, a 4xx SMTP reply, an HTTP 5xx or 429): retry later with back-off.
// Any other error is permanent (a 5xx SMTP reply for the recipient, an HTTP 4xx, a bad URL).
//
// Thread-safety: implementations are safe for concurrent use.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/result.h"

namespace dovira::ports {

struct MailAttachment {
  std::string filename;      // ASCII or UTF-8 (encoded by the adapter)
  std::string content_type;  // e.g. "application/json"
  std::string data;          // raw bytes (base64-encoded by the adapter)
};

struct MailMessage {
  std::string from;       // bare address: "privacy@school.example"
  std::string from_name;  // display name, UTF-8, may be ""
  std::vector<std::string> to;  // bare addresses, at least one
  std::string subject;    // UTF-8 (encoded by the adapter, RFC 2047)
  std::string text;       // UTF-8 plain-text body
  std::vector<MailAttachment> attachments;
  std::string message_id;  // "<id@host>"; the same id on every retry of one message
};

class Mailer {
 public:
  virtual ~Mailer() = default;
  virtual Status Send(const MailMessage& message) = 0;
};

struct WebhookCall {
  std::string url;  // http:// (loopback only) or https://
  std::string body;  // JSON
  std::vector<std::pair<std::string, std::string>> headers;
};

class WebhookSender {
 public:
  virtual ~WebhookSender() = default;
  // The HTTP status of a 2xx answer; errors as above.
  virtual Result<int> Post(const WebhookCall& call) = 0;
};

}  // namespace dovira::ports
