// Purpose retention (R21, R70-R72): the school's systems report the events a retention term runs
// from (POST /subjects/{subject}/events), and staff see what the retention job will end in the
// coming days and why (GET /retention/upcoming). The job itself runs through /jobs/retention/run
// (holds_api.cc) and daily in App::JobsLoop.
#include <chrono>

#include "api/api.h"
#include "api/call.h"
#include "api/http_util.h"
#include "calendar/calendar.h"
#include "services/retention.h"

namespace dovira::api {

using ports::HttpResponse;

void Api::RegisterRetentionRoutes() {
  auto doc = [](std::string summary, Json req, Json resp, int ok, std::vector<int> errors) {
    RouteDoc d;
    d.summary = std::move(summary);
    d.tag = "retention";
    d.request_schema = std::move(req);
    d.response_schema = std::move(resp);
    d.success_status = ok;
    d.errors = std::move(errors);
    return d;
  };
  const Json str = {{"type", "string"}};
  const Json any = {{"type", "object"}};
  Register("POST", "/v1/schools/{school}/subjects/{subject}/events",
           Access::Staff(Capability::kDecides, PersonalData::kNone),
           doc("Report an event a retention term runs from (R70, R71): kind agreement_end (an "
               "order or contract closed; may be ahead), last_use (the subject used the school's "
               "services; not ahead) or purpose_end:<purpose>, at an instant (ISO 8601, default "
               "now). The subject's retention dates are recomputed; audited",
               Obj({{"kind", str}, {"at", str}}, {"kind"}), any, 200, {400, 401, 403, 404, 422}),
           &Api::RecordSubjectEvent);
  Register("GET", "/v1/schools/{school}/retention/upcoming",
           Access::Staff(Capability::kDecides, PersonalData::kNone),
           doc("What the retention job will end in the coming `days` (default 30, 0..366): per "
               "field of each subject, the purpose that ended, its trigger, the day and the action "
               "(destroy, anonymise, keep restricted under a term or a legal minimum, skip under "
               "a legal-claims restriction), with a sentence in the reader's language (R70-R72)",
               nullptr,
               Obj({{"until", str}, {"items", {{"type", "array"}, {"items", any}}}}), 200,
               {400, 401, 403}),
           &Api::UpcomingRetention);
}

HttpResponse Api::RecordSubjectEvent(Call& c) {
  auto body = ParseJsonObject(c.req);
  if (!body.ok()) return ErrorResponse(body.error());
  if (Status only = OnlyKeys(*body, {"kind", "at"}); !only.ok()) {
    return ErrorResponse(only.error());
  }
  auto kind = OptString(*body, "kind");
  if (!kind.ok()) return ErrorResponse(kind.error());
  if (!*kind) {
    Error e = Error::Invalid("kind is required", "kind");
    e.reason = "event_kind_unknown";
    return ErrorResponse(e);
  }
  auto at_text = OptString(*body, "at");
  if (!at_text.ok()) return ErrorResponse(at_text.error());
  Timestamp at = s_.clock.Now();
  if (*at_text) {
    std::string problem;
    if (!ParseTimestamp(**at_text, &at, &problem)) {
      Error e = Error::Invalid("at: " + problem, "at");
      e.reason = "event_at_invalid";
      return ErrorResponse(e);
    }
  }
  const SubjectId subject(c.param("subject"));
  Status st = s_.retention->RecordEvent(c.school(), subject, **kind, at, c.actor, c.ctx);
  if (!st.ok()) return ErrorResponse(st.error());
  return JsonResponse(200, Json{{"subject", subject.value()},
                                {"kind", **kind},
                                {"at", FormatTimestamp(at)}});
}

HttpResponse Api::UpcomingRetention(Call& c) {
  int days = 30;
  const std::string days_text = QueryParam(c.req.query, "days");
  if (!days_text.empty()) {
    size_t used = 0;
    try {
      days = std::stoi(days_text, &used);
    } catch (...) {
      used = 0;
    }
    if (used != days_text.size() || days < 0 || days > 366) {
      return ErrorResponse(Error::Invalid("days must be a whole number from 0 to 366", "days"));
    }
  }
  auto rt = s_.schools.Get(c.school());
  if (!rt.ok()) return ErrorResponse(rt.error());
  auto cp = (*rt)->policy();
  const auto today = cp->calendar().LocalDate(
      std::chrono::floor<std::chrono::seconds>(s_.clock.Now()));
  const std::string until = calendar::FormatDate(today + days);
  auto items = s_.retention->Upcoming(c.school(), until);
  if (!items.ok()) return ErrorResponse(items.error());
  Json out = Json::array();
  for (const auto& item : *items) {
    out.push_back(Json{{"subject", item.subject.value()},
                       {"field", item.field},
                       {"category", item.category},
                       {"purpose", item.purpose},
                       {"trigger", item.trigger},
                       {"trigger_at", FormatTimestamp(item.trigger_at)},
                       {"date", item.due_date},
                       {"action", item.action},
                       {"law", item.law.empty() ? Json(nullptr) : Json(item.law)},
                       {"kept_until", item.kept_until.empty() ? Json(nullptr)
                                                              : Json(item.kept_until)},
                       {"text", services::ExplainRetention(*cp, item, c.lang)}});
  }
  return JsonResponse(200, Json{{"until", until}, {"items", out}});
}

}  // namespace dovira::api
