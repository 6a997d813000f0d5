#include "app/app.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "adapters/crypto/key_provider.h"
#include "adapters/crypto/sodium_crypto.h"
#include "adapters/http/http_server.h"
#include "adapters/mail/mail_dir.h"
#include "adapters/mail/smtp_mailer.h"
#include "adapters/mail/webhook_sender.h"
#include "adapters/postgres/postgres_store.h"
#include "adapters/sqlite/sqlite_store.h"
#include "api/api.h"
#include "app/dir_lock.h"
#include "services/access_control.h"
#include "services/audit_log.h"
#include "services/consents.h"
#include "services/cookie_consents.h"
#include "services/data_access.h"
#include "services/anonymisation.h"
#include "services/holds.h"
#include "services/retention.h"
#include "services/reviews.h"
#include "services/gate_loader.h"
#include "services/guardians.h"
#include "services/schools.h"
#include "services/staff.h"
#include "services/outbox.h"
#include "services/requests.h"
#include "services/testdata.h"
#include "services/visits.h"
#include "services/subjects.h"
#include "services/subscriptions.h"

namespace dovira::app {

namespace {

// The store options alone, before anything is opened: errors name the flag.
Status CheckStoreOptions(const AppOptions& options) {
  if (options.store.empty()) {
    if (!options.keys_store.empty()) {
      return Error::Invalid("--keys-store is for a PostgreSQL store: give --store too", "keys_store");
    }
    return Status();
  }
  if (options.keys_store.empty()) {
    return Error::Invalid(
        "--keys-store: a PostgreSQL store keeps its key vault in a database of its own, with its "
        "own credentials; give that database's connection string",
        "keys_store");
  }
  if (options.keys_store == options.store) {
    return Error::Invalid("--keys-store must name another database than --store", "keys_store");
  }
  if (options.store_schema.empty()) {
    return Error::Invalid("--store-schema must not be empty", "store_schema");
  }
  return Status();
}

// The store the options name: SQLite in the data directory, or PostgreSQL.
Result<std::unique_ptr<ports::Store>> OpenStore(const AppOptions& options) {
  if (options.store.empty()) {
    // Enough idle readers for every worker: a reader opened per request re-reads the schema and
    // re-prepares its statements.
    sqlite::SqliteOptions so;
    so.reader_connections = options.reader_connections;
    auto store = sqlite::SqliteStore::Open(options.data_dir + "/store", so);
    if (!store.ok()) return store.error();
    return std::unique_ptr<ports::Store>(std::move(*store));
  }
  postgres::PostgresOptions po;
  po.data_conninfo = options.store;
  po.keys_conninfo = options.keys_store;
  po.schema = options.store_schema;
  po.exclusive_for = options.exclusive_for;
  po.shared_hold = options.shared_store;
  auto store = postgres::PostgresStore::Open(po);
  if (!store.ok()) return store.error();
  return std::unique_ptr<ports::Store>(std::move(*store));
}

}  // namespace

App::~App() { Stop(); }

Result<std::unique_ptr<App>> App::Open(AppOptions options) {
  std::unique_ptr<App> app(new App());
  app->options_ = options;
  if (options.fake_clock) {
    app->manual_clock_ = std::make_unique<ManualClock>(*options.fake_clock);
    app->clock_ = app->manual_clock_.get();
  } else {
    app->system_clock_ = std::make_unique<SystemClock>();
    app->clock_ = app->system_clock_.get();
  }
  // The store's and the mail transport's options first: a wrong option is refused before the
  // data directory is touched.
  if (Status checked = CheckStoreOptions(options); !checked.ok()) return checked.error();
  if (!options.smtp_url.empty() && !options.mail_dir.empty()) {
    return Error::Invalid("--smtp-url and --mail-dir are alternatives: give one of them",
                          "mail_dir");
  }
  if (!options.mail_dir.empty()) {
    auto mailer = mail::MailDirMailer::Create({options.mail_dir, app->clock_});
    if (!mailer.ok()) return Error::Invalid("--mail-dir: " + mailer.error().message, "mail_dir");
    app->mailer_ = std::move(*mailer);
  } else if (!options.smtp_url.empty()) {
    mail::SmtpMailerOptions mo;
    mo.url = options.smtp_url;
    mo.clock = app->clock_;
    auto mailer = mail::SmtpMailer::Create(mo);
    if (!mailer.ok()) return mailer.error();
    app->mailer_ = std::move(*mailer);
  }
  // The directory's lock before anything in it is touched (and after the options are checked,
  // so a wrong option leaves no directory behind).
  if (!options.exclusive_for.empty()) {
    auto lock = DirLock::Acquire(options.data_dir, options.exclusive_for);
    if (!lock.ok()) return lock.error();
    app->dir_lock_ = std::move(*lock);
  }
  auto crypto = crypto::SodiumCrypto::Create();
  if (!crypto.ok()) return crypto.error();
  app->crypto_ = std::move(*crypto);
  std::string dir = options.data_dir;
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Error::Unavailable("cannot create the data directory " + dir);
  }
  auto store = OpenStore(options);
  if (!store.ok()) return store.error();
  app->store_ = std::move(*store);
  app->store_->SetAuditChainer(services::AuditLog::Chainer(*app->crypto_));
  const char* env_keys = std::getenv("DOVIRA_KEYS");
  app->keys_ = std::make_unique<crypto::KeyRingProvider>(
      *app->crypto_, dir + "/keys",
      env_keys ? std::optional<std::string>(env_keys) : std::nullopt);
  services::Deps deps{*app->store_, *app->crypto_, *app->keys_, *app->clock_};
  app->schools_ = std::make_unique<services::Schools>(deps);
  app->audit_ = std::make_unique<services::AuditLog>(deps);
  auto webhooks = mail::CurlWebhookSender::Create();
  if (!webhooks.ok()) return webhooks.error();
  app->webhooks_ = std::move(*webhooks);
  // R36: every letter of a school comes from its mailbox; options.mail_from only when the
  // policy names none.
  app->outbox_ = std::make_unique<services::Outbox>(deps, app->mailer_.get(), app->webhooks_.get(),
                                                    options.mail_from, *app->schools_);
  App* self = app.get();
  app->subscriptions_ = std::make_unique<services::SubscriptionService>(
      deps, *app->schools_, *app->audit_, *app->outbox_, [self] {
        if (!self->options_.public_url.empty()) return self->options_.public_url;
        return "http://" + self->listen_address_ + ":" +
               std::to_string(self->bound_port_.load(std::memory_order_acquire));
      });
  app->subjects_ = std::make_unique<services::SubjectService>(
      deps, *app->schools_, *app->audit_, app->subscriptions_.get(), app->outbox_.get());
  app->consents_ = std::make_unique<services::ConsentService>(deps, *app->schools_,
                                                              *app->subjects_, *app->audit_);
  app->access_ = std::make_unique<services::DataAccessService>(deps, *app->schools_,
                                                               *app->subjects_, *app->audit_);
  app->anonymisation_ = std::make_unique<services::AnonymisationService>(
      deps, *app->schools_, *app->subjects_, *app->audit_);
  app->visits_ = std::make_unique<services::VisitService>(deps, *app->schools_);
  app->staff_ = std::make_unique<services::StaffService>(deps, *app->schools_, *app->audit_);
  app->disclosures_ = std::make_unique<services::DisclosureService>(
      deps, *app->schools_, *app->access_, *app->audit_, *app->outbox_);
  app->holds_ = std::make_unique<services::LegalHoldService>(deps, *app->schools_, *app->audit_);
  app->access_control_ = std::make_unique<services::AccessControlService>(
      deps, *app->schools_, *app->audit_, app->outbox_.get());
  app->reviews_ = std::make_unique<services::ReviewService>(deps, *app->schools_, *app->audit_,
                                                            app->outbox_.get());
  app->requests_ = std::make_unique<services::RequestService>(
      deps, *app->schools_, *app->subjects_, *app->consents_, *app->audit_, *app->outbox_,
      *app->disclosures_, app->holds_.get());
  app->retention_ = std::make_unique<services::RetentionService>(
      deps, *app->schools_, *app->subjects_, *app->audit_, *app->disclosures_);
  app->guardians_ = std::make_unique<services::GuardianService>(
      deps, *app->schools_, *app->subjects_, *app->audit_, *app->outbox_);
  app->gate_loader_ = std::make_unique<services::GateLoader>(
      *app->subjects_, app->guardians_.get(), app->requests_.get(), app->retention_.get());
  app->cabinet_ = std::make_unique<services::CabinetService>(deps, *app->schools_, *app->subjects_,
                                                             *app->audit_, *app->outbox_,
                                                             *app->guardians_, *app->retention_);
  app->cookie_consents_ =
      std::make_unique<services::CookieConsentService>(deps, *app->schools_, *app->audit_);
  app->testdata_ = std::make_unique<services::TestDataService>(deps, *app->schools_,
                                                               *app->subjects_, *app->audit_);
  app->access_->SetSubjectReloader([self](const SchoolId& school, const SubjectId& subject) {
    return self->ReloadSubjectGate(school, subject);
  });
  std::vector<std::pair<std::string, std::string>> policies;  // text, source name
  for (const auto& file : options.policy_files) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return Error::Unavailable("cannot read the policy file " + file);
    std::ostringstream text;
    text << in.rdbuf();
    policies.emplace_back(text.str(), file);
  }
  if (policies.empty()) {
    // Without policy files, serve the schools already in the store with their policy in force.
    auto schools = app->store_->ListSchools();
    if (!schools.ok()) return schools.error();
    for (const auto& s : *schools) {
      auto versions = app->store_->ListPolicyVersions(s.id);
      if (!versions.ok()) return versions.error();
      for (const auto& v : *versions) {
        if (v.version_id == s.active_policy_version) {
          policies.emplace_back(v.text, "stored policy of " + s.id.value());
        }
      }
    }
  }
  for (const auto& [text, source] : policies) {
    auto school = app->schools_->Load(text, source);
    if (!school.ok()) return school.error();
    // Subjects' gate states load on their first use; the grants in force and the subjects assigned
    // to outside organisations (R86) are few and loaded now.
    app->gate_loader_->Install(**school, options.gate_capacity);
    Status st = app->access_control_->LoadGrants(**school);
    if (!st.ok()) return st.error();
  }
  // B01: the end of each school's audit chain against its anchor in the key vault. A mismatch
  // does not stop the start (a restored older data backup lacks the latest entries for a good
  // reason) but is reported here and on /healthz until a verification finds the tail whole.
  for (const auto& school : app->schools_->List()) {
    auto tail = app->audit_->CheckTail(school);
    if (!tail.ok()) return tail.error();
    if (!tail->ok()) {
      std::cerr << "error: the audit log of school " << school.value() << " is "
                << tail->state << " at entry " << *tail->first_broken << ": " << tail->problem
                << "; \"dovira audit verify\" checks the whole chain\n";
    }
  }
  return app;
}

Status App::Serve(const ServeOptions& options) {
  api::ApiOptions ao;
  ao.worker_threads = options.worker_threads;
  ao.secure_cookies = options.secure_cookies;
  ao.access_log = options.access_log;
  ao.web_root = options.web_root;
  listen_address_ = options.address == "0.0.0.0" ? "127.0.0.1" : options.address;
  api_ = std::make_unique<api::Api>(
      api::ApiServices{*schools_, *subjects_, *consents_, *access_, *staff_, *audit_, *clock_,
                       manual_clock_.get(), requests_.get(), outbox_.get(),
                       cabinet_.get(), cookie_consents_.get(), disclosures_.get(),
                       holds_.get(), [this] { NudgeJobs(); }, guardians_.get(),
                       subscriptions_.get(), anonymisation_.get(), retention_.get(), visits_.get(),
                       access_control_.get(), reviews_.get()},
      ao);
  http::HttpServerOptions ho;
  ho.address = options.address;
  ho.port = options.port;
  ho.threads = options.io_threads;
  auto server = http::HttpServer::Start(
      ho, [this](ports::HttpRequest&& req, ports::HttpResponder respond) {
        api_->Handle(std::move(req), std::move(respond));
      });
  if (!server.ok()) return server.error();
  bound_port_.store((*server)->port(), std::memory_order_release);
  http_ = std::move(*server);
  checkpointer_ = std::thread([this] { CheckpointLoop(); });
  if (!manual_clock_) jobs_ = std::thread([this] { JobsLoop(); });
  return Status::Ok();
}

void App::JobsLoop() {
  // Every 30 seconds: deliver the outbox; every hour: the deadline job (R68, B10; with the
  // policy's review tasks, R117) and the majority job (B06); once a day, when the date in the
  // school's time zone changes: the retention job (legal holds, R50; purpose retention terms,
  // R70-R72). On a fake clock (tests) they run only when asked through the API.
  std::unique_lock lock(stop_mu_);
  auto last_deadlines = std::chrono::steady_clock::time_point{};
  std::map<SchoolId, std::string> retention_day;  // the local date of each school's last run
  while (!stopping_) {
    stop_cv_.wait_for(lock, std::chrono::seconds(30), [this] { return stopping_ || nudged_; });
    if (stopping_) break;
    nudged_ = false;
    lock.unlock();
    // Several servers may share the database: the jobs run on the one holding the lease.
    auto lease = store_->HoldJobsLease();
    if (!lease.ok() || !*lease) {
      lock.lock();
      continue;
    }
    (void)outbox_->DeliverDue();
    if (std::chrono::steady_clock::now() - last_deadlines > std::chrono::hours(1)) {
      last_deadlines = std::chrono::steady_clock::now();
      for (const auto& school : schools_->List()) {
        (void)requests_->RunDeadlines(school, services::RequestContext{"job-deadlines", "", ""});
        // R68, R117: review tasks of the policy past their due day.
        (void)reviews_->MarkOverdue(school, services::RequestContext{"job-deadlines", "", ""});
        // B06: minors coming of age are asked to re-consent on their day of majority.
        (void)guardians_->RunMajorities(school, services::RequestContext{"job-majority", "", ""});
      }
    }
    for (const auto& school : schools_->List()) {
      auto today = holds_->Today(school);
      if (!today.ok() || retention_day[school] == *today) continue;
      auto report =
          requests_->RunRetention(school, services::RequestContext{"job-retention", "", ""});
      // Purpose retention terms (R70-R72): the subjects due today, read from the index.
      auto terms = report.ok() ? retention_->Run(school, services::RequestContext{
                                                             "job-retention", "", ""})
                               : Result<services::RetentionRunReport>(report.error());
      if (terms.ok()) retention_day[school] = *today;  // a failed run is tried again next round
    }
    lock.lock();
  }
}

void App::NudgeJobs() {
  {
    std::lock_guard lock(stop_mu_);
    nudged_ = true;
  }
  stop_cv_.notify_all();
}

void App::CheckpointLoop() {
  // The chain head of every school is signed once a minute when it moved (B01).
  std::unique_lock lock(stop_mu_);
  while (!stopping_) {
    stop_cv_.wait_for(lock, std::chrono::seconds(60), [this] { return stopping_; });
    lock.unlock();
    auto lease = store_->HoldJobsLease();  // one signer across the servers of one database
    if (lease.ok() && *lease) {
      for (const auto& school : schools_->List()) (void)audit_->Checkpoint(school);
    }
    lock.lock();
  }
}

uint16_t App::port() const { return http_ ? http_->port() : 0; }

void App::Stop() {
  {
    std::lock_guard lock(stop_mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (checkpointer_.joinable()) checkpointer_.join();
  if (jobs_.joinable()) jobs_.join();
  if (http_) http_->Stop();
  api_.reset();  // drains the worker pool
  // No intake runs now: the keys reserved for the next ones go, so a restart leaves none unused.
  if (subjects_) (void)subjects_->ReleaseReservedKeys();
  // The chain heads are signed on the way out, by a server and by an operator command alike (a
  // command beside a running server waits its turn for the write lock; see WaitWhenBusy).
  if (schools_ && audit_) {
    for (const auto& school : schools_->List()) (void)audit_->Checkpoint(school);
  }
}

services::Schools& App::schools() { return *schools_; }
services::AuditLog& App::audit() { return *audit_; }
services::SubjectService& App::subjects() { return *subjects_; }
services::ConsentService& App::consents() { return *consents_; }
// Every part of one subject's gate state, as the start-up builds it for all: the version first
// (ports::GateCheck), then the rows the state is built from.
Status App::ReloadSubjectGate(const SchoolId& school_id, const SubjectId& subject) {
  auto school = schools_->Get(school_id);
  if (!school.ok()) return school.error();
  services::SchoolRuntime& rt = **school;
  auto state = gate_loader_->Load(rt, subject);
  if (!state.ok()) return state.error();
  if (Status st = access_control_->LoadSubjectAccess(rt, subject); !st.ok()) return st;
  if (*state) {
    rt.gate().Replace(subject, std::move(**state));
  } else {
    rt.gate().Erase(subject);
  }
  return Status::Ok();
}

services::DataAccessService& App::access() { return *access_; }
services::AnonymisationService& App::anonymisation() { return *anonymisation_; }
services::StaffService& App::staff() { return *staff_; }
services::RequestService& App::requests() { return *requests_; }
services::Outbox& App::outbox() { return *outbox_; }
services::RetentionService& App::retention() { return *retention_; }
ports::Store& App::store() { return *store_; }
services::TestDataService& App::testdata() { return *testdata_; }
const Clock& App::clock() const { return *clock_; }

}  // namespace dovira::app
