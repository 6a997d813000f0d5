// A rectification under policy 001 is due 7 working days after the day the evidence is supplied
// (R46, R66), counted in the school's own calendar (R65): Europe/Kyiv, Monday to Friday, and the
// listed Ukrainian public holidays, which are days off in one mode and ordinary working days in
// the other (001 runs under martial law, so it ships with the second).
//
// Each due date is checked twice: against dates written out by hand around the 2025 holidays, and,
// for every day of 2025, against a day-by-day count done here without the calendar library
// (its own weekday rule, its own holiday list, Kyiv's UTC offsets written out).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "domain/requests.h"
#include "domain/test_policies.h"

namespace dovira::domain {
namespace {

using calendar::Date;
using testing::At;

Date D(const std::string& text) {
  auto d = calendar::ParseDate(text);
  EXPECT_TRUE(d.ok()) << text;
  return d.ok() ? *d : Date{};
}

// Ukraine's public holidays as policy 001 lists them for 2025 and 2026 (Labour Code art. 73 as
// amended in 2023, Orthodox Easter and Trinity), written out here so that the count below does
// not read them from the calendar it checks.
const std::set<Date>& UkrainianHolidays() {
  static const std::set<Date> days = [] {
    std::set<Date> s;
    for (const char* d :
         {"2025-01-01", "2025-03-08", "2025-04-20", "2025-05-01", "2025-05-08", "2025-06-08",
          "2025-06-28", "2025-07-15", "2025-08-24", "2025-10-01", "2025-12-25", "2026-01-01",
          "2026-03-08", "2026-04-12", "2026-05-01", "2026-05-08", "2026-05-31", "2026-06-28",
          "2026-07-15", "2026-08-24", "2026-10-01", "2026-12-25"}) {
      s.insert(D(d));
    }
    return s;
  }();
  return days;
}

bool IsWeekday(Date d) {
  return std::chrono::weekday(d.days).iso_encoding() <= 5;  // 1 = Monday .. 7 = Sunday
}

// The nth day after `from` that is a weekday and, when holidays are days off, not a holiday.
Date CountWorkingDays(Date from, int n, bool holidays_off) {
  Date d = from;
  while (n > 0) {
    d.days += std::chrono::days(1);
    if (IsWeekday(d) && !(holidays_off && UkrainianHolidays().count(d) > 0)) --n;
  }
  return d;
}

// Kyiv in 2025: UTC+2, and UTC+3 from 2025-03-30 03:00 to 2025-10-26 04:00 local time.
int KyivOffsetHours(Date d, int local_hour) {
  const Date spring = D("2025-03-30"), autumn = D("2025-10-26");
  const bool after_spring = d > spring || (d == spring && local_hour >= 3);
  const bool before_autumn = d < autumn || (d == autumn && local_hour < 4);
  return after_spring && before_autumn ? 3 : 2;
}

// The instant of hh:mm local Kyiv time on d, built from the offset above.
Timestamp KyivTime(Date d, int hour, int minute) {
  return Timestamp(std::chrono::sys_days(d.days)) + std::chrono::hours(hour) +
         std::chrono::minutes(minute) - std::chrono::hours(KyivOffsetHours(d, hour));
}

std::chrono::sys_seconds Secs(Timestamp t) { return std::chrono::floor<std::chrono::seconds>(t); }

class RectificationCalendarTest : public ::testing::Test {
 protected:
  void SetUp() override {
    policy_ = testing::P001();
    ASSERT_NE(policy_, nullptr);
    auto term = TermFor(policy_->policy(), "rectification");
    ASSERT_TRUE(term.ok()) << term.error().message;
    ASSERT_EQ(calendar::FormatTerm(term->term), "7 working days");
    ASSERT_EQ(term->trigger, "evidence_supplied");
    ASSERT_EQ(term->source, "policy");
    term_ = term->term;

    const calendar::CalendarConfig& shipped = policy_->calendar().config();
    ASSERT_EQ(shipped.timezone, "Europe/Kyiv");
    ASSERT_FALSE(shipped.roll_forward_non_working);
    for (Date h : UkrainianHolidays()) {
      ASSERT_TRUE(std::find(shipped.holidays.begin(), shipped.holidays.end(), h) !=
                  shipped.holidays.end())
          << calendar::FormatDate(h) << " is no longer a holiday of policy 001";
    }
    calendar::CalendarConfig off = shipped, worked = shipped;
    off.holidays_are_working_days = false;
    worked.holidays_are_working_days = true;
    auto a = calendar::Calendar::Create(off);
    auto b = calendar::Calendar::Create(worked);
    ASSERT_TRUE(a.ok() && b.ok());
    days_off_.emplace_back(*a);
    holidays_worked_.emplace_back(*b);
  }

  Timestamp DueWithDaysOff(Timestamp evidence) { return Due(days_off_.front(), evidence); }
  Timestamp DueWithHolidaysWorked(Timestamp evidence) {
    return Due(holidays_worked_.front(), evidence);
  }
  Timestamp DueAsShipped(Timestamp evidence) { return Due(policy_->calendar(), evidence); }

  Timestamp Due(const calendar::Calendar& cal, Timestamp evidence) {
    auto due = DueAt(cal, evidence, term_);
    EXPECT_TRUE(due.ok());
    return due.ok() ? *due : Timestamp{};
  }
  Date LocalDay(Timestamp t) { return policy_->calendar().LocalDate(Secs(t)); }

  std::shared_ptr<const CompiledPolicy> policy_;
  calendar::Term term_;
  // Calendar has no default state; a vector holds the one built in SetUp.
  std::vector<calendar::Calendar> days_off_, holidays_worked_;
};

// Evidence supplied just before (or on) a weekday holiday: with holidays as days off the term
// runs one working day longer for each holiday inside it; the due instant is the end of the local
// due day in Kyiv.
TEST_F(RectificationCalendarTest, R46_R65_R66_EvidenceBeforeAHolidayUnderBothHolidayModes) {
  struct Case {
    const char* what;
    const char* evidence;
    const char* due_days_off;
    const char* due_holidays_worked;
  };
  const Case cases[] = {
      {"Wed before Labour Day (Thu 05-01) and Victory Day (Thu 05-08)", "2025-04-30T15:00:00+03:00",
       "2025-05-13T23:59:59+03:00", "2025-05-09T23:59:59+03:00"},
      {"Mon before Statehood Day (Tue 07-15)", "2025-07-14T10:00:00+03:00",
       "2025-07-24T23:59:59+03:00", "2025-07-23T23:59:59+03:00"},
      {"Tue before Defenders' Day (Wed 10-01)", "2025-09-30T18:00:00+03:00",
       "2025-10-10T23:59:59+03:00", "2025-10-09T23:59:59+03:00"},
      {"Wed before Christmas (Thu 12-25) and New Year (Thu 01-01), across the year",
       "2025-12-24T12:00:00+02:00", "2026-01-06T23:59:59+02:00", "2026-01-02T23:59:59+02:00"},
      {"Sat after Labour Day: a weekend trigger with Victory Day in the term",
       "2025-05-03T11:00:00+03:00", "2025-05-14T23:59:59+03:00", "2025-05-13T23:59:59+03:00"},
      {"on Labour Day itself", "2025-05-01T09:00:00+03:00", "2025-05-13T23:59:59+03:00",
       "2025-05-12T23:59:59+03:00"},
      // Holidays on a weekend are days off anyway (no carry-over): both modes agree.
      {"Fri before Women's Day (Sat 03-08)", "2025-03-07T12:00:00+02:00",
       "2025-03-18T23:59:59+02:00", "2025-03-18T23:59:59+02:00"},
      {"on Women's Day (Sat 03-08)", "2025-03-08T12:00:00+02:00", "2025-03-18T23:59:59+02:00",
       "2025-03-18T23:59:59+02:00"},
      {"Fri before Independence Day (Sun 08-24)", "2025-08-22T12:00:00+03:00",
       "2025-09-02T23:59:59+03:00", "2025-09-02T23:59:59+03:00"},
      // The end of summer time inside the term: the due instant is 23:59:59 at UTC+2.
      {"Fri 10-24, clocks go back on Sun 10-26", "2025-10-24T12:00:00+03:00",
       "2025-11-04T23:59:59+02:00", "2025-11-04T23:59:59+02:00"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const Timestamp evidence = At(c.evidence);
    EXPECT_EQ(FormatTimestamp(DueWithDaysOff(evidence)), FormatTimestamp(At(c.due_days_off)));
    EXPECT_EQ(FormatTimestamp(DueWithHolidaysWorked(evidence)),
              FormatTimestamp(At(c.due_holidays_worked)));
  }
}

// The school's time zone decides the evidence day: 00:30 on Labour Day in Kyiv is still 04-30 in
// UTC. Counted from the Kyiv date the term ends a working day later than from the UTC date.
TEST_F(RectificationCalendarTest, R65_R66_TheEvidenceDayIsTheSchoolsLocalDay) {
  const Timestamp evidence = At("2025-04-30T21:30:00Z");  // 2025-05-01 00:30 in Kyiv
  EXPECT_EQ(calendar::FormatDate(LocalDay(evidence)), "2025-05-01");
  EXPECT_EQ(FormatTimestamp(DueWithHolidaysWorked(evidence)),
            FormatTimestamp(At("2025-05-12T23:59:59+03:00")));
  EXPECT_EQ(FormatTimestamp(DueWithDaysOff(evidence)),
            FormatTimestamp(At("2025-05-13T23:59:59+03:00")));
  // 23:30 on Tue 2025-03-04 in Kyiv is 21:30 UTC the same day; 00:30 on Wed 03-05 is 22:30 UTC
  // on the Tuesday. The R66 example (evidence on 2025-03-05 → 2025-03-14) holds for the second.
  EXPECT_EQ(calendar::FormatDate(LocalDay(DueAsShipped(At("2025-03-04T21:30:00Z")))), "2025-03-13");
  EXPECT_EQ(calendar::FormatDate(LocalDay(DueAsShipped(At("2025-03-04T22:30:00Z")))), "2025-03-14");
}

// The shipped policy runs in the martial-law mode: listed holidays are working days.
TEST_F(RectificationCalendarTest, R65_Policy001AsShippedCountsHolidaysAsWorkingDays) {
  ASSERT_TRUE(policy_->calendar().config().holidays_are_working_days);
  const Timestamp evidence = At("2025-12-24T12:00:00+02:00");
  EXPECT_EQ(DueAsShipped(evidence), DueWithHolidaysWorked(evidence));
  EXPECT_NE(DueAsShipped(evidence), DueWithDaysOff(evidence));
}

// Every day of 2025, evidence at 00:30 and at 23:30 Kyiv time (the hours where a UTC count would
// take the wrong day): each due date is exactly 7 working days later by the count above, due at
// the end of that local day; holidays as days off never make it earlier, and make it later
// exactly when a weekday holiday falls inside the term; a weekend trigger runs like the Friday
// before it; the due day is itself a working day.
TEST_F(RectificationCalendarTest, R46_R65_R66_EveryDayOf2025MatchesADayByDayCount) {
  int later_with_days_off = 0, expected_later = 0, triggers = 0;
  const Date first = D("2025-01-01"), last = D("2025-12-31");
  std::vector<std::pair<Timestamp, Timestamp>> friday_dues;  // (days off, worked) at 00:30
  for (Date day = first; day <= last; day.days += std::chrono::days(1)) {
    SCOPED_TRACE(calendar::FormatDate(day));
    for (auto [hour, minute] : {std::pair{0, 30}, std::pair{23, 30}}) {
      SCOPED_TRACE(hour);
      ++triggers;
      const Timestamp evidence = KyivTime(day, hour, minute);
      ASSERT_EQ(LocalDay(evidence), day);
      const Timestamp due_off = DueWithDaysOff(evidence);
      const Timestamp due_worked = DueWithHolidaysWorked(evidence);
      const Date want_off = CountWorkingDays(day, 7, /*holidays_off=*/true);
      const Date want_worked = CountWorkingDays(day, 7, /*holidays_off=*/false);

      ASSERT_EQ(LocalDay(due_off), want_off) << calendar::FormatDate(LocalDay(due_off));
      ASSERT_EQ(LocalDay(due_worked), want_worked) << calendar::FormatDate(LocalDay(due_worked));
      // The end of the local day: one second later is the next day.
      EXPECT_EQ(LocalDay(due_off + std::chrono::seconds(1)), want_off + 1);
      EXPECT_EQ(LocalDay(due_worked + std::chrono::seconds(1)), want_worked + 1);
      EXPECT_EQ(DueAsShipped(evidence), due_worked);

      EXPECT_GE(due_off, due_worked);
      bool weekday_holiday_in_term = false;
      for (Date d = day + 1; d <= want_worked; d.days += std::chrono::days(1)) {
        if (IsWeekday(d) && UkrainianHolidays().count(d) > 0) weekday_holiday_in_term = true;
      }
      EXPECT_EQ(due_off > due_worked, weekday_holiday_in_term);
      later_with_days_off += due_off > due_worked;
      expected_later += weekday_holiday_in_term;

      EXPECT_TRUE(IsWeekday(want_off) && UkrainianHolidays().count(want_off) == 0);
      EXPECT_TRUE(IsWeekday(want_worked));

      const unsigned iso = std::chrono::weekday(day.days).iso_encoding();
      if (hour == 0 && iso == 5) friday_dues = {{due_off, due_worked}};
      if (hour == 0 && iso >= 6 && !friday_dues.empty()) {
        EXPECT_EQ(due_off, friday_dues.front().first);
        EXPECT_EQ(due_worked, friday_dues.front().second);
      }
    }
  }
  EXPECT_EQ(triggers, 2 * 365);
  EXPECT_EQ(later_with_days_off, expected_later);
  // Six of the 2025 holidays (and New Year 2026) fall on a weekday; evidence supplied on 52 days
  // of the year has one of them inside its term, so the mode changes those due dates.
  EXPECT_EQ(later_with_days_off, 2 * 52);
}

}  // namespace
}  // namespace dovira::domain
