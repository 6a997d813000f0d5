// R117 and R68 against the real server (fake clock): reviews of the policy on 003 (it-pro, §24:
// at least once a year and on every change in the law) and on 001 (vkluchi_zhizn: no review on a
// change in the law): GET/POST /reviews, POST /law-changes, the deadline job's overdue mark and
// alert, the refusal of a non-privileged role and of bad input.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <tuple>

#include "server.h"
#include "smtp_sink.h"

namespace dovira::testing {
namespace {

constexpr char k003[] = "it-pro";
constexpr char k001[] = "vkluchi_zhizn";
constexpr char kPassword[] = "Quiet-Heron-Walks-5821";
constexpr char kSupportEmail[] = "support@it-pro.test";

class Reviews : public ::testing::Test {
 protected:
  void SetUp() override {
    sink_ = std::make_unique<SmtpSink>();
    ASSERT_TRUE(sink_->ok());
    ServerOptions options;
    options.policies = {"001", "003"};
    options.extra_args = {"--smtp-url", "smtp://127.0.0.1:" + std::to_string(sink_->port()),
                          "--mail-from", "privacy@school.test"};
    server_ = std::make_unique<TestServer>(options);
    ASSERT_EQ(server_->Start(), "");
    admin_ = std::make_unique<StaffClient>(server_.get(), k003, server_->bootstrap_email(),
                                           server_->BootstrapPassword(k003));
    ASSERT_EQ(admin_->SignIn(), "");
  }

  // Moves the fake clock; staff sessions end with a jump of hours, so the administrator signs in
  // again (and after a year chooses a new password, unlike the last one).
  void SetClock(const std::string& now) {
    ASSERT_FALSE(server_->SetClock(now).empty());
    ASSERT_EQ(admin_->SignIn("Brave-Lynx-Climbs-" + std::to_string(4182 + ++sign_ins_)), "");
  }

  Json RunDeadlines() {
    Response r = admin_->Post(admin_->Base() + "/jobs/deadlines/run", Json::object());
    EXPECT_EQ(r.status, 200) << r.Describe();
    EXPECT_EQ(admin_->Post(admin_->Base() + "/jobs/outbox/run", Json::object()).status, 200);
    return r.Body();
  }

  // The letters the administrator received whose text contains `needle`.
  size_t LettersToAdminWith(const std::string& needle) {
    size_t n = 0;
    for (const auto& m : sink_->messages()) {
      if (std::find(m.rcpt.begin(), m.rcpt.end(), server_->bootstrap_email()) == m.rcpt.end()) {
        continue;
      }
      if (SmtpSink::DecodedText(m.data).find(needle) != std::string::npos) ++n;
    }
    return n;
  }

  std::unique_ptr<SmtpSink> sink_;
  std::unique_ptr<TestServer> server_;
  std::unique_ptr<StaffClient> admin_;
  int sign_ins_ = 0;
};

// R117 on 003: the first review is due a year after the version came into force; the review
// recorded on 2025-03-03 schedules the next for 2026-03-03; the deadline job flags it on
// 2026-03-04, not on 03-03, and alerts once; the review recorded on 2026-03-06 closes it three
// days late (R68) and schedules the next for 2027-03-06.
TEST_F(Reviews, R117_YearlyReviewOverTheApiFlaggedOnceAndClosedLate) {
  Response list = admin_->Get(admin_->Base() + "/reviews");
  ASSERT_EQ(list.status, 200) << list.Describe();
  EXPECT_EQ(list.Body()["review_interval"], "1 calendar year");
  EXPECT_EQ(list.Body()["review_on_law_change"], true);
  ASSERT_EQ(list.Body()["open"].size(), 1U);
  EXPECT_EQ(list.Body()["open"][0]["due"], "2026-03-03");

  Response first = admin_->Post(admin_->Base() + "/reviews",
                                Json{{"summary", "Checked at publication"}});
  ASSERT_EQ(first.status, 201) << first.Describe();
  EXPECT_EQ(first.Body()["next"]["due"], "2026-03-03");

  SetClock("2026-03-03T20:00:00Z");  // 22:00 in Kyiv: still the due day
  EXPECT_EQ(RunDeadlines()["reviews_overdue"], 0);
  SetClock("2026-03-04T07:00:00Z");
  EXPECT_EQ(RunDeadlines()["reviews_overdue"], 1);
  EXPECT_EQ(LettersToAdminWith("3 березня 2026"), 1U);
  Response flagged = admin_->Get(admin_->Base() + "/reviews");
  ASSERT_EQ(flagged.status, 200) << flagged.Describe();
  EXPECT_EQ(flagged.Body()["open"][0]["state"], "overdue");
  SetClock("2026-03-05T07:00:00Z");
  EXPECT_EQ(RunDeadlines()["reviews_overdue"], 0);
  EXPECT_EQ(LettersToAdminWith("3 березня 2026"), 1U);

  SetClock("2026-03-06T09:00:00Z");
  Response late = admin_->Post(admin_->Base() + "/reviews",
                               Json{{"summary", "Updated after the new guidance"}});
  ASSERT_EQ(late.status, 201) << late.Describe();
  ASSERT_EQ(late.Body()["closed"].size(), 1U);
  EXPECT_EQ(late.Body()["closed"][0]["late_by_days"], 3);
  EXPECT_EQ(late.Body()["closed"][0]["state"], "done");
  EXPECT_EQ(late.Body()["next"]["due"], "2027-03-06");
  Response after = admin_->Get(admin_->Base() + "/reviews");
  ASSERT_EQ(after.status, 200);
  EXPECT_EQ(after.Body()["open"][0]["due"], "2027-03-06");
  EXPECT_EQ(after.Body()["done"][0]["summary"], "Updated after the new guidance");
}

// R117: POST /law-changes on 003 opens a review task at once; on 001 (review_on_law_change =
// false) the change is recorded and the answer says the policy requires no review.
TEST_F(Reviews, R117_LawChangeOpensAReviewOn003AndNoneOn001) {
  Response change = admin_->Post(admin_->Base() + "/law-changes?lang=en",
                                 Json{{"description", "New rules on the consent of minors"},
                                      {"law", "Law of Ukraine 2297-VI"}});
  ASSERT_EQ(change.status, 201) << change.Describe();
  EXPECT_EQ(change.Body()["review_required"], true);
  EXPECT_EQ(change.Body()["review_task"]["reason"], "law_change");
  EXPECT_EQ(change.Body()["review_task"]["due"], "2025-04-02");
  EXPECT_NE(change.Body().value("message", "").find("2 April 2025"), std::string::npos)
      << change.Describe();
  Response list = admin_->Get(admin_->Base() + "/reviews");
  ASSERT_EQ(list.status, 200);
  ASSERT_EQ(list.Body()["open"].size(), 2U);
  EXPECT_EQ(list.Body()["open"][0]["law_change"], "New rules on the consent of minors");

  StaffClient admin001(server_.get(), k001, server_->bootstrap_email(),
                       server_->BootstrapPassword(k001));
  ASSERT_EQ(admin001.SignIn(), "");
  Response none = admin001.Post(admin001.Base() + "/law-changes?lang=en",
                                Json{{"description", "Amendments to art. 8"}});
  ASSERT_EQ(none.status, 201) << none.Describe();
  EXPECT_EQ(none.Body()["review_required"], false);
  EXPECT_TRUE(none.Body()["review_task"].is_null());
  EXPECT_EQ(none.Body()["message"],
            "The change in the law is recorded. The policy does not require a review after a "
            "change in the law.");
  Response list001 = admin001.Get(admin001.Base() + "/reviews");
  ASSERT_EQ(list001.status, 200);
  EXPECT_TRUE(list001.Body()["open"].empty());
}

// R117: a role that is not privileged is refused (403); bad input is a 422 naming the field and
// records nothing.
TEST_F(Reviews, R117_NonPrivilegedRoleIsRefusedAndBadInputNamesTheField) {
  Response created = admin_->Post(admin_->Base() + "/staff", Json{{"name", "Support Desk"},
                                                                  {"email", kSupportEmail},
                                                                  {"role", "support"},
                                                                  {"password", kPassword}});
  ASSERT_EQ(created.status, 201) << created.Describe();
  StaffClient support(server_.get(), k003, kSupportEmail, kPassword);
  ASSERT_EQ(support.SignIn(), "");
  for (const auto& [method, path, body] :
       {std::tuple<std::string, std::string, Json>{"GET", "/reviews", Json()},
        {"POST", "/reviews", Json{{"summary", "Looks fine"}}},
        {"POST", "/law-changes", Json{{"description", "x"}}}}) {
    Response r = support.Call(method, support.Base() + path, body.is_null() ? "" : body.dump());
    EXPECT_EQ(r.status, 403) << path << ": " << r.Describe();
    EXPECT_EQ(r.ErrorCode(), "role_denied") << path;
  }

  Response no_summary = admin_->Post(admin_->Base() + "/reviews", Json{{"summary", ""}});
  EXPECT_EQ(no_summary.status, 422) << no_summary.Describe();
  EXPECT_EQ(no_summary.ErrorCode(), "summary_required");
  EXPECT_EQ(no_summary.Body()["error"]["field"], "summary");
  Response no_text = admin_->Post(admin_->Base() + "/law-changes", Json{{"law", "Some law"}});
  EXPECT_EQ(no_text.status, 422) << no_text.Describe();
  EXPECT_EQ(no_text.Body()["error"]["field"], "description");
  Response too_long = admin_->Post(admin_->Base() + "/law-changes",
                                   Json{{"description", std::string(2001, 'x')}});
  EXPECT_EQ(too_long.status, 422) << too_long.Describe();
  EXPECT_EQ(too_long.ErrorCode(), "description_too_long");
  EXPECT_EQ(too_long.Body()["error"]["field"], "description");

  Response list = admin_->Get(admin_->Base() + "/reviews");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.Body()["open"].size(), 1U);  // the scheduled review only
  EXPECT_TRUE(list.Body()["done"].empty());
}

}  // namespace
}  // namespace dovira::testing
