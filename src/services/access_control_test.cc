#include "services/access_control.h"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <set>
#include <tuple>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "services/data_access.h"
#include "services/subjects.h"
#include "services/test_env.h"

namespace dovira::services {
namespace {

using test::TestEnv;

// On 004 (bbooster-masterclass, §6.4, §12.1): the curator's role reaches identity, contact, image,
// transactional and technical data for contract_performance and events only.
class AccessControlTest : public ::testing::Test {
 protected:
  AccessControlTest()
      : subjects(env.deps(), env.schools, env.audit),
        outbox(env.deps(), &mail, nullptr, "privacy@dovira.test", env.schools),
        access(env.deps(), env.schools, subjects, env.audit),
        control(env.deps(), env.schools, env.audit, &outbox) {}

  void SetUp() override {
    ASSERT_TRUE(env.LoadShipped("004_bbooster_masterclass.toml").ok());
    applicant = Applicant("olena@example.org", "+380671234567");
    other = Applicant("petro@example.org", "+380501112233");
    ports::WriteBatch batch;
    for (const auto& [id, role, name] :
         std::vector<std::tuple<std::string, std::string, std::string>>{
             {"st-curator", "curator", "Iryna Curator"},
             {"st-curator2", "curator", "Pavlo Curator"},
             {"st-finance", "finance", "Oleh Finance"},
             {"st-officer", "responsible_person", "Ihor Officer"},
             {"st-left", "support", "Left Support"}}) {
      ports::StaffRow s;
      s.school = school;
      s.id = StaffId(id);
      s.name = name;
      s.email = id + "@school.test";
      s.role = role;
      s.password_hash = "x";
      s.briefing_completed_at = env.clock.Now();
      if (id == "st-left") s.left_at = env.clock.Now();
      batch.staff.push_back(s);
    }
    ASSERT_TRUE(env.store->Commit(std::move(batch)).ok());
  }

  SubjectId Applicant(const std::string& email, const std::string& phone) {
    domain::Submission s;
    s.form = "masterclass";
    s.fields = {{"last_name", "Shevchenko"},
                {"first_name", "Olena"},
                {"patronymic", "Ivanivna"},
                {"email", email},
                {"phone", phone}};
    s.ticked = {"button_consent"};
    s.accept_policy = true;
    s.age_statement = "adult";
    auto r = subjects.Intake(school, s, Actor::Public(), ctx);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().ReasonOrCode());
    return r.ok() ? r->subject : SubjectId("");
  }

  static Actor Staff(const std::string& id, const std::string& role) {
    return Actor{Actor::Kind::kStaff, id, role, {}, true};
  }

  AccessResult Read(const SubjectId& subject, const std::string& purpose,
                    std::vector<std::string> fields, const Actor& actor) {
    AccessRequest req{subject, purpose, std::move(fields), domain::Operation::kRead};
    auto r = access.Read(school, req, actor, ctx);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().ReasonOrCode());
    return r.ok() ? *r : AccessResult{};
  }

  BreakGlassRequest Grant(const std::string& staff = "st-curator") {
    BreakGlassRequest g;
    g.staff = StaffId(staff);
    g.subject = applicant;
    g.category = "contact";
    g.purpose = "justice_requests";
    g.reason = "Court order 2/135/25 asks for the applicant's contact details";
    g.hours = 2;
    return g;
  }

  std::optional<ports::AuditRow> AuditOf(const std::string& decision_id) {
    std::optional<ports::AuditRow> found;
    EXPECT_TRUE(env.store
                    ->ForEachAudit(school, 0,
                                   [&](const ports::AuditRow& r) {
                                     if (r.decision_id == decision_id) found = r;
                                     return true;
                                   })
                    .ok());
    return found;
  }

  TestEnv env;
  test::KeptMail mail;
  SubjectService subjects;
  Outbox outbox;
  DataAccessService access;
  AccessControlService control;
  const SchoolId school{"bbooster-masterclass"};
  const RequestContext ctx{"req-r86", "198.51.100.4", "agent"};
  const Actor officer = Staff("st-officer", "responsible_person");
  SubjectId applicant{""}, other{""};
};

// R86 (004 §6.4): outside its role's purposes the curator reads nothing; a break-glass grant lets
// that curator read the contact fields of that applicant for that purpose, and only those, until
// the grant ends; then the gate refuses again.
TEST_F(AccessControlTest, R86_BreakGlassReachesOneCategoryOfOneSubjectUntilItEnds) {
  const Actor curator = Staff("st-curator", "curator");
  AccessResult before = Read(applicant, "justice_requests", {"phone"}, curator);
  EXPECT_FALSE(before.allowed);
  EXPECT_EQ(before.reason, "role_denied");
  EXPECT_EQ(before.status, 403);

  auto grant = control.BreakGlass(school, Grant(), officer, ctx);
  ASSERT_TRUE(grant.ok()) << grant.error().ReasonOrCode();
  EXPECT_EQ(grant->expires_at, env.clock.Now() + std::chrono::hours(2));

  AccessResult phone = Read(applicant, "justice_requests", {"phone"}, curator);
  ASSERT_TRUE(phone.allowed) << phone.reason;
  EXPECT_EQ(phone.values.at("phone"), "+380671234567");
  // The read names the grant in its audit entry.
  auto read_entry = AuditOf(phone.decision_id);
  ASSERT_TRUE(read_entry.has_value());
  EXPECT_EQ(nlohmann::json::parse(read_entry->detail)["break_glass"][0], grant->id);
  // Every field the purpose and the grant allow: the contact fields only, not the curator's own
  // identity fields, since the purpose is reached through the grant alone.
  AccessResult all = Read(applicant, "justice_requests", {}, curator);
  ASSERT_TRUE(all.allowed) << all.reason;
  EXPECT_EQ(std::set<std::string>(all.fields.begin(), all.fields.end()),
            (std::set<std::string>{"email", "phone"}));
  EXPECT_EQ(Read(applicant, "justice_requests", {"last_name"}, curator).reason,
            "field_not_in_role");
  // Not another subject, another purpose the role lacks, or another staff member.
  EXPECT_EQ(Read(other, "justice_requests", {"phone"}, curator).reason, "role_denied");
  EXPECT_EQ(Read(applicant, "application_handling", {"phone"}, curator).reason, "role_denied");
  EXPECT_EQ(Read(applicant, "justice_requests", {"phone"}, Staff("st-curator2", "curator")).reason,
            "role_denied");

  env.clock.Advance(std::chrono::hours(2) - std::chrono::seconds(1));
  EXPECT_TRUE(Read(applicant, "justice_requests", {"phone"}, curator).allowed);
  env.clock.Advance(std::chrono::seconds(1));
  AccessResult expired = Read(applicant, "justice_requests", {"phone"}, curator);
  EXPECT_FALSE(expired.allowed);
  EXPECT_EQ(expired.reason, "role_denied");
  EXPECT_EQ(expired.status, 403);
  EXPECT_TRUE(expired.values.empty());
}

// R86: the grant is audited as access.break_glass, naming the subject by pseudonym and the staff
// member, category and end, and the responsible person (004 [officers]) gets a letter.
TEST_F(AccessControlTest, R86_BreakGlassIsAuditedAndTheResponsiblePersonIsAlerted) {
  auto grant = control.BreakGlass(school, Grant(), officer, ctx);
  ASSERT_TRUE(grant.ok()) << grant.error().ReasonOrCode();
  auto entry = AuditOf(grant->id);
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(entry->action, "access.break_glass");
  EXPECT_EQ(entry->actor, "staff:st-officer");
  EXPECT_EQ(entry->purpose, "justice_requests");
  auto pn = env.audit.Pseudonym(school, applicant);
  ASSERT_TRUE(pn.ok());
  EXPECT_EQ(entry->subject_ref, *pn);
  const auto detail = nlohmann::json::parse(entry->detail);
  EXPECT_EQ(detail["staff"], "st-curator");
  EXPECT_EQ(detail["category"], "contact");
  EXPECT_EQ(detail["hours"], 2);
  EXPECT_EQ(entry->detail.find("Court order"), std::string::npos) << "no free text in the audit";

  ASSERT_TRUE(outbox.DeliverDue().ok());
  ASSERT_EQ(mail.sent.size(), 1u);
  EXPECT_EQ(mail.sent[0].to, std::vector<std::string>{"admin@visotsky.com"});
  EXPECT_NE(mail.sent[0].subject.find("Iryna Curator"), std::string::npos) << mail.sent[0].subject;
  EXPECT_NE(mail.sent[0].text.find("Court order 2/135/25"), std::string::npos) << mail.sent[0].text;
  EXPECT_NE(mail.sent[0].text.find("Ihor Officer"), std::string::npos) << mail.sent[0].text;
  EXPECT_EQ(mail.sent[0].text.find(applicant.value()), std::string::npos) << "no internal id";
}

// R86: only a privileged officer grants, with a reason and a time box of at most 24 hours, to an
// active staff account, for a declared category the purpose uses; a refusal changes nothing.
TEST_F(AccessControlTest, R86_BreakGlassNeedsAPrivilegedOfficerAReasonAndATimeBox) {
  auto expect_refused = [&](BreakGlassRequest g, const Actor& by, const std::string& reason,
                            const std::string& field) {
    auto r = control.BreakGlass(school, g, by, ctx);
    ASSERT_FALSE(r.ok()) << reason;
    EXPECT_EQ(r.error().ReasonOrCode(), reason);
    EXPECT_EQ(r.error().field, field) << reason;
  };
  expect_refused(Grant(), Staff("st-finance", "finance"), "role_denied", "");
  BreakGlassRequest g = Grant();
  g.reason = "";
  expect_refused(g, officer, "reason_required", "reason");
  g = Grant();
  g.hours = 25;
  expect_refused(g, officer, "hours_invalid", "hours");
  g.hours = 0;
  expect_refused(g, officer, "hours_invalid", "hours");
  g = Grant();
  g.category = "nonsense";
  expect_refused(g, officer, "category_undeclared", "category");
  g = Grant();
  g.category = "financial";  // justice_requests uses no financial field
  expect_refused(g, officer, "category_not_in_purpose", "category");
  g = Grant();
  g.purpose = "nonsense";
  expect_refused(g, officer, "purpose_undeclared", "purpose");
  expect_refused(Grant("st-nobody"), officer, "staff_unknown", "staff");
  expect_refused(Grant("st-left"), officer, "account_left", "");
  g = Grant();
  g.subject = SubjectId("nosuchsubject");
  expect_refused(g, officer, "subject_unknown", "subject");

  EXPECT_EQ(Read(applicant, "justice_requests", {"phone"}, Staff("st-curator", "curator")).reason,
            "role_denied");
  ASSERT_TRUE(outbox.DeliverDue().ok());
  EXPECT_TRUE(mail.sent.empty());
}

// R86 (004 §12.1 bullet 3): the list of persons with access, per category: every active account
// with what its role reaches; a leaver is not on it; a break-glass grant in force adds its holder
// to the category it opens.
TEST_F(AccessControlTest, R86_TheAccessListNamesEveryPersonWithAccessPerCategory) {
  auto list = control.List(school);
  ASSERT_TRUE(list.ok());
  auto holder = [&](const AccessList& l, const std::string& id) -> const AccessHolder* {
    for (const auto& h : l.holders) {
      if (h.id == id) return &h;
    }
    return nullptr;
  };
  auto reachers = [&](const AccessList& l, const std::string& category) {
    std::set<std::string> out;
    for (const auto& c : l.categories) {
      if (c.id != category) continue;
      for (const auto& r : c.reached_by) {
        out.insert(l.holders[r.holder].id + (r.break_glass_only ? "+bg" : ""));
      }
    }
    return out;
  };
  EXPECT_EQ(holder(*list, "st-left"), nullptr);
  const AccessHolder* curator = holder(*list, "st-curator");
  ASSERT_NE(curator, nullptr);
  EXPECT_EQ(curator->categories, (std::vector<std::string>{"identity", "contact", "image",
                                                           "transactional", "technical"}));
  EXPECT_EQ(curator->purposes, (std::vector<std::string>{"contract_performance", "events"}));
  EXPECT_EQ(reachers(*list, "financial"),
            (std::set<std::string>{"st-finance", "st-officer"}));
  EXPECT_EQ(reachers(*list, "user_content"), (std::set<std::string>{"st-officer"}));

  BreakGlassRequest g = Grant("st-finance");
  g.category = "user_content";
  g.purpose = "application_handling";
  ASSERT_TRUE(control.BreakGlass(school, g, officer, ctx).ok());
  auto after = control.List(school);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(reachers(*after, "user_content"),
            (std::set<std::string>{"st-finance+bg", "st-officer"}));
  env.clock.Advance(std::chrono::hours(2));
  auto ended = control.List(school);
  ASSERT_TRUE(ended.ok());
  EXPECT_EQ(reachers(*ended, "user_content"), (std::set<std::string>{"st-officer"}));
}

// R86: a grant in force is stored, so the gate of a restarted server honours it until it ends.
TEST_F(AccessControlTest, R86_BreakGlassGrantsInForceAreLoadedAtStart) {
  ASSERT_TRUE(control.BreakGlass(school, Grant(), officer, ctx).ok());
  auto rt = env.schools.Get(school);
  ASSERT_TRUE(rt.ok());
  auto cp = (*rt)->policy();
  const int purpose = cp->PurposeIndex("justice_requests");
  const int phone = cp->FieldIndex("phone");
  auto now = [&] { return env.clock.Now().time_since_epoch().count(); };

  SchoolRuntime restarted(school);
  restarted.set_policy(cp);
  ASSERT_TRUE(control.LoadGrants(restarted).ok());
  domain::GrantedAccess g = restarted.grants().For("st-curator", applicant, purpose, now());
  EXPECT_EQ(g.grants.size(), 1u);
  EXPECT_TRUE(g.fields.Test(static_cast<size_t>(phone)));
  EXPECT_TRUE(restarted.grants().For("st-curator", other, purpose, now()).empty());

  env.clock.Advance(std::chrono::hours(2));
  SchoolRuntime later(school);
  later.set_policy(cp);
  ASSERT_TRUE(control.LoadGrants(later).ok());
  EXPECT_EQ(later.grants().size(), 0u);
}

}  // namespace
}  // namespace dovira::services
