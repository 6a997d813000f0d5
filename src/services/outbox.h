// The outbox (R36, R47, R48): every message to a subject, a staff member or a recipient is first
// written to the store, sealed with the school's KEK, in the same batch as the action it reports,
// so a message is never lost and never sent for an action that did not commit. A delivery job
// sends due messages through the mail and webhook ports, retries transient failures with
// exponential back-off (1 minute, 4, 16, ... at most 6 hours apart; given up after 8 attempts),
// and empties a message's sealed content once it is sent, keeping its metadata and send time.
// What becomes of a message in the end (sent, or given up on) is handed to the settled hook, so
// that the service that queued it can act on the outcome (R54: a transfer to a subject's
// destination).
//
// Thread-safety: safe for concurrent use; DeliverDue runs one delivery at a time.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ports/mailer.h"
#include "services/context.h"
#include "services/schools.h"

namespace dovira::services {

struct OutMessage {
  std::string request;            // the request it belongs to, or ""
  std::string channel = "email";  // email | webhook
  std::string kind;  // received, answer, identity_code, action_notice, rejected, warning, ...
  std::string lang;
  std::vector<std::string> to;  // e-mail addresses
  std::string url;              // webhook URL
  std::string subject;
  std::string text;             // the e-mail body, or the webhook's JSON body
  std::vector<ports::MailAttachment> attachments;
  std::optional<Timestamp> due;  // when it must be sent by (R47), if the policy sets a term
};

// An e-mail of `kind` (a letter of i18n/mail) in `lang` to `to`, its subject and body rendered
// with `vars`; the caller sets what else it needs (request, due, attachments) before Add.
OutMessage Letter(const std::string& kind, const std::string& lang, const std::string& to,
                  const std::map<std::string, std::string>& vars);

struct OutboxEntry {
  std::string id;
  std::string request;
  std::string channel;
  std::string kind;
  std::string state;  // pending | sent | failed
  int attempts = 0;
  Timestamp created_at{};
  std::optional<Timestamp> sent_at;
  std::optional<Timestamp> due;
  std::optional<Timestamp> overdue_at;  // R68: when the deadline job found it unsent past `due`
  int64_t late_by_days = 0;             // R68: sent this many local days after `due`
  std::string last_error;
};

class Outbox {
 public:
  // `mailer` and `webhooks` may be null: messages then wait in the outbox until a deployment with
  // them configured delivers them. Every e-mail of a school comes from one sender (R36,
  // SenderOf in request_texts.h): the school's mailbox named in its policy, else
  // `fallback_from`, with the school's name as the display name, and ends with the school's
  // signature.
  Outbox(Deps deps, ports::Mailer* mailer, ports::WebhookSender* webhooks,
         std::string fallback_from, const Schools& schools);

  // Adds the message to `batch`, sealed, with its sender and the school's signature; returns its
  // id. kInvalidArgument for a message without a recipient; kNotFound for an unknown school.
  Result<std::string> Add(ports::WriteBatch& batch, const SchoolId& school,
                          const OutMessage& message);

  struct Report {
    int sent = 0;
    int retried = 0;
    int failed = 0;
  };
  // Sends every message due now (by the injected clock).
  Result<Report> DeliverDue();

  // R47, R68: marks every message of `school` still unsent at `now` past its due time overdue,
  // once each. For each one `commit` receives the row with the mark and must commit it together
  // with what else the mark brings (the alert, the request's timeline). Runs under the delivery
  // lock, so a message being sent is never written back as pending. Returns how many were marked;
  // stops at the first error of `commit` or the store.
  Result<int> MarkOverdue(const SchoolId& school, Timestamp now,
                          const std::function<Status(ports::OutboxRow marked)>& commit);

  Result<std::vector<OutboxEntry>> ForRequest(const SchoolId& school, const std::string& request);

  // A message the delivery job is done with: `state` is "sent" or "failed" (a permanent error,
  // or kMaxAttempts attempts used); `content` is what was (or would have been) sent: a webhook's
  // JSON body or an e-mail's text ("" when the sealed content could not be opened).
  struct Settled {
    SchoolId school;
    std::string message, request, channel, kind, state, error, content;
  };
  // Called by DeliverDue for each message that reaches its final state, with `batch` holding that
  // state (the message's row). A hook that acts on the outcome stages its own rows into `batch`
  // and commits it itself (under its own locks), leaving it empty; otherwise DeliverDue commits
  // it. Either way the message's final state and what follows from it commit together or not at
  // all. An error leaves the message as it was (it is tried again at the next run, and a sent one
  // sent again), so the hook must tolerate being called twice for one message. One hook; set it
  // before the first delivery, clear it (nullptr) before its owner goes.
  using SettledHook = std::function<Status(const Settled&, ports::WriteBatch& batch)>;
  void SetSettledHook(SettledHook hook);

  static constexpr int kMaxAttempts = 8;

 private:
  // R68: a message sent after its due time records by how many local days.
  void RecordLateness(ports::OutboxRow& row) const;

  Deps deps_;
  ports::Mailer* mailer_;
  ports::WebhookSender* webhooks_;
  std::string fallback_from_;
  const Schools& schools_;
  std::mutex deliver_mu_;
  SettledHook settled_;  // guarded by deliver_mu_
};

}  // namespace dovira::services
