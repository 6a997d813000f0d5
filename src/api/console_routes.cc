#include "api/console_routes.h"

#include "api/call.h"
#include "api/http_util.h"
#include "calendar/term.h"
#include "domain/requests.h"

namespace dovira::api {

namespace console {

ports::HttpResponse SchoolSettings(const ApiServices& s, const SchoolId& school,
                                   const std::string& lang) {
  auto rt = s.schools.Get(school);
  if (!rt.ok()) return ErrorResponse(rt.error());
  const policy::Policy& p = (*rt)->policy()->policy();
  const std::string& auth = p.school.authoritative_language;
  const auto cp = (*rt)->policy();
  Json roles = Json::array();
  for (const auto& [id, r] : p.roles) {
    // The purposes the gate lets the role state (all of them when the role lists none).
    Json allowed = Json::array();
    const int ri = cp->RoleIndex(id);
    for (size_t i = 0; ri >= 0 && i < cp->purpose_count(); ++i) {
      const domain::CompiledRole& role = cp->role(static_cast<size_t>(ri));
      if (cp->purpose(i).enabled && (role.all_purposes || ((role.purposes >> i) & 1))) {
        allowed.push_back(cp->purpose(i).id);
      }
    }
    roles.push_back({{"id", id},
                     {"title", r.title.Get(lang, auth)},
                     {"privileged", r.privileged},
                     // The request queue and every step of a request (router.h: Capability)
                     {"decides_requests", r.privileged || r.decides},
                     {"purposes", allowed}});
  }
  // Each purpose's retention term after its trigger: an unset term (while_needed) ends the data
  // with the trigger, as the retention job reads it ("immediate").
  const calendar::Term immediate{0, calendar::TermUnit::kImmediate, true};
  Json purposes = Json::array();
  for (const auto& [id, pu] : p.purposes) {
    purposes.push_back({{"id", id},
                        {"title", pu.title.Get(lang, auth)},
                        {"basis", pu.basis},
                        {"retention", calendar::FormatTerm(pu.retention.value_or(immediate))}});
  }
  Json fields = Json::array();
  for (const auto& [id, f] : p.fields) {
    fields.push_back({{"id", id}, {"title", f.title.Get(lang, auth)}, {"category", f.category}});
  }
  // Titles for the ids the console shows: stores (a task's target), consents, recipients,
  // categories, and the laws a basis for keeping data is chosen from.
  auto titled = [&](const std::string& id, const policy::LocalText& title) {
    return Json{{"id", id}, {"title", title.Get(lang, auth)}};
  };
  Json stores = Json::array();
  for (const auto& st : p.storage.stores) stores.push_back(titled(st.id, st.title));
  Json consents = Json::array();
  for (const auto& [id, c] : p.consents) consents.push_back(titled(id, c.title));
  Json recipients = Json::array();
  for (const auto& [id, r] : p.recipients) recipients.push_back(titled(id, r.title));
  Json categories = Json::array();
  for (const auto& [id, c] : p.categories) categories.push_back(titled(id, c.title));
  Json laws = Json::array();
  for (const auto& l : p.laws) {
    Json law = titled(l.id, l.title);
    law["citation"] = l.citation;
    laws.push_back(std::move(law));
  }
  // The terms the retention view explains an ending with: the inactivity that ends the use
  // (R71) and the legal minimums per category (R72).
  Json legal_minimum = Json::array();
  for (const auto& lm : p.retention.legal_minimum) {
    legal_minimum.push_back(
        {{"category", lm.category}, {"term", calendar::FormatTerm(lm.term)}, {"law", lm.law}});
  }
  Json retention = {
      {"inactivity", p.retention.end_of_use_inactivity
                         ? Json(calendar::FormatTerm(*p.retention.end_of_use_inactivity))
                         : Json(nullptr)},
      {"legal_minimum", legal_minimum}};
  // Only the types the policy offers: the others are refused at filing ("right_not_offered").
  // Each with the grounds its right lists, by their titles (R49; empty: any ground).
  const i18n::Lang reader = i18n::ParseLang(lang).value_or(i18n::Lang::kUk);
  Json types = Json::array();
  for (const auto& type : domain::RequestTypes()) {
    auto term = domain::TermFor(p, type);
    if (!term.ok()) continue;
    const std::string right = domain::RightOfType(type);
    types.push_back({{"type", type},
                     {"right", right},
                     {"term", calendar::FormatTerm(term->term)},
                     {"trigger", term->trigger},
                     {"source", term->source},
                     {"grounds", GroundsJson(p.FindRight(right), reader)}});
  }
  return JsonResponse(200, {{"school", p.school.id},
                            {"name", p.school.name.Get(lang, auth)},
                            {"policy_version", (*rt)->version()},
                            {"time_zone", p.calendar.timezone},
                            {"languages", p.school.languages},
                            {"roles", roles},
                            {"purposes", purposes},
                            {"fields", fields},
                            {"stores", stores},
                            {"consents", consents},
                            {"recipients", recipients},
                            {"categories", categories},
                            {"laws", laws},
                            {"request_types", types},
                            {"retention", retention}});
}

ports::HttpResponse ConsentRates(const ApiServices& s, const SchoolId& school,
                                 const std::string& lang) {
  auto rt = s.schools.Get(school);
  if (!rt.ok()) return ErrorResponse(rt.error());
  const auto cp = (*rt)->policy();
  const policy::Policy& p = cp->policy();
  const Timestamp now = s.clock.Now();
  const int64_t now_us = services::MicrosOf(now);

  struct Count {
    int64_t eligible = 0, given = 0, active = 0, withdrawn = 0, expired = 0;
  };
  std::vector<size_t> consent_purposes;
  for (size_t i = 0; i < cp->purpose_count(); ++i) {
    if (cp->purpose(i).basis == domain::Basis::kConsent) consent_purposes.push_back(i);
  }
  std::vector<Count> counts(consent_purposes.size());
  int64_t subjects = 0;
  // Page through the subject ids; everything else is the gate's in-memory state.
  constexpr size_t kPage = 1000;
  std::string after;
  for (;;) {
    auto rows = s.subjects.List(school, after, kPage);
    if (!rows.ok()) return ErrorResponse(rows.error());
    for (const auto& row : *rows) {
      ++subjects;
      (*rt)->gate().Peek(row.id, [&](const domain::SubjectState* st) {
        if (st == nullptr || st->unavailable) return;
        for (size_t k = 0; k < consent_purposes.size(); ++k) {
          const size_t purpose = consent_purposes[k];
          Count& c = counts[k];
          if (st->kind < 64 && ((cp->purpose(purpose).subject_kinds >> st->kind) & 1) == 0)
            continue;
          ++c.eligible;
          const domain::ConsentWindow* w = st->Consent(purpose);
          if (w == nullptr) continue;
          ++c.given;
          if (w->withdrawn) {
            ++c.withdrawn;
          } else if (w->until_us <= now_us) {
            ++c.expired;
          } else if (w->from_us <= now_us) {
            ++c.active;
          }
        }
      });
    }
    if (rows->size() < kPage) break;
    after = rows->back().id.value();
  }

  const std::string& auth = p.school.authoritative_language;
  Json items = Json::array();
  for (size_t k = 0; k < consent_purposes.size(); ++k) {
    const std::string& id = cp->purpose(consent_purposes[k]).id;
    const policy::Purpose* pu = p.FindPurpose(id);
    const Count& c = counts[k];
    items.push_back({{"purpose", id},
                     {"title", pu ? pu->title.Get(lang, auth) : id},
                     {"eligible", c.eligible},
                     {"given", c.given},
                     {"active", c.active},
                     {"withdrawn", c.withdrawn},
                     {"expired", c.expired}});
  }
  return JsonResponse(200,
                      {{"at", FormatTimestamp(now)}, {"subjects", subjects}, {"items", items}});
}

ports::HttpResponse SearchSubject(const ApiServices& s, const SchoolId& school,
                                  const ports::HttpRequest& req, const services::Actor& actor,
                                  const services::RequestContext& ctx) {
  auto body = ParseJsonObject(req);
  if (!body.ok()) return ErrorResponse(body.error());
  if (Status only = OnlyKeys(*body, {"purpose", "email", "phone", "fields"}); !only.ok()) {
    return ErrorResponse(only.error());
  }
  auto purpose = ReqString(*body, "purpose");
  if (!purpose.ok()) return ErrorResponse(purpose.error());
  auto email = OptString(*body, "email");
  if (!email.ok()) return ErrorResponse(email.error());
  auto phone = OptString(*body, "phone");
  if (!phone.ok()) return ErrorResponse(phone.error());
  auto fields = OptStringList(*body, "fields");
  if (!fields.ok()) return ErrorResponse(fields.error());
  const bool by_email = email->has_value() && !(*email)->empty();
  const bool by_phone = phone->has_value() && !(*phone)->empty();
  if (by_email == by_phone) {
    return ErrorResponse(
        Error::Invalid("give either \"email\" or \"phone\" to search by, not both and not neither",
                       by_email ? "phone" : "email"));
  }
  services::SearchRequest search;
  search.by = by_email ? "email" : "phone";
  search.value = by_email ? **email : **phone;
  search.purpose = *purpose;
  search.fields = *fields;
  auto found = s.access.Search(school, search, actor, ctx);
  if (!found.ok()) return ErrorResponse(found.error());
  const services::AccessResult& a = found->access;
  const Json subject = found->subject ? Json(found->subject->value()) : Json(nullptr);
  ports::HttpResponse resp;
  if (a.allowed) {
    resp = JsonResponse(200, {{"allowed", true},
                              {"reason", a.reason},
                              {"decision_id", a.decision_id},
                              {"purpose", search.purpose},
                              {"subject", subject},
                              {"fields", a.values},
                              {"statements", a.statements},
                              {"audited", true}});
  } else {
    Json err = {{"code", a.reason},
                {"message", a.reason == "subject_unknown"
                                ? std::string("no subject of the school has this ") + search.by +
                                      " (decision " + a.decision_id + ")"
                                : "refused by the school's policy: " + a.reason + " (decision " +
                                      a.decision_id + ")"},
                {"field", nullptr},
                {"decision_id", a.decision_id},
                {"purpose", search.purpose},
                {"subject", subject},
                {"audited", true}};
    resp = JsonResponse(a.status, Json{{"error", err}});
  }
  resp.Header("X-Decision-Id", a.decision_id);
  resp.Header("Cache-Control", "no-store");
  return resp;
}

}  // namespace console

void Api::RegisterConsoleRoutes() {
  auto doc = [](std::string summary) {
    RouteDoc d;
    d.summary = std::move(summary);
    d.tag = "console";
    d.request_schema = nullptr;
    d.response_schema = Json{{"type", "object"}};
    d.success_status = 200;
    d.errors = {401, 403, 404};
    d.query = {"lang"};
    return d;
  };
  Register("GET", "/v1/schools/{school}/console",
           Access::StaffSession(Capability::kNone, PersonalData::kNone),
           doc("The school as the staff console shows it: roles, purposes (with their "
               "retention terms), fields, stores, consents, recipients, categories and laws with "
               "their titles in the reader's language, the request types the policy offers with "
               "their terms, the retention terms of inactivity and legal minimums, the time zone"),
           &Api::ConsoleRead);
  Register("GET", "/v1/schools/{school}/consents/rates",
           Access::StaffSession(Capability::kNone, PersonalData::kNone),
           doc("Consent rates per consent-based purpose: eligible, given, active, withdrawn, "
               "expired (no personal data)"),
           &Api::ConsoleRead);
  RouteDoc search = doc(
      "Find a subject by e-mail address or phone number for a stated purpose, through the gate: "
      "only the fields the purpose and the role release, or the refusal (403, 423, 404 when "
      "nobody matches); every search is an audited read with its purpose (R28-R30, R86, R88)");
  search.request_schema =
      Obj({{"purpose", kStr}, {"email", kStr}, {"phone", kStr}, {"fields", kStrList}}, {"purpose"});
  search.errors = {400, 401, 403, 404, 423, 503};
  search.query = {};
  Register("POST", "/v1/schools/{school}/subject-search",
           Access::StaffSession(Capability::kNone, PersonalData::kGated), search,
           &Api::ConsoleSearch);
}

ports::HttpResponse Api::ConsoleSearch(Call& c) {
  return console::SearchSubject(s_, c.school(), c.req, c.actor, c.ctx);
}

ports::HttpResponse Api::ConsoleRead(Call& c) {
  if (c.route->pattern == "/v1/schools/{school}/console") {
    return console::SchoolSettings(s_, c.school(), c.lang);
  }
  return console::ConsentRates(s_, c.school(), c.lang);
}

}  // namespace dovira::api
