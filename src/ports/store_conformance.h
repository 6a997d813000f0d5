// The conformance suite of the storage port: GoogleTest cases every ports::Store implementation
// must pass. Header-only; an adapter's test instantiates it once:
//
//   #include "ports/store_conformance.h"
//   namespace dovira::ports::conformance {
//   INSTANTIATE_TEST_SUITE_P(Sqlite, StoreConformance,
//                            ::testing::Values(StoreCase{"sqlite", [](const std::string& dir) {
//                              return OpenMyStore(dir);  // std::unique_ptr<Store>, or nullptr
//                            }}),
//                            StoreCaseName);
//   }
//
// Each test gets a fresh empty directory; the factory opens the store kept there (calling it again
// with the same directory must reopen the same data). An implementation that keeps its data
// elsewhere (a database server) uses the directory name to pick a fresh schema.
//
// What the suite pins down beyond the comments of store.h:
//  - a batch that breaks a rule fails with kFailedPrecondition, and error messages never carry
//    SQL text;
//  - ForEachSubject, ListSubjects, ForEachSubjectKey, ListSchools, ListStaff, ListApiKeys order by
//    id; ListPolicyVersions by publication time; ForEachAudit, AuditForSubject, ListCheckpoints by
//    seq; GetConsents and ForEachConsent by `at`, then in the order the rows were written;
//    GetRecords by record id;
//  - identifiers are scoped by school: two schools may use the same subject, record, consent,
//    staff id or audit seq without seeing each other's rows;
//  - a ForEach callback may call other reads of the store.
//
// Thread-safety: the fixture is used by one test thread; the concurrency test starts its own.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/ids.h"
#include "common/result.h"
#include "ports/store.h"

namespace dovira::ports::conformance {

// Opens the store kept in `dir` (creating it when empty). Returns nullptr on failure.
using StoreFactory = std::function<std::unique_ptr<Store>(const std::string& dir)>;

struct StoreCase {
  std::string name;  // a test-name fragment: letters, digits, underscores
  StoreFactory open;
};

inline void PrintTo(const StoreCase& c, std::ostream* os) { *os << c.name; }
inline std::string StoreCaseName(const ::testing::TestParamInfo<StoreCase>& info) {
  return info.param.name;
}

// --- Rows for the tests --------------------------------------------------------------------------

inline Timestamp At(int64_t seconds) {
  // 2025-03-03T10:00:00Z + seconds, with a fraction so microseconds round-trip.
  return Timestamp(std::chrono::microseconds(1'740'996'000'000'000LL + seconds * 1'000'000 + 7));
}

inline SchoolRow MakeSchool(const std::string& id, const std::string& name = "School") {
  return SchoolRow{SchoolId(id), name, "v1", At(0)};
}

inline PolicyVersionRow MakePolicyVersion(const std::string& school, const std::string& version,
                                          int64_t published) {
  return PolicyVersionRow{
      SchoolId(school),     version,      "[school]\nname = \"" + version + "\"\n",
      std::string(64, 'a'), "2025-03-01", At(published)};
}

inline SubjectRow MakeSubject(const std::string& school, const std::string& id) {
  SubjectRow r;
  r.school = SchoolId(school);
  r.id = SubjectId(id);
  r.kind = "student";
  r.pseudonym = "pn-" + school + "-" + id;
  r.policy_version = "v1";
  r.channel = "web";
  r.form = "signup";
  r.source = "subject";
  r.state = "active";
  r.sealed_profile = std::string("\x00\x01profile\xff", 10) + school + id;
  r.created_at = At(1);
  r.updated_at = At(2);
  return r;
}

inline SubjectKeyRow MakeKey(const std::string& school, const std::string& subject) {
  return SubjectKeyRow{SchoolId(school), SubjectId(subject), "kek-1",
                       std::string("\x00wrapped\x00", 9) + school + subject, At(1)};
}

inline RecordRow MakeRecord(const std::string& school, const std::string& id,
                            const std::string& subject, const std::string& field = "email") {
  RecordRow r;
  r.school = SchoolId(school);
  r.id = RecordId(id);
  r.subject = SubjectId(subject);
  r.store = "crm";
  r.field = field;
  r.category = "contact";
  r.sealed_value = std::string("\x00sealed\x00\x80", 9) + school + id;
  r.source = "subject";
  r.channel = "web";
  r.form = "signup";
  r.policy_version = "v1";
  r.collected_at = At(3);
  r.updated_at = At(4);
  return r;
}

inline ConsentRow MakeConsent(const std::string& school, const std::string& id,
                              const std::string& subject, int64_t at) {
  ConsentRow r;
  r.school = SchoolId(school);
  r.id = ConsentId(id);
  r.subject = SubjectId(subject);
  r.consent_type = "marketing";
  r.grants = {"newsletter", "a,b \"quoted\"", "Привіт"};
  r.action = "grant";
  r.policy_version = "v1";
  r.text = "I agree to receive the newsletter.";
  r.text_sha256 = std::string(64, 'b');
  r.lang = "uk";
  r.channel = "web";
  r.form = "signup";
  r.checkbox = "newsletter";
  r.given_by = "subject";
  r.evidence = R"({"ip":"192.0.2.0/24"})";
  r.at = At(at);
  return r;
}

inline AuditRow MakeAudit(const std::string& school, int64_t seq,
                          const std::string& subject_ref = "") {
  AuditRow r;
  r.school = SchoolId(school);
  r.seq = seq;
  r.at = At(seq);
  r.actor = "staff:st1";
  r.role = "admin";
  r.action = "read";
  r.subject_ref = subject_ref;
  r.purpose = "enrolment";
  r.fields = "email,phone";
  r.outcome = "allow";
  r.reason = "ok";
  r.decision_id = "d" + std::to_string(seq);
  r.request_id = "r" + std::to_string(seq);
  r.detail = "{}";
  r.prev_hash = seq == 1 ? "" : "h" + std::to_string(seq - 1);
  r.hash = "h" + std::to_string(seq);
  return r;
}

inline CheckpointRow MakeCheckpoint(const std::string& school, int64_t seq) {
  return CheckpointRow{SchoolId(school), seq, "h" + std::to_string(seq), "sig", "pk", At(seq)};
}

inline StaffRow MakeStaff(const std::string& school, const std::string& id,
                          const std::string& email) {
  StaffRow r;
  r.school = SchoolId(school);
  r.id = StaffId(id);
  r.name = "Staff " + id;
  r.email = email;
  r.role = "admin";
  r.password_hash = "$argon2id$v=19$...";
  r.password_set_at = At(1);
  r.must_change_password = true;
  r.sealed_totp_secret = std::string("\x00totp", 5);
  r.totp_enabled = true;
  r.failed_attempts = 2;
  r.locked_until = At(100);
  r.briefing_completed_at = At(50);
  r.created_at = At(0);
  return r;
}

inline SessionRow MakeSession(const std::string& token_hash, const std::string& school,
                              const std::string& staff) {
  return SessionRow{token_hash, SchoolId(school), StaffId(staff), "csrf-" + token_hash,
                    true,       At(10),           At(3600)};
}

inline ApiKeyRow MakeApiKey(const std::string& school, const std::string& id,
                            const std::string& key_hash) {
  ApiKeyRow r;
  r.school = SchoolId(school);
  r.id = ApiKeyId(id);
  r.name = "LMS " + id;
  r.key_hash = key_hash;
  r.role = "integration";
  r.purposes = {"enrolment", "billing"};
  r.created_at = At(5);
  r.created_by = "st-1";
  return r;
}

// --- Comparing rows: every field, printed so that a mismatch shows which -------------------------

class RowText {
 public:
  RowText& Field(const char* name, const std::string& value) {
    os_ << name << "=\"";
    for (unsigned char c : value) {
      if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"') {
        os_ << c;
      } else {
        static constexpr char kHex[] = "0123456789abcdef";
        os_ << "\\x" << kHex[c >> 4] << kHex[c & 0xF];
      }
    }
    os_ << "\" ";
    return *this;
  }
  RowText& Field(const char* name, int64_t value) {
    os_ << name << "=" << value << " ";
    return *this;
  }
  RowText& Field(const char* name, bool value) {
    os_ << name << "=" << (value ? "true" : "false") << " ";
    return *this;
  }
  RowText& Field(const char* name, Timestamp value) {
    return Field(name, static_cast<int64_t>(value.time_since_epoch().count()));
  }
  RowText& Field(const char* name, const std::optional<Timestamp>& value) {
    if (!value) return Field(name, std::string("<none>"));
    return Field(name, *value);
  }
  template <typename Tag>
  RowText& Field(const char* name, const Id<Tag>& value) {
    return Field(name, value.value());
  }
  template <typename Tag>
  RowText& Field(const char* name, const std::optional<Id<Tag>>& value) {
    if (!value) return Field(name, std::string("<none>"));
    return Field(name, value->value());
  }
  RowText& Field(const char* name, const std::vector<std::string>& values) {
    os_ << name << "=[";
    for (const std::string& v : values) Field("", v);
    os_ << "] ";
    return *this;
  }
  std::string str() const { return os_.str(); }

 private:
  std::ostringstream os_;
};

inline std::string Text(const SchoolRow& r) {
  return RowText()
      .Field("id", r.id)
      .Field("name", r.name)
      .Field("active_policy_version", r.active_policy_version)
      .Field("created_at", r.created_at)
      .str();
}
inline std::string Text(const PolicyVersionRow& r) {
  return RowText()
      .Field("school", r.school)
      .Field("version_id", r.version_id)
      .Field("text", r.text)
      .Field("sha256", r.sha256)
      .Field("effective_date", r.effective_date)
      .Field("published_at", r.published_at)
      .str();
}
inline std::string Text(const SubjectRow& r) {
  return RowText()
      .Field("school", r.school)
      .Field("id", r.id)
      .Field("kind", r.kind)
      .Field("pseudonym", r.pseudonym)
      .Field("policy_version", r.policy_version)
      .Field("channel", r.channel)
      .Field("form", r.form)
      .Field("source", r.source)
      .Field("state", r.state)
      .Field("guardian", r.guardian)
      .Field("sealed_profile", r.sealed_profile)
      .Field("created_at", r.created_at)
      .Field("updated_at", r.updated_at)
      .str();
}
inline std::string Text(const SubjectKeyRow& r) {
  return RowText()
      .Field("school", r.school)
      .Field("subject", r.subject)
      .Field("kek_id", r.kek_id)
      .Field("wrapped_key", r.wrapped_key)
      .Field("created_at", r.created_at)
      .str();
}
inline std::string Text(const RecordRow& r) {
  return RowText()
      .Field("school", r.school)
      .Field("id", r.id)
      .Field("subject", r.subject)
      .Field("store", r.store)
      .Field("field", r.field)
      .Field("category", r.category)
      .Field("sealed_value", r.sealed_value)
      .Field("source", r.source)
      .Field("channel", r.channel)
      .Field("form", r.form)
      .Field("policy_version", r.policy_version)
      .Field("collected_at", r.collected_at)
      .Field("updated_at", r.updated_at)
      .str();
}
inline std::string Text(const ConsentRow& r) {
  return RowText()
      .Field("school", r.school)
      .Field("id", r.id)
      .Field("subject", r.subject)
      .Field("consent_type", r.consent_type)
      .Field("grants", r.grants)
      .Field("action", r.action)
      .Field("policy_version", r.policy_version)
      .Field("text", r.text)
      .Field("text_sha256", r.text_sha256)
      .Field("lang", r.lang)
      .Field("channel", r.channel)
      .Field("form", r.form)
      .Field("checkbox", r.checkbox)
      .Field("given_by", r.given_by)
      .Field("guardian", r.guardian)
      .Field("evidence", r.evidence)
      .Field("at", r.at)
      .Field("expires_at", r.expires_at)
      .str();
}
inline std::string Text(const AuditRow& r) {
  return RowText()
      .Field("school", r.school)
      .Field("seq", r.seq)
      .Field("at", r.at)
      .Field("actor", r.actor)
      .Field("role", r.role)
      .Field("action", r.action)
      .Field("subject_ref", r.subject_ref)
      .Field("purpose", r.purpose)
      .Field("fields", r.fields)
      .Field("outcome", r.outcome)
      .Field("reason", r.reason)
      .Field("decision_id", r.decision_id)
      .Field("request_id", r.request_id)
      .Field("detail", r.detail)
      .Field("prev_hash", r.prev_hash)
      .Field("hash", r.hash)
      .str();
}
inline std::string Text(const CheckpointRow& r) {
  return RowText()
      .Field("school", r.school)
      .Field("seq", r.seq)
      .Field("hash", r.hash)
      .Field("signature", r.signature)
      .Field("public_key", r.public_key)
      .Field("at", r.at)
      .str();
}
inline std::string Text(const StaffRow& r) {
  return RowText()
      .Field("school", r.school)
      .Field("id", r.id)
      .Field("name", r.name)
      .Field("email", r.email)
      .Field("role", r.role)
      .Field("password_hash", r.password_hash)
      .Field("password_set_at", r.password_set_at)
      .Field("must_change_password", r.must_change_password)
      .Field("sealed_totp_secret", r.sealed_totp_secret)
      .Field("totp_enabled", r.totp_enabled)
      .Field("failed_attempts", static_cast<int64_t>(r.failed_attempts))
      .Field("locked_until", r.locked_until)
      .Field("briefing_completed_at", r.briefing_completed_at)
      .Field("left_at", r.left_at)
      .Field("created_at", r.created_at)
      .str();
}
inline std::string Text(const SessionRow& r) {
  return RowText()
      .Field("token_hash", r.token_hash)
      .Field("school", r.school)
      .Field("staff", r.staff)
      .Field("csrf_token", r.csrf_token)
      .Field("mfa_passed", r.mfa_passed)
      .Field("created_at", r.created_at)
      .Field("expires_at", r.expires_at)
      .str();
}
inline std::string Text(const ApiKeyRow& r) {
  return RowText()
      .Field("school", r.school)
      .Field("id", r.id)
      .Field("name", r.name)
      .Field("key_hash", r.key_hash)
      .Field("role", r.role)
      .Field("purposes", r.purposes)
      .Field("created_at", r.created_at)
      .Field("revoked_at", r.revoked_at)
      .Field("created_by", r.created_by)
      .str();
}
template <typename Row>
std::vector<std::string> Texts(const std::vector<Row>& rows) {
  std::vector<std::string> out;
  for (const Row& r : rows) out.push_back(Text(r));
  return out;
}
template <typename Row>
std::string Text(const std::optional<Row>& row) {
  return row ? Text(*row) : "<none>";
}

// The value of `r`, or a test failure and T{}.
template <typename T>
T ValueOf(Result<T> r, const char* what = "read") {
  if (!r.ok()) {
    ADD_FAILURE() << what << " failed: " << r.error().message;
    return T{};
  }
  return std::move(r).value();
}

// The row `r` holds, or a test failure and Row{} when the read failed or found nothing.
template <typename Row>
Row Present(Result<std::optional<Row>> r, const char* what = "read") {
  std::optional<Row> row = ValueOf(std::move(r), what);
  if (!row) {
    ADD_FAILURE() << what << " found no row";
    return Row{};
  }
  return std::move(*row);
}

// Checks a write outcome: ok, or the failure a broken rule gives.
inline ::testing::AssertionResult IsOk(const Status& s) {
  if (s.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "failed: " << ErrorCodeName(s.error().code) << ": " << s.error().message;
}
inline ::testing::AssertionResult IsRuleFailure(const Status& s) {
  if (s.ok()) return ::testing::AssertionFailure() << "succeeded";
  const Error& e = s.error();
  if (e.code != ErrorCode::kFailedPrecondition) {
    return ::testing::AssertionFailure()
           << "code " << ErrorCodeName(e.code) << " (want failed_precondition): " << e.message;
  }
  for (const char* sql_word : {"INSERT", "UPDATE", "DELETE", "SELECT", "VALUES"}) {
    if (e.message.find(sql_word) != std::string::npos) {
      return ::testing::AssertionFailure() << "message carries SQL text: " << e.message;
    }
  }
  return ::testing::AssertionSuccess();
}

// Waits for a number of Submit callbacks.
class Completion {
 public:
  explicit Completion(size_t expected) : expected_(expected) {}
  std::function<void(Status)> Callback(Status* out = nullptr) {
    return [this, out](Status s) {
      std::lock_guard<std::mutex> lock(mu_);
      if (!s.ok()) ++failures_;
      if (out != nullptr) *out = std::move(s);
      ++done_;
      cv_.notify_all();
    };
  }
  // Returns false if not every callback ran within `timeout`.
  bool Wait(std::chrono::seconds timeout = std::chrono::seconds(120)) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [this] { return done_ >= expected_; });
  }
  size_t failures() {
    std::lock_guard<std::mutex> lock(mu_);
    return failures_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  const size_t expected_;
  size_t done_ = 0;
  size_t failures_ = 0;
};

// The concurrency workload, shared with adapter tests that also look at their own counters:
// `threads` threads each own a school ("cc-school-<t>") and Submit `per_thread` batches without
// waiting, each adding a subject, a record, a lookup, a consent and the school's next audit row.
// Two more threads read meanwhile. Then checks every callback succeeded and every row is present,
// with each school's audit seq 1..per_thread in submission order.
inline void WriteConcurrently(Store& store, int threads, int per_thread) {
  auto school_of = [](int t) { return "cc-school-" + std::to_string(t); };
  auto subject_of = [](int j) {
    std::string n = std::to_string(j);
    return "s" + std::string(6 - n.size(), '0') + n;
  };
  {
    WriteBatch setup;
    for (int t = 0; t < threads; ++t) setup.schools.push_back(MakeSchool(school_of(t)));
    ASSERT_TRUE(IsOk(store.Commit(std::move(setup))));
  }
  Completion completion(static_cast<size_t>(threads) * static_cast<size_t>(per_thread));
  std::atomic<bool> writing{true};
  std::atomic<int> read_failures{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&, r] {
      while (writing.load()) {
        SchoolId school(school_of(r % threads));
        if (!store.ListSubjects(school, "", 50).ok()) ++read_failures;
        if (!store.LastAudit(school).ok()) ++read_failures;
        if (!store.GetRecords(school, SubjectId(subject_of(0))).ok()) ++read_failures;
      }
    });
  }
  std::vector<std::thread> writers;
  for (int t = 0; t < threads; ++t) {
    writers.emplace_back([&, t] {
      const std::string school = school_of(t);
      for (int j = 0; j < per_thread; ++j) {
        const std::string subject = subject_of(j);
        WriteBatch b;
        b.subjects.push_back(MakeSubject(school, subject));
        b.records.push_back(MakeRecord(school, "r-" + subject, subject));
        b.lookups.push_back(
            LookupRow{SchoolId(school), "email", "tok-" + subject, SubjectId(subject)});
        b.consents.push_back(MakeConsent(school, "c-" + subject, subject, j));
        b.audit.push_back(MakeAudit(school, j + 1, "pn-" + subject));
        store.Submit(std::move(b), completion.Callback());
      }
    });
  }
  for (std::thread& w : writers) w.join();
  ASSERT_TRUE(completion.Wait()) << "not every callback ran";
  writing = false;
  for (std::thread& r : readers) r.join();
  EXPECT_EQ(completion.failures(), 0u);
  EXPECT_EQ(read_failures.load(), 0);

  for (int t = 0; t < threads; ++t) {
    const SchoolId school(school_of(t));
    int subjects = 0;
    std::string previous;
    EXPECT_TRUE(IsOk(store.ForEachSubject(school, [&](const SubjectRow& s) {
      EXPECT_LT(previous, s.id.value());
      previous = s.id.value();
      ++subjects;
    })));
    EXPECT_EQ(subjects, per_thread);
    int64_t expected_seq = 1;
    EXPECT_TRUE(IsOk(store.ForEachAudit(school, 1, [&](const AuditRow& a) {
      EXPECT_EQ(a.seq, expected_seq);
      EXPECT_EQ(a.subject_ref, "pn-" + subject_of(static_cast<int>(expected_seq - 1)));
      ++expected_seq;
      return true;
    })));
    EXPECT_EQ(expected_seq, per_thread + 1);
    int consents = 0;
    EXPECT_TRUE(IsOk(store.ForEachConsent(school, [&](const ConsentRow&) { ++consents; })));
    EXPECT_EQ(consents, per_thread);
    for (int j = 0; j < per_thread; j += 17) {
      const std::string subject = subject_of(j);
      std::vector<RecordRow> records = ValueOf(store.GetRecords(school, SubjectId(subject)));
      ASSERT_EQ(records.size(), 1u) << school.value() << " " << subject;
      EXPECT_EQ(Text(records[0]), Text(MakeRecord(school.value(), "r-" + subject, subject)));
      std::optional<SubjectId> found =
          ValueOf(store.FindByLookup(school, "email", "tok-" + subject));
      EXPECT_EQ(found, std::optional<SubjectId>(SubjectId(subject)));
    }
  }
}

// --- The suite -----------------------------------------------------------------------------------

class StoreConformance : public ::testing::TestWithParam<StoreCase> {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "dovira_store_XXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
    dir_ = pattern + "/store";
    store_ = GetParam().open(dir_);
    ASSERT_NE(store_, nullptr) << "the store did not open";
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    if (!root_.empty()) std::filesystem::remove_all(root_, ec);
  }

  Store& store() { return *store_; }
  void Reopen() {
    store_.reset();
    store_ = GetParam().open(dir_);
    ASSERT_NE(store_, nullptr) << "the store did not reopen";
  }
  ::testing::AssertionResult CommitOk(WriteBatch batch) {
    return IsOk(store().Commit(std::move(batch)));
  }
  // A school with one subject: the base of most tests.
  void AddSchoolAndSubject(const std::string& school, const std::string& subject) {
    WriteBatch b;
    b.schools.push_back(MakeSchool(school));
    b.subjects.push_back(MakeSubject(school, subject));
    ASSERT_TRUE(CommitOk(std::move(b)));
  }

  std::string root_;
  std::string dir_;
  std::unique_ptr<Store> store_;
};

TEST_P(StoreConformance, SchoolsRoundTripAndUpsert) {
  WriteBatch b;
  b.schools = {MakeSchool("sch-b", "Beta"), MakeSchool("sch-a", "Alpha")};
  ASSERT_TRUE(CommitOk(std::move(b)));
  EXPECT_EQ(Text(ValueOf(store().GetSchool(SchoolId("sch-a")))),
            Text(std::optional(MakeSchool("sch-a", "Alpha"))));
  EXPECT_FALSE(ValueOf(store().GetSchool(SchoolId("sch-none"))).has_value());
  EXPECT_EQ(Texts(ValueOf(store().ListSchools())),
            Texts(std::vector{MakeSchool("sch-a", "Alpha"), MakeSchool("sch-b", "Beta")}));

  SchoolRow changed = MakeSchool("sch-a", "Alpha Academy");
  changed.active_policy_version = "v2";
  WriteBatch upsert;
  upsert.schools.push_back(changed);
  ASSERT_TRUE(CommitOk(std::move(upsert)));
  EXPECT_EQ(Text(ValueOf(store().GetSchool(SchoolId("sch-a")))), Text(std::optional(changed)));
  EXPECT_EQ(ValueOf(store().ListSchools()).size(), 2u);
}

// R112: a published policy version never changes.
TEST_P(StoreConformance, PolicyVersionsAreImmutable) {
  WriteBatch b;
  b.schools.push_back(MakeSchool("sch"));
  b.policy_versions = {MakePolicyVersion("sch", "v2", 20), MakePolicyVersion("sch", "v1", 10)};
  ASSERT_TRUE(CommitOk(std::move(b)));
  EXPECT_EQ(
      Texts(ValueOf(store().ListPolicyVersions(SchoolId("sch")))),
      Texts(std::vector{MakePolicyVersion("sch", "v1", 10), MakePolicyVersion("sch", "v2", 20)}));

  PolicyVersionRow again = MakePolicyVersion("sch", "v1", 30);
  again.text = "changed";
  WriteBatch dup;
  dup.schools.push_back(MakeSchool("sch-other"));  // must not be applied either
  dup.policy_versions.push_back(again);
  EXPECT_TRUE(IsRuleFailure(store().Commit(std::move(dup))));
  EXPECT_EQ(
      Texts(ValueOf(store().ListPolicyVersions(SchoolId("sch")))),
      Texts(std::vector{MakePolicyVersion("sch", "v1", 10), MakePolicyVersion("sch", "v2", 20)}));
  EXPECT_FALSE(ValueOf(store().GetSchool(SchoolId("sch-other"))).has_value());
}

TEST_P(StoreConformance, SubjectsRoundTripAndUpsert) {
  WriteBatch b;
  b.schools.push_back(MakeSchool("sch"));
  SubjectRow guardian = MakeSubject("sch", "sub-g");
  guardian.kind = "guardian";
  SubjectRow minor = MakeSubject("sch", "sub-m");
  minor.guardian = SubjectId("sub-g");
  minor.sealed_profile = "";
  minor.form = "";
  b.subjects = {guardian, minor};
  ASSERT_TRUE(CommitOk(std::move(b)));
  EXPECT_EQ(Text(ValueOf(store().GetSubject(SchoolId("sch"), SubjectId("sub-m")))),
            Text(std::optional(minor)));
  EXPECT_EQ(Text(ValueOf(store().GetSubject(SchoolId("sch"), SubjectId("sub-g")))),
            Text(std::optional(guardian)));
  EXPECT_FALSE(ValueOf(store().GetSubject(SchoolId("sch"), SubjectId("nobody"))).has_value());

  minor.state = "closing";
  minor.guardian.reset();
  minor.sealed_profile = std::string(70000, '\0') + "big";
  minor.updated_at = At(99);
  WriteBatch upsert;
  upsert.subjects.push_back(minor);
  ASSERT_TRUE(CommitOk(std::move(upsert)));
  EXPECT_EQ(Text(ValueOf(store().GetSubject(SchoolId("sch"), SubjectId("sub-m")))),
            Text(std::optional(minor)));
}

TEST_P(StoreConformance, SubjectKeysRoundTripReplaceAndDestroy) {
  ASSERT_NO_FATAL_FAILURE(AddSchoolAndSubject("sch", "sub-1"));
  WriteBatch b;
  b.subject_keys = {MakeKey("sch", "sub-2"), MakeKey("sch", "sub-1"), MakeKey("sch-x", "sub-1")};
  ASSERT_TRUE(CommitOk(std::move(b)));
  EXPECT_EQ(Text(ValueOf(store().GetSubjectKey(SchoolId("sch"), SubjectId("sub-1")))),
            Text(std::optional(MakeKey("sch", "sub-1"))));

  SubjectKeyRow replaced = MakeKey("sch", "sub-1");
  replaced.kek_id = "kek-2";
  replaced.wrapped_key = "rewrapped";
  WriteBatch rekey;
  rekey.subject_keys.push_back(replaced);
  ASSERT_TRUE(CommitOk(std::move(rekey)));
  std::vector<SubjectKeyRow> seen;
  EXPECT_TRUE(IsOk(store().ForEachSubjectKey(SchoolId("sch"),
                                             [&](const SubjectKeyRow& k) { seen.push_back(k); })));
  EXPECT_EQ(Texts(seen), Texts(std::vector{replaced, MakeKey("sch", "sub-2")}));

  WriteBatch destroy;
  destroy.destroyed_keys.emplace_back(SchoolId("sch"), SubjectId("sub-1"));
  ASSERT_TRUE(CommitOk(std::move(destroy)));
  EXPECT_FALSE(ValueOf(store().GetSubjectKey(SchoolId("sch"), SubjectId("sub-1"))).has_value());
  EXPECT_TRUE(ValueOf(store().GetSubjectKey(SchoolId("sch-x"), SubjectId("sub-1"))).has_value());
  seen.clear();
  EXPECT_TRUE(IsOk(store().ForEachSubjectKey(SchoolId("sch"),
                                             [&](const SubjectKeyRow& k) { seen.push_back(k); })));
  EXPECT_EQ(Texts(seen), Texts(std::vector{MakeKey("sch", "sub-2")}));
}

TEST_P(StoreConformance, RecordsRoundTripUpsertAndDelete) {
  ASSERT_NO_FATAL_FAILURE(AddSchoolAndSubject("sch", "sub"));
  WriteBatch b;
  RecordRow empty_value = MakeRecord("sch", "rec-2", "sub", "phone");
  empty_value.sealed_value = "";
  b.records = {empty_value, MakeRecord("sch", "rec-1", "sub")};
  ASSERT_TRUE(CommitOk(std::move(b)));
  EXPECT_EQ(Texts(ValueOf(store().GetRecords(SchoolId("sch"), SubjectId("sub")))),
            Texts(std::vector{MakeRecord("sch", "rec-1", "sub"), empty_value}));

  RecordRow updated = MakeRecord("sch", "rec-1", "sub");
  updated.sealed_value = std::string("\x00\x00new", 5);
  updated.updated_at = At(500);
  WriteBatch upsert;
  upsert.records.push_back(updated);
  upsert.deleted_records.emplace_back(SchoolId("sch"), RecordId("rec-2"));
  upsert.deleted_records.emplace_back(SchoolId("sch"), RecordId("rec-none"));
  ASSERT_TRUE(CommitOk(std::move(upsert)));
  EXPECT_EQ(Texts(ValueOf(store().GetRecords(SchoolId("sch"), SubjectId("sub")))),
            Texts(std::vector{updated}));
}

// Paged reads of a subject's records (the access package and the export write them out page by
// page, R40, R54): the pages together are GetRecords, in its order, and no other subject's.
TEST_P(StoreConformance, RecordPagesTogetherAreTheSubjectsRecordsInOrder) {
  ASSERT_NO_FATAL_FAILURE(AddSchoolAndSubject("sch", "sub"));
  ASSERT_NO_FATAL_FAILURE(AddSchoolAndSubject("sch", "other"));
  WriteBatch b;
  for (int i = 0; i < 23; ++i) {
    b.records.push_back(MakeRecord("sch", "rec-" + std::to_string((i * 7) % 23 + 10), "sub"));
    b.records.push_back(MakeRecord("sch", "oth-" + std::to_string(i), "other"));
  }
  ASSERT_TRUE(CommitOk(std::move(b)));
  const std::vector<RecordRow> all = ValueOf(store().GetRecords(SchoolId("sch"), SubjectId("sub")));
  ASSERT_EQ(all.size(), 23u);
  for (size_t limit : {size_t{1}, size_t{5}, size_t{23}, size_t{100}}) {
    SCOPED_TRACE(limit);
    std::vector<RecordRow> paged;
    std::string after;
    for (int page = 0; page < 50; ++page) {
      std::vector<RecordRow> rows =
          ValueOf(store().GetRecordsPage(SchoolId("sch"), SubjectId("sub"), after, limit));
      ASSERT_LE(rows.size(), limit);
      if (rows.empty()) break;
      after = rows.back().id.value();
      for (auto& r : rows) paged.push_back(std::move(r));
    }
    EXPECT_EQ(Texts(paged), Texts(all));
  }
  EXPECT_TRUE(ValueOf(store().GetRecordsPage(SchoolId("sch"), SubjectId("sub"), "", 0)).empty());
  EXPECT_TRUE(
      ValueOf(store().GetRecordsPage(SchoolId("sch"), SubjectId("none"), "", 10)).empty());
}

TEST_P(StoreConformance, StoreRecordsAreThoseOfOneStore) {  // R92
  ASSERT_NO_FATAL_FAILURE(AddSchoolAndSubject("sch", "sub"));
  RecordRow crm = MakeRecord("sch", "sub-1", "sub");
  RecordRow mailing = MakeRecord("sch", "sub-2", "sub");
  mailing.store = "mailing";
  WriteBatch b;
  b.records = {crm, mailing};
  ASSERT_TRUE(CommitOk(std::move(b)));
  EXPECT_EQ(Texts(ValueOf(store().GetStoreRecords(SchoolId("sch"), SubjectId("sub"), "mailing"))),
            Texts(std::vector{mailing}));
  EXPECT_EQ(Texts(ValueOf(store().GetStoreRecords(SchoolId("sch"), SubjectId("sub"), "crm"))),
            Texts(std::vector{crm}));
  EXPECT_TRUE(ValueOf(store().GetStoreRecords(SchoolId("other"), SubjectId("sub"), "crm")).empty());
}

TEST_P(StoreConformance, ConsentsRoundTripInLedgerOrder) {
  ASSERT_NO_FATAL_FAILURE(AddSchoolAndSubject("sch", "sub"));
  ConsentRow late = MakeConsent("sch", "con-a", "sub", 30);
  ConsentRow early = MakeConsent("sch", "con-z", "sub", 10);
  early.grants.clear();
  early.guardian = SubjectId("sub-guardian");
  early.given_by = "guardian";
  early.expires_at = At(1000);
  ConsentRow tie_first = MakeConsent("sch", "con-y", "sub", 20);
  ConsentRow tie_second = MakeConsent("sch", "con-b", "sub", 20);
  tie_second.action = "withdraw";
  WriteBatch b;
  b.consents = {late, early, tie_first};
  ASSERT_TRUE(CommitOk(std::move(b)));
  WriteBatch b2;
  b2.consents = {tie_second};
  ASSERT_TRUE(CommitOk(std::move(b2)));

  const std::vector<std::string> want = Texts(std::vector{early, tie_first, tie_second, late});
  EXPECT_EQ(Texts(ValueOf(store().GetConsents(SchoolId("sch"), SubjectId("sub")))), want);
  std::vector<ConsentRow> seen;
  EXPECT_TRUE(IsOk(
      store().ForEachConsent(SchoolId("sch"), [&](const ConsentRow& c) { seen.push_back(c); })));
  EXPECT_EQ(Texts(seen), want);
}

// R19: the consent ledger is append-only. A batch that writes an existing consent id fails whole;
// batches around it (possibly in the same group) still commit.
TEST_P(StoreConformance, ConsentsAreAppendOnly) {
  ASSERT_NO_FATAL_FAILURE(AddSchoolAndSubject("sch", "sub"));
  const ConsentRow first = MakeConsent("sch", "con-1", "sub", 1);
  ConsentRow rewrite = first;
  rewrite.action = "withdraw";
  const ConsentRow second = MakeConsent("sch", "con-2", "sub", 2);

  WriteBatch a;
  a.consents.push_back(first);
  WriteBatch bad;
  bad.schools.push_back(MakeSchool("sch-from-bad-batch"));
  bad.audit.push_back(MakeAudit("sch", 1));
  bad.consents.push_back(rewrite);
  WriteBatch c;
  c.consents.push_back(second);

  Status sa, sbad, sc;
  Completion completion(3);
  store().Submit(std::move(a), completion.Callback(&sa));
  store().Submit(std::move(bad), completion.Callback(&sbad));
  store().Submit(std::move(c), completion.Callback(&sc));
  ASSERT_TRUE(completion.Wait());
  EXPECT_TRUE(IsOk(sa));
  EXPECT_TRUE(IsRuleFailure(sbad));
  EXPECT_TRUE(IsOk(sc));

  EXPECT_EQ(Texts(ValueOf(store().GetConsents(SchoolId("sch"), SubjectId("sub")))),
            Texts(std::vector{first, second}));
  EXPECT_FALSE(ValueOf(store().GetSchool(SchoolId("sch-from-bad-batch"))).has_value());
  EXPECT_FALSE(ValueOf(store().LastAudit(SchoolId("sch"))).has_value());
}

TEST_P(StoreConformance, LookupsUpsertAndFind) {
  ASSERT_NO_FATAL_FAILURE(AddSchoolAndSubject("sch", "sub-1"));
  WriteBatch b;
  b.subjects.push_back(MakeSubject("sch", "sub-2"));
  b.lookups = {LookupRow{SchoolId("sch"), "email", "tok-1", SubjectId("sub-1")},
               LookupRow{SchoolId("sch"), "phone", "tok-1", SubjectId("sub-2")}};
  ASSERT_TRUE(CommitOk(std::move(b)));
  EXPECT_EQ(ValueOf(store().FindByLookup(SchoolId("sch"), "email", "tok-1")),
            std::optional(SubjectId("sub-1")));
  EXPECT_EQ(ValueOf(store().FindByLookup(SchoolId("sch"), "phone", "tok-1")),
            std::optional(SubjectId("sub-2")));
  EXPECT_EQ(ValueOf(store().FindByLookup(SchoolId("sch"), "email", "tok-2")), std::nullopt);

  WriteBatch move;
  move.lookups.push_back(LookupRow{SchoolId("sch"), "email", "tok-1", SubjectId("sub-2")});
  ASSERT_TRUE(CommitOk(std::move(move)));
  EXPECT_EQ(ValueOf(store().FindByLookup(SchoolId("sch"), "email", "tok-1")),
            std::optional(SubjectId("sub-2")));

  // A changed address (R44): the old token goes and the new one comes in the same batch; a
  // deletion that names another subject leaves the token alone.
  WriteBatch change;
  change.deleted_lookups.push_back(LookupRow{SchoolId("sch"), "email", "tok-1", SubjectId("sub-2")});
  change.deleted_lookups.push_back(LookupRow{SchoolId("sch"), "phone", "tok-1", SubjectId("sub-1")});
  change.lookups.push_back(LookupRow{SchoolId("sch"), "email", "tok-9", SubjectId("sub-2")});
  ASSERT_TRUE(CommitOk(std::move(change)));
  EXPECT_EQ(ValueOf(store().FindByLookup(SchoolId("sch"), "email", "tok-1")), std::nullopt);
  EXPECT_EQ(ValueOf(store().FindByLookup(SchoolId("sch"), "email", "tok-9")),
            std::optional(SubjectId("sub-2")));
  EXPECT_EQ(ValueOf(store().FindByLookup(SchoolId("sch"), "phone", "tok-1")),
            std::optional(SubjectId("sub-2")));
}

// R88, B01: the audit log is appended in seq order and never rewritten.
TEST_P(StoreConformance, AuditIsAppendOnlyAndOrdered) {
  EXPECT_FALSE(ValueOf(store().LastAudit(SchoolId("sch"))).has_value());
  WriteBatch b;
  b.schools.push_back(MakeSchool("sch"));
  for (int64_t seq = 1; seq <= 5; ++seq) b.audit.push_back(MakeAudit("sch", seq, "pn-x"));
  ASSERT_TRUE(CommitOk(std::move(b)));
  EXPECT_EQ(Text(ValueOf(store().LastAudit(SchoolId("sch")))),
            Text(std::optional(MakeAudit("sch", 5, "pn-x"))));

  std::vector<int64_t> seqs;
  EXPECT_TRUE(IsOk(store().ForEachAudit(SchoolId("sch"), 2, [&](const AuditRow& a) {
    seqs.push_back(a.seq);
    EXPECT_EQ(Text(a), Text(MakeAudit("sch", a.seq, "pn-x")));
    return a.seq < 4;  // stop after 4
  })));
  EXPECT_EQ(seqs, (std::vector<int64_t>{2, 3, 4}));

  AuditRow rewrite = MakeAudit("sch", 3, "pn-x");
  rewrite.outcome = "deny";
  WriteBatch dup;
  dup.audit = {MakeAudit("sch", 6), rewrite};
  EXPECT_TRUE(IsRuleFailure(store().Commit(std::move(dup))));
  EXPECT_EQ(Present(store().LastAudit(SchoolId("sch"))).seq, 5);
  std::vector<AuditRow> all;
  EXPECT_TRUE(IsOk(store().ForEachAudit(SchoolId("sch"), 0, [&](const AuditRow& a) {
    all.push_back(a);
    return true;
  })));
  ASSERT_EQ(all.size(), 5u);
  EXPECT_EQ(all[2].outcome, "allow");
}

TEST_P(StoreConformance, ChainsAuditEntriesInCommitOrderWithoutGaps) {
  // A toy chainer: the hash names the previous hash and the entry's seq and action.
  store().SetAuditChainer([](const std::string& prev, const AuditRow& row) {
    return "H(" + prev + "|" + std::to_string(row.seq) + "|" + row.action + ")";
  });
  ASSERT_NO_FATAL_FAILURE(AddSchoolAndSubject("sch", "sub-1"));
  auto entry = [](const std::string& action) {
    AuditRow r = MakeAudit("sch", 0);
    r.seq = 0;
    r.prev_hash.clear();
    r.hash.clear();
    r.action = action;
    return r;
  };
  // Submitted together, so they land in one group; the middle batch breaks a rule.
  std::vector<std::future<Status>> results;
  std::vector<std::shared_ptr<std::promise<Status>>> promises;
  for (int i = 0; i < 3; ++i) {
    WriteBatch b;
    b.audit.push_back(entry("a" + std::to_string(i)));
    b.audit.push_back(entry("b" + std::to_string(i)));
    if (i == 1) {
      b.consents.push_back(MakeConsent("sch", "dup", "sub-1", 1));
      b.consents.push_back(MakeConsent("sch", "dup", "sub-1", 2));
    }
    auto p = std::make_shared<std::promise<Status>>();
    results.push_back(p->get_future());
    store().Submit(std::move(b), [p](Status s) { p->set_value(std::move(s)); });
  }
  EXPECT_TRUE(results[0].get().ok());
  EXPECT_FALSE(results[1].get().ok());
  EXPECT_TRUE(results[2].get().ok());

  std::vector<AuditRow> all;
  EXPECT_TRUE(IsOk(store().ForEachAudit(SchoolId("sch"), 0, [&](const AuditRow& a) {
    all.push_back(a);
    return true;
  })));
  ASSERT_EQ(all.size(), 4u);
  std::string prev;
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].seq, static_cast<int64_t>(i + 1));
    EXPECT_EQ(all[i].prev_hash, prev);
    EXPECT_EQ(all[i].hash,
              "H(" + prev + "|" + std::to_string(all[i].seq) + "|" + all[i].action + ")");
    prev = all[i].hash;
  }
  EXPECT_EQ(all[2].action, "a2");  // the failed batch's entries left no gap

  // Later commits continue the chain from the stored head.
  WriteBatch more;
  more.audit.push_back(entry("c"));
  ASSERT_TRUE(CommitOk(std::move(more)));
  EXPECT_EQ(Present(store().LastAudit(SchoolId("sch"))).seq, 5);
  EXPECT_EQ(Present(store().LastAudit(SchoolId("sch"))).prev_hash, prev);
}

TEST_P(StoreConformance, AuditForSubjectPagesBySeq) {
  WriteBatch b;
  b.schools.push_back(MakeSchool("sch"));
  for (int64_t seq = 1; seq <= 10; ++seq) {
    b.audit.push_back(MakeAudit("sch", seq, seq % 2 == 0 ? "pn-even" : "pn-odd"));
  }
  ASSERT_TRUE(CommitOk(std::move(b)));
  auto seqs_of = [](const std::vector<AuditRow>& rows) {
    std::vector<int64_t> out;
    for (const AuditRow& r : rows) out.push_back(r.seq);
    return out;
  };
  SchoolId sch("sch");
  EXPECT_EQ(seqs_of(ValueOf(store().AuditForSubject(sch, "pn-even", 0, 3))),
            (std::vector<int64_t>{2, 4, 6}));
  EXPECT_EQ(seqs_of(ValueOf(store().AuditForSubject(sch, "pn-even", 6, 3))),
            (std::vector<int64_t>{8, 10}));
  EXPECT_EQ(seqs_of(ValueOf(store().AuditForSubject(sch, "pn-even", 10, 3))),
            (std::vector<int64_t>{}));
  EXPECT_EQ(seqs_of(ValueOf(store().AuditForSubject(sch, "pn-odd", 0, 100))),
            (std::vector<int64_t>{1, 3, 5, 7, 9}));
  EXPECT_TRUE(ValueOf(store().AuditForSubject(sch, "pn-odd", 0, 0)).empty());
  EXPECT_TRUE(ValueOf(store().AuditForSubject(sch, "pn-none", 0, 10)).empty());
}

TEST_P(StoreConformance, CheckpointsAreAppendOnly) {
  WriteBatch b;
  b.schools.push_back(MakeSchool("sch"));
  b.checkpoints = {MakeCheckpoint("sch", 20), MakeCheckpoint("sch", 10)};
  ASSERT_TRUE(CommitOk(std::move(b)));
  EXPECT_EQ(Texts(ValueOf(store().ListCheckpoints(SchoolId("sch")))),
            Texts(std::vector{MakeCheckpoint("sch", 10), MakeCheckpoint("sch", 20)}));
  CheckpointRow rewrite = MakeCheckpoint("sch", 10);
  rewrite.signature = "forged";
  WriteBatch dup;
  dup.checkpoints.push_back(rewrite);
  EXPECT_TRUE(IsRuleFailure(store().Commit(std::move(dup))));
  EXPECT_EQ(ValueOf(store().ListCheckpoints(SchoolId("sch")))[0].signature, "sig");
}

// B01: the audit anchor (the newest signed checkpoint, kept in the key vault) only moves forward,
// per school, survives a reopen, and goes with a failed batch like every other part.
TEST_P(StoreConformance, AuditAnchorsMoveOnlyForwardPerSchool) {
  const SchoolId sch("sch"), other("other");
  EXPECT_FALSE(ValueOf(store().GetAuditAnchor(sch)).has_value());
  WriteBatch first;
  first.audit_anchors.push_back(MakeCheckpoint("sch", 5));
  ASSERT_TRUE(CommitOk(std::move(first)));
  EXPECT_EQ(Text(ValueOf(store().GetAuditAnchor(sch))), Text(std::optional(MakeCheckpoint("sch", 5))));
  EXPECT_FALSE(ValueOf(store().GetAuditAnchor(other)).has_value());

  // An earlier or equal seq leaves it as it is (a late writer cannot move it back).
  WriteBatch back;
  back.audit_anchors.push_back(MakeCheckpoint("sch", 3));
  CheckpointRow same = MakeCheckpoint("sch", 5);
  same.hash = "another";
  back.audit_anchors.push_back(same);
  ASSERT_TRUE(CommitOk(std::move(back)));
  EXPECT_EQ(Text(ValueOf(store().GetAuditAnchor(sch))), Text(std::optional(MakeCheckpoint("sch", 5))));

  // A later one replaces it; another school's is its own.
  WriteBatch forward;
  forward.audit_anchors = {MakeCheckpoint("sch", 9), MakeCheckpoint("other", 2)};
  ASSERT_TRUE(CommitOk(std::move(forward)));
  EXPECT_EQ(Text(ValueOf(store().GetAuditAnchor(sch))), Text(std::optional(MakeCheckpoint("sch", 9))));
  EXPECT_EQ(Text(ValueOf(store().GetAuditAnchor(other))),
            Text(std::optional(MakeCheckpoint("other", 2))));

  // A batch that fails takes its anchor with it.
  ASSERT_NO_FATAL_FAILURE(AddSchoolAndSubject("sch", "sub"));
  WriteBatch taken;
  taken.consents.push_back(MakeConsent("sch", "con", "sub", 1));
  ASSERT_TRUE(CommitOk(std::move(taken)));
  WriteBatch bad;
  bad.audit_anchors.push_back(MakeCheckpoint("sch", 12));
  bad.consents.push_back(MakeConsent("sch", "con", "sub", 2));  // breaks the ledger
  EXPECT_TRUE(IsRuleFailure(store().Commit(std::move(bad))));
  EXPECT_EQ(ValueOf(store().GetAuditAnchor(sch))->seq, 9);

  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_EQ(Text(ValueOf(store().GetAuditAnchor(sch))), Text(std::optional(MakeCheckpoint("sch", 9))));
}

TEST_P(StoreConformance, StaffRoundTripAndFindByEmail) {
  StaffRow a = MakeStaff("sch", "st-b", "b@school.example");
  StaffRow b = MakeStaff("sch", "st-a", "a@school.example");
  b.locked_until.reset();
  b.briefing_completed_at.reset();
  b.must_change_password = false;
  b.totp_enabled = false;
  b.sealed_totp_secret = "";
  b.failed_attempts = 0;
  WriteBatch batch;
  batch.schools.push_back(MakeSchool("sch"));
  batch.staff = {a, b};
  ASSERT_TRUE(CommitOk(std::move(batch)));
  EXPECT_EQ(Text(ValueOf(store().GetStaff(SchoolId("sch"), StaffId("st-b")))),
            Text(std::optional(a)));
  EXPECT_EQ(Text(ValueOf(store().FindStaffByEmail(SchoolId("sch"), "a@school.example"))),
            Text(std::optional(b)));
  EXPECT_FALSE(ValueOf(store().FindStaffByEmail(SchoolId("sch"), "c@school.example")).has_value());
  EXPECT_EQ(Texts(ValueOf(store().ListStaff(SchoolId("sch")))), Texts(std::vector{b, a}));

  a.left_at = At(900);
  a.failed_attempts = 5;
  WriteBatch upsert;
  upsert.staff.push_back(a);
  ASSERT_TRUE(CommitOk(std::move(upsert)));
  EXPECT_EQ(Text(ValueOf(store().GetStaff(SchoolId("sch"), StaffId("st-b")))),
            Text(std::optional(a)));
}

TEST_P(StoreConformance, SessionsUpsertAndDelete) {
  WriteBatch b;
  b.schools.push_back(MakeSchool("sch"));
  b.sessions = {MakeSession("th-1", "sch", "st-1"), MakeSession("th-2", "sch", "st-1")};
  ASSERT_TRUE(CommitOk(std::move(b)));
  EXPECT_EQ(Text(ValueOf(store().GetSession("th-1"))),
            Text(std::optional(MakeSession("th-1", "sch", "st-1"))));
  EXPECT_FALSE(ValueOf(store().GetSession("th-none")).has_value());

  SessionRow extended = MakeSession("th-1", "sch", "st-1");
  extended.mfa_passed = false;
  extended.expires_at = At(7200);
  WriteBatch upsert;
  upsert.sessions.push_back(extended);
  upsert.deleted_sessions = {"th-2", "th-none"};
  ASSERT_TRUE(CommitOk(std::move(upsert)));
  EXPECT_EQ(Text(ValueOf(store().GetSession("th-1"))), Text(std::optional(extended)));
  EXPECT_FALSE(ValueOf(store().GetSession("th-2")).has_value());
}

TEST_P(StoreConformance, ApiKeysRoundTripAndFindByHash) {
  ApiKeyRow k1 = MakeApiKey("sch", "ak-2", "hash-2");
  ApiKeyRow k2 = MakeApiKey("sch", "ak-1", "hash-1");
  k2.purposes.clear();
  k2.revoked_at = At(77);
  k2.created_by = "";  // made by the system
  WriteBatch b;
  b.schools.push_back(MakeSchool("sch"));
  b.api_keys = {k1, k2};
  ASSERT_TRUE(CommitOk(std::move(b)));
  EXPECT_EQ(Text(ValueOf(store().FindApiKey("hash-2"))), Text(std::optional(k1)));
  EXPECT_EQ(Text(ValueOf(store().FindApiKey("hash-1"))), Text(std::optional(k2)));
  EXPECT_FALSE(ValueOf(store().FindApiKey("hash-3")).has_value());
  EXPECT_EQ(Texts(ValueOf(store().ListApiKeys(SchoolId("sch")))), Texts(std::vector{k2, k1}));

  k1.revoked_at = At(88);
  k1.purposes = {"enrolment"};
  WriteBatch upsert;
  upsert.api_keys.push_back(k1);
  ASSERT_TRUE(CommitOk(std::move(upsert)));
  EXPECT_EQ(Text(ValueOf(store().FindApiKey("hash-2"))), Text(std::optional(k1)));
}

// Every row carries its school and every read is scoped by it: two schools using the same ids
// never see each other's rows.
TEST_P(StoreConformance, ReadsAreScopedBySchool) {
  auto fill = [](const std::string& school) {
    WriteBatch b;
    b.schools.push_back(MakeSchool(school, "School " + school));
    b.policy_versions.push_back(MakePolicyVersion(school, "v1", 1));
    b.subject_keys.push_back(MakeKey(school, "sub"));
    b.subjects.push_back(MakeSubject(school, "sub"));
    b.records.push_back(MakeRecord(school, "rec", "sub"));
    b.consents.push_back(MakeConsent(school, "con", "sub", 1));
    b.lookups.push_back(LookupRow{SchoolId(school), "email", "tok", SubjectId("sub")});
    b.audit.push_back(MakeAudit(school, 1, "pn-shared"));
    b.checkpoints.push_back(MakeCheckpoint(school, 1));
    b.staff.push_back(MakeStaff(school, "st", "staff@example.org"));
    b.sessions.push_back(MakeSession("th-" + school, school, "st"));
    b.api_keys.push_back(MakeApiKey(school, "ak", "hash-" + school));
    return b;
  };
  ASSERT_TRUE(CommitOk(fill("sch-a")));
  ASSERT_TRUE(CommitOk(fill("sch-b")));
  const std::string sub = "sub";
  for (const std::string school : {"sch-a", "sch-b"}) {
    SCOPED_TRACE(school);
    const SchoolId id(school);
    const WriteBatch want = fill(school);
    EXPECT_EQ(Text(ValueOf(store().GetSchool(id))), Text(std::optional(want.schools[0])));
    EXPECT_EQ(Texts(ValueOf(store().ListPolicyVersions(id))), Texts(want.policy_versions));
    EXPECT_EQ(Text(ValueOf(store().GetSubject(id, SubjectId(sub)))),
              Text(std::optional(want.subjects[0])));
    EXPECT_EQ(Text(ValueOf(store().GetSubjectKey(id, SubjectId(sub)))),
              Text(std::optional(want.subject_keys[0])));
    std::vector<SubjectKeyRow> keys;
    EXPECT_TRUE(
        IsOk(store().ForEachSubjectKey(id, [&](const SubjectKeyRow& k) { keys.push_back(k); })));
    EXPECT_EQ(Texts(keys), Texts(want.subject_keys));
    EXPECT_EQ(Texts(ValueOf(store().GetRecords(id, SubjectId(sub)))), Texts(want.records));
    EXPECT_EQ(Texts(ValueOf(store().GetConsents(id, SubjectId(sub)))), Texts(want.consents));
    std::vector<SubjectRow> subjects;
    EXPECT_TRUE(
        IsOk(store().ForEachSubject(id, [&](const SubjectRow& s) { subjects.push_back(s); })));
    EXPECT_EQ(Texts(subjects), Texts(want.subjects));
    std::vector<ConsentRow> consents;
    EXPECT_TRUE(
        IsOk(store().ForEachConsent(id, [&](const ConsentRow& c) { consents.push_back(c); })));
    EXPECT_EQ(Texts(consents), Texts(want.consents));
    EXPECT_EQ(Texts(ValueOf(store().ListSubjects(id, "", 10))), Texts(want.subjects));
    EXPECT_EQ(Text(ValueOf(store().LastAudit(id))), Text(std::optional(want.audit[0])));
    std::vector<AuditRow> audit;
    EXPECT_TRUE(IsOk(store().ForEachAudit(id, 0, [&](const AuditRow& a) {
      audit.push_back(a);
      return true;
    })));
    EXPECT_EQ(Texts(audit), Texts(want.audit));
    EXPECT_EQ(Texts(ValueOf(store().AuditForSubject(id, "pn-shared", 0, 10))), Texts(want.audit));
    EXPECT_EQ(Texts(ValueOf(store().ListCheckpoints(id))), Texts(want.checkpoints));
    EXPECT_EQ(Text(ValueOf(store().GetStaff(id, StaffId("st")))),
              Text(std::optional(want.staff[0])));
    EXPECT_EQ(Text(ValueOf(store().FindStaffByEmail(id, "staff@example.org"))),
              Text(std::optional(want.staff[0])));
    EXPECT_EQ(Texts(ValueOf(store().ListStaff(id))), Texts(want.staff));
    EXPECT_EQ(Texts(ValueOf(store().ListApiKeys(id))), Texts(want.api_keys));
    EXPECT_EQ(Present(store().GetSession("th-" + school)).school, id);
    EXPECT_EQ(Present(store().FindApiKey("hash-" + school)).school, id);
  }

  // A school with no rows sees nothing.
  const SchoolId empty("sch-c");
  EXPECT_FALSE(ValueOf(store().GetSchool(empty)).has_value());
  EXPECT_TRUE(ValueOf(store().ListPolicyVersions(empty)).empty());
  EXPECT_FALSE(ValueOf(store().GetSubject(empty, SubjectId(sub))).has_value());
  EXPECT_FALSE(ValueOf(store().GetSubjectKey(empty, SubjectId(sub))).has_value());
  EXPECT_TRUE(ValueOf(store().GetRecords(empty, SubjectId(sub))).empty());
  EXPECT_TRUE(ValueOf(store().GetConsents(empty, SubjectId(sub))).empty());
  EXPECT_FALSE(ValueOf(store().FindByLookup(empty, "email", "tok")).has_value());
  int rows = 0;
  EXPECT_TRUE(IsOk(store().ForEachSubject(empty, [&](const SubjectRow&) { ++rows; })));
  EXPECT_TRUE(IsOk(store().ForEachConsent(empty, [&](const ConsentRow&) { ++rows; })));
  EXPECT_TRUE(IsOk(store().ForEachSubjectKey(empty, [&](const SubjectKeyRow&) { ++rows; })));
  EXPECT_TRUE(IsOk(store().ForEachAudit(empty, 0, [&](const AuditRow&) {
    ++rows;
    return true;
  })));
  EXPECT_EQ(rows, 0);
  EXPECT_TRUE(ValueOf(store().ListSubjects(empty, "", 10)).empty());
  EXPECT_FALSE(ValueOf(store().LastAudit(empty)).has_value());
  EXPECT_TRUE(ValueOf(store().AuditForSubject(empty, "pn-shared", 0, 10)).empty());
  EXPECT_TRUE(ValueOf(store().ListCheckpoints(empty)).empty());
  EXPECT_FALSE(ValueOf(store().GetStaff(empty, StaffId("st"))).has_value());
  EXPECT_FALSE(ValueOf(store().FindStaffByEmail(empty, "staff@example.org")).has_value());
  EXPECT_TRUE(ValueOf(store().ListStaff(empty)).empty());
  EXPECT_TRUE(ValueOf(store().ListApiKeys(empty)).empty());
}

// Erasure removes every row of the subject (records, consents, lookups, the subject, and with
// destroyed_keys its key) but keeps the audit log, which names subjects by pseudonym only.
TEST_P(StoreConformance, SubjectSessionsUpsertDeleteAndDieWithTheSubject) {
  AddSchoolAndSubject("sch", "sub-1");
  auto make = [](const std::string& hash, const std::string& state) {
    return SubjectSessionRow{hash,  SchoolId("sch"), SubjectId("sub-1"), state, "code-" + hash, 0,
                             "csrf", At(10),         At(3600)};
  };
  auto text = [](const std::optional<SubjectSessionRow>& r) {
    if (!r) return std::string("none");
    return r->token_hash + "|" + r->school.value() + "|" + r->subject.value() + "|" + r->state +
           "|" + r->code_hash + "|" + std::to_string(r->attempts) + "|" + r->csrf_token + "|" +
           std::to_string(r->created_at.time_since_epoch().count()) + "|" +
           std::to_string(r->expires_at.time_since_epoch().count());
  };
  WriteBatch b;
  b.subject_sessions = {make("p-1", "pending"), make("a-1", "active"), make("a-2", "active")};
  ASSERT_TRUE(CommitOk(std::move(b)));
  EXPECT_EQ(text(ValueOf(store().GetSubjectSession("p-1"))), text(make("p-1", "pending")));
  SubjectSessionRow tried = make("p-1", "pending");
  tried.attempts = 2;
  WriteBatch upsert;
  upsert.subject_sessions.push_back(tried);
  upsert.deleted_subject_sessions = {"a-2", "none"};
  ASSERT_TRUE(CommitOk(std::move(upsert)));
  EXPECT_EQ(text(ValueOf(store().GetSubjectSession("p-1"))), text(tried));
  EXPECT_FALSE(ValueOf(store().GetSubjectSession("a-2")).has_value());
  WriteBatch erase;
  erase.erased_subjects.push_back({SchoolId("sch"), SubjectId("sub-1")});
  ASSERT_TRUE(CommitOk(std::move(erase)));
  EXPECT_FALSE(ValueOf(store().GetSubjectSession("a-1")).has_value());
  EXPECT_FALSE(ValueOf(store().GetSubjectSession("p-1")).has_value());
}

TEST_P(StoreConformance, ErasureRemovesEverySubjectRowButKeepsAudit) {
  WriteBatch b;
  b.schools.push_back(MakeSchool("sch"));
  for (const std::string sub : {"sub-gone", "sub-kept"}) {
    b.subject_keys.push_back(MakeKey("sch", sub));
    b.subjects.push_back(MakeSubject("sch", sub));
    b.records.push_back(MakeRecord("sch", "rec-1-" + sub, sub));
    b.records.push_back(MakeRecord("sch", "rec-2-" + sub, sub, "phone"));
    b.consents.push_back(MakeConsent("sch", "con-1-" + sub, sub, 1));
    b.lookups.push_back(LookupRow{SchoolId("sch"), "email", "tok-" + sub, SubjectId(sub)});
  }
  b.audit = {MakeAudit("sch", 1, "pn-sch-sub-gone"), MakeAudit("sch", 2, "pn-sch-sub-kept")};
  ASSERT_TRUE(CommitOk(std::move(b)));
  WriteBatch withdraw;
  ConsentRow w = MakeConsent("sch", "con-2-sub-gone", "sub-gone", 2);
  w.action = "withdraw";
  withdraw.consents.push_back(w);
  ASSERT_TRUE(CommitOk(std::move(withdraw)));

  WriteBatch erase;
  erase.erased_subjects.emplace_back(SchoolId("sch"), SubjectId("sub-gone"));
  erase.destroyed_keys.emplace_back(SchoolId("sch"), SubjectId("sub-gone"));
  erase.audit.push_back(MakeAudit("sch", 3, "pn-sch-sub-gone"));
  ASSERT_TRUE(CommitOk(std::move(erase)));

  const SchoolId sch("sch");
  const SubjectId gone("sub-gone"), kept("sub-kept");
  EXPECT_FALSE(ValueOf(store().GetSubject(sch, gone)).has_value());
  EXPECT_FALSE(ValueOf(store().GetSubjectKey(sch, gone)).has_value());
  EXPECT_TRUE(ValueOf(store().GetRecords(sch, gone)).empty());
  EXPECT_TRUE(ValueOf(store().GetConsents(sch, gone)).empty());
  EXPECT_FALSE(ValueOf(store().FindByLookup(sch, "email", "tok-sub-gone")).has_value());
  std::vector<std::string> subjects, consents, keys;
  EXPECT_TRUE(IsOk(
      store().ForEachSubject(sch, [&](const SubjectRow& s) { subjects.push_back(s.id.value()); })));
  EXPECT_TRUE(IsOk(
      store().ForEachConsent(sch, [&](const ConsentRow& c) { consents.push_back(c.id.value()); })));
  EXPECT_TRUE(IsOk(store().ForEachSubjectKey(
      sch, [&](const SubjectKeyRow& k) { keys.push_back(k.subject.value()); })));
  EXPECT_EQ(subjects, std::vector<std::string>{"sub-kept"});
  EXPECT_EQ(consents, std::vector<std::string>{"con-1-sub-kept"});
  EXPECT_EQ(keys, std::vector<std::string>{"sub-kept"});
  EXPECT_EQ(ValueOf(store().AuditForSubject(sch, "pn-sch-sub-gone", 0, 10)).size(), 2u);

  // The other subject is untouched.
  EXPECT_TRUE(ValueOf(store().GetSubject(sch, kept)).has_value());
  EXPECT_TRUE(ValueOf(store().GetSubjectKey(sch, kept)).has_value());
  EXPECT_EQ(ValueOf(store().GetRecords(sch, kept)).size(), 2u);
  EXPECT_EQ(ValueOf(store().FindByLookup(sch, "email", "tok-sub-kept")),
            std::optional(SubjectId("sub-kept")));

  // Erasing again, or erasing a subject that never existed, succeeds and changes nothing.
  WriteBatch again;
  again.erased_subjects.emplace_back(sch, gone);
  again.erased_subjects.emplace_back(sch, SubjectId("sub-never"));
  again.destroyed_keys.emplace_back(sch, gone);
  EXPECT_TRUE(CommitOk(std::move(again)));
  EXPECT_EQ(ValueOf(store().GetRecords(sch, kept)).size(), 2u);
}

// A batch is atomic: when one row breaks a rule, none of its rows (data or key vault) remain.
TEST_P(StoreConformance, FailedBatchLeavesNoTrace) {
  ASSERT_NO_FATAL_FAILURE(AddSchoolAndSubject("sch", "sub-1"));
  WriteBatch first;
  first.consents.push_back(MakeConsent("sch", "con-taken", "sub-1", 1));
  ASSERT_TRUE(CommitOk(std::move(first)));

  WriteBatch bad;
  bad.subject_keys.push_back(MakeKey("sch", "sub-2"));
  bad.subjects.push_back(MakeSubject("sch", "sub-2"));
  bad.records.push_back(MakeRecord("sch", "rec-2", "sub-2"));
  bad.lookups.push_back(LookupRow{SchoolId("sch"), "email", "tok-2", SubjectId("sub-2")});
  bad.consents.push_back(MakeConsent("sch", "con-new", "sub-2", 2));
  bad.consents.push_back(MakeConsent("sch", "con-taken", "sub-2", 3));  // breaks the ledger
  EXPECT_TRUE(IsRuleFailure(store().Commit(std::move(bad))));

  const SchoolId sch("sch");
  EXPECT_FALSE(ValueOf(store().GetSubject(sch, SubjectId("sub-2"))).has_value());
  EXPECT_FALSE(ValueOf(store().GetSubjectKey(sch, SubjectId("sub-2"))).has_value());
  EXPECT_TRUE(ValueOf(store().GetRecords(sch, SubjectId("sub-2"))).empty());
  EXPECT_TRUE(ValueOf(store().GetConsents(sch, SubjectId("sub-2"))).empty());
  EXPECT_FALSE(ValueOf(store().FindByLookup(sch, "email", "tok-2")).has_value());
  EXPECT_EQ(ValueOf(store().GetConsents(sch, SubjectId("sub-1"))).size(), 1u);

  // The store goes on working after a rejected batch.
  WriteBatch good;
  good.subjects.push_back(MakeSubject("sch", "sub-3"));
  EXPECT_TRUE(CommitOk(std::move(good)));
}

TEST_P(StoreConformance, ListSubjectsPagesInIdOrder) {
  WriteBatch b;
  b.schools = {MakeSchool("sch"), MakeSchool("sch-other")};
  std::vector<std::string> ids;
  for (int i = 24; i >= 0; --i) {
    std::string id = "sub-" + std::string(i < 10 ? "0" : "") + std::to_string(i);
    b.subjects.push_back(MakeSubject("sch", id));
    ids.insert(ids.begin(), id);
  }
  b.subjects.push_back(MakeSubject("sch-other", "sub-05x"));
  ASSERT_TRUE(CommitOk(std::move(b)));

  std::vector<std::string> paged;
  std::string after;
  int pages = 0;
  for (;;) {
    std::vector<SubjectRow> page = ValueOf(store().ListSubjects(SchoolId("sch"), after, 10));
    if (page.empty()) break;
    ++pages;
    EXPECT_LE(page.size(), 10u);
    for (const SubjectRow& s : page) paged.push_back(s.id.value());
    after = page.back().id.value();
    ASSERT_LT(pages, 10);
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(paged, ids);
  EXPECT_TRUE(ValueOf(store().ListSubjects(SchoolId("sch"), "", 0)).empty());
  EXPECT_EQ(ValueOf(store().ListSubjects(SchoolId("sch"), "sub-23", 10)).size(), 1u);

  std::vector<std::string> streamed;
  EXPECT_TRUE(IsOk(store().ForEachSubject(
      SchoolId("sch"), [&](const SubjectRow& s) { streamed.push_back(s.id.value()); })));
  EXPECT_EQ(streamed, ids);
}

// Batches apply in submission order and their callbacks run in that order.
TEST_P(StoreConformance, BatchesApplyInSubmissionOrder) {
  constexpr int kBatches = 50;
  std::vector<int> order;
  std::mutex mu;
  Completion completion(kBatches);
  for (int i = 0; i < kBatches; ++i) {
    WriteBatch b;
    b.schools.push_back(MakeSchool("sch", "name-" + std::to_string(i)));
    auto done = completion.Callback();
    store().Submit(std::move(b), [&, i, done](Status s) {
      {
        std::lock_guard<std::mutex> lock(mu);
        order.push_back(i);
      }
      done(std::move(s));
    });
  }
  ASSERT_TRUE(completion.Wait());
  EXPECT_EQ(completion.failures(), 0u);
  std::vector<int> want(kBatches);
  for (int i = 0; i < kBatches; ++i) want[i] = i;
  EXPECT_EQ(order, want);
  EXPECT_EQ(Present(store().GetSchool(SchoolId("sch"))).name,
            "name-" + std::to_string(kBatches - 1));
}

TEST_P(StoreConformance, EmptyBatchSucceeds) { EXPECT_TRUE(CommitOk(WriteBatch{})); }

TEST_P(StoreConformance, DataSurvivesReopen) {
  ASSERT_NO_FATAL_FAILURE(AddSchoolAndSubject("sch", "sub"));
  WriteBatch b;
  b.subject_keys.push_back(MakeKey("sch", "sub"));
  b.records.push_back(MakeRecord("sch", "rec", "sub"));
  b.audit.push_back(MakeAudit("sch", 1));
  ASSERT_TRUE(CommitOk(std::move(b)));
  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_EQ(Text(ValueOf(store().GetSubject(SchoolId("sch"), SubjectId("sub")))),
            Text(std::optional(MakeSubject("sch", "sub"))));
  EXPECT_EQ(Text(ValueOf(store().GetSubjectKey(SchoolId("sch"), SubjectId("sub")))),
            Text(std::optional(MakeKey("sch", "sub"))));
  EXPECT_EQ(ValueOf(store().GetRecords(SchoolId("sch"), SubjectId("sub"))).size(), 1u);
  EXPECT_EQ(Present(store().LastAudit(SchoolId("sch"))).seq, 1);
}

// A ForEach callback may read the store again (e.g. a subject's consents while streaming subjects).
TEST_P(StoreConformance, ForEachCallbackMayReadAgain) {
  WriteBatch b;
  b.schools.push_back(MakeSchool("sch"));
  for (int i = 0; i < 12; ++i) {
    std::string sub = "sub-" + std::to_string(10 + i);
    b.subjects.push_back(MakeSubject("sch", sub));
    b.consents.push_back(MakeConsent("sch", "con-" + sub, sub, i));
  }
  ASSERT_TRUE(CommitOk(std::move(b)));
  int consents = 0;
  EXPECT_TRUE(IsOk(store().ForEachSubject(SchoolId("sch"), [&](const SubjectRow& s) {
    EXPECT_TRUE(IsOk(store().ForEachConsent(SchoolId("sch"), [&](const ConsentRow& c) {
      if (c.subject == s.id)
        consents += static_cast<int>(ValueOf(store().GetConsents(SchoolId("sch"), s.id)).size());
    })));
  })));
  EXPECT_EQ(consents, 12);
}

// Many writers at once: every callback succeeds and every row is present.
TEST_P(StoreConformance, ConcurrentWritersAndReaders) { WriteConcurrently(store(), 8, 200); }

// ---- Cookie consents ----------------------------------------------------------------------------

inline CookieConsentRow MakeCookieConsent(const std::string& school, const std::string& id) {
  CookieConsentRow r;
  r.school = SchoolId(school);
  r.id = id;
  r.choice = "custom";
  r.accepted = {"necessary", "statistics"};
  r.rejected = {"marketing"};
  r.policy_version = "v1";
  r.gpc = true;
  r.lang = "uk";
  r.ip = "203.0.113.0/24";
  r.user_agent_sha256 = std::string(64, 'b');
  r.at = At(5);
  r.expires_at = At(5 + 31 * 86400);
  return r;
}

// R99: a visitor's cookie choice is kept as proof, scoped by school, and never rewritten.
TEST_P(StoreConformance, CookieConsentsRoundTripAndAreAppendOnly) {
  WriteBatch b;
  b.schools = {MakeSchool("sch"), MakeSchool("other")};
  b.cookie_consents = {MakeCookieConsent("sch", "cc-1")};
  ASSERT_TRUE(CommitOk(std::move(b)));

  std::optional<CookieConsentRow> got = ValueOf(store().GetCookieConsent(SchoolId("sch"), "cc-1"));
  ASSERT_TRUE(got.has_value());
  const CookieConsentRow want = MakeCookieConsent("sch", "cc-1");
  EXPECT_EQ(got->choice, want.choice);
  EXPECT_EQ(got->accepted, want.accepted);
  EXPECT_EQ(got->rejected, want.rejected);
  EXPECT_EQ(got->policy_version, want.policy_version);
  EXPECT_TRUE(got->gpc);
  EXPECT_EQ(got->lang, want.lang);
  EXPECT_EQ(got->ip, want.ip);
  EXPECT_EQ(got->user_agent_sha256, want.user_agent_sha256);
  EXPECT_EQ(got->at, want.at);
  EXPECT_EQ(got->expires_at, want.expires_at);
  EXPECT_FALSE(ValueOf(store().GetCookieConsent(SchoolId("other"), "cc-1")).has_value());
  EXPECT_FALSE(ValueOf(store().GetCookieConsent(SchoolId("sch"), "cc-2")).has_value());

  CookieConsentRow rewrite = want;
  rewrite.choice = "reject_all";
  WriteBatch again;
  again.cookie_consents = {rewrite};
  Status st = store().Commit(std::move(again));
  EXPECT_TRUE(IsRuleFailure(st));
  EXPECT_EQ(ValueOf(store().GetCookieConsent(SchoolId("sch"), "cc-1"))->choice, "custom");
}

// ---- Visit statistics (R101) -----------------------------------------------------------------

inline VisitRow MakeVisit(const std::string& school, const std::string& id, const std::string& day,
                          int hour) {
  VisitRow r;
  r.school = SchoolId(school);
  r.id = id;
  r.day = day;
  r.hour = hour;
  r.network = "203.0.113.0/24";
  r.browser = "firefox";
  r.os = "linux";
  r.page = "/courses";
  r.referrer_domain = "search.example";
  return r;
}

// R101: visits come back by school and day range, in day and hour order, and are never rewritten.
TEST_P(StoreConformance, R101_VisitsRoundTripByDayRangeAndAreAppendOnly) {
  WriteBatch b;
  b.schools = {MakeSchool("sch"), MakeSchool("other")};
  b.visits = {MakeVisit("sch", "v3", "2025-03-04", 1), MakeVisit("sch", "v1", "2025-03-02", 9),
              MakeVisit("sch", "v2", "2025-03-03", 23), MakeVisit("other", "v4", "2025-03-03", 5)};
  ASSERT_TRUE(CommitOk(std::move(b)));
  std::vector<VisitRow> got;
  ASSERT_TRUE(store()
                  .ForEachVisit(SchoolId("sch"), "2025-03-02", "2025-03-03",
                                [&](const VisitRow& r) { got.push_back(r); })
                  .ok());
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].id, "v1");
  EXPECT_EQ(got[0].hour, 9);
  EXPECT_EQ(got[0].network, "203.0.113.0/24");
  EXPECT_EQ(got[0].browser, "firefox");
  EXPECT_EQ(got[0].os, "linux");
  EXPECT_EQ(got[0].page, "/courses");
  EXPECT_EQ(got[0].referrer_domain, "search.example");
  EXPECT_EQ(got[1].id, "v2");
  EXPECT_EQ(got[1].day, "2025-03-03");

  WriteBatch again;
  VisitRow rewrite = MakeVisit("sch", "v1", "2025-03-02", 10);
  again.visits = {rewrite};
  EXPECT_TRUE(IsRuleFailure(store().Commit(std::move(again))));
}

// ---- Disclosures (R76) ----

inline DisclosureRow MakeDisclosure(const std::string& school, const std::string& id,
                                    const std::string& subject, const std::string& recipient,
                                    int64_t at) {
  DisclosureRow r;
  r.school = SchoolId(school);
  r.id = id;
  r.subject = SubjectId(subject);
  r.recipient = recipient;
  r.at = At(at);
  r.fields = {"email", "phone"};
  r.categories = {"contact"};
  r.purpose = "contract_performance";
  r.basis = "contract";
  r.safeguard = "scc";
  r.country = "US";
  r.actor = "staff:st-1";
  r.request = "req-" + id;
  r.detail = R"({"note":"x"})";
  r.recorded_at = At(at + 5);
  return r;
}

inline std::vector<std::string> DisclosureIds(const std::vector<DisclosureRow>& rows) {
  std::vector<std::string> ids;
  for (const auto& r : rows) ids.push_back(r.id);
  return ids;
}

// Every attribute round-trips; a subject's log comes newest first, filtered by recipient and
// time, paged by the keyset cursor; other subjects and schools stay apart.
TEST_P(StoreConformance, R76_DisclosuresRoundTripPageAndFilter) {
  WriteBatch b;
  b.schools = {MakeSchool("sch"), MakeSchool("other")};
  for (const std::string sub : {"sub-1", "sub-2"}) {
    b.subjects.push_back(MakeSubject("sch", sub));
  }
  b.subjects.push_back(MakeSubject("other", "sub-1"));
  b.disclosures = {MakeDisclosure("sch", "d-1", "sub-1", "processors", 10),
                   MakeDisclosure("sch", "d-2", "sub-1", "partners", 20),
                   MakeDisclosure("sch", "d-3", "sub-1", "processors", 20),
                   MakeDisclosure("sch", "d-4", "sub-2", "processors", 30),
                   MakeDisclosure("other", "d-1", "sub-1", "processors", 40)};
  ASSERT_TRUE(CommitOk(std::move(b)));
  const SchoolId sch("sch");
  DisclosureFilter f;
  f.subject = "sub-1";
  std::vector<DisclosureRow> rows = ValueOf(store().ListDisclosures(sch, f));
  EXPECT_EQ(DisclosureIds(rows), (std::vector<std::string>{"d-3", "d-2", "d-1"}));
  ASSERT_EQ(rows.size(), 3u);
  const DisclosureRow want = MakeDisclosure("sch", "d-1", "sub-1", "processors", 10);
  const DisclosureRow& got = rows[2];
  EXPECT_EQ(got.school, want.school);
  EXPECT_EQ(got.subject, want.subject);
  EXPECT_EQ(got.recipient, want.recipient);
  EXPECT_EQ(got.at, want.at);
  EXPECT_EQ(got.fields, want.fields);
  EXPECT_EQ(got.categories, want.categories);
  EXPECT_EQ(got.purpose, want.purpose);
  EXPECT_EQ(got.basis, want.basis);
  EXPECT_EQ(got.safeguard, want.safeguard);
  EXPECT_EQ(got.country, want.country);
  EXPECT_EQ(got.actor, want.actor);
  EXPECT_EQ(got.request, want.request);
  EXPECT_EQ(got.detail, want.detail);
  EXPECT_EQ(got.recorded_at, want.recorded_at);

  // Pages of two: the cursor is the last row's (at, id).
  f.limit = 2;
  rows = ValueOf(store().ListDisclosures(sch, f));
  EXPECT_EQ(DisclosureIds(rows), (std::vector<std::string>{"d-3", "d-2"}));
  f.before_at = rows.back().at;
  f.before_id = rows.back().id;
  EXPECT_EQ(DisclosureIds(ValueOf(store().ListDisclosures(sch, f))),
            std::vector<std::string>{"d-1"});

  DisclosureFilter by_recipient;
  by_recipient.subject = "sub-1";
  by_recipient.recipient = "processors";
  EXPECT_EQ(DisclosureIds(ValueOf(store().ListDisclosures(sch, by_recipient))),
            (std::vector<std::string>{"d-3", "d-1"}));
  DisclosureFilter since;
  since.subject = "sub-1";
  since.since = At(20);
  EXPECT_EQ(DisclosureIds(ValueOf(store().ListDisclosures(sch, since))),
            (std::vector<std::string>{"d-3", "d-2"}));
  DisclosureFilter all;
  EXPECT_EQ(DisclosureIds(ValueOf(store().ListDisclosures(sch, all))),
            (std::vector<std::string>{"d-4", "d-3", "d-2", "d-1"}));
  DisclosureFilter other;
  other.subject = "sub-1";
  EXPECT_EQ(DisclosureIds(ValueOf(store().ListDisclosures(SchoolId("other"), other))),
            std::vector<std::string>{"d-1"});
  DisclosureFilter none;
  none.limit = 0;
  EXPECT_TRUE(ValueOf(store().ListDisclosures(sch, none)).empty());
}

// The log is append-only: a disclosure id cannot be written twice. Erasure takes the subject's
// rows with it and leaves other subjects' rows.
TEST_P(StoreConformance, R76_DisclosuresAreAppendOnlyAndGoWithTheSubject) {
  WriteBatch b;
  b.schools = {MakeSchool("sch")};
  b.subjects = {MakeSubject("sch", "sub-1"), MakeSubject("sch", "sub-2")};
  b.disclosures = {MakeDisclosure("sch", "d-1", "sub-1", "processors", 10),
                   MakeDisclosure("sch", "d-2", "sub-2", "processors", 20)};
  ASSERT_TRUE(CommitOk(std::move(b)));
  DisclosureRow rewrite = MakeDisclosure("sch", "d-1", "sub-1", "partners", 10);
  WriteBatch again;
  again.disclosures = {rewrite};
  EXPECT_TRUE(IsRuleFailure(store().Commit(std::move(again))));
  DisclosureFilter f;
  f.subject = "sub-1";
  ASSERT_EQ(ValueOf(store().ListDisclosures(SchoolId("sch"), f)).size(), 1u);
  EXPECT_EQ(ValueOf(store().ListDisclosures(SchoolId("sch"), f))[0].recipient, "processors");

  WriteBatch erase;
  erase.erased_subjects.emplace_back(SchoolId("sch"), SubjectId("sub-1"));
  ASSERT_TRUE(CommitOk(std::move(erase)));
  EXPECT_TRUE(ValueOf(store().ListDisclosures(SchoolId("sch"), f)).empty());
  EXPECT_EQ(DisclosureIds(ValueOf(store().ListDisclosures(SchoolId("sch"), DisclosureFilter{}))),
            std::vector<std::string>{"d-2"});
}

TEST_P(StoreConformance, R48_RecipientContactsUpsertAndList) {
  WriteBatch b;
  b.schools = {MakeSchool("sch"), MakeSchool("other")};
  b.recipient_contacts = {RecipientContactRow{SchoolId("sch"), "processors", "sealed-1", At(1), "staff:a"},
                          RecipientContactRow{SchoolId("sch"), "partners", "sealed-2", At(2), "staff:a"}};
  ASSERT_TRUE(CommitOk(std::move(b)));
  WriteBatch update;
  update.recipient_contacts = {
      RecipientContactRow{SchoolId("sch"), "processors", "sealed-3", At(3), "staff:b"}};
  ASSERT_TRUE(CommitOk(std::move(update)));
  std::optional<RecipientContactRow> got =
      ValueOf(store().GetRecipientContact(SchoolId("sch"), "processors"));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->sealed, "sealed-3");
  EXPECT_EQ(got->updated_at, At(3));
  EXPECT_EQ(got->updated_by, "staff:b");
  EXPECT_FALSE(ValueOf(store().GetRecipientContact(SchoolId("other"), "processors")).has_value());
  std::vector<std::string> ids;
  for (const auto& r : ValueOf(store().ListRecipientContacts(SchoolId("sch")))) {
    ids.push_back(r.recipient);
  }
  EXPECT_EQ(ids, (std::vector<std::string>{"partners", "processors"}));
}

// The due list pages by (due_at, request_id) with a keyset cursor (R68): many requests share a due
// date, so a page may end inside a run of equal dates and the next page must start right after
// the last id, neither repeating nor skipping one, whatever else the filter asks.
TEST_P(StoreConformance, RequestsPageByDueDateThenIdThroughRunsOfEqualDueDates) {
  std::vector<RequestRow> all;
  WriteBatch b;
  b.schools = {MakeSchool("sch"), MakeSchool("other")};
  for (int i = 0; i < 61; ++i) {
    RequestRow r;
    r.school = SchoolId(i % 10 == 9 ? "other" : "sch");
    // Ids out of due order; due dates in four runs of equal instants.
    r.id = "req-" + std::to_string((i * 37) % 61 + 100);
    r.type = i % 3 == 0 ? "erasure" : "access";
    r.state = "received";
    r.subject = i % 2 == 0 ? "subj-a" : "subj-b";
    r.open = i % 7 != 3;
    r.overdue = r.open && i % 4 == 1;
    r.received_at = At(1000);
    r.due_at = At(5000 + 86400 * (i % 4));
    r.updated_at = At(1000);
    r.body = "{}";
    all.push_back(r);
    b.requests.push_back(r);
  }
  ASSERT_TRUE(CommitOk(std::move(b)));

  struct Case {
    bool open_only, overdue_only;
    std::string type;
    size_t limit;
  };
  for (const Case& c : {Case{true, false, "", 7}, Case{false, false, "", 5},
                        Case{true, true, "", 2}, Case{true, false, "access", 4},
                        Case{false, false, "erasure", 6}, Case{true, false, "", 1}}) {
    SCOPED_TRACE(std::string("open_only=") + (c.open_only ? "1" : "0") +
                 " overdue_only=" + (c.overdue_only ? "1" : "0") + " type=" + c.type +
                 " limit=" + std::to_string(c.limit));
    std::vector<std::string> want;
    {
      std::vector<const RequestRow*> kept;
      for (const RequestRow& r : all) {
        if (r.school.value() != "sch") continue;
        if (c.open_only && !r.open) continue;
        if (c.overdue_only && !r.overdue) continue;
        if (!c.type.empty() && r.type != c.type) continue;
        kept.push_back(&r);
      }
      std::sort(kept.begin(), kept.end(), [](const RequestRow* x, const RequestRow* y) {
        return x->due_at != y->due_at ? x->due_at < y->due_at : x->id < y->id;
      });
      for (const RequestRow* r : kept) want.push_back(r->id);
    }
    ASSERT_GT(want.size(), c.limit);

    RequestFilter f;
    f.open_only = c.open_only;
    f.overdue_only = c.overdue_only;
    f.type = c.type;
    f.limit = c.limit;
    std::vector<std::string> got;
    for (int page = 0; page < 100; ++page) {
      std::vector<RequestRow> rows = ValueOf(store().ListRequests(SchoolId("sch"), f));
      ASSERT_LE(rows.size(), c.limit);
      for (const RequestRow& r : rows) got.push_back(r.id);
      if (rows.size() < c.limit) break;
      f.after_due = rows.back().due_at;
      f.after_id = rows.back().id;
    }
    EXPECT_EQ(got, want);
  }

  // A cursor whose id is not (or no longer) in the list still resumes at the right place, and a
  // cursor with an empty id resumes at the first request of its due date.
  RequestFilter f;
  f.limit = 100;
  f.after_due = At(5000 + 86400);
  f.after_id = "req-1305";  // no such id: it sorts between "req-130" and "req-131"
  std::vector<std::string> got, want;
  for (const RequestRow& r : ValueOf(store().ListRequests(SchoolId("sch"), f))) got.push_back(r.id);
  RequestFilter from_date;
  from_date.limit = 100;
  from_date.after_due = At(5000 + 86400);
  std::vector<RequestRow> from = ValueOf(store().ListRequests(SchoolId("sch"), from_date));
  ASSERT_FALSE(from.empty());
  EXPECT_EQ(from.front().due_at, At(5000 + 86400));
  for (const RequestRow& r : from)
    if (r.due_at > At(5000 + 86400) || r.id > "req-1305") want.push_back(r.id);
  EXPECT_EQ(got, want);
  EXPECT_LT(got.size(), from.size());
}


// ---- Legal holds (R50) ----

inline LegalHoldRow MakeHold(const std::string& school, const std::string& id,
                             const std::string& subject, const std::string& until,
                             int64_t created) {
  LegalHoldRow r;
  r.school = SchoolId(school);
  r.id = id;
  r.subject = SubjectId(subject);
  r.fields = {"invoice_details", "agreement_end_date"};
  r.categories = {"financial"};
  r.reason = "tax law";
  r.basis = "ua_tax_code";
  r.until = until;
  r.state = "active";
  r.created_at = At(created);
  r.created_by = "staff:st-1";
  return r;
}

inline std::vector<std::string> HoldIds(const std::vector<LegalHoldRow>& rows) {
  std::vector<std::string> ids;
  for (const auto& r : rows) ids.push_back(r.id);
  return ids;
}

// Every attribute round-trips; a subject's holds come oldest first; a change is an upsert of the
// row; other subjects and schools stay apart.
TEST_P(StoreConformance, R50_LegalHoldsRoundTripAndUpsert) {
  WriteBatch b;
  b.schools = {MakeSchool("sch"), MakeSchool("other")};
  b.subjects = {MakeSubject("sch", "sub-1"), MakeSubject("sch", "sub-2"),
                MakeSubject("other", "sub-1")};
  b.legal_holds = {MakeHold("sch", "h-2", "sub-1", "2028-12-31", 10),
                   MakeHold("sch", "h-1", "sub-1", "2027-06-30", 20),
                   MakeHold("sch", "h-3", "sub-2", "2028-12-31", 5),
                   MakeHold("other", "h-1", "sub-1", "2026-01-01", 5)};
  ASSERT_TRUE(CommitOk(std::move(b)));
  const SchoolId sch("sch");
  std::vector<LegalHoldRow> rows = ValueOf(store().ListLegalHolds(sch, SubjectId("sub-1")));
  EXPECT_EQ(HoldIds(rows), (std::vector<std::string>{"h-2", "h-1"}));
  ASSERT_EQ(rows.size(), 2u);
  const LegalHoldRow want = MakeHold("sch", "h-2", "sub-1", "2028-12-31", 10);
  const LegalHoldRow& got = rows[0];
  EXPECT_EQ(got.school, want.school);
  EXPECT_EQ(got.subject, want.subject);
  EXPECT_EQ(got.fields, want.fields);
  EXPECT_EQ(got.categories, want.categories);
  EXPECT_EQ(got.reason, want.reason);
  EXPECT_EQ(got.basis, want.basis);
  EXPECT_EQ(got.until, want.until);
  EXPECT_EQ(got.state, "active");
  EXPECT_EQ(got.request, "");
  EXPECT_FALSE(got.notify_subject);
  EXPECT_EQ(got.created_at, want.created_at);
  EXPECT_EQ(got.created_by, want.created_by);
  EXPECT_FALSE(got.closed_at.has_value());
  EXPECT_FALSE(got.settled_at.has_value());

  LegalHoldRow released = want;
  released.state = "released";
  released.request = "req-9";
  released.notify_subject = true;
  released.closed_at = At(30);
  released.closed_by = "staff:st-2";
  released.close_reason = "the tax audit closed early";
  WriteBatch update;
  update.legal_holds = {released};
  ASSERT_TRUE(CommitOk(std::move(update)));
  std::optional<LegalHoldRow> again = ValueOf(store().GetLegalHold(sch, "h-2"));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->state, "released");
  EXPECT_EQ(again->request, "req-9");
  EXPECT_TRUE(again->notify_subject);
  EXPECT_EQ(again->closed_at, std::optional<Timestamp>(At(30)));
  EXPECT_EQ(again->closed_by, "staff:st-2");
  EXPECT_EQ(again->close_reason, "the tax audit closed early");
  EXPECT_FALSE(again->settled_at.has_value());
  EXPECT_FALSE(ValueOf(store().GetLegalHold(sch, "h-9")).has_value());
  EXPECT_EQ(HoldIds(ValueOf(store().ListLegalHolds(SchoolId("other"), SubjectId("sub-1")))),
            std::vector<std::string>{"h-1"});
  EXPECT_TRUE(ValueOf(store().ListLegalHolds(sch, SubjectId("sub-9"))).empty());
}

// The retention job's list: unsettled holds that ended before `today` or were released, by their
// last day; settled ones and those still running are left out; the limit holds.
TEST_P(StoreConformance, R50_DueLegalHoldsAreTheUnsettledEndedOrReleasedOnes) {
  WriteBatch b;
  b.schools = {MakeSchool("sch"), MakeSchool("other")};
  b.subjects = {MakeSubject("sch", "sub-1"), MakeSubject("other", "sub-1")};
  LegalHoldRow ended = MakeHold("sch", "h-ended", "sub-1", "2028-12-31", 1);
  LegalHoldRow today = MakeHold("sch", "h-today", "sub-1", "2029-01-01", 2);
  LegalHoldRow released = MakeHold("sch", "h-released", "sub-1", "2035-01-01", 3);
  released.state = "released";
  released.closed_at = At(4);
  LegalHoldRow settled = MakeHold("sch", "h-settled", "sub-1", "2020-01-01", 4);
  settled.state = "ended";
  settled.settled_at = At(5);
  LegalHoldRow early = MakeHold("sch", "h-early", "sub-1", "2027-03-01", 5);
  b.legal_holds = {ended, today, released, settled, early,
                   MakeHold("other", "h-other", "sub-1", "2020-01-01", 1)};
  ASSERT_TRUE(CommitOk(std::move(b)));
  const SchoolId sch("sch");
  EXPECT_EQ(HoldIds(ValueOf(store().DueLegalHolds(sch, "2029-01-01", 10))),
            (std::vector<std::string>{"h-early", "h-ended", "h-released"}));
  EXPECT_EQ(HoldIds(ValueOf(store().DueLegalHolds(sch, "2029-01-01", 1))),
            std::vector<std::string>{"h-early"});
  EXPECT_EQ(HoldIds(ValueOf(store().DueLegalHolds(sch, "2025-03-03", 10))),
            std::vector<std::string>{"h-released"});
  EXPECT_TRUE(ValueOf(store().DueLegalHolds(sch, "2029-01-01", 0)).empty());
}

// A hold names a subject of the school; an unknown state or an empty field list is refused; the
// holds go with the subject on erasure, and other subjects keep theirs.
TEST_P(StoreConformance, R50_LegalHoldsAreCheckedAndGoWithTheSubject) {
  WriteBatch b;
  b.schools = {MakeSchool("sch")};
  b.subjects = {MakeSubject("sch", "sub-1"), MakeSubject("sch", "sub-2")};
  b.legal_holds = {MakeHold("sch", "h-1", "sub-1", "2028-12-31", 1),
                   MakeHold("sch", "h-2", "sub-2", "2028-12-31", 2)};
  ASSERT_TRUE(CommitOk(std::move(b)));
  WriteBatch unknown;
  unknown.legal_holds = {MakeHold("sch", "h-3", "sub-9", "2028-12-31", 3)};
  EXPECT_TRUE(IsRuleFailure(store().Commit(std::move(unknown))));
  WriteBatch bad_state;
  bad_state.legal_holds = {MakeHold("sch", "h-4", "sub-1", "2028-12-31", 4)};
  bad_state.legal_holds[0].state = "paused";
  EXPECT_TRUE(IsRuleFailure(store().Commit(std::move(bad_state))));
  WriteBatch no_fields;
  no_fields.legal_holds = {MakeHold("sch", "h-5", "sub-1", "2028-12-31", 5)};
  no_fields.legal_holds[0].fields.clear();
  EXPECT_TRUE(IsRuleFailure(store().Commit(std::move(no_fields))));
  WriteBatch bad_date;
  bad_date.legal_holds = {MakeHold("sch", "h-6", "sub-1", "31.12.2028", 6)};
  EXPECT_TRUE(IsRuleFailure(store().Commit(std::move(bad_date))));
  EXPECT_EQ(HoldIds(ValueOf(store().ListLegalHolds(SchoolId("sch"), SubjectId("sub-1")))),
            std::vector<std::string>{"h-1"});

  WriteBatch erase;
  erase.erased_subjects.emplace_back(SchoolId("sch"), SubjectId("sub-1"));
  ASSERT_TRUE(CommitOk(std::move(erase)));
  EXPECT_TRUE(ValueOf(store().ListLegalHolds(SchoolId("sch"), SubjectId("sub-1"))).empty());
  EXPECT_FALSE(ValueOf(store().GetLegalHold(SchoolId("sch"), "h-1")).has_value());
  EXPECT_EQ(HoldIds(ValueOf(store().ListLegalHolds(SchoolId("sch"), SubjectId("sub-2")))),
            std::vector<std::string>{"h-2"});
}

// R86: an assignment to an outside organisation is upserted by (organisation, subject), ended by
// deleting it, refused for an unknown subject, and goes with the subject on erasure.
TEST_P(StoreConformance, R86_AssignmentsToOrganisationsAreKeptEndedAndGoWithTheSubject) {
  auto make = [](const std::string& org, const std::string& subject, const std::string& ref) {
    SubjectAssignmentRow a;
    a.school = SchoolId("sch");
    a.organisation = org;
    a.subject = SubjectId(subject);
    a.reference = ref;
    a.assigned_by = "staff:admin";
    a.assigned_at = Timestamp(std::chrono::seconds(1700000000));
    return a;
  };
  auto listed = [&] {
    std::vector<std::string> out;
    for (const auto& a : ValueOf(store().ListSubjectAssignments(SchoolId("sch")))) {
      out.push_back(a.organisation + "/" + a.subject.value() + "/" + a.reference);
    }
    return out;
  };
  WriteBatch b;
  b.schools = {MakeSchool("sch")};
  b.subjects = {MakeSubject("sch", "sub-1"), MakeSubject("sch", "sub-2")};
  b.subject_assignments = {make("Courier", "sub-1", "order 1"), make("Courier", "sub-2", ""),
                           make("Affiliate", "sub-1", "")};
  ASSERT_TRUE(CommitOk(std::move(b)));
  WriteBatch again;
  again.subject_assignments = {make("Courier", "sub-1", "order 2")};
  ASSERT_TRUE(CommitOk(std::move(again)));
  EXPECT_EQ(listed(), (std::vector<std::string>{"Affiliate/sub-1/", "Courier/sub-1/order 2",
                                                "Courier/sub-2/"}));
  WriteBatch unknown;
  unknown.subject_assignments = {make("Courier", "sub-9", "")};
  EXPECT_TRUE(IsRuleFailure(store().Commit(std::move(unknown))));

  WriteBatch end;
  end.ended_assignments = {make("Courier", "sub-2", "")};
  ASSERT_TRUE(CommitOk(std::move(end)));
  WriteBatch erase;
  erase.erased_subjects.emplace_back(SchoolId("sch"), SubjectId("sub-1"));
  ASSERT_TRUE(CommitOk(std::move(erase)));
  EXPECT_TRUE(listed().empty());
}

// A partial erasure deletes the blind-index rows of the fields it names for that subject only.
TEST_P(StoreConformance, R50_DeletedLookupsTakeOneFieldOfOneSubject) {
  WriteBatch b;
  b.schools = {MakeSchool("sch")};
  b.subjects = {MakeSubject("sch", "sub-1"), MakeSubject("sch", "sub-2")};
  b.lookups = {LookupRow{SchoolId("sch"), "email", "tok-1", SubjectId("sub-1")},
               LookupRow{SchoolId("sch"), "phone", "tok-2", SubjectId("sub-1")},
               LookupRow{SchoolId("sch"), "email", "tok-3", SubjectId("sub-2")}};
  ASSERT_TRUE(CommitOk(std::move(b)));
  WriteBatch del;
  del.deleted_field_lookups = {LookupRow{SchoolId("sch"), "email", "", SubjectId("sub-1")}};
  ASSERT_TRUE(CommitOk(std::move(del)));
  const SchoolId sch("sch");
  EXPECT_FALSE(ValueOf(store().FindByLookup(sch, "email", "tok-1")).has_value());
  EXPECT_EQ(ValueOf(store().FindByLookup(sch, "phone", "tok-2")),
            std::optional<SubjectId>(SubjectId("sub-1")));
  EXPECT_EQ(ValueOf(store().FindByLookup(sch, "email", "tok-3")),
            std::optional<SubjectId>(SubjectId("sub-2")));
}

// Retention (R70-R72): a subject's events are one row per kind (a later report replaces it); the
// due index returns the pending rows due by a day in (day, subject, purpose) order, page by page
// after a cursor, never the ended ones or another school's; the changes since an instant name each
// subject once; everything goes with the subject on erasure.
TEST_P(StoreConformance, R70_RetentionIndexPagesTheDueRowsAndGoesWithTheSubject) {
  WriteBatch b;
  b.schools = {MakeSchool("sch"), MakeSchool("other")};
  b.subjects = {MakeSubject("sch", "sub-1"), MakeSubject("sch", "sub-2"),
                MakeSubject("other", "sub-1")};
  b.subject_events = {SubjectEventRow{SchoolId("sch"), SubjectId("sub-1"), "last_use", At(10),
                                      "api_key:k", At(10)}};
  auto row = [](const std::string& school, const std::string& subject, const std::string& purpose,
                const std::string& day, const std::string& state = "pending") {
    RetentionDueRow r;
    r.school = SchoolId(school);
    r.subject = SubjectId(subject);
    r.purpose = purpose;
    r.due_date = day;
    r.due_at = At(100);
    r.trigger = "agreement_end";
    r.trigger_at = At(50);
    r.state = state;
    return r;
  };
  b.retention_due = {row("sch", "sub-1", "a", "2025-06-10"), row("sch", "sub-1", "b", "2025-06-10"),
                     row("sch", "sub-2", "a", "2025-06-09"), row("sch", "sub-2", "c", "2025-07-01"),
                     row("sch", "sub-2", "d", "2025-06-01", "ended"),
                     row("other", "sub-1", "a", "2025-01-01")};
  ASSERT_TRUE(CommitOk(std::move(b)));
  const SchoolId sch("sch");
  WriteBatch later;
  later.subject_events = {SubjectEventRow{sch, SubjectId("sub-1"), "last_use", At(20), "subject",
                                          At(20)}};
  ASSERT_TRUE(CommitOk(std::move(later)));
  auto events = ValueOf(store().GetSubjectEvents(sch, SubjectId("sub-1")));
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].at, At(20));
  EXPECT_EQ(events[0].source, "subject");

  auto keys = [](const std::vector<RetentionDueRow>& rows) {
    std::vector<std::string> out;
    for (const auto& r : rows) out.push_back(r.subject.value() + "/" + r.purpose);
    return out;
  };
  EXPECT_EQ(keys(ValueOf(store().DueRetention(sch, "2025-06-10", "", "", "", 10))),
            (std::vector<std::string>{"sub-2/a", "sub-1/a", "sub-1/b"}));
  EXPECT_EQ(keys(ValueOf(store().DueRetention(sch, "2025-06-10", "", "", "", 2))),
            (std::vector<std::string>{"sub-2/a", "sub-1/a"}));
  EXPECT_EQ(keys(ValueOf(store().DueRetention(sch, "2025-06-10", "2025-06-10", "sub-1", "a", 10))),
            std::vector<std::string>{"sub-1/b"});
  EXPECT_TRUE(ValueOf(store().DueRetention(sch, "2025-06-08", "", "", "", 10)).empty());
  std::vector<std::string> ended;
  ASSERT_TRUE(store()
                  .ForEachEndedRetention(sch, [&](const RetentionDueRow& r) {
                    ended.push_back(r.subject.value() + "/" + r.purpose);
                  })
                  .ok());
  EXPECT_EQ(ended, std::vector<std::string>{"sub-2/d"});
  EXPECT_EQ(ValueOf(store().GetRetentionMark(sch)), std::nullopt);
  // Both subjects were stored with updated_at At(2); only the other school's sub-1 is left out.
  EXPECT_EQ(ValueOf(store().SubjectsChangedBetween(sch, At(1), At(2))).size(), 2U);
  EXPECT_TRUE(ValueOf(store().SubjectsChangedBetween(sch, At(2), At(9))).empty());
  WriteBatch mark;
  mark.retention_marks = {{sch, At(30)}};
  RetentionDueRow gone = row("sch", "sub-1", "b", "2025-06-10");
  mark.deleted_retention_due = {gone};
  ASSERT_TRUE(CommitOk(std::move(mark)));
  EXPECT_EQ(ValueOf(store().GetRetentionMark(sch)), std::optional<Timestamp>(At(30)));
  EXPECT_EQ(keys(ValueOf(store().SubjectRetention(sch, SubjectId("sub-1")))),
            std::vector<std::string>{"sub-1/a"});

  WriteBatch erase;
  erase.erased_subjects.emplace_back(sch, SubjectId("sub-1"));
  ASSERT_TRUE(CommitOk(std::move(erase)));
  EXPECT_TRUE(ValueOf(store().GetSubjectEvents(sch, SubjectId("sub-1"))).empty());
  EXPECT_TRUE(ValueOf(store().SubjectRetention(sch, SubjectId("sub-1"))).empty());
  EXPECT_EQ(keys(ValueOf(store().DueRetention(sch, "2025-06-10", "", "", "", 10))),
            std::vector<std::string>{"sub-2/a"});
  EXPECT_EQ(ValueOf(store().SubjectRetention(SchoolId("other"), SubjectId("sub-1"))).size(), 1U);
}


// Policy reviews (R117, R68): a task is upserted by id (closing it is the same row with done_at,
// done_by, summary and late_by_days); the open ones come soonest due first, the done ones most
// recently done first, each list only the school's own and at most `limit` rows.
TEST_P(StoreConformance, R117_ReviewTasksUpsertAndListOpenAndDone) {
  auto task = [](const std::string& school, const std::string& id, const std::string& day,
                 int64_t due) {
    ReviewTaskRow r;
    r.school = SchoolId(school);
    r.id = id;
    r.reason = "scheduled";
    r.due_date = day;
    r.due_at = At(due);
    r.assignee = "st-1";
    r.created_at = At(1);
    r.created_by = "staff:st-1";
    return r;
  };
  WriteBatch b;
  b.schools = {MakeSchool("sch"), MakeSchool("other")};
  ReviewTaskRow law = task("sch", "rv-law", "2025-04-02", 30);
  law.reason = "law_change";
  law.law_change = "Law 8153 amends art. 8";
  law.law = "Law of Ukraine 2297-VI";
  b.review_tasks = {task("sch", "rv-1", "2026-03-03", 50), law, task("other", "rv-x", "2026-01-01", 5)};
  ASSERT_TRUE(CommitOk(std::move(b)));
  const SchoolId sch("sch");
  auto ids = [](const std::vector<ReviewTaskRow>& rows) {
    std::vector<std::string> out;
    for (const auto& r : rows) out.push_back(r.id);
    return out;
  };
  auto open = ValueOf(store().ListReviewTasks(sch, true, 10));
  EXPECT_EQ(ids(open), (std::vector<std::string>{"rv-law", "rv-1"}));
  EXPECT_EQ(open[0].law_change, "Law 8153 amends art. 8");
  EXPECT_EQ(open[0].law, "Law of Ukraine 2297-VI");
  EXPECT_EQ(open[0].due_date, "2025-04-02");
  EXPECT_FALSE(open[0].done_at.has_value());
  EXPECT_EQ(ids(ValueOf(store().ListReviewTasks(sch, true, 1))), std::vector<std::string>{"rv-law"});
  EXPECT_TRUE(ValueOf(store().ListReviewTasks(sch, false, 10)).empty());

  ReviewTaskRow closed = open[1];
  closed.overdue_at = At(60);
  closed.done_at = At(70);
  closed.done_by = "staff:st-2";
  closed.summary = "Checked against the law in force";
  closed.late_by_days = 3;
  law.done_at = At(20);
  law.done_by = "staff:st-1";
  WriteBatch close;
  close.review_tasks = {closed, law};
  ASSERT_TRUE(CommitOk(std::move(close)));
  EXPECT_TRUE(ValueOf(store().ListReviewTasks(sch, true, 10)).empty());
  auto done = ValueOf(store().ListReviewTasks(sch, false, 10));
  EXPECT_EQ(ids(done), (std::vector<std::string>{"rv-1", "rv-law"}));
  EXPECT_EQ(done[0].overdue_at, std::optional<Timestamp>(At(60)));
  EXPECT_EQ(done[0].done_at, std::optional<Timestamp>(At(70)));
  EXPECT_EQ(done[0].done_by, "staff:st-2");
  EXPECT_EQ(done[0].summary, "Checked against the law in force");
  EXPECT_EQ(done[0].late_by_days, 3);
  EXPECT_EQ(ids(ValueOf(store().ListReviewTasks(SchoolId("other"), true, 10))),
            std::vector<std::string>{"rv-x"});
}

// A store with no other server beside it runs the background jobs, round after round.
TEST_P(StoreConformance, AServerAloneHoldsTheJobsLease) {
  EXPECT_TRUE(ValueOf(store().HoldJobsLease()));
  EXPECT_TRUE(ValueOf(store().HoldJobsLease()));
  Reopen();
  // A lease held by the closed store goes when its session has ended, a moment after it closes;
  // a server asks again every round.
  bool taken = false;
  for (int i = 0; i < 1000 && !taken; ++i) {
    taken = ValueOf(store().HoldJobsLease());
    if (!taken) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(taken);
}

// --- Gate versions (GateCheck) -------------------------------------------------------------------

// Several servers on one database learn of each other's changes to a subject through its gate
// version: every batch that writes a row the gate's state of the subject is built from raises it,
// in the same transaction; nothing else does.
TEST_P(StoreConformance, GateVersionGrowsWithEveryChangeToTheSubjectsGateStateOnly) {
  ASSERT_NO_FATAL_FAILURE(AddSchoolAndSubject("sch", "sub-1"));
  ASSERT_NO_FATAL_FAILURE(AddSchoolAndSubject("sch", "sub-2"));
  const SchoolId sch("sch");
  const SubjectId one("sub-1"), two("sub-2");
  auto version = [&](const SubjectId& id) { return ValueOf(store().GetGateVersion(sch, id)); };
  EXPECT_EQ(version(SubjectId("nobody")), 0);
  int64_t last = version(one);
  ASSERT_GE(last, 1);
  // Reads of the subject carry the same version.
  EXPECT_EQ(ValueOf(store().GetSubject(sch, one))->gate_version, last);
  int64_t listed = 0;
  EXPECT_TRUE(IsOk(store().ForEachSubject(sch, [&](const SubjectRow& r) {
    if (r.id == one) listed = r.gate_version;
  })));
  EXPECT_EQ(listed, last);
  const int64_t other = version(two);

  auto expect_raised = [&](WriteBatch b, const char* what) {
    ASSERT_TRUE(CommitOk(std::move(b))) << what;
    const int64_t now = version(one);
    EXPECT_GT(now, last) << what;
    last = now;
  };
  WriteBatch consent;
  ConsentRow withdraw = MakeConsent("sch", "con-w", "sub-1", 5);
  withdraw.action = "withdraw";
  consent.consents.push_back(withdraw);
  expect_raised(std::move(consent), "a consent row");

  WriteBatch request;
  RequestRow r;
  r.school = sch;
  r.id = "req-1";
  r.type = "restriction";
  r.state = "received";
  r.subject = "sub-1";
  r.received_at = r.due_at = r.updated_at = At(10);
  r.body = "{}";
  request.requests.push_back(r);
  expect_raised(std::move(request), "a request naming the subject");

  WriteBatch retention;
  RetentionDueRow due;
  due.school = sch;
  due.subject = one;
  due.purpose = "marketing";
  due.due_date = "2025-06-10";
  due.due_at = At(100);
  due.trigger = "agreement_end";
  due.trigger_at = At(50);
  due.state = "ended";
  retention.retention_due.push_back(due);
  expect_raised(std::move(retention), "a retention row");

  WriteBatch assign;
  assign.subject_assignments.push_back(
      SubjectAssignmentRow{sch, "contractor", one, "order 1", "staff:st-1", At(20)});
  expect_raised(std::move(assign), "an assignment");
  WriteBatch unassign;
  unassign.ended_assignments.push_back(SubjectAssignmentRow{sch, "contractor", one, "", "", {}});
  expect_raised(std::move(unassign), "the end of an assignment");

  WriteBatch subject;
  SubjectRow closing = MakeSubject("sch", "sub-1");
  closing.state = "closing";
  subject.subjects.push_back(closing);
  expect_raised(std::move(subject), "the subject's row");

  // Rows the gate's state is not built from leave it as it is: records, audit entries.
  WriteBatch records;
  records.records.push_back(MakeRecord("sch", "rec-1", "sub-1"));
  records.audit.push_back(MakeAudit("sch", 1, "pn-sch-sub-1"));
  ASSERT_TRUE(CommitOk(std::move(records)));
  EXPECT_EQ(version(one), last);
  // The other subject was never touched.
  EXPECT_EQ(version(two), other);

  Reopen();
  EXPECT_EQ(version(one), last);
  WriteBatch erase;
  erase.erased_subjects.emplace_back(sch, one);
  ASSERT_TRUE(CommitOk(std::move(erase)));
  EXPECT_EQ(version(one), 0);
}

// A batch whose gate check no longer holds fails alone, with reason gate_stale, and leaves no
// trace: neither its audit entry nor any other row.
TEST_P(StoreConformance, ABatchOnAnOvertakenGateVersionFailsAloneAndLeavesNoTrace) {
  ASSERT_NO_FATAL_FAILURE(AddSchoolAndSubject("sch", "sub-1"));
  const SchoolId sch("sch");
  const SubjectId one("sub-1");
  const int64_t seen = ValueOf(store().GetGateVersion(sch, one));

  WriteBatch use;
  use.gate_checks.push_back(GateCheck{sch, one, seen});
  use.audit.push_back(MakeAudit("sch", 1, "pn-sch-sub-1"));
  ASSERT_TRUE(CommitOk(std::move(use)));

  // Another server withdraws a consent: the version moves on.
  WriteBatch change;
  ConsentRow withdraw = MakeConsent("sch", "con-w", "sub-1", 5);
  withdraw.action = "withdraw";
  change.consents.push_back(withdraw);
  ASSERT_TRUE(CommitOk(std::move(change)));

  // A use decided on the old version, queued right behind an unrelated batch that succeeds.
  WriteBatch before;
  before.schools.push_back(MakeSchool("sch-before"));
  WriteBatch stale;
  stale.gate_checks.push_back(GateCheck{sch, one, seen});
  stale.audit.push_back(MakeAudit("sch", 2, "pn-sch-sub-1"));
  stale.schools.push_back(MakeSchool("sch-stale"));
  std::promise<Status> first, second;
  store().Submit(std::move(before), [&](Status st) { first.set_value(std::move(st)); });
  store().Submit(std::move(stale), [&](Status st) { second.set_value(std::move(st)); });
  EXPECT_TRUE(IsOk(first.get_future().get()));
  Status refused = second.get_future().get();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().reason, kGateStale);
  EXPECT_EQ(refused.error().code, ErrorCode::kConflict);
  EXPECT_TRUE(ValueOf(store().GetSchool(SchoolId("sch-before"))).has_value());
  EXPECT_FALSE(ValueOf(store().GetSchool(SchoolId("sch-stale"))).has_value());
  EXPECT_EQ(ValueOf(store().LastAudit(sch))->seq, 1);

  // Decided again on the current version, the use is recorded.
  WriteBatch again;
  again.gate_checks.push_back(GateCheck{sch, one, ValueOf(store().GetGateVersion(sch, one))});
  again.audit.push_back(MakeAudit("sch", 2, "pn-sch-sub-1"));
  EXPECT_TRUE(CommitOk(std::move(again)));
  // A subject unknown here is checked against version 0: still unknown, it holds; once the
  // subject is stored elsewhere, it does not.
  WriteBatch unknown;
  unknown.gate_checks.push_back(GateCheck{sch, SubjectId("sub-new"), 0});
  EXPECT_TRUE(CommitOk(std::move(unknown)));
  ASSERT_NO_FATAL_FAILURE(AddSchoolAndSubject("sch", "sub-new"));
  WriteBatch unknown_again;
  unknown_again.gate_checks.push_back(GateCheck{sch, SubjectId("sub-new"), 0});
  Status late = store().Commit(std::move(unknown_again));
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().reason, kGateStale);
}

}  // namespace dovira::ports::conformance
