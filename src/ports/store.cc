#include "ports/store.h"

#include <future>
#include <set>

namespace dovira::ports {

bool WriteBatch::empty() const {
  return gate_checks.empty() && subject_keys.empty() && destroyed_keys.empty() && schools.empty() &&
         policy_versions.empty() && subjects.empty() && records.empty() &&
         deleted_records.empty() && erased_subjects.empty() && consents.empty() &&
         lookups.empty() && audit.empty() && checkpoints.empty() && staff.empty() &&
         sessions.empty() && deleted_sessions.empty() && api_keys.empty() &&
         requests.empty() && request_events.empty() && outbox.empty() && tombstones.empty() &&
         audit_anchors.empty() &&
         cookie_consents.empty() && subject_sessions.empty() && deleted_subject_sessions.empty() &&
         subscription_confirmations.empty() &&
         disclosures.empty() && recipient_contacts.empty() && legal_holds.empty() &&
         access_grants.empty() && subject_assignments.empty() && ended_assignments.empty() &&
         access_grants.empty() && review_tasks.empty() &&
         deleted_lookups.empty() && deleted_field_lookups.empty() && guardianships.empty() &&
         subject_events.empty() && retention_due.empty() && deleted_retention_due.empty() &&
         retention_marks.empty() &&
         visits.empty();
}

std::vector<std::pair<SchoolId, SubjectId>> GateSubjects(const WriteBatch& b) {
  std::set<std::pair<std::string, std::string>> seen;
  auto add = [&](const SchoolId& school, const SubjectId& subject) {
    if (!subject.value().empty()) seen.emplace(school.value(), subject.value());
  };
  for (const auto& r : b.subjects) add(r.school, r.id);
  for (const auto& r : b.consents) add(r.school, r.subject);
  for (const auto& r : b.requests) add(r.school, SubjectId(r.subject));
  for (const auto& r : b.guardianships) add(r.school, r.minor);
  for (const auto& r : b.retention_due) add(r.school, r.subject);
  for (const auto& r : b.deleted_retention_due) add(r.school, r.subject);
  for (const auto& r : b.subject_assignments) add(r.school, r.subject);
  for (const auto& r : b.ended_assignments) add(r.school, r.subject);
  for (const auto& r : b.access_grants) add(r.school, r.subject);
  std::vector<std::pair<SchoolId, SubjectId>> out;
  out.reserve(seen.size());
  for (const auto& [school, subject] : seen) out.emplace_back(SchoolId(school), SubjectId(subject));
  return out;
}

Error GateStale(const SubjectId& subject) {
  return Error{ErrorCode::kConflict,
               "the subject " + subject.value() + " changed since the decision was made",
               "subject", kGateStale};
}

Status Store::Commit(WriteBatch batch) {
  std::promise<Status> done;
  auto result = done.get_future();
  Submit(std::move(batch), [&done](Status s) { done.set_value(std::move(s)); });
  return result.get();
}

}  // namespace dovira::ports
