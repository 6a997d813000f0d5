#include "api/api.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "api/call.h"
#include "api/cors.h"
#include "api/http_util.h"
#include "api/submissions.h"
#include "api/web_routes.h"
#include "calendar/date.h"
#include "notice/render.h"
#include "services/subscriptions.h"

namespace dovira::api {



namespace {

using ports::HttpResponse;
using services::Actor;

std::string Iso(Timestamp t) { return FormatTimestamp(t); }



Json SubjectJson(const ports::SubjectRow& r) {
  Json j = {{"id", r.id.value()},           {"kind", r.kind},
            {"state", r.state},             {"channel", r.channel},
            {"form", r.form},               {"source", r.source},
            {"policy_version", r.policy_version}, {"created_at", Iso(r.created_at)},
            {"guardian", r.guardian ? Json(r.guardian->value()) : Json(nullptr)}};
  return j;
}

Json AuditJson(const ports::AuditRow& a) {
  Json detail = Json::parse(a.detail, nullptr, false);
  return Json{{"seq", a.seq},
              {"at", Iso(a.at)},
              {"actor", a.actor},
              {"role", a.role},
              {"action", a.action},
              {"subject_ref", a.subject_ref},
              {"purpose", a.purpose},
              {"fields", a.fields},
              {"outcome", a.outcome},
              {"reason", a.reason},
              {"decision_id", a.decision_id},
              {"request_id", a.request_id},
              {"detail", detail.is_discarded() ? Json(a.detail) : detail},
              {"prev_hash", a.prev_hash},
              {"hash", a.hash}};
}

const Json kInt = {{"type", "integer"}};
const Json kStrMap = {{"type", "object"}, {"additionalProperties", {{"type", "string"}}}};
const Json kAny = {{"type", "object"}};

Result<domain::Operation> OperationOf(const Json& body) {
  auto op = OptString(body, "operation");
  if (!op.ok()) return op.error();
  if (!*op) return domain::Operation::kRead;
  auto parsed = domain::ParseOperation(**op);
  if (!parsed) {
    return Error{ErrorCode::kInvalidArgument,
                 "\"operation\" must be one of store, read, update, disclose, export, message, "
                 "delete, profile",
                 "operation", "invalid_field"};
  }
  return *parsed;
}

}  // namespace

Json ConsentReceiptJson(const services::ConsentReceipt& r) {
  return Json{{"id", r.id.value()},
              {"consent", r.consent_type},
              {"action", r.action},
              {"grants", r.grants},
              {"text", r.text},
              {"text_sha256", r.text_sha256},
              {"lang", r.lang},
              {"channel", r.channel},
              {"policy_version", r.policy_version},
              {"given_by", r.given_by},
              {"withdrawal_procedure", r.withdrawal_procedure},
              {"at", Iso(r.at)},
              {"expires_at", TimeOrNull(r.expires_at)}};
}

Status RequireCapability(services::Schools& schools, const Api::Call& c, Capability need) {
  if (need == Capability::kNone) return Status::Ok();
  const bool staff = c.actor.kind == Actor::Kind::kStaff || c.actor.kind == Actor::Kind::kApiKey;
  const char* what = need == Capability::kDecides
                         ? "this needs a role that may decide requests (a privileged role, or "
                           "one with decides = true in the school's policy)"
                         : "this needs a privileged role of the school's policy";
  // The reader's message names what is missing (i18n/api: role_denied.decides, .privileged).
  const char* variant = need == Capability::kDecides ? "decides" : "privileged";
  auto denied = [&] { return Error::Denied("role_denied", what).With("variant", variant); };
  if (!staff || !c.actor_school) return denied();
  auto rt = schools.Get(*c.actor_school);
  if (!rt.ok()) return rt.error();
  auto cp = (*rt)->policy();
  // B12: without the policy the role cannot be checked, so nothing is allowed.
  if (!cp) {
    return Error{ErrorCode::kUnavailable, "the school's policy is not loaded", {},
                 "gate_unavailable"};
  }
  const int r = cp->RoleIndex(c.actor.role);
  if (r < 0) return denied();
  const domain::CompiledRole& role = cp->role(static_cast<size_t>(r));
  const bool ok =
      need == Capability::kPrivileged ? role.privileged : role.privileged || role.decides;
  if (!ok) return denied();
  return Status::Ok();
}

// R86 (002 L60): the people of an affiliate or a contractor reach only the subjects assigned to
// their organisation. A route about one subject answers 404 for any other, as if it did not exist;
// the subject list and the search reach the assigned ones alone (their handlers and the gate
// narrow them); a route about the school as a whole (statistics, settings, exports, intake from
// other systems) is not theirs. Routes outside a school (sign-in, the session) stay open.
Status RequireOrganisationScope(services::Schools& schools, const Api::Call& c) {
  if (c.actor.kind != Actor::Kind::kStaff && c.actor.kind != Actor::Kind::kApiKey) {
    return Status::Ok();
  }
  if (!c.actor_school || !c.params.count("school")) return Status::Ok();
  auto rt = schools.Get(*c.actor_school);
  if (!rt.ok()) return rt.error();
  auto cp = (*rt)->policy();
  if (!cp) return Status::Ok();  // RequireCapability or the gate answers 503
  const int r = cp->RoleIndex(c.actor.role);
  if (r < 0 || !cp->role(static_cast<size_t>(r)).scoped) return Status::Ok();
  if (auto subject = c.params.find("subject"); subject != c.params.end()) {
    if ((*rt)->assignments().Assigned(c.actor.organisation, SubjectId(subject->second))) {
      return Status::Ok();
    }
    return Error{ErrorCode::kNotFound, "no such subject", "subject", "subject_unknown"};
  }
  const std::string& path = c.route->pattern;
  if ((c.req.method == "GET" && path == "/v1/schools/{school}/subjects") ||
      path == "/v1/schools/{school}/subject-search") {
    return Status::Ok();
  }
  return Error::Denied("role_denied",
                       "this role is held by an outside organisation, which reaches only the "
                       "subjects assigned to it")
      .With("variant", "organisation");
}

Api::Api(ApiServices services, ApiOptions options)
    : s_(services), options_(std::move(options)) {
  RegisterRoutes();
  openapi_ = router_.OpenApi("Dovira API", options_.version).dump(2);
  pool_ = std::make_unique<WorkerPool>(options_.worker_threads);
}

Api::~Api() { pool_.reset(); }

std::string Api::OpenApiJson() const { return openapi_; }

void Api::Register(const std::string& method, const std::string& pattern, Access access,
                   RouteDoc doc, Handler handler) {
  size_t i = router_.Add(method, pattern, access, std::move(doc));
  handlers_.resize(i + 1);
  async_handlers_.resize(i + 1);
  inline_handlers_.resize(i + 1);
  handlers_[i] = handler;
}

void Api::RegisterInline(const std::string& method, const std::string& pattern, Access access,
                         RouteDoc doc, Handler handler) {
  // Authentication may read the store: only a public route can run on the event loop. Like the
  // router's own checks, a programming error found as the routes are built: the server does not
  // start.
  if (!access.IsPublic()) {
    std::fprintf(stderr, "route %s %s: an inline route must be public\n", method.c_str(),
                 pattern.c_str());
    std::abort();
  }
  Register(method, pattern, std::move(access), std::move(doc), handler);
  inline_handlers_.back() = true;
}

void Api::RegisterAsync(const std::string& method, const std::string& pattern, Access access,
                        RouteDoc doc, AsyncHandler handler) {
  size_t i = router_.Add(method, pattern, access, std::move(doc));
  handlers_.resize(i + 1);
  async_handlers_.resize(i + 1);
  inline_handlers_.resize(i + 1);
  async_handlers_[i] = handler;
}

void Api::RegisterRoutes() {
  const std::vector<int> kAuthErrors = {400, 401, 403};
  auto doc = [](std::string summary, std::string tag, Json req, Json resp, int ok,
                std::vector<int> errors, std::vector<std::string> query = {}) {
    RouteDoc d;
    d.summary = std::move(summary);
    d.tag = std::move(tag);
    d.request_schema = std::move(req);
    d.response_schema = std::move(resp);
    d.success_status = ok;
    d.errors = std::move(errors);
    d.query = std::move(query);
    return d;
  };
  const Json receipt = Obj({{"subject", kStr},
                            {"kind", kStr},
                            {"policy_version", kStr},
                            {"minor", kBool},
                            {"fields", kStrList},
                            {"consents", {{"type", "array"}, {"items", kAny}}}});
  const Json submission = Obj({{"fields", kStrMap},
                               {"consents", kStrList},
                               {"accept_policy", kBool},
                               {"lang", kStr},
                               {"age_statement", kStr},
                               {"country", kStr},
                               {"citizenship", kStr},
                               {"representative", kAny},
                               {"evidence_document", kStr},
                               {"date_of_majority", kStr}},
                              {"fields"});
  const Json page = Obj({{"items", {{"type", "array"}, {"items", kAny}}}, {"next_cursor", kStr}});
  const Json access = Obj({{"purpose", kStr}, {"fields", kStrList}, {"operation", kStr}}, {"purpose"});

  RegisterInline("GET", "/healthz", Access::Public(),
                 doc("Liveness and the schools served", "system", nullptr, kAny, 200, {}),
                 &Api::Healthz);
  {
    RouteDoc d = doc("Prometheus metrics", "system", nullptr, kStr, 200, {});
    d.content_type = "text/plain";
    Register("GET", "/metrics", Access::Staff(Capability::kPrivileged, PersonalData::kNone), d,
             &Api::MetricsText);
  }
  RegisterInline("GET", "/v1/openapi.json", Access::Public(),
                 doc("This document", "system", nullptr, kAny, 200, {}), &Api::OpenApi);
  {
    RouteDoc d = doc("The privacy notice rendered from the policy (R01)", "policy", nullptr, kStr,
                     200, {404, 400}, {"school", "lang", "format"});
    d.content_type = "text/html";
    Register("GET", "/policy", Access::Public(), d, &Api::PublicNotice);
  }
  Register("GET", "/v1/schools/{school}/policy", Access::Public(),
           doc("The policy in force: version and dates", "policy", nullptr, kAny, 200, {404}),
           &Api::PolicyInfo);
  Register("GET", "/v1/schools/{school}/policy/versions", Access::Public(),
           doc("Every published version (R112)", "policy", nullptr, page, 200, {404}),
           &Api::PolicyVersions);
  Register("GET", "/v1/schools/{school}/policy/versions/{version}", Access::Public(),
           doc("One published version with its text", "policy", nullptr, kAny, 200, {404}),
           &Api::PolicyVersion);
  Register("GET", "/v1/schools/{school}/forms", Access::Public(),
           doc("The school's intake forms", "forms", nullptr, page, 200, {404}, {"lang"}),
           &Api::ListForms);
  Register("GET", "/v1/schools/{school}/forms/{form}", Access::Public(),
           doc("A form: fields, mandatory fields, consent check-boxes with their exact texts",
               "forms", nullptr, kAny, 200, {404}, {"lang"}),
           &Api::GetForm);
  Register("POST", "/v1/schools/{school}/forms/{form}/submissions", Access::Public(),
           doc("Submit a form (R03, R07, R08, R15-R17, R24, R25)", "forms", submission, receipt,
               201, {400, 404, 422, 429}),
           &Api::SubmitForm);
  Register("POST", "/v1/schools/{school}/subscriptions/confirm", Access::Public(),
           doc("Confirm a mailing subscription with the token of the e-mailed link (double "
               "opt-in, R15, R54)",
               "forms", Obj({{"token", kStr}}, {"token"}), kAny, 200, {400, 404, 409, 422}),
           &Api::ConfirmSubscription);
  RegisterWebRoutes();  // the cookie banner's public routes (web_routes.cc)

  Register("POST", "/v1/auth/login", Access::Public(),
           doc("Staff sign-in; sets the session cookie", "auth",
               Obj({{"school", kStr}, {"email", kStr}, {"password", kStr}, {"totp", kStr}},
                   {"school", "email", "password"}),
               kAny, 200, {400, 401, 403, 429}),
           &Api::Login);
  Register("POST", "/v1/auth/logout", Access::StaffSession(Capability::kNone, PersonalData::kNone),
           doc("Sign out", "auth", nullptr, kAny, 200, kAuthErrors), &Api::Logout);
  Register("GET", "/v1/auth/me", Access::StaffSession(Capability::kNone, PersonalData::kNone),
           doc("The signed-in staff member", "auth", nullptr, kAny, 200, kAuthErrors), &Api::Me);
  Register("POST", "/v1/auth/totp/begin",
           Access::StaffSession(Capability::kNone, PersonalData::kNone),
           doc("Start TOTP enrolment", "auth", nullptr, kAny, 200, kAuthErrors), &Api::TotpBegin);
  Register("POST", "/v1/auth/totp/confirm",
           Access::StaffSession(Capability::kNone, PersonalData::kNone),
           doc("Confirm TOTP enrolment with a code", "auth", Obj({{"code", kStr}}, {"code"}), kAny,
               200, kAuthErrors),
           &Api::TotpConfirm);
  Register("POST", "/v1/auth/recovery-codes",
           Access::StaffSession(Capability::kNone, PersonalData::kNone),
           doc("Replace the one-time recovery codes with a new set", "auth", nullptr, kAny, 200,
               {401, 403, 412}),
           &Api::RecoveryCodes);
  Register("POST", "/v1/auth/password",
           Access::StaffSession(Capability::kNone, PersonalData::kNone),
           doc("Change the password (R90)", "auth",
               Obj({{"current_password", kStr}, {"new_password", kStr}},
                   {"current_password", "new_password"}),
               kAny, 200, {400, 401, 403, 422}),
           &Api::ChangePassword);

  Register("GET", "/v1/schools/{school}/staff",
           Access::StaffSession(Capability::kPrivileged, PersonalData::kNone),
           doc("Staff accounts", "staff", nullptr, page, 200, kAuthErrors), &Api::ListStaff);
  Register("POST", "/v1/schools/{school}/staff",
           Access::StaffSession(Capability::kPrivileged, PersonalData::kNone),
           doc("Create a staff account. `organisation` names the affiliate or contractor whose "
               "person holds a role the policy gives to one (R86); the school's own staff name "
               "none",
               "staff",
               Obj({{"name", kStr}, {"email", kStr}, {"role", kStr}, {"password", kStr},
                    {"organisation", kStr}},
                   {"name", "email", "role", "password"}),
               kAny, 201, {400, 401, 403, 409, 422}),
           &Api::CreateStaff);
  Register("POST", "/v1/schools/{school}/staff/{staff}/leave",
           Access::StaffSession(Capability::kPrivileged, PersonalData::kNone),
           doc("A leaver: revoke sessions and keys at once (R87)", "staff", nullptr, kAny, 200,
               {401, 403, 404}),
           &Api::StaffLeave);
  Register("POST", "/v1/schools/{school}/staff/{staff}/briefing",
           Access::StaffSession(Capability::kPrivileged, PersonalData::kNone),
           doc("Record the briefing that unlocks personal data (R87)", "staff", nullptr, kAny, 200,
               {401, 403, 404}),
           &Api::StaffBriefing);
  Register("GET", "/v1/schools/{school}/api-keys",
           Access::StaffSession(Capability::kPrivileged, PersonalData::kNone),
           doc("API keys", "staff", nullptr, page, 200, kAuthErrors), &Api::ListApiKeys);
  Register("POST", "/v1/schools/{school}/api-keys",
           Access::StaffSession(Capability::kPrivileged, PersonalData::kNone),
           doc("Create an API key limited to a role and purposes; the key is shown once", "staff",
               Obj({{"name", kStr}, {"role", kStr}, {"purposes", kStrList}},
                   {"name", "role", "purposes"}),
               kAny, 201, {400, 401, 403, 422}),
           &Api::CreateApiKey);
  Register("DELETE", "/v1/schools/{school}/api-keys/{key}",
           Access::StaffSession(Capability::kPrivileged, PersonalData::kNone),
           doc("Revoke an API key", "staff", nullptr, kAny, 200, {401, 403, 404}),
           &Api::RevokeApiKey);

  Register("POST", "/v1/schools/{school}/subjects",
           Access::Staff(Capability::kNone, PersonalData::kNone),
           doc("Create a subject from another system, with provenance (R02, R11)", "subjects",
               Obj({{"kind", kStr},
                    {"channel", kStr},
                    {"source", kStr},
                    {"fields", kStrMap},
                    {"lang", kStr},
                    {"country", kStr},
                    {"citizenship", kStr},
                    {"age_statement", kStr},
                    {"representative", kAny},
                    {"date_of_majority", kStr}},
                   {"kind", "channel", "fields"}),
               receipt, 201, {400, 401, 403, 422}),
           &Api::CreateSubject);
  Register("POST", "/v1/schools/{school}/subject-imports",
           Access::Staff(Capability::kNone, PersonalData::kNone),
           doc("Bulk import of subjects from another system: CSV (text/csv) or JSON lines "
               "(application/x-ndjson), each row validated as one intake; query kind, channel "
               "and source for the rows that do not name them; a report of the rows stored and "
               "of each refused row with its line",
               "subjects", nullptr,
               Obj({{"import", kStr},
                    {"rows", kInt},
                    {"imported", kInt},
                    {"stored", {{"type", "array"}}},
                    {"refused_count", kInt},
                    {"refused", {{"type", "array"}}}}),
               200, {400, 401, 403, 413, 415, 503}, {"kind", "channel", "source"}),
           &Api::ImportSubjects);
  Register("GET", "/v1/schools/{school}/subjects",
           Access::Staff(Capability::kNone, PersonalData::kNone),
           doc("Subjects, without personal data, page by page", "subjects", nullptr, page, 200,
               kAuthErrors, {"limit", "cursor"}),
           &Api::ListSubjects);
  Register("GET", "/v1/schools/{school}/subjects/{subject}",
           Access::Staff(Capability::kNone, PersonalData::kNone),
           doc("A subject's metadata (kind, state, provenance of the record, guardian link)",
               "subjects", nullptr, kAny, 200, {401, 403, 404}),
           &Api::GetSubject);
  Register("GET", "/v1/schools/{school}/subjects/{subject}/provenance",
           Access::Staff(Capability::kNone, PersonalData::kNone),
           doc("Where each field came from (R11)", "subjects", nullptr, page, 200, {401, 403, 404}),
           &Api::Provenance);
  RegisterAsync("POST", "/v1/schools/{school}/subjects/{subject}/read",
                Access::Staff(Capability::kNone, PersonalData::kGated),
                doc("Read a subject's fields for a stated purpose, through the gate (R28-R30)",
                    "gate", access,
                    Obj({{"decision_id", kStr}, {"fields", kStrMap}, {"statements", kStrMap},
                         {"standing_decision", kStr}, {"decided_by", kStr}}),
                    200,
                    {400, 401, 403, 404, 423, 503}),
                &Api::ReadSubject);
  RegisterAsync(
      "POST", "/v1/schools/{school}/process", Access::Staff(Capability::kNone, PersonalData::kNone),
      doc("Ask the gate whether a use is allowed (no data returned)", "gate",
          Obj({{"subject", kStr}, {"purpose", kStr}, {"fields", kStrList}, {"operation", kStr}},
              {"subject", "purpose"}),
          Obj({{"allowed", kBool}, {"reason", kStr}, {"decision_id", kStr}, {"fields", kStrList},
               {"standing_decision", kStr}, {"decided_by", kStr}}),
          200, {400, 401, 403, 404, 423, 503}),
      &Api::Process);
  Register("POST", "/v1/schools/{school}/profiling-runs",
           Access::Staff(Capability::kNone, PersonalData::kNone),
           doc("Decide a profiling run: the gate is asked for each subject with the operation "
               "profile and nothing is processed; the answer and the audit log name the subjects "
               "included and those skipped with the reason, such as an opt-out of automated "
               "decisions (R62)",
               "gate", Obj({{"purpose", kStr}, {"subjects", kStrList}}, {"purpose", "subjects"}),
               kAny, 200, {400, 401, 403, 503}),
           &Api::ProfilingRun);
  Register(
      "GET", "/v1/schools/{school}/subjects/{subject}/consents",
      Access::Staff(Capability::kNone, PersonalData::kNone),
      doc("The subject's consent ledger (R19)", "consents", nullptr, page, 200, {401, 403, 404}),
      &Api::ListConsents);
  Register("POST", "/v1/schools/{school}/subjects/{subject}/consents",
           Access::Staff(Capability::kDecides, PersonalData::kNone),
           doc("Record a consent given through another channel (R18)", "consents",
               Obj({{"consent", kStr},
                    {"text", kStr},
                    {"lang", kStr},
                    {"channel", kStr},
                    {"given_by", kStr},
                    {"evidence_document", kStr},
                    {"at", kStr},
                    {"expires", kStr}},
                   {"consent", "text", "channel"}),
               kAny, 201, {400, 401, 403, 404, 422}),
           &Api::GrantConsent);
  Register("POST", "/v1/schools/{school}/subjects/{subject}/consents/withdraw",
           Access::Staff(Capability::kDecides, PersonalData::kNone),
           doc("Withdraw consents, all or some (R20, R55)", "consents",
               Obj({{"consents", kStrList},
                    {"purposes", kStrList},
                    {"channel", kStr},
                    {"received_at", kStr}},
                   {"channel"}),
               page, 200, {400, 401, 403, 404, 409, 422}),
           &Api::WithdrawConsent);
  Register("GET", "/v1/schools/{school}/subjects/{subject}/audit",
           Access::StaffSession(Capability::kPrivileged, PersonalData::kNone),
           doc("The subject's own audit trail (for an access request)", "audit", nullptr, page, 200,
               {401, 403, 404}, {"after", "limit"}),
           &Api::SubjectAudit);
  Register("GET", "/v1/schools/{school}/audit",
           Access::StaffSession(Capability::kPrivileged, PersonalData::kNone),
           doc("The audit log, page by page: oldest first from `after`, or with order=desc "
               "newest first from `before`; last_seq is the newest entry's number",
               "audit", nullptr, page, 200, kAuthErrors, {"after", "before", "order", "limit"}),
           &Api::ListAudit);
  Register("GET", "/v1/schools/{school}/audit/verify",
           Access::StaffSession(Capability::kPrivileged, PersonalData::kNone),
           doc("Verify the hash chain and signed checkpoints (B01)", "audit", nullptr,
               Obj({{"ok", kBool}, {"entries", kInt}, {"first_broken", kInt}, {"problem", kStr}}),
               200, kAuthErrors),
           &Api::VerifyAudit);
  Register("POST", "/v1/schools/{school}/audit/checkpoint",
           Access::StaffSession(Capability::kPrivileged, PersonalData::kNone),
           doc("Sign the chain head now", "audit", nullptr, kAny, 200, kAuthErrors),
           &Api::CheckpointAudit);
  if (s_.requests != nullptr) RegisterRequestRoutes();
  if (s_.requests != nullptr && s_.cabinet != nullptr) RegisterCabinetRoutes();
  if (s_.disclosures != nullptr) RegisterDisclosureRoutes();  // disclosures_api.cc
  if (s_.holds != nullptr && s_.requests != nullptr) RegisterHoldRoutes();  // holds_api.cc
  if (s_.visits != nullptr) RegisterVisitRoutes();  // visits_api.cc
  if (s_.guardians != nullptr && s_.requests != nullptr) RegisterGuardianRoutes();
  if (s_.retention != nullptr) RegisterRetentionRoutes();  // retention_api.cc
  if (s_.access_control != nullptr) RegisterAccessRoutes();  // access_api.cc (R86)
  if (s_.reviews != nullptr) RegisterReviewRoutes();  // reviews_api.cc (R117)
  RegisterConsoleRoutes();  // what the staff console reads (console_routes.cc)
  RegisterAnonymisationRoutes();  // depersonalised data sets (anonymisation_api.cc)
  if (s_.test_clock) {
    Register("POST", "/v1/_test/clock", Access::Public(),
             doc("Move the server's clock (only with --fake-clock)", "system",
                 Obj({{"set", kStr}, {"advance_seconds", kInt}}), Obj({{"now", kStr}}), 200, {400}),
             &Api::TestClock);
  }
}

void Api::Finished(Call& call, HttpResponse& resp, double seconds) {
  AddCorsHeaders(call.req, resp);  // the public routes a school's own site calls (cors.h)
  if (resp.status >= 400) {
    // Every error's message in the reader's language, with the titles of the school's policy
    // (the school in the path, else the one of the credentials) (issue 12).
    std::shared_ptr<const domain::CompiledPolicy> cp;
    const SchoolId school = call.params.count("school") ? call.school()
                                                        : call.actor_school.value_or(SchoolId());
    if (!school.value().empty()) {
      if (auto rt = s_.schools.Get(school); rt.ok()) cp = (*rt)->policy();
    }
    const policy::Policy* p = cp ? &cp->policy() : nullptr;
    LocaliseError(resp, ErrorReader{ReaderLang(call.req, p), p});
  }
  const std::string route = call.route ? call.route->pattern : "unmatched";
  metrics_.ObserveRequest(route, call.req.method, resp.status, seconds);
  if (!resp.log_detail.empty()) {
    // What the client was not told (ErrorResponse), logged even without the access log.
    spdlog::error("{}", Json({{"ts", FormatTimestamp(SystemClock().Now())},
                              {"level", "error"},
                              {"msg", "request failed"},
                              {"request_id", call.req.request_id},
                              {"method", call.req.method},
                              {"route", route},
                              {"status", resp.status},
                              {"detail", resp.log_detail}})
                             .dump(-1, ' ', false, Json::error_handler_t::replace));
  }
  if (!options_.access_log) return;
  // No personal data: the route pattern instead of the path, no query, no body, no address.
  Json line = {{"ts", FormatTimestamp(SystemClock().Now())},
               {"level", resp.status >= 500 ? "error" : "info"},
               {"msg", "request"},
               {"request_id", call.req.request_id},
               {"method", call.req.method},
               {"route", route},
               {"status", resp.status},
               {"duration_ms", seconds * 1000.0},
               {"actor", call.actor.kind == Actor::Kind::kStaff    ? "staff"
                         : call.actor.kind == Actor::Kind::kApiKey ? "api_key"
                                                                   : "public"}};
  spdlog::info("{}", line.dump());
}

void Api::Handle(ports::HttpRequest&& request, ports::HttpResponder respond) {
  auto call = std::make_shared<Call>();
  call->req = std::move(request);
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [start] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  // A synchronous handler from routing to the answer: on the event loop for the inline routes,
  // on the worker pool for the others.
  auto answer = [this, call, elapsed](Match match, ports::HttpResponder& out) {
    HttpResponse resp;
    try {
      resp = Dispatch(*call, std::move(match));
    } catch (const std::exception& e) {
      resp = Unexpected(*call, e);
    }
    Finished(*call, resp, elapsed());
    out(std::move(resp));
  };
  // Non-blocking routes run here, on the event loop: the asynchronous ones answer from their
  // completion callback, the inline ones at once.
  Match m = router_.Find(call->req.method, call->req.path);
  if (m.route) {
    const size_t index = static_cast<size_t>(m.route - router_.routes().data());
    if (inline_handlers_[index]) return answer(std::move(m), respond);
    if (AsyncHandler h = async_handlers_[index]) {
      auto shared_respond = std::make_shared<ports::HttpResponder>(std::move(respond));
      auto answered = std::make_shared<std::atomic<bool>>(false);
      try {
        if (auto early = Prepare(*call, std::move(m))) {
          answered->store(true);
          Finished(*call, *early, elapsed());
          return (*shared_respond)(std::move(*early));
        }
        (this->*h)(call, [this, call, shared_respond, answered, elapsed](HttpResponse resp) {
          if (answered->exchange(true)) return;
          Finished(*call, resp, elapsed());
          (*shared_respond)(std::move(resp));
        });
      } catch (const std::exception& e) {
        if (answered->exchange(true)) return;
        HttpResponse resp = Unexpected(*call, e);
        Finished(*call, resp, elapsed());
        (*shared_respond)(std::move(resp));
      }
      return;
    }
  }
  pool_->Post([answer, respond = std::move(respond), m = std::move(m)]() mutable {
    answer(std::move(m), respond);
  });
}

// A handler threw: a bug, never an answer to bad input (bad input gets a 4xx from the parsing
// helpers). The server stays up, the client gets the one internal-error shape, and Finished logs
// the exception with the request id (ErrorResponse keeps it in log_detail).
HttpResponse Api::Unexpected(Call&, const std::exception& e) {
  return ErrorResponse(Error{ErrorCode::kInternal, std::string("unexpected exception: ") + e.what()});
}

Result<Actor> Api::Authenticate(Call& c) {
  const Access& access = c.route->access;
  if (access.Allows(Principal::kSubject)) return AuthenticateSubject(c);
  const std::string& auth = c.req.Header("authorization");
  const bool bearer = auth.rfind("Bearer ", 0) == 0;
  if (bearer && access.Allows(Principal::kApiKey)) {
    auto id = s_.staff.AuthenticateApiKey(auth.substr(7));
    if (!id.ok()) return id.error();
    c.actor_school = id->school;
    return id->ToActor();
  }
  if (!access.Allows(Principal::kStaffSession)) {
    return Error::Unauthenticated("send an API key as \"Authorization: Bearer\"");
  }
  std::string token = CookieValue(c.req.Header("cookie"), "dovira_session");
  if (token.empty()) {
    if (bearer) {
      return Error::Denied("principal_denied",
                           "this needs a staff session: an API key may not call it");
    }
    return Error::Unauthenticated(access.Allows(Principal::kApiKey)
                                      ? "sign in, or send an API key as \"Authorization: Bearer\""
                                      : "sign in first");
  }
  auto session = s_.staff.Authenticate(token);
  if (!session.ok()) return session.error();
  if (Status csrf = CheckCsrf(c.req, session->csrf_token); !csrf.ok()) return csrf.error();
  const std::string& path = c.route->pattern;
  const bool auth_route = path.rfind("/v1/auth/", 0) == 0;
  if (session->mfa_required && !session->mfa_passed && !auth_route) {
    return Error::Denied("mfa_required",
                         "this role needs a second factor: enrol TOTP at /v1/auth/totp/begin");
  }
  if (session->must_change_password && path != "/v1/auth/password" && path != "/v1/auth/logout" &&
      path != "/v1/auth/me") {
    return Error::Denied("password_change_required",
                         "the password must be changed first (POST /v1/auth/password)");
  }
  c.session = *session;
  c.session_token = token;
  c.actor_school = session->school;
  return session->ToActor();
}

std::optional<HttpResponse> Api::Prepare(Call& c, Match m) {
  c.ctx.request_id = c.req.request_id;
  c.ctx.ip = c.req.remote_address;
  c.ctx.user_agent = c.req.Header("user-agent");
  c.lang = PreferredLang(c.req);
  if (!m.route) {
    if (auto preflight = CorsPreflight(c.req)) return std::move(*preflight);
    if (auto file = static_files_.Serve(c.req)) return std::move(*file);  // --web-root
    if (m.method_mismatch) {
      std::string allowed;
      for (const auto& a : m.allowed) allowed += (allowed.empty() ? "" : ", ") + a;
      HttpResponse r = ErrorResponse(405, "method_not_allowed",
                                     c.req.method + " is not allowed here; use " + allowed);
      r.Header("Allow", allowed);
      return r;
    }
    return ErrorResponse(404, "not_found", "no such endpoint");
  }
  c.route = m.route;
  c.params = std::move(m.params);
  if (!c.route->access.IsPublic()) {
    auto actor = Authenticate(c);
    if (!actor.ok()) return ErrorResponse(actor.error());
    c.actor = std::move(*actor);
    // R118: credentials of one school never reach another school's data.
    if (c.params.count("school") && c.actor_school && *c.actor_school != c.school()) {
      return ErrorResponse(403, "school_mismatch", "these credentials belong to another school");
    }
    // Issue 11: the capability the route declares, from the role in the school's policy.
    if (Status st = RequireCapability(s_.schools, c, c.route->access.capability()); !st.ok()) {
      return ErrorResponse(st.error());
    }
    if (Status st = RequireOrganisationScope(s_.schools, c); !st.ok()) {
      return ErrorResponse(st.error());
    }
  }
  return std::nullopt;
}

HttpResponse Api::Dispatch(Call& c, Match m) {
  if (auto early = Prepare(c, std::move(m))) return std::move(*early);
  const size_t index = static_cast<size_t>(c.route - router_.routes().data());
  Handler h = handlers_[index];
  return (this->*h)(c);
}

// ---- handlers ----

namespace {


}  // namespace

HttpResponse Api::Healthz(Call&) {
  Json schools = Json::array();
  for (const auto& id : s_.schools.List()) schools.push_back(id.value());
  // "audit": "ok", or what the last check of an audit chain's end found (B01: tail_missing, ...).
  return JsonResponse(200, {{"status", "ok"},
                            {"schools", schools},
                            {"now", Iso(s_.clock.Now())},
                            {"audit", s_.audit.TailState()}});
}

HttpResponse Api::MetricsText(Call&) {
  HttpResponse r;
  r.Header("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
  r.body = metrics_.Render();
  return r;
}

HttpResponse Api::OpenApi(Call&) {
  HttpResponse r;
  r.Header("Content-Type", "application/json; charset=utf-8");
  r.body = openapi_;
  return r;
}

HttpResponse Api::PublicNotice(Call& c) {
  std::string school = QueryParam(c.req.query, "school");
  auto list = s_.schools.List();
  if (school.empty() && list.size() == 1) school = list.front().value();
  auto rt = s_.schools.Get(SchoolId(school));
  if (!rt.ok()) return ErrorResponse(rt.error());
  std::string format = QueryParam(c.req.query, "format");
  if (format.empty()) format = "html";
  if (format != "html" && format != "md") {
    return ErrorResponse(400, "invalid_field", "format must be html or md", "format");
  }
  auto text = notice::RenderNotice((*rt)->policy()->policy(), c.lang,
                                   format == "html" ? notice::Format::kHtml
                                                    : notice::Format::kMarkdown);
  if (!text.ok()) return ErrorResponse(text.error());
  HttpResponse r;
  r.Header("Content-Type",
           format == "html" ? "text/html; charset=utf-8" : "text/markdown; charset=utf-8");
  r.Header("Content-Language", c.lang);
  AddSecurityHeaders(r, format == "html");
  r.body = std::move(*text);
  return r;
}

HttpResponse Api::PolicyInfo(Call& c) {
  auto rt = s_.schools.Get(c.school());
  if (!rt.ok()) return ErrorResponse(rt.error());
  const policy::Policy& p = (*rt)->policy()->policy();
  return JsonResponse(
      200, {{"school", p.school.id},
            {"name", p.school.name.Get(c.lang, p.school.authoritative_language)},
            {"version", p.version.id},
            {"published", p.version.published ? calendar::FormatDate(*p.version.published) : ""},
            {"effective", p.version.effective ? calendar::FormatDate(*p.version.effective) : ""},
            {"sha256", (*rt)->sha256()},
            {"controller", p.controller.name.Get(c.lang, p.school.authoritative_language)},
            {"rights_requests", p.contacts.rights_requests},
            {"languages", p.school.languages},
            // The zone the pages show dates and times in (the policy's calendar.timezone).
            {"time_zone", p.calendar.timezone},
            {"notice", "/policy?school=" + p.school.id + "&lang=" + c.lang}});
}

HttpResponse Api::PolicyVersions(Call& c) {
  auto rows = s_.schools.Versions(c.school());
  if (!rows.ok()) return ErrorResponse(rows.error());
  Json items = Json::array();
  for (const auto& v : *rows) {
    items.push_back({{"version", v.version_id},
                     {"effective", v.effective_date},
                     {"published_at", Iso(v.published_at)},
                     {"sha256", v.sha256},
                     {"href", "/v1/schools/" + c.school().value() + "/policy/versions/" +
                                  v.version_id}});
  }
  return JsonResponse(200, {{"items", items}, {"next_cursor", nullptr}});
}

HttpResponse Api::PolicyVersion(Call& c) {
  auto rows = s_.schools.Versions(c.school());
  if (!rows.ok()) return ErrorResponse(rows.error());
  for (const auto& v : *rows) {
    if (v.version_id == c.param("version")) {
      return JsonResponse(200, {{"version", v.version_id},
                                {"effective", v.effective_date},
                                {"published_at", Iso(v.published_at)},
                                {"sha256", v.sha256},
                                {"text", v.text}});
    }
  }
  return ErrorResponse(404, "version_unknown", "no such published version", "version");
}

HttpResponse Api::ListForms(Call& c) {
  auto rt = s_.schools.Get(c.school());
  if (!rt.ok()) return ErrorResponse(rt.error());
  const policy::Policy& p = (*rt)->policy()->policy();
  Json items = Json::array();
  for (const auto& [id, f] : p.forms) {
    items.push_back({{"id", id},
                     {"title", f.title.Get(c.lang, p.school.authoritative_language)},
                     {"subject_kind", f.subject_kind},
                     {"channel", f.channel},
                     {"href", "/v1/schools/" + p.school.id + "/forms/" + id}});
  }
  return JsonResponse(200, {{"items", items}, {"next_cursor", nullptr}});
}

HttpResponse Api::GetForm(Call& c) {
  auto rt = s_.schools.Get(c.school());
  if (!rt.ok()) return ErrorResponse(rt.error());
  auto cp = (*rt)->policy();
  const policy::Policy& p = cp->policy();
  auto it = p.forms.find(c.param("form"));
  if (it == p.forms.end()) return ErrorResponse(404, "form_unknown", "no such form", "form");
  const policy::Form& f = it->second;
  const std::string& auth = p.school.authoritative_language;
  Json fields = Json::array();
  for (const auto& fid : f.fields) {
    const policy::Field* fd = p.FindField(fid);
    if (!fd) continue;
    Json jf = {{"id", fid},
               {"type", fd->type},
               {"title", fd->title.Get(c.lang, auth)},
               {"required",
                std::find(f.required.begin(), f.required.end(), fid) != f.required.end()},
               {"max_length", fd->max_length}};
    if (!fd->values.empty()) jf["values"] = fd->values;
    fields.push_back(jf);
  }
  Json one_of = Json::array();
  for (const auto& g : f.one_of) one_of.push_back(g.fields);
  Json consents = Json::array();
  for (const auto& cb : f.consents) {
    const policy::ConsentType* ct =
        p.consents.count(cb.consent) ? &p.consents.at(cb.consent) : nullptr;
    consents.push_back(
        {{"id", cb.id},
         {"consent", cb.consent},
         {"text", cb.text.Get(c.lang, auth)},
         {"required", cb.required},
         {"checked", false},
         {"grants", ct ? Json(ct->grants) : Json::array()},
         {"withdrawal_procedure", ct ? ct->withdrawal_procedure.Get(c.lang, auth) : ""}});
  }
  // What the form needs to ask for a representative only when the age answer needs one (R24):
  // the policy's rule, its age, the birth-date field and the representative's fields.
  Json representative_fields = Json::array();
  for (const auto& [part, fid] : p.minors.representative_fields) {
    if (std::find(f.fields.begin(), f.fields.end(), fid) != f.fields.end()) {
      representative_fields.push_back(fid);
    }
  }
  Json minors = {{"rule", p.minors.rule},
                 {"threshold", p.minors.threshold},
                 {"birth_date_field", p.minors.birth_date_field},
                 {"accepted", p.minors.representative_consent != "not_accepted"},
                 {"representative_fields", representative_fields}};
  return JsonResponse(200, {{"id", f.id},
                            {"school", p.school.id},
                            {"title", f.title.Get(c.lang, auth)},
                            {"minors", minors},
                            {"subject_kind", f.subject_kind},
                            {"channel", f.channel},
                            {"accept_policy", f.accept_policy},
                            {"age_statement", f.age_statement},
                            {"age_threshold", p.minors.threshold},
                            {"fields", fields},
                            {"one_of", one_of},
                            {"consents", consents},
                            {"policy_version", (*rt)->version()},
                            {"notice", "/policy?school=" + p.school.id + "&lang=" + c.lang},
                            {"submit", "/v1/schools/" + p.school.id + "/forms/" + f.id +
                                           "/submissions"}});
}


HttpResponse Api::SubmitForm(Call& c) {
  auto body = ParseJsonObject(c.req);
  if (!body.ok()) return ErrorResponse(body.error());
  Status only = OnlyKeys(*body, {"fields", "consents", "accept_policy", "lang", "age_statement",
                                 "country", "citizenship", "representative",
                                 "evidence_document", "date_of_majority"});
  if (!only.ok()) return ErrorResponse(only.error());
  auto sub = SubmissionFrom(*body, c.lang);
  if (!sub.ok()) return ErrorResponse(sub.error());
  sub->form = c.param("form");
  auto receipt = s_.subjects.Intake(c.school(), *sub, Actor::Public(), c.ctx);
  metrics_.CountIntake(receipt.ok());
  if (!receipt.ok()) return ErrorResponse(receipt.error());
  if (!receipt->awaiting_confirmation.empty()) NudgeOutbox();  // the confirmation letter
  Json consents = Json::array();
  for (const auto& r : receipt->consents) consents.push_back(ConsentReceiptJson(r));
  return JsonResponse(201, {{"subject", receipt->subject.value()},
                            {"kind", receipt->kind},
                            {"policy_version", receipt->policy_version},
                            {"channel", receipt->channel},
                            {"form", receipt->form},
                            {"minor", receipt->minor},
                            {"fields", receipt->fields},
                            {"awaiting_confirmation", receipt->awaiting_confirmation},
                            {"consents", consents},
                            {"at", Iso(receipt->at)}});
}

HttpResponse Api::ConfirmSubscription(Call& c) {
  if (s_.subscriptions == nullptr) return ErrorResponse(Error::NotFound("no such route"));
  auto body = ParseJsonObject(c.req);
  if (!body.ok()) return ErrorResponse(body.error());
  if (Status only = OnlyKeys(*body, {"token"}); !only.ok()) return ErrorResponse(only.error());
  auto token = ReqString(*body, "token");
  if (!token.ok()) return ErrorResponse(token.error());
  auto done = s_.subscriptions->Confirm(c.school(), *token, c.lang, c.ctx);
  if (!done.ok()) return ErrorResponse(done.error());
  auto rt = s_.schools.Get(c.school());
  if (!rt.ok()) return ErrorResponse(rt.error());
  const policy::Policy& p = (*rt)->policy()->policy();
  const std::string& auth = p.school.authoritative_language;
  Json purposes = Json::array();
  for (const auto& id : done->purposes) {
    auto it = p.purposes.find(id);
    purposes.push_back(
        {{"id", id}, {"title", it == p.purposes.end() ? id : it->second.title.Get(c.lang, auth)}});
  }
  return JsonResponse(200, {{"confirmed", true},
                            {"school", p.school.name.Get(c.lang, auth)},
                            {"purposes", purposes},
                            {"consent_id", done->consent.id.value()},
                            {"confirmed_at", Iso(done->confirmed_at)}});
}

HttpResponse Api::Login(Call& c) {
  auto body = ParseJsonObject(c.req);
  if (!body.ok()) return ErrorResponse(body.error());
  Status only = OnlyKeys(*body, {"school", "email", "password", "totp"});
  if (!only.ok()) return ErrorResponse(only.error());
  auto school = ReqString(*body, "school");
  auto email = ReqString(*body, "email");
  auto password = ReqString(*body, "password");
  auto totp = OptString(*body, "totp");
  for (const Error* e : {school.ok() ? nullptr : &school.error(), email.ok() ? nullptr : &email.error(),
                         password.ok() ? nullptr : &password.error(),
                         totp.ok() ? nullptr : &totp.error()}) {
    if (e) return ErrorResponse(*e);
  }
  auto result = s_.staff.Login(SchoolId(*school), *email, *password, totp->value_or(""), c.ctx);
  if (!result.ok()) return ErrorResponse(result.error());
  const services::StaffSession& s = result->session;
  Json out = {{"staff", s.staff.value()},
              {"name", s.name},
              {"role", s.role},
              {"school", s.school.value()},
              {"csrf_token", s.csrf_token},
              {"mfa_required", s.mfa_required && !s.mfa_passed},
              {"must_change_password", s.must_change_password},
              {"expires_at", Iso(s.expires_at)}};
  if (result->recovery_codes_left) out["recovery_codes_left"] = *result->recovery_codes_left;
  HttpResponse r = JsonResponse(200, out);
  r.Header("Set-Cookie", "dovira_session=" + result->session_token +
                             "; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200" +
                             (options_.secure_cookies ? "; Secure" : ""));
  return r;
}

HttpResponse Api::Logout(Call& c) {
  Status st = s_.staff.Logout(c.session_token, c.ctx);
  if (!st.ok()) return ErrorResponse(st.error());
  HttpResponse r = JsonResponse(200, {{"signed_out", true}});
  r.Header("Set-Cookie", "dovira_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0" +
                             std::string(options_.secure_cookies ? "; Secure" : ""));
  return r;
}

HttpResponse Api::Me(Call& c) {
  const auto& s = *c.session;
  return JsonResponse(200, {{"staff", s.staff.value()},
                            {"name", s.name},
                            {"email", s.email},
                            {"role", s.role},
                            {"school", s.school.value()},
                            {"csrf_token", s.csrf_token},
                            {"mfa_required", s.mfa_required && !s.mfa_passed},
                            {"must_change_password", s.must_change_password},
                            {"briefed", s.briefed},
                            {"organisation", s.organisation},
                            {"expires_at", Iso(s.expires_at)}});
}

HttpResponse Api::TotpBegin(Call& c) {
  auto e = s_.staff.BeginTotp(*c.session);
  if (!e.ok()) return ErrorResponse(e.error());
  return JsonResponse(200, {{"secret", e->secret_base32},
                            {"issuer", e->issuer},
                            {"account", e->account},
                            {"otpauth_uri", e->otpauth_uri}});
}

HttpResponse Api::TotpConfirm(Call& c) {
  auto body = ParseJsonObject(c.req);
  if (!body.ok()) return ErrorResponse(body.error());
  auto code = ReqString(*body, "code");
  if (!code.ok()) return ErrorResponse(code.error());
  auto codes = s_.staff.ConfirmTotp(c.session_token, *code, c.ctx);
  if (!codes.ok()) return ErrorResponse(codes.error());
  // The recovery codes are shown here once (at enrolment) and never again.
  return JsonResponse(200, {{"mfa_passed", true}, {"recovery_codes", *codes}});
}

HttpResponse Api::RecoveryCodes(Call& c) {
  auto codes = s_.staff.RegenerateRecoveryCodes(*c.session, c.ctx);
  if (!codes.ok()) return ErrorResponse(codes.error());
  return JsonResponse(200, {{"recovery_codes", *codes}});
}

HttpResponse Api::ChangePassword(Call& c) {
  auto body = ParseJsonObject(c.req);
  if (!body.ok()) return ErrorResponse(body.error());
  auto cur = ReqString(*body, "current_password");
  if (!cur.ok()) return ErrorResponse(cur.error());
  auto next = ReqString(*body, "new_password");
  if (!next.ok()) return ErrorResponse(next.error());
  Status st = s_.staff.ChangePassword(c.session_token, *cur, *next, c.ctx);
  if (!st.ok()) return ErrorResponse(st.error());
  return JsonResponse(200, {{"changed", true}});
}

HttpResponse Api::ListStaff(Call& c) {
  auto rows = s_.staff.List(c.school());
  if (!rows.ok()) return ErrorResponse(rows.error());
  Json items = Json::array();
  for (const auto& r : *rows) {
    items.push_back({{"id", r.id.value()},
                     {"name", r.name},
                     {"email", r.email},
                     {"role", r.role},
                     {"organisation", r.organisation},
                     {"totp_enabled", r.totp_enabled},
                     {"briefing_completed_at", TimeOrNull(r.briefing_completed_at)},
                     {"left_at", TimeOrNull(r.left_at)},
                     {"created_at", Iso(r.created_at)}});
  }
  return JsonResponse(200, {{"items", items}, {"next_cursor", nullptr}});
}

HttpResponse Api::CreateStaff(Call& c) {
  auto body = ParseJsonObject(c.req);
  if (!body.ok()) return ErrorResponse(body.error());
  Status only = OnlyKeys(*body, {"name", "email", "role", "password", "organisation"});
  if (!only.ok()) return ErrorResponse(only.error());
  auto name = OptString(*body, "name");
  auto email = OptString(*body, "email");
  auto role = OptString(*body, "role");
  auto pw = OptString(*body, "password");
  auto organisation = OptString(*body, "organisation");
  for (const auto* r : {&name, &email, &role, &pw, &organisation}) {
    if (!r->ok()) return ErrorResponse(r->error());
  }
  auto row = s_.staff.Create(c.school(), name->value_or(""), email->value_or(""),
                             role->value_or(""), pw->value_or(""), c.actor, c.ctx,
                             services::StaffService::InitialPassword::kOneTime,
                             organisation->value_or(""));
  if (!row.ok()) return ErrorResponse(row.error());
  return JsonResponse(201, {{"id", row->id.value()},
                            {"name", row->name},
                            {"email", row->email},
                            {"role", row->role},
                            {"organisation", row->organisation}});
}

HttpResponse Api::StaffLeave(Call& c) {
  Status st = s_.staff.Leave(c.school(), StaffId(c.param("staff")), c.actor, c.ctx);
  if (!st.ok()) return ErrorResponse(st.error());
  return JsonResponse(200, {{"left", true}});
}

HttpResponse Api::StaffBriefing(Call& c) {
  Status st = s_.staff.RecordBriefing(c.school(), StaffId(c.param("staff")), c.actor, c.ctx);
  if (!st.ok()) return ErrorResponse(st.error());
  return JsonResponse(200, {{"briefed", true}});
}

HttpResponse Api::ListApiKeys(Call& c) {
  auto rows = s_.staff.ListApiKeys(c.school());
  if (!rows.ok()) return ErrorResponse(rows.error());
  Json items = Json::array();
  for (const auto& r : *rows) {
    items.push_back({{"id", r.id.value()},
                     {"name", r.name},
                     {"role", r.role},
                     {"purposes", r.purposes},
                     {"created_at", Iso(r.created_at)},
                     {"revoked_at", TimeOrNull(r.revoked_at)}});
  }
  return JsonResponse(200, {{"items", items}, {"next_cursor", nullptr}});
}

HttpResponse Api::CreateApiKey(Call& c) {
  auto body = ParseJsonObject(c.req);
  if (!body.ok()) return ErrorResponse(body.error());
  Status only = OnlyKeys(*body, {"name", "role", "purposes"});
  if (!only.ok()) return ErrorResponse(only.error());
  auto name = OptString(*body, "name");
  auto role = OptString(*body, "role");
  auto purposes = OptStringList(*body, "purposes");
  if (!name.ok()) return ErrorResponse(name.error());
  if (!role.ok()) return ErrorResponse(role.error());
  if (!purposes.ok()) return ErrorResponse(purposes.error());
  auto key = s_.staff.CreateApiKey(c.school(), name->value_or(""), role->value_or(""), *purposes,
                                   c.actor, c.ctx);
  if (!key.ok()) return ErrorResponse(key.error());
  return JsonResponse(201, {{"id", key->id.value()}, {"key", key->key}});
}

HttpResponse Api::RevokeApiKey(Call& c) {
  Status st = s_.staff.RevokeApiKey(c.school(), ApiKeyId(c.param("key")), c.actor, c.ctx);
  if (!st.ok()) return ErrorResponse(st.error());
  return JsonResponse(200, {{"revoked", true}});
}

HttpResponse Api::CreateSubject(Call& c) {
  auto body = ParseJsonObject(c.req);
  if (!body.ok()) return ErrorResponse(body.error());
  Status only = OnlyKeys(*body, {"kind", "channel", "source", "fields", "lang", "country",
                                 "citizenship", "age_statement", "representative", "evidence_document",
                                 "date_of_majority"});
  if (!only.ok()) return ErrorResponse(only.error());
  auto sub = SubmissionFrom(*body, c.lang);
  if (!sub.ok()) return ErrorResponse(sub.error());
  auto kind = ReqString(*body, "kind");
  if (!kind.ok()) return ErrorResponse(kind.error());
  auto channel = ReqString(*body, "channel");
  if (!channel.ok()) return ErrorResponse(channel.error());
  auto source = OptString(*body, "source");
  if (!source.ok()) return ErrorResponse(source.error());
  sub->subject_kind = *kind;
  sub->channel = *channel;
  // Another system usually forwards what the person typed into the school's own site; a caller
  // relaying data from elsewhere names the source (client, offline, third_party, automatic).
  sub->source = source->value_or("subject");
  auto receipt = s_.subjects.Intake(c.school(), *sub, c.actor, c.ctx);
  metrics_.CountIntake(receipt.ok());
  if (!receipt.ok()) return ErrorResponse(receipt.error());
  return JsonResponse(201, {{"subject", receipt->subject.value()},
                            {"kind", receipt->kind},
                            {"policy_version", receipt->policy_version},
                            {"channel", receipt->channel},
                            {"source", sub->source},
                            {"minor", receipt->minor},
                            {"fields", receipt->fields},
                            {"consents", Json::array()},
                            {"at", Iso(receipt->at)}});
}

HttpResponse Api::ImportSubjects(Call& c) {
  const std::string& ct = c.req.Header("content-type");
  ImportFormat format;
  if (ct.rfind("text/csv", 0) == 0) {
    format = ImportFormat::kCsv;
  } else if (ct.rfind("application/x-ndjson", 0) == 0 || ct.rfind("application/jsonl", 0) == 0) {
    format = ImportFormat::kJsonLines;
  } else {
    return ErrorResponse(415, "import_format",
                         "an import is CSV (text/csv) or JSON lines (application/x-ndjson)");
  }
  auto rt = s_.schools.Get(c.school());
  if (!rt.ok()) return ErrorResponse(rt.error());
  auto cp = (*rt)->policy();
  const ErrorReader reader{ReaderLang(c.req, &cp->policy()), &cp->policy()};
  std::istringstream in(c.req.body);
  auto rows = ImportReader::Open(in, format, i18n::LangCode(reader.lang));
  if (!rows.ok()) return ErrorResponse(rows.error());
  services::ImportOptions options;
  options.kind = QueryParam(c.req.query, "kind");
  options.channel = QueryParam(c.req.query, "channel");
  options.source = QueryParam(c.req.query, "source");
  options.label = "api";
  options.list_stored = true;
  auto report = s_.subjects.Import(c.school(), **rows, options, c.actor, c.ctx);
  if (!report.ok()) return ErrorResponse(report.error());
  if (report->stopped && report->imported == 0) return ErrorResponse(*report->stopped);
  metrics_.CountImport(report->imported, report->refused_count);
  Json refused = Json::array();
  for (const auto& r : report->refused) {
    Json errors = Json::array();
    for (const Error& p : r.error.AllProblems()) {
      Json e = ErrorJson(p);
      e["message"] = ErrorMessage(p.ReasonOrCode(), e.value("args", Json::object()), p.field,
                                  StatusFor(p.code), reader);
      errors.push_back(std::move(e));
    }
    refused.push_back({{"line", r.line}, {"errors", std::move(errors)}});
  }
  Json stored = Json::array();
  for (const auto& [line, subject] : report->stored) {
    stored.push_back({{"line", line}, {"subject", subject.value()}});
  }
  Json out = {{"import", report->id},
              {"rows", report->rows},
              {"imported", report->imported},
              {"stored", std::move(stored)},
              {"refused_count", report->refused_count},
              {"refused", std::move(refused)}};
  if (report->stopped) {
    // Some rows were stored before the store failed: they stay, and the caller resumes from the
    // line named.
    out["stopped"] = {{"code", report->stopped->ReasonOrCode()},
                      {"message", ErrorMessage(report->stopped->ReasonOrCode(), Json::object(), {},
                                               StatusFor(report->stopped->code), reader)},
                      {"resume_at_line", report->stopped_at_line}};
  }
  return JsonResponse(200, out);
}

HttpResponse Api::ListSubjects(Call& c) {
  std::string limit_s = QueryParam(c.req.query, "limit");
  size_t limit = 50;
  if (!limit_s.empty()) {
    char* end = nullptr;
    long v = std::strtol(limit_s.c_str(), &end, 10);
    if (*end != '\0' || v < 1 || v > 500) {
      return ErrorResponse(400, "invalid_field", "limit must be a number from 1 to 500", "limit");
    }
    limit = static_cast<size_t>(v);
  }
  // R86: the people of an affiliate or a contractor list the subjects assigned to them alone.
  std::optional<std::set<std::string>> only;
  if (auto rt = s_.schools.Get(c.school()); rt.ok() && (*rt)->policy()) {
    const int r = (*rt)->policy()->RoleIndex(c.actor.role);
    if (r >= 0 && (*rt)->policy()->role(static_cast<size_t>(r)).scoped) {
      only = (*rt)->assignments().Of(c.actor.organisation);
    }
  }
  auto rows = s_.subjects.List(c.school(), QueryParam(c.req.query, "cursor"), limit + 1,
                               only ? &*only : nullptr);
  if (!rows.ok()) return ErrorResponse(rows.error());
  Json items = Json::array();
  Json next = nullptr;
  for (size_t i = 0; i < rows->size(); ++i) {
    if (i == limit) {
      next = (*rows)[i - 1].id.value();
      break;
    }
    items.push_back(SubjectJson((*rows)[i]));
  }
  return JsonResponse(200, {{"items", items}, {"next_cursor", next}});
}

HttpResponse Api::GetSubject(Call& c) {
  auto s = s_.subjects.Get(c.school(), SubjectId(c.param("subject")), c.actor, c.ctx);
  if (!s.ok()) return ErrorResponse(s.error());
  Json j = SubjectJson(s->row);
  j["minor"] = s->minor;
  // The representative of a minor is shown only by relation and date: names are personal data
  // that are read through the gate like any other.
  if (s->representative) {
    j["representative"] = {{"relation", s->representative->relation},
                           {"permission_at", s->representative->permission_at}};
  }
  // R44: which fields carry a statement of the subject's, and since when; the text comes with
  // the field's value when the gate releases it (/read).
  if (!s->statements.empty()) {
    Json statements = Json::array();
    for (const auto& st : s->statements) {
      statements.push_back({{"field", st.field}, {"at", FormatTimestamp(st.at)}});
    }
    j["statements"] = std::move(statements);
  }
  return JsonResponse(200, j);
}

HttpResponse Api::Provenance(Call& c) {
  auto p = s_.subjects.Provenance(c.school(), SubjectId(c.param("subject")), c.actor, c.ctx);
  if (!p.ok()) return ErrorResponse(p.error());
  Json items = Json::array();
  for (const auto& e : *p) {
    items.push_back({{"field", e.field},
                     {"category", e.category},
                     {"store", e.store},
                     {"source", e.source},
                     {"channel", e.channel},
                     {"form", e.form},
                     {"policy_version", e.policy_version},
                     {"collected_at", Iso(e.collected_at)}});
  }
  return JsonResponse(200, {{"items", items}, {"next_cursor", nullptr}});
}

namespace {

HttpResponse DecisionResponse(const services::AccessResult& r, bool with_values) {
  if (!r.allowed) {
    HttpResponse resp = ErrorResponse(r.status, r.reason,
                                      "refused by the school's policy: " + r.reason +
                                          " (decision " + r.decision_id + ")");
    resp.Header("X-Decision-Id", r.decision_id);
    return resp;
  }
  Json j = {{"allowed", true}, {"decision_id", r.decision_id}, {"reason", r.reason}};
  if (!r.standing_decision.empty()) j["standing_decision"] = r.standing_decision;
  if (!r.decided_by.empty()) j["decided_by"] = r.decided_by;
  if (with_values) {
    j["fields"] = r.values;
    if (!r.statements.empty()) j["statements"] = r.statements;
  } else {
    j["fields"] = r.fields;
  }
  HttpResponse resp = JsonResponse(200, j);
  resp.Header("X-Decision-Id", r.decision_id);
  return resp;
}

}  // namespace

namespace {

// The typed request of /read and /process; `with_subject` when the subject is in the body.
Result<services::AccessRequest> AccessRequestOf(const ports::HttpRequest& req,
                                                const std::string& path_subject) {
  auto body = ParseJsonObject(req);
  if (!body.ok()) return body.error();
  const bool in_body = path_subject.empty();
  Status only = in_body ? OnlyKeys(*body, {"subject", "purpose", "fields", "operation"})
                        : OnlyKeys(*body, {"purpose", "fields", "operation"});
  if (!only.ok()) return only.error();
  std::string subject = path_subject;
  if (in_body) {
    auto s = ReqString(*body, "subject");
    if (!s.ok()) return s.error();
    subject = *s;
  }
  auto purpose = ReqString(*body, "purpose");
  if (!purpose.ok()) return purpose.error();
  auto fields = OptStringList(*body, "fields");
  if (!fields.ok()) return fields.error();
  auto op = OperationOf(*body);
  if (!op.ok()) return op.error();
  return services::AccessRequest{SubjectId(subject), *purpose, *fields, *op};
}

}  // namespace

void Api::ReadSubject(std::shared_ptr<Call> c, Finish finish) {
  auto req = AccessRequestOf(c->req, c->param("subject"));
  if (!req.ok()) return finish(ErrorResponse(req.error()));
  s_.access.ReadAsync(c->school(), *req, c->actor, c->ctx,
                      [this, finish](Result<services::AccessResult> r) {
                        if (!r.ok()) return finish(ErrorResponse(r.error()));
                        metrics_.CountDecision(r->allowed);
                        finish(DecisionResponse(*r, true));
                      });
}

void Api::Process(std::shared_ptr<Call> c, Finish finish) {
  auto req = AccessRequestOf(c->req, "");
  if (!req.ok()) return finish(ErrorResponse(req.error()));
  s_.access.DecideAsync(c->school(), *req, c->actor, c->ctx,
                        [this, finish](Result<services::AccessResult> r) {
                          if (!r.ok()) return finish(ErrorResponse(r.error()));
                          metrics_.CountDecision(r->allowed);
                          finish(DecisionResponse(*r, false));
                        });
}

HttpResponse Api::ProfilingRun(Call& c) {
  auto body = ParseJsonObject(c.req);
  if (!body.ok()) return ErrorResponse(body.error());
  if (Status only = OnlyKeys(*body, {"purpose", "subjects"}); !only.ok()) {
    return ErrorResponse(only.error());
  }
  auto purpose = ReqString(*body, "purpose");
  if (!purpose.ok()) return ErrorResponse(purpose.error());
  if (!body->contains("subjects")) {
    return ErrorResponse(Error::Invalid("subjects is required", "subjects"));
  }
  auto subjects = OptStringList(*body, "subjects");
  if (!subjects.ok()) return ErrorResponse(subjects.error());
  services::ProfilingRunRequest req;
  req.purpose = *purpose;
  for (auto& s : *subjects) req.subjects.emplace_back(std::move(s));
  auto run = s_.access.ProfilingRun(c.school(), req, c.actor, c.ctx);
  if (!run.ok()) return ErrorResponse(run.error());
  Json included = Json::array();
  for (const auto& e : run->included) {
    included.push_back({{"subject", e.subject.value()}, {"decision_id", e.decision_id}});
  }
  Json skipped = Json::array();
  for (const auto& e : run->skipped) {
    skipped.push_back(
        {{"subject", e.subject.value()}, {"reason", e.reason}, {"decision_id", e.decision_id}});
  }
  return JsonResponse(200, {{"id", run->id},
                            {"purpose", run->purpose},
                            {"included", included},
                            {"skipped", skipped}});
}

HttpResponse Api::ListConsents(Call& c) {
  auto rows = s_.consents.Ledger(c.school(), SubjectId(c.param("subject")), c.actor, c.ctx);
  if (!rows.ok()) return ErrorResponse(rows.error());
  Json items = Json::array();
  for (const auto& r : *rows) {
    Json evidence = Json::parse(r.evidence, nullptr, false);
    items.push_back({{"id", r.id.value()},
                     {"consent", r.consent_type},
                     {"action", r.action},
                     {"grants", r.grants},
                     {"policy_version", r.policy_version},
                     {"text", r.text},
                     {"text_sha256", r.text_sha256},
                     {"lang", r.lang},
                     {"channel", r.channel},
                     {"form", r.form},
                     {"checkbox", r.checkbox},
                     {"given_by", r.given_by},
                     {"evidence", evidence.is_discarded() ? Json(nullptr) : evidence},
                     {"at", Iso(r.at)},
                     {"expires_at", TimeOrNull(r.expires_at)}});
  }
  return JsonResponse(200, {{"items", items}, {"next_cursor", nullptr}});
}

HttpResponse Api::GrantConsent(Call& c) {
  auto body = ParseJsonObject(c.req);
  if (!body.ok()) return ErrorResponse(body.error());
  Status only = OnlyKeys(*body, {"consent", "text", "lang", "channel", "given_by",
                                 "evidence_document", "at", "expires"});
  if (!only.ok()) return ErrorResponse(only.error());
  services::GrantRequest g;
  g.subject = SubjectId(c.param("subject"));
  for (auto [key, dst] : {std::pair<const char*, std::string*>{"consent", &g.consent_type},
                          {"text", &g.text},
                          {"lang", &g.lang},
                          {"channel", &g.channel},
                          {"given_by", &g.given_by},
                          {"evidence_document", &g.evidence_document}}) {
    auto v = OptString(*body, key);
    if (!v.ok()) return ErrorResponse(v.error());
    if (*v) *dst = **v;
  }
  auto at = OptTimestamp(*body, "at");
  if (!at.ok()) return ErrorResponse(at.error());
  g.at = *at;
  auto expires = OptString(*body, "expires");
  if (!expires.ok()) return ErrorResponse(expires.error());
  g.expires = *expires;
  auto r = s_.consents.Grant(c.school(), g, c.actor, c.ctx);
  if (!r.ok()) return ErrorResponse(r.error());
  return JsonResponse(201, ConsentReceiptJson(*r));
}

HttpResponse Api::WithdrawConsent(Call& c) {
  auto body = ParseJsonObject(c.req);
  if (!body.ok()) return ErrorResponse(body.error());
  Status only = OnlyKeys(*body, {"consents", "purposes", "channel", "received_at"});
  if (!only.ok()) return ErrorResponse(only.error());
  services::WithdrawRequest w;
  w.subject = SubjectId(c.param("subject"));
  auto consents = OptStringList(*body, "consents");
  if (!consents.ok()) return ErrorResponse(consents.error());
  w.consent_types = *consents;
  auto purposes = OptStringList(*body, "purposes");
  if (!purposes.ok()) return ErrorResponse(purposes.error());
  w.purposes = *purposes;
  auto channel = ReqString(*body, "channel");
  if (!channel.ok()) return ErrorResponse(channel.error());
  w.channel = *channel;
  auto received = OptTimestamp(*body, "received_at");
  if (!received.ok()) return ErrorResponse(received.error());
  w.received_at = *received;
  auto rows = s_.consents.Withdraw(c.school(), w, c.actor, c.ctx);
  if (!rows.ok()) return ErrorResponse(rows.error());
  Json items = Json::array();
  for (const auto& r : *rows) items.push_back(ConsentReceiptJson(r));
  return JsonResponse(200, {{"items", items}, {"next_cursor", nullptr}});
}

namespace {
Result<std::pair<int64_t, size_t>> Paging(const std::string& query) {
  int64_t after = 0;
  size_t limit = 100;
  std::string a = QueryParam(query, "after"), l = QueryParam(query, "limit");
  char* end = nullptr;
  if (!a.empty()) {
    after = std::strtoll(a.c_str(), &end, 10);
    if (*end != '\0' || after < 0) {
      return Error{ErrorCode::kInvalidArgument, "after must be a sequence number", "after",
                   "invalid_field"};
    }
  }
  if (!l.empty()) {
    long v = std::strtol(l.c_str(), &end, 10);
    if (*end != '\0' || v < 1 || v > 1000) {
      return Error{ErrorCode::kInvalidArgument, "limit must be a number from 1 to 1000", "limit",
                   "invalid_field"};
    }
    limit = static_cast<size_t>(v);
  }
  return std::make_pair(after, limit);
}
}  // namespace

HttpResponse Api::SubjectAudit(Call& c) {
  auto paging = Paging(c.req.query);
  if (!paging.ok()) return ErrorResponse(paging.error());
  auto rows =
      s_.audit.ForSubject(c.school(), SubjectId(c.param("subject")), paging->first, paging->second);
  if (!rows.ok()) return ErrorResponse(rows.error());
  Json items = Json::array();
  for (const auto& r : *rows) items.push_back(AuditJson(r));
  Json next = rows->size() == paging->second ? Json(rows->back().seq) : Json(nullptr);
  return JsonResponse(200, {{"items", items}, {"next_cursor", next}});
}

HttpResponse Api::ListAudit(Call& c) {
  auto paging = Paging(c.req.query);
  if (!paging.ok()) return ErrorResponse(paging.error());
  // order=desc pages backwards from the newest entry (or from `before`): the console shows the
  // newest first without probing for the head.
  const std::string order = QueryParam(c.req.query, "order");
  if (!order.empty() && order != "asc" && order != "desc") {
    return ErrorResponse(Error{ErrorCode::kInvalidArgument, "order must be asc or desc", "order",
                               "invalid_field"});
  }
  const std::string before_text = QueryParam(c.req.query, "before");
  if (!before_text.empty() && order != "desc") {
    return ErrorResponse(Error{ErrorCode::kInvalidArgument, "before needs order=desc", "before",
                               "invalid_field"});
  }
  if (order == "desc" && !QueryParam(c.req.query, "after").empty()) {
    return ErrorResponse(Error{ErrorCode::kInvalidArgument,
                               "after pages forwards; with order=desc use before", "after",
                               "invalid_field"});
  }
  std::optional<int64_t> before;
  if (!before_text.empty()) {
    char* end = nullptr;
    const long long v = std::strtoll(before_text.c_str(), &end, 10);
    if (*end != '\0' || v < 1) {
      return ErrorResponse(Error{ErrorCode::kInvalidArgument, "before must be a sequence number",
                                 "before", "invalid_field"});
    }
    before = v;
  }
  auto last = s_.audit.LastSeq(c.school());
  if (!last.ok()) return ErrorResponse(last.error());
  auto rows = order == "desc" ? s_.audit.PageBackward(c.school(), before, paging->second)
                              : s_.audit.Page(c.school(), paging->first, paging->second);
  if (!rows.ok()) return ErrorResponse(rows.error());
  Json items = Json::array();
  for (const auto& r : *rows) items.push_back(AuditJson(r));
  Json next = nullptr;
  if (order == "desc") {
    if (!rows->empty() && rows->back().seq > 1) next = rows->back().seq;
  } else if (rows->size() == paging->second) {
    next = rows->back().seq;
  }
  return JsonResponse(200, {{"items", items}, {"next_cursor", next}, {"last_seq", *last}});
}

HttpResponse Api::VerifyAudit(Call& c) {
  auto v = s_.audit.Verify(c.school());
  if (!v.ok()) return ErrorResponse(v.error());
  return JsonResponse(200, {{"ok", v->ok},
                            {"entries", v->entries},
                            {"checkpoints", v->checkpoints},
                            {"first_broken", v->first_broken ? Json(*v->first_broken) : Json(nullptr)},
                            {"problem", v->problem}});
}

HttpResponse Api::CheckpointAudit(Call& c) {
  Status st = s_.audit.Checkpoint(c.school());
  if (!st.ok()) return ErrorResponse(st.error());
  return JsonResponse(200, {{"checkpointed", true}});
}

HttpResponse Api::TestClock(Call& c) {
  auto body = ParseJsonObject(c.req);
  if (!body.ok()) return ErrorResponse(body.error());
  Status only = OnlyKeys(*body, {"set", "advance_seconds"});
  if (!only.ok()) return ErrorResponse(only.error());
  auto set = OptString(*body, "set");
  if (!set.ok()) return ErrorResponse(set.error());
  if (*set) {
    Timestamp t;
    std::string err;
    if (!ParseTimestamp(**set, &t, &err)) return ErrorResponse(400, "invalid_field", err, "set");
    s_.test_clock->Set(t);
  }
  auto adv = body->find("advance_seconds");
  if (adv != body->end()) {
    if (!adv->is_number_integer()) {
      return ErrorResponse(400, "invalid_field", "advance_seconds must be a whole number",
                           "advance_seconds");
    }
    s_.test_clock->Advance(std::chrono::seconds(adv->get<int64_t>()));
  }
  return JsonResponse(200, {{"now", Iso(s_.clock.Now())}});
}

// ---- the cookie banner's public routes: thin bridges to web_routes.cc ----

HttpResponse Api::CookieSettings(Call& c) { return web::CookieSettings(s_, c.school(), c.lang); }
HttpResponse Api::RecordCookieConsent(Call& c) {
  return web::RecordCookieConsent(s_, c.school(), c.lang, c.req, c.ctx);
}
HttpResponse Api::CookieConsentProof(Call& c) {
  return web::CookieConsentProof(s_, c.school(), c.param("consent"));
}

}  // namespace dovira::api
