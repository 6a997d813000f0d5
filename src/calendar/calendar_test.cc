#include "calendar/calendar.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace dovira::calendar {
namespace {

using std::chrono::hours;
using std::chrono::seconds;
using std::chrono::sys_seconds;

Date D(std::string_view text) {
  Result<Date> d = ParseDate(text);
  EXPECT_TRUE(d.ok()) << text << ": " << (d.ok() ? "" : d.error().message);
  return d.ok() ? *d : Date{};
}

Term T(std::string_view text) {
  Result<Term> t = ParseTerm(text);
  EXPECT_TRUE(t.ok()) << text << ": " << (t.ok() ? "" : t.error().message);
  return t.ok() ? *t : Term{};
}

Calendar MakeCalendar(CalendarConfig config) {
  Result<Calendar> cal = Calendar::Create(std::move(config));
  EXPECT_TRUE(cal.ok()) << cal.error().message;
  return std::move(cal).value();
}

Calendar Kyiv() {
  CalendarConfig config;
  config.timezone = "Europe/Kyiv";
  return MakeCalendar(config);
}

sys_seconds At(const Calendar& cal, std::string_view text) {
  Result<sys_seconds> t = cal.ParseLocal(text);
  EXPECT_TRUE(t.ok()) << text << ": " << (t.ok() ? "" : t.error().message);
  return t.ok() ? *t : sys_seconds{};
}

// ---- Creating a calendar -------------------------------------------------------------------

TEST(CalendarCreate, RefusesAnUnknownTimeZone) {
  CalendarConfig config;
  config.timezone = "Mars/Olympus";
  Result<Calendar> cal = Calendar::Create(config);
  ASSERT_FALSE(cal.ok());
  EXPECT_EQ(cal.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(cal.error().field, "timezone");
  EXPECT_NE(cal.error().message.find("unknown time zone \"Mars/Olympus\""), std::string::npos)
      << cal.error().message;
}

// §3.1.1: "There is no default: a wrong zone shifts every due time", so an empty zone is refused.
TEST(CalendarCreate, RefusesAnEmptyServerLocalOrPathLikeTimeZone) {
  for (const char* zone : {"", "localtime", "../../etc/passwd", "/usr/share/zoneinfo/Europe/Kyiv",
                           "europe/kyiv ", "posix/Europe/Kyiv", "right/UTC"}) {
    SCOPED_TRACE(zone);
    CalendarConfig config;
    config.timezone = zone;
    Result<Calendar> cal = Calendar::Create(config);
    ASSERT_FALSE(cal.ok());
    EXPECT_EQ(cal.error().field, "timezone");
  }
}

TEST(CalendarCreate, RefusesAWorkweekWithoutWorkingDays) {
  CalendarConfig config;
  config.workweek = {false, false, false, false, false, false, false};
  Result<Calendar> cal = Calendar::Create(config);
  ASSERT_FALSE(cal.ok());
  EXPECT_EQ(cal.error().field, "workweek");
  EXPECT_NE(cal.error().message.find("no working day"), std::string::npos);
}

TEST(CalendarCreate, AcceptsIanaZonesAndKeepsTheConfigAsGiven) {
  for (const char* zone :
       {"UTC", "Europe/Kyiv", "Europe/Kiev", "Asia/Almaty", "America/Santiago"}) {
    SCOPED_TRACE(zone);
    CalendarConfig config;
    config.timezone = zone;
    config.holidays = {D("2025-03-10"), D("2025-03-05"), D("2025-03-10")};
    Result<Calendar> cal = Calendar::Create(config);
    ASSERT_TRUE(cal.ok()) << cal.error().message;
    EXPECT_EQ(cal->config().timezone, zone);
    EXPECT_EQ(cal->config().holidays.size(), 3u);
  }
}

// ---- Working days ---------------------------------------------------------------------------

// R65: working days exclude the workweek's days off and the configured holidays.
TEST(Calendar, WorkingDaysAreWorkweekDaysThatAreNotHolidays) {
  CalendarConfig config;
  config.holidays = {D("2025-03-05"), D("2025-03-08")};  // a Wednesday and a Saturday
  const Calendar cal = MakeCalendar(config);
  EXPECT_TRUE(cal.IsWorkingDay(D("2025-03-03")));
  EXPECT_FALSE(cal.IsWorkingDay(D("2025-03-05")));
  EXPECT_TRUE(cal.IsWorkingDay(D("2025-03-07")));
  EXPECT_FALSE(cal.IsWorkingDay(D("2025-03-08")));
  EXPECT_FALSE(cal.IsWorkingDay(D("2025-03-09")));
  EXPECT_EQ(cal.NextWorkingDay(D("2025-03-04")), D("2025-03-06"));
  EXPECT_EQ(cal.NextWorkingDay(D("2025-03-07")), D("2025-03-10"));
  EXPECT_EQ(cal.NextWorkingDay(D("2025-03-08")), D("2025-03-10"));
  EXPECT_EQ(cal.CountWorkingDays(D("2025-03-03"), D("2025-03-14")), 8);
  EXPECT_EQ(cal.CountWorkingDays(D("2025-03-14"), D("2025-03-03")), 0);
  EXPECT_EQ(cal.AddWorkingDays(D("2025-03-03"), 0), D("2025-03-03"));
  EXPECT_EQ(cal.AddWorkingDays(D("2025-03-03"), -5), D("2025-03-03"));
}

// §3.1.1 "Holidays are data": under martial law listed holidays are not days off.
TEST(Calendar, HolidaysAreWorkingDaysWhenTheFlagSaysSo) {
  CalendarConfig config;
  config.holidays = {D("2025-03-05")};
  config.holidays_are_working_days = true;
  const Calendar cal = MakeCalendar(config);
  EXPECT_TRUE(cal.IsWorkingDay(D("2025-03-05")));
  EXPECT_FALSE(cal.IsWorkingDay(D("2025-03-08")));  // the workweek still applies
  EXPECT_EQ(cal.NextWorkingDay(D("2025-03-04")), D("2025-03-05"));
}

// ---- The deadline rule ----------------------------------------------------------------------

enum Options {
  kPlain,
  kRollForward,     // roll_forward_non_working
  kHolidaysWorked,  // holidays_are_working_days (martial law)
};

struct DueRow {
  const char* name;
  const char* trigger;
  const char* term;
  const char* due;
  std::vector<const char*> holidays = {};
  Options options = kPlain;
};

void CheckDueDates(const std::vector<DueRow>& rows) {
  for (const DueRow& row : rows) {
    SCOPED_TRACE(std::string(row.name) + ": " + row.term + " from " + row.trigger);
    CalendarConfig config;
    config.timezone = "Europe/Kyiv";
    for (const char* h : row.holidays) {
      config.holidays.push_back(D(h));
    }
    config.holidays_are_working_days = row.options == kHolidaysWorked;
    config.roll_forward_non_working = row.options == kRollForward;
    const Calendar cal = MakeCalendar(config);
    Result<Date> due = DueDate(cal, D(row.trigger), T(row.term));
    ASSERT_TRUE(due.ok()) << due.error().message;
    EXPECT_EQ(*due, D(row.due));
  }
}

// Part 0 table and R65 from D = Mon 2025-03-03, Monday-Friday, counting from the day after D.
TEST(DueDate, CountsFromTheDayAfterTheTriggerPerThePart0Table) {
  const char* d = "2025-03-03";
  CheckDueDates({
      {"R93 stop", d, "3 working days", "2025-03-06"},
      {"C-05, R47", d, "5 calendar days", "2025-03-08"},
      {"C-05 unit not stated", d, "5 days", "2025-03-08"},
      {"R65 roll-forward", d, "5 calendar days", "2025-03-10", {}, kRollForward},
      {"R65, R46", d, "7 working days", "2025-03-12"},
      {"R65 holiday", d, "7 working days", "2025-03-13", {"2025-03-05"}},
      {"§3.1.1 martial law", d, "7 working days", "2025-03-12", {"2025-03-05"}, kHolidaysWorked},
      {"R93 destroy", d, "10 working days", "2025-03-17"},
      {"R63 claim", d, "30 calendar days", "2025-04-02"},
      {"R63 end on a working day stays", d, "30 calendar days", "2025-04-02", {}, kRollForward},
      {"R56 withdrawal", d, "30 working days", "2025-04-14"},
      {"R65 working days never roll", d, "30 working days", "2025-04-14", {}, kRollForward},
      {"0 working days is the trigger", d, "0 working days", "2025-03-03"},
      {"0 calendar days is the trigger", d, "0 calendar days", "2025-03-03"},
      {"R66 later trigger", "2025-03-05", "7 working days", "2025-03-14"},
      {"R66 notice from action", "2025-03-10", "5 days", "2025-03-15"},
      {"weeks are calendar days", d, "2 weeks", "2025-03-17"},
  });
}

// §3.1.1: a calendar marking Mon 2025-03-10 as a day off (the pre-2022 carry-over of 8 March).
TEST(DueDate, SkipsAConfiguredDayOffPerSection311) {
  const char* d = "2025-03-03";
  const std::vector<const char*> march_10 = {"2025-03-10"};
  CheckDueDates({
      {"§3.1.1", d, "7 working days", "2025-03-13", march_10},
      {"§3.1.1", d, "10 working days", "2025-03-18", march_10},
      {"§3.1.1", d, "30 working days", "2025-04-15", march_10},
      {"§3.1.1", d, "3 working days", "2025-03-06", march_10},
      {"§3.1.1 martial law", d, "10 working days", "2025-03-17", march_10, kHolidaysWorked},
      {"holiday on a Saturday", d, "10 working days", "2025-03-17", {"2025-03-08"}},
      {"holiday on the trigger day", d, "3 working days", "2025-03-06", {"2025-03-03"}},
      {"roll over weekend and holiday", d, "5 calendar days", "2025-03-11", march_10, kRollForward},
  });
}

// §3.1.1 month terms; R114 (1 calendar month), R90 (3 months), yearly review.
TEST(DueDate, EndsMonthTermsOnTheSameDayNumberOrTheMonthsLastDay) {
  CheckDueDates({
      {"R114", "2025-03-03", "1 calendar month", "2025-04-03"},
      {"R90", "2025-03-03", "3 months", "2025-06-03"},
      {"§3.1.1 review", "2025-03-03", "1 year", "2026-03-03"},
      {"§3.1.1", "2025-01-31", "1 calendar month", "2025-02-28"},
      {"§3.1.1 leap", "2024-01-31", "1 calendar month", "2024-02-29"},
      {"§3.1.1 leap day", "2024-02-29", "1 calendar year", "2025-02-28"},
      {"a Friday end stays", "2025-01-31", "1 calendar month", "2025-02-28", {}, kRollForward},
      {"a Sunday end rolls", "2025-02-02", "1 calendar month", "2025-03-03", {}, kRollForward},
  });
}

TEST(DueDate, CrossesTheYearEnd) {
  const std::vector<const char*> new_year = {"2026-01-01"};
  const std::vector<const char*> two = {"2026-01-01", "2026-01-07"};
  CheckDueDates({
      {"year end", "2025-12-31", "1 working day", "2026-01-02", new_year},
      {"year end", "2025-12-31", "2 working days", "2026-01-05", new_year},
      {"year end", "2025-12-31", "3 working days", "2026-01-06", two},
      {"year end", "2025-12-31", "4 working days", "2026-01-08", two},
      {"year end", "2025-12-31", "1 working day", "2026-01-01", new_year, kHolidaysWorked},
      {"year end", "2025-12-30", "2 calendar days", "2026-01-01"},
      {"year end", "2025-12-30", "2 calendar days", "2026-01-02", new_year, kRollForward},
      {"year end", "2025-12-15", "1 calendar month", "2026-01-15"},
  });
}

TEST(DueDate, ImmediateIsTheTriggerAndIsNeverRolledForward) {
  CalendarConfig config;
  config.roll_forward_non_working = true;
  const Calendar cal = MakeCalendar(config);
  Result<Date> due = DueDate(cal, D("2025-03-08"), T("immediate"));
  ASSERT_TRUE(due.ok());
  EXPECT_EQ(*due, D("2025-03-08"));
}

TEST(DueDate, RollsAZeroDayTermOnANonWorkingDayForward) {
  CalendarConfig config;
  config.roll_forward_non_working = true;
  const Calendar cal = MakeCalendar(config);
  Result<Date> due = DueDate(cal, D("2025-03-08"), T("0 working days"));
  ASSERT_TRUE(due.ok());
  EXPECT_EQ(*due, D("2025-03-10"));
}

TEST(DueDate, RefusesTermsWithoutADueDate) {
  const Calendar cal = MakeCalendar({});
  struct Row {
    Term term;
    const char* message_part;
  };
  const std::vector<Row> rows = {
      {T("indefinite"), "no due date"},
      {T("24 hours"), "counted in hours"},
      {Term{-3, TermUnit::kCalendarDays, true}, "negative count"},
      {Term{-1, TermUnit::kWorkingDays, true}, "negative count"},
      {Term{20'000'000, TermUnit::kCalendarDays, true}, "too long"},
      {T("100000 calendar years"), "ends after 9999-12-31"},
      {Term{1, static_cast<TermUnit>(42), true}, "unknown unit"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(FormatTerm(row.term));
    Result<Date> due = DueDate(cal, D("2025-03-03"), row.term);
    ASSERT_FALSE(due.ok());
    EXPECT_EQ(due.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(due.error().message.find(row.message_part), std::string::npos) << due.error().message;
  }
}

TEST(DueDate, AcceptsTheLastSupportedDay) {
  const Calendar cal = MakeCalendar({});
  Result<Date> due = DueDate(cal, D("9999-12-30"), T("1 calendar day"));
  ASSERT_TRUE(due.ok());
  EXPECT_EQ(*due, D("9999-12-31"));
  EXPECT_FALSE(DueDate(cal, D("9999-12-31"), T("1 calendar day")).ok());
}

// Large working-day counts are computed by whole weeks plus a holiday search, not day by day.
TEST(DueDate, CountsOneHundredThousandWorkingDaysInASingleDayWorkweekQuickly) {
  CalendarConfig config;
  config.workweek = {false, false, true, false, false, false, false};  // Wednesdays only
  const Calendar plain = MakeCalendar(config);
  const Date trigger = D("2025-03-03");
  const auto started = std::chrono::steady_clock::now();
  Result<Date> due = DueDate(plain, trigger, T("100000 working days"));
  ASSERT_TRUE(due.ok()) << due.error().message;
  EXPECT_EQ(*due, D("2025-03-05") + int64_t{7} * 99999);

  // Every Wednesday of the first 300 weeks off pushes the end 300 weeks later.
  for (int i = 0; i < 300; ++i) {
    config.holidays.push_back(D("2025-03-05") + int64_t{7} * i);
  }
  for (int i = 0; i < 300; ++i) {
    config.holidays.push_back(D("2025-03-06") + int64_t{7} * i);  // Thursdays
  }
  const Calendar with_holidays = MakeCalendar(config);
  Result<Date> later = DueDate(with_holidays, trigger, T("100000 working days"));
  ASSERT_TRUE(later.ok()) << later.error().message;
  EXPECT_EQ(*later, D("2025-03-05") + int64_t{7} * (99999 + 300));
  const auto elapsed = std::chrono::steady_clock::now() - started;
  EXPECT_LT(elapsed, std::chrono::seconds{1});

  // A naive day-by-day count agrees.
  Date d = trigger;
  for (int64_t counted = 0; counted < 100000;) {
    d = d + 1;
    if (with_holidays.IsWorkingDay(d)) {
      ++counted;
    }
  }
  EXPECT_EQ(*later, d);
  EXPECT_EQ(with_holidays.CountWorkingDays(trigger, *later), 100000);
}

// ---- Property test against a naive reference ------------------------------------------------

struct Reference {
  const CalendarConfig& config;

  bool IsWorkingDay(Date d) const {
    const unsigned iso = std::chrono::weekday{d.days}.iso_encoding();  // 1 = Monday
    if (!config.workweek[iso - 1]) {
      return false;
    }
    const bool listed =
        std::find(config.holidays.begin(), config.holidays.end(), d) != config.holidays.end();
    return !listed || config.holidays_are_working_days;
  }

  Date Roll(Date d) const {
    if (!config.roll_forward_non_working) {
      return d;
    }
    while (!IsWorkingDay(d)) {
      d = Date{d.days + std::chrono::days{1}};
    }
    return d;
  }

  Date WorkingDays(Date trigger, int64_t n) const {
    Date d = trigger;
    for (int64_t counted = 0; counted < n;) {
      d = Date{d.days + std::chrono::days{1}};
      if (IsWorkingDay(d)) {
        ++counted;
      }
    }
    return Roll(d);
  }
};

// R65 for any date and any configured calendar: random triggers in 1990..2100, random workweeks
// (at least one working day), random holiday lists, both flags; fixed seed.
TEST(DueDateProperty, MatchesANaiveDayByDayReferenceForRandomCalendars) {
  std::mt19937_64 rng(20250303);
  const Date first = D("1990-01-01");
  const int64_t span = D("2100-12-31") - first;
  for (int iteration = 0; iteration < 3000; ++iteration) {
    CalendarConfig config;
    do {
      for (bool& day : config.workweek) {
        day = rng() % 2 == 0;
      }
    } while (
        std::none_of(config.workweek.begin(), config.workweek.end(), [](bool b) { return b; }));
    const int per_week =
        static_cast<int>(std::count(config.workweek.begin(), config.workweek.end(), true));
    const Date trigger = first + static_cast<int64_t>(rng() % (span + 1));
    const int64_t n = static_cast<int64_t>(rng() % 200);
    const int holidays = static_cast<int>(rng() % 60);
    const int64_t reach = 7 * (n + holidays) / per_week + 14;
    for (int i = 0; i < holidays; ++i) {
      config.holidays.push_back(trigger + (static_cast<int64_t>(rng() % (reach + 20)) - 20));
    }
    config.holidays_are_working_days = rng() % 4 == 0;
    config.roll_forward_non_working = rng() % 2 == 0;
    const Calendar cal = MakeCalendar(config);
    const Reference ref{config};
    SCOPED_TRACE("iteration " + std::to_string(iteration) + ", trigger " + FormatDate(trigger) +
                 ", n " + std::to_string(n));

    Result<Date> wd = DueDate(cal, trigger, Term{n, TermUnit::kWorkingDays, true});
    ASSERT_TRUE(wd.ok()) << wd.error().message;
    ASSERT_EQ(*wd, ref.WorkingDays(trigger, n));
    if (n > 0) {
      EXPECT_EQ(cal.CountWorkingDays(trigger, *wd), n);
      EXPECT_TRUE(cal.IsWorkingDay(*wd));
    }

    Result<Date> cd = DueDate(cal, trigger, Term{n, TermUnit::kCalendarDays, true});
    ASSERT_TRUE(cd.ok()) << cd.error().message;
    EXPECT_EQ(*cd, ref.Roll(Date{trigger.days + std::chrono::days{n}}));

    const int64_t months = n % 40;
    Result<Date> md = DueDate(cal, trigger, Term{months, TermUnit::kCalendarMonths, true});
    ASSERT_TRUE(md.ok()) << md.error().message;
    const std::chrono::year_month_day from{trigger.days};
    const std::chrono::year_month target_month =
        std::chrono::year_month{from.year(), from.month()} + std::chrono::months{months};
    const std::chrono::year_month_day_last last{target_month.year(),
                                                std::chrono::month_day_last{target_month.month()}};
    const std::chrono::day want_day = std::min(from.day(), last.day());
    EXPECT_EQ(*md, ref.Roll(Date{std::chrono::sys_days{target_month / want_day}}));

    const int64_t years = n % 5;
    Result<Date> yd = DueDate(cal, trigger, Term{years, TermUnit::kCalendarYears, true});
    ASSERT_TRUE(yd.ok()) << yd.error().message;
    EXPECT_EQ(*yd, ref.Roll(AddMonths(trigger, 12 * years)));

    for (int64_t k = -3; k < 20; ++k) {
      const Date d = trigger + k;
      ASSERT_EQ(cal.IsWorkingDay(d), ref.IsWorkingDay(d)) << FormatDate(d);
      Date next = d + 1;
      while (!ref.IsWorkingDay(next)) {
        next = next + 1;
      }
      ASSERT_EQ(cal.NextWorkingDay(d), next) << FormatDate(d);
    }
  }
}

// ---- Time zone ------------------------------------------------------------------------------

TEST(CalendarTimeZone, LocalDateIsTheDateInTheSchoolsZone) {
  const Calendar kyiv = Kyiv();
  const Calendar utc = MakeCalendar({});
  const sys_seconds late_evening_utc = At(utc, "2025-03-02T23:30:00Z");
  EXPECT_EQ(kyiv.LocalDate(late_evening_utc), D("2025-03-03"));
  EXPECT_EQ(utc.LocalDate(late_evening_utc), D("2025-03-02"));
  EXPECT_EQ(kyiv.LocalDate(At(utc, "2025-03-02T21:59:59Z")), D("2025-03-02"));
  EXPECT_EQ(kyiv.LocalDate(At(utc, "2025-03-02T22:00:00Z")), D("2025-03-03"));
}

// Europe/Kyiv: 2025-03-30 03:00 -> 04:00 and 2025-10-26 04:00 -> 03:00.
TEST(CalendarTimeZone, DayBoundariesFollowDaylightSavingChanges) {
  const Calendar kyiv = Kyiv();
  struct Row {
    const char* day;
    const char* start;
    const char* end;
    int hours;
  };
  const std::vector<Row> rows = {
      {"2025-03-03", "2025-03-03T00:00:00+02:00", "2025-03-03T23:59:59+02:00", 24},
      {"2025-03-30", "2025-03-30T00:00:00+02:00", "2025-03-30T23:59:59+03:00", 23},
      {"2025-10-26", "2025-10-26T00:00:00+03:00", "2025-10-26T23:59:59+02:00", 25},
      {"2025-07-01", "2025-07-01T00:00:00+03:00", "2025-07-01T23:59:59+03:00", 24},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.day);
    const Date d = D(row.day);
    EXPECT_EQ(kyiv.FormatLocal(kyiv.StartOfDay(d)), row.start);
    EXPECT_EQ(kyiv.FormatLocal(kyiv.EndOfDay(d)), row.end);
    EXPECT_EQ(kyiv.EndOfDay(d) + seconds{1} - kyiv.StartOfDay(d), hours{row.hours});
    EXPECT_EQ(kyiv.LocalDate(kyiv.StartOfDay(d)), d);
    EXPECT_EQ(kyiv.LocalDate(kyiv.EndOfDay(d)), d);
  }
}

// In Chile the clocks jump from 24:00 to 01:00, so 2024-09-08 has no midnight, and at the end of
// DST 23:00..24:00 of 2025-04-05 happens twice.
TEST(CalendarTimeZone, StartOfDayIsTheFirstExistingInstantWhenMidnightIsSkipped) {
  CalendarConfig config;
  config.timezone = "America/Santiago";
  const Calendar santiago = MakeCalendar(config);
  EXPECT_EQ(santiago.FormatLocal(santiago.StartOfDay(D("2024-09-08"))),
            "2024-09-08T01:00:00-03:00");
  EXPECT_EQ(santiago.FormatLocal(santiago.EndOfDay(D("2024-09-07"))), "2024-09-07T23:59:59-04:00");
  EXPECT_EQ(santiago.FormatLocal(santiago.EndOfDay(D("2025-04-05"))), "2025-04-05T23:59:59-04:00");
  EXPECT_EQ(santiago.EndOfDay(D("2025-04-05")) + seconds{1} - santiago.StartOfDay(D("2025-04-05")),
            hours{25});
}

TEST(CalendarTimeZone, ParsesLocalWallTimeAndAbsoluteInstants) {
  const Calendar kyiv = Kyiv();
  struct Row {
    const char* text;
    const char* local;
  };
  const std::vector<Row> rows = {
      {"2025-03-29T12:00", "2025-03-29T12:00:00+02:00"},
      {"2025-03-29T12:00:30", "2025-03-29T12:00:30+02:00"},
      {"2025-07-01t08:15", "2025-07-01T08:15:00+03:00"},
      {"2025-03-03T10:00:00Z", "2025-03-03T12:00:00+02:00"},
      {"2025-03-03T10:00z", "2025-03-03T12:00:00+02:00"},
      {"2025-03-03T12:00+02:00", "2025-03-03T12:00:00+02:00"},
      {"2025-03-03T05:30-04:30", "2025-03-03T12:00:00+02:00"},
      {"2025-03-30T03:30+02:00", "2025-03-30T04:30:00+03:00"},  // explicit offsets always work
      // The clocks go back 04:00 -> 03:00: 03:30 happens twice, the earlier one is taken.
      {"2025-10-26T03:30", "2025-10-26T03:30:00+03:00"},
      {"2025-10-26T04:00", "2025-10-26T04:00:00+02:00"},
      {"2025-03-30T04:00", "2025-03-30T04:00:00+03:00"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.text);
    Result<sys_seconds> t = kyiv.ParseLocal(row.text);
    ASSERT_TRUE(t.ok()) << t.error().message;
    EXPECT_EQ(kyiv.FormatLocal(*t), row.local);
  }
  EXPECT_EQ(*kyiv.ParseLocal("2025-10-26T04:00") - *kyiv.ParseLocal("2025-10-26T03:30"),
            std::chrono::minutes{90});
}

TEST(CalendarTimeZone, RefusesMalformedAndNonexistentLocalTimes) {
  const Calendar kyiv = Kyiv();
  struct Row {
    const char* text;
    const char* message_part;
  };
  const std::vector<Row> rows = {
      {"2025-03-30T03:30", "does not exist in Europe/Kyiv"},
      {"2025-03-30T03:00", "does not exist in Europe/Kyiv"},
      {"2025-03-03 10:00", "expected YYYY-MM-DDTHH:MM"},
      {"2025-03-03T10", "expected YYYY-MM-DDTHH:MM"},
      {"2025-03-03", "expected YYYY-MM-DDTHH:MM"},
      {"", "expected YYYY-MM-DDTHH:MM"},
      {"2025-03-03T10:00:00.5Z", "expected YYYY-MM-DDTHH:MM"},
      {"2025-03-03T10:00+2:00", "expected YYYY-MM-DDTHH:MM"},
      {"2025-03-03T10:00+0200", "expected YYYY-MM-DDTHH:MM"},
      {"2025-03-03T10:00 Europe/Kyiv", "expected YYYY-MM-DDTHH:MM"},
      {"2025-3-3T10:00", "expected YYYY-MM-DDTHH:MM"},
      {"2025-03-03T24:00", "must be 00:00:00..23:59:59"},
      {"2025-03-03T10:60", "must be 00:00:00..23:59:59"},
      {"2025-03-03T10:00:60", "must be 00:00:00..23:59:59"},
      {"2025-03-03T10:00+24:00", "offset must be within"},
      {"2025-02-30T10:00", "day 30 does not exist in February 2025"},
      {"1899-12-31T23:00Z", "year 1899 is outside"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.text);
    Result<sys_seconds> t = kyiv.ParseLocal(row.text);
    ASSERT_FALSE(t.ok()) << kyiv.FormatLocal(*t);
    EXPECT_EQ(t.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(t.error().message.find(row.message_part), std::string::npos) << t.error().message;
  }
}

// ---- Deadlines as instants ------------------------------------------------------------------

// Hours are elapsed time: across a clock change the wall-clock time of the end moves (B08).
TEST(DueInstant, CountsHoursAsElapsedTimeAcrossDaylightSavingChanges) {
  const Calendar kyiv = Kyiv();
  struct Row {
    const char* trigger;
    const char* term;
    const char* due;
  };
  const std::vector<Row> rows = {
      {"2025-03-29T12:00", "24 hours", "2025-03-30T13:00:00+03:00"},
      {"2025-10-25T12:00", "24 hours", "2025-10-26T11:00:00+02:00"},
      {"2025-03-03T10:00", "72 hours", "2025-03-06T10:00:00+02:00"},  // B08
      {"2025-03-03T10:00", "0 hours", "2025-03-03T10:00:00+02:00"},
      {"2025-03-03T10:00", "immediate", "2025-03-03T10:00:00+02:00"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(std::string(row.term) + " from " + row.trigger);
    Result<sys_seconds> due = DueInstant(kyiv, At(kyiv, row.trigger), T(row.term));
    ASSERT_TRUE(due.ok()) << due.error().message;
    EXPECT_EQ(kyiv.FormatLocal(*due), row.due);
  }
}

// §3.1.1: "A day ends at 23:59:59 in calendar.timezone"; the trigger date is the local date.
TEST(DueInstant, EndsDayTermsAtTheEndOfTheLocalDueDate) {
  const Calendar kyiv = Kyiv();
  struct Row {
    const char* trigger;
    const char* term;
    const char* due;
  };
  const std::vector<Row> rows = {
      // 23:30 UTC on 2 March is already 3 March in Kyiv, so counting starts on 4 March.
      {"2025-03-02T23:30:00Z", "7 working days", "2025-03-12T23:59:59+02:00"},
      {"2025-03-02T21:30:00Z", "7 working days", "2025-03-11T23:59:59+02:00"},
      {"2025-03-03T09:00", "30 calendar days", "2025-04-02T23:59:59+03:00"},  // after DST
      {"2025-03-29T09:00", "1 calendar day", "2025-03-30T23:59:59+03:00"},    // the 23-hour day
      {"2025-10-25T09:00", "1 calendar day", "2025-10-26T23:59:59+02:00"},    // the 25-hour day
      {"2025-03-03T09:00", "1 calendar month", "2025-04-03T23:59:59+03:00"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(std::string(row.term) + " from " + row.trigger);
    Result<sys_seconds> due = DueInstant(kyiv, At(kyiv, row.trigger), T(row.term));
    ASSERT_TRUE(due.ok()) << due.error().message;
    EXPECT_EQ(kyiv.FormatLocal(*due), row.due);
  }
}

TEST(DueInstant, RefusesIndefiniteAndOutOfRangeTerms) {
  const Calendar kyiv = Kyiv();
  const sys_seconds trigger = At(kyiv, "2025-03-03T10:00");
  EXPECT_FALSE(DueInstant(kyiv, trigger, T("indefinite")).ok());
  EXPECT_FALSE(DueInstant(kyiv, trigger, Term{-1, TermUnit::kHours, true}).ok());
  EXPECT_FALSE(DueInstant(kyiv, trigger, Term{-1, TermUnit::kWorkingDays, true}).ok());
  EXPECT_FALSE(
      DueInstant(kyiv, trigger, Term{std::numeric_limits<int64_t>::max(), TermUnit::kHours, true})
          .ok());
  EXPECT_FALSE(DueInstant(kyiv, sys_seconds::max(), Term{1, TermUnit::kHours, true}).ok());
}

TEST(CalendarTimeZone, ExtremeInstantsAndDatesDoNotOverflow) {
  const Calendar kyiv = Kyiv();
  EXPECT_FALSE(kyiv.FormatLocal(sys_seconds::max()).empty());
  EXPECT_FALSE(kyiv.FormatLocal(sys_seconds::min()).empty());
  const Date far = D("2025-03-03") + std::numeric_limits<int64_t>::max();
  EXPECT_GT(kyiv.EndOfDay(far), kyiv.StartOfDay(D("9999-12-31")));
  EXPECT_GT(kyiv.LocalDate(sys_seconds::max()), D("9999-12-31"));
  EXPECT_EQ(kyiv.CountWorkingDays(D("2025-03-03"), D("2025-03-03") + 7), 5);
}

TEST(Calendar, CopiesShareTheSameRules) {
  CalendarConfig config;
  config.holidays = {D("2025-03-05")};
  const Calendar original = MakeCalendar(config);
  const Calendar copy = original;  // NOLINT(performance-unnecessary-copy-initialization)
  EXPECT_EQ(copy.IsWorkingDay(D("2025-03-05")), original.IsWorkingDay(D("2025-03-05")));
  EXPECT_EQ(&copy.config(), &original.config());
}

// The header promises concurrent use: one shared calendar, and zones first loaded from many
// threads at once.
TEST(Calendar, CanBeSharedAndCreatedConcurrently) {
  CalendarConfig config;
  config.timezone = "Europe/Kyiv";
  config.holidays = {D("2025-03-10")};
  const Calendar shared = MakeCalendar(config);
  const char* zones[] = {"Asia/Tokyo", "America/Sao_Paulo", "Africa/Nairobi", "Pacific/Auckland"};
  std::vector<std::string> failures(4);
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      CalendarConfig own;
      own.timezone = zones[i];
      if (!Calendar::Create(own).ok()) {
        failures[i] = std::string("create ") + zones[i];
      }
      for (int k = 0; k < 200; ++k) {
        Result<sys_seconds> due =
            DueInstant(shared, sys_seconds{seconds{1740996000}}, Term{10, TermUnit::kWorkingDays});
        if (!due.ok() || shared.FormatLocal(*due) != "2025-03-18T23:59:59+02:00") {
          failures[i] = "due instant";
        }
      }
    });
  }
  for (std::thread& t : threads) {
    t.join();
  }
  for (const std::string& f : failures) {
    EXPECT_EQ(f, "");
  }
}

}  // namespace
}  // namespace dovira::calendar
