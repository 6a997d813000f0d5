#include "ports/store.h"

#include <future>

namespace dovira::ports {

bool WriteBatch::empty() const {
  return subject_keys.empty() && destroyed_keys.empty() && schools.empty() &&
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

Status Store::Commit(WriteBatch batch) {
  std::promise<Status> done;
  auto result = done.get_future();
  Submit(std::move(batch), [&done](Status s) { done.set_value(std::move(s)); });
  return result.get();
}

}  // namespace dovira::ports
