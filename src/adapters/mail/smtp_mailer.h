// The SMTP implementation of the outbound mail port (ports::Mailer), over libcurl. Each Send()
// composes one RFC 5322 / MIME message and hands it to the configured relay in one SMTP
// transaction (MAIL FROM, one RCPT TO per recipient, DATA). <curl/curl.h> is included by the .cc
// files of this folder and nowhere else.
//
// The message: Date (from the injected clock), From (the display name as RFC 2047 UTF-8
// encoded-words), To, Subject (RFC 2047 encoded-words when it is not short plain ASCII),
// Message-ID (the message's own, so every retry carries the same id), MIME-Version. The body is
// text/plain; charset=utf-8 in base64 (76-character lines); with attachments it becomes
// multipart/mixed: the text part first, then each attachment in base64 with
// Content-Disposition: attachment and its filename (RFC 2231 encoded when not plain ASCII).
//
// Input checks, before any connection is made (kInvalidArgument, `field` names the input):
// addresses must be plain ASCII local@domain; CR, LF or NUL in any header input (addresses,
// subject, display name, filename, content type, message id) is header injection and refused;
// text inputs must be valid UTF-8; there must be at least one recipient.
//
// Errors of the transfer follow the port's contract: kUnavailable when the relay cannot be
// reached, times out, drops the connection, fails TLS or answers 4xx (retry later); with a
// refused certificate or a missing STARTTLS the retries go on until the operator fixes the
// relay or the delivery job gives up. kFailedPrecondition with reason "smtp_rejected" when it
// answers 5xx (the message names the reply code). Recipients are all-or-nothing: one refused
// recipient fails the whole transaction, so a retry never delivers twice to the others.
//
// TLS: an smtps:// URL is TLS from the first byte. For smtp://, require_tls makes STARTTLS
// mandatory (the send fails with kUnavailable if the relay does not offer it). Without it, a
// relay off the loopback interface gets STARTTLS when it offers it and plain text when it does
// not; a loopback relay (127.0.0.1, localhost, ::1; typically the host's own MTA, often with a
// self-signed certificate) gets plain text. Server certificates are always verified when TLS is
// used. Credentials are refused (at Create) on a connection that may stay plain text, unless the
// relay is on the loopback interface.
//
// A proxy named by the environment (all_proxy, no_proxy) is honoured, except for a loopback relay.
//
// Thread-safety: a SmtpMailer is immutable after Create(); Send() may be called concurrently from
// any thread (each call uses its own libcurl handle and connection).
#pragma once

#include <memory>
#include <string>

#include "common/clock.h"
#include "common/result.h"
#include "ports/mailer.h"

namespace dovira::mail {

struct SmtpMailerOptions {
  // smtp://host:port or smtps://host:port. A path sets the name sent with EHLO
  // ("smtp://relay.example:587/school.example").
  std::string url = "smtp://127.0.0.1:2525";
  std::string username;  // "" = no authentication
  std::string password;
  bool require_tls = false;  // smtp:// only: STARTTLS or fail
  long timeout_ms = 10000;   // the whole transaction, connection included
  // The source of the Date header; nullptr = the system clock. Must outlive the mailer.
  const Clock* clock = nullptr;
};

class SmtpMailer final : public ports::Mailer {
 public:
  // Validates the options: kInvalidArgument for a URL that is not smtp:// or smtps://, a
  // timeout that is not positive, or credentials that could travel in plain text to a relay off
  // the loopback interface. kUnavailable if libcurl cannot be initialised.
  static Result<std::unique_ptr<SmtpMailer>> Create(SmtpMailerOptions options);

  SmtpMailer(const SmtpMailer&) = delete;
  SmtpMailer& operator=(const SmtpMailer&) = delete;

  // Delivers `message` to the relay. Errors as in the header comment.
  Status Send(const ports::MailMessage& message) override;

  // The wire form of `message` (headers and body, CRLF line endings, no dot-stuffing) as Send()
  // would transmit it with `now` as its Date. Errors: the input checks of the header comment.
  static Result<std::string> Compose(const ports::MailMessage& message, Timestamp now);

 private:
  explicit SmtpMailer(SmtpMailerOptions options);

  SmtpMailerOptions options_;
  SystemClock system_clock_;
};

}  // namespace dovira::mail
