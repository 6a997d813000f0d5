#include "domain/requests.h"

#include <gtest/gtest.h>

#include "domain/test_policies.h"

namespace dovira::domain {
namespace {

using testing::At;

std::string LocalDay(const CompiledPolicy& cp, Timestamp t) {
  return calendar::FormatDate(
      cp.calendar().LocalDate(std::chrono::floor<std::chrono::seconds>(t)));
}

Timestamp Due(const CompiledPolicy& cp, const std::string& type, Timestamp trigger) {
  auto term = TermFor(cp.policy(), type);
  EXPECT_TRUE(term.ok()) << type;
  auto due = DueAt(cp.calendar(), trigger, term->term);
  EXPECT_TRUE(due.ok()) << type;
  return *due;
}

// R05: residence and citizenship are separate facts, and the overlay follows the trigger.
TEST(EuOverlayTest, R05TheOverlayAppliesByResidenceCitizenshipOrEitherAsThePolicySays) {
  auto cp = testing::P004();
  const policy::Policy& p = cp->policy();
  ASSERT_EQ(p.eu_overlay.trigger, "either");
  EXPECT_TRUE(InEuOverlay(p.eu_overlay, "DE", "UA"));
  EXPECT_TRUE(InEuOverlay(p.eu_overlay, "UA", "PL"));
  EXPECT_FALSE(InEuOverlay(p.eu_overlay, "UA", "UA"));
  EXPECT_FALSE(InEuOverlay(p.eu_overlay, "", ""));

  policy::EuOverlay by_residence = p.eu_overlay;
  by_residence.trigger = "residence";
  EXPECT_TRUE(InEuOverlay(by_residence, "DE", "UA"));
  EXPECT_FALSE(InEuOverlay(by_residence, "UA", "DE"));
  policy::EuOverlay by_citizenship = p.eu_overlay;
  by_citizenship.trigger = "citizenship";
  EXPECT_FALSE(InEuOverlay(by_citizenship, "DE", "UA"));
  EXPECT_TRUE(InEuOverlay(by_citizenship, "UA", "DE"));
  EXPECT_TRUE(InEuOverlay(by_citizenship, "", "NO"));  // the EEA too

  const policy::Right* nad = p.FindRight("no_automated_decisions");
  const policy::Right* access = p.FindRight("access");
  ASSERT_NE(nad, nullptr);
  ASSERT_NE(access, nullptr);
  EXPECT_TRUE(RightApplies(p, *nad, "DE", "UA"));
  EXPECT_FALSE(RightApplies(p, *nad, "UA", "UA"));
  EXPECT_TRUE(RightApplies(p, *access, "UA", "UA"));
}

TEST(RequestTermsTest, R39AccessIsDueThirtyCalendarDaysAfterReceipt) {
  auto cp = testing::P004();
  EXPECT_EQ(LocalDay(*cp, Due(*cp, "confirmation", At("2025-03-03T09:00:00Z"))), "2025-04-02");
  auto cp1 = testing::P001();
  EXPECT_EQ(LocalDay(*cp1, Due(*cp1, "access", At("2025-03-03T07:00:00Z"))), "2025-04-02");
}

TEST(RequestTermsTest, R46RectificationCountsSevenWorkingDaysFromTheEvidence) {
  auto cp = testing::P001();
  auto term = TermFor(cp->policy(), "rectification");
  ASSERT_TRUE(term.ok());
  EXPECT_EQ(term->trigger, "evidence_supplied");
  EXPECT_EQ(LocalDay(*cp, Due(*cp, "rectification", At("2025-03-03T08:00:00Z"))), "2025-03-12");
  // R66: evidence supplied on 2025-03-05 → 2025-03-14.
  EXPECT_EQ(LocalDay(*cp, Due(*cp, "rectification", At("2025-03-05T08:00:00Z"))), "2025-03-14");
}

TEST(RequestTermsTest, R67ObjectionUnder004RunsOnTheDefaultTerm) {
  auto cp = testing::P004();
  auto term = TermFor(cp->policy(), "objection");
  ASSERT_TRUE(term.ok());
  EXPECT_EQ(term->source, "default");
  EXPECT_EQ(LocalDay(*cp, Due(*cp, "objection", At("2025-03-03T09:00:00Z"))), "2025-04-02");
  auto access = TermFor(cp->policy(), "access");
  ASSERT_TRUE(access.ok());
  EXPECT_EQ(access->source, "policy");
}

TEST(RequestTermsTest, R26AChildDataReportRunsOnTheMinorsDeletionTerm) {
  // 004 §5.7.2 gives no term: "immediate" (C-10), so the case is due the moment it is received.
  auto cp = testing::P004();
  auto term = TermFor(cp->policy(), "child_data_report");
  ASSERT_TRUE(term.ok()) << term.error().message;
  EXPECT_EQ(term->term.unit, calendar::TermUnit::kImmediate);
  EXPECT_EQ(term->source, "policy");
  EXPECT_EQ(term->clause, cp->policy().minors.clause);
  const Timestamp received = At("2025-03-03T09:00:00Z");
  EXPECT_EQ(Due(*cp, "child_data_report", received), received);
  // A school whose policy gives 3 working days: from Monday 2025-03-03, the end of Thursday in Kyiv.
  policy::Policy p = cp->policy();
  p.minors.deletion_term = calendar::Term{3, calendar::TermUnit::kWorkingDays, true};
  auto three = CompiledPolicy::Compile(p);
  ASSERT_TRUE(three.ok());
  const Timestamp due = Due(**three, "child_data_report", received);
  EXPECT_EQ(LocalDay(**three, due), "2025-03-06");
  EXPECT_EQ(due, At("2025-03-06T21:59:59Z"));
}

TEST(RequestTermsTest, R56DestructionRunsOnItsDueDay) {
  // 001: a withdrawal received on 2025-03-03 is destroyed within 30 working days: due 2025-04-14
  // (the end of that day in Kyiv). A job run on the due day carries it out; the day before, not.
  auto cp = testing::P001();
  const Timestamp received = At("2025-03-03T07:00:00Z");
  auto due = DueAt(cp->calendar(), received, *cp->policy().withdrawal.deadline.term);
  ASSERT_TRUE(due.ok());
  EXPECT_EQ(LocalDay(*cp, *due), "2025-04-14");
  EXPECT_FALSE(DueDayReached(cp->calendar(), At("2025-04-13T20:59:59Z"), *due));  // 23:59:59 Kyiv
  EXPECT_TRUE(DueDayReached(cp->calendar(), At("2025-04-13T21:00:00Z"), *due));   // 00:00 Kyiv
  EXPECT_TRUE(DueDayReached(cp->calendar(), At("2025-04-14T06:00:00Z"), *due));
  EXPECT_TRUE(DueDayReached(cp->calendar(), At("2025-04-20T06:00:00Z"), *due));
  // The destruction is on time: closing on the due day is not late (R68).
  EXPECT_EQ(LateByDays(cp->calendar(), *due, At("2025-04-14T06:00:00Z")), 0);
}

TEST(RequestTermsTest, R67DefaultedTermsComeFromTheResolutionsList) {
  // 001: erasure, restriction and objection state no term of their own (§3.3.2); access does.
  auto cp1 = testing::P001();
  for (const char* type : {"erasure", "restriction", "objection"}) {
    auto term = TermFor(cp1->policy(), type);
    ASSERT_TRUE(term.ok()) << type;
    EXPECT_EQ(term->source, "default") << type;
  }
  EXPECT_EQ(TermFor(cp1->policy(), "access")->source, "policy");
  EXPECT_EQ(TermFor(cp1->policy(), "rectification")->source, "policy");
  // 003: the review of a profiling result (§19) has no term; contest_segment runs under it.
  auto cp3 = testing::P003();
  EXPECT_EQ(TermFor(cp3->policy(), "contest_segment")->source, "default");
  EXPECT_EQ(TermFor(cp3->policy(), "access")->source, "policy");
}

TEST(RequestTermsTest, R69WithdrawalIsImmediate) {
  auto cp = testing::P004();
  Timestamp t = At("2025-03-03T09:00:00Z");
  EXPECT_EQ(Due(*cp, "withdrawal", t), t);
}

TEST(RequestTermsTest, RightsThePolicyDoesNotOfferAreRefused) {
  auto cp = testing::P002();
  auto term = TermFor(cp->policy(), "objection");
  ASSERT_FALSE(term.ok());
  EXPECT_EQ(term.error().reason, "right_not_offered");
  auto unknown = TermFor(cp->policy(), "teleport");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().reason, "unknown_request_type");
}

TEST(RequestTermsTest, R63ClaimsRunOnTheClaimsTerm) {
  auto cp = testing::P001();
  auto term = TermFor(cp->policy(), "claim");
  ASSERT_TRUE(term.ok());
  EXPECT_EQ(term->trigger, "claim_received");
  EXPECT_EQ(LocalDay(*cp, Due(*cp, "claim", At("2025-03-03T09:00:00Z"))), "2025-04-02");
}

TEST(RequestTermsTest, B10WarnsAtHalfAndFourFifthsOfTheTerm) {
  auto cp = testing::P001();
  Timestamp received = At("2025-03-03T07:00:00Z");
  Milestones m = WarningTimes(cp->calendar(), received, Due(*cp, "access", received));
  EXPECT_EQ(LocalDay(*cp, m.half), "2025-03-18");
  EXPECT_EQ(LocalDay(*cp, m.four_fifths), "2025-03-27");
  EXPECT_LT(m.half, m.four_fifths);
}

TEST(RequestTermsTest, R68LatenessInLocalDays) {
  auto cp = testing::P001();
  Timestamp due = Due(*cp, "access", At("2025-03-03T07:00:00Z"));
  EXPECT_EQ(LateByDays(cp->calendar(), due, due), 0);
  EXPECT_EQ(LateByDays(cp->calendar(), due, due - std::chrono::hours(5)), 0);
  EXPECT_EQ(LateByDays(cp->calendar(), due, At("2025-04-05T10:00:00Z")), 3);
  EXPECT_EQ(LateByDays(cp->calendar(), due, due + std::chrono::seconds(1)), 1);
}

TEST(RequestTermsTest, R41FeeOncePerCalendarYear) {
  auto cp3 = testing::P003();
  const policy::Right* r3 = cp3->policy().FindRight("access");
  ASSERT_NE(r3, nullptr);
  std::vector<Timestamp> seen;
  std::vector<bool> got;
  for (const char* t : {"2025-03-03T09:00:00Z", "2025-07-01T09:00:00Z", "2026-01-02T09:00:00Z"}) {
    got.push_back(FeeMayApply(*r3, cp3->calendar(), At(t), seen));
    seen.push_back(At(t));
  }
  EXPECT_EQ(got, (std::vector<bool>{false, true, false}));
  auto cp1 = testing::P001();
  const policy::Right* r1 = cp1->policy().FindRight("access");
  EXPECT_FALSE(FeeMayApply(*r1, cp1->calendar(), At("2025-07-01T09:00:00Z"), seen));
}

TEST(RequestStatesTest, ClosedRequestsNeverReopen) {
  EXPECT_TRUE(CanMove(RequestState::kReceived, RequestState::kAwaitingIdentity));
  EXPECT_TRUE(CanMove(RequestState::kAwaitingIdentity, RequestState::kInProgress));
  EXPECT_FALSE(CanMove(RequestState::kDone, RequestState::kInProgress));
  EXPECT_FALSE(CanMove(RequestState::kRejected, RequestState::kDone));
  EXPECT_FALSE(CanMove(RequestState::kInProgress, RequestState::kReceived));
  EXPECT_FALSE(CanMove(RequestState::kPartlyDone, RequestState::kInProgress));
  EXPECT_FALSE(CanMove(RequestState::kRejected, RequestState::kPartlyDone));
  for (int i = 0; i <= static_cast<int>(RequestState::kRejected); ++i) {
    auto s = static_cast<RequestState>(i);
    EXPECT_EQ(ParseRequestState(RequestStateName(s)), s);
  }
  EXPECT_FALSE(ParseRequestState("finished"));
}

TEST(RequestStatesTest, B03PartlyDoneStaysAnObligation) {
  // A store that fails after the request was done moves it back to partly done; it is done again
  // once every task confirmed. Meanwhile it is outstanding: the deadline job and the dashboard
  // count it, though its workflow steps are over.
  EXPECT_TRUE(CanMove(RequestState::kDone, RequestState::kPartlyDone));
  EXPECT_TRUE(CanMove(RequestState::kPartlyDone, RequestState::kDone));
  EXPECT_TRUE(CanMove(RequestState::kInProgress, RequestState::kPartlyDone));
  EXPECT_TRUE(IsOutstanding(RequestState::kPartlyDone));
  EXPECT_TRUE(IsOutstanding(RequestState::kInProgress));
  EXPECT_FALSE(IsOpen(RequestState::kPartlyDone));
  EXPECT_FALSE(IsOutstanding(RequestState::kDone));
  EXPECT_FALSE(IsOutstanding(RequestState::kRejected));
}

TEST(RequestEffectsTest, EffectsFoldIntoTheGateState) {
  auto cp = testing::P001();
  SubjectState s;
  RequestEffect rect;
  rect.blocked.Set(static_cast<size_t>(cp->FieldIndex("mobile_phone")));
  RequestEffect objection;
  objection.objection_pending = PurposeSet{1} << 2;
  RequestEffect decided;
  decided.objection_upheld = PurposeSet{1} << 2;
  ApplyEffects({rect, objection}, cp->purpose_count(), s);
  EXPECT_TRUE(s.blocked.Test(static_cast<size_t>(cp->FieldIndex("mobile_phone"))));
  EXPECT_EQ(s.objection_pending, PurposeSet{1} << 2);
  ApplyEffects({objection, decided}, cp->purpose_count(), s);
  EXPECT_TRUE(s.blocked.Empty());
  EXPECT_EQ(s.objection_pending, 0u);
  EXPECT_EQ(s.objection_upheld, PurposeSet{1} << 2);
  // R62: an effective opt-out of automated decisions holds while its effect is applied.
  RequestEffect opt_out;
  opt_out.no_automated = true;
  EXPECT_FALSE(opt_out.Empty());
  ApplyEffects({opt_out}, 8, s);
  EXPECT_TRUE(s.no_automated);
  ApplyEffects({}, 8, s);
  EXPECT_FALSE(s.no_automated);
  RequestEffect all;
  all.restrict_all = true;
  ApplyEffects({all}, cp->purpose_count(), s);
  EXPECT_EQ(std::popcount(s.restricted_purposes), static_cast<int>(cp->purpose_count()));
}

}  // namespace
}  // namespace dovira::domain
