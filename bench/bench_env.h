// What the benchmark programs share: the real services over the real adapters (libsodium, a
// SQLite store and a key ring) in a fresh directory under /var/tmp, so that fsync reaches a disk,
// with policy 001 loaded; and the payment form of that policy as a learner submits it.
//
// Thread-safety: an Env is built and torn down on one thread; the services in it are safe for
// concurrent use.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

#include "adapters/crypto/key_provider.h"
#include "adapters/crypto/sodium_crypto.h"
#include "adapters/sqlite/sqlite_store.h"
#include "domain/intake.h"
#include "services/audit_log.h"
#include "services/consents.h"
#include "services/data_access.h"
#include "services/disclosures.h"
#include "services/outbox.h"
#include "services/requests.h"
#include "services/schools.h"
#include "services/subjects.h"

#ifndef DOVIRA_SOURCE_DIR
#error "DOVIRA_SOURCE_DIR must name the source tree"
#endif

namespace dovira::bench {

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A fresh directory on disk, not tmpfs: fsync must be real.
inline std::string TempDir() {
  char tmpl[] = "/var/tmp/dovira-bench-XXXXXX";
  char* d = mkdtemp(tmpl);
  return d ? d : "/var/tmp";
}

struct Env {
  std::string dir;
  std::unique_ptr<crypto::SodiumCrypto> crypto;
  std::unique_ptr<sqlite::SqliteStore> store;
  std::unique_ptr<crypto::KeyRingProvider> keys;
  SystemClock clock;
  std::unique_ptr<services::Schools> schools;
  std::unique_ptr<services::AuditLog> audit;
  std::unique_ptr<services::SubjectService> subjects;
  std::unique_ptr<services::ConsentService> consents;
  std::unique_ptr<services::Outbox> outbox;
  std::unique_ptr<services::DataAccessService> access;
  std::unique_ptr<services::DisclosureService> disclosures;
  std::unique_ptr<services::RequestService> requests;
  SchoolId school;

  Env() {
    dir = TempDir();
    crypto = std::move(*crypto::SodiumCrypto::Create());
    store = std::move(*sqlite::SqliteStore::Open(dir + "/store"));
    store->SetAuditChainer(services::AuditLog::Chainer(*crypto));
    keys = std::make_unique<crypto::KeyRingProvider>(*crypto, dir + "/keys", std::nullopt);
    services::Deps deps{*store, *crypto, *keys, clock};
    schools = std::make_unique<services::Schools>(deps);
    audit = std::make_unique<services::AuditLog>(deps);
    subjects = std::make_unique<services::SubjectService>(deps, *schools, *audit);
    consents = std::make_unique<services::ConsentService>(deps, *schools, *subjects, *audit);
    outbox = std::make_unique<services::Outbox>(deps, nullptr, nullptr, "privacy@bench.invalid",
                                                *schools);
    access = std::make_unique<services::DataAccessService>(deps, *schools, *subjects, *audit);
    disclosures =
        std::make_unique<services::DisclosureService>(deps, *schools, *access, *audit, *outbox);
    requests = std::make_unique<services::RequestService>(deps, *schools, *subjects, *consents,
                                                          *audit, *outbox, *disclosures);
    auto rt = schools->Load(
        ReadFile(std::string(DOVIRA_SOURCE_DIR) + "/policies/001_vkluchi_zhizn.toml"), "001");
    school = (*rt)->id();
  }
  ~Env() {
    requests.reset();
    outbox.reset();
    consents.reset();
    subjects.reset();
    store.reset();  // closes the databases before their files go
    std::filesystem::remove_all(dir);
  }
  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;
};

// The payment form of policy 001, filled in by learner number i.
inline domain::Submission PaymentForm(int i) {
  domain::Submission s;
  s.form = "payment";
  s.fields = {{"first_name", "Олена"},
              {"email", "learner" + std::to_string(i) + "@example.com"},
              {"mobile_phone", "+380671234567"},
              {"purchased_service", "Курс англійської мови"},
              {"purchase_amount", "1200"}};
  s.ticked = {"pd_consent"};
  s.accept_policy = true;
  s.age_statement = "adult";
  return s;
}

// The mailing subscription form of policy 001 with a name and an e-mail address: the fewest
// records a subject can have (each field is kept in every store of the purposes using it).
inline domain::Submission SubscriptionForm(int i) {
  domain::Submission s;
  s.form = "subscription";
  s.fields = {{"first_name", "Олена"},
              {"email", "subscriber" + std::to_string(i) + "@example.com"}};
  s.ticked = {"pd_consent"};
  s.accept_policy = true;
  s.age_statement = "adult";
  return s;
}

// A staff member of policy 001's privileged role, briefed.
inline services::Actor Officer() {
  services::Actor a;
  a.kind = services::Actor::Kind::kStaff;
  a.id = "st_bench";
  a.role = "responsible_person";
  return a;
}

}  // namespace dovira::bench
