// Depersonalised data sets (R74, R34): POST /v1/schools/{school}/anonymised-datasets makes a data
// set for a purpose the policy's [anonymisation] names, from the subjects the gate allows for it,
// and answers with the rows as CSV and the risk report. The data set holds no personal data (no
// direct identifier, no key back, every group at least k), so the route is open to any staff
// role and API key whose purposes include the one stated; the gate and the section decide.
#include "api/api.h"
#include "api/call.h"
#include "api/http_util.h"

namespace dovira::api {

void Api::RegisterAnonymisationRoutes() {
  RouteDoc d;
  d.summary =
      "Make a depersonalised data set for a purpose of the policy's [anonymisation] (statistics, "
      "research): direct identifiers dropped, new random row ids and no key back, "
      "quasi-identifiers generalised until every group has at least k records (l distinct "
      "sensitive values where the policy names them), subjects the gate refuses for the purpose "
      "left out; answers the rows as CSV and the report (k achieved, groups, suppressed records, "
      "prosecutor risk, levels, information loss). Audited as anonymise.run (R74, R34)";
  d.tag = "anonymisation";
  const Json str = {{"type", "string"}};
  d.request_schema = Obj({{"purpose", str}}, {"purpose"});
  d.response_schema =
      Obj({{"id", str}, {"purpose", str}, {"report", {{"type", "object"}}}, {"csv", str}});
  d.success_status = 200;
  d.errors = {400, 401, 403, 404, 422};
  Register("POST", "/v1/schools/{school}/anonymised-datasets",
           Access::Staff(Capability::kNone, PersonalData::kNone), std::move(d),
           &Api::AnonymisedDataSet);
}

ports::HttpResponse Api::AnonymisedDataSet(Call& c) {
  if (s_.anonymisation == nullptr) return ErrorResponse(404, "not_found", "not served here");
  auto body = ParseJsonObject(c.req);
  if (!body.ok()) return ErrorResponse(body.error());
  if (Status only = OnlyKeys(*body, {"purpose"}); !only.ok()) return ErrorResponse(only.error());
  auto purpose = ReqString(*body, "purpose");
  if (!purpose.ok()) return ErrorResponse(purpose.error());
  auto ds = s_.anonymisation->Produce(c.school(), services::AnonymiseRequest{*purpose}, c.actor,
                                      c.ctx);
  if (!ds.ok()) return ErrorResponse(ds.error());
  return JsonResponse(200, Json{{"id", ds->id},
                                {"purpose", ds->purpose},
                                {"report", Json::parse(ds->ReportJson())},
                                {"csv", ds->csv}});
}

}  // namespace dovira::api
