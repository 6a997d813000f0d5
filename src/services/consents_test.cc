#include "services/consents.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "services/data_access.h"
#include "services/subjects.h"
#include "services/test_env.h"

namespace dovira::services {
namespace {

using std::chrono::hours;
using std::chrono::seconds;
using test::At;
using test::TestEnv;

const std::vector<std::string> kBundledGrants = {
    "processing",     "third_party_transfer", "processor_entrustment",
    "cross_border",   "contract_mailing",     "marketing_mailing",
};

std::vector<std::string> Sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

domain::Submission PaymentForm() {
  domain::Submission s;
  s.form = "payment";
  s.fields = {{"first_name", "Oksana"},
              {"last_name", "Melnyk"},
              {"email", "oksana@example.org"},
              {"mobile_phone", "+380671234567"},
              {"purchased_service", "Course A"},
              {"purchase_amount", "990"}};
  s.ticked = {"pd_consent"};
  s.accept_policy = true;
  s.age_statement = "adult";
  s.lang = "uk";
  return s;
}

// A subscriber known through the API, with no consent given yet.
domain::Submission ApiSubscriber() {
  domain::Submission s;
  s.subject_kind = "subscriber";
  s.channel = "personal_account";
  s.fields = {{"first_name", "Petro"}, {"email", "petro@example.org"}};
  return s;
}

class ConsentServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(env.LoadShipped("001_vkluchi_zhizn.toml").ok()); }

  SubjectId MustIntake(const domain::Submission& s, const SchoolId& in) {
    auto r = subjects.Intake(in, s, Actor::Public(), ctx);
    EXPECT_TRUE(r.ok()) << r.error().ReasonOrCode() << ": " << r.error().message;
    return r.ok() ? r->subject : SubjectId();
  }
  SubjectId MustIntake(const domain::Submission& s) { return MustIntake(s, school); }

  std::vector<ports::ConsentRow> LedgerOf(const SubjectId& id, const SchoolId& in) {
    auto rows = consents.Ledger(in, id, officer, ctx);
    EXPECT_TRUE(rows.ok());
    return rows.ok() ? *rows : std::vector<ports::ConsentRow>{};
  }
  std::vector<ports::ConsentRow> LedgerOf(const SubjectId& id) { return LedgerOf(id, school); }

  // The gate's reason for a decision-only use of `purpose` by a system job, now.
  std::string Gate(const SubjectId& id, const std::string& purpose,
                   const SchoolId& in = SchoolId("vkluchi_zhizn")) {
    AccessRequest req;
    req.subject = id;
    req.purpose = purpose;
    auto r = access.Decide(in, req, Actor::System("mailer"), ctx);
    EXPECT_TRUE(r.ok());
    return r.ok() ? r->reason : "error";
  }

  GrantRequest Grant(const SubjectId& id, const std::string& text = "I agree to the processing") {
    GrantRequest g;
    g.subject = id;
    g.consent_type = "personal_data";
    g.text = text;
    g.lang = "en";
    g.channel = "payment";  // 001 takes this consent on its subscription, application and payment forms
    return g;
  }

  std::vector<ports::AuditRow> AuditRows(const SchoolId& in) {
    std::vector<ports::AuditRow> rows;
    EXPECT_TRUE(env.store
                    ->ForEachAudit(in, 0,
                                   [&](const ports::AuditRow& r) {
                                     rows.push_back(r);
                                     return true;
                                   })
                    .ok());
    return rows;
  }

  std::string Hex256(const std::string& text) { return ports::ToHex(env.crypto->Sha256(text)); }

  TestEnv env;
  SubjectService subjects{env.deps(), env.schools, env.audit};
  ConsentService consents{env.deps(), env.schools, subjects, env.audit};
  DataAccessService access{env.deps(), env.schools, subjects, env.audit};
  const SchoolId school{"vkluchi_zhizn"};
  const RequestContext ctx{"req-1", "203.0.113.7", "test-agent"};
  const Actor officer{Actor::Kind::kStaff, "st-support", "support", {}, true};
};

// --- Grants ---------------------------------------------------------------------------------------

TEST_F(ConsentServiceTest, R16_TheFormCheckboxRecordsOneConsentWithTheSixBundledGrants) {
  auto receipt = subjects.Intake(school, PaymentForm(), Actor::Public(), ctx);
  ASSERT_TRUE(receipt.ok());
  ASSERT_EQ(receipt->consents.size(), 1u);
  EXPECT_EQ(Sorted(receipt->consents[0].grants), Sorted(kBundledGrants));

  const auto ledger = LedgerOf(receipt->subject);
  ASSERT_EQ(ledger.size(), 1u) << "one consent id, not six";
  const ports::ConsentRow& row = ledger[0];
  EXPECT_EQ(row.id, receipt->consents[0].id);
  EXPECT_EQ(row.action, "grant");
  EXPECT_EQ(row.consent_type, "personal_data");
  EXPECT_EQ(Sorted(row.grants), Sorted(kBundledGrants));
  EXPECT_EQ(row.form, "payment");
  EXPECT_EQ(row.checkbox, "pd_consent");
  EXPECT_EQ(row.channel, "payment");
  EXPECT_EQ(row.policy_version, "2025-03-03");
  EXPECT_EQ(row.lang, "uk");
  EXPECT_EQ(row.given_by, "subject");
  EXPECT_EQ(row.at, At("2025-03-03T09:00:00Z"));
  EXPECT_FALSE(row.expires_at.has_value()) << "001's consent is indefinite";
  // R101: the evidence keeps the network, not the address.
  EXPECT_NE(row.evidence.find("203.0.113.0/24"), std::string::npos) << row.evidence;
  EXPECT_EQ(row.evidence.find("203.0.113.7"), std::string::npos);
  EXPECT_EQ(row.evidence.find("test-agent"), std::string::npos);
}

TEST_F(ConsentServiceTest, B07_TheLedgerKeepsTheExactCheckboxTextAndItsSha256) {
  auto receipt = subjects.Intake(school, PaymentForm(), Actor::Public(), ctx);
  ASSERT_TRUE(receipt.ok());
  const std::string shown = "Я згоден на обробку моїх персональних даних";  // 001 §3.2.3, uk
  const auto ledger = LedgerOf(receipt->subject);
  ASSERT_EQ(ledger.size(), 1u);
  EXPECT_EQ(ledger[0].text, shown);
  EXPECT_EQ(ledger[0].text_sha256, Hex256(shown));
  EXPECT_EQ(receipt->consents[0].text_sha256, Hex256(shown)) << "the receipt shows the same hash";
  // R19: the withdrawal procedure is shown when consent is given.
  const auto& pol = (*env.schools.Get(school))->policy()->policy();
  EXPECT_EQ(receipt->consents[0].withdrawal_procedure,
            pol.consents.at("personal_data").withdrawal_procedure.Get("uk", "ru"));
  EXPECT_FALSE(receipt->consents[0].withdrawal_procedure.empty());
}

TEST_F(ConsentServiceTest, B07_TheTextHashIsStandardSha256) {
  SubjectId id = MustIntake(ApiSubscriber());
  auto r = consents.Grant(school, Grant(id, "abc"), officer, ctx);
  ASSERT_TRUE(r.ok()) << r.error().ReasonOrCode();
  // FIPS 180-2 test vector: verifiable with any standard tool.
  EXPECT_EQ(r->text_sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(LedgerOf(id).back().text_sha256, r->text_sha256);
}

TEST_F(ConsentServiceTest, R19_AGrantReceiptShowsTheWithdrawalProcedureInItsLanguage) {
  SubjectId id = MustIntake(ApiSubscriber());
  auto r = consents.Grant(school, Grant(id), officer, ctx);
  ASSERT_TRUE(r.ok());
  const auto& pol = (*env.schools.Get(school))->policy()->policy();
  EXPECT_EQ(r->withdrawal_procedure,
            pol.consents.at("personal_data").withdrawal_procedure.Get("en", "ru"));
  EXPECT_EQ(r->withdrawal_procedure.rfind("You may withdraw your consent at any time", 0), 0u);
  EXPECT_EQ(r->policy_version, "2025-03-03");
  EXPECT_EQ(Sorted(r->grants), Sorted(kBundledGrants));
}

TEST_F(ConsentServiceTest, R19_GrantsAndWithdrawalsAppendRowsAndNeverEditEarlierOnes) {
  SubjectId id = MustIntake(PaymentForm());
  const auto initial = LedgerOf(id);
  ASSERT_EQ(initial.size(), 1u);

  env.clock.Advance(hours(1));
  auto regrant = consents.Grant(school, Grant(id, "Renewed consent text"), officer, ctx);
  ASSERT_TRUE(regrant.ok());
  env.clock.Advance(hours(1));
  WithdrawRequest w;
  w.subject = id;
  w.channel = "support";
  auto withdrawn = consents.Withdraw(school, w, officer, ctx);
  ASSERT_TRUE(withdrawn.ok()) << withdrawn.error().ReasonOrCode();
  ASSERT_EQ(withdrawn->size(), 1u);

  const auto ledger = LedgerOf(id);
  ASSERT_EQ(ledger.size(), 3u);
  // The first row is exactly as it was.
  EXPECT_EQ(ledger[0].id, initial[0].id);
  EXPECT_EQ(ledger[0].action, "grant");
  EXPECT_EQ(ledger[0].grants, initial[0].grants);
  EXPECT_EQ(ledger[0].text, initial[0].text);
  EXPECT_EQ(ledger[0].text_sha256, initial[0].text_sha256);
  EXPECT_EQ(ledger[0].at, initial[0].at);
  EXPECT_EQ(ledger[0].evidence, initial[0].evidence);
  // Then the new grant, then the withdrawal, in order.
  EXPECT_EQ(ledger[1].id, regrant->id);
  EXPECT_EQ(ledger[1].action, "grant");
  EXPECT_EQ(ledger[1].text, "Renewed consent text");
  EXPECT_EQ(ledger[1].text_sha256, Hex256("Renewed consent text"));
  EXPECT_EQ(ledger[1].channel, "payment");
  EXPECT_EQ(ledger[1].lang, "en");
  EXPECT_EQ(ledger[1].at, At("2025-03-03T10:00:00Z"));
  EXPECT_EQ(ledger[2].id, (*withdrawn)[0].id);
  EXPECT_EQ(ledger[2].action, "withdraw");
  EXPECT_EQ(Sorted(ledger[2].grants), Sorted(kBundledGrants));
  EXPECT_EQ(ledger[2].channel, "support");
  EXPECT_EQ(ledger[2].given_by, "staff");
  EXPECT_EQ(ledger[2].at, At("2025-03-03T11:00:00Z"));
}

TEST_F(ConsentServiceTest, R19_TheStoreRefusesToUpdateOrDeleteALedgerRow) {
  SubjectId id = MustIntake(PaymentForm());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2((env.dir + "/store/data.db").c_str(), &db, SQLITE_OPEN_READWRITE,
                            nullptr),
            SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  char* error = nullptr;
  EXPECT_NE(sqlite3_exec(db, "UPDATE consents SET text = 'edited'", nullptr, nullptr, &error),
            SQLITE_OK);
  ASSERT_NE(error, nullptr);
  EXPECT_NE(std::string(error).find("append-only"), std::string::npos) << error;
  sqlite3_free(error);
  error = nullptr;
  EXPECT_NE(sqlite3_exec(db, "DELETE FROM consents", nullptr, nullptr, &error), SQLITE_OK);
  sqlite3_free(error);
  sqlite3_close_v2(db);
  const auto ledger = LedgerOf(id);
  ASSERT_EQ(ledger.size(), 1u);
  EXPECT_NE(ledger[0].text, "edited");
}

TEST_F(ConsentServiceTest, R88_GrantAndWithdrawalAreAuditedByPseudonymWithTheTextHash) {
  SubjectId id = MustIntake(ApiSubscriber());
  auto g = consents.Grant(school, Grant(id), officer, ctx);
  ASSERT_TRUE(g.ok());
  WithdrawRequest w;
  w.subject = id;
  w.purposes = {"marketing_mailing"};
  w.channel = "email";
  ASSERT_TRUE(consents.Withdraw(school, w, officer, ctx).ok());
  auto pn = env.audit.Pseudonym(school, id);
  ASSERT_TRUE(pn.ok());
  const auto rows = AuditRows(school);
  auto grant = std::find_if(rows.begin(), rows.end(),
                            [](const ports::AuditRow& r) { return r.action == "consent.grant"; });
  ASSERT_NE(grant, rows.end());
  EXPECT_EQ(grant->subject_ref, *pn);
  EXPECT_EQ(grant->actor, "staff:st-support");
  EXPECT_NE(grant->detail.find(g->text_sha256), std::string::npos);
  EXPECT_NE(grant->detail.find(g->id.value()), std::string::npos);
  auto withdrawal = std::find_if(rows.begin(), rows.end(), [](const ports::AuditRow& r) {
    return r.action == "consent.withdraw";
  });
  ASSERT_NE(withdrawal, rows.end());
  EXPECT_EQ(withdrawal->subject_ref, *pn);
  EXPECT_EQ(withdrawal->purpose, "marketing_mailing");
  for (const auto& r : rows) {
    EXPECT_EQ(r.detail.find(id.value()), std::string::npos);
    EXPECT_NE(r.subject_ref, id.value());
  }
}

TEST_F(ConsentServiceTest, GrantRefusesWhatItCannotRecordFaithfully) {
  SubjectId id = MustIntake(ApiSubscriber());
  auto reason = [&](const GrantRequest& g) {
    auto r = consents.Grant(school, g, officer, ctx);
    return r.ok() ? std::string("ok") : r.error().ReasonOrCode();
  };
  GrantRequest g = Grant(id);
  g.consent_type = "newsletter";
  EXPECT_EQ(reason(g), "consent_unknown");
  g = Grant(id, "");
  EXPECT_EQ(reason(g), "text_required");
  g = Grant(id);
  g.channel = "carrier_pigeon";
  EXPECT_EQ(reason(g), "channel_invalid");
  g = Grant(id);
  g.at = env.clock.Now() + seconds(1);
  EXPECT_EQ(reason(g), "time_in_future");
  g = Grant(SubjectId("no-such-subject"));
  EXPECT_EQ(reason(g), "subject_unknown");
  g = Grant(id);
  g.expires = "2025-02-30";
  EXPECT_EQ(reason(g), "field_invalid");
  EXPECT_TRUE(LedgerOf(id).empty()) << "nothing recorded";
  EXPECT_EQ(Gate(id, "marketing_mailing"), "no_consent");
}

TEST_F(ConsentServiceTest, R18_AConsentIsRecordedOnlyThroughTheChannelsItsTypeDeclares) {
  SubjectId id = MustIntake(ApiSubscriber());
  // 001 takes its bundled consent only on its three forms, never as a separate written consent
  // (§3.2.3): a written one is refused and nothing is recorded.
  GrantRequest g = Grant(id);
  g.channel = "written";
  g.evidence_document = "scan-2025-03-03-0001.pdf";
  auto refused = consents.Grant(school, g, officer, ctx);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kRefused);
  EXPECT_EQ(refused.error().reason, "channel_invalid");
  EXPECT_TRUE(LedgerOf(id).empty());
  g.channel = "subscription_form";
  auto granted = consents.Grant(school, g, officer, ctx);
  ASSERT_TRUE(granted.ok()) << granted.error().ReasonOrCode();
  EXPECT_EQ(granted->channel, "subscription_form");
}

TEST_F(ConsentServiceTest, R18_AConsentTypeThatRequiresEvidenceIsRefusedWithoutIt) {
  ASSERT_TRUE(env.LoadShipped("004_bbooster_masterclass.toml").ok());
  const SchoolId bbooster("bbooster-masterclass");
  domain::Submission s;
  s.subject_kind = "applicant";
  s.channel = "paper";
  s.source = "offline";
  s.fields = {{"first_name", "Ivan"}, {"last_name", "Franko"}};
  SubjectId id = MustIntake(s, bbooster);
  GrantRequest g;
  g.subject = id;
  g.consent_type = "written_processing";
  g.text = "I give my written consent to process my personal data.";
  g.channel = "written";
  auto refused = consents.Grant(bbooster, g, officer, ctx);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().reason, "evidence_required");
  g.evidence_document = "signed-consent-0042.pdf";
  auto granted = consents.Grant(bbooster, g, officer, ctx);
  ASSERT_TRUE(granted.ok()) << granted.error().ReasonOrCode();
  EXPECT_EQ(Gate(id, "contact_maintenance", bbooster), "allowed");
}

TEST_F(ConsentServiceTest, R18_NoLedgerRowOfAConsentThatRequiresEvidenceLacksTheDocument) {
  // 004's written consent form records the consent type written_processing, whose policy says
  // evidence_required = true. Whatever way it reaches the ledger, the row must name the document.
  ASSERT_TRUE(env.LoadShipped("004_bbooster_masterclass.toml").ok());
  const SchoolId bbooster("bbooster-masterclass");
  domain::Submission s;
  s.form = "written_consent";
  s.fields = {{"first_name", "Ivan"}, {"last_name", "Franko"}};
  s.ticked = {"written_processing"};
  s.accept_policy = true;
  s.age_statement = "adult";
  auto receipt = subjects.Intake(bbooster, s, Actor::Public(), ctx);
  if (!receipt.ok()) {
    SUCCEED() << "refused: " << receipt.error().ReasonOrCode();
    return;
  }
  for (const auto& row : LedgerOf(receipt->subject, bbooster)) {
    if (row.consent_type != "written_processing" || row.action != "grant") continue;
    EXPECT_NE(row.evidence.find("\"document\":\""), std::string::npos)
        << "a written consent recorded without its signed document: " << row.evidence;
    EXPECT_EQ(row.evidence.find("\"document\":\"\""), std::string::npos) << row.evidence;
  }
}

TEST_F(ConsentServiceTest, R18_TheWrittenConsentFormRecordsTheSignedDocumentWithTheConsent) {
  ASSERT_TRUE(env.LoadShipped("004_bbooster_masterclass.toml").ok());
  const SchoolId bbooster("bbooster-masterclass");
  domain::Submission s;
  s.form = "written_consent";
  s.fields = {{"first_name", "Ivan"}, {"last_name", "Franko"}};
  s.ticked = {"written_processing"};
  s.accept_policy = true;
  s.age_statement = "adult";
  s.evidence_document = "signed-consent-0042.pdf";
  SubjectId id = MustIntake(s, bbooster);
  const auto ledger = LedgerOf(id, bbooster);
  ASSERT_EQ(ledger.size(), 1u);
  EXPECT_EQ(ledger[0].consent_type, "written_processing");
  EXPECT_EQ(ledger[0].channel, "written");
  EXPECT_NE(ledger[0].evidence.find("\"document\":\"signed-consent-0042.pdf\""),
            std::string::npos)
      << ledger[0].evidence;
}

// --- Withdrawals ----------------------------------------------------------------------------------

TEST_F(ConsentServiceTest, R20_WithdrawingMarketingAloneLeavesTheOtherGrantsOfTheConsent) {
  SubjectId id = MustIntake(PaymentForm());
  EXPECT_EQ(Gate(id, "marketing_mailing"), "allowed");
  env.clock.Advance(hours(1));
  WithdrawRequest w;
  w.subject = id;
  w.purposes = {"marketing_mailing"};
  w.channel = "email";
  auto first = consents.Withdraw(school, w, officer, ctx);
  ASSERT_TRUE(first.ok()) << first.error().ReasonOrCode();
  ASSERT_EQ(first->size(), 1u);
  EXPECT_EQ((*first)[0].grants, std::vector<std::string>{"marketing_mailing"});

  EXPECT_EQ(Gate(id, "marketing_mailing"), "consent_withdrawn");
  EXPECT_EQ(Gate(id, "contract_mailing"), "allowed") << "contract mailings continue (R103)";
  EXPECT_EQ(Gate(id, "contract_performance"), "allowed");
  EXPECT_EQ(Gate(id, "identification"), "allowed");

  // The other five grants are still active: a full withdrawal later takes exactly those.
  env.clock.Advance(hours(1));
  w.purposes.clear();
  auto rest = consents.Withdraw(school, w, officer, ctx);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->size(), 1u);
  std::vector<std::string> expected = kBundledGrants;
  expected.erase(std::find(expected.begin(), expected.end(), "marketing_mailing"));
  EXPECT_EQ(Sorted((*rest)[0].grants), Sorted(expected));

  auto nothing = consents.Withdraw(school, w, officer, ctx);
  ASSERT_FALSE(nothing.ok());
  EXPECT_EQ(nothing.error().reason, "nothing_to_withdraw");
  EXPECT_EQ(LedgerOf(id).size(), 3u);
}

TEST_F(ConsentServiceTest, R20_WithdrawingOneConsentTypeLeavesTheOtherConsentsAndPurposes) {
  ASSERT_TRUE(env.LoadShipped("004_bbooster_masterclass.toml").ok());
  const SchoolId bbooster("bbooster-masterclass");
  domain::Submission s;
  s.form = "masterclass";
  s.fields = {{"first_name", "Ivan"}, {"email", "ivan@example.org"}, {"phone", "+380501112233"}};
  s.ticked = {"button_consent", "marketing_optin", "research_optin"};
  s.accept_policy = true;
  s.age_statement = "adult";
  SubjectId id = MustIntake(s, bbooster);
  EXPECT_EQ(Gate(id, "ad_targeting_research", bbooster), "allowed");

  env.clock.Advance(hours(1));
  WithdrawRequest w;
  w.subject = id;
  w.consent_types = {"research_targeting"};
  w.channel = "email";
  auto r = consents.Withdraw(bbooster, w, officer, ctx);
  ASSERT_TRUE(r.ok()) << r.error().ReasonOrCode();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].consent_type, "research_targeting");

  EXPECT_EQ(Gate(id, "ad_targeting_research", bbooster), "consent_withdrawn");
  EXPECT_EQ(Gate(id, "marketing_communications", bbooster), "allowed");
  EXPECT_EQ(Gate(id, "contact_maintenance", bbooster), "allowed");
  EXPECT_EQ(Gate(id, "account_management", bbooster), "allowed");
}

TEST_F(ConsentServiceTest, WithdrawRefusesUnknownConsentsPurposesAndSubjects) {
  SubjectId id = MustIntake(PaymentForm());
  auto reason = [&](const WithdrawRequest& w) {
    auto r = consents.Withdraw(school, w, officer, ctx);
    return r.ok() ? std::string("ok") : r.error().ReasonOrCode();
  };
  WithdrawRequest w;
  w.subject = id;
  w.channel = "support";
  w.consent_types = {"newsletter"};
  EXPECT_EQ(reason(w), "consent_unknown");
  w.consent_types.clear();
  w.purposes = {"partner_programme"};
  EXPECT_EQ(reason(w), "purpose_undeclared");
  w.purposes.clear();
  w.subject = SubjectId("no-such-subject");
  EXPECT_EQ(reason(w), "subject_unknown");
  EXPECT_EQ(LedgerOf(id).size(), 1u);
  EXPECT_EQ(Gate(id, "marketing_mailing"), "allowed");
}

TEST_F(ConsentServiceTest, R55_AWithdrawalTakesEffectFromItsReceiptNotFromWhenItIsLogged) {
  SubjectId id = MustIntake(PaymentForm());  // 2025-03-03 09:00
  // A support e-mail received on 03-04 at 09:00 is logged at 15:00.
  env.clock.Set(At("2025-03-04T15:00:00Z"));
  WithdrawRequest w;
  w.subject = id;
  w.channel = "support";
  w.received_at = At("2025-03-04T09:00:00Z");
  auto r = consents.Withdraw(school, w, officer, ctx);
  ASSERT_TRUE(r.ok()) << r.error().ReasonOrCode();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].at, At("2025-03-04T09:00:00Z"));
  EXPECT_EQ(LedgerOf(id).back().at, At("2025-03-04T09:00:00Z"));

  EXPECT_EQ(Gate(id, "marketing_mailing"), "consent_withdrawn");
  env.clock.Set(At("2025-03-04T09:00:01Z"));
  EXPECT_EQ(Gate(id, "marketing_mailing"), "consent_withdrawn") << "stopped from 09:00:01";
  env.clock.Set(At("2025-03-04T09:00:00Z"));
  EXPECT_EQ(Gate(id, "marketing_mailing"), "consent_withdrawn") << "stopped at receipt";
  env.clock.Set(At("2025-03-04T08:59:59Z"));
  EXPECT_EQ(Gate(id, "marketing_mailing"), "allowed") << "before receipt the consent stood";
}

TEST_F(ConsentServiceTest, R55_AWithdrawalReceivedInTheFutureIsRefused) {
  SubjectId id = MustIntake(PaymentForm());
  WithdrawRequest w;
  w.subject = id;
  w.channel = "support";
  w.received_at = env.clock.Now() + hours(1);
  auto r = consents.Withdraw(school, w, officer, ctx);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, "time_in_future");
  EXPECT_EQ(LedgerOf(id).size(), 1u);
  EXPECT_EQ(Gate(id, "marketing_mailing"), "allowed");
}

// --- Expiry (R21) ---------------------------------------------------------------------------------

TEST_F(ConsentServiceTest, R21_AConsentWithAnExpiryDateStopsAfterItsLastDayInTheSchoolsZone) {
  SubjectId id = MustIntake(ApiSubscriber());
  EXPECT_EQ(Gate(id, "marketing_mailing"), "no_consent") << "R29: no grant, no consent purpose";
  GrantRequest g = Grant(id);
  g.expires = "2025-04-02";
  auto r = consents.Grant(school, g, officer, ctx);
  ASSERT_TRUE(r.ok()) << r.error().ReasonOrCode();
  // 001 keeps Kyiv time (UTC+3 in April): the last day ends at 2025-04-02T23:59:59+03:00.
  ASSERT_TRUE(r->expires_at.has_value());
  EXPECT_EQ(*r->expires_at, At("2025-04-03T00:00:00+03:00"));
  EXPECT_EQ(LedgerOf(id).back().expires_at, r->expires_at);

  EXPECT_EQ(Gate(id, "marketing_mailing"), "allowed");
  env.clock.Set(At("2025-04-02T23:59:00+03:00"));
  EXPECT_EQ(Gate(id, "marketing_mailing"), "allowed");
  env.clock.Set(At("2025-04-03T00:00:00+03:00"));
  EXPECT_EQ(Gate(id, "marketing_mailing"), "consent_expired");
  EXPECT_EQ(Gate(id, "contract_mailing"), "subject_kind_excluded")
      << "a subscriber has no contract";

  // Nothing is active any more, so there is nothing to withdraw; a new grant reopens the purpose.
  WithdrawRequest w;
  w.subject = id;
  w.channel = "support";
  auto withdrawn = consents.Withdraw(school, w, officer, ctx);
  ASSERT_FALSE(withdrawn.ok());
  EXPECT_EQ(withdrawn.error().reason, "nothing_to_withdraw");
  ASSERT_TRUE(consents.Grant(school, Grant(id), officer, ctx).ok());
  EXPECT_EQ(Gate(id, "marketing_mailing"), "allowed");
}

TEST_F(ConsentServiceTest, R21_APolicyTermEndsTheConsentWithoutAnyDateGiven) {
  // 003's cookie_statistics consent lasts one calendar month.
  ASSERT_TRUE(env.LoadShipped("003_it_pro.toml").ok());
  const SchoolId itpro("it-pro");
  domain::Submission s;
  s.subject_kind = "visitor";
  s.channel = "personal_account";
  s.source = "automatic";
  s.fields = {{"cookie_id", "ga-1.2.345"}};
  SubjectId id = MustIntake(s, itpro);
  GrantRequest g;
  g.subject = id;
  g.consent_type = "cookie_statistics";
  g.text = "Allow statistics cookies";
  g.channel = "personal_account";
  auto r = consents.Grant(itpro, g, officer, ctx);
  ASSERT_TRUE(r.ok()) << r.error().ReasonOrCode();
  ASSERT_TRUE(r->expires_at.has_value());
  EXPECT_GT(*r->expires_at, At("2025-04-02T00:00:00Z"));
  EXPECT_LT(*r->expires_at, At("2025-04-05T00:00:00Z"));

  EXPECT_EQ(Gate(id, "web_analytics", itpro), "allowed");
  env.clock.Set(*r->expires_at - seconds(1));
  EXPECT_EQ(Gate(id, "web_analytics", itpro), "allowed");
  env.clock.Set(*r->expires_at);
  EXPECT_EQ(Gate(id, "web_analytics", itpro), "consent_expired");
}

TEST_F(ConsentServiceTest, R21_AnExpiryLaterThanThePolicyTermDoesNotExtendIt) {
  ASSERT_TRUE(env.LoadShipped("003_it_pro.toml").ok());
  const SchoolId itpro("it-pro");
  domain::Submission s;
  s.subject_kind = "visitor";
  s.channel = "personal_account";
  s.source = "automatic";
  s.fields = {{"cookie_id", "ga-1.2.346"}};
  SubjectId id = MustIntake(s, itpro);
  GrantRequest g;
  g.subject = id;
  g.consent_type = "cookie_statistics";
  g.text = "Allow statistics cookies";
  g.channel = "personal_account";
  auto by_term = consents.Grant(itpro, g, officer, ctx);
  ASSERT_TRUE(by_term.ok());
  g.expires = "2026-01-01";
  auto later = consents.Grant(itpro, g, officer, ctx);
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(later->expires_at, by_term->expires_at) << "the earlier of the two ends it";
}

}  // namespace
}  // namespace dovira::services
