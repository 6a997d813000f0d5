// Who may reach personal data (R86): the access list on demand, break-glass grants where the law
// provides access beyond a role (004 §6.4), and the subjects assigned to outside organisations
// (002 L60). All for privileged staff sessions only.
#include <algorithm>

#include "api/api.h"
#include "api/call.h"
#include "api/http_util.h"

namespace dovira::api {
namespace {

using ports::HttpResponse;

// {id, title} of each id, the title from the policy in `lang` (the id when the policy lacks it).
template <typename Map>
Json Titled(const Map& declared, const std::vector<std::string>& ids, const std::string& lang) {
  Json out = Json::array();
  for (const auto& id : ids) {
    auto it = declared.find(id);
    out.push_back({{"id", id}, {"title", it == declared.end() ? id : it->second.title.Get(lang)}});
  }
  return out;
}

Json GrantJson(const ports::AccessGrantRow& g) {
  return Json{{"id", g.id},
              {"staff", g.staff.value()},
              {"subject", g.subject.value()},
              {"category", g.category},
              {"purpose", g.purpose},
              {"reason", g.reason},
              {"granted_by", g.granted_by},
              {"granted_at", FormatTimestamp(g.granted_at)},
              {"expires_at", FormatTimestamp(g.expires_at)}};
}

Json AssignmentJson(const ports::SubjectAssignmentRow& a) {
  return Json{{"organisation", a.organisation},
              {"subject", a.subject.value()},
              {"reference", a.reference},
              {"assigned_by", a.assigned_by},
              {"assigned_at", FormatTimestamp(a.assigned_at)}};
}

// The organisation and the subject an assignment route names, both required.
Result<std::pair<std::string, std::string>> AssignmentKey(const Json& body) {
  std::pair<std::string, std::string> out;
  for (auto [key, dst] : {std::pair<const char*, std::string*>{"organisation", &out.first},
                          {"subject", &out.second}}) {
    auto v = OptString(body, key);
    if (!v.ok()) return v.error();
    if (!*v || (*v)->empty()) {
      return Error::Refused("field_required", std::string(key) + " is required", key);
    }
    *dst = **v;
  }
  return out;
}

Json HolderJson(const services::AccessHolder& h, const policy::Policy& p,
                const std::string& lang) {
  auto role = p.roles.find(h.role);
  Json grants = Json::array();
  for (const auto& g : h.break_glass) grants.push_back(GrantJson(g));
  Json out = {{"kind", h.kind},
              {"id", h.id},
              {"name", h.name},
              {"email", h.email.empty() ? Json(nullptr) : Json(h.email)},
              {"organisation", h.organisation_kind},
              {"organisation_name", h.organisation.empty() ? Json(nullptr) : Json(h.organisation)},
              {"assigned_subjects", h.organisation_kind == "staff"
                                        ? Json(nullptr)
                                        : Json(h.assigned_subjects)},
              {"role", {{"id", h.role},
                        {"title", role == p.roles.end() ? h.role : role->second.title.Get(lang)},
                        {"declared", h.role_declared},
                        {"privileged", h.privileged}}},
              {"briefed", h.briefed},
              {"categories", Titled(p.categories, h.categories, lang)},
              {"purposes", Titled(p.purposes, h.purposes, lang)},
              {"break_glass", grants}};
  return out;
}

}  // namespace

void Api::RegisterAccessRoutes() {
  const Json str = {{"type", "string"}};
  const Json any = {{"type", "object"}};
  const Json titled = {{"type", "array"}, {"items", Obj({{"id", str}, {"title", str}})}};
  const Json grant = Obj({{"id", str},
                          {"staff", str},
                          {"subject", str},
                          {"category", str},
                          {"purpose", str},
                          {"reason", str},
                          {"granted_by", str},
                          {"granted_at", str},
                          {"expires_at", str}});
  const Json holder = Obj({{"kind", str},
                           {"id", str},
                           {"name", str},
                           {"email", str},
                           {"organisation", str},
                           {"organisation_name", str},
                           {"assigned_subjects", {{"type", "integer"}}},
                           {"role", any},
                           {"briefed", {{"type", "boolean"}}},
                           {"categories", titled},
                           {"purposes", titled},
                           {"break_glass", {{"type", "array"}, {"items", grant}}}});
  const Json reach =
      Obj({{"kind", str}, {"id", str}, {"name", str}, {"role", str}, {"through", str}});
  const Json list =
      Obj({{"school", str},
           {"generated_at", str},
           {"holders", {{"type", "array"}, {"items", holder}}},
           {"categories",
            {{"type", "array"},
             {"items", Obj({{"id", str},
                            {"title", str},
                            {"holders", {{"type", "array"}, {"items", reach}}}})}}}});
  RouteDoc list_doc;
  list_doc.summary =
      "The list of persons with access to personal data (R86, 004 §12.1): every active staff "
      "account and API key with its organisation (\"staff\": the school's own), its role (id, "
      "title, privileged), whether its briefing is recorded, the categories and purposes its role "
      "reaches (an API key: its own purposes within the role) and its break-glass grants in "
      "force; then per category of the policy the holders who reach it, each with \"through\": "
      "\"role\" or \"break_glass\". Titles in the reader's language; privileged roles only";
  list_doc.tag = "staff";
  list_doc.response_schema = list;
  list_doc.query = {"lang"};
  list_doc.errors = {401, 403, 404};
  Register("GET", "/v1/schools/{school}/access-list",
           Access::StaffSession(Capability::kPrivileged, PersonalData::kNone), list_doc,
           &Api::AccessListRoute);

  RouteDoc grant_doc;
  grant_doc.summary =
      "Break-glass (R86, 004 §6.4): let a named staff account reach one category of one "
      "subject's data for one purpose beyond its role, where the law provides: the reason and "
      "the time box (hours, 1 to 24) are required. Audited as access.break_glass and e-mailed to "
      "the responsible person; the gate honours it for that subject, purpose and category until "
      "expires_at, then refuses again. Privileged roles only";
  grant_doc.tag = "staff";
  grant_doc.request_schema = Obj({{"staff", str},
                                  {"subject", str},
                                  {"category", str},
                                  {"purpose", str},
                                  {"reason", str},
                                  {"hours", {{"type", "integer"}}}},
                                 {"staff", "subject", "category", "purpose", "reason", "hours"});
  grant_doc.response_schema = grant;
  grant_doc.success_status = 201;
  grant_doc.errors = {400, 401, 403, 404, 422};
  Register("POST", "/v1/schools/{school}/access-grants",
           Access::StaffSession(Capability::kPrivileged, PersonalData::kNone), grant_doc,
           &Api::BreakGlassRoute);

  const Json assignment = Obj({{"organisation", str},
                               {"subject", str},
                               {"reference", str},
                               {"assigned_by", str},
                               {"assigned_at", str}});
  RouteDoc assignments_doc;
  assignments_doc.summary =
      "The subjects assigned to outside organisations (R86, 002 L60), by organisation: the "
      "people of a role the policy gives to an affiliate or a contractor reach these subjects "
      "alone. Privileged roles only";
  assignments_doc.response_schema =
      Obj({{"items", {{"type", "array"}, {"items", assignment}}}});
  assignments_doc.errors = {401, 403, 404};
  Register("GET", "/v1/schools/{school}/assignments",
           Access::StaffSession(Capability::kPrivileged, PersonalData::kNone), assignments_doc,
           &Api::AssignmentsRoute);

  RouteDoc assign_doc;
  assign_doc.summary =
      "Assign a subject to an outside organisation (R86, 002 L60: an order handed to a delivery "
      "contractor): its people holding an affiliate's or a contractor's role then reach the "
      "subject, within their role's categories and purposes. The organisation must be named by "
      "an active account of such a role. Audited as access.assign. Privileged roles only";
  assign_doc.request_schema =
      Obj({{"organisation", str}, {"subject", str}, {"reference", str}}, {"organisation", "subject"});
  assign_doc.response_schema = assignment;
  assign_doc.success_status = 201;
  assign_doc.errors = {400, 401, 403, 404, 422};
  Register("POST", "/v1/schools/{school}/assignments",
           Access::StaffSession(Capability::kPrivileged, PersonalData::kNone), assign_doc,
           &Api::AssignRoute);

  RouteDoc end_doc;
  end_doc.summary =
      "End an assignment (R86): the organisation's people no longer reach the subject, from this "
      "answer on. Audited as access.unassign. Privileged roles only";
  end_doc.request_schema = Obj({{"organisation", str}, {"subject", str}}, {"organisation", "subject"});
  end_doc.response_schema = Obj({{"ended", {{"type", "boolean"}}}});
  end_doc.errors = {400, 401, 403, 404, 422};
  Register("POST", "/v1/schools/{school}/assignments/end",
           Access::StaffSession(Capability::kPrivileged, PersonalData::kNone), end_doc,
           &Api::UnassignRoute);
}

HttpResponse Api::AssignmentsRoute(Call& c) {
  auto rows = s_.access_control->Assignments(c.school());
  if (!rows.ok()) return ErrorResponse(rows.error());
  Json items = Json::array();
  for (const auto& a : *rows) items.push_back(AssignmentJson(a));
  return JsonResponse(200, {{"items", items}});
}

HttpResponse Api::AssignRoute(Call& c) {
  auto body = ParseJsonObject(c.req);
  if (!body.ok()) return ErrorResponse(body.error());
  if (Status only = OnlyKeys(*body, {"organisation", "subject", "reference"}); !only.ok()) {
    return ErrorResponse(only.error());
  }
  auto key = AssignmentKey(*body);
  if (!key.ok()) return ErrorResponse(key.error());
  auto reference = OptString(*body, "reference");
  if (!reference.ok()) return ErrorResponse(reference.error());
  services::AssignmentRequest in;
  in.organisation = key->first;
  in.subject = SubjectId(key->second);
  in.reference = reference->value_or("");
  auto row = s_.access_control->Assign(c.school(), in, c.actor, c.ctx);
  if (!row.ok()) return ErrorResponse(row.error());
  return JsonResponse(201, AssignmentJson(*row));
}

HttpResponse Api::UnassignRoute(Call& c) {
  auto body = ParseJsonObject(c.req);
  if (!body.ok()) return ErrorResponse(body.error());
  if (Status only = OnlyKeys(*body, {"organisation", "subject"}); !only.ok()) {
    return ErrorResponse(only.error());
  }
  auto key = AssignmentKey(*body);
  if (!key.ok()) return ErrorResponse(key.error());
  Status st = s_.access_control->Unassign(c.school(), key->first, SubjectId(key->second),
                                          c.actor, c.ctx);
  if (!st.ok()) return ErrorResponse(st.error());
  return JsonResponse(200, {{"ended", true}});
}

HttpResponse Api::AccessListRoute(Call& c) {
  auto list = s_.access_control->List(c.school());
  if (!list.ok()) return ErrorResponse(list.error());
  auto rt = s_.schools.Get(c.school());
  if (!rt.ok()) return ErrorResponse(rt.error());
  auto cp = (*rt)->policy();
  const policy::Policy& p = cp->policy();
  Json holders = Json::array();
  for (const auto& h : list->holders) holders.push_back(HolderJson(h, p, c.lang));
  Json categories = Json::array();
  for (const auto& cat : list->categories) {
    Json reached = Json::array();
    for (const auto& r : cat.reached_by) {
      const services::AccessHolder& h = list->holders[r.holder];
      reached.push_back({{"kind", h.kind},
                         {"id", h.id},
                         {"name", h.name},
                         {"role", h.role},
                         {"through", r.break_glass_only ? "break_glass" : "role"}});
    }
    categories.push_back({{"id", cat.id},
                          {"title", p.categories.at(cat.id).title.Get(c.lang)},
                          {"holders", reached}});
  }
  return JsonResponse(200, {{"school", c.school().value()},
                            {"generated_at", FormatTimestamp(list->generated_at)},
                            {"holders", holders},
                            {"categories", categories}});
}

HttpResponse Api::BreakGlassRoute(Call& c) {
  auto body = ParseJsonObject(c.req);
  if (!body.ok()) return ErrorResponse(body.error());
  if (Status only =
          OnlyKeys(*body, {"staff", "subject", "category", "purpose", "reason", "hours"});
      !only.ok()) {
    return ErrorResponse(only.error());
  }
  services::BreakGlassRequest in;
  std::string staff, subject;
  for (auto [key, dst] : {std::pair<const char*, std::string*>{"staff", &staff},
                          {"subject", &subject},
                          {"category", &in.category},
                          {"purpose", &in.purpose},
                          {"reason", &in.reason}}) {
    auto v = OptString(*body, key);
    if (!v.ok()) return ErrorResponse(v.error());
    if (*v) *dst = **v;
  }
  if (subject.empty()) {
    return ErrorResponse(Error::Refused("field_required", "subject is required", "subject"));
  }
  in.staff = StaffId(staff);
  in.subject = SubjectId(subject);
  if (body->contains("hours")) {
    const Json& hours = (*body)["hours"];
    if (!hours.is_number_integer()) {
      return ErrorResponse(Error::Invalid("hours must be a whole number", "hours"));
    }
    // Out of range either way is the service's "hours_invalid"; clamped only to fit an int.
    in.hours = static_cast<int>(std::clamp<int64_t>(hours.get<int64_t>(), 0, 1000));
  }
  auto grant = s_.access_control->BreakGlass(c.school(), in, c.actor, c.ctx);
  if (!grant.ok()) return ErrorResponse(grant.error());
  NudgeOutbox();
  return JsonResponse(201, GrantJson(*grant));
}

}  // namespace dovira::api
