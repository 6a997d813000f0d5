#include "api/web_routes.h"

#include "api/http_util.h"
#include "calendar/term.h"

namespace dovira::api {

namespace web {

namespace {

// The cookie that keeps the visitor's choice when the policy does not name one.
constexpr char kDefaultConsentCookie[] = "dovira_cookie_consent";

std::string ConsentCookieName(const policy::Cookies& c) {
  return c.consent_cookie.empty() ? kDefaultConsentCookie : c.consent_cookie;
}

Json RecordJson(const ports::CookieConsentRow& r) {
  return Json{{"id", r.id},
              {"school", r.school.value()},
              {"choice", r.choice},
              {"accepted", r.accepted},
              {"rejected", r.rejected},
              {"policy_version", r.policy_version},
              {"gpc", r.gpc},
              {"lang", r.lang},
              {"ip", r.ip},
              {"user_agent_sha256", r.user_agent_sha256},
              {"at", FormatTimestamp(r.at)},
              {"expires_at", FormatTimestamp(r.expires_at)}};
}

}  // namespace

ports::HttpResponse CookieSettings(const ApiServices& s, const SchoolId& school,
                                   const std::string& lang) {
  auto rt = s.schools.Get(school);
  if (!rt.ok()) return ErrorResponse(rt.error());
  const policy::Policy& p = (*rt)->policy()->policy();
  const policy::Cookies& c = p.cookies;
  const std::string& auth = p.school.authoritative_language;
  Json categories = Json::array();
  for (const auto& cat : services::CookieCategories(c)) {
    categories.push_back({{"id", cat.id}, {"consent_required", cat.consent_required}});
  }
  Json inventory = Json::array();
  for (const auto& k : c.inventory) {
    inventory.push_back(
        {{"name", k.name},
         {"provider", k.provider},
         {"category", k.category},
         {"purpose", k.purpose.Get(lang, auth)},
         {"lifetime", k.lifetime ? Json(calendar::FormatTerm(*k.lifetime)) : Json(nullptr)},
         {"created", k.created}});
  }
  return JsonResponse(200, {{"school", p.school.id},
                            {"name", p.school.name.Get(lang, auth)},
                            {"policy_version", (*rt)->version()},
                            {"lang", lang},
                            {"used", c.used},
                            {"beacons", c.beacons},
                            {"consent_cookie", ConsentCookieName(c)},
                            {"consent_ttl", calendar::FormatTerm(c.consent_ttl)},
                            {"categories", categories},
                            {"inventory", inventory},
                            {"third_party_tools", c.third_party_tools},
                            {"notice", "/policy?school=" + p.school.id + "&lang=" + lang},
                            {"record", "/v1/schools/" + p.school.id + "/cookie-consents"}});
}

ports::HttpResponse RecordCookieConsent(const ApiServices& s, const SchoolId& school,
                                        const std::string& lang, const ports::HttpRequest& req,
                                        const services::RequestContext& ctx) {
  if (!s.cookie_consents) return ErrorResponse(404, "not_found", "no such endpoint");
  auto body = ParseJsonObject(req);
  if (!body.ok()) return ErrorResponse(body.error());
  Status only = OnlyKeys(*body, {"choice", "accepted", "policy_version", "gpc", "lang"});
  if (!only.ok()) return ErrorResponse(only.error());
  services::CookieChoice choice;
  auto kind = ReqString(*body, "choice");
  if (!kind.ok()) return ErrorResponse(kind.error());
  choice.choice = *kind;
  auto accepted = OptStringList(*body, "accepted");
  if (!accepted.ok()) return ErrorResponse(accepted.error());
  choice.accepted = std::move(*accepted);
  auto version = OptString(*body, "policy_version");
  if (!version.ok()) return ErrorResponse(version.error());
  choice.policy_version = version->value_or("");
  auto gpc = OptBool(*body, "gpc");
  if (!gpc.ok()) return ErrorResponse(gpc.error());
  // The signal counts whether the page reported it or the browser sent it with the request.
  choice.gpc = gpc->value_or(false) || req.Header("sec-gpc") == "1";
  auto l = OptString(*body, "lang");
  if (!l.ok()) return ErrorResponse(l.error());
  choice.lang = l->value_or(lang);
  auto row = s.cookie_consents->Record(school, choice, ctx);
  if (!row.ok()) return ErrorResponse(row.error());
  Json j = RecordJson(*row);
  auto rt = s.schools.Get(school);
  if (rt.ok())
    j["cookie"] = {{"name", ConsentCookieName((*rt)->policy()->policy().cookies)},
                   {"value", row->id},
                   {"expires_at", FormatTimestamp(row->expires_at)}};
  return JsonResponse(201, j);
}

ports::HttpResponse CookieConsentProof(const ApiServices& s, const SchoolId& school,
                                       const std::string& id) {
  if (!s.cookie_consents) return ErrorResponse(404, "not_found", "no such endpoint");
  auto row = s.cookie_consents->Get(school, id);
  if (!row.ok()) return ErrorResponse(row.error());
  return JsonResponse(200, RecordJson(*row));
}

}  // namespace web

void Api::RegisterWebRoutes() {
  auto doc = [](std::string summary, Json req, Json resp, int ok, std::vector<int> errors,
                std::vector<std::string> query = {}) {
    RouteDoc d;
    d.summary = std::move(summary);
    d.tag = "cookies";
    d.request_schema = std::move(req);
    d.response_schema = std::move(resp);
    d.success_status = ok;
    d.errors = std::move(errors);
    d.query = std::move(query);
    return d;
  };
  const Json str = {{"type", "string"}};
  const Json list = {{"type", "array"}, {"items", str}};
  const Json record = {{"type", "object"},
                       {"properties",
                        {{"id", str},
                         {"choice", str},
                         {"accepted", list},
                         {"rejected", list},
                         {"policy_version", str},
                         {"gpc", {{"type", "boolean"}}},
                         {"at", str},
                         {"expires_at", str}}}};
  Register("GET", "/v1/schools/{school}/cookies", Access::Public(),
           doc("The cookie categories and inventory the banner shows (R98-R100)", nullptr,
               {{"type", "object"}}, 200, {404}, {"lang"}),
           &Api::CookieSettings);
  Register("POST", "/v1/schools/{school}/cookie-consents", Access::Public(),
           doc("Record a visitor's cookie choice as proof (R99, R101)",
               {{"type", "object"},
                {"properties",
                 {{"choice", str},
                  {"accepted", list},
                  {"policy_version", str},
                  {"gpc", {{"type", "boolean"}}},
                  {"lang", str}}},
                {"required", {"choice"}}},
               record, 201, {400, 404, 409, 422, 429}),
           &Api::RecordCookieConsent);
  Register("GET", "/v1/schools/{school}/cookie-consents/{consent}", Access::Public(),
           doc("A recorded cookie choice, by the id kept in the consent cookie", nullptr, record,
               200, {404}),
           &Api::CookieConsentProof);
}

}  // namespace dovira::api
