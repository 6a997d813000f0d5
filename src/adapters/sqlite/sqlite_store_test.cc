#include "adapters/sqlite/sqlite_store.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <semaphore>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "adapters/sqlite/migrations.h"
#include "adapters/sqlite/queries.h"
#include "ports/store_conformance.h"

namespace dovira::ports::conformance {

INSTANTIATE_TEST_SUITE_P(Sqlite, StoreConformance,
                         ::testing::Values(StoreCase{
                             "sqlite",
                             [](const std::string& dir) -> std::unique_ptr<Store> {
                               Result<std::unique_ptr<sqlite::SqliteStore>> store =
                                   sqlite::SqliteStore::Open(dir);
                               if (!store.ok()) {
                                 ADD_FAILURE() << store.error().message;
                                 return nullptr;
                               }
                               return std::move(*store);
                             }}),
                         StoreCaseName);

}  // namespace dovira::ports::conformance

namespace dovira::sqlite {
namespace {

using ports::WriteBatch;
using ports::conformance::Completion;
using ports::conformance::IsOk;
using ports::conformance::MakeAudit;
using ports::conformance::MakeConsent;
using ports::conformance::MakeKey;
using ports::conformance::MakePolicyVersion;
using ports::conformance::MakeRecord;
using ports::conformance::MakeSchool;
using ports::conformance::MakeSession;
using ports::conformance::MakeSubject;
using ports::conformance::ValueOf;

// A fresh directory, removed with everything in it at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string pattern = ::testing::TempDir() + "dovira_sqlite_XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
    root_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }
  const std::string& root() const { return root_; }
  std::string path(const std::string& name) const { return root_ + "/" + name; }

 private:
  std::string root_;
};

std::unique_ptr<SqliteStore> OpenOrFail(const std::string& dir, SqliteOptions options = {}) {
  Result<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(dir, options);
  if (!store.ok()) {
    ADD_FAILURE() << "open failed: " << store.error().message;
    return nullptr;
  }
  return std::move(*store);
}

// Direct access to a database file, to look behind the store.
class RawDb {
 public:
  explicit RawDb(const std::string& path, int flags = SQLITE_OPEN_READWRITE) {
    if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << "cannot open " << path;
    }
  }
  ~RawDb() { sqlite3_close_v2(db_); }
  // Runs `sql`; returns the error message, or "" on success.
  std::string Exec(const std::string& sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) == SQLITE_OK) return "";
    std::string message = error != nullptr ? error : "error";
    sqlite3_free(error);
    return message;
  }
  // The first column of the first row as text ("" when none).
  std::string Query(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    std::string out;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << "cannot prepare " << sql << ": " << sqlite3_errmsg(db_);
      return out;
    }
    if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0) != nullptr) {
      out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    }
    sqlite3_finalize(stmt);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

std::string ReadFileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The bytes of a database and its WAL, as they are on disk.
std::string DatabaseBytes(const std::string& db_path) {
  return ReadFileBytes(db_path) + ReadFileBytes(db_path + "-wal");
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

unsigned Mode(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 0777;
}

// --- Schema and files ----------------------------------------------------------------------------

TEST(SqliteStore, AppliesMigrationsOnceAndReopensIdempotently) {
  TempDir tmp;
  const std::string dir = tmp.path("store");
  ASSERT_NE(OpenOrFail(dir), nullptr);
  std::string data_applied, keys_applied;
  {
    RawDb data(dir + "/data.db");
    RawDb keys(dir + "/keys.db");
    EXPECT_EQ(data.Query("SELECT count(*) FROM schema_migrations"),
              std::to_string(DataMigrations().size()));
    EXPECT_EQ(keys.Query("SELECT count(*) FROM schema_migrations"),
              std::to_string(KeyVaultMigrations().size()));
    EXPECT_EQ(data.Query("SELECT max(version) FROM schema_migrations"),
              std::to_string(DataMigrations().back().version));
    EXPECT_EQ(data.Query("SELECT name FROM schema_migrations WHERE version = 1"), "0001_init.sql");
    data_applied = data.Query("SELECT group_concat(applied_at) FROM schema_migrations");
    keys_applied = keys.Query("SELECT group_concat(applied_at) FROM schema_migrations");
  }
  for (int i = 0; i < 2; ++i) ASSERT_NE(OpenOrFail(dir), nullptr);
  RawDb data(dir + "/data.db");
  RawDb keys(dir + "/keys.db");
  EXPECT_EQ(data.Query("SELECT group_concat(applied_at) FROM schema_migrations"), data_applied);
  EXPECT_EQ(keys.Query("SELECT group_concat(applied_at) FROM schema_migrations"), keys_applied);
  EXPECT_EQ(data.Query("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(keys.Query("PRAGMA journal_mode"), "wal");
}

// The writer never checkpoints: a background thread copies the WAL into data.db and restarts it,
// so that the writer never stops for a large checkpoint (the read p99 at 64 connections went from
// about 600 ms to about 15 ms when it started doing so). About 9 MiB of WAL is written; once the
// checkpointer has caught up, the WAL file is truncated, or was restarted early enough to stay
// small, long before the writer's forced reset (at 256 MiB) would do it. A WAL that keeps every
// frame is the checkpointer doing nothing.
TEST(SqliteStore, TheBackgroundCheckpointerEmptiesTheWalWhileTheServerRuns) {
  TempDir tmp;
  const std::string dir = tmp.path("store");
  std::unique_ptr<SqliteStore> store = OpenOrFail(dir);
  ASSERT_NE(store, nullptr);
  ports::WriteBatch b;
  b.schools.push_back(MakeSchool("sch"));
  b.subjects.push_back(MakeSubject("sch", "sub-1"));
  ASSERT_TRUE(store->Commit(std::move(b)).ok());
  for (int i = 0; i < 24; ++i) {
    ports::WriteBatch big;
    for (int j = 0; j < 64; ++j) {
      ports::RecordRow r = MakeRecord("sch", "rec-" + std::to_string(i) + "-" + std::to_string(j), "sub-1");
      r.sealed_value = std::string(4000, static_cast<char>('a' + j % 26));
      big.records.push_back(r);
    }
    ASSERT_TRUE(store->Commit(std::move(big)).ok());
  }
  const std::string wal = dir + "/data.db-wal";
  std::error_code ec;
  uintmax_t size = std::filesystem::file_size(wal, ec);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  constexpr uintmax_t kSmall = 4u << 20;  // under half of what was written
  while ((ec || size >= kSmall) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    size = std::filesystem::file_size(wal, ec);
  }
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_LT(size, kSmall) << "the WAL still holds " << size << " bytes";
  EXPECT_EQ(ValueOf(store->GetRecords(SchoolId("sch"), SubjectId("sub-1"))).size(), 24u * 64u);
}

TEST(SqliteStore, KeepsSubjectKeysOutOfTheDataDatabase) {
  TempDir tmp;
  const std::string dir = tmp.path("store");
  ASSERT_NE(OpenOrFail(dir), nullptr);
  RawDb data(dir + "/data.db");
  RawDb keys(dir + "/keys.db");
  EXPECT_EQ(data.Query("SELECT count(*) FROM sqlite_schema WHERE name = 'subject_keys'"), "0");
  EXPECT_EQ(keys.Query("SELECT group_concat(name) FROM"
                       " (SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name)"),
            "audit_anchors,schema_migrations,subject_keys,tombstones");
}

// Every read of the interface finds its rows through a key or an index, never by scanning a table
// (listing all schools excepted).
TEST(SqliteStore, EveryReadUsesAKeyOrIndex) {
  TempDir tmp;
  const std::string dir = tmp.path("store");
  ASSERT_NE(OpenOrFail(dir), nullptr);
  const std::vector<std::pair<const char*, const char*>> reads = {
      {"keys.db", sql::kGetSubjectKey},    {"keys.db", sql::kForEachSubjectKey},
      {"data.db", sql::kGetSchool},        {"data.db", sql::kListPolicyVersions},
      {"data.db", sql::kGetSubject},       {"data.db", sql::kForEachSubject},
      {"data.db", sql::kListSubjects},     {"data.db", sql::kGetRecords},
      {"data.db", sql::kGetConsents},      {"data.db", sql::kForEachConsent},
      {"data.db", sql::kFindLookup},       {"data.db", sql::kLastAudit},
      {"data.db", sql::kForEachAudit},     {"data.db", sql::kAuditForSubject},
      {"data.db", sql::kListCheckpoints},  {"data.db", sql::kGetStaff},
      {"data.db", sql::kFindStaffByEmail}, {"data.db", sql::kListStaff},
      {"data.db", sql::kGetRecordsPage},
      {"data.db", sql::kGetSession},       {"data.db", sql::kFindApiKey},
      {"data.db", sql::kListApiKeys},      {"data.db", sql::kEraseRecords},
      {"data.db", sql::kGetCookieConsent}, {"data.db", sql::kForEachVisit},
      {"data.db", sql::kEraseConsents},    {"data.db", sql::kEraseLookups},
      {"data.db", sql::kDeleteRecord},     {"data.db", sql::kDeleteSession},
      {"keys.db", sql::kZeroSubjectKey},   {"keys.db", sql::kDeleteSubjectKey},
      {"data.db", sql::kGetRequest},       {"data.db", sql::kListOpenRequests},
      {"data.db", sql::kListOpenRequestsAfter},
      {"data.db", sql::kGetRequestEvents}, {"data.db", sql::kDueOutbox},
      {"data.db", sql::kRequestOutbox},    {"data.db", sql::kUnsentOutbox},
      {"keys.db", sql::kListTombstones},
      {"data.db", sql::kSubjectExists},    {"data.db", sql::kGetSubjectSession},
      {"data.db", sql::kDeleteSubjectSession}, {"data.db", sql::kEraseSubjectSessions},
      {"data.db", sql::kGetSubscriptionConfirmation},
      {"data.db", sql::kEraseSubscriptionConfirmations},
      {"data.db", sql::kListSubjectDisclosures}, {"data.db", sql::kListDisclosures},
      {"data.db", sql::kEraseDisclosures},       {"data.db", sql::kGetRecipientContact},
      {"data.db", sql::kListRecipientContacts},
      {"data.db", sql::kListLegalHolds},         {"data.db", sql::kGetLegalHold},
      {"data.db", sql::kDueLegalHolds},          {"data.db", sql::kEraseLegalHolds},
      {"data.db", sql::kDeleteSubjectLookups},
      {"data.db", sql::kGetGuardianship},        {"data.db", sql::kMinorGuardianships},     {"data.db", sql::kGuardianshipsByEmail},
      {"data.db", sql::kDueMajorities},          {"data.db", sql::kEraseGuardianships},
      {"data.db", sql::kGetSubjectEvents},       {"data.db", sql::kSubjectRetention},
      {"data.db", sql::kDueRetention},           {"data.db", sql::kEraseSubjectEvents},
      {"data.db", sql::kEraseRetentionDue},      {"data.db", sql::kGetRetentionMark},
      {"data.db", sql::kSubjectsUpdatedBetween}, {"data.db", sql::kConsentSubjectsBetween},
  };
  for (const auto& [file, query] : reads) {
    SCOPED_TRACE(query);
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open_v2((dir + "/" + file).c_str(), &db, SQLITE_OPEN_READONLY, nullptr),
              SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    const std::string explain = std::string("EXPLAIN QUERY PLAN ") + query;
    ASSERT_EQ(sqlite3_prepare_v2(db, explain.c_str(), -1, &stmt, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db);
    std::string plan;
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      plan += reinterpret_cast<const char*>(sqlite3_column_text(stmt, 3));
      plan += "; ";
    }
    sqlite3_finalize(stmt);
    sqlite3_close_v2(db);
    EXPECT_EQ(plan.find("SCAN"), std::string::npos) << plan;
    EXPECT_NE(plan.find("SEARCH"), std::string::npos) << plan;
  }
}

// The page after a keyset cursor seeks `requests_by_due` to the cursor (R68): the row value is a
// range on the index after its (school_id, open) prefix, so the page does not walk the open
// requests before the cursor.
TEST(SqliteStore, DueListCursorIsARangeOnTheDueIndex) {
  TempDir tmp;
  const std::string dir = tmp.path("store");
  ASSERT_NE(OpenOrFail(dir), nullptr);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2((dir + "/data.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr),
            SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  const std::string explain = std::string("EXPLAIN QUERY PLAN ") + sql::kListOpenRequestsAfter;
  ASSERT_EQ(sqlite3_prepare_v2(db, explain.c_str(), -1, &stmt, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  std::string plan;
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    plan += reinterpret_cast<const char*>(sqlite3_column_text(stmt, 3));
    plan += "; ";
  }
  sqlite3_finalize(stmt);
  sqlite3_close_v2(db);
  EXPECT_NE(plan.find("USING INDEX requests_by_due (school_id=? AND open=? AND "
                      "(due_at,request_id)>(?,?))"),
            std::string::npos)
      << plan;
  EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << plan;
}

TEST(SqliteStore, RefusesADatabaseNewerThanTheCode) {
  for (const char* file : {"data.db", "keys.db"}) {
    SCOPED_TRACE(file);
    TempDir tmp;
    const std::string dir = tmp.path("store");
    ASSERT_NE(OpenOrFail(dir), nullptr);
    {
      RawDb db(dir + "/" + file);
      ASSERT_EQ(db.Exec("INSERT INTO schema_migrations VALUES (999, '0999_future.sql', 0)"), "");
    }
    Result<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(dir);
    ASSERT_FALSE(store.ok());
    EXPECT_EQ(store.error().code, ErrorCode::kFailedPrecondition);
    EXPECT_NE(store.error().message.find("newer than this program"), std::string::npos)
        << store.error().message;
    EXPECT_NE(store.error().message.find(file), std::string::npos) << store.error().message;
  }
}

TEST(SqliteStore, CreatesPrivateDirectoryAndFiles) {
  TempDir tmp;
  const std::string dir = tmp.path("nested/store");
  std::unique_ptr<SqliteStore> store = OpenOrFail(dir);
  ASSERT_NE(store, nullptr);
  WriteBatch b;
  b.schools.push_back(MakeSchool("sch"));
  b.subject_keys.push_back(MakeKey("sch", "sub"));
  ASSERT_TRUE(IsOk(store->Commit(std::move(b))));
  EXPECT_EQ(Mode(dir), 0700u);
  for (const char* name :
       {"data.db", "data.db-wal", "data.db-shm", "keys.db", "keys.db-wal", "keys.db-shm"}) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(std::filesystem::exists(dir + "/" + name));
    EXPECT_EQ(Mode(dir + "/" + name), 0600u);
  }
}

// Whether another process could take a write lock on some byte of `path` (F_GETLK asks without
// taking it). Asked from a forked child: a process never conflicts with its own locks.
bool AnotherProcessSeesALock(const std::string& path) {
  std::fflush(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) ::_exit(2);
    struct flock probe {};
    probe.l_type = F_WRLCK;
    probe.l_whence = SEEK_SET;
    probe.l_start = 0;
    probe.l_len = 0;  // the whole file, SQLite's lock bytes included
    if (::fcntl(fd, F_GETLK, &probe) != 0) ::_exit(3);
    ::_exit(probe.l_type == F_UNLCK ? 0 : 1);
  }
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return false;
  return WEXITSTATUS(status) == 1;
}

// Issue 11, defect 1: an open store keeps SQLite's shared lock on data.db and keys.db for its whole
// life. Opening a connection must never open and close the database file behind SQLite's back:
// that drops every POSIX lock the process holds on it, and the next process to close the database
// then believes it was the last one, checkpoints and deletes the WAL the store still writes to.
TEST(SqliteStore, KeepsItsLocksSoAnotherProcessNeverDeletesItsWal) {
  TempDir tmp;
  const std::string dir = tmp.path("store");
  std::unique_ptr<SqliteStore> store = OpenOrFail(dir);
  ASSERT_NE(store, nullptr);
  WriteBatch b;
  b.schools.push_back(MakeSchool("sch"));
  b.subject_keys.push_back(MakeKey("sch", "sub"));
  b.subjects.push_back(MakeSubject("sch", "sub"));
  ASSERT_TRUE(IsOk(store->Commit(std::move(b))));
  EXPECT_TRUE(AnotherProcessSeesALock(dir + "/data.db"));
  EXPECT_TRUE(AnotherProcessSeesALock(dir + "/keys.db"));

  // A second store on the same directory (an operator command), opened and closed, leaves the
  // first one's WAL in place, and the first store's later writes stay readable after it.
  { ASSERT_NE(OpenOrFail(dir), nullptr); }
  EXPECT_TRUE(std::filesystem::exists(dir + "/data.db-wal"));
  EXPECT_TRUE(std::filesystem::exists(dir + "/keys.db-wal"));
  WriteBatch later;
  later.records.push_back(MakeRecord("sch", "rec-after", "sub"));
  ASSERT_TRUE(IsOk(store->Commit(std::move(later))));
  RawDb data(dir + "/data.db");
  EXPECT_EQ(data.Query("SELECT count(*) FROM records WHERE record_id = 'rec-after'"), "1");
}

// Issue 11: an operator command writes audit entries into the directory of a running server. The
// server's writer remembers each school's chain head; after another connection's commit it must
// read the head again, or its next entry would reuse a number and fork the chain.
TEST(SqliteStore, ChainsAfterAuditEntriesAnotherConnectionCommitted) {
  TempDir tmp;
  const std::string dir = tmp.path("store");
  auto chainer = [](const std::string& prev, const ports::AuditRow& row) {
    return prev + "/" + std::to_string(row.seq);
  };
  std::unique_ptr<SqliteStore> server = OpenOrFail(dir);
  ASSERT_NE(server, nullptr);
  server->SetAuditChainer(chainer);
  auto entry = [] {
    WriteBatch b;
    b.audit.push_back(MakeAudit("sch", 0));
    return b;
  };
  WriteBatch setup = entry();
  setup.schools.push_back(MakeSchool("sch"));
  ASSERT_TRUE(IsOk(server->Commit(std::move(setup))));
  ASSERT_TRUE(IsOk(server->Commit(entry())));
  {
    std::unique_ptr<SqliteStore> command = OpenOrFail(dir);
    ASSERT_NE(command, nullptr);
    command->SetAuditChainer(chainer);
    ASSERT_TRUE(IsOk(command->Commit(entry())));
  }
  ASSERT_TRUE(IsOk(server->Commit(entry())));
  std::vector<std::pair<int64_t, std::string>> chain;
  EXPECT_TRUE(IsOk(server->ForEachAudit(SchoolId("sch"), 1, [&](const ports::AuditRow& a) {
    chain.emplace_back(a.seq, a.prev_hash);
    return true;
  })));
  ASSERT_EQ(chain.size(), 4u);
  EXPECT_EQ(chain[3], (std::pair<int64_t, std::string>{4, "/1/2/3"}));
}

TEST(SqliteStore, RefusesBadOptionsAndPaths) {
  TempDir tmp;
  SqliteOptions options;
  options.max_batches_per_group = 0;
  Result<std::unique_ptr<SqliteStore>> bad = SqliteStore::Open(tmp.path("a"), options);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);

  std::ofstream(tmp.path("file")) << "not a directory";
  Result<std::unique_ptr<SqliteStore>> file = SqliteStore::Open(tmp.path("file"));
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.error().code, ErrorCode::kUnavailable);

  std::filesystem::create_directories(tmp.path("junk"));
  std::ofstream(tmp.path("junk/data.db")) << "this is not a database, just some text";
  Result<std::unique_ptr<SqliteStore>> junk = SqliteStore::Open(tmp.path("junk"));
  ASSERT_FALSE(junk.ok());
  EXPECT_EQ(junk.error().code, ErrorCode::kUnavailable);
}

// --- Rules in the database itself ----------------------------------------------------------------

TEST(SqliteStore, TriggersKeepTheLedgersAppendOnly) {
  TempDir tmp;
  const std::string dir = tmp.path("store");
  {
    std::unique_ptr<SqliteStore> store = OpenOrFail(dir);
    ASSERT_NE(store, nullptr);
    WriteBatch b;
    b.schools.push_back(MakeSchool("sch"));
    b.policy_versions.push_back(MakePolicyVersion("sch", "v1", 1));
    b.subjects.push_back(MakeSubject("sch", "sub"));
    b.consents.push_back(MakeConsent("sch", "con", "sub", 1));
    b.audit.push_back(MakeAudit("sch", 1));
    b.checkpoints.push_back(ports::conformance::MakeCheckpoint("sch", 1));
    ASSERT_TRUE(IsOk(store->Commit(std::move(b))));
  }
  RawDb db(dir + "/data.db");
  ASSERT_EQ(db.Exec("PRAGMA foreign_keys = ON"), "");
  EXPECT_EQ(db.Exec("UPDATE consents SET action = 'withdraw'"), "consents are append-only");
  EXPECT_EQ(db.Exec("DELETE FROM consents"), "consents are append-only");
  EXPECT_EQ(db.Exec("UPDATE audit SET outcome = 'deny'"), "the audit log is append-only");
  EXPECT_EQ(db.Exec("UPDATE audit_checkpoints SET signature = 'x'"),
            "audit checkpoints are append-only");
  // B01: deleting is refused like changing (nothing legitimate deletes either).
  EXPECT_EQ(db.Exec("DELETE FROM audit"), "the audit log is append-only");
  EXPECT_EQ(db.Exec("DELETE FROM audit_checkpoints"), "audit checkpoints are append-only");
  EXPECT_EQ(db.Query("SELECT count(*) FROM audit"), "1");
  EXPECT_EQ(db.Query("SELECT count(*) FROM audit_checkpoints"), "1");
  EXPECT_EQ(db.Exec("UPDATE policy_versions SET text = 'x'"), "policy versions are immutable");
  EXPECT_EQ(db.Exec("INSERT INTO consents (school_id, consent_id, subject_id, consent_type,"
                    " grants, action, policy_version, text, text_sha256, lang, channel, form,"
                    " checkbox, given_by, evidence, at) VALUES ('sch', 'c2', 'sub', 't', 'nope',"
                    " 'grant', 'v1', '', '', '', '', '', '', '', '', 0)"),
            "CHECK constraint failed: grants LIKE '[%]'");
  EXPECT_EQ(db.Query("SELECT count(*) FROM consents"), "1");
  EXPECT_EQ(db.Query("SELECT count(*) FROM subject_erasures"), "0");
}

// B01: the audit anchor is kept in keys.db only, so a data backup never carries it; there it only
// moves forward and is never deleted.
TEST(SqliteStore, B01TheAuditAnchorLivesInTheKeyVaultOnly) {
  TempDir tmp;
  const std::string dir = tmp.path("store");
  const std::string backup = tmp.path("backup.db");
  {
    std::unique_ptr<SqliteStore> store = OpenOrFail(dir);
    ASSERT_NE(store, nullptr);
    WriteBatch b;
    b.schools.push_back(MakeSchool("sch"));
    b.audit.push_back(MakeAudit("sch", 1));
    b.checkpoints.push_back(ports::conformance::MakeCheckpoint("sch", 1));
    b.audit_anchors.push_back(ports::conformance::MakeCheckpoint("sch", 1));
    ASSERT_TRUE(IsOk(store->Commit(std::move(b))));
    ASSERT_TRUE(IsOk(store->Backup(backup)));
  }
  RawDb keys(dir + "/keys.db");
  EXPECT_EQ(keys.Query("SELECT seq || ' ' || hash FROM audit_anchors WHERE school_id = 'sch'"),
            "1 h1");
  EXPECT_EQ(keys.Exec("DELETE FROM audit_anchors"), "the audit anchor is never deleted");
  EXPECT_EQ(keys.Exec("UPDATE audit_anchors SET seq = 0"), "the audit anchor only moves forward");
  EXPECT_EQ(keys.Exec("UPDATE audit_anchors SET hash = 'x'"),
            "the audit anchor only moves forward");
  EXPECT_EQ(keys.Query("SELECT count(*) FROM audit_anchors"), "1");
  for (const std::string& path : {dir + "/data.db", backup}) {
    RawDb data(path, SQLITE_OPEN_READONLY);
    EXPECT_EQ(data.Query("SELECT count(*) FROM sqlite_schema WHERE name = 'audit_anchors'"), "0")
        << path;
  }
}

TEST(SqliteStore, RefusesRowsOfAnUnknownSubject) {
  TempDir tmp;
  std::unique_ptr<SqliteStore> store = OpenOrFail(tmp.path("store"));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(IsOk(store->Commit([] {
    WriteBatch b;
    b.schools.push_back(MakeSchool("sch"));
    return b;
  }())));
  WriteBatch b;
  b.records.push_back(MakeRecord("sch", "rec", "sub-missing"));
  Status s = store->Commit(std::move(b));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_EQ(s.error().field, "records");
  EXPECT_EQ(s.error().message,
            "write batch rejected: records[0]: it refers to a subject that does not exist");
}

// --- Group commit --------------------------------------------------------------------------------

void PrintRatio(const char* what, uint64_t batches, uint64_t commits) {
  std::printf("group commit, %s: %llu batches in %llu commits (%.1f batches per commit)\n", what,
              static_cast<unsigned long long>(batches), static_cast<unsigned long long>(commits),
              commits == 0 ? 0.0 : static_cast<double>(batches) / static_cast<double>(commits));
}

TEST(SqliteStore, GroupsConcurrentBatchesIntoFewerCommits) {
  TempDir tmp;
  std::unique_ptr<SqliteStore> store = OpenOrFail(tmp.path("store"));
  ASSERT_NE(store, nullptr);
  uint64_t commits_before = store->commits();
  uint64_t batches_before = store->batches();
  // 8 threads x 200 batches submitted without waiting (plus one setup batch).
  ports::conformance::WriteConcurrently(*store, 8, 200);
  uint64_t commits = store->commits() - commits_before;
  uint64_t batches = store->batches() - batches_before;
  EXPECT_EQ(batches, 1601u);
  EXPECT_LT(commits, batches);
  PrintRatio("8 threads x 200 Submit", batches, commits);

  // 8 threads each waiting for every commit (Commit): grouping comes from overlapping fsyncs only,
  // so the ratio is printed, not asserted.
  commits_before = store->commits();
  batches_before = store->batches();
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        WriteBatch b;
        b.sessions.push_back(
            MakeSession("th-" + std::to_string(t) + "-" + std::to_string(i), "sch", "st"));
        if (!store->Commit(std::move(b)).ok()) ++failures;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  PrintRatio("8 threads x 50 Commit", store->batches() - batches_before,
             store->commits() - commits_before);
}

// Batches submitted from a callback are queued while the writer is busy, so they form one group.
TEST(SqliteStore, ARejectedBatchFailsAloneInsideItsGroup) {
  TempDir tmp;
  std::unique_ptr<SqliteStore> store = OpenOrFail(tmp.path("store"));
  ASSERT_NE(store, nullptr);
  WriteBatch setup;
  setup.schools.push_back(MakeSchool("sch"));
  setup.subjects.push_back(MakeSubject("sch", "sub"));
  setup.consents.push_back(MakeConsent("sch", "con-taken", "sub", 1));
  ASSERT_TRUE(IsOk(store->Commit(std::move(setup))));

  Status s1, s2, s3;
  Completion completion(3);
  uint64_t commits_at_trigger = 0;
  store->Submit(WriteBatch{}, [&](Status) {
    commits_at_trigger = store->commits();
    WriteBatch ok1;
    ok1.subject_keys.push_back(MakeKey("sch", "k1"));
    ok1.records.push_back(MakeRecord("sch", "rec-1", "sub"));
    WriteBatch bad;
    bad.subject_keys.push_back(MakeKey("sch", "k2"));
    bad.records.push_back(MakeRecord("sch", "rec-2", "sub"));
    bad.consents.push_back(MakeConsent("sch", "con-taken", "sub", 2));
    WriteBatch ok3;
    ok3.subject_keys.push_back(MakeKey("sch", "k3"));
    ok3.records.push_back(MakeRecord("sch", "rec-3", "sub"));
    store->Submit(std::move(ok1), completion.Callback(&s1));
    store->Submit(std::move(bad), completion.Callback(&s2));
    store->Submit(std::move(ok3), completion.Callback(&s3));
  });
  ASSERT_TRUE(completion.Wait());
  EXPECT_EQ(store->commits(), commits_at_trigger + 1);  // one group
  EXPECT_TRUE(IsOk(s1));
  ASSERT_FALSE(s2.ok());
  EXPECT_EQ(s2.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_EQ(s2.error().field, "consents");
  EXPECT_TRUE(IsOk(s3));
  std::vector<ports::RecordRow> records =
      ValueOf(store->GetRecords(SchoolId("sch"), SubjectId("sub")));
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].id.value(), "rec-1");
  EXPECT_EQ(records[1].id.value(), "rec-3");
  EXPECT_TRUE(ValueOf(store->GetSubjectKey(SchoolId("sch"), SubjectId("k1"))).has_value());
  EXPECT_FALSE(ValueOf(store->GetSubjectKey(SchoolId("sch"), SubjectId("k2"))).has_value());
  EXPECT_TRUE(ValueOf(store->GetSubjectKey(SchoolId("sch"), SubjectId("k3"))).has_value());
}

TEST(SqliteStore, CapsTheGroupSize) {
  TempDir tmp;
  SqliteOptions options;
  options.max_batches_per_group = 2;
  std::unique_ptr<SqliteStore> store = OpenOrFail(tmp.path("store"), options);
  ASSERT_NE(store, nullptr);
  Completion completion(6);
  uint64_t commits_at_trigger = 0;
  store->Submit(WriteBatch{}, [&](Status) {
    commits_at_trigger = store->commits();
    for (int i = 0; i < 6; ++i) {
      WriteBatch b;
      b.schools.push_back(MakeSchool("sch-" + std::to_string(i)));
      store->Submit(std::move(b), completion.Callback());
    }
  });
  ASSERT_TRUE(completion.Wait());
  EXPECT_EQ(completion.failures(), 0u);
  EXPECT_EQ(store->commits(), commits_at_trigger + 3);
  EXPECT_EQ(ValueOf(store->ListSchools()).size(), 6u);
}

TEST(SqliteStore, DestructorCompletesQueuedBatches) {
  TempDir tmp;
  const std::string dir = tmp.path("store");
  constexpr int kBatches = 100;
  Completion completion(kBatches);
  {
    std::unique_ptr<SqliteStore> store = OpenOrFail(dir);
    ASSERT_NE(store, nullptr);
    for (int i = 0; i < kBatches; ++i) {
      WriteBatch b;
      b.schools.push_back(MakeSchool("sch-" + std::to_string(i)));
      store->Submit(std::move(b), completion.Callback());
    }
  }
  ASSERT_TRUE(completion.Wait(std::chrono::seconds(1)));
  EXPECT_EQ(completion.failures(), 0u);
  std::unique_ptr<SqliteStore> reopened = OpenOrFail(dir);
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(ValueOf(reopened->ListSchools()).size(), static_cast<size_t>(kBatches));
}

// --- Storage failures ----------------------------------------------------------------------------

TEST(SqliteStore, AStorageFailureFailsTheWholeGroupAndTheStoreRecovers) {
  TempDir tmp;
  const std::string dir = tmp.path("store");
  int64_t pages = 0;
  {
    std::unique_ptr<SqliteStore> store = OpenOrFail(dir);
    ASSERT_NE(store, nullptr);
  }
  pages = static_cast<int64_t>(std::filesystem::file_size(dir + "/data.db") / 4096);
  ASSERT_GT(pages, 0);

  SqliteOptions options;
  options.max_data_pages = pages + 4;
  std::unique_ptr<SqliteStore> store = OpenOrFail(dir, options);
  ASSERT_NE(store, nullptr);
  WriteBatch setup;
  setup.schools.push_back(MakeSchool("sch"));
  setup.subjects.push_back(MakeSubject("sch", "sub"));
  setup.sessions.push_back(MakeSession("th-1", "sch", "st"));
  ASSERT_TRUE(IsOk(store->Commit(std::move(setup))));

  // Fill data.db until a write fails.
  auto big_record = [](int i) {
    ports::RecordRow r = MakeRecord("sch", "big-" + std::to_string(i), "sub");
    r.sealed_value = std::string(3000, static_cast<char>('a' + i % 26));
    return r;
  };
  Status failure;
  int filled = 0;
  for (; filled < 200; ++filled) {
    WriteBatch b;
    b.records.push_back(big_record(filled));
    failure = store->Commit(std::move(b));
    if (!failure.ok()) break;
  }
  ASSERT_FALSE(failure.ok()) << "the page limit never bit";
  EXPECT_EQ(failure.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(failure.error().message.find("full"), std::string::npos) << failure.error().message;
  EXPECT_EQ(failure.error().message.find("INSERT"), std::string::npos) << failure.error().message;
  std::vector<ports::RecordRow> records =
      ValueOf(store->GetRecords(SchoolId("sch"), SubjectId("sub")));
  EXPECT_EQ(records.size(), static_cast<size_t>(filled));

  // One group: a small batch that fits, then one that does not. Both fail.
  Status small, large;
  Completion completion(2);
  store->Submit(WriteBatch{}, [&](Status) {
    WriteBatch s;
    s.sessions.push_back(MakeSession("th-2", "sch", "st"));
    WriteBatch l;
    l.records.push_back(big_record(1000));
    store->Submit(std::move(s), completion.Callback(&small));
    store->Submit(std::move(l), completion.Callback(&large));
  });
  ASSERT_TRUE(completion.Wait());
  ASSERT_FALSE(small.ok());
  EXPECT_EQ(small.error().code, ErrorCode::kUnavailable);
  ASSERT_FALSE(large.ok());
  EXPECT_EQ(large.error().code, ErrorCode::kUnavailable);
  EXPECT_FALSE(ValueOf(store->GetSession("th-2")).has_value());

  // The writer goes on: a batch that frees space succeeds, and then a new one fits.
  WriteBatch free_space;
  for (int i = 0; i < filled; ++i) {
    free_space.deleted_records.emplace_back(SchoolId("sch"), RecordId("big-" + std::to_string(i)));
  }
  free_space.deleted_sessions.push_back("th-1");
  ASSERT_TRUE(IsOk(store->Commit(std::move(free_space))));
  WriteBatch after;
  after.records.push_back(big_record(2000));
  EXPECT_TRUE(IsOk(store->Commit(std::move(after))));
  EXPECT_EQ(ValueOf(store->GetRecords(SchoolId("sch"), SubjectId("sub"))).size(), 1u);
  EXPECT_FALSE(ValueOf(store->GetSession("th-1")).has_value());

  // Without the limit, everything acknowledged is there.
  store.reset();
  store = OpenOrFail(dir);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(ValueOf(store->GetRecords(SchoolId("sch"), SubjectId("sub"))).size(), 1u);
  WriteBatch more;
  more.records.push_back(big_record(3000));
  EXPECT_TRUE(IsOk(store->Commit(std::move(more))));
}

// --- Bytes on disk -------------------------------------------------------------------------------

// The store keeps sealed values exactly as given (encryption is the caller's job): the bytes,
// NULs included, round-trip and are what lies in the file.
TEST(SqliteStore, StoresSealedBytesVerbatim) {
  TempDir tmp;
  const std::string dir = tmp.path("store");
  std::unique_ptr<SqliteStore> store = OpenOrFail(dir);
  ASSERT_NE(store, nullptr);
  std::string sealed;
  for (int i = 0; i < 96; ++i) sealed.push_back(static_cast<char>((i * 37) % 256));
  sealed[5] = '\0';
  sealed[40] = '\0';
  ports::RecordRow record = MakeRecord("sch", "rec", "sub");
  record.sealed_value = sealed;
  WriteBatch b;
  b.schools.push_back(MakeSchool("sch"));
  b.subjects.push_back(MakeSubject("sch", "sub"));
  b.subject_keys.push_back(MakeKey("sch", "sub"));
  b.records.push_back(record);
  ASSERT_TRUE(IsOk(store->Commit(std::move(b))));

  std::vector<ports::RecordRow> back =
      ValueOf(store->GetRecords(SchoolId("sch"), SubjectId("sub")));
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].sealed_value, sealed);
  EXPECT_TRUE(Contains(DatabaseBytes(dir + "/data.db"), sealed));
  EXPECT_FALSE(Contains(DatabaseBytes(dir + "/keys.db"), sealed));
  // The wrapped key is in the vault only.
  const std::string wrapped = MakeKey("sch", "sub").wrapped_key;
  EXPECT_TRUE(Contains(DatabaseBytes(dir + "/keys.db"), wrapped));
  EXPECT_FALSE(Contains(DatabaseBytes(dir + "/data.db"), wrapped));
}

// B02: a destroyed key is gone from the vault's files, not only from its reads.
TEST(SqliteStore, DestroyedKeyBytesLeaveTheVaultFiles) {
  TempDir tmp;
  const std::string dir = tmp.path("store");
  std::unique_ptr<SqliteStore> store = OpenOrFail(dir);
  ASSERT_NE(store, nullptr);
  ports::SubjectKeyRow key = MakeKey("sch", "sub");
  key.wrapped_key = "WRAPPED-KEY-" + std::string(48, 'K');
  ports::SubjectKeyRow other = MakeKey("sch", "other");
  WriteBatch b;
  b.subject_keys = {key, other};
  ASSERT_TRUE(IsOk(store->Commit(std::move(b))));
  ASSERT_TRUE(Contains(DatabaseBytes(dir + "/keys.db"), key.wrapped_key));

  WriteBatch destroy;
  destroy.destroyed_keys.emplace_back(SchoolId("sch"), SubjectId("sub"));
  ASSERT_TRUE(IsOk(store->Commit(std::move(destroy))));
  EXPECT_FALSE(Contains(DatabaseBytes(dir + "/keys.db"), key.wrapped_key));
  EXPECT_FALSE(Contains(DatabaseBytes(dir + "/keys.db"), std::string(48, 'K')));
  EXPECT_TRUE(ValueOf(store->GetSubjectKey(SchoolId("sch"), SubjectId("other"))).has_value());
}

// --- Backups -------------------------------------------------------------------------------------

TEST(SqliteStore, BackupHoldsTheDataButNoKeys) {
  TempDir tmp;
  const std::string dir = tmp.path("store");
  std::unique_ptr<SqliteStore> store = OpenOrFail(dir);
  ASSERT_NE(store, nullptr);
  WriteBatch b;
  b.schools.push_back(MakeSchool("sch"));
  b.subject_keys.push_back(MakeKey("sch", "sub"));
  b.subjects.push_back(MakeSubject("sch", "sub"));
  b.records.push_back(MakeRecord("sch", "rec", "sub"));
  b.audit.push_back(MakeAudit("sch", 1));
  ASSERT_TRUE(IsOk(store->Commit(std::move(b))));

  const std::string backup = tmp.path("backup.db");
  ASSERT_TRUE(IsOk(store->Backup(backup)));
  ASSERT_TRUE(IsOk(store->Backup(backup)));  // replaces an existing copy
  EXPECT_EQ(Mode(backup), 0600u);
  EXPECT_FALSE(std::filesystem::exists(backup + "-wal"));
  EXPECT_FALSE(Contains(ReadFileBytes(backup), MakeKey("sch", "sub").wrapped_key));
  EXPECT_TRUE(Contains(ReadFileBytes(backup), MakeRecord("sch", "rec", "sub").sealed_value));
  {
    RawDb copy(backup, SQLITE_OPEN_READONLY);
    EXPECT_EQ(copy.Query("PRAGMA integrity_check"), "ok");
    EXPECT_EQ(copy.Query("PRAGMA journal_mode"), "delete");
    EXPECT_EQ(copy.Query("SELECT count(*) FROM records"), "1");
    EXPECT_EQ(copy.Query("SELECT count(*) FROM sqlite_schema WHERE name = 'subject_keys'"), "0");
  }

  // Restored on its own, the backup opens as a store with the data and no keys.
  const std::string restored = tmp.path("restored");
  std::filesystem::create_directories(restored);
  std::filesystem::copy_file(backup, restored + "/data.db");
  std::unique_ptr<SqliteStore> reopened = OpenOrFail(restored);
  ASSERT_NE(reopened, nullptr);
  EXPECT_TRUE(ValueOf(reopened->GetSubject(SchoolId("sch"), SubjectId("sub"))).has_value());
  EXPECT_EQ(ValueOf(reopened->GetRecords(SchoolId("sch"), SubjectId("sub"))).size(), 1u);
  EXPECT_FALSE(ValueOf(reopened->GetSubjectKey(SchoolId("sch"), SubjectId("sub"))).has_value());

  const std::string vault = tmp.path("vault.db");
  ASSERT_TRUE(IsOk(store->BackupKeyVault(vault)));
  RawDb keys(vault, SQLITE_OPEN_READONLY);
  EXPECT_EQ(keys.Query("SELECT count(*) FROM subject_keys"), "1");
  EXPECT_EQ(keys.Query("SELECT count(*) FROM sqlite_schema WHERE name = 'records'"), "0");

  Status nowhere = store->Backup(tmp.path("no/such/dir/backup.db"));
  ASSERT_FALSE(nowhere.ok());
  EXPECT_EQ(nowhere.error().code, ErrorCode::kUnavailable);
}

// --- Requests, outbox, tombstones ------------------------------------------------------------------

ports::RequestRow MakeRequest(const std::string& id, int64_t due_day, bool open, bool overdue) {
  ports::RequestRow r;
  r.school = SchoolId("sch");
  r.id = id;
  r.type = "access";
  r.state = open ? "in_progress" : "done";
  r.subject = "sub";
  r.open = open;
  r.overdue = overdue;
  r.received_at = Timestamp(std::chrono::hours(24));
  r.due_at = Timestamp(std::chrono::hours(24 * due_day));
  r.updated_at = r.received_at;
  r.body = "{\"type\":\"access\"}";
  r.sealed = std::string("\x01\x00sealed", 8);
  return r;
}

TEST(SqliteStore, ListsRequestsByDueDateWithFiltersAndCursor) {
  TempDir tmp;
  std::unique_ptr<SqliteStore> store = OpenOrFail(tmp.path("store"));
  ASSERT_NE(store, nullptr);
  WriteBatch b;
  b.schools.push_back(MakeSchool("sch"));
  b.requests = {MakeRequest("r3", 30, true, false), MakeRequest("r1", 10, true, true),
                MakeRequest("r2", 20, false, false), MakeRequest("r4", 10, true, false)};
  b.request_events.push_back(ports::RequestEventRow{SchoolId("sch"), "r1", 1, Timestamp{},
                                                    "system:test", "filed", "{}", ""});
  ASSERT_TRUE(IsOk(store->Commit(std::move(b))));

  auto ids = [](const std::vector<ports::RequestRow>& rows) {
    std::vector<std::string> out;
    for (const auto& r : rows) out.push_back(r.id);
    return out;
  };
  ports::RequestFilter open;
  open.open_only = true;
  EXPECT_EQ(ids(ValueOf(store->ListRequests(SchoolId("sch"), open))),
            (std::vector<std::string>{"r1", "r4", "r3"}));
  ports::RequestFilter all;
  EXPECT_EQ(ids(ValueOf(store->ListRequests(SchoolId("sch"), all))),
            (std::vector<std::string>{"r1", "r4", "r2", "r3"}));
  ports::RequestFilter overdue = open;
  overdue.overdue_only = true;
  EXPECT_EQ(ids(ValueOf(store->ListRequests(SchoolId("sch"), overdue))),
            (std::vector<std::string>{"r1"}));
  ports::RequestFilter page = open;
  page.limit = 2;
  auto first = ValueOf(store->ListRequests(SchoolId("sch"), page));
  ASSERT_EQ(first.size(), 2u);
  page.after_due = first.back().due_at;
  page.after_id = first.back().id;
  EXPECT_EQ(ids(ValueOf(store->ListRequests(SchoolId("sch"), page))),
            (std::vector<std::string>{"r3"}));
  ports::RequestFilter before = open;
  before.due_before = Timestamp(std::chrono::hours(24 * 15));
  EXPECT_EQ(ids(ValueOf(store->ListRequests(SchoolId("sch"), before))),
            (std::vector<std::string>{"r1", "r4"}));

  auto got = ValueOf(store->GetRequest(SchoolId("sch"), "r1"));
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(got->overdue);
  EXPECT_EQ(got->sealed, std::string("\x01\x00sealed", 8));
  EXPECT_EQ(ValueOf(store->GetRequestEvents(SchoolId("sch"), "r1")).size(), 1u);
  EXPECT_FALSE(ValueOf(store->GetRequest(SchoolId("other"), "r1")).has_value());

  // Timelines are append-only.
  WriteBatch again;
  again.request_events.push_back(ports::RequestEventRow{SchoolId("sch"), "r1", 1, Timestamp{},
                                                        "system:test", "filed", "{}", ""});
  EXPECT_FALSE(store->Commit(std::move(again)).ok());
}

TEST(SqliteStore, DeliversDueOutboxMessagesOldestFirst) {
  TempDir tmp;
  std::unique_ptr<SqliteStore> store = OpenOrFail(tmp.path("store"));
  ASSERT_NE(store, nullptr);
  auto message = [](const std::string& id, int64_t next_s, const std::string& state) {
    ports::OutboxRow m;
    m.school = SchoolId("sch");
    m.id = id;
    m.request = "r1";
    m.channel = "email";
    m.state = state;
    m.created_at = Timestamp(std::chrono::seconds(1));
    m.next_attempt_at = Timestamp(std::chrono::seconds(next_s));
    m.body = "{}";
    m.sealed = "x";
    return m;
  };
  WriteBatch b;
  b.outbox = {message("m2", 20, "pending"), message("m1", 10, "pending"),
              message("m3", 5, "sent"), message("m4", 100, "pending"),
              message("m5", 1, "failed")};
  ASSERT_TRUE(IsOk(store->Commit(std::move(b))));
  auto due = ValueOf(store->DueOutbox(Timestamp(std::chrono::seconds(50)), 10));
  ASSERT_EQ(due.size(), 2u);
  EXPECT_EQ(due[0].id, "m1");
  EXPECT_EQ(due[1].id, "m2");
  EXPECT_EQ(ValueOf(store->RequestOutbox(SchoolId("sch"), "r1")).size(), 5u);
  // R68: the deadline job looks among every message not sent yet, the given-up ones included.
  std::vector<std::string> unsent;
  for (const auto& m : ValueOf(store->UnsentOutbox(SchoolId("sch")))) unsent.push_back(m.id);
  EXPECT_EQ(unsent, (std::vector<std::string>{"m1", "m2", "m4", "m5"}));
  EXPECT_TRUE(ValueOf(store->UnsentOutbox(SchoolId("other"))).empty());
}

TEST(SqliteStore, B09RestoringAnOlderBackupReappliesLaterErasures) {
  TempDir tmp;
  const std::string dir = tmp.path("store");
  const std::string backup = tmp.path("backup.db");
  {
    std::unique_ptr<SqliteStore> store = OpenOrFail(dir);
    ASSERT_NE(store, nullptr);
    WriteBatch b;
    b.schools.push_back(MakeSchool("sch"));
    for (const char* id : {"gone", "kept"}) {
      b.subject_keys.push_back(MakeKey("sch", id));
      b.subjects.push_back(MakeSubject("sch", id));
      b.records.push_back(MakeRecord("sch", std::string("rec-") + id, id));
    }
    ASSERT_TRUE(IsOk(store->Commit(std::move(b))));
    ASSERT_TRUE(IsOk(store->Backup(backup)));  // the older backup still holds "gone"

    WriteBatch erase;
    erase.destroyed_keys.emplace_back(SchoolId("sch"), SubjectId("gone"));
    erase.erased_subjects.emplace_back(SchoolId("sch"), SubjectId("gone"));
    erase.tombstones.push_back(ports::TombstoneRow{SchoolId("sch"), SubjectId("gone"), "ps",
                                                   "consent_withdrawn", "req-1", Timestamp{}});
    ASSERT_TRUE(IsOk(store->Commit(std::move(erase))));
    auto stones = ValueOf(store->ListTombstones(SchoolId("sch")));
    ASSERT_EQ(stones.size(), 1u);
    EXPECT_EQ(stones[0].ground, "consent_withdrawn");
  }
  // Restore the older data file beside the current key vault.
  for (const char* suffix : {"-wal", "-shm"}) std::filesystem::remove(dir + "/data.db" + suffix);
  std::filesystem::copy_file(backup, dir + "/data.db",
                             std::filesystem::copy_options::overwrite_existing);
  {
    RawDb raw(dir + "/data.db");
    EXPECT_EQ(raw.Query("SELECT count(*) FROM subjects WHERE subject_id = 'gone'"), "1");
  }
  std::unique_ptr<SqliteStore> reopened = OpenOrFail(dir);
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->replayed_tombstones(), 1);
  EXPECT_FALSE(ValueOf(reopened->GetSubject(SchoolId("sch"), SubjectId("gone"))).has_value());
  EXPECT_TRUE(ValueOf(reopened->GetRecords(SchoolId("sch"), SubjectId("gone"))).empty());
  EXPECT_TRUE(ValueOf(reopened->GetSubject(SchoolId("sch"), SubjectId("kept"))).has_value());
  reopened.reset();
  std::unique_ptr<SqliteStore> again = OpenOrFail(dir);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->replayed_tombstones(), 0);
}

TEST(SqliteStore, BackupIsConsistentWhileWritesGoOn) {
  TempDir tmp;
  std::unique_ptr<SqliteStore> store = OpenOrFail(tmp.path("store"));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(IsOk(store->Commit([] {
    WriteBatch b;
    b.schools.push_back(MakeSchool("sch"));
    return b;
  }())));
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int64_t seq = 1; !stop.load(); ++seq) {
      WriteBatch b;
      b.audit.push_back(MakeAudit("sch", seq));
      if (!store->Commit(std::move(b)).ok()) ADD_FAILURE() << "commit failed";
    }
  });
  for (int i = 0; i < 3; ++i) {
    const std::string backup = tmp.path("b" + std::to_string(i) + ".db");
    ASSERT_TRUE(IsOk(store->Backup(backup)));
    RawDb copy(backup, SQLITE_OPEN_READONLY);
    EXPECT_EQ(copy.Query("PRAGMA integrity_check"), "ok");
    // The copy is one moment of the log: seqs 1..max with no gap.
    EXPECT_EQ(copy.Query("SELECT count(*) = coalesce(max(seq), 0) FROM audit"), "1");
  }
  stop = true;
  writer.join();
}

// --- Crash safety --------------------------------------------------------------------------------

// The child: opens the store and submits batches in a loop (up to 32 in flight); each batch adds
// one record and the next audit row. After a batch's callback it writes the record id to `fd`.
[[noreturn]] void RunCrashChild(const std::string& dir, int fd) {
  Result<std::unique_ptr<SqliteStore>> opened = SqliteStore::Open(dir);
  if (!opened.ok()) ::_exit(2);
  SqliteStore& store = **opened;
  WriteBatch setup;
  setup.schools.push_back(MakeSchool("sch"));
  setup.subjects.push_back(MakeSubject("sch", "sub"));
  setup.subject_keys.push_back(MakeKey("sch", "sub"));
  if (!store.Commit(std::move(setup)).ok()) ::_exit(2);
  std::counting_semaphore<32> slots(32);
  for (int64_t n = 1;; ++n) {
    slots.acquire();
    WriteBatch b;
    b.records.push_back(MakeRecord("sch", "rec-" + std::to_string(n), "sub"));
    ports::AuditRow audit = MakeAudit("sch", n, "pn-sch-sub");
    b.audit.push_back(audit);
    store.Submit(std::move(b), [fd, n, &slots](Status s) {
      if (!s.ok()) ::_exit(4);
      std::string line = "rec-" + std::to_string(n) + "\n";
      if (::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) ::_exit(5);
      slots.release();
    });
  }
}

TEST(SqliteStoreCrash, EveryAcknowledgedBatchSurvivesAKill) {
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    TempDir tmp;
    const std::string dir = tmp.path("store");
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    std::fflush(nullptr);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      RunCrashChild(dir, fds[1]);
    }
    ::close(fds[1]);

    std::string received;
    auto read_some = [&](int timeout_ms) {
      pollfd p{fds[0], POLLIN, 0};
      if (::poll(&p, 1, timeout_ms) <= 0) return false;
      char buf[4096];
      ssize_t n = ::read(fds[0], buf, sizeof buf);
      if (n <= 0) return false;
      received.append(buf, static_cast<size_t>(n));
      return true;
    };
    // Wait for the first acknowledgement, then let the child run for ~300 ms more.
    auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (received.empty() && std::chrono::steady_clock::now() < give_up) read_some(50);
    auto stop = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
    while (std::chrono::steady_clock::now() < stop) read_some(10);
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    int wstatus = 0;
    ASSERT_EQ(::waitpid(pid, &wstatus, 0), pid);
    EXPECT_TRUE(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL)
        << "the child ended on its own, status " << wstatus;
    while (read_some(0)) {
    }
    ::close(fds[0]);

    std::vector<std::string> acknowledged;
    std::istringstream lines(received.substr(0, received.rfind('\n') + 1));
    for (std::string line; std::getline(lines, line);) acknowledged.push_back(line);
    ASSERT_FALSE(acknowledged.empty()) << "the child acknowledged nothing";

    std::unique_ptr<SqliteStore> store = OpenOrFail(dir);
    ASSERT_NE(store, nullptr);
    std::map<std::string, bool> present;
    for (const ports::RecordRow& r :
         ValueOf(store->GetRecords(SchoolId("sch"), SubjectId("sub")))) {
      present[r.id.value()] = true;
    }
    size_t missing = 0;
    for (const std::string& id : acknowledged) {
      if (!present.count(id)) ++missing;
    }
    EXPECT_EQ(missing, 0u) << "of " << acknowledged.size() << " acknowledged";
    EXPECT_GE(present.size(), acknowledged.size());

    // The audit log has no gap, and each record has its audit row.
    int64_t expected = 1;
    std::string prev_hash;
    EXPECT_TRUE(IsOk(store->ForEachAudit(SchoolId("sch"), 1, [&](const ports::AuditRow& a) {
      EXPECT_EQ(a.seq, expected);
      EXPECT_EQ(a.prev_hash, prev_hash);
      prev_hash = a.hash;
      ++expected;
      return true;
    })));
    EXPECT_EQ(static_cast<size_t>(expected - 1), present.size());
    EXPECT_TRUE(ValueOf(store->GetSubjectKey(SchoolId("sch"), SubjectId("sub"))).has_value());
    std::printf("crash round %d: %zu acknowledged, %zu present\n", round, acknowledged.size(),
                present.size());
  }
}

}  // namespace
}  // namespace dovira::sqlite
