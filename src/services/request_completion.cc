// A request's steps after filing: completion (each right's own completion lives in its module:
// request_access.cc, request_rectification.cc, request_erasure.cc, request_withdrawal.cc,
// request_restriction.cc, request_decisions.cc), refusal, extension, assignment, comments and
// the per-store and per-recipient tasks (B03).
#include "services/requests.h"

#include <algorithm>

#include "calendar/term.h"
#include "services/request_internal.h"
#include "services/request_texts.h"

namespace dovira::services {

using namespace request_internal;  // NOLINT(google-build-using-namespace)
using domain::RequestState;

Result<RequestInfo> RequestService::Complete(const SchoolId& school, const std::string& id,
                                             const CompleteRequest& in, const Actor& actor,
                                             const RequestContext& ctx) {
  std::unique_lock<std::mutex> lock(SchoolMutex(school));
  auto loaded = Load(school, id);
  if (!loaded.ok()) return loaded.error();
  RequestInfo r = std::move(*loaded);
  if (auto st = MustBeOpen(r); !st.ok()) return st.error();
  if (r.state == domain::RequestStateName(RequestState::kAwaitingIdentity)) {
    return Error::Conflict("identity_unverified", "confirm the requester's identity first");
  }
  if (r.state == domain::RequestStateName(RequestState::kAwaitingEvidence)) {
    return Error::Conflict("evidence_missing", "the subject has not supplied the evidence (R46)");
  }
  auto rt = schools_.Get(school);
  if (!rt.ok()) return rt.error();
  const std::string right = r.right;
  if (right == "access" || right == "information" || right == "transfer_info" ||
      right == "portability") {
    return CompleteWithPackage(**rt, std::move(r), in, actor, ctx);
  }
  if (right == "rectification") return CompleteRectification(**rt, std::move(r), in, actor, ctx);
  if (right == "erasure" || right == "unlawful_processing") {
    return CompleteErasure(**rt, std::move(r), in, actor, ctx, lock);
  }
  if (right == "withdrawal") return CompleteWithdrawal(**rt, std::move(r), in, actor, ctx, lock);
  if (right == "restriction") return CompleteRestriction(**rt, std::move(r), in, actor, ctx);
  if (right == "objection") return CompleteObjection(**rt, std::move(r), in, actor, ctx);
  if (right == "automated_decision_review" || right == "complaint") {
    return CompleteReview(**rt, std::move(r), in, actor, ctx);
  }
  ports::WriteBatch batch;
  if (auto st = Notify(batch, school, r, "answer", in.note); !st.ok()) return st.error();
  return Close(school, std::move(r), RequestState::kDone, "done", "{}", actor, ctx,
               std::move(batch));
}

Result<RequestInfo> RequestService::Reject(const SchoolId& school, const std::string& id,
                                           const std::string& reason, const Actor& actor,
                                           const RequestContext& ctx) {
  if (reason.empty()) {
    return Error{ErrorCode::kInvalidArgument, "reason is required", "reason", "reason_required"};
  }
  std::lock_guard<std::mutex> lock(SchoolMutex(school));
  auto r = Load(school, id);
  if (!r.ok()) return r.error();
  if (auto st = MustBeOpen(*r); !st.ok()) return st.error();
  r->reason = reason;
  // A refused request leaves no block or pending mark behind.
  r->blocked.clear();
  r->restricted.clear();
  r->restrict_all = false;
  r->objection_pending.clear();
  ports::WriteBatch batch;
  if (auto st = Notify(batch, school, *r, "rejected", ""); !st.ok()) return st.error();
  return Close(school, std::move(*r), RequestState::kRejected, "rejected", "{}", actor, ctx,
               std::move(batch));
}

Result<RequestInfo> RequestService::Extend(const SchoolId& school, const std::string& id,
                                           const std::string& reason, const std::string& basis,
                                           const std::string& term_text, const Actor& actor,
                                           const RequestContext& ctx) {
  if (reason.empty()) {
    return Error::Refused("reason_required", "an extension needs a reason", "reason")
        .With("variant", "extension");
  }
  if (basis.empty()) return Error::Refused("basis_required", "an extension needs a legal basis", "basis");
  auto term = calendar::ParseTerm(term_text);
  if (!term.ok()) return Error::Invalid("term: " + term.error().message, "term");
  std::lock_guard<std::mutex> lock(SchoolMutex(school));
  auto r = Load(school, id);
  if (!r.ok()) return r.error();
  if (auto st = MustBeOpen(*r); !st.ok()) return st.error();
  auto rt = schools_.Get(school);
  if (!rt.ok()) return rt.error();
  auto due = domain::DueAt((*rt)->policy()->calendar(), r->due_at, *term);
  if (!due.ok()) return Error::Invalid("term: " + due.error().message, "term");
  if (*due <= r->due_at) return Error::Refused("term_not_later", "the new due date is not later", "term");
  r->extensions.push_back(RequestInfo::Extension{reason, basis, r->due_at, *due});
  r->due_at = *due;
  r->overdue = deps_.clock.Now() > *due && r->overdue;
  ports::WriteBatch batch;
  Json detail = {{"basis", basis}, {"due_at", FormatTimestamp(*due)}};
  if (auto st = Stage(batch, school, *r, "extended", Dump(detail), actor, ctx, reason); !st.ok()) {
    return st.error();
  }
  if (auto st = Commit(school, *r, std::move(batch)); !st.ok()) return st.error();
  return r;
}

Result<RequestInfo> RequestService::Assign(const SchoolId& school, const std::string& id,
                                           const StaffId& staff, const Actor& actor,
                                           const RequestContext& ctx) {
  auto member = deps_.store.GetStaff(school, staff);
  if (!member.ok()) return member.error();
  if (!*member || (*member)->left_at) {
    return Error{ErrorCode::kNotFound, "no such staff member", "staff", "staff_unknown"};
  }
  std::lock_guard<std::mutex> lock(SchoolMutex(school));
  auto r = Load(school, id);
  if (!r.ok()) return r.error();
  if (auto st = MustBeOpen(*r); !st.ok()) return st.error();
  r->assignee = staff.value();
  ports::WriteBatch batch;
  if (auto st = Stage(batch, school, *r, "assigned", Dump({{"staff", staff.value()}}), actor, ctx);
      !st.ok()) {
    return st.error();
  }
  if (auto st = Commit(school, *r, std::move(batch)); !st.ok()) return st.error();
  return r;
}

Result<RequestInfo> RequestService::Comment(const SchoolId& school, const std::string& id,
                                            const std::string& text, const Actor& actor,
                                            const RequestContext& ctx) {
  if (text.empty()) return Error::Invalid("text is required", "text");
  if (text.size() > 10000) return Error::Invalid("text is longer than 10000 bytes", "text");
  std::lock_guard<std::mutex> lock(SchoolMutex(school));
  auto r = Load(school, id);
  if (!r.ok()) return r.error();
  ports::WriteBatch batch;
  if (auto st = Stage(batch, school, *r, "comment", "{}", actor, ctx, text); !st.ok()) {
    return st.error();
  }
  if (auto st = Commit(school, *r, std::move(batch)); !st.ok()) return st.error();
  return r;
}

Result<RequestInfo> RequestService::ConfirmTask(const SchoolId& school, const std::string& id,
                                                const std::string& target, bool ok,
                                                const std::string& note, const Actor& actor,
                                                const RequestContext& ctx) {
  std::lock_guard<std::mutex> lock(SchoolMutex(school));
  auto r = Load(school, id);
  if (!r.ok()) return r.error();
  auto it = std::find_if(r->tasks.begin(), r->tasks.end(),
                         [&](const RequestTask& t) { return t.target == target; });
  if (it == r->tasks.end()) {
    return Error{ErrorCode::kNotFound, "the request has no task for " + target, "target",
                 "task_unknown"};
  }
  const Timestamp now = deps_.clock.Now();
  it->state = ok ? "done" : "failed";
  it->at = now;
  it->note = note;
  // R54: staff delivered the transfer by other means.
  if (ok && target == "recipient:destination") r->outcome = "transferred";
  const bool all = std::all_of(r->tasks.begin(), r->tasks.end(),
                               [](const RequestTask& t) { return t.state == "done"; });
  // B03: a request is done only when every store and recipient confirmed. A failure reported
  // after it was done reopens it as partly done, an obligation the deadline job still watches;
  // the last confirmation closes it again, and its lateness counts from then (R68).
  const auto state = domain::ParseRequestState(r->state);
  if (state && !all && *state == RequestState::kDone) {
    r->state = domain::RequestStateName(RequestState::kPartlyDone);
  } else if (state && all && *state == RequestState::kPartlyDone) {
    auto rt = schools_.Get(school);
    if (!rt.ok()) return rt.error();
    r->state = domain::RequestStateName(RequestState::kDone);
    r->closed_at = now;
    r->late_by_days = domain::LateByDays((*rt)->policy()->calendar(), r->due_at, now);
  }
  ports::WriteBatch batch;
  if (auto st = Stage(batch, school, *r, ok ? "task_done" : "task_failed",
                      Dump({{"target", target}}), actor, ctx, note);
      !st.ok()) {
    return st.error();
  }
  if (auto st = Commit(school, *r, std::move(batch)); !st.ok()) return st.error();
  return r;
}

}  // namespace dovira::services
