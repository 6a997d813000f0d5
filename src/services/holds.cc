#include "services/holds.h"

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

#include "calendar/date.h"
#include "services/privileged.h"

namespace dovira::services {
namespace {

using Json = nlohmann::json;

std::string Dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

constexpr size_t kMaxReason = 500;

}  // namespace

LegalHoldService::LegalHoldService(Deps deps, Schools& schools, AuditLog& audit)
    : deps_(deps), schools_(schools), audit_(audit) {}

Result<std::string> LegalHoldService::Today(const SchoolId& school) {
  auto rt = schools_.Get(school);
  if (!rt.ok()) return rt.error();
  const auto& cal = (*rt)->policy()->calendar();
  return calendar::FormatDate(
      cal.LocalDate(std::chrono::floor<std::chrono::seconds>(deps_.clock.Now())));
}

std::set<std::string> LegalHoldService::HeldFields(const std::vector<ports::LegalHoldRow>& holds) {
  std::set<std::string> out;
  for (const auto& h : holds) out.insert(h.fields.begin(), h.fields.end());
  return out;
}

void LegalHoldService::Stage(ports::WriteBatch& batch, const ports::LegalHoldRow& hold,
                             const std::string& event, const Actor& actor,
                             const RequestContext& ctx) {
  batch.legal_holds.push_back(hold);
  AuditEvent a;
  a.actor = actor.AuditName();
  a.role = actor.role;
  a.action = "legal_hold." + event;
  auto pseudonym = audit_.Pseudonym(hold.school, hold.subject);
  if (pseudonym.ok()) a.subject_ref = *pseudonym;
  a.fields = JoinIds(hold.fields);
  a.outcome = "ok";
  a.reason = hold.basis;
  a.decision_id = hold.id;
  a.request_id = ctx.request_id;
  Json detail = {{"hold", hold.id},     {"state", hold.state},           {"until", hold.until},
                 {"basis", hold.basis}, {"categories", hold.categories}, {"request", hold.request}};
  if (!hold.close_reason.empty()) detail["close_reason"] = hold.close_reason;
  a.detail = Dump(detail);
  audit_.Add(batch, hold.school, std::move(a));
}

Result<ports::LegalHoldRow> LegalHoldService::Place(const SchoolId& school, const PlaceHold& in,
                                                    const Actor& actor, const RequestContext& ctx) {
  auto rt = schools_.Get(school);
  if (!rt.ok()) return rt.error();
  Status privileged = RequirePrivilegedStaff(*(*rt)->policy(), actor, "legal holds are recorded");
  if (!privileged.ok()) return privileged.error();
  auto cp = (*rt)->policy();
  const policy::Policy& p = cp->policy();

  auto subject = deps_.store.GetSubject(school, in.subject);
  if (!subject.ok()) return subject.error();
  if (!*subject)
    return Error{ErrorCode::kNotFound, "no such subject", "subject", "subject_unknown"};

  // What is held: the named fields, and the subject's fields in the named categories.
  if (in.fields.empty() && in.categories.empty()) {
    return Error::Refused("fields_required", "name the fields or the categories to hold", "fields");
  }
  for (const auto& f : in.fields) {
    if (cp->FieldIndex(f) < 0) {
      return Error::Refused("field_undeclared",
                            "the policy declares no field \"" + f.substr(0, 64) + "\"", "fields");
    }
  }
  for (const auto& c : in.categories) {
    if (p.categories.find(c) == p.categories.end()) {
      return Error::Refused("category_undeclared",
                            "the policy declares no category \"" + c.substr(0, 64) + "\"",
                            "categories");
    }
  }
  auto records = deps_.store.GetRecords(school, in.subject);
  if (!records.ok()) return records.error();
  std::set<std::string> has;  // the fields the subject has data in
  for (const auto& r : *records) has.insert(r.field);
  std::set<std::string> held;
  for (const auto& f : in.fields) {
    if (has.count(f) == 0) {
      return Error::Refused("field_not_held",
                            "the subject has no data in field \"" + f + "\" to hold", "fields");
    }
    held.insert(f);
  }
  for (const auto& c : in.categories) {
    bool any = false;
    for (const auto& f : has) {
      const int fi = cp->FieldIndex(f);
      if (fi >= 0 && cp->field(static_cast<size_t>(fi)).category == c) {
        held.insert(f);
        any = true;
      }
    }
    if (!any) {
      return Error::Refused("category_not_held",
                            "the subject has no data in category \"" + c + "\" to hold",
                            "categories");
    }
  }

  if (in.reason.empty()) {
    return Error::Refused("reason_required", "a hold needs its reason", "reason");
  }
  if (in.reason.size() > kMaxReason) {
    return Error::Refused("reason_too_long", "the reason is longer than 500 bytes", "reason");
  }
  if (auto law = LawOf(p, in.basis, "basis"); !law.ok()) return law.error();
  auto until = calendar::ParseDate(in.until);
  if (in.until.size() != 10 || !until.ok()) {
    return Error::Refused("until_invalid", "until must be a date, YYYY-MM-DD", "until");
  }
  auto today = Today(school);
  if (!today.ok()) return today.error();
  const std::string last = calendar::FormatDate(*until);
  if (last < *today) {
    return Error::Refused(
        "until_in_past",
        "until (" + last + ") is before today (" + *today + ") in the school's time zone", "until");
  }

  ports::LegalHoldRow row;
  row.school = school;
  row.id = "hold_" + deps_.crypto.NewId();
  row.subject = in.subject;
  row.fields.assign(held.begin(), held.end());
  row.categories = in.categories;
  row.reason = in.reason;
  row.basis = in.basis;
  row.until = last;
  row.state = "active";
  row.notify_subject = in.notify_subject;
  row.created_at = deps_.clock.Now();
  row.created_by = actor.AuditName();
  // A subject whose erasure is already deferred: the new hold defers the same request.
  auto holds = deps_.store.ListLegalHolds(school, in.subject);
  if (!holds.ok()) return holds.error();
  for (const auto& h : *holds) {
    if (h.state == "active" && !h.request.empty()) row.request = h.request;
  }
  ports::WriteBatch batch;
  Stage(batch, row, "place", actor, ctx);
  if (Status st = deps_.store.Commit(std::move(batch)); !st.ok()) return st.error();
  return row;
}

Result<std::vector<ports::LegalHoldRow>> LegalHoldService::List(const SchoolId& school,
                                                                const SubjectId& subject) {
  auto row = deps_.store.GetSubject(school, subject);
  if (!row.ok()) return row.error();
  if (!*row) return Error{ErrorCode::kNotFound, "no such subject", "subject", "subject_unknown"};
  return deps_.store.ListLegalHolds(school, subject);
}

Result<std::vector<ports::LegalHoldRow>> LegalHoldService::InForce(const SchoolId& school,
                                                                   const SubjectId& subject) {
  auto today = Today(school);
  if (!today.ok()) return today.error();
  auto holds = deps_.store.ListLegalHolds(school, subject);
  if (!holds.ok()) return holds.error();
  std::vector<ports::LegalHoldRow> out;
  for (auto& h : *holds) {
    if (InForceOn(h, *today)) out.push_back(std::move(h));
  }
  return out;
}

Result<ports::LegalHoldRow> LegalHoldService::Release(const SchoolId& school,
                                                      const SubjectId& subject,
                                                      const std::string& id,
                                                      const std::string& reason, const Actor& actor,
                                                      const RequestContext& ctx) {
  auto rt = schools_.Get(school);
  if (!rt.ok()) return rt.error();
  Status privileged = RequirePrivilegedStaff(*(*rt)->policy(), actor, "legal holds are recorded");
  if (!privileged.ok()) return privileged.error();
  if (reason.empty()) {
    return Error::Refused("reason_required", "releasing a hold early needs its reason", "reason");
  }
  if (reason.size() > kMaxReason) {
    return Error::Refused("reason_too_long", "the reason is longer than 500 bytes", "reason");
  }
  auto hold = deps_.store.GetLegalHold(school, id);
  if (!hold.ok()) return hold.error();
  if (!*hold || (*hold)->subject != subject) {
    return Error{ErrorCode::kNotFound, "the subject has no such hold", "hold", "hold_unknown"};
  }
  ports::LegalHoldRow row = std::move(**hold);
  auto today = Today(school);
  if (!today.ok()) return today.error();
  if (!InForceOn(row, *today)) {
    return Error::Conflict(
        "hold_not_active",
        "the hold is already " + (row.state == "active" ? std::string("over") : row.state));
  }
  const Timestamp now = deps_.clock.Now();
  row.state = "released";
  row.closed_at = now;
  row.closed_by = actor.AuditName();
  row.close_reason = reason;
  if (row.request.empty()) row.settled_at = now;  // nothing was deferred under it
  ports::WriteBatch batch;
  Stage(batch, row, "release", actor, ctx);
  if (Status st = deps_.store.Commit(std::move(batch)); !st.ok()) return st.error();
  return row;
}

Result<const policy::Law*> LegalHoldService::LawOf(const policy::Policy& p,
                                                   const std::string& basis,
                                                   const std::string& field) {
  std::string laws;
  for (const auto& l : p.laws) {
    if (l.id == basis) return &l;
    laws += (laws.empty() ? "" : ", ") + l.id;
  }
  return Error::Refused("basis_unknown",
                        field + " must be a law the policy declares ([[laws]]: " + laws + ")",
                        field);
}

std::string LegalHoldService::LawTitle(const policy::Law& law, const std::string& lang) {
  std::string title = law.title.Get(lang);
  if (!law.citation.empty()) title += " (" + law.citation + ")";
  return title;
}

}  // namespace dovira::services
