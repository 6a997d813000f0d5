// The disclosure log (R76) and what follows from it: every disclosure or transfer of a subject's
// data to a recipient the policy names is recorded with its recipient, date, fields and
// categories, purpose, legal basis and safeguard; the log feeds the recipients part of access
// answers (R42, R43) and the notices to recipients after a rectification, erasure or restriction
// (R48).
//
// Recording checks the disclosure against the policy first (the recipient is one the policy
// names and serves the purpose; the fields exist, belong to the purpose and may go to that
// recipient; the basis and safeguard are the purpose's and recipient's or ones the policy's
// [transfers] allows), then the actor's right to use the purpose through the gate with the
// operation "disclose" (role, consent, blocks, restrictions, objections), and commits the row and
// its audit entry in one batch.
//
// Recipients are told through the outbox: by webhook when staff configured one for the recipient,
// else by e-mail; a recipient with neither is reported back so that the request keeps a task for
// staff to confirm by other means (B03).
//
// Thread-safety: safe for concurrent use.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "services/audit_log.h"
#include "services/context.h"
#include "services/data_access.h"
#include "services/outbox.h"
#include "services/schools.h"

namespace dovira::services {

struct DisclosureInput {
  SubjectId subject;
  std::string recipient;
  std::string purpose;
  std::vector<std::string> fields;
  std::string basis;      // "" = the purpose's basis
  std::string safeguard;  // "" = the recipient's safeguard
  std::string country;    // "" = the recipient's only country, when it names one
  std::optional<Timestamp> at;  // when the data went out; "" = now. Never in the future.
  // R80: a disclosure to a recipient that needs a formal request names it.
  std::string formal_document, formal_issuing_body, formal_basis;
};

// The answer to a recording: the row when the disclosure was allowed and logged, else the gate's
// denial (status 403/423/404 and its reason), which is audited too.
struct DisclosureOutcome {
  bool recorded = false;
  int status = 201;
  std::string reason;
  std::string decision_id;
  ports::DisclosureRow row;
};

struct RecipientContact {
  std::string recipient;
  std::string email;        // "" when none
  std::string webhook_url;  // "" when none
  // R43, R85: where the copy of the standard contractual clauses signed with this recipient is
  // kept (an https link the school controls), "" when none is on file.
  std::string scc_document_url;
  Timestamp updated_at{};
  std::string updated_by;
};

// One recipient told (or to be told) of a change: `channel` is webhook or email, or "" when no
// contact is configured (the message could not be queued).
struct RecipientNotice {
  std::string recipient;
  std::string channel;
  std::string message_id;
  std::vector<std::string> fields;  // the affected fields this recipient received
  std::vector<std::string> with_values;  // the corrected fields whose new value went along
};

class DisclosureService {
 public:
  DisclosureService(Deps deps, Schools& schools, DataAccessService& access, AuditLog& audit,
                    Outbox& outbox);

  Result<DisclosureOutcome> Record(const SchoolId& school, const DisclosureInput& input,
                                   const Actor& actor, const RequestContext& ctx);
  Result<std::vector<ports::DisclosureRow>> List(const SchoolId& school,
                                                 const ports::DisclosureFilter& filter);

  // Staff set how a recipient of the policy is told of changes (an https webhook, or http on
  // loopback; an e-mail address) and where its SCC copy is kept. Replaces the earlier setting; at
  // least one of the three is required.
  Result<RecipientContact> SetContact(const SchoolId& school, const std::string& recipient,
                                      const std::string& email, const std::string& webhook_url,
                                      const std::string& scc_document_url, const Actor& actor,
                                      const RequestContext& ctx);
  Result<std::optional<RecipientContact>> Contact(const SchoolId& school,
                                                  const std::string& recipient);

  // R48 (and the erasure and restriction notices of the same clause): queues into `batch` one
  // message per recipient that received any of `fields` of the subject (every field it received
  // when `fields` is empty). `event` is rectification, erasure or restriction. For a
  // rectification, `corrected` holds the new values: a value goes along only where the policy
  // still allows disclosing that field to that recipient under the purpose it was disclosed for
  // (the gate, with the corrected fields' block lifted), and that sending is logged as a
  // disclosure of its own. Call before the subject's rows are erased.
  Result<std::vector<RecipientNotice>> StageNotices(
      ports::WriteBatch& batch, const SchoolId& school, const SubjectId& subject,
      const std::string& event, const std::vector<std::string>& fields,
      const std::map<std::string, std::string>& corrected, const std::string& request_id,
      const std::string& lang);

 private:
  Deps deps_;
  Schools& schools_;
  DataAccessService& access_;
  AuditLog& audit_;
  Outbox& outbox_;
};

}  // namespace dovira::services
