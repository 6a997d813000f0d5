#include "services/subjects.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "domain/gate.h"
#include "services/consents.h"
#include "services/data_access.h"
#include "services/gate_loader.h"
#include "services/test_env.h"

namespace dovira::services {
namespace {

using std::chrono::hours;
using test::At;
using test::TestEnv;

constexpr char kPolicyFile[] = "001_vkluchi_zhizn.toml";
constexpr char kProbeEmail[] = "probe-7f3a@example.com";

std::string ReadShippedPolicy(const std::string& file) {
  std::ifstream in(std::string(DOVIRA_SOURCE_DIR) + "/policies/" + file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The payment form of 001 (a buyer), filled in by an adult who ticks the consent.
domain::Submission PaymentForm(const std::string& email = "Oksana.Melnyk@Example.org",
                               const std::string& last_name = "Melnyk") {
  domain::Submission s;
  s.form = "payment";
  s.fields = {{"first_name", "Oksana"},
              {"last_name", last_name},
              {"email", email},
              {"mobile_phone", "+380 67 123 4567"},
              {"home_address", "Kyiv, Khreshchatyk 1, apt 5"},
              {"purchased_service", "Course: Mindful Mornings"},
              {"purchase_amount", "1200.50"}};
  s.ticked = {"pd_consent"};
  s.accept_policy = true;
  s.age_statement = "adult";
  s.lang = "uk";
  return s;
}

// The subscription form of 001, filled in by a minor with the representative's permission.
domain::Submission MinorSubscription() {
  domain::Submission s;
  s.form = "subscription";
  s.fields = {{"first_name", "Taras"},
              {"email", "taras.junior@example.org"},
              {"representative_name", "Iryna Bondar"},
              {"representative_relation", "parent"},
              {"representative_permission_date", "2025-03-01"}};
  s.ticked = {"pd_consent"};
  s.accept_policy = true;
  s.age_statement = "minor";
  s.lang = "uk";
  return s;
}

class RawDb {
 public:
  explicit RawDb(const std::string& path, int flags = SQLITE_OPEN_READONLY) {
    if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << "cannot open " << path << ": " << sqlite3_errmsg(db_);
    }
    sqlite3_busy_timeout(db_, 5000);
  }
  ~RawDb() { sqlite3_close_v2(db_); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  // Every record row of `school` in the file, as the store's RecordRow.
  std::vector<ports::RecordRow> Records(const SchoolId& school) {
    std::vector<ports::RecordRow> out;
    sqlite3_stmt* st = nullptr;
    const char* sql =
        "SELECT record_id, subject_id, store, field, category, sealed_value FROM records "
        "WHERE school_id = ? ORDER BY record_id";
    if (sqlite3_prepare_v2(db_, sql, -1, &st, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << sqlite3_errmsg(db_);
      return out;
    }
    sqlite3_bind_text(st, 1, school.value().c_str(), -1, SQLITE_TRANSIENT);
    while (sqlite3_step(st) == SQLITE_ROW) {
      ports::RecordRow r;
      r.school = school;
      r.id = RecordId(Text(st, 0));
      r.subject = SubjectId(Text(st, 1));
      r.store = Text(st, 2);
      r.field = Text(st, 3);
      r.category = Text(st, 4);
      const void* blob = sqlite3_column_blob(st, 5);
      r.sealed_value.assign(static_cast<const char*>(blob),
                            static_cast<size_t>(sqlite3_column_bytes(st, 5)));
      out.push_back(std::move(r));
    }
    sqlite3_finalize(st);
    return out;
  }

  int64_t Count(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db_);
      return -1;
    }
    int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    return n;
  }

 private:
  static std::string Text(sqlite3_stmt* st, int col) {
    const unsigned char* t = sqlite3_column_text(st, col);
    return t ? reinterpret_cast<const char*>(t) : "";
  }
  sqlite3* db_ = nullptr;
};

class SubjectServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(env.LoadShipped(kPolicyFile).ok()); }

  SchoolRuntime& Runtime() { return **env.schools.Get(school); }

  IntakeReceipt MustIntake(const domain::Submission& s) {
    auto r = subjects.Intake(school, s, Actor::Public(), ctx);
    EXPECT_TRUE(r.ok()) << r.error().ReasonOrCode() << ": " << r.error().message;
    return r.ok() ? *r : IntakeReceipt{};
  }

  std::vector<ports::AuditRow> AuditRows() {
    std::vector<ports::AuditRow> rows;
    EXPECT_TRUE(env.store
                    ->ForEachAudit(school, 0,
                                   [&](const ports::AuditRow& r) {
                                     rows.push_back(r);
                                     return true;
                                   })
                    .ok());
    return rows;
  }

  static std::string AuditText(const ports::AuditRow& r) {
    return r.actor + "|" + r.role + "|" + r.action + "|" + r.subject_ref + "|" + r.purpose + "|" +
           r.fields + "|" + r.outcome + "|" + r.reason + "|" + r.decision_id + "|" +
           r.request_id + "|" + r.detail;
  }

  std::vector<ports::RecordRow> Records(const SubjectId& id) {
    auto r = env.store->GetRecords(school, id);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : std::vector<ports::RecordRow>{};
  }

  // field → plain value, opened with the subject's key.
  std::map<std::string, std::string> OpenAll(SubjectService& service, const SubjectId& id) {
    std::map<std::string, std::string> out;
    auto key = service.SubjectKey(school, id);
    EXPECT_TRUE(key.ok());
    if (!key.ok()) return out;
    for (const auto& r : Records(id)) {
      auto v = service.OpenValue(*key, r);
      EXPECT_TRUE(v.ok()) << r.field << " in " << r.store;
      if (v.ok()) out[r.field] = *v;
    }
    return out;
  }

  TestEnv env;
  SubjectService subjects{env.deps(), env.schools, env.audit};
  const SchoolId school{"vkluchi_zhizn"};
  const RequestContext ctx{"req-1", "203.0.113.7", "test-agent"};
  const Actor officer{Actor::Kind::kStaff, "st-officer", "responsible_person", {}, true};
};

// --- Intake: what is stored where ----------------------------------------------------------------

TEST_F(SubjectServiceTest, R92_KeepsOneSealedRecordPerFieldInEveryStoreOfThePurposesUsingIt) {
  IntakeReceipt receipt = MustIntake(PaymentForm());
  ASSERT_FALSE(receipt.subject.empty());

  // From 001's [[storage.stores]] and [purposes.*].fields, intersected with the seven fields the
  // payment form submitted.
  const std::map<std::string, std::set<std::string>> expected = {
      {"contracts",
       {"first_name", "last_name", "email", "mobile_phone", "home_address", "purchased_service",
        "purchase_amount"}},
      {"service_messages", {"first_name", "email", "mobile_phone", "purchased_service"}},
      {"marketing_subscribers", {"first_name", "email", "mobile_phone"}},
      {"web_statistics", {"purchased_service"}},
      {"security_events",
       {"first_name", "last_name", "email", "mobile_phone", "purchased_service",
        "purchase_amount"}},
      {"requests_register", {"first_name", "last_name", "email", "mobile_phone"}},
      {"default", {}},
  };
  size_t total = 0;
  for (const auto& [store, fields] : expected) {
    auto records = env.store->GetStoreRecords(school, receipt.subject, store);
    ASSERT_TRUE(records.ok()) << store;
    std::multiset<std::string> got;
    for (const auto& r : *records) {
      got.insert(r.field);
      EXPECT_EQ(r.store, store);
      EXPECT_EQ(r.subject, receipt.subject);
    }
    EXPECT_EQ(got, std::multiset<std::string>(fields.begin(), fields.end()))
        << "store " << store << " holds exactly the fields of its purposes, once each";
    total += records->size();
  }
  EXPECT_EQ(Records(receipt.subject).size(), total) << "no record outside the policy's stores";
  EXPECT_EQ(total, 25u);

  // The address is a contract field: the marketing store never gets a copy.
  auto marketing = env.store->GetStoreRecords(school, receipt.subject, "marketing_subscribers");
  ASSERT_TRUE(marketing.ok());
  for (const auto& r : *marketing) EXPECT_NE(r.field, "home_address");
}

TEST_F(SubjectServiceTest, B02_AnIntakeTakesAKeyTheVaultCommittedBeforeAndCommitsItsDataAlone) {
  auto vault = [&] {
    std::map<std::string, ports::SubjectKeyRow> keys;
    EXPECT_TRUE(env.store
                    ->ForEachSubjectKey(school, [&](const ports::SubjectKeyRow& r) {
                      keys.emplace(r.subject.value(), r);
                    })
                    .ok());
    return keys;
  };
  EXPECT_TRUE(vault().empty());
  IntakeReceipt first = MustIntake(PaymentForm("k1@example.org", "Antonenko"));
  // One vault commit made the keys of the next intakes: the first subject's is among them.
  const auto reserved = vault();
  EXPECT_GT(reserved.size(), 1u);
  ASSERT_TRUE(reserved.count(first.subject.value()));
  const size_t batch = reserved.size();
  std::vector<std::string> subjects_made = {first.subject.value()};
  for (size_t i = 1; i < batch; ++i) {
    IntakeReceipt r = MustIntake(PaymentForm("k" + std::to_string(i + 1) + "@example.org", "B"));
    // Taken from the keys already in the vault, in the order their ids sort.
    EXPECT_TRUE(reserved.count(r.subject.value())) << i;
    EXPECT_LT(subjects_made.back(), r.subject.value());
    subjects_made.push_back(r.subject.value());
  }
  EXPECT_EQ(vault().size(), batch) << "no key was written with the intakes themselves";
  IntakeReceipt next = MustIntake(PaymentForm("k-next@example.org", "C"));
  EXPECT_EQ(vault().size(), 2 * batch) << "the next intake reserved the next keys";
  // At shutdown the keys no intake took are destroyed; the subjects' keys stay.
  ASSERT_TRUE(subjects.ReleaseReservedKeys().ok());
  const auto kept = vault();
  EXPECT_EQ(kept.size(), batch + 1);
  EXPECT_TRUE(kept.count(first.subject.value()) && kept.count(next.subject.value()));
  // Each subject's key comes from the vault (nothing cached in a fresh service) and opens its
  // values.
  SubjectService fresh(env.deps(), env.schools, env.audit);
  for (const IntakeReceipt* r : {&first, &next}) {
    auto key = fresh.SubjectKey(school, r->subject);
    ASSERT_TRUE(key.ok()) << key.error().message;
    auto records = env.store->GetRecords(school, r->subject);
    ASSERT_TRUE(records.ok() && !records->empty());
    EXPECT_TRUE(fresh.OpenValue(*key, records->front()).ok());
  }
}

TEST_F(SubjectServiceTest, R92_EachRecordCarriesItsFieldsCategoryFromThePolicy) {
  IntakeReceipt receipt = MustIntake(PaymentForm());
  const std::map<std::string, std::string> category = {
      {"first_name", "identity"},       {"last_name", "identity"},
      {"email", "contact"},             {"mobile_phone", "contact"},
      {"home_address", "address"},      {"purchased_service", "purchases"},
      {"purchase_amount", "purchases"},
  };
  for (const auto& r : Records(receipt.subject)) {
    EXPECT_EQ(r.category, category.at(r.field)) << r.field;
  }
}

TEST_F(SubjectServiceTest, R89_SealedValuesNeverContainThePlainValueAndOpenWithTheSubjectKey) {
  domain::Submission form = PaymentForm();
  IntakeReceipt receipt = MustIntake(form);
  auto records = Records(receipt.subject);
  ASSERT_FALSE(records.empty());
  for (const auto& r : records) {
    // The value as normalised at intake (e-mails in lower case).
    std::string plain = form.fields.at(r.field);
    if (r.field == "email") plain = "oksana.melnyk@example.org";
    EXPECT_EQ(r.sealed_value.find(plain), std::string::npos) << r.field << " in " << r.store;
    EXPECT_GT(r.sealed_value.size(), plain.size()) << "sealed bytes carry a nonce and a tag";
  }
  std::map<std::string, std::string> opened = OpenAll(subjects, receipt.subject);
  EXPECT_EQ(opened.at("email"), "oksana.melnyk@example.org");
  EXPECT_EQ(opened.at("home_address"), "Kyiv, Khreshchatyk 1, apt 5");
  EXPECT_EQ(opened.at("purchase_amount"), "1200.50");

  // Another subject's key does not open these records.
  IntakeReceipt other = MustIntake(PaymentForm("other@example.org", "Shevchenko"));
  auto other_key = subjects.SubjectKey(school, other.subject);
  ASSERT_TRUE(other_key.ok());
  EXPECT_FALSE(subjects.OpenValue(*other_key, records.front()).ok());

  // A record moved to another subject (aad binds the subject) no longer opens.
  auto key = subjects.SubjectKey(school, receipt.subject);
  ASSERT_TRUE(key.ok());
  ports::RecordRow moved = records.front();
  moved.subject = other.subject;
  EXPECT_FALSE(subjects.OpenValue(*key, moved).ok());
  ports::RecordRow renamed = records.front();
  renamed.field = renamed.field == "email" ? "first_name" : "email";
  EXPECT_FALSE(subjects.OpenValue(*key, renamed).ok()) << "aad binds the field";
}

TEST_F(SubjectServiceTest, R89_NoDatabaseFileNorBackupHoldsThePlainEmail) {
  MustIntake(PaymentForm(kProbeEmail));
  const std::string backup = env.dir + "/backup.db";
  ASSERT_TRUE(env.store->Backup(backup).ok());
  const std::string vault = env.dir + "/vault-backup.db";
  ASSERT_TRUE(env.store->BackupKeyVault(vault).ok());

  int files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(env.dir)) {
    if (!entry.is_regular_file()) continue;
    ++files;
    const std::string bytes = ReadFile(entry.path().string());
    EXPECT_EQ(bytes.find("probe-7f3a"), std::string::npos) << entry.path();
    EXPECT_EQ(bytes.find("Khreshchatyk"), std::string::npos) << entry.path();
  }
  EXPECT_GE(files, 4) << "data.db, keys.db, the key ring and the backups were searched";
}

TEST_F(SubjectServiceTest, R11_ProvenanceNamesSourceChannelFormVersionAndTimeOfEveryRecord) {
  IntakeReceipt receipt = MustIntake(PaymentForm());
  EXPECT_EQ(receipt.policy_version, "2025-03-03");
  EXPECT_EQ(receipt.channel, "payment");
  EXPECT_EQ(receipt.form, "payment");
  EXPECT_EQ(receipt.kind, "buyer");

  auto provenance = subjects.Provenance(school, receipt.subject, officer, ctx);
  ASSERT_TRUE(provenance.ok());
  EXPECT_EQ(provenance->size(), Records(receipt.subject).size()) << "one entry per record";
  for (const auto& p : *provenance) {
    EXPECT_EQ(p.source, "subject") << p.field;
    EXPECT_EQ(p.channel, "payment");
    EXPECT_EQ(p.form, "payment");
    EXPECT_EQ(p.policy_version, "2025-03-03");
    EXPECT_EQ(p.collected_at, At("2025-03-03T09:00:00Z"));
    EXPECT_FALSE(p.store.empty());
    EXPECT_FALSE(p.category.empty());
  }
  EXPECT_TRUE(std::is_sorted(provenance->begin(), provenance->end(),
                             [](const ProvenanceEntry& a, const ProvenanceEntry& b) {
                               return std::tie(a.field, a.store) < std::tie(b.field, b.store);
                             }));

  auto row = env.store->GetSubject(school, receipt.subject);
  ASSERT_TRUE(row.ok() && *row);
  const auto rows = AuditRows();
  ASSERT_FALSE(rows.empty());
  EXPECT_EQ(rows.back().action, "subject.provenance") << "reading provenance is audited";
  EXPECT_EQ(rows.back().subject_ref, (*row)->pseudonym);
  EXPECT_EQ(rows.back().actor, "staff:st-officer");
}

TEST_F(SubjectServiceTest, R11_ApiIntakeRecordsTheStatedSourceAndChannel) {
  domain::Submission s;
  s.subject_kind = "visitor";
  s.channel = "personal_account";
  s.source = "automatic";
  s.fields = {{"ip_address", "198.51.100.23"}, {"cookie_id", "c-0a1b2c"}};
  env.clock.Advance(hours(2));
  IntakeReceipt receipt = MustIntake(s);
  auto provenance = subjects.Provenance(school, receipt.subject, officer, ctx);
  ASSERT_TRUE(provenance.ok());
  ASSERT_FALSE(provenance->empty());
  for (const auto& p : *provenance) {
    EXPECT_EQ(p.source, "automatic");
    EXPECT_EQ(p.channel, "personal_account");
    EXPECT_EQ(p.form, "");
    EXPECT_EQ(p.collected_at, At("2025-03-03T11:00:00Z"));
  }
}

TEST_F(SubjectServiceTest, R12_ASourceThePolicyDoesNotAcceptIsRefused) {
  domain::Submission s;
  s.subject_kind = "buyer";
  s.channel = "personal_account";
  s.source = "third_party";
  s.fields = {{"first_name", "Oksana"}};
  auto r = subjects.Intake(school, s, Actor::Public(), ctx);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, "source_not_allowed");
  auto listed = subjects.List(school, "", 10);
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
}

TEST_F(SubjectServiceTest, R07_ARefusedSubmissionStoresNothingAndAuditsTheRefusalWithoutValues) {
  domain::Submission s = PaymentForm(kProbeEmail);
  s.fields["birth_date"] = "2001-02-03";
  auto r = subjects.Intake(school, s, Actor::Public(), ctx);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kRefused);
  EXPECT_EQ(r.error().reason, "field_undeclared");
  EXPECT_EQ(r.error().field, "birth_date");
  EXPECT_EQ(r.error().message.find("2001-02-03"), std::string::npos) << "refusals name fields";

  auto listed = subjects.List(school, "", 100);
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty()) << "no subject row";
  int keys = 0;
  ASSERT_TRUE(env.store->ForEachSubjectKey(school, [&](const ports::SubjectKeyRow&) { ++keys; }).ok());
  EXPECT_EQ(keys, 0) << "no subject key";
  int consents = 0;
  ASSERT_TRUE(env.store->ForEachConsent(school, [&](const ports::ConsentRow&) { ++consents; }).ok());
  EXPECT_EQ(consents, 0) << "no consent";
  EXPECT_EQ(Runtime().gate().size(), 0u) << "the gate learns of no subject";

  const auto rows = AuditRows();
  ASSERT_EQ(rows.size(), 1u) << "only the refusal is audited";
  EXPECT_EQ(rows[0].action, "subject.create");
  EXPECT_EQ(rows[0].outcome, "deny");
  EXPECT_EQ(rows[0].reason, "field_undeclared");
  EXPECT_EQ(rows[0].subject_ref, "");
  EXPECT_EQ(AuditText(rows[0]).find("2001-02-03"), std::string::npos);
  EXPECT_EQ(AuditText(rows[0]).find("probe-7f3a"), std::string::npos);
}

TEST_F(SubjectServiceTest, R15_AnUntickedRequiredConsentStoresNothing) {
  domain::Submission s = PaymentForm();
  s.ticked.clear();
  auto r = subjects.Intake(school, s, Actor::Public(), ctx);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, "consent_required");
  auto listed = subjects.List(school, "", 100);
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
}

TEST_F(SubjectServiceTest, R24_AMinorWithoutTheRepresentativesPermissionIsRefusedAndNothingStored) {
  domain::Submission s = MinorSubscription();
  s.fields.erase("representative_name");
  auto r = subjects.Intake(school, s, Actor::Public(), ctx);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, "representative_required");
  auto listed = subjects.List(school, "", 100);
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
}

TEST_F(SubjectServiceTest, R88_TheAuditDetailOfARefusalStaysValidJsonForAnyFormId) {
  // The form id comes from the client; it must not be able to add keys to the audit detail.
  domain::Submission s = PaymentForm();
  s.form = "x\",\"injected\":\"1";
  auto r = subjects.Intake(school, s, Actor::Public(), ctx);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, "form_unknown");
  const auto rows = AuditRows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].detail.find("\"injected\":"), std::string::npos) << rows[0].detail;
}

TEST_F(SubjectServiceTest, R88_TheAuditDetailOfAnApiIntakeStaysValidJsonForAnyChannel) {
  // The channel of an API intake comes from the client as well.
  domain::Submission s;
  s.subject_kind = "visitor";
  s.channel = "personal_account\",\"injected\":\"1";
  s.source = "automatic";
  s.fields = {{"cookie_id", "c-0a1b2c"}};
  auto r = subjects.Intake(school, s, Actor::Public(), ctx);
  if (!r.ok()) {
    SUCCEED() << "refused: " << r.error().ReasonOrCode();
    return;
  }
  const auto rows = AuditRows();
  ASSERT_FALSE(rows.empty());
  EXPECT_EQ(rows.back().action, "subject.create");
  EXPECT_EQ(rows.back().detail.find("\"injected\":"), std::string::npos) << rows.back().detail;
}

TEST_F(SubjectServiceTest, IntakeStoresTheSubjectRowWithPseudonymAndLookupTokenAndAuditsIt) {
  IntakeReceipt receipt = MustIntake(PaymentForm());
  auto row = env.store->GetSubject(school, receipt.subject);
  ASSERT_TRUE(row.ok() && *row);
  auto pseudonym = env.audit.Pseudonym(school, receipt.subject);
  ASSERT_TRUE(pseudonym.ok());
  EXPECT_EQ((*row)->pseudonym, *pseudonym);
  EXPECT_EQ((*row)->kind, "buyer");
  EXPECT_EQ((*row)->policy_version, "2025-03-03");
  EXPECT_EQ((*row)->state, "active");
  EXPECT_FALSE((*row)->sealed_profile.empty());

  auto token = subjects.LookupToken(school, "email", "oksana.melnyk@example.org");
  ASSERT_TRUE(token.ok());
  auto found = env.store->FindByLookup(school, "email", *token);
  ASSERT_TRUE(found.ok() && *found);
  EXPECT_EQ(**found, receipt.subject);

  const auto rows = AuditRows();
  ASSERT_FALSE(rows.empty());
  const ports::AuditRow& created = rows.back();
  EXPECT_EQ(created.action, "subject.create");
  EXPECT_EQ(created.outcome, "ok");
  EXPECT_EQ(created.subject_ref, *pseudonym);
  EXPECT_EQ(created.request_id, "req-1");
  for (const auto& r : rows) {
    EXPECT_EQ(AuditText(r).find(receipt.subject.value()), std::string::npos)
        << "the audit names subjects by pseudonym only";
    EXPECT_EQ(AuditText(r).find("oksana"), std::string::npos);
  }
  EXPECT_EQ(Runtime().gate().size(), 1u);
}

TEST_F(SubjectServiceTest, GetReturnsMetadataWithoutTheSealedProfileAndKnowsAMinor) {
  IntakeReceipt minor = MustIntake(MinorSubscription());
  EXPECT_TRUE(minor.minor);
  auto summary = subjects.Get(school, minor.subject, officer, ctx);
  ASSERT_TRUE(summary.ok());
  EXPECT_TRUE(summary->minor);
  ASSERT_TRUE(summary->representative.has_value());
  EXPECT_EQ(summary->representative->name, "Iryna Bondar");
  EXPECT_EQ(summary->representative->relation, "parent");
  EXPECT_TRUE(summary->row.sealed_profile.empty()) << "sealed bytes never leave the service";
  EXPECT_EQ(AuditRows().back().action, "subject.metadata");

  auto unknown = subjects.Get(school, SubjectId("no-such-subject"), officer, ctx);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(unknown.error().reason, "subject_unknown");
}

// --- Erasure and crypto-shredding (B02) ----------------------------------------------------------

TEST_F(SubjectServiceTest, B02_DestroySubjectRemovesRowsKeyAndGateStateAndLeavesOnlyATombstone) {
  IntakeReceipt gone = MustIntake(PaymentForm(kProbeEmail));
  IntakeReceipt kept = MustIntake(PaymentForm("kept@example.org", "Shevchenko"));
  auto pseudonym = env.audit.Pseudonym(school, gone.subject);
  ASSERT_TRUE(pseudonym.ok());
  ASSERT_TRUE(subjects.SubjectKey(school, gone.subject).ok()) << "cached before erasure";

  ASSERT_TRUE(subjects.DestroySubject(school, gone.subject, "withdrawal", officer, ctx).ok());

  auto row = env.store->GetSubject(school, gone.subject);
  ASSERT_TRUE(row.ok());
  EXPECT_FALSE(row->has_value()) << "subject row gone";
  auto key_row = env.store->GetSubjectKey(school, gone.subject);
  ASSERT_TRUE(key_row.ok());
  EXPECT_FALSE(key_row->has_value()) << "key destroyed in the vault";
  auto key = subjects.SubjectKey(school, gone.subject);
  ASSERT_FALSE(key.ok()) << "and forgotten by the cache";
  EXPECT_EQ(key.error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(Records(gone.subject).empty());
  auto consents = env.store->GetConsents(school, gone.subject);
  ASSERT_TRUE(consents.ok());
  EXPECT_TRUE(consents->empty());
  auto token = subjects.LookupToken(school, "email", kProbeEmail);
  ASSERT_TRUE(token.ok());
  auto found = env.store->FindByLookup(school, "email", *token);
  ASSERT_TRUE(found.ok());
  EXPECT_FALSE(found->has_value()) << "the blind index forgets the subject";

  const bool known = Runtime().gate().With(
      gone.subject, [](const domain::SubjectState* s) { return s != nullptr; });
  EXPECT_FALSE(known) << "the gate no longer knows the subject";
  auto get = subjects.Get(school, gone.subject, officer, ctx);
  ASSERT_FALSE(get.ok());
  EXPECT_EQ(get.error().reason, "subject_unknown");

  // The audit keeps a tombstone with the pseudonym and the ground, and nothing else of the person.
  const auto rows = AuditRows();
  auto tomb = std::find_if(rows.begin(), rows.end(),
                           [](const ports::AuditRow& r) { return r.action == "subject.destroy"; });
  ASSERT_NE(tomb, rows.end());
  EXPECT_EQ(tomb->subject_ref, *pseudonym);
  EXPECT_EQ(tomb->reason, "withdrawal");
  EXPECT_EQ(tomb->outcome, "ok");
  EXPECT_NE(tomb->detail.find("\"tombstone\":true"), std::string::npos);
  for (const auto& r : rows) {
    EXPECT_EQ(AuditText(r).find(gone.subject.value()), std::string::npos);
    EXPECT_EQ(AuditText(r).find("probe-7f3a"), std::string::npos);
  }
  auto own = env.audit.ForSubject(school, gone.subject, 0, 100);
  ASSERT_TRUE(own.ok());
  EXPECT_GE(own->size(), 2u) << "creation and tombstone are still found by pseudonym";

  // The other subject is untouched.
  EXPECT_EQ(OpenAll(subjects, kept.subject).at("email"), "kept@example.org");
  EXPECT_EQ(Runtime().gate().size(), 1u);
}

TEST_F(SubjectServiceTest, B02_DestroyingAnUnknownSubjectIsNotFound) {
  Status st = subjects.DestroySubject(school, SubjectId("no-such-subject"), "withdrawal", officer,
                                      ctx);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().reason, "subject_unknown");
}

TEST_F(SubjectServiceTest, B02_ABackupTakenBeforeErasureCannotBeDecryptedForTheErasedSubject) {
  IntakeReceipt erased = MustIntake(PaymentForm(kProbeEmail));
  IntakeReceipt other = MustIntake(PaymentForm("other@example.org", "Shevchenko"));
  // Both readable before.
  EXPECT_EQ(OpenAll(subjects, erased.subject).at("email"), kProbeEmail);

  const std::string backup = env.dir + "/backup-0900.db";
  ASSERT_TRUE(env.store->Backup(backup).ok());
  env.clock.Advance(hours(1));
  ASSERT_TRUE(subjects.DestroySubject(school, erased.subject, "withdrawal", officer, ctx).ok());

  RawDb db(backup);
  EXPECT_EQ(db.Count("SELECT count(*) FROM sqlite_master WHERE sql LIKE '%wrapped_key%'"), 0)
      << "a data backup holds no subject keys";
  std::vector<ports::RecordRow> erased_records, other_records;
  for (auto& r : db.Records(school)) {
    if (r.subject == erased.subject) erased_records.push_back(std::move(r));
    if (r.subject == other.subject) other_records.push_back(std::move(r));
  }
  ASSERT_EQ(erased_records.size(), 25u) << "the backup still holds the erased subject's records";
  ASSERT_EQ(other_records.size(), 25u);

  // With the current key vault the erased subject has no key at all...
  auto vault_row = env.store->GetSubjectKey(school, erased.subject);
  ASSERT_TRUE(vault_row.ok());
  EXPECT_FALSE(vault_row->has_value());
  SubjectService fresh(env.deps(), env.schools, env.audit);  // nothing cached
  EXPECT_FALSE(fresh.SubjectKey(school, erased.subject).ok());
  // ...and no other key the deployment has opens its records.
  auto other_key = fresh.SubjectKey(school, other.subject);
  ASSERT_TRUE(other_key.ok());
  for (const auto& r : erased_records) {
    EXPECT_FALSE(fresh.OpenValue(*other_key, r).ok()) << r.field;
    EXPECT_EQ(r.sealed_value.find("probe-7f3a"), std::string::npos);
  }
  // The other subject's records from the same backup read normally.
  std::map<std::string, std::string> values;
  for (const auto& r : other_records) {
    auto v = fresh.OpenValue(*other_key, r);
    ASSERT_TRUE(v.ok()) << r.field << " in " << r.store;
    values[r.field] = *v;
  }
  EXPECT_EQ(values.at("email"), "other@example.org");
  EXPECT_EQ(values.at("last_name"), "Shevchenko");
}

TEST_F(SubjectServiceTest, B02_ABackupRestoredWithTheCurrentKeyVaultReadsOthersButNotTheErased) {
  IntakeReceipt erased = MustIntake(PaymentForm(kProbeEmail));
  IntakeReceipt other = MustIntake(PaymentForm("other@example.org", "Shevchenko"));
  const std::string sandbox = env.dir + "/sandbox";
  ASSERT_EQ(::mkdir(sandbox.c_str(), 0700), 0);
  ASSERT_TRUE(env.store->Backup(sandbox + "/data.db").ok());  // D 09:00
  env.clock.Advance(hours(1));
  ASSERT_TRUE(subjects.DestroySubject(school, erased.subject, "withdrawal", officer, ctx).ok());
  ASSERT_TRUE(env.store->BackupKeyVault(sandbox + "/keys.db").ok());  // the vault as it is now

  {
    auto restored = test::internal::MustOpenStore(sandbox, *env.crypto);
    Deps deps{*restored, *env.crypto, *env.keys, env.clock};
    Schools schools(deps);
    auto runtime = schools.Load(ReadShippedPolicy(kPolicyFile), kPolicyFile);
    ASSERT_TRUE(runtime.ok());
    AuditLog audit(deps);
    SubjectService restored_subjects(deps, schools, audit);
    GateLoader loader(restored_subjects, nullptr, nullptr, nullptr);
    loader.Install(**runtime, 1000);
    DataAccessService access(deps, schools, restored_subjects, audit);

    AccessRequest req;
    req.purpose = "contract_performance";
    req.fields = {"email", "last_name"};
    req.subject = other.subject;
    auto ok = access.Read(school, req, officer, ctx);
    ASSERT_TRUE(ok.ok()) << ok.error().ReasonOrCode();
    EXPECT_TRUE(ok->allowed);
    EXPECT_EQ(ok->values.at("email"), "other@example.org");

    req.subject = erased.subject;
    auto failed = access.Read(school, req, officer, ctx);
    if (failed.ok()) {
      EXPECT_FALSE(failed->allowed);
      EXPECT_TRUE(failed->values.empty()) << "the erased subject's fields fail to decrypt";
    }
    EXPECT_FALSE(restored_subjects.SubjectKey(school, erased.subject).ok());
  }
}

// --- Key rotation ---------------------------------------------------------------------------------

TEST_F(SubjectServiceTest, KeyRotationRewrapsEverySubjectKeyRetiresTheOldKekAndValuesStillOpen) {
  IntakeReceipt a = MustIntake(PaymentForm("a@example.org", "Antonenko"));
  IntakeReceipt b = MustIntake(MinorSubscription());
  auto before = env.keys->KekIds(school);
  ASSERT_TRUE(before.ok());
  ASSERT_EQ(before->size(), 1u);
  const std::string old_kek = before->front();
  auto old_row = env.store->GetSubjectKey(school, a.subject);
  ASSERT_TRUE(old_row.ok() && *old_row);
  EXPECT_EQ((*old_row)->kek_id, old_kek);
  // The vault holds the two subjects' keys and those reserved for the next intakes.
  int64_t in_vault = 0;
  ASSERT_TRUE(
      env.store->ForEachSubjectKey(school, [&](const ports::SubjectKeyRow&) { ++in_vault; }).ok());
  EXPECT_GE(in_vault, 2);

  auto report = subjects.RotateKeys(school, officer, ctx);
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_NE(report->new_kek, old_kek);
  EXPECT_EQ(report->rewrapped, in_vault);
  EXPECT_EQ(report->retired, std::vector<std::string>{old_kek});

  auto after = env.keys->KekIds(school);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(*after, std::vector<std::string>{report->new_kek}) << "the old KEK is gone";
  int rows = 0;
  ASSERT_TRUE(env.store
                  ->ForEachSubjectKey(school,
                                      [&](const ports::SubjectKeyRow& r) {
                                        ++rows;
                                        EXPECT_EQ(r.kek_id, report->new_kek);
                                        EXPECT_NE(r.wrapped_key, (*old_row)->wrapped_key);
                                      })
                  .ok());
  EXPECT_EQ(rows, in_vault);
  // The key as it was wrapped before can no longer be unwrapped.
  EXPECT_FALSE(env.keys
                   ->Unwrap(school, a.subject,
                            ports::WrappedKey{(*old_row)->kek_id, (*old_row)->wrapped_key})
                   .ok());

  SubjectService fresh(env.deps(), env.schools, env.audit);  // nothing cached: unwraps anew
  EXPECT_EQ(OpenAll(fresh, a.subject).at("email"), "a@example.org");
  EXPECT_EQ(OpenAll(fresh, b.subject).at("representative_name"), "Iryna Bondar");

  // A subject created afterwards is wrapped with the new KEK.
  IntakeReceipt c = MustIntake(PaymentForm("c@example.org", "Chorna"));
  auto c_row = env.store->GetSubjectKey(school, c.subject);
  ASSERT_TRUE(c_row.ok() && *c_row);
  EXPECT_EQ((*c_row)->kek_id, report->new_kek);

  const auto audit = AuditRows();
  EXPECT_TRUE(std::any_of(audit.begin(), audit.end(), [&](const ports::AuditRow& r) {
    return r.action == "keys.rotate" && r.detail.find(report->new_kek) != std::string::npos;
  }));
}

// --- Gate state after a restart ------------------------------------------------------------------

TEST_F(SubjectServiceTest, TheGateLoadsKindMinorStatusAndConsentWindowsOnFirstUseAfterARestart) {
  ConsentService consents(env.deps(), env.schools, subjects, env.audit);
  IntakeReceipt buyer = MustIntake(PaymentForm());
  IntakeReceipt minor = MustIntake(MinorSubscription());
  env.clock.Advance(hours(3));
  WithdrawRequest w;
  w.subject = buyer.subject;
  w.purposes = {"marketing_mailing"};
  w.channel = "support";
  ASSERT_TRUE(consents.Withdraw(school, w, officer, ctx).ok());
  env.clock.Advance(hours(1));

  // A new process: a fresh Schools and SubjectService over the same store and key ring.
  Schools restarted(env.deps());
  auto runtime = restarted.Load(ReadShippedPolicy(kPolicyFile), kPolicyFile);
  ASSERT_TRUE(runtime.ok());
  EXPECT_EQ((*runtime)->gate().size(), 0u);
  SubjectService restarted_subjects(env.deps(), restarted, env.audit);
  GateLoader loader(restarted_subjects, nullptr, nullptr, nullptr);
  loader.Install(**runtime, 1000);
  EXPECT_EQ((*runtime)->gate().size(), 0u) << "nothing is loaded before a subject's first use";

  auto cp = (*runtime)->policy();
  for (const SubjectId& id : {buyer.subject, minor.subject}) {
    domain::SubjectState live, rebuilt;
    bool have_live = Runtime().gate().With(id, [&](const domain::SubjectState* s) {
      if (s) live = *s;
      return s != nullptr;
    });
    bool have_rebuilt = (*runtime)->gate().With(id, [&](const domain::SubjectState* s) {
      if (s) rebuilt = *s;
      return s != nullptr;
    });
    ASSERT_TRUE(have_live && have_rebuilt);
    EXPECT_GT(rebuilt.version, 0) << "loaded with the store's gate version";
    EXPECT_EQ(rebuilt.kind, live.kind);
    EXPECT_EQ(rebuilt.closing, live.closing);
    EXPECT_EQ(rebuilt.minor_until_us, live.minor_until_us);
    ASSERT_EQ(rebuilt.consents.size(), live.consents.size());
    for (size_t i = 0; i < live.consents.size(); ++i) {
      EXPECT_EQ(rebuilt.consents[i].purpose, live.consents[i].purpose);
      EXPECT_EQ(rebuilt.consents[i].from_us, live.consents[i].from_us);
      EXPECT_EQ(rebuilt.consents[i].until_us, live.consents[i].until_us);
      EXPECT_EQ(rebuilt.consents[i].withdrawn, live.consents[i].withdrawn);
    }
  }
  EXPECT_EQ((*runtime)->gate().size(), 2u);
  EXPECT_EQ((*runtime)->gate().counters().misses, 2u);
  (*runtime)->gate().With(minor.subject, [&](const domain::SubjectState* s) {
    EXPECT_EQ(s->minor_until_us, domain::kForever) << "a self-declared minor stays a minor";
    EXPECT_EQ(s->kind, cp->SubjectKindIndex("subscriber"));
    return 0;
  });
  (*runtime)->gate().With(buyer.subject, [&](const domain::SubjectState* s) {
    EXPECT_EQ(s->minor_until_us, 0);
    EXPECT_EQ(s->kind, cp->SubjectKindIndex("buyer"));
    const domain::ConsentWindow* m =
        s->Consent(static_cast<size_t>(cp->PurposeIndex("marketing_mailing")));
    EXPECT_NE(m, nullptr);
    if (m) {
      EXPECT_TRUE(m->withdrawn);
      EXPECT_EQ(m->until_us, At("2025-03-03T12:00:00Z").time_since_epoch().count());
    }
    return 0;
  });

  // Decisions after the restart match the ledger.
  DataAccessService access(env.deps(), restarted, restarted_subjects, env.audit);
  AccessRequest req;
  req.subject = buyer.subject;
  req.purpose = "marketing_mailing";
  auto marketing = access.Decide(school, req, Actor::System("mailer"), ctx);
  ASSERT_TRUE(marketing.ok());
  EXPECT_EQ(marketing->reason, "consent_withdrawn");
  req.purpose = "contract_performance";
  auto contract = access.Decide(school, req, Actor::System("mailer"), ctx);
  ASSERT_TRUE(contract.ok());
  EXPECT_TRUE(contract->allowed) << contract->reason;
}

// --- Schools and policy versions (R112) -----------------------------------------------------------

TEST(Schools, R112_LoadingTheSamePolicyTextTwiceKeepsOnePublishedVersion) {
  TestEnv env;
  const std::string text = ReadShippedPolicy(kPolicyFile);
  auto first = env.schools.Load(text, kPolicyFile);
  ASSERT_TRUE(first.ok());
  auto again = env.schools.Load(text, kPolicyFile);
  ASSERT_TRUE(again.ok()) << again.error().ReasonOrCode();
  EXPECT_EQ(*first, *again) << "the same runtime is kept";
  auto versions = env.schools.Versions(SchoolId("vkluchi_zhizn"));
  ASSERT_TRUE(versions.ok());
  ASSERT_EQ(versions->size(), 1u);
  EXPECT_EQ((*versions)[0].version_id, "2025-03-03");
  EXPECT_EQ((*versions)[0].text, text);
  EXPECT_EQ((*versions)[0].sha256, ports::ToHex(env.crypto->Sha256(text)));
  EXPECT_EQ((*versions)[0].effective_date, "2025-03-03");
  EXPECT_EQ(env.schools.List(), std::vector<SchoolId>{SchoolId("vkluchi_zhizn")});
}

TEST(Schools, R112_AChangedTextUnderAPublishedVersionIdIsRefused) {
  TestEnv env;
  const std::string text = ReadShippedPolicy(kPolicyFile);
  auto first = env.schools.Load(text, kPolicyFile);
  ASSERT_TRUE(first.ok());
  const std::string changed = text + "\n# an unannounced edit\n";
  auto refused = env.schools.Load(changed, kPolicyFile);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kConflict);
  EXPECT_EQ(refused.error().reason, "policy_version_immutable");

  auto versions = env.schools.Versions(SchoolId("vkluchi_zhizn"));
  ASSERT_TRUE(versions.ok());
  ASSERT_EQ(versions->size(), 1u);
  EXPECT_EQ((*versions)[0].text, text) << "the published text is unchanged";
  EXPECT_EQ((*first)->sha256(), ports::ToHex(env.crypto->Sha256(text)))
      << "the policy in force is unchanged";
  EXPECT_EQ((*first)->text(), text);
}

TEST(Schools, R112_ANewVersionIdIsPublishedBesideTheOldOneWhichKeepsItsHash) {
  TestEnv env;
  const std::string v1 = ReadShippedPolicy(kPolicyFile);
  ASSERT_TRUE(env.schools.Load(v1, kPolicyFile).ok());
  std::string v2 = v1;
  const std::string old_id = "\nid = \"2025-03-03\"\n";
  auto at = v2.find(old_id);
  ASSERT_NE(at, std::string::npos);
  v2.replace(at, old_id.size(), "\nid = \"2025-04-01\"\n");
  auto loaded = env.schools.Load(v2, kPolicyFile);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ((*loaded)->version(), "2025-04-01");

  auto versions = env.schools.Versions(SchoolId("vkluchi_zhizn"));
  ASSERT_TRUE(versions.ok());
  ASSERT_EQ(versions->size(), 2u);
  std::map<std::string, std::string> sha;
  for (const auto& v : *versions) sha[v.version_id] = v.sha256;
  EXPECT_EQ(sha["2025-03-03"], ports::ToHex(env.crypto->Sha256(v1)));
  EXPECT_EQ(sha["2025-04-01"], ports::ToHex(env.crypto->Sha256(v2)));

  // A subject collected now references the version in force.
  SubjectService subjects(env.deps(), env.schools, env.audit);
  auto receipt = subjects.Intake(SchoolId("vkluchi_zhizn"), PaymentForm(), Actor::Public(),
                                 RequestContext{"req-2", "", ""});
  ASSERT_TRUE(receipt.ok());
  EXPECT_EQ(receipt->policy_version, "2025-04-01");
  for (const auto& c : receipt->consents) EXPECT_EQ(c.policy_version, "2025-04-01");
}

TEST(Schools, AnUnknownSchoolIsNotServed) {
  TestEnv env;
  auto r = env.schools.Get(SchoolId("nobody"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, "school_unknown");
}

TEST(Schools, AnInvalidPolicyIsRefused) {
  TestEnv env;
  auto r = env.schools.Load("format = 1\n[school]\nid = \"broken\"\n", "broken.toml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, "policy_invalid");
  EXPECT_TRUE(env.schools.List().empty());
}

}  // namespace
}  // namespace dovira::services
