// Depersonalised data sets (R74, R34): `dovira anonymise` and `POST
// /v1/schools/{school}/anonymised-datasets` produce, for a purpose the policy's [anonymisation]
// section names, a table of the school's records with no direct identifier and no key back, the
// quasi-identifiers generalised until every group holds at least k records (anon/anonymiser.h),
// and a report of the re-identification risk.
//
// Which fields leave is the policy's: only the section's quasi-identifiers (with the fields that
// stand for them at coarser levels), its sensitive field and its attributes, none of which the
// checker lets be a direct identifier (policy::Policy::IsDirectIdentifier) or free text. Which
// subjects take part is the gate's: each subject is decided for the purpose (consent, objection,
// restriction, retention, minors) and left out, counted by reason, when refused. The run is one
// audit entry "anonymise.run" with the counts and the risk; no entry names a subject, so the
// audit log holds no list of whom a data set was made from.
//
// Thread-safety: safe for concurrent use.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "anon/anonymiser.h"
#include "policy/model.h"
#include "services/audit_log.h"
#include "services/context.h"
#include "services/schools.h"
#include "services/subjects.h"

namespace dovira::services {

struct AnonymiseRequest {
  std::string purpose;
};

struct AnonymisedDataSet {
  std::string id;  // "ads_..."; the decision id of the audit entry
  std::string purpose;
  std::string csv;  // anon::ToCsv
  anon::Report report;
  size_t subjects = 0;                      // subjects of the school decided
  std::map<std::string, size_t> excluded;   // left out by the gate, by its reason
  std::vector<std::string> fields;          // the policy fields the data set was made from
  // The report as JSON: the figures of anon::Report, the levels chosen, subjects and exclusions.
  std::string ReportJson() const;
};

// Pure: the data set [anonymisation] makes of one record per subject (field id → value), as of
// `today` ("YYYY-MM-DD", for ages). Every field the section does not name is dropped; a missing
// or unreadable value is "unknown" at every level. Error (kFailedPrecondition) when the policy
// declares no [anonymisation].
Result<anon::Dataset> BuildDataset(const policy::Policy& policy,
                                   const std::vector<std::map<std::string, std::string>>& records,
                                   std::string_view today);
// The settings of [anonymisation] as the algorithm takes them.
anon::Config ConfigOf(const policy::Anonymisation& section);
// The fields a data set reads: quasi-identifiers, their stand-ins, the sensitive field, the
// attributes.
std::vector<std::string> DataSetFields(const policy::Anonymisation& section);

class AnonymisationService {
 public:
  AnonymisationService(Deps deps, Schools& schools, SubjectService& subjects, AuditLog& audit);

  // Errors: kInvalidArgument naming "purpose" when it is missing; kRefused
  // "anonymisation_undeclared" when the policy has no [anonymisation], "purpose_not_anonymisable"
  // (field "purpose") when the section does not name the purpose, "k_unreachable" when the
  // records cannot reach k (the run is audited as refused); kPermissionDenied with the actor's
  // own refusal (an API key's purposes, a briefing, the role); kUnavailable when the store fails
  // or the audit entry cannot be written (nothing is returned then).
  Result<AnonymisedDataSet> Produce(const SchoolId& school, const AnonymiseRequest& request,
                                    const Actor& actor, const RequestContext& ctx);

 private:
  Deps deps_;
  Schools& schools_;
  SubjectService& subjects_;
  AuditLog& audit_;
};

}  // namespace dovira::services
