#include "services/data_access.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "services/consents.h"
#include "services/subjects.h"
#include "services/test_env.h"

namespace dovira::services {
namespace {

using std::chrono::seconds;
using test::TestEnv;

std::set<std::string> Keys(const std::map<std::string, std::string>& m) {
  std::set<std::string> out;
  for (const auto& [k, v] : m) out.insert(k);
  return out;
}

std::set<std::string> AsSet(const std::vector<std::string>& v) { return {v.begin(), v.end()}; }

class DataAccessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(env.LoadShipped("001_vkluchi_zhizn.toml").ok());
    domain::Submission s;
    s.form = "payment";
    s.fields = {{"first_name", "Oksana"},
                {"last_name", "Melnyk"},
                {"email", "Oksana@Example.org"},
                {"mobile_phone", "+380671234567"},
                {"home_address", "Lviv, Rynok 1"},
                {"purchased_service", "Course A"},
                {"purchase_amount", "990"}};
    s.ticked = {"pd_consent"};
    s.accept_policy = true;
    s.age_statement = "adult";
    auto r = subjects.Intake(school, s, Actor::Public(), ctx);
    ASSERT_TRUE(r.ok()) << r.error().ReasonOrCode();
    buyer = r->subject;
    auto pn = env.audit.Pseudonym(school, buyer);
    ASSERT_TRUE(pn.ok());
    pseudonym = *pn;
  }

  AccessRequest Request(const std::string& purpose, std::vector<std::string> fields = {}) {
    AccessRequest req;
    req.subject = buyer;
    req.purpose = purpose;
    req.fields = std::move(fields);
    return req;
  }

  AccessResult MustRead(const AccessRequest& req, const Actor& actor) {
    auto r = access.Read(school, req, actor, ctx);
    EXPECT_TRUE(r.ok()) << r.error().ReasonOrCode();
    return r.ok() ? *r : AccessResult{};
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

  std::optional<ports::AuditRow> AuditOf(const std::string& decision_id) {
    for (const auto& r : AuditRows()) {
      if (r.decision_id == decision_id) return r;
    }
    return std::nullopt;
  }

  static Actor Staff(const std::string& role, bool briefed = true) {
    return Actor{Actor::Kind::kStaff, "st-" + role, role, {}, briefed};
  }
  static Actor ApiKey(const std::string& role, std::vector<std::string> purposes) {
    return Actor{Actor::Kind::kApiKey, "key-crm", role, std::move(purposes), true};
  }

  TestEnv env;
  SubjectService subjects{env.deps(), env.schools, env.audit};
  DataAccessService access{env.deps(), env.schools, subjects, env.audit};
  const SchoolId school{"vkluchi_zhizn"};
  const RequestContext ctx{"req-7", "198.51.100.4", "agent"};
  SubjectId buyer;
  std::string pseudonym;
};

// --- Purposes (R28, R88) --------------------------------------------------------------------------

TEST_F(DataAccessTest, R28_AnUndeclaredPurposeIsDenied) {
  AccessResult r = MustRead(Request("partner_programme"), Staff("responsible_person"));
  EXPECT_FALSE(r.allowed);
  EXPECT_EQ(r.reason, "purpose_undeclared");
  EXPECT_EQ(r.status, 403);
  EXPECT_TRUE(r.values.empty());
  EXPECT_TRUE(r.fields.empty());
  EXPECT_EQ(r.decision_id.rfind("dec_", 0), 0u);

  auto decided = access.Decide(school, Request("partner_programme"), Actor::System("export"), ctx);
  ASSERT_TRUE(decided.ok());
  EXPECT_EQ(decided->reason, "purpose_undeclared") << "internal jobs pass the same check";
}

TEST_F(DataAccessTest, R88_ADeniedAttemptIsAuditedWithDecisionIdPurposeOutcomeAndPseudonym) {
  AccessResult r = MustRead(Request("partner_programme", {"email"}), Staff("responsible_person"));
  ASSERT_FALSE(r.allowed);
  auto entry = AuditOf(r.decision_id);
  ASSERT_TRUE(entry.has_value()) << "every denied attempt is audited";
  EXPECT_EQ(entry->action, "gate.read");
  EXPECT_EQ(entry->purpose, "partner_programme");
  EXPECT_EQ(entry->outcome, "deny");
  EXPECT_EQ(entry->reason, "purpose_undeclared");
  EXPECT_EQ(entry->fields, "email");
  EXPECT_EQ(entry->subject_ref, pseudonym);
  EXPECT_EQ(entry->actor, "staff:st-responsible_person");
  EXPECT_EQ(entry->role, "responsible_person");
  EXPECT_EQ(entry->request_id, "req-7");
  for (const auto& row : AuditRows()) {
    for (const std::string* f : {&row.actor, &row.subject_ref, &row.purpose, &row.fields,
                                 &row.reason, &row.decision_id, &row.detail}) {
      EXPECT_EQ(f->find(buyer.value()), std::string::npos) << "never the subject id";
    }
  }
}

TEST_F(DataAccessTest, R88_AnAllowedReadIsAuditedWithTheReleasedFieldsAndNoValues) {
  AccessResult r = MustRead(Request("contract_performance", {"email", "home_address"}),
                            Staff("finance", true));
  // finance sees identity, address and purchases: e-mail is outside its categories.
  EXPECT_EQ(r.reason, "field_not_in_role");
  r = MustRead(Request("contract_performance", {"last_name", "home_address"}), Staff("finance"));
  ASSERT_TRUE(r.allowed) << r.reason;
  auto entry = AuditOf(r.decision_id);
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(entry->outcome, "allow");
  EXPECT_EQ(entry->reason, "allowed");
  EXPECT_EQ(entry->purpose, "contract_performance");
  EXPECT_EQ(AsSet({entry->fields.substr(0, entry->fields.find(',')),
                   entry->fields.substr(entry->fields.find(',') + 1)}),
            (std::set<std::string>{"last_name", "home_address"}));
  EXPECT_EQ(entry->subject_ref, pseudonym);
  for (const auto& row : AuditRows()) {
    EXPECT_EQ(row.detail.find("Rynok"), std::string::npos);
    EXPECT_EQ(row.fields.find("Rynok"), std::string::npos);
  }
}

TEST_F(DataAccessTest, R28_AnUnknownSubjectIsDeniedAsUnknownAndAudited) {
  AccessRequest req = Request("contract_performance");
  req.subject = SubjectId("no-such-subject");
  AccessResult r = MustRead(req, Staff("responsible_person"));
  EXPECT_FALSE(r.allowed);
  EXPECT_EQ(r.reason, "subject_unknown");
  EXPECT_EQ(r.status, 404);
  EXPECT_TRUE(AuditOf(r.decision_id).has_value());
}

TEST_F(DataAccessTest, AnUnknownFieldIsDenied) {
  AccessResult r = MustRead(Request("contract_performance", {"birth_date"}),
                            Staff("responsible_person"));
  EXPECT_FALSE(r.allowed);
  EXPECT_EQ(r.reason, "field_unknown");
  EXPECT_TRUE(r.values.empty());
}

TEST_F(DataAccessTest, AnUnknownSchoolIsAnError) {
  auto r = access.Read(SchoolId("nobody"), Request("contract_performance"),
                       Staff("responsible_person"), ctx);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, "school_unknown");
}

// --- Minimisation (R30) ---------------------------------------------------------------------------

TEST_F(DataAccessTest, R30_AReadReleasesOnlyTheFieldsOfItsPurpose) {
  AccessResult r = MustRead(Request("marketing_mailing"), Actor::System("mailer"));
  ASSERT_TRUE(r.allowed) << r.reason;
  const std::set<std::string> marketing = {"first_name", "email", "mobile_phone"};
  EXPECT_EQ(AsSet(r.fields), marketing);
  EXPECT_EQ(Keys(r.values), marketing);
  EXPECT_EQ(r.values.at("email"), "oksana@example.org");
  EXPECT_EQ(r.values.at("mobile_phone"), "+380671234567");
  EXPECT_EQ(r.values.count("home_address"), 0u);
  EXPECT_EQ(r.values.count("last_name"), 0u);
}

TEST_F(DataAccessTest, R30_AskingForAFieldOutsideThePurposeIsDeniedAndReleasesNothing) {
  AccessResult r = MustRead(Request("marketing_mailing", {"email", "home_address"}),
                            Actor::System("mailer"));
  EXPECT_FALSE(r.allowed);
  EXPECT_EQ(r.reason, "field_not_in_purpose");
  EXPECT_EQ(r.status, 403);
  EXPECT_TRUE(r.values.empty());
  EXPECT_TRUE(r.fields.empty());
}

TEST_F(DataAccessTest, R30_AnExplicitFieldListReleasesOnlyThoseFields) {
  AccessResult r = MustRead(Request("contract_mailing", {"mobile_phone"}), Actor::System("sms"));
  ASSERT_TRUE(r.allowed) << r.reason;
  EXPECT_EQ(r.fields, std::vector<std::string>{"mobile_phone"});
  EXPECT_EQ(Keys(r.values), std::set<std::string>{"mobile_phone"});
  EXPECT_EQ(r.values.at("mobile_phone"), "+380671234567");
}

TEST_F(DataAccessTest, R92_AReadOpensOnlyThePurposesOwnStore) {
  // Remove the contracts-store copy of the e-mail: the marketing read must still find its own.
  auto in_contracts = env.store->GetStoreRecords(school, buyer, "contracts");
  ASSERT_TRUE(in_contracts.ok());
  ports::WriteBatch batch;
  for (const auto& rec : *in_contracts) {
    if (rec.field == "email") batch.deleted_records.emplace_back(school, rec.id);
  }
  ASSERT_EQ(batch.deleted_records.size(), 1u);
  ASSERT_TRUE(env.store->Commit(std::move(batch)).ok());

  AccessResult marketing = MustRead(Request("marketing_mailing", {"email"}), Actor::System("m"));
  ASSERT_TRUE(marketing.allowed);
  EXPECT_EQ(marketing.values.at("email"), "oksana@example.org");
  AccessResult contract =
      MustRead(Request("contract_performance", {"email"}), Actor::System("crm"));
  ASSERT_TRUE(contract.allowed);
  EXPECT_EQ(contract.values.count("email"), 0u)
      << "the contracts read does not borrow another store's copy";
}

// --- Roles and actors (R86, R87) -----------------------------------------------------------------

TEST_F(DataAccessTest, R86_ARoleSeesOnlyTheFieldsOfItsCategories) {
  AccessResult r = MustRead(Request("contract_performance"), Staff("curator"));
  ASSERT_TRUE(r.allowed) << r.reason;
  // curator: identity and contact only, within contract_performance.
  EXPECT_EQ(AsSet(r.fields), (std::set<std::string>{"first_name", "last_name", "patronymic",
                                                     "email", "mobile_phone"}));
  EXPECT_EQ(Keys(r.values),
            (std::set<std::string>{"first_name", "last_name", "email", "mobile_phone"}));
  EXPECT_EQ(r.values.count("home_address"), 0u);
  EXPECT_EQ(r.values.count("purchase_amount"), 0u);

  AccessResult address = MustRead(Request("contract_performance", {"home_address"}),
                                  Staff("curator"));
  EXPECT_FALSE(address.allowed);
  EXPECT_EQ(address.reason, "field_not_in_role");
  EXPECT_TRUE(address.values.empty());
}

TEST_F(DataAccessTest, R86_ARoleMayNotStateAPurposeOutsideItsList) {
  AccessResult r = MustRead(Request("marketing_mailing"), Staff("curator"));
  EXPECT_FALSE(r.allowed);
  EXPECT_EQ(r.reason, "role_denied");
  EXPECT_TRUE(r.values.empty());
  AccessResult unknown = MustRead(Request("contract_performance"), Staff("janitor"));
  EXPECT_FALSE(unknown.allowed);
  EXPECT_EQ(unknown.reason, "role_denied");
}

TEST_F(DataAccessTest, R87_AStaffMemberWithoutABriefingGetsBriefingRequired) {
  AccessResult r = MustRead(Request("contract_performance"), Staff("responsible_person", false));
  EXPECT_FALSE(r.allowed);
  EXPECT_EQ(r.reason, "briefing_required");
  EXPECT_EQ(r.status, 403);
  EXPECT_TRUE(r.values.empty());
  auto entry = AuditOf(r.decision_id);
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(entry->outcome, "deny");
  EXPECT_EQ(entry->reason, "briefing_required");

  AccessResult briefed = MustRead(Request("contract_performance"), Staff("responsible_person"));
  EXPECT_TRUE(briefed.allowed) << briefed.reason;
}

TEST_F(DataAccessTest, R87_AnApiKeyMayStateOnlyItsOwnPurposes) {
  const Actor key = ApiKey("mailing_manager", {"contract_mailing"});
  AccessResult r = MustRead(Request("marketing_mailing"), key);
  EXPECT_FALSE(r.allowed);
  EXPECT_EQ(r.reason, "purpose_not_allowed_for_key");
  EXPECT_TRUE(r.values.empty());
  auto entry = AuditOf(r.decision_id);
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(entry->actor, "api_key:key-crm");
  EXPECT_EQ(entry->reason, "purpose_not_allowed_for_key");

  AccessResult own = MustRead(Request("contract_mailing"), key);
  ASSERT_TRUE(own.allowed) << own.reason;
  EXPECT_EQ(Keys(own.values), (std::set<std::string>{"first_name", "email", "mobile_phone"}))
      << "mailing_manager sees identity and contact only: not the purchased service";
}

// --- Consent purposes (R29) -----------------------------------------------------------------------

TEST_F(DataAccessTest, R29_AConsentPurposeIsAllowedOnlyWhileTheGrantIsActive) {
  EXPECT_TRUE(MustRead(Request("marketing_mailing"), Actor::System("mailer")).allowed);
  ConsentService consents(env.deps(), env.schools, subjects, env.audit);
  WithdrawRequest w;
  w.subject = buyer;
  w.channel = "support";
  ASSERT_TRUE(consents.Withdraw(school, w, Staff("support"), ctx).ok());
  env.clock.Advance(seconds(1));
  AccessResult r = MustRead(Request("marketing_mailing"), Actor::System("mailer"));
  EXPECT_FALSE(r.allowed);
  EXPECT_EQ(r.reason, "consent_withdrawn");
  EXPECT_TRUE(r.values.empty());
  EXPECT_TRUE(MustRead(Request("contract_performance"), Actor::System("crm")).allowed)
      << "a contract purpose does not depend on the consent";
}

TEST_F(DataAccessTest, AnErasedSubjectIsUnknownToTheGate) {
  ASSERT_TRUE(subjects.DestroySubject(school, buyer, "withdrawal", Staff("responsible_person"),
                                      ctx)
                  .ok());
  AccessResult r = MustRead(Request("contract_performance"), Staff("responsible_person"));
  EXPECT_FALSE(r.allowed);
  EXPECT_EQ(r.reason, "subject_unknown");
  EXPECT_TRUE(r.values.empty());
}

// --- Release after audit (R88) --------------------------------------------------------------------

TEST_F(DataAccessTest, R88_ReadAsyncDeliversValuesOnlyOnceTheAuditEntryIsCommitted) {
  struct Seen {
    bool ok = false;
    bool audited = false;
    size_t values = 0;
  };
  std::promise<Seen> seen;
  auto future = seen.get_future();
  access.ReadAsync(school, Request("contract_performance"), Staff("responsible_person"), ctx,
                   [this, &seen](Result<AccessResult> r) {
                     Seen s;
                     s.ok = r.ok();
                     if (r.ok()) {
                       s.values = r->values.size();
                       // Looked up from the store while the callback runs.
                       auto found = env.store->ForEachAudit(
                           school, 0, [&](const ports::AuditRow& row) {
                             if (row.decision_id == r->decision_id && row.outcome == "allow") {
                               s.audited = true;
                               return false;
                             }
                             return true;
                           });
                       if (!found.ok()) s.audited = false;
                     }
                     seen.set_value(s);
                   });
  ASSERT_EQ(future.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  Seen s = future.get();
  ASSERT_TRUE(s.ok);
  EXPECT_GT(s.values, 0u);
  EXPECT_TRUE(s.audited) << "the entry is durable before any value is handed out";
}

TEST_F(DataAccessTest, R88_DecideAsyncAnswersOnceTheAuditEntryIsCommittedAndReleasesNoValues) {
  std::promise<std::pair<bool, bool>> seen;  // (allowed and no values, audited)
  auto future = seen.get_future();
  access.DecideAsync(school, Request("contract_performance"), Actor::System("erp"), ctx,
                     [this, &seen](Result<AccessResult> r) {
                       bool audited = false;
                       bool shape = r.ok() && r->allowed && r->values.empty();
                       if (r.ok()) {
                         (void)env.store->ForEachAudit(school, 0, [&](const ports::AuditRow& row) {
                           if (row.decision_id == r->decision_id) audited = true;
                           return !audited;
                         });
                       }
                       seen.set_value({shape, audited});
                     });
  ASSERT_EQ(future.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  auto [shape, audited] = future.get();
  EXPECT_TRUE(shape);
  EXPECT_TRUE(audited);
}

TEST_F(DataAccessTest, EveryDecisionGetsItsOwnId) {
  AccessResult a = MustRead(Request("contract_performance"), Actor::System("erp"));
  AccessResult b = MustRead(Request("contract_performance"), Actor::System("erp"));
  EXPECT_NE(a.decision_id, b.decision_id);
  EXPECT_TRUE(AuditOf(a.decision_id).has_value());
  EXPECT_TRUE(AuditOf(b.decision_id).has_value());
}

}  // namespace
}  // namespace dovira::services
