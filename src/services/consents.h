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
  // Only these of the consent type's grants (a marketing opt-in, R20); empty: every grant.
  std::vector<std::string> purposes;
};

struct WithdrawRequest {
  SubjectId subject;
  std::vector<std::string> consent_types;  // empty: every consent of the subject
  std::vector<std::string> purposes;       // only these purposes (e.g. marketing only, R20)
  std::string channel;                     // support, email, personal_account, ...
  std::optional<Timestamp> received_at;    // receipt on the original channel (R35, R55)
};

// One marketing purpose of the policy as the subject's preferences show it (R20, R53, R102).
struct MarketingPreference {
  std::string purpose, title, description;
  std::vector<std::string> channels;  // the purpose's channels (email, sms, phone, post, ...)
  std::string consent_type;           // the consent an opt-in records; "" when none can be given
  std::string consent_title;
  // in: the gate allows the purpose now; out: the consent was withdrawn or expired; never: no
  // consent was given; stopped: the gate refuses for another reason (an objection upheld,
  // a restriction, a minor, ...), given in `reason`.
  std::string state;
  std::string reason;                // the gate's reason code for a message to the subject
  bool consent_active = false;       // a grant in force that an opt-out withdraws
  std::optional<Timestamp> since;    // the latest grant or withdrawal touching the purpose
  std::string text;                  // the wording an opt-in records, in the language asked for
  std::string withdrawal_procedure;  // the consent's own procedure (R19)
};

struct MarketingPreferences {
  std::string model;           // the policy's marketing model: opt_in | opt_out | none
  std::string policy_version;  // the version an opt-in is recorded under
  bool granular_optout = false;
  std::vector<MarketingPreference> purposes;
};

// Rebuilds the subject's gate windows from its stored consent ledger.
Status RefreshConsentWindows(ports::Store& store, SchoolRuntime& school, const SubjectId& subject);

class ConsentService {
 public:
  ConsentService(Deps deps, Schools& schools, SubjectService& subjects, AuditLog& audit);

  // Errors: "consent_unknown", "text_required", "channel_invalid", "evidence_required" (the
  // consent type needs a document, R18), "time_in_future", "grant_not_in_consent" (a purpose the
  // consent type does not grant), kNotFound "subject_unknown". A consent type that names its
  // channels is given only through them, except that a grant of marketing purposes alone may be
  // given in the personal account where the policy lets marketing be dropped alone
  // (marketing.granular_optout): what can be dropped there can be taken back there.
  Result<ConsentReceipt> Grant(const SchoolId& school, const GrantRequest& request,
                               const Actor& actor, const RequestContext& ctx);
  // Adds a withdrawal row for every consent (or purpose) that is active; returns them. Nothing
  // active → "nothing_to_withdraw".
  Result<std::vector<ConsentReceipt>> Withdraw(const SchoolId& school,
                                               const WithdrawRequest& request, const Actor& actor,
                                               const RequestContext& ctx);
  // The policy's marketing purposes that apply to the subject's kind, each with its state as the
  // gate sees it now (operation "message"), the consent an opt-in records and its wording in
  // `lang`. Audited as "consent.list" by the actor. kNotFound "subject_unknown".
  Result<MarketingPreferences> Marketing(const SchoolId& school, const SubjectId& subject,
                                         const std::string& lang, const Actor& actor,
                                         const RequestContext& ctx);
  // Opt in: a grant of the marketing purpose alone, of the consent type the preferences name,
  // with the wording they show, in `lang`, through the personal account. kRefused
  // "purpose_not_marketing", "marketing_consent_unavailable" (no consent type grants it);
  // kConflict "already_opted_in", "objection_upheld" (an upheld objection keeps it stopped),
  // "marketing_stopped" (another reason the gate refuses that no consent lifts: a restriction,
  // the subject's age; nothing is recorded).
  Result<ConsentReceipt> MarketingOptIn(const SchoolId& school, const SubjectId& subject,
                                        const std::string& purpose, const std::string& lang,
                                        const Actor& actor, const RequestContext& ctx);
  // Opt out: the purpose's grants withdrawn at once, in every consent that grants it; the gate
  // refuses the purpose from this instant (R53). kRefused "purpose_not_marketing"; kConflict
  // "already_opted_out".
  Result<std::vector<ConsentReceipt>> MarketingOptOut(const SchoolId& school,
                                                      const SubjectId& subject,
                                                      const std::string& purpose,
                                                      const Actor& actor,
                                                      const RequestContext& ctx);
  Result<std::vector<ports::ConsentRow>> Ledger(const SchoolId& school, const SubjectId& subject,
                                                const Actor& actor, const RequestContext& ctx);

 private:
  Result<MarketingPreferences> Preferences(const SchoolRuntime& school, const SubjectId& subject,
                                           const std::string& lang);
  // Rebuilds the subject's gate windows from the stored ledger.
  Status Refresh(SchoolRuntime& school, const SubjectId& subject);

  Deps deps_;
  Schools& schools_;
  SubjectService& subjects_;
  AuditLog& audit_;
};

}  // namespace dovira::services
