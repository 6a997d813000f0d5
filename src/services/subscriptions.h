// Double opt-in of mailing subscriptions (R15, R54; issue 12). A consent given on a public
// subscription form (IsSubscriptionForm) with an e-mail address that grants marketing purposes
// does not grant them at submission: the
// intake records the consent's other grants, and SubscriptionService::Hold keeps the marketing
// grants aside and e-mails the address one letter with a single-use link (a random token known
// to the store only by its hash, valid for kLinkLifetime). Nothing else is written to the address
// and the gate refuses those purposes until the link is confirmed; Confirm then appends the grant
// to the consent ledger with the confirmation as its evidence (when the consent was given, when
// and from where it was confirmed), writes an audit entry and opens the gate. The link leads to a
// page that confirms with a POST, so a mail scanner that follows links confirms nothing.
//
// Thread-safety: safe for concurrent use; two confirmations of one link serialise on a mutex.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "services/audit_log.h"
#include "services/context.h"
#include "services/outbox.h"
#include "services/schools.h"
#include "services/subjects.h"

namespace dovira::services {

struct SubscriptionConfirmed {
  SubjectId subject;
  std::vector<std::string> purposes;  // the marketing purposes now granted
  ConsentReceipt consent;
  Timestamp confirmed_at{};
};

class SubscriptionService {
 public:
  // `link_base` gives the public address of the web pages ("https://privacy.school.example"),
  // asked when a letter is written.
  SubscriptionService(Deps deps, Schools& schools, AuditLog& audit, Outbox& outbox,
                      std::function<std::string()> link_base);

  static constexpr std::chrono::hours kLinkLifetime{24 * 7};

  // A subscription form: its subject kind is named by a marketing purpose and by no purpose based
  // on a contract (or on steps before one), so its subjects enter no contract with the school and
  // nothing but the double opt-in shows that the address given is theirs (001's "subscription";
  // not a purchase or an application, where the contract's own letters go to the address).
  static bool IsSubscriptionForm(const policy::Policy& policy, const std::string& form);

  // The grants among `grants` that wait for a double opt-in: the policy's marketing purposes.
  static std::vector<std::string> HeldGrants(const domain::CompiledPolicy& policy,
                                             const std::vector<std::string>& grants);

  // Holds `consent` (the grant of the held purposes alone, as the intake would have recorded it
  // for `subject`, named in the audit log by `pseudonym`) until the link mailed to `email`
  // confirms it: adds the pending confirmation, the confirmation letter in `consent.lang` and the
  // audit entry "subscription.confirmation_sent" to `batch`.
  Status Hold(ports::WriteBatch& batch, const SchoolId& school, const ports::ConsentRow& consent,
              const std::string& pseudonym, const std::string& email, const RequestContext& ctx);

  // Confirms the subscription of the link's token. Errors (reason): kNotFound "link_unknown"
  // (no such link, or one of another school), kConflict "link_used" (already confirmed),
  // kRefused "link_expired"; each message in `lang`. A confirmed link stays confirmed.
  Result<SubscriptionConfirmed> Confirm(const SchoolId& school, const std::string& token,
                                        const std::string& lang, const RequestContext& ctx);

 private:
  Deps deps_;
  Schools& schools_;
  AuditLog& audit_;
  Outbox& outbox_;
  std::function<std::string()> link_base_;
  std::mutex confirm_mu_;
};

}  // namespace dovira::services
