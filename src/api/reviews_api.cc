// Reviews of the policy (R117, 003 §24): the open and recent review tasks, recording a review,
// recording a change in the law. Privileged staff sessions only; the deadline job marks overdue
// tasks (POST /jobs/deadlines/run, R68).
#include "api/api.h"
#include "api/call.h"
#include "api/http_util.h"
#include "i18n/i18n.h"
#include "services/request_texts.h"

namespace dovira::api {
namespace {

using ports::HttpResponse;

Json OptTime(const std::optional<Timestamp>& t) {
  return t ? Json(FormatTimestamp(*t)) : Json(nullptr);
}

Json TaskJson(const ports::ReviewTaskRow& t) {
  return Json{{"id", t.id},
              {"reason", t.reason},
              {"law_change", t.law_change.empty() ? Json(nullptr) : Json(t.law_change)},
              {"law", t.law.empty() ? Json(nullptr) : Json(t.law)},
              {"due", t.due_date},
              {"state", t.done_at ? "done" : t.overdue_at ? "overdue" : "open"},
              {"created_at", FormatTimestamp(t.created_at)},
              {"created_by", t.created_by},
              {"overdue_at", OptTime(t.overdue_at)},
              {"done_at", OptTime(t.done_at)},
              {"done_by", t.done_by.empty() ? Json(nullptr) : Json(t.done_by)},
              {"summary", t.summary.empty() ? Json(nullptr) : Json(t.summary)},
              {"late_by_days", t.late_by_days}};
}

Json Tasks(const std::vector<ports::ReviewTaskRow>& rows) {
  Json out = Json::array();
  for (const auto& t : rows) out.push_back(TaskJson(t));
  return out;
}

}  // namespace

void Api::RegisterReviewRoutes() {
  const Json str = {{"type", "string"}};
  const Json task = Obj({{"id", str},
                         {"reason", str},
                         {"law_change", str},
                         {"law", str},
                         {"due", str},
                         {"state", str},
                         {"created_at", str},
                         {"created_by", str},
                         {"overdue_at", str},
                         {"done_at", str},
                         {"done_by", str},
                         {"summary", str},
                         {"late_by_days", {{"type", "integer"}}}});
  const Json tasks = {{"type", "array"}, {"items", task}};
  const Access privileged = Access::StaffSession(Capability::kPrivileged, PersonalData::kNone);

  RouteDoc list_doc;
  list_doc.summary =
      "Reviews of the policy (R117): the policy's review interval and whether a change in the "
      "law calls for a review, the open review tasks soonest due first (state open or overdue, "
      "the due day in the school's time zone) and the most recent done ones with what each "
      "found and how many days late it was (R68). Where the policy sets an interval and no "
      "scheduled review is open, the next one is opened first. Privileged roles only";
  list_doc.tag = "staff";
  list_doc.response_schema = Obj({{"school", str},
                                  {"review_interval", str},
                                  {"review_on_law_change", {{"type", "boolean"}}},
                                  {"open", tasks},
                                  {"done", tasks}});
  list_doc.errors = {401, 403, 404};
  Register("GET", "/v1/schools/{school}/reviews", privileged, list_doc, &Api::ListReviews);

  RouteDoc record_doc;
  record_doc.summary =
      "Record a review of the policy done now, with what it found (summary, at most 4000 "
      "bytes): closes every open review task, each with late_by_days when after its due day, "
      "and opens the next scheduled one the policy's review interval later. Audited as "
      "policy.review. Privileged roles only";
  record_doc.tag = "staff";
  record_doc.request_schema = Obj({{"summary", str}}, {"summary"});
  record_doc.response_schema = Obj({{"closed", tasks}, {"next", task}});
  record_doc.success_status = 201;
  record_doc.errors = {400, 401, 403, 404, 422};
  Register("POST", "/v1/schools/{school}/reviews", privileged, record_doc, &Api::RecordReview);

  RouteDoc law_doc;
  law_doc.summary =
      "Record a change in the law (description, at most 2000 bytes; the law, optional). Audited "
      "as policy.law_change. Where the policy reviews on a change in the law, a review task due "
      "in 30 calendar days is opened at once (review_task); otherwise review_required is false. "
      "`message` says which, in the reader's language. Privileged roles only";
  law_doc.tag = "staff";
  law_doc.request_schema = Obj({{"description", str}, {"law", str}}, {"description"});
  law_doc.response_schema = Obj({{"id", str},
                                 {"recorded_at", str},
                                 {"review_required", {{"type", "boolean"}}},
                                 {"review_task", task},
                                 {"message", str}});
  law_doc.query = {"lang"};
  law_doc.success_status = 201;
  law_doc.errors = {400, 401, 403, 404, 422};
  Register("POST", "/v1/schools/{school}/law-changes", privileged, law_doc,
           &Api::RecordLawChange);
}

HttpResponse Api::ListReviews(Call& c) {
  auto list = s_.reviews->List(c.school());
  if (!list.ok()) return ErrorResponse(list.error());
  return JsonResponse(
      200, {{"school", c.school().value()},
            {"review_interval",
             list->interval ? Json(calendar::FormatTerm(*list->interval)) : Json(nullptr)},
            {"review_on_law_change", list->on_law_change},
            {"open", Tasks(list->open)},
            {"done", Tasks(list->done)}});
}

HttpResponse Api::RecordReview(Call& c) {
  auto body = ParseJsonObject(c.req);
  if (!body.ok()) return ErrorResponse(body.error());
  if (Status only = OnlyKeys(*body, {"summary"}); !only.ok()) return ErrorResponse(only.error());
  auto summary = OptString(*body, "summary");
  if (!summary.ok()) return ErrorResponse(summary.error());
  auto review = s_.reviews->Record(c.school(), summary->value_or(""), c.actor, c.ctx);
  if (!review.ok()) return ErrorResponse(review.error());
  return JsonResponse(201, {{"closed", Tasks(review->closed)},
                            {"next", review->next ? TaskJson(*review->next) : Json(nullptr)}});
}

HttpResponse Api::RecordLawChange(Call& c) {
  auto body = ParseJsonObject(c.req);
  if (!body.ok()) return ErrorResponse(body.error());
  if (Status only = OnlyKeys(*body, {"description", "law"}); !only.ok()) {
    return ErrorResponse(only.error());
  }
  services::LawChange in;
  for (auto [key, dst] : {std::pair<const char*, std::string*>{"description", &in.description},
                          {"law", &in.law}}) {
    auto v = OptString(*body, key);
    if (!v.ok()) return ErrorResponse(v.error());
    if (*v) *dst = **v;
  }
  auto change = s_.reviews->RecordLawChange(c.school(), in, c.actor, c.ctx);
  if (!change.ok()) return ErrorResponse(change.error());
  const i18n::Lang lang = i18n::ParseLang(c.lang).value_or(i18n::Lang::kUk);
  const std::string message =
      change->task ? i18n::Text(lang, "api.law_change.review_opened",
                                {{"due", services::LetterDayText(change->task->due_date,
                                                                 i18n::LangCode(lang))}})
                   : i18n::Text(lang, "api.law_change.no_review");
  return JsonResponse(201, {{"id", change->id},
                            {"recorded_at", FormatTimestamp(change->recorded_at)},
                            {"review_required", change->review_required},
                            {"review_task", change->task ? TaskJson(*change->task) : Json(nullptr)},
                            {"message", message}});
}

}  // namespace dovira::api
