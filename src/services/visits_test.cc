#include "services/visits.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "services/test_env.h"

namespace dovira::services {
namespace {

using test::At;
using test::TestEnv;

constexpr char kFirefoxLinux[] =
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
constexpr char kSafariIphone[] =
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
constexpr char kEdgeWindows[] =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0";

class VisitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(env.LoadShipped("004_bbooster_masterclass.toml").ok());
    school = env.schools.List().front();
  }
  std::vector<ports::VisitRow> Rows(const std::string& from = "2025-01-01",
                                    const std::string& to = "2025-12-31") {
    std::vector<ports::VisitRow> out;
    EXPECT_TRUE(
        env.store
            ->ForEachVisit(school, from, to, [&](const ports::VisitRow& r) { out.push_back(r); })
            .ok());
    return out;
  }
  TestEnv env;
  VisitService visits{env.deps(), env.schools};
  SchoolId school;
  const RequestContext ctx{"req-1", "198.51.100.20", "site-server/1.0"};
};

TEST_F(VisitTest, R101_AVisitFrom203_0_113_5IsKeptWithItsNetworkOnly) {
  VisitReport v;
  v.ip = "203.0.113.5";
  v.user_agent = kFirefoxLinux;
  v.page = "https://bbooster.example/masterclass/spring?utm_source=mail&email=olena%40ukr.net#top";
  v.referrer = "https://www.Google.com/search?q=masterclass";
  auto row = visits.Record(school, v, ctx);
  ASSERT_TRUE(row.ok()) << row.error().message;
  const std::vector<ports::VisitRow> rows = Rows();
  ASSERT_EQ(rows.size(), 1u);
  const ports::VisitRow& r = rows[0];
  EXPECT_EQ(r.network, "203.0.113.0/24");
  EXPECT_EQ(r.browser, "firefox");
  EXPECT_EQ(r.os, "linux");
  EXPECT_EQ(r.page, "/masterclass/spring");
  EXPECT_EQ(r.referrer_domain, "www.google.com");
  // The test clock, 2025-03-03T09:00:00Z, is 11:00 in Kyiv, the school's zone.
  EXPECT_EQ(r.day, "2025-03-03");
  EXPECT_EQ(r.hour, 11);
  // Nothing of the row is the address itself, the user agent or the query.
  for (const std::string& s : {r.network, r.browser, r.os, r.page, r.referrer_domain, r.id}) {
    EXPECT_EQ(s.find("203.0.113.5"), std::string::npos);
    EXPECT_EQ(s.find("rv:128"), std::string::npos);
    EXPECT_EQ(s.find("ukr.net"), std::string::npos);
  }
}

TEST_F(VisitTest, R101_AnIPv6VisitIsCutToIts48Network) {
  VisitReport v;
  v.ip = "2001:db8:abcd:12:1:2:3:4";
  v.page = "/";
  auto row = visits.Record(school, v, ctx);
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(row->network, "2001:db8:abcd::/48");
}

TEST_F(VisitTest, R101_WithoutAnAddressTheCallersOwnIsCutLikeAnyOther) {
  VisitReport v;
  v.page = "/about";
  auto row = visits.Record(school, v, ctx);
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(row->network, "198.51.100.0/24");
  EXPECT_EQ(row->browser, "other");
}

TEST_F(VisitTest, R101_APageHoldingAnEmailAddressIsRefusedAndNothingStored) {
  VisitReport v;
  v.ip = "203.0.113.5";
  v.page = "/unsubscribe/olena.koval@ukr.net";
  auto row = visits.Record(school, v, ctx);
  ASSERT_FALSE(row.ok());
  EXPECT_EQ(row.error().field, "page");
  EXPECT_EQ(row.error().reason, "personal_data_refused");
  EXPECT_EQ(row.error().message.find("olena"), std::string::npos);
  EXPECT_TRUE(Rows().empty());
}

TEST_F(VisitTest, R101_BadInputNamesItsFieldAndStoresNothing) {
  VisitReport v;
  v.page = "/";
  v.ip = "not-an-address";
  EXPECT_EQ(visits.Record(school, v, ctx).error().field, "ip");
  v.ip = "";
  v.referrer = "no domain here";
  EXPECT_EQ(visits.Record(school, v, ctx).error().field, "referrer");
  v.referrer = "";
  v.page = "courses";
  EXPECT_EQ(visits.Record(school, v, ctx).error().field, "page");
  v.page = "/";
  v.at = At("2025-03-03T10:00:00Z");  // an hour ahead of the clock
  EXPECT_EQ(visits.Record(school, v, ctx).error().field, "at");
  EXPECT_TRUE(Rows().empty());
}

TEST_F(VisitTest, R101_BrowserAndSystemFamiliesComeFromTheUserAgent) {
  EXPECT_EQ(BrowserFamily(kSafariIphone), "safari");
  EXPECT_EQ(OsFamily(kSafariIphone), "ios");
  EXPECT_EQ(BrowserFamily(kEdgeWindows), "edge");
  EXPECT_EQ(OsFamily(kEdgeWindows), "windows");
  EXPECT_EQ(BrowserFamily("Googlebot/2.1 (+http://www.google.com/bot.html)"), "bot");
  EXPECT_EQ(OsFamily("Mozilla/5.0 (Linux; Android 14; Pixel 8) Chrome/126.0 Mobile"), "android");
  EXPECT_EQ(BrowserFamily("Mozilla/5.0 (Linux; Android 14; Pixel 8) Chrome/126.0 Mobile"),
            "chrome");
}

TEST_F(VisitTest, R101_IdentifyingMembersAreKnownByName) {
  for (const char* n : {"email", "account_id", "subject_id", "cookie_id", "user_id", "Phone"}) {
    EXPECT_TRUE(IsIdentifyingVisitMember(n)) << n;
  }
  for (const char* n : {"page", "referrer", "ip", "user_agent", "at"}) {
    EXPECT_FALSE(IsIdentifyingVisitMember(n)) << n;
  }
}

TEST_F(VisitTest, R101_TheStatisticsAddUp) {
  struct Seen {
    const char* ip;
    const char* ua;
    const char* page;
    const char* referrer;
    const char* at;
  };
  const std::vector<Seen> seen = {
      {"203.0.113.5", kFirefoxLinux, "/", "https://www.google.com/", "2025-03-01T08:15:00Z"},
      {"203.0.113.77", kSafariIphone, "/courses", "", "2025-03-01T08:45:00Z"},
      {"198.51.100.9", kEdgeWindows, "/courses", "facebook.com", "2025-03-02T21:00:00Z"},
      // 00:30 on 3 March in Kyiv, though still 2 March in UTC: a day of the school's clock.
      {"198.51.100.9", kEdgeWindows, "/", "", "2025-03-02T22:30:00Z"},
  };
  for (const Seen& s : seen) {
    VisitReport v{s.ip, s.ua, s.page, s.referrer, At(s.at), {}};
    ASSERT_TRUE(visits.Record(school, v, ctx).ok()) << s.at;
  }
  auto stats = visits.Stats(school, "2025-03-01", "2025-03-02");
  ASSERT_TRUE(stats.ok()) << stats.error().message;
  EXPECT_EQ(stats->total, 3);  // the visit of 03-03 (Kyiv) is outside the range
  EXPECT_EQ(stats->by_day.at("2025-03-01"), 2);
  EXPECT_EQ(stats->by_day.at("2025-03-02"), 1);
  EXPECT_EQ(stats->by_hour[10], 2);  // 08:15 and 08:45 UTC
  EXPECT_EQ(stats->by_hour[23], 1);  // 21:00 UTC
  EXPECT_EQ(
      stats->browsers.at("firefox") + stats->browsers.at("safari") + stats->browsers.at("edge"), 3);
  EXPECT_EQ(stats->os.at("windows"), 1);
  EXPECT_EQ(stats->pages.at("/courses"), 2);
  EXPECT_EQ(stats->referrers.at("(none)"), 1);
  EXPECT_EQ(stats->referrers.at("facebook.com"), 1);
  EXPECT_EQ(stats->networks, 2);  // 203.0.113.0/24 twice, 198.51.100.0/24 once
  for (const auto* m :
       {&stats->by_day, &stats->browsers, &stats->os, &stats->pages, &stats->referrers}) {
    int64_t sum = 0;
    for (const auto& [_, n] : *m) sum += n;
    EXPECT_EQ(sum, stats->total);
  }
  int64_t hours = 0;
  for (int64_t n : stats->by_hour) hours += n;
  EXPECT_EQ(hours, stats->total);

  EXPECT_EQ(visits.Stats(school, "2025-03-02", "2025-03-01").error().field, "to");
  EXPECT_EQ(visits.Stats(school, "March", "2025-03-01").error().field, "from");
}

}  // namespace
}  // namespace dovira::services
