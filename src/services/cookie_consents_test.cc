#include "services/cookie_consents.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "services/test_env.h"

namespace dovira::services {
namespace {

using test::At;
using test::TestEnv;

class CookieConsentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(env.LoadShipped("003_it_pro.toml").ok());
    ASSERT_TRUE(env.LoadShipped("001_vkluchi_zhizn.toml").ok());
  }
  RequestContext Ctx() { return RequestContext{"req-1", "203.0.113.77", "Mozilla/5.0 test"}; }

  TestEnv env;
  CookieConsentService service{env.deps(), env.schools, env.audit};
  const SchoolId it_pro{"it-pro"};
};

std::vector<std::string> Ids(const std::vector<CookieCategory>& c) {
  std::vector<std::string> out;
  for (const auto& x : c) out.push_back(x.id);
  return out;
}

TEST_F(CookieConsentTest, R99_CategoriesAreNecessaryFirstThenThoseThePolicyAsksAbout) {
  auto school = env.schools.Get(it_pro);
  ASSERT_TRUE(school.ok());
  std::vector<CookieCategory> c = CookieCategories((*school)->policy()->policy().cookies);
  EXPECT_EQ(Ids(c),
            (std::vector<std::string>{"necessary", "preferences", "statistics", "marketing"}));
  EXPECT_FALSE(c[0].consent_required);
  EXPECT_TRUE(c[2].consent_required);
}

TEST_F(CookieConsentTest, R99_RejectAllStoresEveryOptionalCategoryAsRejectedWithAOneMonthExpiry) {
  auto row = service.Record(it_pro, CookieChoice{"reject_all", {}, "", false, "en"}, Ctx());
  ASSERT_TRUE(row.ok()) << row.error().message;
  EXPECT_EQ(row->accepted, std::vector<std::string>{"necessary"});
  EXPECT_EQ(row->rejected, (std::vector<std::string>{"preferences", "statistics", "marketing"}));
  EXPECT_EQ(row->ip, "203.0.113.0/24");  // R101: truncated, never the full address
  EXPECT_EQ(row->user_agent_sha256.size(), 64u);
  EXPECT_EQ(FormatTimestamp(row->expires_at), "2025-04-03T09:00:00.000000Z");  // "1 calendar month"
  auto stored = service.Get(it_pro, row->id);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->rejected, row->rejected);
  EXPECT_EQ(stored->choice, "reject_all");
}

TEST_F(CookieConsentTest, R99_GlobalPrivacyControlKeepsStatisticsAndMarketingOffEvenOnAcceptAll) {
  auto row = service.Record(it_pro, CookieChoice{"accept_all", {}, "", true, "uk"}, Ctx());
  ASSERT_TRUE(row.ok()) << row.error().message;
  EXPECT_TRUE(row->gpc);
  EXPECT_EQ(row->accepted, (std::vector<std::string>{"necessary", "preferences"}));
  EXPECT_EQ(row->rejected, (std::vector<std::string>{"statistics", "marketing"}));
}

TEST_F(CookieConsentTest, CustomChoiceKeepsOnlyTheNamedCategories) {
  auto row = service.Record(it_pro, CookieChoice{"custom", {"statistics"}, "", false, "ru"}, Ctx());
  ASSERT_TRUE(row.ok()) << row.error().message;
  EXPECT_EQ(row->accepted, (std::vector<std::string>{"necessary", "statistics"}));
  EXPECT_EQ(row->rejected, (std::vector<std::string>{"preferences", "marketing"}));
}

TEST_F(CookieConsentTest, BadInputNamesTheFieldAndStoresNothing) {
  struct Case {
    CookieChoice choice;
    std::string field;
  } cases[] = {
      {{"maybe", {}, "", false, "uk"}, "choice"},
      {{"custom", {"tracking"}, "", false, "uk"}, "accepted"},
      {{"accept_all", {"statistics"}, "", false, "uk"}, "accepted"},
      {{"custom", {}, "", false, "de"}, "lang"},
      {{"custom", {}, "1999-01-01", false, "uk"}, "policy_version"},
  };
  auto before = env.store->LastAudit(it_pro);
  ASSERT_TRUE(before.ok());
  for (const Case& c : cases) {
    auto row = service.Record(it_pro, c.choice, Ctx());
    ASSERT_FALSE(row.ok()) << c.field;
    EXPECT_EQ(row.error().field, c.field);
  }
  auto after = env.store->LastAudit(it_pro);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ((*before ? (*before)->seq : 0), (*after ? (*after)->seq : 0));
}

TEST_F(CookieConsentTest, AnUnknownRecordIsNotFound) {
  auto row = service.Get(it_pro, "no-such-id");
  ASSERT_FALSE(row.ok());
  EXPECT_EQ(row.error().reason, "cookie_consent_unknown");
}

TEST_F(CookieConsentTest, ExpiryKeepsTheDayNumberOrTheMonthsLastDay) {
  calendar::Term month{1, calendar::TermUnit::kCalendarMonths, true};
  auto e = CookieExpiry(At("2025-01-31T10:30:00Z"), month);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(FormatTimestamp(*e), "2025-02-28T10:30:00.000000Z");
  calendar::Term forever{0, calendar::TermUnit::kIndefinite, true};
  EXPECT_FALSE(CookieExpiry(At("2025-01-31T10:30:00Z"), forever).ok());
}

}  // namespace
}  // namespace dovira::services
