// A real environment for the services tests: libsodium, a SQLite store and a key ring in a fresh
// temporary directory, and a manual clock, so that the services run against the adapters they
// use in production rather than mocks. Each test builds its own TestEnv and adds the services it
// needs on top of deps(), schools and audit.
//
// Thread-safety: as the parts it holds; the fixture itself is built and torn down on one thread.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <system_error>

#include "adapters/crypto/key_provider.h"
#include "adapters/crypto/sodium_crypto.h"
#include "adapters/sqlite/sqlite_store.h"
#include "common/clock.h"
#include "services/audit_log.h"
#include "services/context.h"
#include "ports/mailer.h"
#include "services/schools.h"

#ifndef DOVIRA_SOURCE_DIR
#error "DOVIRA_SOURCE_DIR must name the source tree (dovira_add_test defines it)"
#endif

// Not "testing": inside dovira::services that name would hide GoogleTest's ::testing.
namespace dovira::services::test {

namespace internal {

// Setup failures abort: nothing after them could run meaningfully.
[[noreturn]] inline void Die(const std::string& what) {
  std::fprintf(stderr, "TestEnv: %s\n", what.c_str());
  std::abort();
}
inline std::string MakeTempDir() {
  std::string pattern = ::testing::TempDir() + "dovira_services_XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) Die("mkdtemp failed for " + pattern);
  return pattern;
}
inline std::unique_ptr<::dovira::crypto::SodiumCrypto> MustCreateCrypto() {
  auto c = ::dovira::crypto::SodiumCrypto::Create();
  if (!c.ok()) Die("libsodium: " + c.error().message);
  return std::move(*c);
}
inline std::unique_ptr<::dovira::sqlite::SqliteStore> MustOpenStore(const std::string& path,
                                                                    ports::Crypto& crypto) {
  auto s = ::dovira::sqlite::SqliteStore::Open(path);
  if (!s.ok()) Die("store: " + s.error().message);
  (*s)->SetAuditChainer(AuditLog::Chainer(crypto));
  return std::move(*s);
}

}  // namespace internal

// "2025-03-03T09:00:00Z" and the like; fails the test on a malformed text.
inline Timestamp At(const std::string& text) {
  Timestamp t{};
  std::string error;
  EXPECT_TRUE(ParseTimestamp(text, &t, &error)) << text << ": " << error;
  return t;
}

// Keeps every message the outbox hands over, so a test reads what a person would receive.
class KeptMail : public ports::Mailer {
 public:
  Status Send(const ports::MailMessage& message) override {
    sent.push_back(message);
    return Status::Ok();
  }
  std::vector<ports::MailMessage> sent;
};

struct TestEnv {
  TestEnv()
      : dir(internal::MakeTempDir()),
        crypto(internal::MustCreateCrypto()),
        store(internal::MustOpenStore(dir + "/store", *crypto)),
        keys(std::make_unique<::dovira::crypto::KeyRingProvider>(*crypto, dir + "/keys",
                                                                 std::nullopt)),
        clock(At("2025-03-03T09:00:00Z")),
        schools(deps()),
        audit(deps()) {}

  ~TestEnv() {
    store.reset();  // closes the databases before their files go
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

  TestEnv(const TestEnv&) = delete;
  TestEnv& operator=(const TestEnv&) = delete;

  Deps deps() { return Deps{*store, *crypto, *keys, clock}; }

  // Loads a shipped policy (policies/<file>) as a school; fails the test when it does not load.
  Result<SchoolRuntime*> LoadShipped(const std::string& file) {
    const std::string path = std::string(DOVIRA_SOURCE_DIR) + "/policies/" + file;
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      ADD_FAILURE() << "cannot read " << path;
      return Error::Unavailable("cannot read " + path);
    }
    std::ostringstream text;
    text << in.rdbuf();
    Result<SchoolRuntime*> school = schools.Load(text.str(), file);
    if (!school.ok()) ADD_FAILURE() << file << ": " << school.error().message;
    return school;
  }

  std::string dir;  // removed with everything in it when the environment goes
  std::unique_ptr<::dovira::crypto::SodiumCrypto> crypto;
  std::unique_ptr<::dovira::sqlite::SqliteStore> store;
  std::unique_ptr<::dovira::crypto::KeyRingProvider> keys;
  ManualClock clock;
  Schools schools;
  AuditLog audit;
};

}  // namespace dovira::services::test
