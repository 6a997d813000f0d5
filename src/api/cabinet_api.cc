// The personal cabinet's routes under /v1/schools/{school}/me: sign-in with an e-mailed code,
// everything stored about the subject (R38), self-service edits and deletions (R44), the export
// and its transfer to a third party (R54), the subject's requests and withdrawal (R55, R58), and
// a guardian acting for a linked minor and the now-adult's re-consent (B06).
#include <algorithm>

#include "api/api.h"
#include "api/call.h"
#include "api/http_util.h"
#include "domain/requests.h"
#include "i18n/i18n.h"

namespace dovira::api {
namespace {

using ports::HttpResponse;

const Json kAnyBody = Json{{"type", "object"}};
constexpr char kCookie[] = "dovira_me";

// A policy title in `lang` (the school's authoritative language, then any, when it lacks one);
// the id itself only when the policy gives no title at all.
std::string TitleOr(const policy::LocalText& title, const std::string& id, const std::string& lang,
                    const std::string& fallback) {
  const std::string& text = title.Get(lang, fallback);
  return text.empty() ? id : text;
}

// One field as the cabinet shows it: the ids for programs and, beside them, the policy's titles
// in the reader's language for the field, its category and each store that keeps it.
Json FieldJson(const services::CabinetField& f, const policy::Policy& p, const std::string& lang) {
  const std::string& auth = p.school.authoritative_language;
  const policy::Field* def = p.FindField(f.field);
  auto cat = p.categories.find(f.category);
  Json kept_in = Json::array();
  for (const auto& id : f.stores) {
    auto store = std::find_if(p.storage.stores.begin(), p.storage.stores.end(),
                              [&](const policy::Store& s) { return s.id == id; });
    kept_in.push_back(
        {{"id", id},
         {"title", store == p.storage.stores.end() ? id : TitleOr(store->title, id, lang, auth)}});
  }
  return {{"field", f.field},
          {"title", def == nullptr ? f.field : TitleOr(def->title, f.field, lang, auth)},
          {"category", f.category},
          {"category_title",
           cat == p.categories.end() ? f.category : TitleOr(cat->second.title, f.category, lang, auth)},
          {"value", f.value},
          {"source", f.source},
          {"channel", f.channel},
          {"form", f.form},
          {"stores", f.stores},
          {"kept_in", kept_in},
          {"collected_at", FormatTimestamp(f.collected_at)},
          {"editable", f.provided}};
}


Json MarketingJson(const services::MarketingPreferences& m) {
  Json purposes = Json::array();
  for (const auto& p : m.purposes) {
    purposes.push_back({{"purpose", p.purpose},
                        {"title", p.title},
                        {"description", p.description},
                        {"channels", p.channels},
                        {"state", p.state},
                        {"reason", p.reason},
                        {"consent_active", p.consent_active},
                        {"since", TimeOrNull(p.since)},
                        {"consent", p.consent_type.empty() ? Json(nullptr) : Json(p.consent_type)},
                        {"consent_title", p.consent_title},
                        {"text", p.text},
                        {"withdrawal_procedure", p.withdrawal_procedure}});
  }
  return Json{{"model", m.model},
              {"granular_optout", m.granular_optout},
              {"policy_version", m.policy_version},
              {"purposes", purposes}};
}

}  // namespace

void Api::RegisterCabinetRoutes() {
  auto doc = [](std::string summary, Json request, int ok, std::vector<int> errors,
                std::vector<std::string> query = {}) {
    RouteDoc d;
    d.summary = std::move(summary);
    d.tag = "cabinet";
    d.request_schema = std::move(request);
    d.response_schema = kAnyBody;
    d.success_status = ok;
    d.errors = std::move(errors);
    d.query = std::move(query);
    return d;
  };
  const std::string me = "/v1/schools/{school}/me";
  Register("POST", me + "/sign-in", Access::Public(),
           doc("Start signing in to the personal account: a one-time code is e-mailed to the "
               "address if it is on file (the answer is the same either way)",
               Obj({{"email", kStr}, {"lang", kStr}}, {"email"}), 202, {400, 404}),
           &Api::MeSignIn);
  Register("POST", me + "/sign-in/verify", Access::Public(),
           doc("Finish signing in with the e-mailed code; sets the dovira_me cookie",
               Obj({{"login", kStr}, {"code", kStr}}, {"login", "code"}), 200, {400, 403}),
           &Api::MeSignInVerify);
  Register("POST", me + "/sign-out", Access::Subject(PersonalData::kNone),
           doc("Sign out of the personal account", nullptr, 200, {401, 403}), &Api::MeSignOut);
  Register("GET", me, Access::Subject(PersonalData::kNone),
           doc("The signed-in subject's session (with its CSRF token)", nullptr, 200, {401}),
           &Api::MeSession);
  Register("PATCH", me, Access::Subject(PersonalData::kNone),
           doc("Change fields you provided: {field: new value, ...} (R44)", kAnyBody, 200,
               {400, 401, 403, 422}),
           &Api::MeUpdate);
  Register("GET", me + "/data", Access::Subject(PersonalData::kReleased),
           doc("Everything stored about you: fields, consents, purposes, recipients, retention, "
               "sources and your requests (R38), and the grounds a request may state (R49)",
               nullptr, 200, {401}),
           &Api::MeData);
  Register(
      "DELETE", me + "/fields/{field}", Access::Subject(PersonalData::kNone),
      doc("Delete a field you provided from every store (R44, R73)", nullptr, 204, {401, 403, 422}),
      &Api::MeDeleteField);
  Register("POST", me + "/statements", Access::Subject(PersonalData::kNone),
           doc("Attach your own statement to a field you have on file, supplementing it (R44); "
               "it goes with the field in the access package and to staff who may read the field",
               Obj({{"field", kStr}, {"text", kStr}}, {"field", "text"}), 201,
               {400, 401, 403, 422}),
           &Api::MeAttachStatement);
  Register("GET", me + "/export", Access::Subject(PersonalData::kReleased),
           doc("The data you provided, as JSON (schema/export-v1.json) or CSV (R54)", nullptr, 200,
               {400, 401}, {"format"}),
           &Api::MeExport);
  Register("POST", me + "/export", Access::Subject(PersonalData::kReleased),
           doc("Send the data you provided to a third party over HTTPS (R54); filed as a "
               "portability request",
               Obj({{"destination_url", kStr}, {"lang", kStr}}, {"destination_url"}), 202,
               {400, 401, 403, 422}),
           &Api::MeTransfer);
  Register("GET", me + "/rights", Access::Subject(PersonalData::kNone),
           doc("The rights that apply to you: those of the whole policy and, where your residence "
               "or citizenship brings you under it by the policy's trigger, those of its EU "
               "overlay, with the authorities you may complain to (R05)",
               nullptr, 200, {401}, {"lang"}),
           &Api::MeRights);
  Register("GET", me + "/requests", Access::Subject(PersonalData::kNone),
           doc("Your requests", nullptr, 200, {401}), &Api::MeRequests);
  Register("POST", me + "/requests", Access::Subject(PersonalData::kNone),
           doc("File a rights request from the personal account (identity: signed in, R37)",
               kAnyBody, 201, {400, 401, 403, 409, 422}),
           &Api::MeFileRequest);
  Register("POST", me + "/withdraw", Access::Subject(PersonalData::kNone),
           doc("Withdraw consent: all, or the named consents or purposes; the consequence notice "
               "must be acknowledged first (R55, R58)",
               Obj({{"consents", kStrList},
                    {"purposes", kStrList},
                    {"acknowledged_warning", kBool},
                    {"lang", kStr}},
                   {}),
               202, {400, 401, 403, 409, 422}),
           &Api::MeWithdraw);
  if (s_.guardians != nullptr) {
    Register("POST", me + "/acting-for", Access::Subject(PersonalData::kNone),
             doc("A guardian acts for a linked minor ({\"subject\": id}) or for themselves again "
                 "({\"subject\": null}) until the minor comes of age (B06); answers as GET /me",
                 Obj({{"subject", kStr}}, {}), 200, {400, 401, 403, 422}),
             &Api::MeActFor);
    Register("POST", me + "/consents/reconfirm", Access::Subject(PersonalData::kNone),
             doc("Come of age, confirm the consents a representative gave ({\"decision\": "
                 "\"confirm\"}) or withdraw them ({\"decision\": \"withdraw\", "
                 "\"acknowledged_warning\": true}) (B06)",
                 Obj({{"decision", kStr}, {"acknowledged_warning", kBool}, {"lang", kStr}},
                     {"decision"}),
                 200, {400, 401, 403, 409, 422}),
             &Api::MeReconfirm);
  }
  Register("GET", me + "/marketing", Access::Subject(PersonalData::kNone),
           doc("Your marketing preferences: each marketing purpose of the policy with its "
               "channels, its state as the gate sees it now, and the wording an opt-in records "
               "(R20, R53, R102)",
               nullptr, 200, {401}, {"lang"}),
           &Api::MeMarketing);
  Register("PUT", me + "/marketing", Access::Subject(PersonalData::kNone),
           doc("Opt in to a marketing purpose (a consent grant of that purpose alone, with the "
               "policy's wording and version) or opt out (its consent withdrawn at once, R53)",
               Obj({{"purpose", kStr}, {"opt_in", kBool}, {"lang", kStr}}, {"purpose", "opt_in"}),
               200, {400, 401, 403, 409, 422}),
           &Api::MeSetMarketing);
}

HttpResponse Api::MeMarketing(Call& c) {
  const services::SubjectSession& s = *c.subject_session;
  auto prefs = s_.consents.Marketing(s.school, s.subject, c.lang, c.actor, c.ctx);
  if (!prefs.ok()) return ErrorResponse(prefs.error());
  return JsonResponse(200, MarketingJson(*prefs));
}

HttpResponse Api::MeSetMarketing(Call& c) {
  auto body = ParseJsonObject(c.req);
  if (!body.ok()) return ErrorResponse(body.error());
  if (Status only = OnlyKeys(*body, {"purpose", "opt_in", "lang"}); !only.ok()) {
    return ErrorResponse(only.error());
  }
  auto purpose = ReqString(*body, "purpose");
  if (!purpose.ok()) return ErrorResponse(purpose.error());
  auto opt_in = OptBool(*body, "opt_in");
  if (!opt_in.ok()) return ErrorResponse(opt_in.error());
  if (!*opt_in) {
    return ErrorResponse(Error::Invalid("\"opt_in\" (true or false) is required", "opt_in"));
  }
  auto lang = OptString(*body, "lang");
  if (!lang.ok()) return ErrorResponse(lang.error());
  const std::string l = lang->value_or(c.lang);
  if (l != "uk" && l != "ru" && l != "en") {
    return ErrorResponse(Error::Invalid("\"lang\" must be uk, ru or en", "lang"));
  }
  const services::SubjectSession& s = *c.subject_session;
  Json changed = Json::array();
  if (**opt_in) {
    auto r = s_.consents.MarketingOptIn(s.school, s.subject, *purpose, l, c.actor, c.ctx);
    if (!r.ok()) return ErrorResponse(r.error());
    changed.push_back(ConsentReceiptJson(*r));
  } else {
    auto r = s_.consents.MarketingOptOut(s.school, s.subject, *purpose, c.actor, c.ctx);
    if (!r.ok()) return ErrorResponse(r.error());
    for (const auto& receipt : *r) changed.push_back(ConsentReceiptJson(receipt));
  }
  auto prefs = s_.consents.Marketing(s.school, s.subject, l, c.actor, c.ctx);
  if (!prefs.ok()) return ErrorResponse(prefs.error());
  Json out = MarketingJson(*prefs);
  out["recorded"] = changed;
  return JsonResponse(200, out);
}

Result<services::Actor> Api::AuthenticateSubject(Call& c) {
  std::string token = CookieValue(c.req.Header("cookie"), kCookie);
  if (token.empty()) {
    Error e = Error::Unauthenticated("sign in to the personal account first");
    e.reason = "session_invalid";
    return e;
  }
  auto session = s_.cabinet->Authenticate(token);
  if (!session.ok()) return session.error();
  if (Status csrf = CheckCsrf(c.req, session->csrf_token); !csrf.ok()) return csrf.error();
  c.subject_session = *session;
  c.session_token = token;
  c.actor_school = session->school;
  // A guardian with no data of their own reaches only the session and the choice of whom to act
  // for until they choose a linked minor (B06).
  if (session->subject.value().empty()) {
    const std::string& path = c.req.path;
    auto ends_with = [&](std::string_view tail) {
      return path.size() >= tail.size() && path.compare(path.size() - tail.size(), tail.size(),
                                                        tail) == 0;
    };
    if (!ends_with("/me") && !ends_with("/me/acting-for") && !ends_with("/me/sign-out")) {
      return Error::Refused("no_own_data",
                            "you hold no data of your own at the school: choose the person you "
                            "act for first",
                            "acting_for");
    }
  }
  return session->ToActor();
}

Result<services::RequestInfo> Api::FileFromCabinet(Call& c, services::FileRequest f) {
  const services::SubjectSession& s = *c.subject_session;
  f.subject = s.subject;
  if (s.acting_for_minor()) {
    // A representative's request: answered at the representative's address (R35, 001 §3.3.4).
    auto email = s_.guardians->RepresentativeEmail(s.school, s.guardianship);
    if (!email.ok()) return email.error();
    f.filed_by = "representative";
    if (!email->empty()) f.reply_email = *email;
  }
  return s_.requests->File(c.school(), f, c.actor, c.ctx);
}

HttpResponse Api::MeSignIn(Call& c) {
  auto body = ParseJsonObject(c.req);
  if (!body.ok()) return ErrorResponse(body.error());
  if (Status only = OnlyKeys(*body, {"email", "lang"}); !only.ok()) {
    return ErrorResponse(only.error());
  }
  auto email = ReqString(*body, "email");
  if (!email.ok()) return ErrorResponse(email.error());
  auto lang = OptString(*body, "lang");
  if (!lang.ok()) return ErrorResponse(lang.error());
  if (Status allowed = AllowPublicMail(c, *email); !allowed.ok()) {
    return ErrorResponse(allowed.error());
  }
  auto login = s_.cabinet->BeginSignIn(c.school(), *email, lang->value_or(c.lang), c.ctx);
  if (!login.ok()) return ErrorResponse(login.error());
  NudgeOutbox();
  return JsonResponse(202, {{"login", *login},
                            {"message", "if the address is on file, a code was sent to it"},
                            {"expires_in_seconds", 900}});
}

HttpResponse Api::MeSignInVerify(Call& c) {
  auto body = ParseJsonObject(c.req);
  if (!body.ok()) return ErrorResponse(body.error());
  if (Status only = OnlyKeys(*body, {"login", "code"}); !only.ok()) {
    return ErrorResponse(only.error());
  }
  auto login = ReqString(*body, "login");
  if (!login.ok()) return ErrorResponse(login.error());
  auto code = ReqString(*body, "code");
  if (!code.ok()) return ErrorResponse(code.error());
  auto signed_in = s_.cabinet->CompleteSignIn(c.school(), *login, *code, c.ctx);
  if (!signed_in.ok()) return ErrorResponse(signed_in.error());
  const services::SubjectSession& s = signed_in->session;
  HttpResponse r = JsonResponse(200, {{"subject", s.subject.value()},
                                      {"school", s.school.value()},
                                      {"csrf_token", s.csrf_token},
                                      {"expires_at", FormatTimestamp(s.expires_at)}});
  r.Header("Set-Cookie", std::string(kCookie) + "=" + signed_in->token +
                             "; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200" +
                             (options_.secure_cookies ? "; Secure" : ""));
  return r;
}

HttpResponse Api::MeSignOut(Call& c) {
  Status st = s_.cabinet->SignOut(c.session_token, c.ctx);
  if (!st.ok()) return ErrorResponse(st.error());
  HttpResponse r = JsonResponse(200, {{"signed_out", true}});
  r.Header("Set-Cookie", std::string(kCookie) + "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0" +
                             (options_.secure_cookies ? "; Secure" : ""));
  return r;
}

HttpResponse Api::MeRights(Call& c) {
  const services::SubjectSession& s = *c.subject_session;
  auto rt = s_.schools.Get(s.school);
  if (!rt.ok()) return ErrorResponse(rt.error());
  const policy::Policy& p = (*rt)->policy()->policy();
  auto summary = s_.subjects.Get(s.school, s.subject, c.actor, c.ctx);
  if (!summary.ok()) return ErrorResponse(summary.error());
  const bool eu = domain::InEuOverlay(p.eu_overlay, summary->country, summary->citizenship);
  const i18n::Lang lang = i18n::ParseLang(c.lang).value_or(i18n::Lang::kUk);
  auto vocab = [&](const std::string& key, const std::string& id) {
    const std::string* text = i18n::Find(lang, "notice.vocab." + key + "." + id);
    return text == nullptr ? Json(nullptr) : Json(*text);
  };
  Json rights = Json::array();
  for (const auto& [id, right] : p.rights) {
    if (!domain::RightApplies(p, right, summary->country, summary->citizenship)) continue;
    const bool overlay = right.scope == "eu_overlay" ||
                         (p.eu_overlay.enabled && std::find(p.eu_overlay.rights.begin(),
                                                            p.eu_overlay.rights.end(),
                                                            id) != p.eu_overlay.rights.end());
    rights.push_back({{"right", id},
                      {"title", vocab("right_title", id)},
                      {"text", vocab("right_text", id)},
                      {"eu_overlay", overlay},
                      {"eu_only", right.scope == "eu_overlay"},
                      {"clause", right.clause}});
  }
  // Where to complain: the EU authority for a subject the overlay applies to, and the authority
  // of the school's jurisdiction.
  Json authorities = Json::array();
  std::vector<std::string> regions;
  if (eu) regions.push_back("EU");
  regions.push_back(p.school.jurisdiction);
  for (const auto& region : regions) {
    auto it = p.complaint_authorities.find(region);
    if (it == p.complaint_authorities.end()) continue;
    authorities.push_back({{"region", region},
                           {"name", it->second.name.Get(c.lang, p.school.authoritative_language)},
                           {"url", it->second.url}});
  }
  auto or_null = [](const std::string& v) { return v.empty() ? Json(nullptr) : Json(v); };
  return JsonResponse(200, {{"residence", or_null(summary->country)},
                            {"citizenship", or_null(summary->citizenship)},
                            {"eu_overlay", {{"applies", eu}, {"trigger", p.eu_overlay.trigger}}},
                            {"rights", rights},
                            {"complaint_authorities", authorities}});
}

HttpResponse Api::MeSession(Call& c) {
  const services::SubjectSession& s = *c.subject_session;
  Json out = {{"subject", s.subject.value()},
              {"school", s.school.value()},
              {"csrf_token", s.csrf_token},
              {"expires_at", FormatTimestamp(s.expires_at)},
              {"self", s.self.value().empty() ? Json(nullptr) : Json(s.self.value())},
              {"acting_for", s.acting_for_minor() ? Json(s.subject.value()) : Json(nullptr)}};
  if (s_.guardians != nullptr) {
    // The people this session may act for: the signed-in person (if they hold data) and each
    // linked minor not yet of age, with names so the cabinet can show whose data it shows.
    auto links = s_.guardians->Links(s.school, s.email_token);
    if (!links.ok()) return ErrorResponse(links.error());
    Json people = Json::array();
    if (!s.self.value().empty()) {
      people.push_back({{"subject", s.self.value()}, {"self", true}, {"name", CabinetName(c, s.self)}});
    }
    std::string current_name = s.subject == s.self ? CabinetName(c, s.self) : std::string();
    for (const auto& l : *links) {
      people.push_back({{"subject", l.guardianship.minor.value()},
                        {"self", false},
                        {"name", l.name},
                        {"relation", l.guardianship.relation},
                        {"verification", l.guardianship.state},
                        {"until", l.guardianship.majority_on.empty()
                                      ? Json(nullptr)
                                      : Json(l.guardianship.majority_on)}});
      if (l.guardianship.minor == s.subject) current_name = l.name;
    }
    out["people"] = people;
    out["name"] = current_name;
    Json reconsent = nullptr;
    if (!s.subject.value().empty()) {
      auto state = s_.guardians->Reconsent(s.school, s.subject);
      if (!state.ok()) return ErrorResponse(state.error());
      if (!state->state.empty()) {
        reconsent = {{"state", state->state},
                     {"since", state->since ? Json(FormatTimestamp(*state->since)) : Json(nullptr)}};
      }
    }
    out["reconsent"] = reconsent;
  }
  return JsonResponse(200, out);
}

std::string Api::CabinetName(Call& c, const SubjectId& subject) {
  if (subject.value().empty()) return "";
  auto records = s_.subjects.OpenAll(c.school(), subject);
  if (!records.ok()) return "";
  std::string first, last;
  for (const auto& rec : *records) {
    if (rec.row.field == "first_name" && first.empty()) first = rec.value;
    if (rec.row.field == "last_name" && last.empty()) last = rec.value;
  }
  return first + (first.empty() || last.empty() ? "" : " ") + last;
}

HttpResponse Api::MeActFor(Call& c) {
  auto body = ParseJsonObject(c.req);
  if (!body.ok()) return ErrorResponse(body.error());
  if (Status only = OnlyKeys(*body, {"subject"}); !only.ok()) return ErrorResponse(only.error());
  auto subject = OptString(*body, "subject");
  if (!subject.ok()) return ErrorResponse(subject.error());
  auto session = s_.cabinet->ActFor(c.session_token, subject->value_or(""), c.ctx);
  if (!session.ok()) return ErrorResponse(session.error());
  c.subject_session = *session;
  c.actor = session->ToActor();
  return MeSession(c);
}

HttpResponse Api::MeReconfirm(Call& c) {
  auto body = ParseJsonObject(c.req);
  if (!body.ok()) return ErrorResponse(body.error());
  if (Status only = OnlyKeys(*body, {"decision", "acknowledged_warning", "lang"}); !only.ok()) {
    return ErrorResponse(only.error());
  }
  return ReconsentDecision(c, *body, c.subject_session->subject, "personal_account");
}

HttpResponse Api::MeData(Call& c) {
  const services::SubjectSession& s = *c.subject_session;
  auto fields = s_.cabinet->Fields(s, c.ctx);
  if (!fields.ok()) return ErrorResponse(fields.error());
  auto package = s_.requests->SubjectPackage(s.school, s.subject, c.lang);
  if (!package.ok()) return ErrorResponse(package.error());
  Json info = Json::parse(*package);
  ports::RequestFilter f;
  f.subject = s.subject.value();
  f.limit = 200;
  auto requests = s_.requests->List(s.school, f);
  if (!requests.ok()) return ErrorResponse(requests.error());
  auto rt = s_.schools.Get(s.school);
  if (!rt.ok()) return ErrorResponse(rt.error());
  const auto cp = (*rt)->policy();
  const policy::Policy& p = cp->policy();
  Json out = {{"subject", s.subject.value()}, {"fields", Json::array()}};
  for (const auto& field : *fields) out["fields"].push_back(FieldJson(field, p, c.lang));
  for (const char* key : {"consents", "purposes", "categories", "recipients",
                          "transfer_safeguards", "retention", "sources", "automated_decisions",
                          "profiling", "statements"}) {
    if (info.contains(key)) out[key] = info[key];
  }
  // Each ledger entry names its consent by the policy's title too.
  if (out.contains("consents") && out["consents"].is_array()) {
    for (auto& e : out["consents"]) {
      const std::string id = e.value("consent", "");
      auto type = p.consents.find(id);
      e["title"] = type == p.consents.end()
                       ? id
                       : TitleOr(type->second.title, id, c.lang, p.school.authoritative_language);
    }
  }
  out["requests"] = Json::array();
  for (const auto& r : *requests) out["requests"].push_back(RequestJson(r, false));
  // The grounds a request may state, per request type whose right lists them, by their titles in
  // the reader's language (R49): the request form offers them to choose from.
  const i18n::Lang reader = i18n::ParseLang(c.lang).value_or(i18n::Lang::kUk);
  out["grounds"] = Json::object();
  for (const auto& type : domain::RequestTypes()) {
    Json grounds = GroundsJson(p.FindRight(domain::RightOfType(type)), reader);
    if (!grounds.empty()) out["grounds"][type] = std::move(grounds);
  }
  return JsonResponse(200, out);
}

HttpResponse Api::MeUpdate(Call& c) {
  auto body = ParseJsonObject(c.req);
  if (!body.ok()) return ErrorResponse(body.error());
  std::map<std::string, std::string> values;
  for (const auto& [field, value] : body->items()) {
    if (!value.is_string()) {
      return ErrorResponse(Error::Invalid("each value must be a string", field));
    }
    values[field] = value.get<std::string>();
  }
  Status st = s_.cabinet->UpdateFields(*c.subject_session, values, c.ctx);
  if (!st.ok()) return ErrorResponse(st.error());
  Json changed = Json::array();
  for (const auto& [field, value] : values) changed.push_back(field);
  return JsonResponse(200, {{"updated", changed}});
}

HttpResponse Api::MeDeleteField(Call& c) {
  Status st = s_.cabinet->DeleteField(*c.subject_session, c.param("field"), c.ctx);
  if (!st.ok()) return ErrorResponse(st.error());
  HttpResponse r;
  r.status = 204;
  return r;
}

HttpResponse Api::MeAttachStatement(Call& c) {
  auto body = ParseJsonObject(c.req);
  if (!body.ok()) return ErrorResponse(body.error());
  if (Status only = OnlyKeys(*body, {"field", "text"}); !only.ok()) {
    return ErrorResponse(only.error());
  }
  auto field = ReqString(*body, "field");
  if (!field.ok()) return ErrorResponse(field.error());
  auto text = ReqString(*body, "text");
  if (!text.ok()) return ErrorResponse(text.error());
  auto st = s_.cabinet->AttachStatement(*c.subject_session, *field, *text, c.ctx);
  if (!st.ok()) return ErrorResponse(st.error());
  return JsonResponse(201, {{"field", st->field}, {"text", st->text}, {"at", FormatTimestamp(st->at)}});
}

HttpResponse Api::MeExport(Call& c) {
  std::string format = QueryParam(c.req.query, "format");
  if (format.empty()) format = "json";
  auto out = s_.cabinet->Export(*c.subject_session, format, c.ctx);
  if (!out.ok()) return ErrorResponse(out.error());
  HttpResponse r;
  r.status = 200;
  r.Header("Content-Type",
           format == "csv" ? "text/csv; charset=utf-8" : "application/json; charset=utf-8");
  r.Header("Content-Disposition", "attachment; filename=\"my-data." + format + "\"");
  r.Header("Cache-Control", "no-store");
  r.body = std::move(*out);
  return r;
}

HttpResponse Api::MeTransfer(Call& c) {
  auto body = ParseJsonObject(c.req);
  if (!body.ok()) return ErrorResponse(body.error());
  if (Status only = OnlyKeys(*body, {"destination_url", "lang"}); !only.ok()) {
    return ErrorResponse(only.error());
  }
  auto url = ReqString(*body, "destination_url");
  if (!url.ok()) return ErrorResponse(url.error());
  const std::string prefix = "https://";
  if (url->rfind(prefix, 0) != 0 || url->size() <= prefix.size() ||
      url->find_first_of(" \t\r\n") != std::string::npos) {
    return ErrorResponse(
        Error::Invalid("destination_url must be an https:// address", "destination_url"));
  }
  auto lang = OptString(*body, "lang");
  if (!lang.ok()) return ErrorResponse(lang.error());
  services::FileRequest f;
  f.type = "portability";
  f.subject = c.subject_session->subject;
  f.channel = "personal_account";
  f.destination_url = *url;
  f.lang = lang->value_or(c.lang);
  auto filed = FileFromCabinet(c, f);
  if (!filed.ok()) return ErrorResponse(filed.error());
  // A signed-in subject needs no officer to send their own data where they ask (R54): the
  // transfer is queued at once and delivered by the outbox.
  auto done = s_.requests->Complete(c.school(), filed->id, services::CompleteRequest{}, c.actor,
                                    c.ctx);
  if (!done.ok()) return ErrorResponse(done.error());
  NudgeOutbox();
  return JsonResponse(202, RequestJson(*done, false));
}

HttpResponse Api::MeRequests(Call& c) {
  ports::RequestFilter f;
  f.subject = c.subject_session->subject.value();
  f.limit = 200;
  auto requests = s_.requests->List(c.school(), f);
  if (!requests.ok()) return ErrorResponse(requests.error());
  Json out = Json::array();
  for (const auto& r : *requests) out.push_back(RequestJson(r, false));
  return JsonResponse(200, {{"requests", out}});
}

HttpResponse Api::MeFileRequest(Call& c) {
  auto body = ParseJsonObject(c.req);
  if (!body.ok()) return ErrorResponse(body.error());
  auto f = FileRequestFrom(*body, Filer::kCabinet);
  if (!f.ok()) return ErrorResponse(f.error());
  if (f->lang.empty()) f->lang = c.lang;
  auto r = FileFromCabinet(c, *f);
  if (!r.ok()) return ErrorResponse(r.error());
  NudgeOutbox();
  return JsonResponse(201, RequestJson(*r, true));
}

HttpResponse Api::MeWithdraw(Call& c) {
  auto body = ParseJsonObject(c.req);
  if (!body.ok()) return ErrorResponse(body.error());
  if (Status only = OnlyKeys(*body, {"consents", "purposes", "acknowledged_warning", "lang"});
      !only.ok()) {
    return ErrorResponse(only.error());
  }
  services::FileRequest f;
  f.type = "withdrawal";
  f.subject = c.subject_session->subject;
  f.channel = "personal_account";
  auto consents = OptStringList(*body, "consents");
  if (!consents.ok()) return ErrorResponse(consents.error());
  f.consents = *consents;
  auto purposes = OptStringList(*body, "purposes");
  if (!purposes.ok()) return ErrorResponse(purposes.error());
  f.purposes = *purposes;
  auto ack = OptBool(*body, "acknowledged_warning");
  if (!ack.ok()) return ErrorResponse(ack.error());
  f.acknowledged_warning = ack->value_or(false);
  auto lang = OptString(*body, "lang");
  if (!lang.ok()) return ErrorResponse(lang.error());
  f.lang = lang->value_or(c.lang);
  auto r = FileFromCabinet(c, f);
  if (!r.ok()) return ErrorResponse(r.error());
  NudgeOutbox();
  return JsonResponse(202, RequestJson(*r, true));
}

}  // namespace dovira::api
