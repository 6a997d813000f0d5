#include "services/reviews.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "services/test_env.h"

namespace dovira::services {
namespace {

using test::At;
using test::TestEnv;

// On 003 (it-pro, §24): reviewed at least once a year ("1 calendar year") and whenever the law
// changes. 003 gives no address for its responsible person, so the alert goes to the officer who
// recorded the last review. 001 (vkluchi_zhizn) sets no interval and no review on a law change.
class ReviewsTest : public ::testing::Test {
 protected:
  ReviewsTest()
      : outbox(env.deps(), &mail, nullptr, "privacy@dovira.test", env.schools),
        reviews(env.deps(), env.schools, env.audit, &outbox) {}

  void SetUp() override {
    ASSERT_TRUE(env.LoadShipped("003_it_pro.toml").ok());
    ASSERT_TRUE(env.LoadShipped("001_vkluchi_zhizn.toml").ok());
    ports::WriteBatch batch;
    for (const auto& school : {it_pro, vkluchi}) {
      for (const auto& role : {std::string("responsible_person"), std::string("support")}) {
        ports::StaffRow s;
        s.school = school;
        s.id = StaffId("st-" + role);
        s.name = role;
        s.email = role + "@" + school.value() + ".test";
        s.role = role;
        s.password_hash = "x";
        s.briefing_completed_at = env.clock.Now();
        batch.staff.push_back(s);
      }
    }
    ASSERT_TRUE(env.store->Commit(std::move(batch)).ok());
  }

  static Actor Staff(const std::string& role) {
    return Actor{Actor::Kind::kStaff, "st-" + role, role, {}, true};
  }

  // Runs the deadline job at `when` and delivers the outbox; returns how many tasks it marked.
  int RunJobAt(const std::string& when) {
    env.clock.Set(At(when));
    auto marked = reviews.MarkOverdue(it_pro, ctx);
    EXPECT_TRUE(marked.ok()) << (marked.ok() ? "" : marked.error().message);
    EXPECT_TRUE(outbox.DeliverDue().ok());
    return marked.ok() ? *marked : -1;
  }

  std::vector<std::string> AuditActions(const SchoolId& school) {
    std::vector<std::string> out;
    EXPECT_TRUE(env.store
                    ->ForEachAudit(school, 0,
                                   [&](const ports::AuditRow& r) {
                                     if (r.action.rfind("policy.", 0) == 0) out.push_back(r.action);
                                     return true;
                                   })
                    .ok());
    return out;
  }

  TestEnv env;
  test::KeptMail mail;
  Outbox outbox;
  ReviewService reviews;
  const SchoolId it_pro{"it-pro"};
  const SchoolId vkluchi{"vkluchi_zhizn"};
  const RequestContext ctx{"req-1", "", ""};
};

// R117 (003 §24): with no review recorded yet, the first is due a year after the version in force
// came into force (2025-03-03).
TEST_F(ReviewsTest, R117_FirstReviewIsDueAYearAfterTheVersionCameIntoForce) {
  auto list = reviews.List(it_pro);
  ASSERT_TRUE(list.ok()) << list.error().message;
  ASSERT_TRUE(list->interval.has_value());
  EXPECT_EQ(calendar::FormatTerm(*list->interval), "1 calendar year");
  EXPECT_TRUE(list->on_law_change);
  ASSERT_EQ(list->open.size(), 1U);
  EXPECT_EQ(list->open[0].reason, "scheduled");
  EXPECT_EQ(list->open[0].due_date, "2026-03-03");
  EXPECT_TRUE(list->done.empty());
  // Asking again opens nothing new.
  EXPECT_EQ(reviews.List(it_pro)->open.size(), 1U);
}

// R117 and R68 on 003: last review recorded 2025-03-03 → the next is due 2026-03-03; the job on
// 2026-03-03 leaves it alone, on 2026-03-04 flags it overdue and alerts once (not again the next
// day); the review recorded on 2026-03-06 closes it three days late and schedules the next for
// 2027-03-06.
TEST_F(ReviewsTest, R117_YearlyReviewIsFlaggedTheDayAfterItsDueDayAndClosedLate) {
  auto first = reviews.Record(it_pro, "Checked at publication", Staff("responsible_person"), ctx);
  ASSERT_TRUE(first.ok()) << first.error().message;
  ASSERT_TRUE(first->next.has_value());
  EXPECT_EQ(first->next->due_date, "2026-03-03");
  EXPECT_EQ(first->next->assignee, "st-responsible_person");

  EXPECT_EQ(RunJobAt("2026-03-03T20:00:00Z"), 0);  // 22:00 in Kyiv, still the due day
  EXPECT_TRUE(mail.sent.empty());
  EXPECT_EQ(RunJobAt("2026-03-04T07:00:00Z"), 1);
  ASSERT_EQ(mail.sent.size(), 1U);
  EXPECT_EQ(mail.sent[0].to, std::vector<std::string>{"responsible_person@it-pro.test"});
  EXPECT_EQ(mail.sent[0].subject, "Перегляд політики прострочено");
  EXPECT_NE(mail.sent[0].text.find("3 березня 2026"), std::string::npos) << mail.sent[0].text;
  EXPECT_EQ(RunJobAt("2026-03-05T07:00:00Z"), 0);
  EXPECT_EQ(mail.sent.size(), 1U);
  auto flagged = reviews.List(it_pro);
  ASSERT_TRUE(flagged.ok());
  ASSERT_EQ(flagged->open.size(), 1U);
  EXPECT_EQ(flagged->open[0].overdue_at, std::optional<Timestamp>(At("2026-03-04T07:00:00Z")));

  env.clock.Set(At("2026-03-06T09:00:00Z"));
  auto late = reviews.Record(it_pro, "Updated §17 after the new guidance",
                             Staff("responsible_person"), ctx);
  ASSERT_TRUE(late.ok()) << late.error().message;
  ASSERT_EQ(late->closed.size(), 1U);
  EXPECT_EQ(late->closed[0].id, flagged->open[0].id);
  EXPECT_EQ(late->closed[0].late_by_days, 3);
  ASSERT_TRUE(late->next.has_value());
  EXPECT_EQ(late->next->due_date, "2027-03-06");

  auto list = reviews.List(it_pro);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->open.size(), 1U);
  EXPECT_EQ(list->open[0].due_date, "2027-03-06");
  ASSERT_GE(list->done.size(), 1U);
  EXPECT_EQ(list->done[0].summary, "Updated §17 after the new guidance");
  EXPECT_EQ(list->done[0].done_by, "staff:st-responsible_person");
  EXPECT_EQ(list->done[0].late_by_days, 3);
  EXPECT_TRUE(list->done[0].overdue_at.has_value());
  EXPECT_EQ(AuditActions(it_pro), (std::vector<std::string>{"policy.review",
                                                            "policy.review.overdue",
                                                            "policy.review"}));
}

// R117 (003 §24): a recorded change in the law opens a review at once, due in 30 calendar days.
TEST_F(ReviewsTest, R117_LawChangeOn003OpensAReviewAtOnce) {
  auto change = reviews.RecordLawChange(
      it_pro, {"Amendments to the rules on consent of minors", "Law of Ukraine 2297-VI"},
      Staff("responsible_person"), ctx);
  ASSERT_TRUE(change.ok()) << change.error().message;
  EXPECT_TRUE(change->review_required);
  ASSERT_TRUE(change->task.has_value());
  EXPECT_EQ(change->task->reason, "law_change");
  EXPECT_EQ(change->task->due_date, "2025-04-02");
  EXPECT_EQ(change->task->law, "Law of Ukraine 2297-VI");
  auto list = reviews.List(it_pro);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->open.size(), 2U);
  EXPECT_EQ(list->open[0].id, change->task->id);
  EXPECT_EQ(list->open[0].law_change, "Amendments to the rules on consent of minors");
  EXPECT_EQ(list->open[1].reason, "scheduled");
  EXPECT_EQ(AuditActions(it_pro), std::vector<std::string>{"policy.law_change"});
}

// R117 on 001 (review_on_law_change = false): the change is recorded and no review is opened.
TEST_F(ReviewsTest, R117_LawChangeOn001IsRecordedWithoutAReview) {
  auto change = reviews.RecordLawChange(vkluchi, {"Amendments to art. 8", ""},
                                        Staff("responsible_person"), ctx);
  ASSERT_TRUE(change.ok()) << change.error().message;
  EXPECT_FALSE(change->review_required);
  EXPECT_FALSE(change->task.has_value());
  auto list = reviews.List(vkluchi);
  ASSERT_TRUE(list.ok());
  EXPECT_FALSE(list->interval.has_value());
  EXPECT_TRUE(list->open.empty());
  EXPECT_EQ(AuditActions(vkluchi), std::vector<std::string>{"policy.law_change"});
}

// R68 on 003: the review a change in the law opened (due 2025-04-02) is flagged by the job on
// 2025-04-03, once, and the review recorded on 2025-04-05 closes it three days late together with
// the yearly one.
TEST_F(ReviewsTest, R68_ReviewTaskOfALawChangeIsFlaggedOnceAndClosedLate) {
  auto change = reviews.RecordLawChange(it_pro, {"New rules on cookies", ""},
                                        Staff("responsible_person"), ctx);
  ASSERT_TRUE(change.ok());
  EXPECT_EQ(RunJobAt("2025-04-02T12:00:00Z"), 0);
  EXPECT_EQ(RunJobAt("2025-04-03T07:00:00Z"), 1);
  ASSERT_EQ(mail.sent.size(), 1U);
  EXPECT_EQ(mail.sent[0].to, std::vector<std::string>{"responsible_person@it-pro.test"});
  EXPECT_NE(mail.sent[0].text.find("New rules on cookies"), std::string::npos);
  EXPECT_EQ(RunJobAt("2025-04-04T07:00:00Z"), 0);
  EXPECT_EQ(mail.sent.size(), 1U);

  env.clock.Set(At("2025-04-05T09:00:00Z"));
  auto review = reviews.Record(it_pro, "Cookie banner texts updated", Staff("responsible_person"),
                               ctx);
  ASSERT_TRUE(review.ok()) << review.error().message;
  ASSERT_EQ(review->closed.size(), 2U);  // the law change's and the yearly one
  for (const auto& t : review->closed) {
    EXPECT_EQ(t.late_by_days, t.reason == "law_change" ? 3 : 0) << t.reason;
  }
  EXPECT_EQ(review->next->due_date, "2026-04-05");
}

// R117: only a privileged role records reviews and changes in the law; bad input names its field
// and changes nothing.
TEST_F(ReviewsTest, R117_OnlyPrivilegedStaffRecordAndBadInputChangesNothing) {
  auto denied = reviews.Record(it_pro, "Looks fine", Staff("support"), ctx);
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.error().reason, "role_denied");
  auto denied_law = reviews.RecordLawChange(it_pro, {"x", ""}, Staff("support"), ctx);
  ASSERT_FALSE(denied_law.ok());
  EXPECT_EQ(denied_law.error().reason, "role_denied");

  const Actor officer = Staff("responsible_person");
  auto refused = [&](const Result<RecordedReview>& r, const std::string& reason) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().reason, reason);
    EXPECT_EQ(r.error().field, "summary");
  };
  refused(reviews.Record(it_pro, "", officer, ctx), "summary_required");
  refused(reviews.Record(it_pro, std::string(kMaxReviewSummary + 1, 'x'), officer, ctx),
          "summary_too_long");
  auto no_text = reviews.RecordLawChange(it_pro, {"", ""}, officer, ctx);
  ASSERT_FALSE(no_text.ok());
  EXPECT_EQ(no_text.error().reason, "description_required");
  EXPECT_EQ(no_text.error().field, "description");
  auto long_text = reviews.RecordLawChange(
      it_pro, {std::string(kMaxLawChangeDescription + 1, 'x'), ""}, officer, ctx);
  ASSERT_FALSE(long_text.ok());
  EXPECT_EQ(long_text.error().reason, "description_too_long");
  auto long_law = reviews.RecordLawChange(it_pro, {"x", std::string(kMaxLawName + 1, 'x')},
                                          officer, ctx);
  ASSERT_FALSE(long_law.ok());
  EXPECT_EQ(long_law.error().field, "law");

  EXPECT_TRUE(AuditActions(it_pro).empty());
  auto list = reviews.List(it_pro);
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->open.size(), 1U);  // the scheduled one only
  EXPECT_TRUE(list->done.empty());
}

}  // namespace
}  // namespace dovira::services
