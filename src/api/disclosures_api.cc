// The disclosure log (R76): recording a disclosure or transfer, reading a subject's log page by
// page, and the recipients of the policy with the contact through which each is told of
// rectifications, erasures and restrictions (R48).
#include <cstdlib>

#include "api/api.h"
#include "api/call.h"
#include "api/http_util.h"

namespace dovira::api {
namespace {

using ports::HttpResponse;
using services::Actor;

Json DisclosureJson(const ports::DisclosureRow& d) {
  Json detail = Json::parse(d.detail, nullptr, false);
  return Json{{"id", d.id},
              {"subject", d.subject.value()},
              {"recipient", d.recipient},
              {"at", FormatTimestamp(d.at)},
              {"fields", d.fields},
              {"categories", d.categories},
              {"purpose", d.purpose},
              {"basis", d.basis},
              {"safeguard", d.safeguard},
              {"country", d.country.empty() ? Json(nullptr) : Json(d.country)},
              {"recorded_by", d.actor},
              {"request", d.request.empty() ? Json(nullptr) : Json(d.request)},
              {"detail", detail.is_discarded() ? Json::object() : detail},
              {"recorded_at", FormatTimestamp(d.recorded_at)}};
}


}  // namespace

void Api::RegisterDisclosureRoutes() {
  auto doc = [](std::string summary, Json req, Json resp, int ok, std::vector<int> errors,
                std::vector<std::string> query = {}) {
    RouteDoc d;
    d.summary = std::move(summary);
    d.tag = "disclosures";
    d.request_schema = std::move(req);
    d.response_schema = std::move(resp);
    d.success_status = ok;
    d.errors = std::move(errors);
    d.query = std::move(query);
    return d;
  };
  const Json str = {{"type", "string"}};
  const Json list = {{"type", "array"}, {"items", str}};
  const Json any = {{"type", "object"}};
  const Json disclosure = Obj({{"subject", str},
                               {"recipient", str},
                               {"purpose", str},
                               {"fields", list},
                               {"basis", str},
                               {"safeguard", str},
                               {"country", str},
                               {"at", str},
                               {"formal_request", any}},
                              {"subject", "recipient", "purpose", "fields"});
  const Json page = Obj({{"items", {{"type", "array"}, {"items", any}}}, {"next_cursor", str}});
  Register("POST", "/v1/schools/{school}/disclosures",
           Access::Staff(Capability::kNone, PersonalData::kNone),
           doc("Log a disclosure or transfer to a recipient the policy names: subject, recipient, "
               "date, fields and categories, purpose, legal basis, safeguard (R76). Checked "
               "against the policy (422 naming the field) and the purpose gate with the "
               "operation disclose (403/423)",
               disclosure, any, 201, {400, 401, 403, 404, 422, 423}),
           &Api::RecordDisclosure);
  Register("GET", "/v1/schools/{school}/disclosures",
           Access::Staff(Capability::kDecides, PersonalData::kNone),
           doc("The disclosure log, newest first, page by page; ?subject= for one subject's "
               "(R76)",
               nullptr, page, 200, {400, 401, 403},
               {"subject", "recipient", "since", "cursor", "limit"}),
           &Api::ListDisclosures);
  Register("GET", "/v1/schools/{school}/recipients",
           Access::Staff(Capability::kNone, PersonalData::kNone),
           doc("The recipients the policy names, with their safeguards and whether a contact "
               "for notices is configured (R48)",
               nullptr, page, 200, {401, 403}),
           &Api::ListRecipients);
  Register("PUT", "/v1/schools/{school}/recipients/{recipient}/contact",
           Access::StaffSession(Capability::kPrivileged, PersonalData::kNone),
           doc("Set how a recipient is told of rectifications, erasures and restrictions (a "
               "webhook, https, or an e-mail address; R48) and the link to the standard "
               "contractual clauses on file for it (R43); privileged roles only",
               Obj({{"email", str}, {"webhook_url", str}, {"scc_document_url", str}}), any, 200,
               {400, 401, 403, 404, 422}),
           &Api::SetRecipientContact);
}

HttpResponse Api::RecordDisclosure(Call& c) {
  auto body = ParseJsonObject(c.req);
  if (!body.ok()) return ErrorResponse(body.error());
  if (Status only = OnlyKeys(*body, {"subject", "recipient", "purpose", "fields", "basis",
                                     "safeguard", "country", "at", "formal_request"});
      !only.ok()) {
    return ErrorResponse(only.error());
  }
  services::DisclosureInput in;
  for (auto [key, dst] : {std::pair<const char*, std::string*>{"recipient", &in.recipient},
                          {"purpose", &in.purpose},
                          {"basis", &in.basis},
                          {"safeguard", &in.safeguard},
                          {"country", &in.country}}) {
    auto v = OptString(*body, key);
    if (!v.ok()) return ErrorResponse(v.error());
    if (*v) *dst = **v;
  }
  auto subject = OptString(*body, "subject");
  if (!subject.ok()) return ErrorResponse(subject.error());
  if (*subject) in.subject = SubjectId(**subject);
  auto fields = OptStringList(*body, "fields");
  if (!fields.ok()) return ErrorResponse(fields.error());
  in.fields = *fields;
  auto at = OptTimestamp(*body, "at");
  if (!at.ok()) return ErrorResponse(at.error());
  in.at = *at;
  if (body->contains("formal_request") && !(*body)["formal_request"].is_null()) {
    const Json& fr = (*body)["formal_request"];
    if (!fr.is_object()) {
      return ErrorResponse(400, "invalid_field", "formal_request must be an object", "formal_request");
    }
    if (Status only = OnlyKeys(fr, {"document", "issuing_body", "basis"}); !only.ok()) {
      return ErrorResponse(only.error());
    }
    for (auto [key, dst] : {std::pair<const char*, std::string*>{"document", &in.formal_document},
                            {"issuing_body", &in.formal_issuing_body},
                            {"basis", &in.formal_basis}}) {
      auto v = OptString(fr, key);
      if (!v.ok()) return ErrorResponse(v.error());
      if (*v) *dst = **v;
    }
  }
  auto out = s_.disclosures->Record(c.school(), in, c.actor, c.ctx);
  if (!out.ok()) return ErrorResponse(out.error());
  if (!out->recorded) {
    HttpResponse resp = ErrorResponse(out->status, out->reason,
                                      "refused by the school's policy: " + out->reason +
                                          " (decision " + out->decision_id + ")");
    resp.Header("X-Decision-Id", out->decision_id);
    return resp;
  }
  HttpResponse resp = JsonResponse(201, DisclosureJson(out->row));
  resp.Header("X-Decision-Id", out->decision_id);
  return resp;
}

HttpResponse Api::ListDisclosures(Call& c) {
  ports::DisclosureFilter f;
  f.subject = QueryParam(c.req.query, "subject");
  f.recipient = QueryParam(c.req.query, "recipient");
  const std::string since = QueryParam(c.req.query, "since");
  if (!since.empty()) {
    Timestamp t;
    std::string err;
    if (!ParseTimestamp(since, &t, &err)) {
      return ErrorResponse(400, "invalid_query", "since: " + err, "since");
    }
    f.since = t;
  }
  const std::string limit = QueryParam(c.req.query, "limit");
  if (!limit.empty()) {
    char* end = nullptr;
    long n = std::strtol(limit.c_str(), &end, 10);
    if (*end != '\0' || n < 1 || n > 1000) {
      return ErrorResponse(400, "invalid_query", "limit must be 1..1000", "limit");
    }
    f.limit = static_cast<size_t>(n);
  }
  const std::string cursor = QueryParam(c.req.query, "cursor");
  if (!cursor.empty()) {
    size_t colon = cursor.find(':');
    char* end = nullptr;
    long long at = std::strtoll(cursor.c_str(), &end, 10);
    if (colon == std::string::npos || end != cursor.c_str() + colon || colon + 1 >= cursor.size()) {
      return ErrorResponse(400, "invalid_query", "cursor is not one this API returned", "cursor");
    }
    f.before_at = Timestamp(std::chrono::microseconds(at));
    f.before_id = cursor.substr(colon + 1);
  }
  auto rows = s_.disclosures->List(c.school(), f);
  if (!rows.ok()) return ErrorResponse(rows.error());
  Json items = Json::array();
  for (const auto& d : *rows) items.push_back(DisclosureJson(d));
  Json next = nullptr;
  if (rows->size() == f.limit && !rows->empty()) {
    next = std::to_string(services::MicrosOf(rows->back().at)) + ":" + rows->back().id;
  }
  return JsonResponse(200, {{"items", items}, {"next_cursor", next}});
}

HttpResponse Api::ListRecipients(Call& c) {
  auto rt = s_.schools.Get(c.school());
  if (!rt.ok()) return ErrorResponse(rt.error());
  const policy::Policy& p = (*rt)->policy()->policy();
  Json items = Json::array();
  for (const auto& [id, rec] : p.recipients) {
    auto contact = s_.disclosures->Contact(c.school(), id);
    if (!contact.ok()) return ErrorResponse(contact.error());
    Json j = {{"id", id},
              {"title", rec.title.Get(c.lang)},
              {"kind", rec.kind},
              {"countries", rec.countries},
              {"safeguard", rec.safeguard},
              {"purposes", rec.purposes},
              {"data_form", rec.data_form},
              {"confidentiality_clause", rec.confidentiality_clause},
              {"contact", nullptr}};
    if (*contact) {
      // The webhook URL may carry a secret: only whether one is set.
      j["contact"] = {{"email", (*contact)->email.empty() ? Json(nullptr) : Json((*contact)->email)},
                      {"webhook", !(*contact)->webhook_url.empty()},
                      {"scc_document_url", (*contact)->scc_document_url.empty()
                                               ? Json(nullptr)
                                               : Json((*contact)->scc_document_url)},
                      {"updated_at", FormatTimestamp((*contact)->updated_at)},
                      {"updated_by", (*contact)->updated_by}};
    }
    items.push_back(std::move(j));
  }
  return JsonResponse(200, {{"items", items}, {"next_cursor", nullptr}});
}

HttpResponse Api::SetRecipientContact(Call& c) {
  auto body = ParseJsonObject(c.req);
  if (!body.ok()) return ErrorResponse(body.error());
  if (Status only = OnlyKeys(*body, {"email", "webhook_url", "scc_document_url"}); !only.ok()) {
    return ErrorResponse(only.error());
  }
  auto scc = OptString(*body, "scc_document_url");
  if (!scc.ok()) return ErrorResponse(scc.error());
  auto email = OptString(*body, "email");
  if (!email.ok()) return ErrorResponse(email.error());
  auto webhook = OptString(*body, "webhook_url");
  if (!webhook.ok()) return ErrorResponse(webhook.error());
  auto set = s_.disclosures->SetContact(c.school(), c.param("recipient"), email->value_or(""),
                                        webhook->value_or(""), scc->value_or(""), c.actor, c.ctx);
  if (!set.ok()) return ErrorResponse(set.error());
  return JsonResponse(200, {{"recipient", set->recipient},
                            {"email", set->email.empty() ? Json(nullptr) : Json(set->email)},
                            {"webhook", !set->webhook_url.empty()},
                            {"scc_document_url", set->scc_document_url.empty()
                                                     ? Json(nullptr)
                                                     : Json(set->scc_document_url)},
                            {"updated_at", FormatTimestamp(set->updated_at)}});
}

}  // namespace dovira::api
