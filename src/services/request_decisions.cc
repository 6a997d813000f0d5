// Automated decisions and profiling (R60-R62): the decisions register, the segments a subject
// is in, and the human answer to a review, a contested segment or a complaint.
#include "services/requests.h"

#include <set>

#include "services/request_internal.h"
#include "services/request_texts.h"

namespace dovira::services {

using namespace request_internal;  // NOLINT(google-build-using-namespace)
using domain::RequestState;

Result<std::string> RequestService::RecordDecision(const SchoolId& school,
                                                   const Decision& d, const Actor& actor,
                                                   const RequestContext& ctx) {
  auto rt = schools_.Get(school);
  if (!rt.ok()) return rt.error();
  const policy::AutomatedDecisions& ad = (*rt)->policy()->policy().automated_decisions;
  if (d.cls.empty()) return Error::Invalid("class is required", "class");
  if (d.outcome.empty()) return Error::Invalid("outcome is required", "outcome");
  const bool significant = d.cls == "legally_significant" || d.cls == "similarly_significant";
  const bool excepted = Contains(ad.exceptions, d.cls);
  if (!significant && !excepted && d.cls != "no_significant_effect") {
    return Error::Invalid("class must be legally_significant, similarly_significant, "
                          "no_significant_effect or an exception the policy names",
                          "class");
  }
  if (significant && d.decided_by.empty() && !ad.solely_automated_allowed) {
    return Error::Refused("human_decision_required",
                          "a decision with legal or similarly significant effect needs a human "
                          "decision-maker in decided_by (R60)",
                          "decided_by");
  }
  if (!d.decided_by.empty()) {
    auto staff = deps_.store.GetStaff(school, StaffId(d.decided_by));
    if (!staff.ok()) return staff.error();
    if (!*staff || (*staff)->left_at) {
      return Error::Refused("staff_unknown", "decided_by names no current staff member",
                            "decided_by");
    }
  }
  std::string subject_ref;
  if (d.subject) {
    auto row = deps_.store.GetSubject(school, *d.subject);
    if (!row.ok()) return row.error();
    if (!*row) return Error{ErrorCode::kNotFound, "no such subject", "subject", "subject_unknown"};
    auto pseudonym = audit_.Pseudonym(school, *d.subject);
    if (pseudonym.ok()) subject_ref = *pseudonym;
  }
  if (!d.segment.empty()) {
    // R61: placing a subject in a segment is profiling: the policy must declare it, and the
    // gate must allow one of its profiling purposes for this subject now.
    if (auto st = ValidSegment(d.segment); !st.ok()) return st.error();
    if (!d.subject) return Error::Invalid("a segment decision names its subject", "subject");
    if (!ad.profiling || ad.profiling_purposes.empty()) {
      return Error::Refused("profiling_undeclared",
                            "the policy declares no profiling; nobody is placed in segments",
                            "segment");
    }
    auto cp = (*rt)->policy();
    std::string refusal;
    bool allowed = false;
    for (const auto& purpose : ad.profiling_purposes) {
      domain::GateRequest g;
      g.purpose = cp->PurposeIndex(purpose);
      g.operation = domain::Operation::kProfile;
      g.all_fields = true;
      g.now_us = deps_.clock.Now().time_since_epoch().count();
      domain::Decision gd = (*rt)->gate().With(*d.subject, [&](const domain::SubjectState* s) {
        return domain::Decide(cp.get(), s, g);
      });
      if (gd.allowed()) {
        allowed = true;
        break;
      }
      if (refusal.empty()) refusal = domain::ReasonCode(gd.reason);
    }
    if (!allowed) {
      return Error::Denied(refusal, "the gate refuses profiling of this subject: " + refusal);
    }
  }
  const std::string id = "dcs_" + deps_.crypto.NewId();
  AuditEvent a;
  a.actor = actor.AuditName();
  a.role = actor.role;
  a.action = "decision.record";
  a.subject_ref = subject_ref;
  a.outcome = "ok";
  a.reason = d.cls;
  a.decision_id = id;
  a.request_id = ctx.request_id;
  a.detail = Dump({{"class", d.cls},
                   {"decided_by", d.decided_by.empty() ? Json(nullptr) : Json(d.decided_by)},
                   {"model", d.model},
                   {"outcome", d.outcome},
                   {"segment", d.segment.empty() ? Json(nullptr) : Json(d.segment)},
                   {"solely_automated", d.decided_by.empty()}});
  if (auto st = audit_.Record(school, std::move(a)); !st.ok()) return st.error();
  return id;
}

Result<std::vector<std::string>> RequestService::Segments(const SchoolId& school,
                                                         const SubjectId& subject) {
  auto row = deps_.store.GetSubject(school, subject);
  if (!row.ok()) return row.error();
  if (!*row) return Error{ErrorCode::kNotFound, "no such subject", "subject", "subject_unknown"};
  auto pseudonym = audit_.Pseudonym(school, subject);
  if (!pseudonym.ok()) return pseudonym.error();
  std::set<std::string> in;
  int64_t after = 0;
  while (true) {
    auto page = audit_.ForSubject(school, subject, after, 500);
    if (!page.ok()) return page.error();
    for (const auto& a : *page) {
      after = a.seq;
      if (a.action != "decision.record" && a.action != "segment.removed") continue;
      Json detail = Json::parse(a.detail, nullptr, false);
      if (detail.is_discarded() || !detail.contains("segment") || !detail["segment"].is_string()) {
        continue;
      }
      const std::string segment = detail["segment"].get<std::string>();
      if (a.action == "decision.record") {
        in.insert(segment);
      } else {
        in.erase(segment);
      }
    }
    if (page->size() < 500) break;
  }
  return std::vector<std::string>(in.begin(), in.end());
}


Result<RequestInfo> RequestService::CompleteReview(SchoolRuntime& rt, RequestInfo r,
                                                   const CompleteRequest& in, const Actor& actor,
                                                   const RequestContext& ctx) {
  const SchoolId& school = rt.id();
  ports::WriteBatch batch;
  if (in.answer.empty()) {
    return Error::Invalid("answer is required: the written answer sent to the requester",
                          "answer");
  }
  if (actor.kind != Actor::Kind::kStaff) {
    return Error::Denied("staff_only", "a human records this decision (R60, R61)");
  }
  if (r.type == "contest_segment") {
    // R61: the human's decision on the contested segment: "removed" takes the subject out of
    // it (a "segment.removed" entry in the same batch), "kept" leaves them in; either way the
    // decision and the written answer are sent to the subject.
    if (in.decision != "removed" && in.decision != "kept") {
      return Error::Invalid("decision must be removed or kept", "decision");
    }
    r.decision = in.decision;
    if (in.decision == "removed" && !r.subject.empty()) {
      auto pseudonym = audit_.Pseudonym(school, SubjectId(r.subject));
      if (!pseudonym.ok()) return pseudonym.error();
      AuditEvent a;
      a.actor = actor.AuditName();
      a.role = actor.role;
      a.action = "segment.removed";
      a.subject_ref = *pseudonym;
      a.outcome = "ok";
      a.reason = "contest_segment";
      a.request_id = ctx.request_id;
      a.detail = Dump({{"segment", r.segment}, {"request", r.id}, {"decided_by", actor.id}});
      audit_.Add(batch, school, std::move(a));
    }
    if (auto st = Notify(batch, school, r, "segment_decided", in.answer); !st.ok()) {
      return st.error();
    }
    return Close(school, std::move(r), RequestState::kDone, in.decision,
                 Dump({{"decided_by", actor.id},
                       {"decision", in.decision},
                       {"segment", r.segment}}),
                 actor, ctx, std::move(batch));
  }
  r.decision = in.decision;
  if (auto st = Notify(batch, school, r, "answer", in.answer); !st.ok()) return st.error();
  return Close(school, std::move(r), RequestState::kDone, "answered",
               Dump({{"decided_by", actor.id}, {"decision", in.decision}}), actor, ctx,
               std::move(batch));
}

}  // namespace dovira::services
