// The composition root: opens the store, the crypto and key adapters, builds the services, loads
// the schools' policies and their gate state, and (for `dovira serve`) starts the API on the HTTP
// adapter. The operator commands (admin, audit, keys, backup) use the same wiring without HTTP.
//
// Thread-safety: Open/Serve/Stop from one thread; the services are safe for concurrent use.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/ids.h"
#include "ports/mailer.h"
#include "common/result.h"
#include "domain/gate.h"

namespace dovira::crypto {
class SodiumCrypto;
class KeyRingProvider;
}  // namespace dovira::crypto
namespace dovira::ports {
class Store;
}
namespace dovira::http {
class HttpServer;
}
namespace dovira::api {
class Api;
}

namespace dovira::services {
class GateLoader;
class SubscriptionService;
class Schools;
class AuditLog;
class SubjectService;
class AnonymisationService;
class ConsentService;
class DataAccessService;
class AccessControlService;
class ReviewService;
class StaffService;
class RequestService;
class DisclosureService;
class LegalHoldService;
class RetentionService;
class Outbox;
class CabinetService;
class GuardianService;
class CookieConsentService;
class TestDataService;
class VisitService;
}  // namespace dovira::services

namespace dovira::app {

class DirLock;

struct AppOptions {
  std::string data_dir = "data";           // store/ (SQLite) and keys/ live here
  // Where the data are kept: "" = the embedded SQLite store in data_dir/store; otherwise a
  // PostgreSQL connection string ("postgresql://..." or "host=... dbname=...") for the data, with
  // the key vault in its own database reached by `keys_store` (its own credentials, so a backup of
  // the data never holds a key: B02), both in the schema `store_schema`.
  std::string store;
  std::string keys_store;
  std::string store_schema = "dovira";
  std::vector<std::string> policy_files;   // one school each
  std::optional<Timestamp> fake_clock;     // a manual clock starting here (tests)
  int reader_connections = 72;             // idle SQLite readers kept open
  std::string smtp_url;                    // "smtp://host:port"; "" = messages wait in the outbox
  std::string mail_dir;                    // or: write them as .eml files into this directory
  std::string mail_from = "privacy@dovira.localhost";  // the sender when the school names none
  // Where people reach the web pages, for links in letters ("https://privacy.school.example");
  // "" = this server as it listens (http://address:port).
  std::string public_url;
  // When set, the data directory's lock (dir_lock.h) is taken before anything else touches the
  // directory, and the open is refused while another process holds it: `dovira serve` ("serve
  // this directory") and the commands that must not run beside a server ("rotate the keys").
  // Empty: the command works beside a running server.
  std::string exclusive_for;
  // With exclusive_for, on PostgreSQL: the hold on the schema is shared with other servers
  // (`dovira serve`: several servers share one database), not with the commands that need it
  // alone. The data directory's lock stays exclusive: each server has its own directory.
  bool shared_store = false;
  // The subjects whose purpose-gate state each school holds in memory (domain::GateState); a
  // subject not held is loaded from the store on its first use. Nothing is loaded at start-up, so
  // the open takes the same time whatever the number of subjects.
  size_t gate_capacity = domain::GateState::kDefaultCapacity;
};

struct ServeOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 8080;
  int io_threads = 2;
  int worker_threads = 32;
  bool secure_cookies = true;
  bool access_log = true;
  std::string web_root;  // web pages served outside /v1 (web/dist); "" = none
};

class App {
 public:
  // Opens everything and loads the policies; errors name what failed (a policy finding, a store
  // that cannot be opened, a key file with open permissions).
  static Result<std::unique_ptr<App>> Open(AppOptions options);
  ~App();

  Status Serve(const ServeOptions& options);  // starts HTTP; returns once listening
  uint16_t port() const;
  // The API that Serve() started (null before): its Handle() is the entry point the HTTP adapter
  // calls, for callers that bring their own requests (the API fuzz target).
  api::Api* api() { return api_.get(); }
  void Stop();

  services::Schools& schools();
  services::AuditLog& audit();
  services::SubjectService& subjects();
  services::ConsentService& consents();
  services::DataAccessService& access();
  services::AnonymisationService& anonymisation();
  services::StaffService& staff();
  services::RequestService& requests();
  services::Outbox& outbox();
  services::RetentionService& retention();
  services::TestDataService& testdata();  // test-data export and import (R91)
  ports::Store& store();
  const Clock& clock() const;

 private:
  App() = default;
  void CheckpointLoop();
  void JobsLoop();
  void NudgeJobs();  // wakes JobsLoop now

  AppOptions options_;
  std::unique_ptr<DirLock> dir_lock_;  // first in, last out: released after the store is closed
  std::unique_ptr<SystemClock> system_clock_;
  std::unique_ptr<ManualClock> manual_clock_;
  const Clock* clock_ = nullptr;
  std::unique_ptr<crypto::SodiumCrypto> crypto_;
  std::unique_ptr<ports::Store> store_;
  std::unique_ptr<crypto::KeyRingProvider> keys_;
  std::unique_ptr<services::Schools> schools_;
  std::unique_ptr<services::AuditLog> audit_;
  std::unique_ptr<services::SubjectService> subjects_;
  std::unique_ptr<services::ConsentService> consents_;
  // Reloads one subject's gate state from the store (DataAccessService::SetSubjectReloader).
  Status ReloadSubjectGate(const SchoolId& school, const SubjectId& subject);
  std::unique_ptr<services::GateLoader> gate_loader_;  // each school's gate loads through it

  std::unique_ptr<services::DataAccessService> access_;
  std::unique_ptr<services::AccessControlService> access_control_;
  std::unique_ptr<services::ReviewService> reviews_;
  std::unique_ptr<services::AnonymisationService> anonymisation_;
  std::unique_ptr<services::StaffService> staff_;
  std::unique_ptr<ports::Mailer> mailer_;
  std::unique_ptr<ports::WebhookSender> webhooks_;
  std::unique_ptr<services::Outbox> outbox_;
  std::unique_ptr<services::SubscriptionService> subscriptions_;
  std::string listen_address_ = "127.0.0.1";  // for links in letters without a public_url
  std::unique_ptr<services::DisclosureService> disclosures_;
  std::unique_ptr<services::LegalHoldService> holds_;
  std::unique_ptr<services::RetentionService> retention_;
  std::unique_ptr<services::RequestService> requests_;
  std::unique_ptr<services::GuardianService> guardians_;
  std::unique_ptr<services::CabinetService> cabinet_;
  std::unique_ptr<services::CookieConsentService> cookie_consents_;
  std::unique_ptr<services::TestDataService> testdata_;
  std::unique_ptr<services::VisitService> visits_;
  std::unique_ptr<api::Api> api_;
  std::unique_ptr<http::HttpServer> http_;
  // The bound port, for the worker threads that build links (a subscription's confirmation):
  // http_ itself is assigned on the main thread after the server already accepts requests.
  std::atomic<uint16_t> bound_port_{0};

  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  bool nudged_ = false;  // guarded by stop_mu_: new mail waits in the outbox
  std::thread checkpointer_;
  std::thread jobs_;
};

}  // namespace dovira::app
