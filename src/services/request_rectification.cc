// Rectification (R45-R48): the corrected values written, the block lifted, every store and
// recipient told.
#include "services/requests.h"

#include "services/request_internal.h"
#include "services/request_texts.h"

namespace dovira::services {

using namespace request_internal;  // NOLINT(google-build-using-namespace)
using domain::RequestState;

Result<RequestInfo> RequestService::CompleteRectification(SchoolRuntime& rt, RequestInfo r,
                                                          const CompleteRequest& in, const Actor& actor,
                                                          const RequestContext& ctx) {
  const SchoolId& school = rt.id();
  const Timestamp now = deps_.clock.Now();
  auto cp = rt.policy();
  ports::WriteBatch batch;
  if (in.changes.empty()) {
    return Error::Invalid("changes are required: the corrected value of each field", "changes");
  }
  for (const auto& [field, value] : in.changes) {
    if (!r.fields.empty() && !Contains(r.fields, field)) {
      return Error::Refused("field_not_in_request",
                            "the request does not name \"" + field + "\"", "changes");
    }
  }
  Status st = subjects_.PrepareFieldUpdate(school, SubjectId(r.subject), in.changes, now, batch);
  if (!st.ok()) return st.error();
  std::vector<std::string> changed;
  for (const auto& [field, value] : in.changes) changed.push_back(field);
  {
    // The change itself is audited as the cabinet's own edits are ("update", naming the fields,
    // never the values), by the staff member who carried out the request.
    AuditEvent a;
    a.actor = actor.AuditName();
    a.role = actor.role;
    a.action = "update";
    auto pseudonym = audit_.Pseudonym(school, SubjectId(r.subject));
    if (pseudonym.ok()) a.subject_ref = *pseudonym;
    a.fields = JoinIds(changed);
    a.outcome = "ok";
    a.reason = r.type;
    a.decision_id = r.id;
    a.request_id = ctx.request_id;
    audit_.Add(batch, school, std::move(a));
  }
  r.blocked.clear();  // R46: the block lifts with the correction
  for (const auto& store : cp->stores()) {
    r.tasks.push_back(RequestTask{"store:" + store, "rectify", "done", now, ""});
  }
  // R48: every recipient that received a corrected field is told, with the new value where
  // the policy allows.
  if (auto sent = NotifyRecipients(batch, school, r, "rectification", changed, in.changes, actor,
                                   ctx);
      !sent.ok()) {
    return sent.error();
  }
  if (auto s = Notify(batch, school, r, "action_notice", ""); !s.ok()) return s.error();
  auto closed = Close(school, std::move(r), RequestState::kDone, "rectified", "{}", actor, ctx,
                      std::move(batch));
  if (closed.ok()) subjects_.ForgetRecords(school, SubjectId(closed->subject));
  return closed;
}

Result<RequestInfo> RequestService::LiftBlock(const SchoolId& school, const std::string& id,
                                              const std::string& reason, const Actor& actor,
                                              const RequestContext& ctx) {
  if (reason.empty()) {
    return Error::Refused("reason_required",
                          "lifting a block early needs the reason why blocking would harm the "
                          "subject or third parties",
                          "reason");
  }
  if (reason.size() > 10000) {
    return Error::Refused("reason_too_long", "reason is longer than 10000 bytes", "reason");
  }
  auto rt = schools_.Get(school);
  if (!rt.ok()) return rt.error();
  std::lock_guard<std::mutex> lock(SchoolMutex(school));
  auto r = Load(school, id);
  if (!r.ok()) return r.error();
  if (auto st = MustBeOpen(*r); !st.ok()) return st.error();
  const policy::Right* right = (*rt)->policy()->policy().FindRight(r->right);
  if (r->blocked.empty()) {
    return Error::Refused("block_not_liftable", "the request blocks nothing", "request");
  }
  if (right == nullptr || right->block_exception != "harms_subject_or_third_parties") {
    return Error::Refused("block_not_liftable",
                          "the policy lets no block be lifted before the correction", "request");
  }
  Json detail = {{"fields", r->blocked}, {"ground", right->block_exception}};
  r->blocked.clear();
  ports::WriteBatch batch;
  if (auto st = Stage(batch, school, *r, "block_lifted", Dump(detail), actor, ctx, reason);
      !st.ok()) {
    return st.error();
  }
  if (auto st = Commit(school, *r, std::move(batch)); !st.ok()) return st.error();
  return r;
}

}  // namespace dovira::services
