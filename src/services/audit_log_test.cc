#include "services/audit_log.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "services/consents.h"
#include "services/data_access.h"
#include "services/subjects.h"
#include "services/test_env.h"

namespace dovira::services {
namespace {

using test::TestEnv;

// Writes to data.db behind the store's back, as an attacker with file access would.
class Tamper {
 public:
  explicit Tamper(const std::string& store_dir) {
    if (sqlite3_open_v2((store_dir + "/data.db").c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) !=
        SQLITE_OK) {
      ADD_FAILURE() << "cannot open data.db";
    }
    sqlite3_busy_timeout(db_, 5000);
  }
  ~Tamper() { sqlite3_close_v2(db_); }
  Tamper(const Tamper&) = delete;
  Tamper& operator=(const Tamper&) = delete;

  // Returns "" on success, else SQLite's message.
  std::string Exec(const std::string& sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) == SQLITE_OK) return "";
    std::string out = error ? error : "error";
    sqlite3_free(error);
    return out;
  }
  int Changes() { return sqlite3_changes(db_); }

 private:
  sqlite3* db_ = nullptr;
};

domain::Submission PaymentForm(const std::string& email) {
  domain::Submission s;
  s.form = "payment";
  s.fields = {{"first_name", "Oksana"},
              {"last_name", "Melnyk"},
              {"email", email},
              {"mobile_phone", "+380671234567"},
              {"purchased_service", "Course A"},
              {"purchase_amount", "990"}};
  s.ticked = {"pd_consent"};
  s.accept_policy = true;
  s.age_statement = "adult";
  return s;
}

class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(env.LoadShipped("001_vkluchi_zhizn.toml").ok()); }

  // Appends n plain entries.
  void Record(int n, const SchoolId& in) {
    for (int i = 0; i < n; ++i) {
      AuditEvent e;
      e.actor = "system:test";
      e.action = "read";
      e.purpose = "identification";
      e.outcome = "ok";
      e.request_id = "req-" + std::to_string(i);
      e.detail = "{\"n\":" + std::to_string(i) + "}";
      ASSERT_TRUE(env.audit.Record(in, std::move(e)).ok());
      env.clock.Advance(std::chrono::seconds(1));
    }
  }
  void Record(int n) { Record(n, school); }

  AuditVerification MustVerify(const SchoolId& in) {
    auto v = env.audit.Verify(in);
    EXPECT_TRUE(v.ok()) << v.error().message;
    return v.ok() ? *v : AuditVerification{false, 0, 0, -1, "verify failed"};
  }
  AuditVerification MustVerify() { return MustVerify(school); }

  std::vector<ports::AuditRow> Rows(const SchoolId& in) {
    auto page = env.audit.Page(in, 0, 1000);
    EXPECT_TRUE(page.ok());
    return page.ok() ? *page : std::vector<ports::AuditRow>{};
  }

  std::string StoreDir() const { return env.dir + "/store"; }

  TestEnv env;
  const SchoolId school{"vkluchi_zhizn"};
  const RequestContext ctx{"req-1", "203.0.113.7", "agent"};
  const Actor officer{Actor::Kind::kStaff, "st-officer", "responsible_person", {}, true};
};

// --- A sound chain --------------------------------------------------------------------------------

TEST_F(AuditLogTest, B01_VerifyPassesOnAnEmptyAndOnAFreshChain) {
  AuditVerification empty = MustVerify();
  EXPECT_TRUE(empty.ok);
  EXPECT_EQ(empty.entries, 0);

  Record(5);
  AuditVerification v = MustVerify();
  EXPECT_TRUE(v.ok) << v.problem;
  EXPECT_EQ(v.entries, 5);
  EXPECT_FALSE(v.first_broken.has_value());

  const auto rows = Rows(school);
  ASSERT_EQ(rows.size(), 5u);
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].seq, static_cast<int64_t>(i + 1));
    EXPECT_EQ(rows[i].prev_hash, i == 0 ? std::string() : rows[i - 1].hash);
    EXPECT_EQ(rows[i].hash.size(), 64u) << "hex BLAKE2b-256";
    EXPECT_EQ(rows[i].hash, ports::ToHex(env.crypto->Hash2(rows[i].prev_hash,
                                                           AuditLog::Canonical(rows[i]))));
  }
}

TEST_F(AuditLogTest, B01_ACheckpointSignsTheChainHeadWithTheSchoolsKeyAndVerifies) {
  Record(4);
  ASSERT_TRUE(env.audit.Checkpoint(school).ok());
  auto checkpoints = env.store->ListCheckpoints(school);
  ASSERT_TRUE(checkpoints.ok());
  ASSERT_EQ(checkpoints->size(), 1u);
  const ports::CheckpointRow& c = (*checkpoints)[0];
  const auto rows = Rows(school);
  EXPECT_EQ(c.seq, 4);
  EXPECT_EQ(c.hash, rows.back().hash);
  auto key = env.keys->AuditSigningKey(school);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(c.public_key, ports::ToHex(key->public_key));
  auto sig = ports::FromHex(c.signature);
  auto pk = ports::FromHex(c.public_key);
  ASSERT_TRUE(sig.ok() && pk.ok());
  const std::string message =
      "dovira-audit-checkpoint|" + school.value() + "|" + std::to_string(c.seq) + "|" + c.hash;
  EXPECT_TRUE(env.crypto->Verify(*pk, message, *sig)) << "an Ed25519 signature over the head";
  EXPECT_FALSE(env.crypto->Verify(*pk, message + "x", *sig));

  AuditVerification v = MustVerify();
  EXPECT_TRUE(v.ok) << v.problem;
  EXPECT_EQ(v.checkpoints, 1);

  // Nothing new: no second checkpoint. New entries: a second one at the new head.
  ASSERT_TRUE(env.audit.Checkpoint(school).ok());
  EXPECT_EQ(env.store->ListCheckpoints(school)->size(), 1u);
  Record(2);
  ASSERT_TRUE(env.audit.Checkpoint(school).ok());
  auto again = env.store->ListCheckpoints(school);
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(again->size(), 2u);
  EXPECT_EQ(again->back().seq, 6);
  v = MustVerify();
  EXPECT_TRUE(v.ok) << v.problem;
  EXPECT_EQ(v.checkpoints, 2);
  EXPECT_EQ(v.entries, 6);
}

TEST_F(AuditLogTest, B01_ACheckpointOnAnEmptyChainIsANoOp) {
  ASSERT_TRUE(env.audit.Checkpoint(school).ok());
  auto checkpoints = env.store->ListCheckpoints(school);
  ASSERT_TRUE(checkpoints.ok());
  EXPECT_TRUE(checkpoints->empty());
}

TEST_F(AuditLogTest, B01_TheStoreRefusesToUpdateAnAuditEntry) {
  Record(2);
  Tamper db(StoreDir());
  EXPECT_NE(db.Exec("UPDATE audit SET outcome = 'deny' WHERE seq = 1"), "");
  EXPECT_TRUE(MustVerify().ok);
}

// --- Tampering (B01) ------------------------------------------------------------------------------

TEST_F(AuditLogTest, B01_ChangingOneFieldOfOneEntryIsReportedAtExactlyThatSeq) {
  const std::vector<std::pair<std::string, std::string>> edits = {
      {"purpose", "'marketing_mailing'"}, {"outcome", "'deny'"},  {"actor", "'staff:nobody'"},
      {"detail", "'{\"n\":1}'"},                 {"at", "at + 1"},       {"subject_ref", "'pn_0'"},
      {"fields", "'email'"},              {"decision_id", "'d'"},
  };
  for (const auto& [column, value] : edits) {
    SCOPED_TRACE(column);
    TestEnv fresh;
    ASSERT_TRUE(fresh.LoadShipped("001_vkluchi_zhizn.toml").ok());
    for (int i = 0; i < 6; ++i) {
      AuditEvent e;
      e.actor = "system:test";
      e.action = "read";
      e.purpose = "identification";
      e.outcome = "ok";
      ASSERT_TRUE(fresh.audit.Record(school, std::move(e)).ok());
    }
    ASSERT_TRUE(fresh.audit.Verify(school)->ok);
    {
      Tamper db(fresh.dir + "/store");
      ASSERT_EQ(db.Exec("DROP TRIGGER audit_no_update"), "");
      ASSERT_EQ(db.Exec("UPDATE audit SET " + column + " = " + value +
                        " WHERE school_id = 'vkluchi_zhizn' AND seq = 3"),
                "");
      ASSERT_EQ(db.Changes(), 1);
    }
    auto v = fresh.audit.Verify(school);
    ASSERT_TRUE(v.ok());
    EXPECT_FALSE(v->ok);
    ASSERT_TRUE(v->first_broken.has_value());
    EXPECT_EQ(*v->first_broken, 3) << v->problem;
    EXPECT_FALSE(v->problem.empty());
  }
}

TEST_F(AuditLogTest, B01_RecomputingTheHashOfAnEditedEntryStillBreaksTheNextLink) {
  Record(5);
  const auto rows = Rows(school);
  // The attacker edits entry 2 and rewrites its hash consistently.
  ports::AuditRow edited = rows[1];
  edited.outcome = "deny";
  const std::string forged =
      ports::ToHex(env.crypto->Hash2(edited.prev_hash, AuditLog::Canonical(edited)));
  {
    Tamper db(StoreDir());
    ASSERT_EQ(db.Exec("DROP TRIGGER audit_no_update"), "");
    ASSERT_EQ(db.Exec("UPDATE audit SET outcome = 'deny', hash = '" + forged +
                      "' WHERE school_id = 'vkluchi_zhizn' AND seq = 2"),
              "");
  }
  AuditVerification v = MustVerify();
  EXPECT_FALSE(v.ok);
  ASSERT_TRUE(v.first_broken.has_value());
  EXPECT_EQ(*v.first_broken, 3) << "entry 3 no longer links to entry 2: " << v.problem;
}

TEST(AuditLogLongChain, B01_VerifyReportsABreakDeepInALongCheckpointedChainAndReturns) {
  // Held on the heap and released only when Verify returned: if it never does, the thread that
  // is stuck in it keeps valid objects and the test fails on the timeout instead of crashing.
  auto* env = new TestEnv();
  const SchoolId school("vkluchi_zhizn");
  ASSERT_TRUE(env->LoadShipped("001_vkluchi_zhizn.toml").ok());
  constexpr int kEntries = 12000;
  constexpr int kBroken = 9000;
  for (int done = 0; done < kEntries;) {
    ports::WriteBatch batch;
    for (int i = 0; i < 2000; ++i, ++done) {
      AuditEvent e;
      e.actor = "system:bulk";
      e.action = "read";
      e.purpose = "identification";
      e.outcome = "ok";
      env->audit.Add(batch, school, std::move(e));
    }
    ASSERT_TRUE(env->store->Commit(std::move(batch)).ok());
  }
  // A signed checkpoint at every entry before the break (as after a long run of hourly
  // checkpoints): each one costs the verifier a signature check.
  auto key = env->keys->AuditSigningKey(school);
  ASSERT_TRUE(key.ok());
  auto rows = env->audit.Page(school, 0, kBroken - 1);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), static_cast<size_t>(kBroken - 1));
  for (size_t i = 0; i < rows->size();) {
    ports::WriteBatch batch;
    for (size_t n = 0; n < 1000 && i < rows->size(); ++n, ++i) {
      ports::CheckpointRow c;
      c.school = school;
      c.seq = (*rows)[i].seq;
      c.hash = (*rows)[i].hash;
      c.public_key = ports::ToHex(key->public_key);
      c.signature = ports::ToHex(env->crypto->Sign(
          *key, "dovira-audit-checkpoint|" + school.value() + "|" + std::to_string(c.seq) + "|" +
                    c.hash));
      c.at = env->clock.Now();
      batch.checkpoints.push_back(std::move(c));
    }
    ASSERT_TRUE(env->store->Commit(std::move(batch)).ok());
  }
  {
    auto sound = env->audit.Verify(school);
    ASSERT_TRUE(sound.ok());
    ASSERT_TRUE(sound->ok) << sound->problem;
    EXPECT_EQ(sound->checkpoints, kBroken - 1);
  }
  {
    Tamper db(env->dir + "/store");
    ASSERT_EQ(db.Exec("DROP TRIGGER audit_no_update"), "");
    ASSERT_EQ(db.Exec("UPDATE audit SET outcome = 'deny' WHERE school_id = 'vkluchi_zhizn' AND "
                      "seq = " + std::to_string(kBroken)),
              "");
  }
  auto done = std::make_shared<std::promise<Result<AuditVerification>>>();
  auto future = done->get_future();
  std::thread([env, school, done] { done->set_value(env->audit.Verify(school)); }).detach();
  if (future.wait_for(std::chrono::seconds(60)) != std::future_status::ready) {
    ADD_FAILURE() << "Verify did not return within 60 s";
    return;  // env is leaked on purpose: the stuck thread still uses it
  }
  auto v = future.get();
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->ok);
  EXPECT_EQ(v->first_broken.value_or(-1), kBroken) << v->problem;
  delete env;
}

TEST(AuditLogLongChain, B01_EveryKindOfTamperingIsReportedAtItsSeqAnywhereInALongChain) {
  TestEnv env;
  const SchoolId school("vkluchi_zhizn");
  ASSERT_TRUE(env.LoadShipped("001_vkluchi_zhizn.toml").ok());
  constexpr int64_t kEntries = 12000;
  for (int64_t done = 0; done < kEntries;) {
    ports::WriteBatch batch;
    for (int i = 0; i < 3000; ++i, ++done) {
      AuditEvent e;
      e.actor = "system:bulk";
      e.action = "read";
      e.outcome = "ok";
      e.request_id = "r" + std::to_string(done);
      env.audit.Add(batch, school, std::move(e));
    }
    ASSERT_TRUE(env.store->Commit(std::move(batch)).ok());
  }
  auto broken_at = [&]() -> int64_t {
    auto v = env.audit.Verify(school);
    EXPECT_TRUE(v.ok());
    if (!v.ok()) return -2;
    return v->ok ? 0 : v->first_broken.value_or(-1);
  };
  ASSERT_EQ(broken_at(), 0);
  Tamper db(env.dir + "/store");
  ASSERT_EQ(db.Exec("DROP TRIGGER audit_no_update"), "");
  ASSERT_EQ(db.Exec("DROP TRIGGER audit_no_delete"), "");
  const std::string where = " WHERE school_id = 'vkluchi_zhizn' AND seq = ";
  for (int64_t seq : {int64_t{1}, int64_t{2}, int64_t{3000}, int64_t{3001}, int64_t{6000},
                      int64_t{6001}, int64_t{9001}, kEntries - 1}) {
    SCOPED_TRACE(seq);
    const std::string at = where + std::to_string(seq);
    // An edit.
    ASSERT_EQ(db.Exec("UPDATE audit SET outcome = 'deny'" + at), "");
    EXPECT_EQ(broken_at(), seq);
    ASSERT_EQ(db.Exec("UPDATE audit SET outcome = 'ok'" + at), "");
    // An edit with the entry's own hash recomputed: the next entry's link gives it away.
    auto page = env.audit.Page(school, seq - 1, 1);
    ASSERT_TRUE(page.ok() && page->size() == 1u);
    ports::AuditRow forged = (*page)[0];
    forged.outcome = "deny";
    const std::string hash =
        ports::ToHex(env.crypto->Hash2(forged.prev_hash, AuditLog::Canonical(forged)));
    ASSERT_EQ(db.Exec("UPDATE audit SET outcome = 'deny', hash = '" + hash + "'" + at), "");
    EXPECT_EQ(broken_at(), seq + 1);
    ASSERT_EQ(db.Exec("UPDATE audit SET outcome = 'ok', hash = '" + (*page)[0].hash + "'" + at),
              "");
    // A removal.
    ASSERT_EQ(db.Exec("CREATE TEMP TABLE saved AS SELECT * FROM audit" + at), "");
    ASSERT_EQ(db.Exec("DELETE FROM audit" + at), "");
    EXPECT_EQ(broken_at(), seq);
    ASSERT_EQ(db.Exec("INSERT INTO audit SELECT * FROM saved; DROP TABLE saved"), "");
    ASSERT_EQ(broken_at(), 0) << "restored";
  }
}

TEST_F(AuditLogTest, B01_RemovingTheLastEntriesAfterACheckpointIsDetected) {
  Record(6);
  ASSERT_TRUE(env.audit.Checkpoint(school).ok());
  {
    Tamper db(StoreDir());
    ASSERT_EQ(db.Exec("DROP TRIGGER audit_no_delete"), "");
    ASSERT_EQ(db.Exec("DELETE FROM audit WHERE school_id = 'vkluchi_zhizn' AND seq >= 5"), "");
    ASSERT_EQ(db.Changes(), 2);
  }
  AuditVerification v = MustVerify();
  EXPECT_FALSE(v.ok);
  ASSERT_TRUE(v.first_broken.has_value());
  EXPECT_EQ(*v.first_broken, 5) << v.problem;
  EXPECT_NE(v.problem.find("removed"), std::string::npos) << v.problem;
}

TEST_F(AuditLogTest, B01_ACheckpointIsAlsoKeptAsTheAnchorInTheKeyVault) {
  EXPECT_FALSE(env.store->GetAuditAnchor(school)->has_value());
  Record(3);
  ASSERT_TRUE(env.audit.Checkpoint(school).ok());
  Record(2);
  ASSERT_TRUE(env.audit.Checkpoint(school).ok());
  auto anchor = env.store->GetAuditAnchor(school);
  ASSERT_TRUE(anchor.ok() && anchor->has_value());
  auto checkpoints = env.store->ListCheckpoints(school);
  ASSERT_TRUE(checkpoints.ok() && checkpoints->size() == 2u);
  EXPECT_EQ((*anchor)->seq, 5);
  EXPECT_EQ((*anchor)->hash, checkpoints->back().hash);
  EXPECT_EQ((*anchor)->signature, checkpoints->back().signature);
  auto tail = env.audit.CheckTail(school);
  ASSERT_TRUE(tail.ok());
  EXPECT_TRUE(tail->ok()) << tail->problem;
  EXPECT_EQ(tail->anchored_seq, 5);
  EXPECT_EQ(env.audit.TailState(), "ok");
}

// The attack the anchor is for: the newest entries and the newest checkpoint row go together, so
// that the data alone look whole (before the anchor, Verify passed).
TEST_F(AuditLogTest, B01_RemovingTheNewestEntriesWithTheirCheckpointIsDetectedByTheAnchor) {
  Record(6);
  ASSERT_TRUE(env.audit.Checkpoint(school).ok());
  Record(3);
  ASSERT_TRUE(env.audit.Checkpoint(school).ok());
  {
    Tamper db(StoreDir());
    ASSERT_EQ(db.Exec("DROP TRIGGER audit_no_delete; DROP TRIGGER audit_checkpoints_no_delete"),
              "");
    ASSERT_EQ(db.Exec("DELETE FROM audit WHERE school_id = 'vkluchi_zhizn' AND seq >= 7"), "");
    ASSERT_EQ(db.Exec("DELETE FROM audit_checkpoints WHERE school_id = 'vkluchi_zhizn'"
                      " AND seq = 9"),
              "");
    ASSERT_EQ(db.Changes(), 1);
  }
  AuditVerification v = MustVerify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_broken.value_or(-1), 7) << v.problem;
  EXPECT_EQ(v.entries, 6);
  EXPECT_NE(v.problem.find("entries 7 to 9 are missing"), std::string::npos) << v.problem;
  EXPECT_NE(v.problem.find("key vault"), std::string::npos) << v.problem;
  auto tail = env.audit.CheckTail(school);
  ASSERT_TRUE(tail.ok());
  EXPECT_EQ(tail->state, "tail_missing");
  EXPECT_EQ(tail->first_broken.value_or(-1), 7);
  EXPECT_EQ(env.audit.TailState(), "tail_missing");

}

// Entries 7 to 9 replaced by others with a consistent chain: the data alone look whole, the
// anchor's hash gives the rewrite away, and a later checkpoint does not wash it away.
TEST_F(AuditLogTest, B01_ARewrittenTailIsDetectedByTheAnchorAndTheAnchorStays) {
  Record(6);
  ASSERT_TRUE(env.audit.Checkpoint(school).ok());
  Record(3);
  ASSERT_TRUE(env.audit.Checkpoint(school).ok());
  const auto rows = Rows(school);
  ASSERT_EQ(rows.size(), 9u);
  {
    Tamper db(StoreDir());
    ASSERT_EQ(db.Exec("DROP TRIGGER audit_no_update; DROP TRIGGER audit_checkpoints_no_delete"),
              "");
    ASSERT_EQ(db.Exec("DELETE FROM audit_checkpoints WHERE school_id = 'vkluchi_zhizn'"
                      " AND seq = 9"),
              "");
    std::string prev = rows[5].hash;
    for (size_t i = 6; i < 9; ++i) {
      ports::AuditRow forged = rows[i];
      forged.outcome = "deny";
      forged.prev_hash = prev;
      forged.hash = ports::ToHex(env.crypto->Hash2(forged.prev_hash, AuditLog::Canonical(forged)));
      ASSERT_EQ(db.Exec("UPDATE audit SET outcome = 'deny', prev_hash = '" + forged.prev_hash +
                        "', hash = '" + forged.hash + "' WHERE school_id = 'vkluchi_zhizn'"
                        " AND seq = " + std::to_string(forged.seq)),
                "");
      prev = forged.hash;
    }
  }
  AuditVerification v = MustVerify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_broken.value_or(-1), 9) << v.problem;
  EXPECT_NE(v.problem.find("rewritten"), std::string::npos) << v.problem;
  EXPECT_EQ(env.audit.TailState(), "tail_changed");

  // The next checkpoint signs the head in the data but leaves the anchor where it was.
  ASSERT_TRUE(env.audit.Checkpoint(school).ok());
  EXPECT_EQ(env.store->ListCheckpoints(school)->back().seq, 9);
  auto anchor = env.store->GetAuditAnchor(school);
  ASSERT_TRUE(anchor.ok() && anchor->has_value());
  EXPECT_EQ((*anchor)->hash, rows[8].hash);
  v = MustVerify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_broken.value_or(-1), 9) << v.problem;
}

TEST_F(AuditLogTest, B01_AnAnchorNotSignedByTheSchoolsKeyIsReported) {
  Record(2);
  ASSERT_TRUE(env.audit.Checkpoint(school).ok());
  EXPECT_TRUE(env.audit.CheckTail(school)->ok());
  {
    sqlite3* keys = nullptr;
    ASSERT_EQ(sqlite3_open((StoreDir() + "/keys.db").c_str(), &keys), SQLITE_OK);
    sqlite3_busy_timeout(keys, 5000);
    // Another key's signature over the same message.
    const ports::SigningKey other = env.crypto->NewSigningKey();
    const auto anchor = *env.store->GetAuditAnchor(school);
    const std::string message = "dovira-audit-checkpoint|" + school.value() + "|2|" + anchor->hash;
    const std::string sql =
        "DROP TRIGGER audit_anchors_only_forward; UPDATE audit_anchors SET public_key = '" +
        ports::ToHex(other.public_key) + "', signature = '" +
        ports::ToHex(env.crypto->Sign(other, message)) + "'";
    EXPECT_EQ(sqlite3_exec(keys, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
        << sqlite3_errmsg(keys);
    sqlite3_close(keys);
  }
  auto tail = env.audit.CheckTail(school);
  ASSERT_TRUE(tail.ok());
  EXPECT_EQ(tail->state, "tail_changed");
  EXPECT_NE(tail->problem.find("not signed by the school's key"), std::string::npos)
      << tail->problem;
  AuditVerification v = MustVerify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_broken.value_or(-1), 2);
}

TEST_F(AuditLogTest, B01_RemovingAnEntryInTheMiddleIsDetected) {
  Record(5);
  {
    Tamper db(StoreDir());
    ASSERT_EQ(db.Exec("DROP TRIGGER audit_no_delete"), "");
    ASSERT_EQ(db.Exec("DELETE FROM audit WHERE school_id = 'vkluchi_zhizn' AND seq = 2"), "");
  }
  AuditVerification v = MustVerify();
  EXPECT_FALSE(v.ok);
  ASSERT_TRUE(v.first_broken.has_value());
  EXPECT_EQ(*v.first_broken, 2) << v.problem;
}

TEST_F(AuditLogTest, B01_AForgedCheckpointSignatureIsDetected) {
  Record(3);
  ASSERT_TRUE(env.audit.Checkpoint(school).ok());
  {
    Tamper db(StoreDir());
    ASSERT_EQ(db.Exec("DROP TRIGGER audit_checkpoints_no_update"), "");
    // Flip the first hex digit of the signature.
    ASSERT_EQ(db.Exec("UPDATE audit_checkpoints SET signature = "
                      "(CASE substr(signature, 1, 1) WHEN '0' THEN '1' ELSE '0' END) || "
                      "substr(signature, 2) WHERE school_id = 'vkluchi_zhizn'"),
              "");
  }
  AuditVerification v = MustVerify();
  EXPECT_FALSE(v.ok);
  ASSERT_TRUE(v.first_broken.has_value());
  EXPECT_EQ(*v.first_broken, 3) << v.problem;
}

TEST_F(AuditLogTest, B01_EachSchoolHasItsOwnChainAndTamperingWithOneLeavesTheOther) {
  ASSERT_TRUE(env.LoadShipped("004_bbooster_masterclass.toml").ok());
  const SchoolId other("bbooster-masterclass");
  Record(3);
  Record(2, other);
  auto other_rows = Rows(other);
  ASSERT_EQ(other_rows.size(), 2u);
  EXPECT_EQ(other_rows[0].seq, 1) << "numbered per school";
  EXPECT_EQ(other_rows[0].prev_hash, "");
  {
    Tamper db(StoreDir());
    ASSERT_EQ(db.Exec("DROP TRIGGER audit_no_update"), "");
    ASSERT_EQ(db.Exec("UPDATE audit SET outcome = 'deny' WHERE school_id = 'vkluchi_zhizn' "
                      "AND seq = 2"),
              "");
  }
  AuditVerification broken = MustVerify(school);
  EXPECT_FALSE(broken.ok);
  EXPECT_EQ(broken.first_broken.value_or(-1), 2);
  AuditVerification fine = MustVerify(other);
  EXPECT_TRUE(fine.ok) << fine.problem;
  EXPECT_EQ(fine.entries, 2);
}

// --- Erasure and pseudonyms -----------------------------------------------------------------------

TEST_F(AuditLogTest, B01_ErasingASubjectLeavesVerifyPassingWithItsCheckpoints) {
  SubjectService subjects(env.deps(), env.schools, env.audit);
  ConsentService consents(env.deps(), env.schools, subjects, env.audit);
  DataAccessService access(env.deps(), env.schools, subjects, env.audit);
  auto a = subjects.Intake(school, PaymentForm("a@example.org"), Actor::Public(), ctx);
  auto b = subjects.Intake(school, PaymentForm("b@example.org"), Actor::Public(), ctx);
  ASSERT_TRUE(a.ok() && b.ok());
  AccessRequest req;
  req.subject = a->subject;
  req.purpose = "contract_performance";
  ASSERT_TRUE(access.Read(school, req, officer, ctx).ok());
  WithdrawRequest w;
  w.subject = a->subject;
  w.channel = "support";
  ASSERT_TRUE(consents.Withdraw(school, w, officer, ctx).ok());
  ASSERT_TRUE(env.audit.Checkpoint(school).ok());
  const auto before = Rows(school);

  ASSERT_TRUE(subjects.DestroySubject(school, a->subject, "withdrawal", officer, ctx).ok());
  ASSERT_TRUE(env.audit.Checkpoint(school).ok());

  AuditVerification v = MustVerify();
  EXPECT_TRUE(v.ok) << v.problem << " at " << v.first_broken.value_or(-1);
  EXPECT_EQ(v.checkpoints, 2);
  const auto after = Rows(school);
  ASSERT_EQ(after.size(), before.size() + 1) << "erasure adds a tombstone and removes nothing";
  for (size_t i = 0; i < before.size(); ++i) {
    EXPECT_EQ(after[i].hash, before[i].hash) << "history is not rewritten";
  }
  EXPECT_EQ(after.back().action, "subject.destroy");
  auto pn = env.audit.Pseudonym(school, a->subject);
  ASSERT_TRUE(pn.ok());
  EXPECT_EQ(after.back().subject_ref, *pn);
}

TEST_F(AuditLogTest, R88_APseudonymIsKeyedStablePerSubjectAndNeverTheSubjectId) {
  const SubjectId s1("subject-one"), s2("subject-two");
  auto p1 = env.audit.Pseudonym(school, s1);
  auto p1_again = env.audit.Pseudonym(school, s1);
  auto p2 = env.audit.Pseudonym(school, s2);
  ASSERT_TRUE(p1.ok() && p1_again.ok() && p2.ok());
  EXPECT_EQ(*p1, *p1_again);
  EXPECT_NE(*p1, *p2);
  EXPECT_EQ(p1->rfind("pn_", 0), 0u);
  EXPECT_EQ(p1->size(), 3u + 32u);
  EXPECT_EQ(p1->find("subject-one"), std::string::npos);
  // Keyed by the school: a plain hash of the id does not give it away.
  EXPECT_NE(p1->substr(3), ports::ToHex(env.crypto->Hash(s1.value())).substr(0, 32));
  ASSERT_TRUE(env.LoadShipped("004_bbooster_masterclass.toml").ok());
  auto elsewhere = env.audit.Pseudonym(SchoolId("bbooster-masterclass"), s1);
  ASSERT_TRUE(elsewhere.ok());
  EXPECT_NE(*elsewhere, *p1) << "another school cannot link the same person";
}

TEST_F(AuditLogTest, R88_ForSubjectReturnsOnlyThatSubjectsEntries) {
  SubjectService subjects(env.deps(), env.schools, env.audit);
  auto a = subjects.Intake(school, PaymentForm("a@example.org"), Actor::Public(), ctx);
  auto b = subjects.Intake(school, PaymentForm("b@example.org"), Actor::Public(), ctx);
  ASSERT_TRUE(a.ok() && b.ok());
  auto pa = env.audit.Pseudonym(school, a->subject);
  ASSERT_TRUE(pa.ok());
  auto own = env.audit.ForSubject(school, a->subject, 0, 100);
  ASSERT_TRUE(own.ok());
  ASSERT_FALSE(own->empty());
  for (const auto& r : *own) EXPECT_EQ(r.subject_ref, *pa);
  int64_t total_for_a = 0;
  for (const auto& r : Rows(school)) total_for_a += r.subject_ref == *pa;
  EXPECT_EQ(static_cast<int64_t>(own->size()), total_for_a);
}

TEST_F(AuditLogTest, PageReturnsEntriesAfterASeqUpToALimit) {
  Record(6);
  auto page = env.audit.Page(school, 2, 3);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 3u);
  EXPECT_EQ((*page)[0].seq, 3);
  EXPECT_EQ((*page)[2].seq, 5);
  auto none = env.audit.Page(school, 0, 0);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  auto tail = env.audit.Page(school, 6, 10);
  ASSERT_TRUE(tail.ok());
  EXPECT_TRUE(tail->empty());
}

TEST_F(AuditLogTest, R88_AnEntryCarriesActorTimeOutcomeAndAnEmptyDetailBecomesAnEmptyObject) {
  AuditEvent e;
  e.actor = "staff:st-1";
  e.role = "support";
  e.action = "read";
  e.outcome = "allow";
  e.decision_id = "dec_1";
  ASSERT_TRUE(env.audit.Record(school, e).ok());
  const auto rows = Rows(school);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].actor, "staff:st-1");
  EXPECT_EQ(rows[0].role, "support");
  EXPECT_EQ(rows[0].decision_id, "dec_1");
  EXPECT_EQ(rows[0].at, env.clock.Now());
  EXPECT_EQ(rows[0].detail, "{}");
}

}  // namespace
}  // namespace dovira::services
