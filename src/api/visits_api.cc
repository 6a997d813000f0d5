// Visit statistics (R101): the school's site reports a visit (a public route, limited per client
// address like the other public routes that write), and staff read the counts. Only a
// depersonalised row is ever stored (services/visits.h).
#include "api/api.h"
#include "api/call.h"
#include "api/http_util.h"
#include "services/visits.h"

namespace dovira::api {
namespace {

using ports::HttpResponse;

Json CountsJson(const std::map<std::string, int64_t>& m) {
  Json out = Json::object();
  for (const auto& [k, n] : m) out[k] = n;
  return out;
}

}  // namespace

void Api::RegisterVisitRoutes() {
  auto doc = [](std::string summary, Json req, Json resp, int ok, std::vector<int> errors,
                std::vector<std::string> query = {}) {
    RouteDoc d;
    d.summary = std::move(summary);
    d.tag = "visits";
    d.request_schema = std::move(req);
    d.response_schema = std::move(resp);
    d.success_status = ok;
    d.errors = std::move(errors);
    d.query = std::move(query);
    return d;
  };
  const Json str = {{"type", "string"}};
  const Json any = {{"type", "object"}};
  Register(
      "POST", "/v1/schools/{school}/visits", Access::Public(),
      doc("Report a visit to the school's site (ip, user_agent, page, referrer, at; the "
          "caller's own address and user agent when absent). Only a depersonalised row is "
          "kept: the network (/24, /48), browser and OS families, the page's path, the "
          "referring domain, the day and hour. Members that identify a person (email, "
          "account_id, subject_id, cookie_id, ...) are dropped and named in \"dropped\" "
          "(R101)",
          Obj({{"ip", str}, {"user_agent", str}, {"page", str}, {"referrer", str}, {"at", str}},
              {"page"}),
          any, 201, {400, 404, 429}),
      &Api::RecordVisit);
  Register("GET", "/v1/schools/{school}/visits/stats",
           Access::Staff(Capability::kNone, PersonalData::kNone),
           doc("Visit counts from one day to another (YYYY-MM-DD, both included, at most 366 "
               "days): in all, by day, by hour (UTC), by browser, OS, page and referring domain, "
               "and the number of distinct networks (R101)",
               nullptr, any, 200, {400, 401, 403, 404}, {"from", "to"}),
           &Api::VisitStats);
}

HttpResponse Api::RecordVisit(Call& c) {
  auto body = ParseJsonObject(c.req);
  if (!body.ok()) return ErrorResponse(body.error());
  // Identifying members are taken out before anything else reads the body, whatever they hold.
  services::VisitReport v;
  for (auto it = body->begin(); it != body->end();) {
    if (services::IsIdentifyingVisitMember(it.key())) {
      v.dropped.push_back(it.key());
      it = body->erase(it);
    } else {
      ++it;
    }
  }
  if (Status only = OnlyKeys(*body, {"ip", "user_agent", "page", "referrer", "at"}); !only.ok()) {
    return ErrorResponse(only.error());
  }
  for (auto [key, dst] : {std::pair<const char*, std::string*>{"ip", &v.ip},
                          {"user_agent", &v.user_agent},
                          {"referrer", &v.referrer}}) {
    auto value = OptString(*body, key);
    if (!value.ok()) return ErrorResponse(value.error());
    if (*value) *dst = **value;
  }
  auto page = ReqString(*body, "page");
  if (!page.ok()) return ErrorResponse(page.error());
  v.page = *page;
  auto at = OptTimestamp(*body, "at");
  if (!at.ok()) return ErrorResponse(at.error());
  v.at = *at;
  auto row = s_.visits->Record(c.school(), v, c.ctx);
  if (!row.ok()) return ErrorResponse(row.error());
  return JsonResponse(201, {{"stored",
                             {{"day", row->day},
                              {"hour", row->hour},
                              {"network", row->network},
                              {"browser", row->browser},
                              {"os", row->os},
                              {"page", row->page},
                              {"referrer_domain", row->referrer_domain}}},
                            {"dropped", v.dropped}});
}

HttpResponse Api::VisitStats(Call& c) {
  auto stats =
      s_.visits->Stats(c.school(), QueryParam(c.req.query, "from"), QueryParam(c.req.query, "to"));
  if (!stats.ok()) return ErrorResponse(stats.error());
  return JsonResponse(200, {{"from", stats->from},
                            {"to", stats->to},
                            {"total", stats->total},
                            {"networks", stats->networks},
                            {"by_day", CountsJson(stats->by_day)},
                            {"by_hour", stats->by_hour},
                            {"browsers", CountsJson(stats->browsers)},
                            {"os", CountsJson(stats->os)},
                            {"pages", CountsJson(stats->pages)},
                            {"referrers", CountsJson(stats->referrers)}});
}

}  // namespace dovira::api
