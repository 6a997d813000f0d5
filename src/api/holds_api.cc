// Legal holds (R50): placing a hold on some of a subject's fields (the reason, the law it rests
// on and its last day), listing a subject's holds, and releasing one early with a reason. The
// retention job that carries out the erasures holds deferred runs through /jobs/retention/run.
#include "api/api.h"
#include "api/call.h"
#include "api/http_util.h"

namespace dovira::api {
namespace {

using ports::HttpResponse;

Json HoldJson(const ports::LegalHoldRow& h) {
  auto opt = [](const std::optional<Timestamp>& t) {
    return t ? Json(FormatTimestamp(*t)) : Json(nullptr);
  };
  return Json{{"id", h.id},
              {"subject", h.subject.value()},
              {"fields", h.fields},
              {"categories", h.categories},
              {"reason", h.reason},
              {"basis", h.basis},
              {"until", h.until},
              {"state", h.state},
              {"request", h.request.empty() ? Json(nullptr) : Json(h.request)},
              {"notify_subject", h.notify_subject},
              {"created_at", FormatTimestamp(h.created_at)},
              {"created_by", h.created_by},
              {"closed_at", opt(h.closed_at)},
              {"closed_by", h.closed_by.empty() ? Json(nullptr) : Json(h.closed_by)},
              {"close_reason", h.close_reason.empty() ? Json(nullptr) : Json(h.close_reason)},
              {"settled_at", opt(h.settled_at)}};
}

Json RetentionJson(const services::RetentionReport& r) {
  return Json{{"job", "retention"},
              {"holds_ended", r.holds_ended},
              {"holds_settled", r.holds_settled},
              {"fields_erased", r.fields_erased},
              {"subjects_erased", r.subjects_erased}};
}

}  // namespace

void Api::RegisterHoldRoutes() {
  auto doc = [](std::string summary, Json req, Json resp, int ok, std::vector<int> errors) {
    RouteDoc d;
    d.summary = std::move(summary);
    d.tag = "holds";
    d.request_schema = std::move(req);
    d.response_schema = std::move(resp);
    d.success_status = ok;
    d.errors = std::move(errors);
    return d;
  };
  const Json str = {{"type", "string"}};
  const Json list = {{"type", "array"}, {"items", str}};
  const Json any = {{"type", "object"}};
  const Json page = Obj({{"items", {{"type", "array"}, {"items", any}}}, {"next_cursor", str}});
  Register("POST", "/v1/schools/{school}/subjects/{subject}/holds",
           Access::StaffSession(Capability::kPrivileged, PersonalData::kNone),
           doc("Place a legal hold on some of the subject's fields (fields, or categories whose "
               "fields the subject has): the reason, the basis (a law of the policy) and the last "
               "day (until, YYYY-MM-DD, not before today). An erasure then keeps these fields, "
               "restricted to storage, until the hold ends (R50); privileged roles only; audited",
               Obj({{"fields", list},
                    {"categories", list},
                    {"reason", str},
                    {"basis", str},
                    {"until", str},
                    {"notify_subject", {{"type", "boolean"}}}},
                   {"reason", "basis", "until"}),
               any, 201, {400, 401, 403, 404, 422}),
           &Api::PlaceHold);
  Register("GET", "/v1/schools/{school}/subjects/{subject}/holds",
           Access::Staff(Capability::kDecides, PersonalData::kNone),
           doc("The subject's legal holds in every state, oldest first (R50)", nullptr, page, 200,
               {401, 403, 404}),
           &Api::ListHolds);
  Register("POST", "/v1/schools/{school}/subjects/{subject}/holds/{hold}/release",
           Access::StaffSession(Capability::kPrivileged, PersonalData::kNone),
           doc("End a legal hold before its last day, with the reason; an erasure it deferred is "
               "carried out at once by the retention job (R50); privileged roles only; audited",
               Obj({{"reason", str}}, {"reason"}), any, 200, {400, 401, 403, 404, 409, 422}),
           &Api::ReleaseHold);
}

HttpResponse Api::PlaceHold(Call& c) {
  auto body = ParseJsonObject(c.req);
  if (!body.ok()) return ErrorResponse(body.error());
  if (Status only =
          OnlyKeys(*body, {"fields", "categories", "reason", "basis", "until", "notify_subject"});
      !only.ok()) {
    return ErrorResponse(only.error());
  }
  services::PlaceHold in;
  in.subject = SubjectId(c.param("subject"));
  for (auto [key, dst] : {std::pair<const char*, std::string*>{"reason", &in.reason},
                          {"basis", &in.basis},
                          {"until", &in.until}}) {
    auto v = OptString(*body, key);
    if (!v.ok()) return ErrorResponse(v.error());
    if (*v) *dst = **v;
  }
  for (auto [key, dst] : {std::pair<const char*, std::vector<std::string>*>{"fields", &in.fields},
                          {"categories", &in.categories}}) {
    auto v = OptStringList(*body, key);
    if (!v.ok()) return ErrorResponse(v.error());
    *dst = std::move(*v);
  }
  auto notify = OptBool(*body, "notify_subject");
  if (!notify.ok()) return ErrorResponse(notify.error());
  in.notify_subject = notify->value_or(false);
  auto hold = s_.holds->Place(c.school(), in, c.actor, c.ctx);
  if (!hold.ok()) return ErrorResponse(hold.error());
  return JsonResponse(201, HoldJson(*hold));
}

HttpResponse Api::ListHolds(Call& c) {
  auto holds = s_.holds->List(c.school(), SubjectId(c.param("subject")));
  if (!holds.ok()) return ErrorResponse(holds.error());
  Json items = Json::array();
  for (const auto& h : *holds) items.push_back(HoldJson(h));
  return JsonResponse(200, {{"items", items}, {"next_cursor", nullptr}});
}

HttpResponse Api::ReleaseHold(Call& c) {
  auto body = ParseJsonObject(c.req);
  if (!body.ok()) return ErrorResponse(body.error());
  if (Status only = OnlyKeys(*body, {"reason"}); !only.ok()) return ErrorResponse(only.error());
  auto reason = OptString(*body, "reason");
  if (!reason.ok()) return ErrorResponse(reason.error());
  auto hold = s_.holds->Release(c.school(), SubjectId(c.param("subject")), c.param("hold"),
                                reason->value_or(""), c.actor, c.ctx);
  if (!hold.ok()) return ErrorResponse(hold.error());
  Json out = HoldJson(*hold);
  if (!hold->request.empty() && s_.requests != nullptr) {
    // The erasure the hold deferred is carried out now rather than at the next daily run.
    auto report = s_.requests->RunRetention(c.school(), c.ctx);
    if (!report.ok()) return ErrorResponse(report.error());
    auto settled = s_.holds->List(c.school(), SubjectId(c.param("subject")));
    if (settled.ok()) {
      for (const auto& h : *settled) {
        if (h.id == hold->id) out = HoldJson(h);
      }
    } else if (settled.error().code == ErrorCode::kNotFound) {
      out["settled_at"] = FormatTimestamp(s_.clock.Now());  // the subject is gone with its holds
    }
    out["retention"] = RetentionJson(*report);
    NudgeOutbox();
  }
  return JsonResponse(200, out);
}

HttpResponse Api::RunRetention(Call& c) {
  auto report = s_.requests->RunRetention(c.school(), c.ctx);
  if (!report.ok()) return ErrorResponse(report.error());
  Json out = RetentionJson(*report);
  if (s_.retention != nullptr) {
    // Purpose retention terms (R70-R72) after the holds.
    auto terms = s_.retention->Run(c.school(), c.ctx);
    if (!terms.ok()) return ErrorResponse(terms.error());
    out["purposes_ended"] = terms->purposes_ended;
    out["fields_destroyed"] = terms->fields_destroyed;
    out["fields_anonymised"] = terms->fields_anonymised;
    out["fields_kept"] = terms->fields_kept;
    out["fields_skipped"] = terms->fields_skipped;
    out["subjects_erased"] = report->subjects_erased + terms->subjects_erased;
  }
  NudgeOutbox();
  return JsonResponse(200, out);
}

}  // namespace dovira::api
