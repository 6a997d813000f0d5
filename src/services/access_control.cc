#include "services/access_control.h"

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "domain/intake.h"
#include "services/privileged.h"
#include "services/request_texts.h"

namespace dovira::services {
namespace {

using Json = nlohmann::ordered_json;

constexpr size_t kMaxReason = 1000;
constexpr size_t kMaxReference = 200;

int64_t Us(Timestamp t) { return t.time_since_epoch().count(); }

// What a role of the policy reaches: its categories and the purposes it may state (a role that
// lists none may state any purpose its categories allow). Nothing for a role the policy lacks.
void FillReach(const policy::Policy& p, const std::string& role_id, AccessHolder& h) {
  auto role = p.roles.find(role_id);
  h.role = role_id;
  if (role == p.roles.end()) return;
  h.role_declared = true;
  h.privileged = role->second.privileged;
  h.organisation_kind = role->second.organisation;
  h.categories = role->second.categories;
  if (role->second.purposes.empty()) {
    for (const auto& [id, purpose] : p.purposes) h.purposes.push_back(id);
  } else {
    h.purposes = role->second.purposes;
  }
}

// The gate's copy of a stored grant; false when the policy no longer knows its purpose.
bool ToGateGrant(const domain::CompiledPolicy& cp, const ports::AccessGrantRow& row,
                 domain::BreakGlassGrant& out) {
  out.id = row.id;
  out.staff = row.staff.value();
  out.subject = row.subject;
  out.purpose = cp.PurposeIndex(row.purpose);
  out.until_us = Us(row.expires_at);
  out.fields = domain::FieldSet();
  for (size_t i = 0; i < cp.field_count(); ++i) {
    if (cp.field(i).category == row.category) out.fields.Set(i);
  }
  return out.purpose >= 0;
}

}  // namespace

AccessControlService::AccessControlService(Deps deps, Schools& schools, AuditLog& audit,
                                           Outbox* outbox)
    : deps_(deps), schools_(schools), audit_(audit), outbox_(outbox) {}

Result<AccessList> AccessControlService::List(const SchoolId& school) {
  auto rt = schools_.Get(school);
  if (!rt.ok()) return rt.error();
  auto cp = (*rt)->policy();
  const policy::Policy& p = cp->policy();
  const Timestamp now = deps_.clock.Now();
  auto staff = deps_.store.ListStaff(school);
  if (!staff.ok()) return staff.error();
  auto keys = deps_.store.ListApiKeys(school);
  if (!keys.ok()) return keys.error();
  auto grants = deps_.store.AccessGrantsEndingAfter(school, now);
  if (!grants.ok()) return grants.error();

  AccessList out;
  out.generated_at = now;
  for (const auto& s : *staff) {
    if (s.left_at) continue;  // a leaver's sessions and keys are revoked (R87)
    AccessHolder h;
    h.kind = "staff";
    h.id = s.id.value();
    h.name = s.name;
    h.email = s.email;
    h.briefed = s.briefing_completed_at.has_value();
    FillReach(p, s.role, h);
    h.organisation = s.organisation;
    if (h.organisation_kind != "staff") {
      h.assigned_subjects = (*rt)->assignments().Of(s.organisation).size();
    }
    for (const auto& g : *grants) {
      if (g.staff == s.id && g.granted_at <= now) h.break_glass.push_back(g);
    }
    out.holders.push_back(std::move(h));
  }
  for (const auto& k : *keys) {
    if (k.revoked_at) continue;
    AccessHolder h;
    h.kind = "api_key";
    h.id = k.id.value();
    h.name = k.name;
    h.briefed = true;
    FillReach(p, k.role, h);
    // A key states only its own purposes, and only those its role allows.
    std::vector<std::string> own;
    for (const auto& purpose : k.purposes) {
      if (std::find(h.purposes.begin(), h.purposes.end(), purpose) != h.purposes.end()) {
        own.push_back(purpose);
      }
    }
    h.purposes = std::move(own);
    out.holders.push_back(std::move(h));
  }
  for (const auto& entry : p.categories) {
    const std::string& id = entry.first;  // a plain name: lambdas below capture it
    AccessList::Category c;
    c.id = id;
    for (size_t i = 0; i < out.holders.size(); ++i) {
      const AccessHolder& h = out.holders[i];
      const bool by_role =
          !h.purposes.empty() &&
          std::find(h.categories.begin(), h.categories.end(), id) != h.categories.end();
      const bool by_grant = std::any_of(h.break_glass.begin(), h.break_glass.end(),
                                        [&](const auto& g) { return g.category == id; });
      if (by_role || by_grant) c.reached_by.push_back({i, !by_role});
    }
    out.categories.push_back(std::move(c));
  }
  return out;
}

Result<ports::AccessGrantRow> AccessControlService::BreakGlass(const SchoolId& school,
                                                               const BreakGlassRequest& in,
                                                               const Actor& actor,
                                                               const RequestContext& ctx) {
  auto rt = schools_.Get(school);
  if (!rt.ok()) return rt.error();
  auto cp = (*rt)->policy();
  Status privileged = RequirePrivilegedStaff(*cp, actor, "a break-glass grant is given");
  if (!privileged.ok()) return privileged.error();
  const policy::Policy& p = cp->policy();

  if (in.staff.value().empty()) {
    return Error::Refused("staff_required", "name the staff account to let in", "staff");
  }
  if (p.categories.find(in.category) == p.categories.end()) {
    return Error::Refused("category_undeclared",
                          "the policy declares no category \"" + in.category.substr(0, 64) + "\"",
                          "category");
  }
  const int purpose = cp->PurposeIndex(in.purpose);
  if (purpose < 0) {
    return Error::Refused("purpose_undeclared",
                          "the policy declares no purpose \"" + in.purpose.substr(0, 64) + "\"",
                          "purpose");
  }
  ports::AccessGrantRow row;
  row.category = in.category;
  domain::BreakGlassGrant gate_grant;
  ToGateGrant(*cp, row, gate_grant);
  if (!gate_grant.fields.Intersects(cp->purpose(static_cast<size_t>(purpose)).fields)) {
    return Error::Refused("category_not_in_purpose",
                          "the purpose uses no field of the category \"" + in.category + "\"",
                          "category");
  }
  if (in.reason.empty()) {
    return Error::Refused("reason_required", "a break-glass grant needs its reason", "reason");
  }
  if (in.reason.size() > kMaxReason) {
    return Error::Refused("reason_too_long", "the reason is longer than 1000 bytes", "reason");
  }
  if (in.hours < 1 || in.hours > kMaxBreakGlassHours) {
    return Error::Refused("hours_invalid", "hours must be a whole number from 1 to 24", "hours")
        .With("limit", std::to_string(kMaxBreakGlassHours));
  }
  auto staff = deps_.store.GetStaff(school, in.staff);
  if (!staff.ok()) return staff.error();
  if (!*staff) {
    return Error{ErrorCode::kNotFound, "no such staff member in this school", "staff",
                 "staff_unknown"};
  }
  if ((*staff)->left_at) {
    return Error::Denied("account_left", "this person has left and can no longer sign in");
  }
  auto subject = deps_.store.GetSubject(school, in.subject);
  if (!subject.ok()) return subject.error();
  if (!*subject) {
    return Error{ErrorCode::kNotFound, "no such subject", "subject", "subject_unknown"};
  }

  const Timestamp now = deps_.clock.Now();
  row.school = school;
  row.id = "bg_" + deps_.crypto.NewId();
  row.staff = in.staff;
  row.subject = in.subject;
  row.purpose = in.purpose;
  row.reason = in.reason;
  row.granted_by = actor.AuditName();
  row.granted_at = now;
  row.expires_at = now + std::chrono::hours(in.hours);

  ports::WriteBatch batch;
  batch.power_safe = true;
  batch.access_grants.push_back(row);
  auto pn = audit_.Pseudonym(school, in.subject);
  if (!pn.ok()) return pn.error();
  AuditEvent e;
  e.actor = actor.AuditName();
  e.role = actor.role;
  e.action = "access.break_glass";
  e.subject_ref = *pn;
  e.purpose = in.purpose;
  e.outcome = "ok";
  e.decision_id = row.id;
  e.request_id = ctx.request_id;
  e.detail = Json{{"staff", in.staff.value()},
                  {"role", (*staff)->role},
                  {"category", in.category},
                  {"hours", in.hours},
                  {"expires_at", FormatTimestamp(row.expires_at)}}
                 .dump();
  audit_.Add(batch, school, std::move(e));

  // The responsible person learns of every grant at once (004 §6.4, §12.1).
  const auto officer = domain::NormaliseEmail(p.officers.responsible_person.email);
  if (outbox_ != nullptr && officer) {
    const std::string lang = MessageLang(p.school.authoritative_language);
    std::string by = actor.AuditName();
    auto granter = deps_.store.GetStaff(school, StaffId(actor.id));
    if (granter.ok() && *granter) by = (*granter)->name;
    auto role = p.roles.find((*staff)->role);
    OutMessage msg = Letter(
        "break_glass", lang, *officer,
        {{"staff", (*staff)->name},
         {"role", role == p.roles.end() ? (*staff)->role : role->second.title.Get(lang)},
         {"category", p.categories.at(in.category).title.Get(lang)},
         {"purpose", PurposeTitles(p, {in.purpose}, lang)},
         {"reason", in.reason},
         {"until", LetterDateTime(cp->calendar(), row.expires_at, lang)},
         {"by", by}});
    auto added = outbox_->Add(batch, school, msg);
    if (!added.ok()) return added.error();
  }
  if (Status st = deps_.store.Commit(std::move(batch)); !st.ok()) return st.error();
  ToGateGrant(*cp, row, gate_grant);
  (*rt)->grants().Add(std::move(gate_grant), Us(now));
  return row;
}

Status AccessControlService::LoadGrants(SchoolRuntime& school) {
  auto cp = school.policy();
  const Timestamp now = deps_.clock.Now();
  auto rows = deps_.store.AccessGrantsEndingAfter(school.id(), now);
  if (!rows.ok()) return rows.error();
  for (const auto& row : *rows) {
    domain::BreakGlassGrant g;
    if (ToGateGrant(*cp, row, g)) school.grants().Add(std::move(g), Us(now));
  }
  auto assigned = deps_.store.ListSubjectAssignments(school.id());
  if (!assigned.ok()) return assigned.error();
  for (const auto& a : *assigned) school.assignments().Assign(a.organisation, a.subject);
  return Status::Ok();
}

Status AccessControlService::LoadSubjectAccess(SchoolRuntime& school, const SubjectId& subject) {
  auto cp = school.policy();
  if (!cp) return Error::Unavailable("the school has no policy loaded");
  const Timestamp now = deps_.clock.Now();
  auto rows = deps_.store.AccessGrantsEndingAfter(school.id(), now);
  if (!rows.ok()) return rows.error();
  std::vector<domain::BreakGlassGrant> grants;
  for (const auto& row : *rows) {
    domain::BreakGlassGrant g;
    if (row.subject == subject && ToGateGrant(*cp, row, g)) grants.push_back(std::move(g));
  }
  auto assigned = deps_.store.ListSubjectAssignments(school.id());
  if (!assigned.ok()) return assigned.error();
  std::set<std::string> organisations;
  for (const auto& a : *assigned) {
    if (a.subject == subject) organisations.insert(a.organisation);
  }
  school.grants().ReplaceFor(subject, std::move(grants), Us(now));
  school.assignments().SetFor(subject, organisations);
  return Status::Ok();
}

Result<ports::SubjectAssignmentRow> AccessControlService::Assign(const SchoolId& school,
                                                                 const AssignmentRequest& in,
                                                                 const Actor& actor,
                                                                 const RequestContext& ctx) {
  auto rt = schools_.Get(school);
  if (!rt.ok()) return rt.error();
  auto cp = (*rt)->policy();
  Status privileged = RequirePrivilegedStaff(*cp, actor, "subjects are assigned to organisations");
  if (!privileged.ok()) return privileged.error();
  if (in.organisation.empty()) {
    return Error::Refused("organisation_required", "name the organisation", "organisation");
  }
  if (in.reference.size() > kMaxReference) {
    return Error::Refused("reference_too_long", "the reference is longer than 200 bytes",
                          "reference");
  }
  // Only an organisation whose people hold a scoped role can be given subjects: a typing error
  // would otherwise assign data to nobody, or to a name someone could later take.
  auto staff = deps_.store.ListStaff(school);
  if (!staff.ok()) return staff.error();
  const bool known = std::any_of(staff->begin(), staff->end(), [&](const ports::StaffRow& s) {
    const int r = cp->RoleIndex(s.role);
    return !s.left_at && s.organisation == in.organisation && r >= 0 &&
           cp->role(static_cast<size_t>(r)).scoped;
  });
  if (!known) {
    return Error::Refused("organisation_unknown",
                          "no staff account of an affiliate's or contractor's role names this "
                          "organisation",
                          "organisation");
  }
  auto subject = deps_.store.GetSubject(school, in.subject);
  if (!subject.ok()) return subject.error();
  if (!*subject) {
    return Error{ErrorCode::kNotFound, "no such subject", "subject", "subject_unknown"};
  }
  ports::SubjectAssignmentRow row;
  row.school = school;
  row.organisation = in.organisation;
  row.subject = in.subject;
  row.reference = in.reference;
  row.assigned_by = actor.AuditName();
  row.assigned_at = deps_.clock.Now();
  ports::WriteBatch batch;
  batch.subject_assignments.push_back(row);
  if (Status st = AddAssignmentAudit(school, "access.assign", row, actor, ctx, batch); !st.ok()) {
    return st.error();
  }
  if (Status st = deps_.store.Commit(std::move(batch)); !st.ok()) return st.error();
  (*rt)->assignments().Assign(row.organisation, row.subject);
  return row;
}

Status AccessControlService::Unassign(const SchoolId& school, const std::string& organisation,
                                      const SubjectId& subject, const Actor& actor,
                                      const RequestContext& ctx) {
  auto rt = schools_.Get(school);
  if (!rt.ok()) return rt.error();
  auto cp = (*rt)->policy();
  Status privileged = RequirePrivilegedStaff(*cp, actor, "subjects are assigned to organisations");
  if (!privileged.ok()) return privileged.error();
  if (!(*rt)->assignments().Assigned(organisation, subject)) {
    return Error{ErrorCode::kNotFound, "the subject is not assigned to this organisation", {},
                 "assignment_unknown"};
  }
  ports::SubjectAssignmentRow row;
  row.school = school;
  row.organisation = organisation;
  row.subject = subject;
  ports::WriteBatch batch;
  batch.ended_assignments.push_back(row);
  if (Status st = AddAssignmentAudit(school, "access.unassign", row, actor, ctx, batch);
      !st.ok()) {
    return st;
  }
  // The gate stops reaching the subject before the commit: a read racing the end of an assignment
  // is refused rather than allowed. A failed commit puts the assignment back.
  (*rt)->assignments().Unassign(organisation, subject);
  if (Status st = deps_.store.Commit(std::move(batch)); !st.ok()) {
    (*rt)->assignments().Assign(organisation, subject);
    return st;
  }
  return Status::Ok();
}

Result<std::vector<ports::SubjectAssignmentRow>> AccessControlService::Assignments(
    const SchoolId& school) {
  return deps_.store.ListSubjectAssignments(school);
}

Status AccessControlService::AddAssignmentAudit(const SchoolId& school, const char* action,
                                                const ports::SubjectAssignmentRow& row,
                                                const Actor& actor, const RequestContext& ctx,
                                                ports::WriteBatch& batch) {
  auto pn = audit_.Pseudonym(school, row.subject);
  if (!pn.ok()) return pn.error();
  AuditEvent e;
  e.actor = actor.AuditName();
  e.role = actor.role;
  e.action = action;
  e.subject_ref = *pn;
  e.outcome = "ok";
  e.request_id = ctx.request_id;
  Json d{{"organisation", row.organisation}};
  if (!row.reference.empty()) d["reference"] = row.reference;
  e.detail = d.dump();
  audit_.Add(batch, school, std::move(e));
  return Status::Ok();
}

}  // namespace dovira::services
