// The consent ledger (R15-R21, R55): grants and withdrawals appended per subject, with the exact
// text, its SHA-256, language, channel, policy version and evidence; each change takes effect in
// the gate as soon as it is durable. A withdrawal never edits a grant; it adds a row.
//
// Thread-safety: safe for concurrent use.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "services/audit_log.h"
#include "services/context.h"
#include "services/schools.h"
#include "services/subjects.h"

namespace dovira::services {

struct GrantRequest {
  SubjectId subject;
  std::string consent_type;  // [consents.<id>] of the policy
  std::string text;          // the exact text the person agreed to (required)
  std::string lang = "uk";
  std::string channel;       // how it was given (R18)
  std::string given_by = "subject";  // subject | guardian
  std::string evidence_document;     // a reference to the signed document (written consent)
  std::optional<Timestamp> at;       // when it was given; default now, never in the future
  std::optional<std::string> expires;  // YYYY-MM-DD: a consent term shorter than the policy's (R21)
};

struct WithdrawRequest {
  SubjectId subject;
  std::vector<std::string> consent_types;  // empty: every consent of the subject
  std::vector<std::string> purposes;       // only these purposes (e.g. marketing only, R20)
  std::string channel;                     // support, email, personal_account, ...
  std::optional<Timestamp> received_at;    // receipt on the original channel (R35, R55)
};

class ConsentService {
 public:
  ConsentService(Deps deps, Schools& schools, SubjectService& subjects, AuditLog& audit);

  // Errors: "consent_unknown", "text_required", "channel_invalid", "evidence_required" (the
  // consent type needs a document, R18), "time_in_future", kNotFound "subject_unknown".
  Result<ConsentReceipt> Grant(const SchoolId& school, const GrantRequest& request,
                               const Actor& actor, const RequestContext& ctx);
  // Adds a withdrawal row for every consent (or purpose) that is active; returns them. Nothing
  // active → "nothing_to_withdraw".
  Result<std::vector<ConsentReceipt>> Withdraw(const SchoolId& school,
                                               const WithdrawRequest& request, const Actor& actor,
                                               const RequestContext& ctx);
  Result<std::vector<ports::ConsentRow>> Ledger(const SchoolId& school, const SubjectId& subject,
                                                const Actor& actor, const RequestContext& ctx);

 private:
  // Rebuilds the subject's gate windows from the stored ledger.
  Status Refresh(SchoolRuntime& school, const SubjectId& subject);

  Deps deps_;
  Schools& schools_;
  SubjectService& subjects_;
  AuditLog& audit_;
};

}  // namespace dovira::services
