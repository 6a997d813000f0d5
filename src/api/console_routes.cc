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
  Json roles = Json::array();
  for (const auto& [id, r] : p.roles) {
    roles.push_back({{"id", id}, {"title", r.title.Get(lang, auth)}, {"privileged", r.privileged}});
  }
  Json purposes = Json::array();
  for (const auto& [id, pu] : p.purposes) {
    purposes.push_back({{"id", id}, {"title", pu.title.Get(lang, auth)}, {"basis", pu.basis}});
  }
  Json fields = Json::array();
  for (const auto& [id, f] : p.fields) {
    fields.push_back({{"id", id}, {"title", f.title.Get(lang, auth)}, {"category", f.category}});
  }
  // Only the types the policy offers: the others are refused at filing ("right_not_offered").
  Json types = Json::array();
  for (const auto& type : domain::RequestTypes()) {
    auto term = domain::TermFor(p, type);
    if (!term.ok()) continue;
    types.push_back({{"type", type},
                     {"right", domain::RightOfType(type)},
                     {"term", calendar::FormatTerm(term->term)},
                     {"trigger", term->trigger},
                     {"source", term->source}});
  }
  return JsonResponse(200, {{"school", p.school.id},
                            {"name", p.school.name.Get(lang, auth)},
                            {"policy_version", (*rt)->version()},
                            {"time_zone", p.calendar.timezone},
                            {"languages", p.school.languages},
                            {"roles", roles},
                            {"purposes", purposes},
                            {"fields", fields},
                            {"request_types", types}});
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
      (*rt)->gate().With(row.id, [&](const domain::SubjectState* st) {
        if (st == nullptr) return;
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
  Register("GET", "/v1/schools/{school}/console", Auth::kSession,
           doc("The school as the staff console shows it: roles, purposes, fields, the request "
               "types the policy offers with their terms, the time zone"),
           &Api::ConsoleRead);
  Register("GET", "/v1/schools/{school}/consents/rates", Auth::kSession,
           doc("Consent rates per consent-based purpose: eligible, given, active, withdrawn, "
               "expired (no personal data)"),
           &Api::ConsoleRead);
}

ports::HttpResponse Api::ConsoleRead(Call& c) {
  if (c.route->pattern == "/v1/schools/{school}/console") {
    return console::SchoolSettings(s_, c.school(), c.lang);
  }
  return console::ConsentRates(s_, c.school(), c.lang);
}

}  // namespace dovira::api
