// The rights-request routes (R35-R69): filing by staff (any channel, with the time of receipt on
// the original channel) and by the public (a person without an account, identity by an e-mailed
// code), the queue, a request's timeline and steps, the access package, the obligations
// dashboard and the jobs run on demand.
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <memory>

#include "api/api.h"
#include "api/call.h"
#include "api/http_util.h"
#include "domain/intake.h"

namespace dovira::api {
namespace {

using ports::HttpResponse;
using services::Actor;

const Json kAnyBody = Json{{"type", "object"}};

// A request filed by the public, as the public sees it: only what it needs to follow it.
Json PublicRequestJson(const services::RequestInfo& r) {
  return {{"id", r.id},
          {"type", r.type},
          {"state", r.state},
          {"received_at", FormatTimestamp(r.received_at)},
          {"due_at", FormatTimestamp(r.due_at)}};
}

}  // namespace

Json RequestJson(const services::RequestInfo& r, bool full) {
  Json j = {{"id", r.id},
            {"type", r.type},
            {"right", r.right},
            {"state", r.state},
            {"subject", r.subject.empty() ? Json(nullptr) : Json(r.subject)},
            {"channel", r.channel},
            {"filed_by", r.filed_by},
            {"received_at", FormatTimestamp(r.received_at)},
            {"due_at", FormatTimestamp(r.due_at)},
            {"due_source", r.due_source},
            {"term", r.term},
            {"trigger", r.trigger},
            {"overdue", r.overdue},
            {"late_by_days", r.late_by_days},
            {"assignee", r.assignee.empty() ? Json(nullptr) : Json(r.assignee)},
            {"outcome", r.outcome},
            {"closed_at", TimeOrNull(r.closed_at)}};
  if (!full) return j;
  Json tasks = Json::array();
  for (const auto& t : r.tasks) {
    tasks.push_back({{"target", t.target},
                     {"action", t.action},
                     {"state", t.state},
                     {"at", TimeOrNull(t.at)},
                     {"note", t.note}});
  }
  Json ext = Json::array();
  for (const auto& e : r.extensions) {
    ext.push_back({{"reason", e.reason},
                   {"basis", e.basis},
                   {"previous_due", FormatTimestamp(e.previous_due)},
                   {"new_due", FormatTimestamp(e.new_due)}});
  }
  j.update({{"filed_at", FormatTimestamp(r.filed_at)},
            {"lang", r.lang},
            {"fields", r.fields},
            {"purposes", r.purposes},
            {"consents", r.consents},
            {"ground", r.ground},
            {"segment", r.segment},
            {"mode", r.mode},
            {"reason", r.reason},
            {"decision", r.decision},
            {"clause", r.clause},
            {"identity", r.identity},
            {"verification_method", r.verification_method},
            {"verified_at", TimeOrNull(r.verified_at)},
            {"evidence_at", TimeOrNull(r.evidence_at)},
            {"correction_due", r.evidence_at ? Json(FormatTimestamp(r.due_at)) : Json(nullptr)},
            {"fee_may_apply", r.fee_may_apply},
            {"warned_half_at", TimeOrNull(r.warned_half_at)},
            {"warned_four_fifths_at", TimeOrNull(r.warned_four_fifths_at)},
            {"overdue_at", TimeOrNull(r.overdue_at)},
            {"answered_at", TimeOrNull(r.answered_at)},
            {"reply_email", r.reply_email.empty() ? Json(nullptr) : Json(r.reply_email)},
            {"statement", r.statement},
            {"blocked", r.blocked},
            {"restricted", r.restricted},
            {"restrict_all", r.restrict_all},
            {"objection_pending", r.objection_pending},
            {"objection_upheld", r.objection_upheld},
            {"kept", r.kept},
            {"deferred", r.deferred},
            {"tasks", tasks},
            {"extensions", ext}});
  return j;
}


Result<services::FileRequest> FileRequestFrom(const Json& body, Filer filer) {
  const bool is_public = filer != Filer::kStaff;
  std::vector<std::string> keys = {"type",      "reply_email",   "name",
                                   "lang",      "fields",        "purposes",    "consents",
                                   "ground",    "statement",     "segment",     "mode",
                                   "destination_url", "acknowledged_warning"};
  if (filer != Filer::kCabinet) keys.emplace_back("email");  // the cabinet's subject is known
  if (!is_public) {
    for (const char* k : {"subject", "channel", "filed_by", "received_at", "evidence_supplied"}) {
      keys.emplace_back(k);
    }
  }
  if (Status only = OnlyKeys(body, keys); !only.ok()) return only.error();
  services::FileRequest f;
  // The mistakes a person can make at once (no type, no or a wrong e-mail address, a member of
  // the wrong kind) are reported together (issue 12).
  std::vector<Error> problems;
  auto type = ReqString(body, "type");
  if (type.ok()) {
    f.type = *type;
  } else {
    problems.push_back(type.error());
  }
  struct S {
    const char* key;
    std::string* dst;
  };
  for (S s : {S{"email", &f.email}, S{"reply_email", &f.reply_email}, S{"name", &f.requester_name},
              S{"lang", &f.lang}, S{"ground", &f.ground}, S{"statement", &f.statement},
              S{"segment", &f.segment}, S{"mode", &f.mode},
              S{"destination_url", &f.destination_url}, S{"channel", &f.channel},
              S{"filed_by", &f.filed_by}}) {
    auto v = OptString(body, s.key);
    if (!v.ok()) {
      problems.push_back(v.error());
    } else if (*v) {
      *s.dst = **v;
    }
  }
  if (filer == Filer::kPublic) {
    if (f.email.empty()) {
      problems.push_back(Error{ErrorCode::kInvalidArgument, "email is required", "email",
                               "missing_field"});
    } else if (!domain::NormaliseEmail(f.email)) {
      problems.push_back(Error{ErrorCode::kInvalidArgument, "email is not an e-mail address",
                               "email", "email_invalid"});
    }
  }
  if (!problems.empty()) return Error::Combine(std::move(problems));
  for (auto [key, dst] : {std::pair<const char*, std::vector<std::string>*>{"fields", &f.fields},
                          {"purposes", &f.purposes},
                          {"consents", &f.consents}}) {
    auto v = OptStringList(body, key);
    if (!v.ok()) return v.error();
    *dst = *v;
  }
  if (f.statement.size() > 10000) return Error::Invalid("statement is too long", "statement");
  auto subject = OptString(body, "subject");
  if (!subject.ok()) return subject.error();
  if (*subject) f.subject = SubjectId(**subject);
  auto received = OptTimestamp(body, "received_at");
  if (!received.ok()) return received.error();
  f.received_at = *received;
  auto ack = OptBool(body, "acknowledged_warning");
  if (!ack.ok()) return ack.error();
  f.acknowledged_warning = ack->value_or(false);
  auto evidence = OptBool(body, "evidence_supplied");
  if (!evidence.ok()) return evidence.error();
  f.evidence_supplied = evidence->value_or(false);
  if (filer == Filer::kPublic) {
    f.channel = "web";
    f.filed_by = "subject";
  } else if (filer == Filer::kCabinet) {
    f.channel = "personal_account";
    f.filed_by = "subject";
  }
  return f;
}

namespace {

std::string LastSegment(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

void Api::RegisterRequestRoutes() {
  auto doc = [](std::string summary, int ok, std::vector<int> errors,
                std::vector<std::string> query = {}) {
    RouteDoc d;
    d.summary = std::move(summary);
    d.tag = "requests";
    d.request_schema = kAnyBody;
    d.response_schema = kAnyBody;
    d.success_status = ok;
    d.errors = std::move(errors);
    d.query = std::move(query);
    return d;
  };
  const std::vector<int> step_errors = {400, 401, 403, 404, 409, 422};
  Register("POST", "/v1/schools/{school}/requests",
           Access::Staff(Capability::kNone, PersonalData::kNone),
           doc("File a rights request received through any channel, with its time of receipt "
               "(R35); the due date follows from the policy (R65-R67)",
               201, step_errors),
           &Api::FileRequest);
  Register("GET", "/v1/schools/{school}/requests",
           Access::Staff(Capability::kDecides, PersonalData::kNone),
           doc("The request queue by due date", 200, {400, 401, 403},
               {"type", "state", "open", "overdue", "due_before", "assignee", "subject", "cursor",
                "limit"}),
           &Api::ListRequests);
  Register("GET", "/v1/schools/{school}/requests/{request}",
           Access::Staff(Capability::kDecides, PersonalData::kReleased),
           doc("A request with its timeline and messages", 200, {401, 403, 404}), &Api::GetRequest);
  for (const auto& [step, summary] : std::vector<std::pair<std::string, std::string>>{
           {"verify", "Confirm the requester's identity: email_code, document or signed_in (R37)"},
           {"evidence", "Record that the subject supplied evidence; the term restarts (R46, R66)"},
           {"complete", "Carry out the request: answer, rectify, erase, lift, decide (R40-R63)"},
           {"reject", "Refuse the request; the answer states the right to complain (R64)"},
           {"extend", "Extend the term with a reason and a legal basis (B10)"},
           {"assign", "Assign the request to a staff member"},
           {"lift-block", "Lift a rectification's block before the correction, with the reason "
                          "why blocking would harm the subject or third parties (R45, 001)"},
           {"comments", "Add a comment to the timeline"},
           {"tasks", "A store or recipient confirms its part (B03)"}}) {
    Register("POST", "/v1/schools/{school}/requests/{request}/" + step,
             Access::Staff(Capability::kDecides, PersonalData::kReleased),
             doc(summary, 200, step_errors), &Api::RequestStep);
  }
  Register("GET", "/v1/schools/{school}/requests/{request}/package",
           Access::Staff(Capability::kDecides, PersonalData::kReleased),
           doc("The access package (R40); 409 while the identity is unconfirmed (R37)", 200,
               {401, 403, 404, 409}),
           &Api::RequestPackage);
  Register("POST", "/v1/schools/{school}/public/requests", Access::Public(),
           doc("File a request without an account (R26, R35); a code is e-mailed to the address "
               "on file to confirm identity (R37)",
               201, {400, 404, 409, 422}),
           &Api::PublicFileRequest);
  Register("POST", "/v1/schools/{school}/reports/child-data", Access::Public(),
           doc("Report that a child's data were collected, with or without an account (R26): "
               "opens a case for the officer on the policy's deletion term for a minor's data; "
               "the answer says nothing about who is on file",
               201, {400, 404, 429}),
           &Api::ReportChildData);
  Register("POST", "/v1/schools/{school}/public/requests/{request}/verify", Access::Public(),
           doc("Confirm a public request with the e-mailed code: five tries, fifteen minutes "
               "(R37)",
               200, {400, 404, 409, 422, 429}),
           &Api::PublicVerifyRequest);
  Register("POST", "/v1/schools/{school}/public/requests/{request}/code", Access::Public(),
           doc("E-mail a new code for a public request that awaits identity, to where the first "
               "one went; the earlier code stops working (R37)",
               202, {400, 404, 409, 422, 429}),
           &Api::PublicResendCode);
  Register("POST", "/v1/schools/{school}/decisions",
           Access::Staff(Capability::kDecides, PersonalData::kNone),
           doc("Record a decision about a subject in the decisions register (the audit log); a "
               "legally significant one needs a human in decided_by (R60)",
               201, {400, 401, 403, 404, 422}),
           &Api::RecordDecision);
  Register("GET", "/v1/schools/{school}/subjects/{subject}/segments",
           Access::Staff(Capability::kNone, PersonalData::kNone),
           doc("The marketing segments the subject is in now: placed by the decisions register, "
               "less those a contest_segment decision removed them from (R61)",
               200, {401, 403, 404}),
           &Api::SubjectSegments);
  Register("GET", "/v1/schools/{school}/obligations",
           Access::Staff(Capability::kNone, PersonalData::kNone),
           doc("Obligations due, overdue and closed late (B10), and partly done requests with the "
               "stores or recipients that have not confirmed (B03)",
               200, {401, 403}),
           &Api::Obligations);
  Register("POST", "/v1/schools/{school}/jobs/{job}/run",
           Access::Staff(Capability::kPrivileged, PersonalData::kNone),
           doc("Run a job now: deadlines (R68, B10, R56; overdue reviews of the policy, R117), "
               "outbox (delivery) or retention (the erasures legal holds deferred, once the hold "
               "ends; R50)",
               200, {401, 403, 404}),
           &Api::RunJob);
}

HttpResponse Api::FileRequest(Call& c) {
  auto body = ParseJsonObject(c.req);
  if (!body.ok()) return ErrorResponse(body.error());
  auto f = FileRequestFrom(*body, Filer::kStaff);
  if (!f.ok()) return ErrorResponse(f.error());
  // Any role of the school may file a call it took (a support desk); a letter to an address that
  // is not on file is another matter: only a role that may decide requests sends one (issue 11).
  if (!f->reply_email.empty()) {
    if (Status st = RequireCapability(s_.schools, c, Capability::kDecides); !st.ok()) {
      Error e = st.error();
      e.message = "reply_email sends the answer to an address not on file: " + e.message;
      e.field = "reply_email";
      return ErrorResponse(e);
    }
  }
  if (f->channel.empty()) f->channel = "support";
  if (f->lang.empty()) f->lang = c.lang;
  auto r = s_.requests->File(c.school(), *f, c.actor, c.ctx);
  if (!r.ok()) return ErrorResponse(r.error());
  NudgeOutbox();
  return JsonResponse(201, RequestJson(*r, true));
}

HttpResponse Api::PublicFileRequest(Call& c) {
  auto body = ParseJsonObject(c.req);
  if (!body.ok()) return ErrorResponse(body.error());
  auto f = FileRequestFrom(*body, Filer::kPublic);
  if (!f.ok()) return ErrorResponse(f.error());
  if (f->lang.empty()) f->lang = c.lang;
  if (Status allowed = AllowPublicMail(c, f->email); !allowed.ok()) {
    return ErrorResponse(allowed.error());
  }
  auto r = s_.requests->File(c.school(), *f, Actor::Public(), c.ctx);
  if (!r.ok()) return ErrorResponse(r.error());
  NudgeOutbox();
  return JsonResponse(201, PublicRequestJson(*r));
}

HttpResponse Api::ReportChildData(Call& c) {
  auto body = ParseJsonObject(c.req);
  if (!body.ok()) return ErrorResponse(body.error());
  if (Status only = OnlyKeys(*body, {"reporter_email", "hint", "details", "lang"}); !only.ok()) {
    return ErrorResponse(only.error());
  }
  auto invalid = [](std::string what, const char* field) {
    return ErrorResponse(Error{ErrorCode::kInvalidArgument, std::move(what), field, "invalid_field"});
  };
  auto reporter = ReqString(*body, "reporter_email");
  if (!reporter.ok()) return ErrorResponse(reporter.error());
  if (!domain::NormaliseEmail(*reporter)) {
    return invalid("\"reporter_email\" is not an e-mail address", "reporter_email");
  }
  // What lets the officer find the child: an e-mail address on file, a name, a class.
  auto hint = ReqString(*body, "hint");
  if (!hint.ok()) return ErrorResponse(hint.error());
  if (hint->size() > 200) return invalid("\"hint\" is longer than 200 characters", "hint");
  auto details = OptString(*body, "details");
  if (!details.ok()) return ErrorResponse(details.error());
  if (*details && (*details)->size() > 2000) {
    return invalid("\"details\" is longer than 2000 characters", "details");
  }
  auto lang = OptString(*body, "lang");
  if (!lang.ok()) return ErrorResponse(lang.error());
  if (Status allowed = AllowPublicMail(c, *reporter); !allowed.ok()) {
    return ErrorResponse(allowed.error());
  }
  services::FileRequest f;
  f.type = "child_data_report";
  f.channel = "web";
  f.filed_by = "reporter";
  f.reply_email = *reporter;
  // A hint that is an e-mail address is matched against the addresses on file.
  if (domain::NormaliseEmail(*hint)) f.email = *hint;
  f.statement = *hint + (*details ? "\n" + **details : std::string());
  f.lang = lang->value_or(c.lang);
  auto r = s_.requests->File(c.school(), f, Actor::Public(), c.ctx);
  if (!r.ok()) return ErrorResponse(r.error());
  NudgeOutbox();
  // Whether the child is on file is the officer's to find out, not the reporter's.
  return JsonResponse(201, PublicRequestJson(*r));
}

Status Api::AllowPublicMail(const Call& c, const std::string& email) {
  const Timestamp now = s_.clock.Now();
  auto limited = [](std::string what) {
    return Error{ErrorCode::kTooManyRequests, std::move(what), {}, "rate_limited"};
  };
  if (!public_by_ip_.Allow(c.ctx.ip, now)) {
    return limited("too many requests from this address; try again in a minute");
  }
  // Keyed by the address asked for, known or not, so the limit says nothing about who is on file.
  if (auto address = domain::NormaliseEmail(email);
      address && !mail_by_address_.Allow(c.school().value() + "|" + *address, now)) {
    return limited("too many codes were asked for this e-mail address; try again in 15 minutes");
  }
  return Status::Ok();
}

HttpResponse Api::PublicVerifyRequest(Call& c) {
  auto body = ParseJsonObject(c.req);
  if (!body.ok()) return ErrorResponse(body.error());
  if (Status only = OnlyKeys(*body, {"code"}); !only.ok()) return ErrorResponse(only.error());
  auto code = ReqString(*body, "code");
  if (!code.ok()) return ErrorResponse(code.error());
  auto r = s_.requests->Verify(c.school(), c.param("request"), "email_code", *code, "",
                               Actor::Public(), c.ctx);
  if (!r.ok()) return ErrorResponse(r.error());
  NudgeOutbox();
  return JsonResponse(200, {{"id", r->id}, {"state", r->state}, {"due_at", FormatTimestamp(r->due_at)}});
}

HttpResponse Api::PublicResendCode(Call& c) {
  auto body = ParseJsonObject(c.req);
  if (!body.ok()) return ErrorResponse(body.error());
  if (Status only = OnlyKeys(*body, {"email"}); !only.ok()) return ErrorResponse(only.error());
  auto email = ReqString(*body, "email");
  if (!email.ok()) return ErrorResponse(email.error());
  if (Status allowed = AllowPublicMail(c, *email); !allowed.ok()) {
    return ErrorResponse(allowed.error());
  }
  auto r = s_.requests->ResendCode(c.school(), c.param("request"), *email, Actor::Public(), c.ctx);
  if (!r.ok()) return ErrorResponse(r.error());
  NudgeOutbox();
  return JsonResponse(202, {{"id", r->id},
                            {"state", r->state},
                            {"code_expires_at", TimeOrNull(r->code_expires_at)}});
}

HttpResponse Api::ListRequests(Call& c) {
  ports::RequestFilter f;
  f.type = QueryParam(c.req.query, "type");
  f.state = QueryParam(c.req.query, "state");
  f.assignee = QueryParam(c.req.query, "assignee");
  f.subject = QueryParam(c.req.query, "subject");
  const std::string open = QueryParam(c.req.query, "open");
  f.open_only = open.empty() || open == "true";
  if (!open.empty() && open != "true" && open != "false") {
    return ErrorResponse(400, "invalid_query", "open must be true or false", "open");
  }
  const std::string overdue = QueryParam(c.req.query, "overdue");
  if (!overdue.empty() && overdue != "true" && overdue != "false") {
    return ErrorResponse(400, "invalid_query", "overdue must be true or false", "overdue");
  }
  f.overdue_only = overdue == "true";
  if (!f.state.empty() && !domain::ParseRequestState(f.state)) {
    return ErrorResponse(400, "invalid_query", "unknown state " + f.state, "state");
  }
  const std::string due_before = QueryParam(c.req.query, "due_before");
  if (!due_before.empty()) {
    Timestamp t;
    std::string err;
    if (!ParseTimestamp(due_before, &t, &err)) {
      return ErrorResponse(400, "invalid_query", "due_before: " + err, "due_before");
    }
    f.due_before = t;
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
    long long due = std::strtoll(cursor.c_str(), &end, 10);
    if (colon == std::string::npos || end != cursor.c_str() + colon) {
      return ErrorResponse(400, "invalid_query", "cursor is not one this API returned", "cursor");
    }
    f.after_due = Timestamp(std::chrono::microseconds(due));
    f.after_id = cursor.substr(colon + 1);
  }
  auto rows = s_.requests->List(c.school(), f);
  if (!rows.ok()) return ErrorResponse(rows.error());
  Json items = Json::array();
  for (const auto& r : *rows) items.push_back(RequestJson(r, false));
  Json next = nullptr;
  if (rows->size() == f.limit && !rows->empty()) {
    next = std::to_string(services::MicrosOf(rows->back().due_at)) + ":" + rows->back().id;
  }
  return JsonResponse(200, {{"items", items}, {"next_cursor", next}});
}

HttpResponse Api::GetRequest(Call& c) {
  auto r = s_.requests->Get(c.school(), c.param("request"));
  if (!r.ok()) return ErrorResponse(r.error());
  Json j = RequestJson(*r, true);
  auto events = s_.requests->Events(c.school(), r->id);
  if (!events.ok()) return ErrorResponse(events.error());
  Json timeline = Json::array();
  for (const auto& e : *events) {
    Json detail = Json::parse(e.detail, nullptr, false);
    timeline.push_back({{"seq", e.seq},
                        {"at", FormatTimestamp(e.at)},
                        {"actor", e.actor},
                        {"kind", e.kind},
                        {"detail", detail.is_discarded() ? Json::object() : detail},
                        {"comment", e.comment}});
  }
  j["timeline"] = timeline;
  Json messages = Json::array();
  if (s_.outbox != nullptr) {
    auto sent = s_.outbox->ForRequest(c.school(), r->id);
    if (!sent.ok()) return ErrorResponse(sent.error());
    for (const auto& m : *sent) {
      messages.push_back({{"id", m.id},
                          {"channel", m.channel},
                          {"kind", m.kind},
                          {"state", m.state},
                          {"attempts", m.attempts},
                          {"created_at", FormatTimestamp(m.created_at)},
                          {"sent_at", TimeOrNull(m.sent_at)},
                          {"due", TimeOrNull(m.due)},
                          {"overdue", m.overdue_at.has_value()},
                          {"overdue_at", TimeOrNull(m.overdue_at)},
                          {"late_by_days", m.late_by_days},
                          {"last_error", m.last_error}});
    }
  }
  j["messages"] = messages;
  return JsonResponse(200, j);
}

HttpResponse Api::RequestStep(Call& c) {
  auto body = ParseJsonObject(c.req);
  if (!body.ok()) return ErrorResponse(body.error());
  const std::string step = LastSegment(c.route->pattern);
  const std::string id = c.param("request");
  auto str = [&](const char* key) -> Result<std::string> {
    auto v = OptString(*body, key);
    if (!v.ok()) return v.error();
    return v->value_or("");
  };
  Result<services::RequestInfo> r = Error::Invalid("unknown step");
  if (step == "verify") {
    if (Status o = OnlyKeys(*body, {"method", "code", "evidence"}); !o.ok()) return ErrorResponse(o.error());
    auto method = ReqString(*body, "method");
    auto code = str("code");
    auto evidence = str("evidence");
    for (auto* v : {&method, &code, &evidence}) {
      if (!v->ok()) return ErrorResponse(v->error());
    }
    r = s_.requests->Verify(c.school(), id, *method, *code, *evidence, c.actor, c.ctx);
  } else if (step == "evidence") {
    if (Status o = OnlyKeys(*body, {"at", "note"}); !o.ok()) return ErrorResponse(o.error());
    auto at = OptTimestamp(*body, "at");
    if (!at.ok()) return ErrorResponse(at.error());
    auto note = str("note");
    if (!note.ok()) return ErrorResponse(note.error());
    r = s_.requests->SupplyEvidence(c.school(), id, *at, *note, c.actor, c.ctx);
  } else if (step == "complete") {
    if (Status o = OnlyKeys(*body, {"changes", "decision", "justification", "answer",
                                    "storage_needed", "storage_basis", "note"});
        !o.ok()) {
      return ErrorResponse(o.error());
    }
    services::CompleteRequest in;
    if (body->contains("changes")) {
      const Json& ch = (*body)["changes"];
      if (!ch.is_object()) return ErrorResponse(400, "invalid_field", "changes must be an object", "changes");
      for (const auto& [k, v] : ch.items()) {
        if (!v.is_string()) {
          return ErrorResponse(400, "invalid_field", "changes." + k + " must be a string", "changes");
        }
        in.changes[k] = v.get<std::string>();
      }
    }
    for (auto [key, dst] : {std::pair<const char*, std::string*>{"decision", &in.decision},
                            {"justification", &in.justification},
                            {"answer", &in.answer},
                            {"storage_basis", &in.storage_basis},
                            {"note", &in.note}}) {
      auto v = str(key);
      if (!v.ok()) return ErrorResponse(v.error());
      *dst = *v;
    }
    auto keep = OptBool(*body, "storage_needed");
    if (!keep.ok()) return ErrorResponse(keep.error());
    in.storage_needed = keep->value_or(false);
    r = s_.requests->Complete(c.school(), id, in, c.actor, c.ctx);
  } else if (step == "reject") {
    if (Status o = OnlyKeys(*body, {"reason"}); !o.ok()) return ErrorResponse(o.error());
    auto reason = str("reason");
    if (!reason.ok()) return ErrorResponse(reason.error());
    r = s_.requests->Reject(c.school(), id, *reason, c.actor, c.ctx);
  } else if (step == "extend") {
    if (Status o = OnlyKeys(*body, {"reason", "basis", "term"}); !o.ok()) return ErrorResponse(o.error());
    auto reason = str("reason");
    auto basis = str("basis");
    auto term = ReqString(*body, "term");
    for (auto* v : {&reason, &basis, &term}) {
      if (!v->ok()) return ErrorResponse(v->error());
    }
    r = s_.requests->Extend(c.school(), id, *reason, *basis, *term, c.actor, c.ctx);
  } else if (step == "lift-block") {
    if (Status o = OnlyKeys(*body, {"reason"}); !o.ok()) return ErrorResponse(o.error());
    auto reason = str("reason");
    if (!reason.ok()) return ErrorResponse(reason.error());
    r = s_.requests->LiftBlock(c.school(), id, *reason, c.actor, c.ctx);
  } else if (step == "assign") {
    if (Status o = OnlyKeys(*body, {"staff"}); !o.ok()) return ErrorResponse(o.error());
    auto staff = ReqString(*body, "staff");
    if (!staff.ok()) return ErrorResponse(staff.error());
    r = s_.requests->Assign(c.school(), id, StaffId(*staff), c.actor, c.ctx);
  } else if (step == "comments") {
    if (Status o = OnlyKeys(*body, {"text"}); !o.ok()) return ErrorResponse(o.error());
    auto text = ReqString(*body, "text");
    if (!text.ok()) return ErrorResponse(text.error());
    r = s_.requests->Comment(c.school(), id, *text, c.actor, c.ctx);
  } else if (step == "tasks") {
    if (Status o = OnlyKeys(*body, {"target", "ok", "note"}); !o.ok()) return ErrorResponse(o.error());
    auto target = ReqString(*body, "target");
    if (!target.ok()) return ErrorResponse(target.error());
    auto ok = OptBool(*body, "ok");
    if (!ok.ok()) return ErrorResponse(ok.error());
    auto note = str("note");
    if (!note.ok()) return ErrorResponse(note.error());
    r = s_.requests->ConfirmTask(c.school(), id, *target, ok->value_or(true), *note, c.actor, c.ctx);
  }
  if (!r.ok()) return ErrorResponse(r.error());
  NudgeOutbox();
  return JsonResponse(200, RequestJson(*r, true));
}

HttpResponse Api::RequestPackage(Call& c) {
  auto package = s_.requests->Package(c.school(), c.param("request"), c.actor, c.ctx);
  if (!package.ok()) return ErrorResponse(package.error());
  HttpResponse resp;
  resp.status = 200;
  resp.Header("Content-Type", "application/json; charset=utf-8");
  resp.Header("Content-Disposition", "attachment; filename=\"package-" + c.param("request") + ".json\"");
  resp.Header("Cache-Control", "no-store");
  // Streamed (chunked): the records are read and written a page at a time (R40). The audit entry
  // is already committed; a failure from here on ends the body early.
  auto stream = std::make_shared<services::RequestService::PackageStream>(std::move(*package));
  resp.stream = [stream, request_id = c.req.request_id](ports::HttpBodyWriter& w) -> Status {
    Status st = stream->Write([&w](std::string piece) { return w.Write(std::move(piece)); });
    if (!st.ok()) {
      spdlog::warn("{}", Json({{"msg", "access package ended early"},
                               {"request_id", request_id},
                               {"reason", st.error().message}})
                             .dump());
    }
    return st;
  };
  return resp;
}

HttpResponse Api::Obligations(Call& c) {
  ports::RequestFilter f;
  f.limit = 100000;
  auto all = s_.requests->List(c.school(), f);
  if (!all.ok()) return ErrorResponse(all.error());
  const Timestamp now = s_.clock.Now();
  int open = 0, overdue = 0, due_week = 0, closed = 0, closed_late = 0;
  Json by_week = Json::object();
  Json incomplete = Json::array();  // B03: partly done requests and the parts not confirmed
  for (const auto& r : *all) {
    auto state = domain::ParseRequestState(r.state);
    if (state && domain::IsOutstanding(*state)) {  // B03: partly done counts as open
      ++open;
      if (*state == domain::RequestState::kPartlyDone) {
        Json parts = Json::array();
        for (const auto& t : r.tasks) {
          if (t.state != "done") parts.push_back({{"target", t.target}, {"state", t.state}});
        }
        incomplete.push_back({{"request", r.id}, {"type", r.type}, {"tasks", parts}});
      }
      const bool late = r.overdue || r.due_at < now;
      if (late) ++overdue;
      else if (r.due_at < now + std::chrono::hours(24 * 7)) ++due_week;
      // Whole weeks from now, for requests not yet due; anything past due is "overdue", however
      // recently (a division alone would put the last 7 days' overdue requests in week 0).
      const std::string key =
          late ? "overdue"
               : std::to_string(
                     std::chrono::duration_cast<std::chrono::hours>(r.due_at - now).count() /
                     (24 * 7));
      by_week[key] = by_week.value(key, 0) + 1;
    } else {
      ++closed;
      if (r.late_by_days > 0) ++closed_late;
    }
  }
  return JsonResponse(200, {{"open", open},
                            {"overdue", overdue},
                            {"due_within_7_days", due_week},
                            {"closed", closed},
                            {"closed_late", closed_late},
                            {"open_by_weeks_until_due", by_week},
                            {"incomplete", incomplete}});
}

HttpResponse Api::RunJob(Call& c) {
  const std::string job = c.param("job");
  if (job == "deadlines") {
    auto report = s_.requests->RunDeadlines(c.school(), c.ctx);
    if (!report.ok()) return ErrorResponse(report.error());
    // B06: minors who came of age are asked to re-consent with the same run.
    int reconsent_opened = 0;
    if (s_.guardians != nullptr) {
      auto majorities = s_.guardians->RunMajorities(c.school(), c.ctx);
      if (!majorities.ok()) return ErrorResponse(majorities.error());
      reconsent_opened = majorities->reconsent_opened;
      if (reconsent_opened > 0) NudgeOutbox();
    }
    // R68, R117: review tasks of the policy past their due day.
    int reviews_overdue = 0;
    if (s_.reviews != nullptr) {
      auto reviews = s_.reviews->MarkOverdue(c.school(), c.ctx);
      if (!reviews.ok()) return ErrorResponse(reviews.error());
      reviews_overdue = *reviews;
      if (reviews_overdue > 0) NudgeOutbox();
    }
    return JsonResponse(200, {{"job", job},
                              {"overdue", report->overdue},
                              {"warnings", report->warnings},
                              {"destroyed", report->destroyed},
                              {"notices_overdue", report->notices_overdue},
                              {"holds_overdue", report->holds_overdue},
                              {"reconsent_opened", reconsent_opened},
                              {"reviews_overdue", reviews_overdue}});
  }
  if (job == "outbox") {
    if (s_.outbox == nullptr) return ErrorResponse(404, "not_found", "no outbox");
    auto report = s_.outbox->DeliverDue();
    if (!report.ok()) return ErrorResponse(report.error());
    return JsonResponse(200, {{"job", job},
                              {"sent", report->sent},
                              {"retried", report->retried},
                              {"failed", report->failed}});
  }
  if (job == "retention" && s_.holds != nullptr) return RunRetention(c);
  return ErrorResponse(404, "job_unknown", "no such job: use deadlines, outbox or retention",
                       "job");
}

HttpResponse Api::RecordDecision(Call& c) {
  auto body = ParseJsonObject(c.req);
  if (!body.ok()) return ErrorResponse(body.error());
  if (Status only =
          OnlyKeys(*body, {"class", "subject", "decided_by", "model", "outcome", "segment"});
      !only.ok()) {
    return ErrorResponse(only.error());
  }
  services::RequestService::Decision d;
  auto cls = ReqString(*body, "class");
  if (!cls.ok()) return ErrorResponse(cls.error());
  d.cls = *cls;
  if (body->contains("decided_by") && !(*body)["decided_by"].is_null()) {
    auto by = ReqString(*body, "decided_by");
    if (!by.ok()) return ErrorResponse(by.error());
    d.decided_by = *by;
  }
  for (auto [key, dst] : {std::pair<const char*, std::string*>{"model", &d.model},
                          {"outcome", &d.outcome},
                          {"segment", &d.segment}}) {
    auto v = OptString(*body, key);
    if (!v.ok()) return ErrorResponse(v.error());
    if (*v) *dst = **v;
  }
  auto subject = OptString(*body, "subject");
  if (!subject.ok()) return ErrorResponse(subject.error());
  if (*subject) d.subject = SubjectId(**subject);
  auto id = s_.requests->RecordDecision(c.school(), d, c.actor, c.ctx);
  if (!id.ok()) return ErrorResponse(id.error());
  return JsonResponse(201, {{"id", *id}, {"class", d.cls}, {"solely_automated", d.decided_by.empty()}});
}

HttpResponse Api::SubjectSegments(Call& c) {
  const SubjectId subject(c.param("subject"));
  auto segments = s_.requests->Segments(c.school(), subject);
  if (!segments.ok()) return ErrorResponse(segments.error());
  return JsonResponse(200, {{"subject", subject.value()}, {"segments", *segments}});
}

}  // namespace dovira::api
