// Guardianships (R24, B06): a minor's legal representative, the proof of their permission and its
// end, and the minor's own re-consent on coming of age.
//
// - Intake (SubjectService::Intake) records the representative a minor names: relation and date of
//   permission in the clear, name and e-mail sealed with the minor's data key, the e-mail found by
//   its lookup token, the day of majority (from a birth date or a stated date_of_majority) as the
//   first instant of that day in the school's time zone. It starts `unverified`.
// - Verification is one of two kinds: the representative signs in to the personal cabinet with the
//   code e-mailed to the address on file (`email_code`, VerifyByEmail inside the sign-in's batch),
//   or staff record the document they checked (`document`, VerifyByDocument).
// - A guardian signed in with that address may act for each linked minor until the minor's
//   majority (Link); every action is audited as "guardian:<guardianship>" on the minor.
// - On the day of majority (RunMajorities, run with the deadline job) the now-adult is asked to
//   re-consent where the policy says so (`minors.reconsent_at_majority`): the guardianship's
//   re-consent turns `pending`, the subject is e-mailed in their language, and the gate refuses
//   consent-based processing with 423 `reconsent_required` from the first instant of that day
//   (SubjectState::reconsent_from_us) until the subject confirms (Confirm: a new grant per consent
//   in force, given by the subject) or withdraws (MarkWithdrawn, after the withdrawal request).
//
// Errors: kNotFound "guardianship_unknown" / "subject_unknown"; kDenied "not_linked" (the address
// is not the minor's representative), "guardian_access_ended" (the minor came of age);
// kConflict "reconsent_not_pending"; kInvalidArgument naming the field.
//
// Thread-safety: safe for concurrent use.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "services/audit_log.h"
#include "services/context.h"
#include "services/outbox.h"
#include "services/schools.h"
#include "services/subjects.h"

namespace dovira::services {

// A guardianship as staff and the cabinet see it. `name` and `email` are filled only where the
// caller may see them (the representative's own cabinet; staff read them through the gate).
struct GuardianshipInfo {
  std::string id;
  SubjectId minor;
  std::string relation;
  std::string permission_at;  // YYYY-MM-DD
  std::string state;          // unverified | verified
  std::string method;         // "" | email_code | document
  std::string document;       // the reference of the document checked (method document)
  std::optional<Timestamp> verified_at;
  std::string verified_by;
  std::optional<Timestamp> majority_at;
  std::string majority_on;    // YYYY-MM-DD in the school's time zone, "" when not known
  bool active = false;        // the guardian may still act (the minor is not yet of age)
  std::string reconsent;      // "" | pending | confirmed | withdrawn
  std::optional<Timestamp> reconsent_at, decided_at;
};

// One person a signed-in guardian may act for.
struct GuardianLink {
  GuardianshipInfo guardianship;
  std::string name;  // the minor's name as on file (first and last name fields), "" when none
};

struct MajorityReport {
  int reconsent_opened = 0;  // subjects asked to re-consent
};

// The minor's re-consent as the cabinet shows it to them.
struct ReconsentState {
  std::string state;  // "" (nothing asked) | pending | confirmed | withdrawn
  std::optional<Timestamp> since;
};

// What a stored guardianship says, at `now` (whether the guardian may still act).
GuardianshipInfo GuardianshipInfoOf(const domain::CompiledPolicy& cp,
                                    const ports::GuardianshipRow& row, Timestamp now);

// The evidence JSON a consent given by a guardian carries: who (by guardianship id and relation),
// how the permission was checked, and until when it holds. No personal data.
std::string RepresentativeEvidence(const GuardianshipInfo& g);

class GuardianService {
 public:
  GuardianService(Deps deps, Schools& schools, SubjectService& subjects, AuditLog& audit,
                  Outbox& outbox);

  // One subject's reconsent_from_us from the store, into `state`.
  Status LoadSubjectGate(SchoolRuntime& school, const SubjectId& subject,
                         domain::SubjectState& state);

  // A minor's guardianships (staff), oldest first. Audited as a metadata read.
  Result<std::vector<GuardianshipInfo>> ForMinor(const SchoolId& school, const SubjectId& minor,
                                                 const Actor& actor, const RequestContext& ctx);
  // Staff record the document they checked (`document`: its reference, required).
  Result<GuardianshipInfo> VerifyByDocument(const SchoolId& school, const std::string& id,
                                            const std::string& document, const Actor& actor,
                                            const RequestContext& ctx);
  // Marks every unverified guardianship of the address (by lookup token) verified by the e-mailed
  // code, adding the rows and their audit entries to `batch` (the sign-in's).
  Status VerifyByEmail(const SchoolId& school, const std::string& email_token,
                       ports::WriteBatch& batch);
  // True when the address (by lookup token) is some minor's representative.
  Result<bool> IsRepresentative(const SchoolId& school, const std::string& email_token);
  // The minors the address may act for now (majority not yet reached), with their names.
  Result<std::vector<GuardianLink>> Links(const SchoolId& school, const std::string& email_token);
  // The guardianship under which the address may act for `minor` now; kDenied "not_linked" or
  // "guardian_access_ended".
  Result<GuardianshipInfo> Link(const SchoolId& school, const std::string& email_token,
                                const SubjectId& minor);
  // The representative's e-mail address on file (answers to requests a guardian files, R35).
  Result<std::string> RepresentativeEmail(const SchoolId& school, const std::string& id);

  // The majority job: opens the re-consent of every minor whose majority has come.
  Result<MajorityReport> RunMajorities(const SchoolId& school, const RequestContext& ctx);

  Result<ReconsentState> Reconsent(const SchoolId& school, const SubjectId& subject);
  // The now-adult confirms: a new grant, given by the subject, for every consent in force; the
  // gate lets consent-based processing go on. kConflict "reconsent_not_pending".
  Result<std::vector<ConsentReceipt>> Confirm(const SchoolId& school, const SubjectId& subject,
                                              const std::string& channel, const std::string& lang,
                                              const Actor& actor, const RequestContext& ctx);
  // The now-adult withdrew (the withdrawal itself is a request, R55): the re-consent is closed.
  Status MarkWithdrawn(const SchoolId& school, const SubjectId& subject, const Actor& actor,
                       const RequestContext& ctx);

 private:
  Result<ports::GuardianshipRow> PendingRow(const SchoolId& school, const SubjectId& subject);
  Status Refresh(SchoolRuntime& school, const SubjectId& subject);

  Deps deps_;
  Schools& schools_;
  SubjectService& subjects_;
  AuditLog& audit_;
  Outbox& outbox_;
};

// The guardianship row for a minor's intake: relation, date of permission and document in `body`,
// name and e-mail sealed with the minor's data key. `email_token` is "" without an e-mail.
ports::GuardianshipRow NewGuardianship(ports::Crypto& crypto, const ports::SecretKey& minor_key,
                                       const SchoolId& school, const SubjectId& minor,
                                       const domain::Representative& rep,
                                       const std::string& email_token,
                                       std::optional<Timestamp> majority_at,
                                       const std::string& document, Timestamp now);

}  // namespace dovira::services
