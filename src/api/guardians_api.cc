// The routes of minors' representatives (R24, B06): a minor's guardianships, the document check
// staff record, and the now-adult's re-consent (confirm or withdraw), for staff and API keys on
// behalf of the subject; the cabinet's own routes are in cabinet_api.cc.
#include "api/api.h"
#include "api/call.h"
#include "api/http_util.h"

namespace dovira::api {
namespace {

using ports::HttpResponse;

Json GuardianshipJson(const services::GuardianshipInfo& g) {
  auto time = [](const std::optional<Timestamp>& t) {
    return t ? Json(FormatTimestamp(*t)) : Json(nullptr);
  };
  return {{"id", g.id},
          {"minor", g.minor.value()},
          {"relation", g.relation},
          {"permission_at", g.permission_at},
          {"state", g.state},
          {"method", g.method.empty() ? Json(nullptr) : Json(g.method)},
          {"document", g.document.empty() ? Json(nullptr) : Json(g.document)},
          {"verified_at", time(g.verified_at)},
          {"verified_by", g.verified_by.empty() ? Json(nullptr) : Json(g.verified_by)},
          {"majority_on", g.majority_on.empty() ? Json(nullptr) : Json(g.majority_on)},
          {"active", g.active},
          {"reconsent", g.reconsent.empty() ? Json(nullptr) : Json(g.reconsent)},
          {"reconsent_at", time(g.reconsent_at)},
          {"decided_at", time(g.decided_at)}};
}

}  // namespace

void Api::RegisterGuardianRoutes() {
  auto doc = [](std::string summary, Json request, int ok, std::vector<int> errors) {
    RouteDoc d;
    d.summary = std::move(summary);
    d.tag = "minors";
    d.request_schema = std::move(request);
    d.response_schema = Json{{"type", "object"}};
    d.success_status = ok;
    d.errors = std::move(errors);
    return d;
  };
  const std::string base = "/v1/schools/{school}";
  Register("GET", base + "/subjects/{subject}/guardianships",
           Access::Staff(Capability::kDecides, PersonalData::kNone),
           doc("A minor's legal representatives: relation, date of permission, how it was "
               "verified, until when it holds and the re-consent at majority (R24, B06)",
               nullptr, 200, {401, 403, 404}),
           &Api::SubjectGuardianships);
  Register("POST", base + "/guardianships/{guardianship}/verify",
           Access::Staff(Capability::kDecides, PersonalData::kNone),
           doc("Record the document staff checked as proof of the representative's permission "
               "({\"method\": \"document\", \"document\": reference}) (B06)",
               Obj({{"method", kStr}, {"document", kStr}}, {"method", "document"}), 200,
               {400, 401, 403, 404}),
           &Api::VerifyGuardianship);
  Register("POST", base + "/subjects/{subject}/reconsent",
           Access::Staff(Capability::kDecides, PersonalData::kNone),
           doc("The now-adult's answer taken by staff or another system: confirm the consents "
               "a representative gave, or withdraw them (B06)",
               Obj({{"decision", kStr},
                    {"channel", kStr},
                    {"acknowledged_warning", kBool},
                    {"lang", kStr}},
                   {"decision"}),
               200, {400, 401, 403, 404, 409, 422}),
           &Api::SubjectReconsent);
}

HttpResponse Api::SubjectGuardianships(Call& c) {
  auto list = s_.guardians->ForMinor(c.school(), SubjectId(c.param("subject")), c.actor, c.ctx);
  if (!list.ok()) return ErrorResponse(list.error());
  Json items = Json::array();
  for (const auto& g : *list) items.push_back(GuardianshipJson(g));
  return JsonResponse(200, {{"items", items}});
}

HttpResponse Api::VerifyGuardianship(Call& c) {
  auto body = ParseJsonObject(c.req);
  if (!body.ok()) return ErrorResponse(body.error());
  if (Status only = OnlyKeys(*body, {"method", "document"}); !only.ok()) {
    return ErrorResponse(only.error());
  }
  auto method = ReqString(*body, "method");
  if (!method.ok()) return ErrorResponse(method.error());
  if (*method != "document") {
    // The other method, the e-mailed code, is the representative signing in (cabinet).
    return ErrorResponse(Error::Invalid(
        "method must be document: a representative's address is verified by their own sign-in "
        "to the personal account",
        "method"));
  }
  auto document = ReqString(*body, "document");
  if (!document.ok()) return ErrorResponse(document.error());
  auto g = s_.guardians->VerifyByDocument(c.school(), c.param("guardianship"), *document, c.actor,
                                          c.ctx);
  if (!g.ok()) return ErrorResponse(g.error());
  return JsonResponse(200, GuardianshipJson(*g));
}

HttpResponse Api::SubjectReconsent(Call& c) {
  auto body = ParseJsonObject(c.req);
  if (!body.ok()) return ErrorResponse(body.error());
  if (Status only = OnlyKeys(*body, {"decision", "channel", "acknowledged_warning", "lang"});
      !only.ok()) {
    return ErrorResponse(only.error());
  }
  auto channel = OptString(*body, "channel");
  if (!channel.ok()) return ErrorResponse(channel.error());
  return ReconsentDecision(c, *body, SubjectId(c.param("subject")),
                           channel->value_or("api"));
}

HttpResponse Api::ReconsentDecision(Call& c, const Json& body, const SubjectId& subject,
                                    const std::string& channel) {
  auto decision = ReqString(body, "decision");
  if (!decision.ok()) return ErrorResponse(decision.error());
  auto lang = OptString(body, "lang");
  if (!lang.ok()) return ErrorResponse(lang.error());
  auto ack = OptBool(body, "acknowledged_warning");
  if (!ack.ok()) return ErrorResponse(ack.error());
  if (!c.actor.guardianship.empty()) {
    return ErrorResponse(Error::Denied(
        "not_the_subject", "only the person who came of age answers for their own consent"));
  }
  if (*decision == "confirm") {
    auto receipts = s_.guardians->Confirm(c.school(), subject, channel, lang->value_or(c.lang),
                                          c.actor, c.ctx);
    if (!receipts.ok()) return ErrorResponse(receipts.error());
    Json consents = Json::array();
    for (const auto& r : *receipts) {
      consents.push_back({{"id", r.id.value()},
                          {"consent", r.consent_type},
                          {"grants", r.grants},
                          {"given_by", r.given_by},
                          {"at", FormatTimestamp(r.at)}});
    }
    return JsonResponse(200, {{"reconsent", "confirmed"}, {"consents", consents}});
  }
  if (*decision == "withdraw") {
    auto state = s_.guardians->Reconsent(c.school(), subject);
    if (!state.ok()) return ErrorResponse(state.error());
    if (state->state != "pending") {
      return ErrorResponse(Error::Conflict(
          "reconsent_not_pending", "no confirmation of consent is awaited from this person"));
    }
    // The withdrawal is an ordinary withdrawal request (R55, R58: the consequence notice first).
    services::FileRequest f;
    f.type = "withdrawal";
    f.subject = subject;
    f.channel = channel;
    f.acknowledged_warning = ack->value_or(false);
    f.lang = lang->value_or(c.lang);
    auto r = s_.requests->File(c.school(), f, c.actor, c.ctx);
    if (!r.ok()) return ErrorResponse(r.error());
    Status st = s_.guardians->MarkWithdrawn(c.school(), subject, c.actor, c.ctx);
    if (!st.ok()) return ErrorResponse(st.error());
    NudgeOutbox();
    return JsonResponse(200, {{"reconsent", "withdrawn"}, {"request", RequestJson(*r, true)}});
  }
  return ErrorResponse(Error::Invalid("decision must be confirm or withdraw", "decision"));
}

}  // namespace dovira::api
