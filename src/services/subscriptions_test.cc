// Double opt-in of mailing subscriptions (R15, R54; issue 12): the marketing grant of a
// subscription waits for the e-mailed link; only the confirmation letter goes to the address
// before that; the link works once and not after it expires; the confirmation is recorded in the
// consent ledger and the audit log.
#include "services/subscriptions.h"

#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <vector>

#include "i18n/i18n.h"
#include "services/consents.h"
#include "services/data_access.h"
#include "services/test_env.h"

namespace dovira::services {
namespace {

using test::TestEnv;

domain::Submission Subscription(const std::string& email, const std::string& lang = "en") {
  domain::Submission s;
  s.form = "subscription";
  s.fields = {{"first_name", "Iryna"}, {"email", email}};
  s.ticked = {"pd_consent"};
  s.accept_policy = true;
  s.age_statement = "adult";
  s.lang = lang;
  return s;
}

class SubscriptionTest : public ::testing::Test {
 protected:
  SubscriptionTest()
      : outbox(env.deps(), &mail, nullptr, "privacy@dovira.test", env.schools),
        subscriptions(env.deps(), env.schools, env.audit, outbox,
                      [] { return std::string("https://privacy.school.test"); }),
        subjects(env.deps(), env.schools, env.audit, &subscriptions, &outbox),
        access(env.deps(), env.schools, subjects, env.audit) {}

  void SetUp() override { ASSERT_TRUE(env.LoadShipped("001_vkluchi_zhizn.toml").ok()); }

  std::string Gate(const SubjectId& id, const std::string& purpose) {
    AccessRequest req;
    req.subject = id;
    req.purpose = purpose;
    auto r = access.Decide(school, req, Actor::System("mailer"), {});
    EXPECT_TRUE(r.ok());
    return r.ok() ? r->reason : "error";
  }

  // Subscribes `email`; returns the subject and the token of the link in the letter delivered.
  std::pair<SubjectId, std::string> Subscribe(const std::string& email,
                                              const std::string& lang = "en") {
    auto receipt = subjects.Intake(school, Subscription(email, lang), Actor::Public(), {});
    EXPECT_TRUE(receipt.ok()) << receipt.error().message;
    if (!receipt.ok()) return {SubjectId(""), ""};
    EXPECT_EQ(receipt->awaiting_confirmation, std::vector<std::string>{"marketing_mailing"});
    const size_t before = mail.sent.size();
    EXPECT_TRUE(outbox.DeliverDue().ok());
    EXPECT_EQ(mail.sent.size(), before + 1) << "one letter: the confirmation";
    std::smatch link;
    std::string token;
    if (mail.sent.size() == before + 1 &&
        std::regex_search(mail.sent.back().text, link,
                          std::regex(R"(https://privacy\.school\.test/confirm\.html\?school=vkluchi_zhizn&token=([0-9a-f]{64})&lang=)" + lang))) {
      token = link[1];
    }
    EXPECT_FALSE(token.empty()) << (mail.sent.empty() ? "" : mail.sent.back().text);
    return {receipt->subject, token};
  }

  int AuditCount(const std::string& action) {
    int n = 0;
    EXPECT_TRUE(env.store
                    ->ForEachAudit(school, 0,
                                   [&](const ports::AuditRow& a) {
                                     if (a.action == action) ++n;
                                     return true;
                                   })
                    .ok());
    return n;
  }

  TestEnv env;
  test::KeptMail mail;
  Outbox outbox;
  SubscriptionService subscriptions;
  SubjectService subjects;
  DataAccessService access;
  const SchoolId school{"vkluchi_zhizn"};
};

// R15, R54: before the link is confirmed the gate refuses the marketing purpose and the address
// gets the confirmation letter and nothing else; confirming records the grant with its proof in
// the ledger and the audit log, and opens the gate.
TEST_F(SubscriptionTest, R15_MarketingWaitsForTheLinkAndOnlyTheConfirmationIsSent) {
  auto [subject, token] = Subscribe("iryna@example.org");
  ASSERT_FALSE(token.empty());
  EXPECT_EQ(mail.sent.back().to, std::vector<std::string>{"iryna@example.org"});
  EXPECT_EQ(Gate(subject, "marketing_mailing"), "no_consent");
  EXPECT_EQ(Gate(subject, "identification"), "allowed") << "the rest of the consent stands";
  auto ledger = env.store->GetConsents(school, subject);
  ASSERT_TRUE(ledger.ok());
  for (const auto& c : *ledger) {
    EXPECT_EQ(std::find(c.grants.begin(), c.grants.end(), "marketing_mailing"), c.grants.end());
  }
  EXPECT_EQ(AuditCount("subscription.confirmation_sent"), 1);
  EXPECT_TRUE(outbox.DeliverDue().ok());
  EXPECT_EQ(mail.sent.size(), 1u) << "nothing else is sent before the confirmation";

  env.clock.Advance(std::chrono::hours(30));
  RequestContext ctx;
  ctx.ip = "203.0.113.77";
  ctx.user_agent = "Mail reader";
  auto done = subscriptions.Confirm(school, token, "en", ctx);
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_EQ(done->purposes, std::vector<std::string>{"marketing_mailing"});
  EXPECT_EQ(Gate(subject, "marketing_mailing"), "allowed");
  ledger = env.store->GetConsents(school, subject);
  ASSERT_TRUE(ledger.ok());
  const ports::ConsentRow& granted = ledger->back();
  EXPECT_EQ(granted.action, "grant");
  EXPECT_EQ(granted.grants, std::vector<std::string>{"marketing_mailing"});
  EXPECT_EQ(granted.text, "I agree to the processing of my personal data") << "the wording shown";
  EXPECT_EQ(granted.form, "subscription");
  EXPECT_NE(granted.evidence.find("\"double_opt_in\""), std::string::npos) << granted.evidence;
  EXPECT_NE(granted.evidence.find("\"confirmed_at\":\"2025-03-04T15:00:00"), std::string::npos)
      << granted.evidence;
  EXPECT_NE(granted.evidence.find("203.0.113.0/24"), std::string::npos) << granted.evidence;
  EXPECT_EQ(AuditCount("subscription.confirm"), 1);
}

// A link is good once: a second confirmation is refused and changes nothing.
TEST_F(SubscriptionTest, R15_AUsedLinkIsRefused) {
  auto [subject, token] = Subscribe("twice@example.org");
  ASSERT_TRUE(subscriptions.Confirm(school, token, "en", {}).ok());
  auto again = subscriptions.Confirm(school, token, "uk", {});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kConflict);
  EXPECT_EQ(again.error().reason, "link_used");
  EXPECT_EQ(again.error().message, i18n::Text(i18n::Lang::kUk, "mail.confirm_page.link_used"));
  EXPECT_EQ(AuditCount("subscription.confirm"), 1);
}

// After seven days the link is refused, in the reader's language, and the gate stays shut.
TEST_F(SubscriptionTest, R15_AnExpiredLinkIsRefusedInTheReadersLanguage) {
  auto [subject, token] = Subscribe("late@example.org", "ru");
  env.clock.Advance(SubscriptionService::kLinkLifetime);
  auto late = subscriptions.Confirm(school, token, "ru", {});
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().reason, "link_expired");
  EXPECT_EQ(late.error().message, "Срок действия ссылки истёк. Подпишитесь ещё раз, и мы пришлём новое письмо.");
  EXPECT_EQ(Gate(subject, "marketing_mailing"), "no_consent");
  EXPECT_EQ(AuditCount("subscription.confirm"), 0);
}

TEST_F(SubscriptionTest, R15_AnUnknownLinkIsRefused) {
  auto [subject, token] = Subscribe("unknown@example.org");
  std::string other = token;
  other[0] = other[0] == 'a' ? 'b' : 'a';
  for (const std::string& bad : {other, std::string("short"), std::string()}) {
    auto r = subscriptions.Confirm(school, bad, "en", {});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().reason, "link_unknown");
  }
  EXPECT_EQ(Gate(subject, "marketing_mailing"), "no_consent");
}

// The confirmation letter is the school's, in the subscriber's language, with the date the link
// runs out written as a person writes it.
TEST_F(SubscriptionTest, TheConfirmationLetterIsTheSchoolsInTheSubscribersLanguage) {
  Subscribe("uk@example.org", "uk");
  const ports::MailMessage& m = mail.sent.back();
  EXPECT_EQ(m.from, "natalia.lomonosova.kurs@gmail.com");
  EXPECT_EQ(m.from_name, "Включи життя");
  EXPECT_NE(m.subject.find("Підтвердіть підписку"), std::string::npos) << m.subject;
  EXPECT_NE(m.text.find("Рекламна та маркетингова розсилка"), std::string::npos) << m.text;
  EXPECT_NE(m.text.find("10 березня 2025 р."), std::string::npos) << m.text;
  EXPECT_FALSE(std::regex_search(m.text, std::regex(R"(\d{4}-\d{2}-\d{2}T)"))) << m.text;
}

// Only subscription forms wait: a purchase's marketing consent is granted with the purchase.
TEST(SubscriptionForms, OnlyFormsWithoutAContractWaitForTheLink) {
  TestEnv env;
  ASSERT_TRUE(env.LoadShipped("001_vkluchi_zhizn.toml").ok());
  const policy::Policy& p = (*env.schools.Get(SchoolId("vkluchi_zhizn")))->policy()->policy();
  EXPECT_TRUE(SubscriptionService::IsSubscriptionForm(p, "subscription"));
  EXPECT_FALSE(SubscriptionService::IsSubscriptionForm(p, "payment"));
  EXPECT_FALSE(SubscriptionService::IsSubscriptionForm(p, "application"));
  EXPECT_FALSE(SubscriptionService::IsSubscriptionForm(p, "no_such_form"));
  // 003's registration: its marketing purpose names no subject kind, its contract purposes apply
  // to everyone: a registration, not a subscription.
  ASSERT_TRUE(env.LoadShipped("003_it_pro.toml").ok());
  const policy::Policy& p3 = (*env.schools.Get(SchoolId("it-pro")))->policy()->policy();
  EXPECT_FALSE(SubscriptionService::IsSubscriptionForm(p3, "registration"));
}

}  // namespace
}  // namespace dovira::services

namespace dovira::services {
namespace {

// B07: a consent given on 001's payment form (no double opt-in there) is sent back as a receipt:
// the exact text and the same SHA-256 the ledger keeps, in the subject's language.
TEST_F(SubscriptionTest, B07_TheReceiptLetterShowsTheTextAndTheHashTheLedgerKeeps) {
  domain::Submission s;
  s.form = "payment";
  s.fields = {{"first_name", "Iryna"},         {"email", "iryna.b07@example.org"},
              {"mobile_phone", "+380501234507"}, {"purchased_service", "Course: Breathing"},
              {"purchase_amount", "1200.00"}};
  s.ticked = {"pd_consent"};
  s.accept_policy = true;
  s.age_statement = "adult";
  s.lang = "uk";
  auto receipt = subjects.Intake(school, s, Actor::Public(), {});
  ASSERT_TRUE(receipt.ok()) << receipt.error().message;
  ASSERT_EQ(receipt->consents.size(), 1u);
  auto ledger = env.store->GetConsents(school, receipt->subject);
  ASSERT_TRUE(ledger.ok());
  ASSERT_EQ(ledger->size(), 1u);
  const std::string hash = (*ledger)[0].text_sha256;
  EXPECT_EQ(hash.size(), 64u);

  ASSERT_TRUE(outbox.DeliverDue().ok());
  ASSERT_EQ(mail.sent.size(), 1u);
  const ports::MailMessage& letter = mail.sent[0];
  EXPECT_EQ(letter.to, std::vector<std::string>{"iryna.b07@example.org"});
  EXPECT_NE(letter.subject.find("Підтвердження вашої згоди"), std::string::npos) << letter.subject;
  EXPECT_NE(letter.text.find("«" + (*ledger)[0].text + "»"), std::string::npos) << letter.text;
  EXPECT_NE(letter.text.find(hash), std::string::npos) << letter.text;
  EXPECT_NE(letter.text.find("3 березня 2025"), std::string::npos) << letter.text;
  EXPECT_EQ(letter.text.find("2025-03-03"), std::string::npos) << letter.text;

  // A subscription whose marketing waits for its double opt-in gets the confirmation only.
  Subscribe("olena.b07@example.org");
}

}  // namespace
}  // namespace dovira::services
