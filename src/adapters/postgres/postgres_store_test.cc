// The PostgreSQL store against a throwaway PostgreSQL 15 cluster: the storage port's conformance
// suite, and what is particular to this adapter (the key vault in its own database, the schema's
// version, values the server refuses). The cluster is ctest's (DOVIRA_TEST_PG, started once for
// the run by pg_test_cluster) or, when the program runs alone, its own; it has two databases, the
// data and the key vault, and each store gets a fresh schema in both.
#include "adapters/postgres/postgres_store.h"

#include <gtest/gtest.h>

#include <chrono>

#include <thread>

#include <cstdlib>
#include <memory>
#include <string>

#include "adapters/postgres/test_cluster.h"
#include "ports/store_conformance.h"

namespace dovira::postgres {
namespace {

constexpr char kDataDb[] = "dovira_data";
constexpr char kKeysDb[] = "dovira_keys";

// The cluster of this test program: attached before the first test (or started, and then
// stopped after the last).
class Cluster : public ::testing::Environment {
 public:
  void SetUp() override {
    const char* shared = std::getenv("DOVIRA_TEST_PG");
    if (shared != nullptr && *shared != '\0') {
      cluster_ = TestCluster::Attach(shared);
      return;
    }
    Result<std::unique_ptr<TestCluster>> started = TestCluster::Start();
    if (!started.ok()) {
      error_ = started.error().message;
      return;
    }
    cluster_ = std::move(*started);
    for (const char* db : {kDataDb, kKeysDb}) {
      Status made = cluster_->Exec("postgres", std::string("CREATE DATABASE ") + db);
      if (!made.ok()) error_ = made.error().message;
    }
  }
  void TearDown() override { cluster_.reset(); }

  // The cluster, or nullptr with a test failure saying why it is missing.
  static TestCluster* Get() {
    if (instance->cluster_ == nullptr || !instance->error_.empty()) {
      ADD_FAILURE() << "no PostgreSQL test cluster: " << instance->error_;
      return nullptr;
    }
    return instance->cluster_.get();
  }

  static Cluster* instance;

 private:
  std::unique_ptr<TestCluster> cluster_;
  std::string error_;
};

Cluster* Cluster::instance =
    static_cast<Cluster*>(::testing::AddGlobalTestEnvironment(new Cluster));

// A schema name for a store directory: its path with every other character replaced, short
// enough for an identifier (63 bytes). The conformance suite gives each test a fresh directory.
std::string SchemaFor(const std::string& dir) {
  std::string name = "s_";
  for (char c : dir) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    name += plain ? c : '_';
  }
  return name.size() > 63 ? "s_" + name.substr(name.size() - 61) : name;
}

PostgresOptions OptionsFor(const std::string& schema) {
  PostgresOptions options;
  if (TestCluster* cluster = Cluster::Get()) {
    options.data_conninfo = cluster->Conninfo(kDataDb);
    options.keys_conninfo = cluster->Conninfo(kKeysDb);
  }
  options.schema = schema;
  return options;
}

std::unique_ptr<PostgresStore> OpenOrFail(const PostgresOptions& options) {
  Result<std::unique_ptr<PostgresStore>> store = PostgresStore::Open(options);
  if (!store.ok()) {
    ADD_FAILURE() << store.error().message;
    return nullptr;
  }
  return std::move(*store);
}

}  // namespace
}  // namespace dovira::postgres

namespace dovira::ports::conformance {

INSTANTIATE_TEST_SUITE_P(Postgres, StoreConformance,
                         ::testing::Values(StoreCase{
                             "postgres",
                             [](const std::string& dir) -> std::unique_ptr<Store> {
                               return postgres::OpenOrFail(
                                   postgres::OptionsFor(postgres::SchemaFor(dir)));
                             }}),
                         StoreCaseName);

}  // namespace dovira::ports::conformance

namespace dovira::postgres {
namespace {

using ports::WriteBatch;
using ports::conformance::At;
using ports::conformance::MakeKey;
using ports::conformance::MakeSchool;
using ports::conformance::MakeSubject;

// B02: subject keys live in the key vault's database only, and a vault in the data database is
// refused, so that a backup of the data database never holds a key.
TEST(PostgresStore, B02_KeysLiveOnlyInTheVaultDatabase) {
  std::unique_ptr<PostgresStore> store = OpenOrFail(OptionsFor("b02_keys"));
  ASSERT_NE(store, nullptr);
  WriteBatch b;
  b.schools.push_back(MakeSchool("sch"));
  b.subjects.push_back(MakeSubject("sch", "sub-1"));
  b.subject_keys.push_back(MakeKey("sch", "sub-1"));
  ASSERT_TRUE(store->Commit(std::move(b)).ok());
  ASSERT_TRUE(store->GetSubjectKey(SchoolId("sch"), SubjectId("sub-1")).value().has_value());

  TestCluster* cluster = Cluster::Get();
  ASSERT_NE(cluster, nullptr);
  // A table of that name in the data database would make this insert succeed.
  EXPECT_FALSE(cluster->Exec(kDataDb, "SELECT 1 FROM b02_keys.subject_keys").ok());
  EXPECT_TRUE(cluster->Exec(kKeysDb, "SELECT 1 FROM b02_keys.subject_keys").ok());
  EXPECT_FALSE(cluster->Exec(kKeysDb, "SELECT 1 FROM b02_keys.records").ok());

  PostgresOptions together = OptionsFor("b02_together");
  together.keys_conninfo = together.data_conninfo;
  Result<std::unique_ptr<PostgresStore>> refused = PostgresStore::Open(together);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(refused.error().field, "keys_conninfo");
}

// B02: erasure destroys the subject's key, and on PostgreSQL a deleted row stays in its page as a
// dead tuple until VACUUM prunes it. The store prunes the destroyed key before the erasure's batch
// is acknowledged: no line of the vault's pages, live or dead, holds it any more. VACUUM cannot
// prune a row an open transaction of the same database may still see, so the test has a cluster
// of its own: on the run's shared one, another test's transaction in the vault would hold the row
// until the next VACUUM (in production, the next erasure's or autovacuum's).
TEST(PostgresStore, B02_ADestroyedKeyIsPrunedFromTheVaultBeforeTheErasureIsAcknowledged) {
  Result<std::unique_ptr<TestCluster>> own = TestCluster::Start();
  ASSERT_TRUE(own.ok()) << own.error().message;
  TestCluster* cluster = own->get();
  for (const char* db : {kDataDb, kKeysDb}) {
    ASSERT_TRUE(cluster->Exec("postgres", std::string("CREATE DATABASE ") + db).ok());
  }
  PostgresOptions options;
  options.data_conninfo = cluster->Conninfo(kDataDb);
  options.keys_conninfo = cluster->Conninfo(kKeysDb);
  options.schema = "b02_pruned";
  std::unique_ptr<PostgresStore> store = OpenOrFail(options);
  ASSERT_NE(store, nullptr);
  WriteBatch b;
  b.schools.push_back(MakeSchool("sch"));
  for (const char* subject : {"sub-1", "sub-2"}) {
    b.subjects.push_back(MakeSubject("sch", subject));
    b.subject_keys.push_back(MakeKey("sch", subject));  // its wrapped key ends "schsub-N"
  }
  ASSERT_TRUE(store->Commit(std::move(b)).ok());
  WriteBatch erase;
  erase.destroyed_keys.emplace_back(SchoolId("sch"), SubjectId("sub-1"));
  ASSERT_TRUE(store->Commit(std::move(erase)).ok());

  ASSERT_TRUE(cluster->Exec(kKeysDb, "CREATE EXTENSION IF NOT EXISTS pageinspect").ok());
  // Raises when a line pointer of the table's first page holds `needle` in its tuple (the test
  // keys fit in one page).
  auto tuple_holds = [&](const std::string& needle) {
    return !cluster
                ->Exec(kKeysDb,
                       "DO $$ BEGIN IF EXISTS (SELECT 1 FROM heap_page_items(get_raw_page("
                       "'b02_pruned.subject_keys', 0)) WHERE position(convert_to('" +
                           needle +
                           "', 'UTF8') IN t_data) > 0) THEN RAISE EXCEPTION 'held'; END IF; "
                           "END $$")
                .ok();
  };
  EXPECT_FALSE(tuple_holds("schsub-1"));
  EXPECT_TRUE(tuple_holds("schsub-2"));  // the page is the one looked at
  EXPECT_FALSE(store->GetSubjectKey(SchoolId("sch"), SubjectId("sub-1")).value().has_value());
}

// B09: a subject with a tombstone in the key vault but rows in the data (an older data backup
// restored) is erased again when the store opens, before anything is served.
TEST(PostgresStore, B09_ReappliesTombstonesWhenOpened) {
  const PostgresOptions options = OptionsFor("b09_replay");
  {
    std::unique_ptr<PostgresStore> store = OpenOrFail(options);
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(store->replayed_tombstones(), 0);
    WriteBatch b;
    b.schools.push_back(MakeSchool("sch"));
    b.subjects.push_back(MakeSubject("sch", "sub-gone"));
    b.subjects.push_back(MakeSubject("sch", "sub-kept"));
    // As if the data were restored from before the erasure the tombstone records.
    b.tombstones.push_back(ports::TombstoneRow{SchoolId("sch"), SubjectId("sub-gone"),
                                               "pn-sch-sub-gone", "withdrawal", "", At(9)});
    ASSERT_TRUE(store->Commit(std::move(b)).ok());
  }
  std::unique_ptr<PostgresStore> store = OpenOrFail(options);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->replayed_tombstones(), 1);
  EXPECT_FALSE(store->GetSubject(SchoolId("sch"), SubjectId("sub-gone")).value().has_value());
  EXPECT_TRUE(store->GetSubject(SchoolId("sch"), SubjectId("sub-kept")).value().has_value());
  EXPECT_EQ(store->ListTombstones(SchoolId("sch")).value().size(), 1u);
}

// Several servers share one schema (each checks its decisions against the store's gate
// versions); a command that needs the schema alone (keys rotate) is refused while any server runs,
// and a server is refused while such a command runs. The operator's commands that work beside a
// server open it either way.
TEST(PostgresStore, ServersShareTheSchemaAndACommandThatNeedsItAloneWaitsForThemAll) {
  PostgresOptions serving = OptionsFor("served_twice");
  serving.exclusive_for = "start another server on it";
  serving.shared_hold = true;
  PostgresOptions alone = OptionsFor("served_twice");
  alone.exclusive_for = "rotate the keys";

  std::unique_ptr<PostgresStore> first = OpenOrFail(serving);
  ASSERT_NE(first, nullptr);
  std::unique_ptr<PostgresStore> second = OpenOrFail(serving);
  ASSERT_NE(second, nullptr);
  Result<std::unique_ptr<PostgresStore>> rotate = PostgresStore::Open(alone);
  ASSERT_FALSE(rotate.ok());
  EXPECT_EQ(rotate.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_EQ(rotate.error().reason, "schema_in_use");
  EXPECT_NE(rotate.error().message.find("stop it before you rotate the keys"), std::string::npos)
      << rotate.error().message;
  EXPECT_NE(OpenOrFail(OptionsFor("served_twice")), nullptr);  // beside the servers
  first.reset();
  EXPECT_FALSE(PostgresStore::Open(alone).ok());  // one server is still running
  second.reset();

  std::unique_ptr<PostgresStore> rotating = OpenOrFail(alone);
  ASSERT_NE(rotating, nullptr);
  Result<std::unique_ptr<PostgresStore>> server = PostgresStore::Open(serving);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.error().reason, "schema_in_use");
  EXPECT_NE(server.error().message.find("alone is running"), std::string::npos)
      << server.error().message;
  rotating.reset();
  EXPECT_NE(OpenOrFail(serving), nullptr);
}

// The background jobs run once across the servers of one schema: the first to ask holds the lease
// and keeps it; the others are refused until it goes, and one of them then takes it over. Another
// schema has a lease of its own.
TEST(PostgresStore, OneServerOfASchemaRunsTheJobsAndAnotherTakesOverWhenItGoes) {
  std::unique_ptr<PostgresStore> first = OpenOrFail(OptionsFor("jobs_lease"));
  std::unique_ptr<PostgresStore> second = OpenOrFail(OptionsFor("jobs_lease"));
  std::unique_ptr<PostgresStore> elsewhere = OpenOrFail(OptionsFor("jobs_lease_other"));
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  ASSERT_NE(elsewhere, nullptr);
  EXPECT_TRUE(first->HoldJobsLease().value());
  EXPECT_FALSE(second->HoldJobsLease().value());
  EXPECT_TRUE(elsewhere->HoldJobsLease().value());
  EXPECT_TRUE(first->HoldJobsLease().value());  // kept, round after round
  EXPECT_FALSE(second->HoldJobsLease().value());
  first.reset();
  // The lock goes when the first's backend has ended, a moment after its connection closes; a
  // server asks again every round (30 s), the test every 10 ms for up to 10 s.
  bool taken = false;
  for (int i = 0; i < 1000 && !taken; ++i) {
    taken = second->HoldJobsLease().value();
    if (!taken) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(taken);
  EXPECT_TRUE(second->HoldJobsLease().value());
}

TEST(PostgresStore, RefusesASchemaNewerThanTheCode) {
  for (const char* db : {kDataDb, kKeysDb}) {
    SCOPED_TRACE(db);
    const std::string schema = std::string("newer_") + db;
    ASSERT_NE(OpenOrFail(OptionsFor(schema)), nullptr);
    TestCluster* cluster = Cluster::Get();
    ASSERT_NE(cluster, nullptr);
    ASSERT_TRUE(cluster
                    ->Exec(db, "INSERT INTO " + schema +
                                   ".schema_migrations VALUES (999, '0999_future.sql', 0)")
                    .ok());
    Result<std::unique_ptr<PostgresStore>> store = PostgresStore::Open(OptionsFor(schema));
    ASSERT_FALSE(store.ok());
    EXPECT_EQ(store.error().code, ErrorCode::kFailedPrecondition);
    EXPECT_NE(store.error().message.find("newer than this program"), std::string::npos)
        << store.error().message;
  }
}

// Text the server cannot store (a NUL byte, invalid UTF-8) is refused as such, never cut short,
// and the batch leaves no trace.
TEST(PostgresStore, RefusesTextTheServerCannotStore) {
  std::unique_ptr<PostgresStore> store = OpenOrFail(OptionsFor("bad_text"));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store
                  ->Commit([] {
                    WriteBatch b;
                    b.schools.push_back(MakeSchool("sch"));
                    return b;
                  }())
                  .ok());
  for (const std::string& bad : {std::string("sub\0x", 5), std::string("sub\xff")}) {
    WriteBatch b;
    b.subject_keys.push_back(MakeKey("sch", "sub-1"));
    ports::SubjectRow subject = MakeSubject("sch", "sub-1");
    subject.kind = bad;
    b.subjects.push_back(subject);
    Status st = store->Commit(std::move(b));
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code, ErrorCode::kInvalidArgument) << st.error().message;
    EXPECT_FALSE(store->GetSubject(SchoolId("sch"), SubjectId("sub-1")).value().has_value());
    EXPECT_FALSE(store->GetSubjectKey(SchoolId("sch"), SubjectId("sub-1")).value().has_value());
  }
}

}  // namespace
}  // namespace dovira::postgres
