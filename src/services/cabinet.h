// The personal cabinet's server side: a subject signs in with a one-time code e-mailed to the
// address on file, then sees everything stored about them (R38), edits and deletes what they
// provided (R44) and takes their data away in a machine-readable form (R54). Rights requests
// filed from the cabinet go through RequestService with the subject as the actor (identity
// "signed_in", R37).
//
// A sign-in answers alike whether or not the address is on file, so the endpoint does not tell
// who studies at the school. A completed sign-in is a use of the school's services: it is
// recorded as the subject's `last_use` retention event, from which an inactivity term counts
// (R71). A code allows five tries and lives fifteen minutes; a session lives
// twelve hours and dies with the subject (erasure deletes it in the same batch).
//
// Thread-safety: safe for concurrent use.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "services/audit_log.h"
#include "services/guardians.h"
#include "services/context.h"
#include "services/outbox.h"
#include "services/schools.h"
#include "services/subjects.h"

namespace dovira::services {

class RetentionService;

struct SubjectSession {
  SchoolId school;
  // Whom the session acts on: the signed-in person, or the linked minor a guardian acts for. ""
  // for a guardian with no data of their own who has not chosen a minor.
  SubjectId subject;
  SubjectId self;            // the signed-in person's own subject id, "" when they have none
  std::string email_token;   // lookup token of the address signed in with
  std::string guardianship;  // set while acting for a minor (B06)
  std::string csrf_token;
  Timestamp expires_at{};
  bool acting_for_minor() const { return !guardianship.empty(); }
  // A subject actor; while acting for a minor, named "guardian:<guardianship>" in the audit.
  Actor ToActor() const;
};

struct SubjectSignIn {
  std::string token;  // the cookie value; only its hash is stored
  SubjectSession session;
};

// One field the subject holds, as the cabinet shows it (copies in several stores are one entry).
struct CabinetField {
  std::string field, category, value, source, channel, form;
  std::vector<std::string> stores;
  Timestamp collected_at{};
  bool provided = false;  // the subject (or the client on their behalf) gave it: editable (R44)
};

class CabinetService {
 public:
  CabinetService(Deps deps, Schools& schools, SubjectService& subjects, AuditLog& audit,
                 Outbox& outbox, GuardianService& guardians, RetentionService& retention);

  // Starts a sign-in. Returns the login id the code must be entered with; e-mails the code only
  // when `email` belongs to a subject of the school or to a minor's representative (B06).
  Result<std::string> BeginSignIn(const SchoolId& school, const std::string& email,
                                  const std::string& lang, const RequestContext& ctx);
  // kDenied "code_invalid" (wrong, expired or used up; the message says which it was not). The
  // signed-in subject's last use is recorded first (RetentionService::RecordEvent, audited); if
  // that fails, so does the sign-in.
  Result<SubjectSignIn> CompleteSignIn(const SchoolId& school, const std::string& login_id,
                                       const std::string& code, const RequestContext& ctx);
  // kUnauthenticated "session_invalid" when unknown, expired or the subject is gone. A session
  // acting for a minor who has since come of age (or was erased) acts for the signed-in person
  // again: the guardian loses access at the minor's majority.
  Result<SubjectSession> Authenticate(const std::string& token);
  // B06: act for a linked minor (`minor` a subject id) or for oneself again (`minor` ""). kDenied
  // "not_linked" / "guardian_access_ended"; kRefused "no_own_data" for "" when the guardian holds
  // no data of their own. Audited on the minor.
  Result<SubjectSession> ActFor(const std::string& token, const std::string& minor,
                                const RequestContext& ctx);
  Status SignOut(const std::string& token, const RequestContext& ctx);

  // Every field the subject holds, opened, one entry per field (R38). Audited as a read by the
  // subject.
  Result<std::vector<CabinetField>> Fields(const SubjectSession& session,
                                           const RequestContext& ctx);

  // R44: new values for fields the subject provided. kRefused "field_not_provided" for a field
  // the school obtained elsewhere, "field_not_held" for one the subject has no value of.
  Status UpdateFields(const SubjectSession& session,
                      const std::map<std::string, std::string>& values, const RequestContext& ctx);
  // R44, R73: deletes every stored copy of a field the subject provided. kRefused
  // "field_required" when a purpose the subject is in cannot do without it.
  Status DeleteField(const SubjectSession& session, const std::string& field,
                     const RequestContext& ctx);
  // R44 (004 §9.3, §9.6): attaches the subject's additional statement to a field they have on
  // file (replacing an earlier one on that field). kInvalidArgument naming "text" when it is empty
  // or longer than 2000 characters; kRefused "field_undeclared" or "field_not_held" naming "field".
  Result<FieldStatement> AttachStatement(const SubjectSession& session, const std::string& field,
                                         const std::string& text, const RequestContext& ctx);

  // R54: the fields the subject provided, as JSON following schema/export-v1.json, or as CSV
  // (one row per field). Audited as an export.
  Result<std::string> Export(const SubjectSession& session, const std::string& format,
                             const RequestContext& ctx);

 private:
  Result<std::vector<CabinetField>> Collect(const SchoolId& school, const SubjectId& subject);
  void Audit(ports::WriteBatch& batch, const SubjectSession& session, const std::string& action,
             const std::string& fields, const std::string& reason, const RequestContext& ctx);

  Deps deps_;
  Schools& schools_;
  SubjectService& subjects_;
  AuditLog& audit_;
  Outbox& outbox_;
  GuardianService& guardians_;
  RetentionService& retention_;
};

// RFC 4180 CSV of an export: a UTF-8 byte-order mark, then field,category,value,collected_at,
// channel,form. Values are written exactly as stored (a portability file is the person's own data,
// so no formula guard alters a "+380..." phone).
std::string ExportCsv(const std::vector<CabinetField>& fields);

}  // namespace dovira::services
