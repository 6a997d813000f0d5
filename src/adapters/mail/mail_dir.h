// The file implementation of the outbound mail port (ports::Mailer), for demos and for schools
// that hand their mail to another program: each Send() writes the message as one RFC 5322 file,
// DIR/<UTC time>-<message id>.eml, with exactly the headers and MIME body the SMTP adapter sends
// (SmtpMailer::Compose: CRLF line endings, base64 parts, RFC 2047 headers).
//
// A message appears in the directory whole or not at all: it is written to a hidden temporary
// file in the same directory (".<name>.<pid>.<n>.tmp"), fsynced, renamed into place, and the
// directory is fsynced, so a reader that takes only names ending in ".eml" never sees a partial
// message, and a message reported sent survives a crash. Files are created with mode 0600: they
// hold personal data.
//
// Errors follow the port's contract: the input checks of SmtpMailer::Compose come first
// (kInvalidArgument, nothing is written). Any failure of the file system (the directory removed,
// not writable, the disk full) is kUnavailable, so the outbox retries it with back-off like an
// unreachable relay, and no temporary file is left behind.
//
// Each written message is logged at info level (spdlog) as one JSON line naming the recipients,
// the subject and the file.
//
// Thread-safety: a MailDirMailer is immutable after Create(); Send() may be called concurrently
// (each call writes its own temporary file).
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "common/clock.h"
#include "common/result.h"
#include "ports/mailer.h"

namespace dovira::mail {

struct MailDirOptions {
  std::string dir;  // an existing directory this process may write to
  // The source of the Date header and the file name's time; nullptr = the system clock. Must
  // outlive the mailer.
  const Clock* clock = nullptr;
};

class MailDirMailer final : public ports::Mailer {
 public:
  // kInvalidArgument (field "mail_dir") when the path is empty, does not exist, is not a
  // directory, or cannot be written by this process.
  static Result<std::unique_ptr<MailDirMailer>> Create(MailDirOptions options);

  MailDirMailer(const MailDirMailer&) = delete;
  MailDirMailer& operator=(const MailDirMailer&) = delete;

  // Writes `message` into the directory. Errors as in the header comment.
  Status Send(const ports::MailMessage& message) override;

  // The name the file of `message` gets when written at `now`: "20250303T100000.000000Z-" and
  // the message id without its angle brackets, every character other than letters, digits,
  // '.', '-', '_' and '@' replaced by '_' (never starting with '.').
  static std::string FileName(const ports::MailMessage& message, Timestamp now);

  const std::string& dir() const { return options_.dir; }

 private:
  explicit MailDirMailer(MailDirOptions options);

  MailDirOptions options_;
  SystemClock system_clock_;
  mutable std::atomic<unsigned long> sequence_{0};
};

}  // namespace dovira::mail
