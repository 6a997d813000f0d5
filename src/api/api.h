// The HTTP API under /v1 (plus /healthz, /metrics and the public /policy notice): thin handlers
// that parse JSON into typed requests, call one service, and write the result. Authentication
// (staff session cookie with CSRF token, or an API key), school scoping (R118), the one error
// shape, request ids, metrics and JSON-lines access logs without personal data live here.
//
// Thread-safety: Handle() may be called concurrently from the HTTP adapter's event loops; the
// work itself runs on a worker pool so that waiting for a durable commit never blocks a loop.
#pragma once

#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "api/metrics.h"
#include "api/router.h"
#include "api/static_files.h"
#include "api/worker_pool.h"
#include "common/clock.h"
#include "ports/http.h"
#include "services/access_control.h"
#include "services/anonymisation.h"
#include "services/audit_log.h"
#include "services/cabinet.h"
#include "services/consents.h"
#include "services/cookie_consents.h"
#include "services/data_access.h"
#include "services/disclosures.h"
#include "services/holds.h"
#include "services/retention.h"
#include "services/reviews.h"
#include "services/outbox.h"
#include "services/rate_limiter.h"
#include "services/requests.h"
#include "services/schools.h"
#include "services/staff.h"
#include "services/subjects.h"
#include "services/visits.h"

namespace dovira::api {

struct ApiServices {
  services::Schools& schools;
  services::SubjectService& subjects;
  services::ConsentService& consents;
  services::DataAccessService& access;
  services::StaffService& staff;
  services::AuditLog& audit;
  const Clock& clock;
  ManualClock* test_clock = nullptr;  // set only when the server runs with --fake-clock
  services::RequestService* requests = nullptr;  // rights requests (null: routes not served)
  services::Outbox* outbox = nullptr;
  services::CabinetService* cabinet = nullptr;  // the personal cabinet (null: routes not served)
  services::CookieConsentService* cookie_consents = nullptr;  // the cookie banner's records
  services::DisclosureService* disclosures = nullptr;  // the disclosure log (null: not served)
  services::LegalHoldService* holds = nullptr;  // legal holds (null: routes not served)
  // Wakes the delivery job at once: after a step that wrote mail (a sign-in code, a receipt, an
  // answer), the message should not wait for the next round.
  std::function<void()> nudge_outbox;
  services::GuardianService* guardians = nullptr;  // minors' representatives and re-consent (B06)
  services::SubscriptionService* subscriptions = nullptr;  // double opt-in (null: not served)
  // Depersonalised data sets (R74, R34; null: the route is not served).
  services::AnonymisationService* anonymisation = nullptr;
  services::RetentionService* retention = nullptr;  // purpose retention (null: not served)
  services::VisitService* visits = nullptr;  // visit statistics (null: routes not served)
  // The access list and break-glass grants (R86; null: routes not served).
  services::AccessControlService* access_control = nullptr;
  // Reviews of the policy and changes in the law (R117; null: routes not served).
  services::ReviewService* reviews = nullptr;
};

struct ApiOptions {
  int worker_threads = 32;
  std::string version = "0.1.0";
  bool secure_cookies = true;  // the Secure attribute on the session cookie
  bool access_log = true;      // one JSON line per request on stderr
  std::string web_root;        // web pages and scripts served outside /v1; "" = none
};

class Api {
 public:
  Api(ApiServices services, ApiOptions options);
  ~Api();

  // The one entry point the HTTP adapter calls.
  void Handle(ports::HttpRequest&& request, ports::HttpResponder respond);

  const Router& router() const { return router_; }
  Metrics& metrics() { return metrics_; }
  // The OpenAPI document (also served at /v1/openapi.json).
  std::string OpenApiJson() const;

  struct Call;
  using Handler = ports::HttpResponse (Api::*)(Call&);
  using Finish = std::function<void(ports::HttpResponse)>;
  // Handlers that never block: they run on the HTTP event loop and finish from a callback.
  using AsyncHandler = void (Api::*)(std::shared_ptr<Call>, Finish);

 private:
  // Wakes the outbox's delivery job, if there is one.
  void NudgeOutbox() const {
    if (s_.nudge_outbox) s_.nudge_outbox();
  }
  // Every route declares who may call it (router.h: Access); Prepare enforces the declaration.
  void Register(const std::string& method, const std::string& pattern, Access access, RouteDoc doc,
                Handler handler);
  void RegisterAsync(const std::string& method, const std::string& pattern, Access access,
                     RouteDoc doc, AsyncHandler handler);
  // A public route whose handler only reads memory (no store, no file, no lock held long): it
  // runs on the event loop itself, without the two thread hand-offs of the worker pool.
  void RegisterInline(const std::string& method, const std::string& pattern, Access access,
                      RouteDoc doc, Handler handler);
  void RegisterRoutes();
  void RegisterRequestRoutes();  // requests_api.cc
  void RegisterCabinetRoutes();  // cabinet_api.cc
  void RegisterAnonymisationRoutes();  // anonymisation_api.cc
  Result<services::Actor> AuthenticateSubject(Call& c);
  // Routing and authentication; a response when the request ends there (404, 401, ...).
  // `m` is the router's answer for the request, found once in Handle.
  std::optional<ports::HttpResponse> Prepare(Call& call, Match m);
  ports::HttpResponse Dispatch(Call& call, Match m);
  ports::HttpResponse Unexpected(Call& call, const std::exception& e);
  void Finished(Call& call, ports::HttpResponse& resp, double seconds);
  Result<services::Actor> Authenticate(Call& call);

  // Handlers (api.cc).
  ports::HttpResponse Healthz(Call& c);
  ports::HttpResponse MetricsText(Call& c);
  ports::HttpResponse OpenApi(Call& c);
  ports::HttpResponse PublicNotice(Call& c);
  ports::HttpResponse PolicyInfo(Call& c);
  ports::HttpResponse PolicyVersions(Call& c);
  ports::HttpResponse PolicyVersion(Call& c);
  ports::HttpResponse ListForms(Call& c);
  ports::HttpResponse GetForm(Call& c);
  ports::HttpResponse SubmitForm(Call& c);
  ports::HttpResponse ConfirmSubscription(Call& c);
  ports::HttpResponse Login(Call& c);
  ports::HttpResponse Logout(Call& c);
  ports::HttpResponse Me(Call& c);
  ports::HttpResponse TotpBegin(Call& c);
  ports::HttpResponse TotpConfirm(Call& c);
  ports::HttpResponse RecoveryCodes(Call& c);
  ports::HttpResponse ChangePassword(Call& c);
  ports::HttpResponse ListStaff(Call& c);
  ports::HttpResponse CreateStaff(Call& c);
  ports::HttpResponse StaffLeave(Call& c);
  ports::HttpResponse StaffBriefing(Call& c);
  ports::HttpResponse ListApiKeys(Call& c);
  ports::HttpResponse CreateApiKey(Call& c);
  ports::HttpResponse RevokeApiKey(Call& c);
  ports::HttpResponse CreateSubject(Call& c);
  ports::HttpResponse ImportSubjects(Call& c);
  ports::HttpResponse ListSubjects(Call& c);
  ports::HttpResponse GetSubject(Call& c);
  ports::HttpResponse Provenance(Call& c);
  void ReadSubject(std::shared_ptr<Call> c, Finish finish);
  void Process(std::shared_ptr<Call> c, Finish finish);
  ports::HttpResponse ProfilingRun(Call& c);
  ports::HttpResponse AnonymisedDataSet(Call& c);
  ports::HttpResponse ListConsents(Call& c);
  ports::HttpResponse GrantConsent(Call& c);
  ports::HttpResponse WithdrawConsent(Call& c);
  ports::HttpResponse SubjectAudit(Call& c);
  ports::HttpResponse ListAudit(Call& c);
  ports::HttpResponse VerifyAudit(Call& c);
  ports::HttpResponse CheckpointAudit(Call& c);
  ports::HttpResponse TestClock(Call& c);
  // Rights requests (requests_api.cc).
  ports::HttpResponse FileRequest(Call& c);
  ports::HttpResponse PublicFileRequest(Call& c);
  ports::HttpResponse ReportChildData(Call& c);
  ports::HttpResponse PublicVerifyRequest(Call& c);
  ports::HttpResponse PublicResendCode(Call& c);
  ports::HttpResponse ListRequests(Call& c);
  ports::HttpResponse GetRequest(Call& c);
  ports::HttpResponse RequestStep(Call& c);
  ports::HttpResponse RequestPackage(Call& c);
  ports::HttpResponse RecordDecision(Call& c);
  ports::HttpResponse SubjectSegments(Call& c);
  // The personal cabinet (cabinet_api.cc).
  ports::HttpResponse MeSignIn(Call& c);
  ports::HttpResponse MeSignInVerify(Call& c);
  ports::HttpResponse MeSignOut(Call& c);
  ports::HttpResponse MeRights(Call& c);
  ports::HttpResponse MeSession(Call& c);
  ports::HttpResponse MeData(Call& c);
  ports::HttpResponse MeUpdate(Call& c);
  ports::HttpResponse MeDeleteField(Call& c);
  ports::HttpResponse MeAttachStatement(Call& c);
  ports::HttpResponse MeExport(Call& c);
  ports::HttpResponse MeTransfer(Call& c);
  ports::HttpResponse MeRequests(Call& c);
  ports::HttpResponse MeFileRequest(Call& c);
  ports::HttpResponse MeWithdraw(Call& c);
  ports::HttpResponse MeMarketing(Call& c);
  ports::HttpResponse MeSetMarketing(Call& c);
  ports::HttpResponse MeActFor(Call& c);
  ports::HttpResponse MeReconfirm(Call& c);
  ports::HttpResponse SubjectGuardianships(Call& c);
  ports::HttpResponse VerifyGuardianship(Call& c);
  ports::HttpResponse SubjectReconsent(Call& c);
  // Files a request from the cabinet; while a guardian acts for a minor it is filed by the
  // representative and answered at the representative's address (R35, B06).
  Result<services::RequestInfo> FileFromCabinet(Call& c, services::FileRequest f);
  void RegisterGuardianRoutes();  // guardians_api.cc
  // The subject's name as on file (first and last name fields), "" when none.
  std::string CabinetName(Call& c, const SubjectId& subject);
  // Confirm or withdraw a pending re-consent (cabinet and staff alike).
  ports::HttpResponse ReconsentDecision(Call& c, const nlohmann::json& body,
                                        const SubjectId& subject,
                                        const std::string& channel);
  ports::HttpResponse RunJob(Call& c);
  ports::HttpResponse Obligations(Call& c);
  // The cookie banner's public routes (web_routes.cc).
  void RegisterWebRoutes();
  ports::HttpResponse CookieSettings(Call& c);
  ports::HttpResponse RecordCookieConsent(Call& c);
  ports::HttpResponse CookieConsentProof(Call& c);
  // The disclosure log and the recipients (disclosures_api.cc).
  void RegisterDisclosureRoutes();
  ports::HttpResponse RecordDisclosure(Call& c);
  ports::HttpResponse ListDisclosures(Call& c);
  ports::HttpResponse ListRecipients(Call& c);
  ports::HttpResponse SetRecipientContact(Call& c);
  // Legal holds and the retention job (holds_api.cc).
  void RegisterHoldRoutes();
  ports::HttpResponse PlaceHold(Call& c);
  ports::HttpResponse ListHolds(Call& c);
  ports::HttpResponse ReleaseHold(Call& c);
  ports::HttpResponse RunRetention(Call& c);
  // Purpose retention: events and what will end (retention_api.cc).
  void RegisterRetentionRoutes();
  ports::HttpResponse RecordSubjectEvent(Call& c);
  ports::HttpResponse UpcomingRetention(Call& c);
  // Visit statistics (visits_api.cc, R101).
  void RegisterVisitRoutes();
  ports::HttpResponse RecordVisit(Call& c);
  ports::HttpResponse VisitStats(Call& c);
  // The access list and break-glass grants (access_api.cc, R86).
  void RegisterAccessRoutes();
  ports::HttpResponse AccessListRoute(Call& c);
  ports::HttpResponse BreakGlassRoute(Call& c);
  ports::HttpResponse AssignmentsRoute(Call& c);
  ports::HttpResponse AssignRoute(Call& c);
  ports::HttpResponse UnassignRoute(Call& c);
  // Reviews of the policy and changes in the law (reviews_api.cc, R117).
  void RegisterReviewRoutes();
  ports::HttpResponse ListReviews(Call& c);
  ports::HttpResponse RecordReview(Call& c);
  ports::HttpResponse RecordLawChange(Call& c);
  // The staff console's read-only routes (console_routes.cc).
  void RegisterConsoleRoutes();
  ports::HttpResponse ConsoleRead(Call& c);
  ports::HttpResponse ConsoleSearch(Call& c);
  // Public routes that write, or send mail, for whoever asks (a cabinet sign-in code, a public
  // request's identity code): a limit per client address, and one per e-mail address so that
  // nobody's mailbox can be flooded with codes. The error is 429 rate_limited.
  Status AllowPublicMail(const Call& c, const std::string& email);
  services::RateLimiter public_by_ip_{20, std::chrono::minutes(1)};
  services::RateLimiter mail_by_address_{5, std::chrono::minutes(15)};

  ApiServices s_;
  ApiOptions options_;
  StaticFiles static_files_{options_.web_root};  // after options_: built from it
  Router router_;
  std::vector<Handler> handlers_;             // by route index
  std::vector<AsyncHandler> async_handlers_;  // by route index; null for pooled handlers
  std::vector<bool> inline_handlers_;         // by route index: runs on the event loop
  Metrics metrics_;
  std::string openapi_;
  std::unique_ptr<WorkerPool> pool_;
};

}  // namespace dovira::api
