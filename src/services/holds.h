// Legal holds (R50, R57, IC-004-4): where the law permits or requires keeping data (a retention
// term set by law, legal claims, continued use "in cases permitted by law"), staff with a
// privileged role record a hold on some of a subject's fields: the reason, the law it rests on (a
// [[laws]] id of the policy) and the last day it lasts, in the school's time zone. A hold changes
// nothing by itself: the data stay ordinary data. It defers erasure: an erasure request, or a
// withdrawal whose consequence is destruction, erases every field that is not held and keeps the
// held ones restricted to storage (RequestService); the retention job erases them once the hold
// ends or is released early, and finishes the erasure (key destroyed, tombstone) when nothing of
// the subject is left.
//
// Every change to a hold (placed, released, ended, its deferred erasure carried out) is an upsert
// of its row together with an audit entry naming the subject by pseudonym.
//
// Thread-safety: safe for concurrent use.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "services/audit_log.h"
#include "services/context.h"
#include "services/schools.h"

namespace dovira::services {

struct PlaceHold {
  SubjectId subject{""};
  std::vector<std::string> fields;      // field ids, or
  std::vector<std::string> categories;  // category ids (their fields the subject has)
  std::string reason;
  std::string basis;            // a [[laws]] id of the policy
  std::string until;            // YYYY-MM-DD, the hold's last day; not before today
  bool notify_subject = false;  // tell the subject when the deferred erasure is carried out
};

class LegalHoldService {
 public:
  LegalHoldService(Deps deps, Schools& schools, AuditLog& audit);

  // Records a hold. kDenied "role_denied" unless the actor is staff with a privileged role of the
  // policy; kNotFound "subject_unknown"; kRefused (422) naming the field for: no fields or
  // categories, an undeclared field or category, a field the subject has no data in, an empty or
  // over-long reason, a basis that is not a law of the policy, an `until` that is not a date
  // (kInvalid) or lies before today.
  Result<ports::LegalHoldRow> Place(const SchoolId& school, const PlaceHold& hold,
                                    const Actor& actor, const RequestContext& ctx);
  // Every hold of the subject, in any state, oldest first.
  Result<std::vector<ports::LegalHoldRow>> List(const SchoolId& school, const SubjectId& subject);
  // Ends an active hold before its last day, with a recorded reason. Same role rule as Place;
  // kNotFound "hold_unknown"; kConflict "hold_not_active"; kRefused "reason_required". A hold
  // that deferred an erasure is left unsettled: the retention job carries the erasure out.
  Result<ports::LegalHoldRow> Release(const SchoolId& school, const SubjectId& subject,
                                      const std::string& id, const std::string& reason,
                                      const Actor& actor, const RequestContext& ctx);

  // The holds of the subject in force now: active, with a last day not before today.
  Result<std::vector<ports::LegalHoldRow>> InForce(const SchoolId& school,
                                                   const SubjectId& subject);
  // Today's date (YYYY-MM-DD) in the school's time zone.
  Result<std::string> Today(const SchoolId& school);
  static bool InForceOn(const ports::LegalHoldRow& hold, const std::string& today) {
    return hold.state == "active" && hold.until >= today;
  }
  // The law of the policy ([[laws]]) with the id `basis`: the one rule for every legal basis of
  // keeping data (a hold's `basis`, a withdrawal's `storage_basis`). kRefused "basis_unknown"
  // naming `field` (422) when the policy declares no such law; the message lists the ids.
  static Result<const policy::Law*> LawOf(const policy::Policy& p, const std::string& basis,
                                          const std::string& field);
  // The law's title in `lang` with its citation, as a letter or a page names it.
  static std::string LawTitle(const policy::Law& law, const std::string& lang);
  // The union of the holds' fields.
  static std::set<std::string> HeldFields(const std::vector<ports::LegalHoldRow>& holds);

  // Adds `hold` (changed) and its audit entry ("legal_hold.<event>") to `batch`.
  void Stage(ports::WriteBatch& batch, const ports::LegalHoldRow& hold, const std::string& event,
             const Actor& actor, const RequestContext& ctx);

 private:

  Deps deps_;
  Schools& schools_;
  AuditLog& audit_;
};

}  // namespace dovira::services
