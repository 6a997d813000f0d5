#include "calendar/date.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace dovira::calendar {
namespace {

Date D(std::string_view text) {
  Result<Date> d = ParseDate(text);
  EXPECT_TRUE(d.ok()) << text << ": " << (d.ok() ? "" : d.error().message);
  return d.ok() ? *d : Date{};
}

TEST(ParseDate, AcceptsStrictIsoDatesAndFormatsThemBack) {
  for (const char* text : {"2025-03-03", "1900-01-01", "9999-12-31", "2024-02-29", "2000-02-29",
                           "1970-01-01", "2025-12-31"}) {
    SCOPED_TRACE(text);
    Result<Date> d = ParseDate(text);
    ASSERT_TRUE(d.ok()) << d.error().message;
    EXPECT_EQ(FormatDate(*d), text);
  }
}

TEST(ParseDate, AgreesWithStdChronoOnTheDayNumber) {
  EXPECT_EQ(D("2025-03-03").days, std::chrono::sys_days{std::chrono::year{2025} / 3 / 3});
  EXPECT_EQ(D("1900-01-01").days, std::chrono::sys_days{std::chrono::year{1900} / 1 / 1});
}

TEST(ParseDate, RefusesMalformedOrNonexistentDatesSayingWhatIsWrong) {
  struct Row {
    const char* text;
    const char* message_part;
  };
  const std::vector<Row> rows = {
      {"2025-02-30", "day 30 does not exist in February 2025, which has 28 days"},
      {"2023-02-29", "day 29 does not exist in February 2023"},
      {"2025-04-31", "day 31 does not exist in April 2025"},
      {"2025-01-00", "day 00 does not exist"},
      {"2025-13-01", "month 13 does not exist"},
      {"2025-00-10", "month 00 does not exist"},
      {"2025-3-3", "expected the form YYYY-MM-DD"},
      {"20250303", "expected the form YYYY-MM-DD"},
      {"", "expected the form YYYY-MM-DD"},
      {"2025-03-03 ", "expected the form YYYY-MM-DD"},
      {" 2025-03-03", "expected the form YYYY-MM-DD"},
      {"2025/03/03", "expected the form YYYY-MM-DD"},
      {"+025-03-03", "expected the form YYYY-MM-DD"},
      {"2025-03-03T00:00", "expected the form YYYY-MM-DD"},
      {"03.03.2025", "expected the form YYYY-MM-DD"},
      {"1899-12-31", "year 1899 is outside 1900..9999"},
      {"0000-01-01", "year 0 is outside 1900..9999"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.text);
    Result<Date> d = ParseDate(row.text);
    ASSERT_FALSE(d.ok());
    EXPECT_EQ(d.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(d.error().message.find(row.message_part), std::string::npos) << d.error().message;
    EXPECT_NE(d.error().message.find(std::string("\"") + row.text + "\""), std::string::npos)
        << "the message quotes the input: " << d.error().message;
  }
}

TEST(ParseDate, QuotesOnlyAnExcerptOfVeryLongInput) {
  const std::string long_text(100000, '7');
  Result<Date> d = ParseDate(long_text);
  ASSERT_FALSE(d.ok());
  EXPECT_LT(d.error().message.size(), 200u);
}

TEST(Weekday, CountsFromMondayZeroToSundaySix) {
  struct Row {
    const char* date;
    int weekday;
  };
  for (const Row& row : std::vector<Row>{{"2025-03-03", 0},
                                         {"2025-03-05", 2},
                                         {"2025-03-08", 5},
                                         {"2025-03-09", 6},
                                         {"1970-01-01", 3},
                                         {"1900-01-01", 0},
                                         {"2000-02-29", 1},
                                         {"2025-12-31", 2},
                                         {"2026-01-01", 3}}) {
    SCOPED_TRACE(row.date);
    EXPECT_EQ(Weekday(D(row.date)), row.weekday);
  }
}

TEST(Weekday, AgreesWithStdChronoOverCenturies) {
  const Date start = D("1900-01-01");
  for (int64_t i = -1000; i < 80000; i += 7 * 13 + 1) {
    const Date d = AddDays(start, i);
    EXPECT_EQ(Weekday(d), static_cast<int>(std::chrono::weekday{d.days}.iso_encoding()) - 1)
        << FormatDate(d);
  }
}

TEST(AddDays, CrossesMonthYearAndLeapDayBoundaries) {
  EXPECT_EQ(AddDays(D("2025-12-30"), 2), D("2026-01-01"));
  EXPECT_EQ(AddDays(D("2024-02-28"), 1), D("2024-02-29"));
  EXPECT_EQ(AddDays(D("2025-02-28"), 1), D("2025-03-01"));
  EXPECT_EQ(AddDays(D("2025-03-03"), 30), D("2025-04-02"));
  EXPECT_EQ(AddDays(D("2025-03-03"), -3), D("2025-02-28"));
  EXPECT_EQ(AddDays(D("2025-03-03"), 0), D("2025-03-03"));
}

TEST(DateOperators, AddSubtractAndCompareLikeDayNumbers) {
  const Date a = D("2025-03-03");
  const Date b = D("2025-04-02");
  EXPECT_EQ(a + 30, b);
  EXPECT_EQ(b - 30, a);
  EXPECT_EQ(b - a, 30);
  EXPECT_EQ(DaysBetween(b, a), -30);
  EXPECT_LT(a, b);
  EXPECT_GE(b, a);
  EXPECT_NE(a, b);
  EXPECT_EQ(Date{}, D("1970-01-01"));
}

// §3.1.1 month terms, R90 (3 months), R114 (1 calendar month), yearly review.
TEST(AddMonths, KeepsTheDayNumberOrFallsBackToTheMonthsLastDay) {
  struct Row {
    const char* from;
    int64_t months;
    const char* to;
  };
  const std::vector<Row> rows = {
      {"2025-03-03", 1, "2025-04-03"},   // R114
      {"2025-03-03", 3, "2025-06-03"},   // R90
      {"2025-03-03", 12, "2026-03-03"},  // §3.1.1 yearly review
      {"2025-01-31", 1, "2025-02-28"},  {"2024-01-31", 1, "2024-02-29"},
      {"2024-02-29", 12, "2025-02-28"}, {"2024-02-29", 48, "2028-02-29"},
      {"2025-03-31", 1, "2025-04-30"},  {"2025-08-31", 1, "2025-09-30"},
      {"2025-12-15", 1, "2026-01-15"},  {"2025-11-30", 3, "2026-02-28"},
      {"2025-01-15", -1, "2024-12-15"}, {"2025-05-31", -3, "2025-02-28"},
      {"2025-03-03", 0, "2025-03-03"},  {"1900-01-31", 1, "1900-02-28"},  // 1900 is not a leap year
      {"2000-01-31", 1, "2000-02-29"},                                    // 2000 is
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(std::string(row.from) + " + " + std::to_string(row.months) + " months");
    EXPECT_EQ(AddMonths(D(row.from), row.months), D(row.to));
  }
}

TEST(AddMonths, AgreesWithStdChronoCalendarArithmetic) {
  std::mt19937_64 rng(1182);
  std::uniform_int_distribution<int64_t> day(0, 110000);
  std::uniform_int_distribution<int64_t> months(-2400, 2400);
  const Date base = D("1900-01-01");
  for (int i = 0; i < 5000; ++i) {
    const Date from = AddDays(base, day(rng));
    const int64_t n = months(rng);
    const std::chrono::year_month_day ymd{from.days};
    std::chrono::year_month_day want = ymd + std::chrono::months{n};
    if (!want.ok()) {
      want = std::chrono::year_month_day{
          std::chrono::year_month_day_last{want.year(), std::chrono::month_day_last{want.month()}}};
    }
    EXPECT_EQ(AddMonths(from, n).days, std::chrono::sys_days{want})
        << FormatDate(from) << " + " << n << " months";
  }
}

TEST(DateArithmetic, SaturatesInsteadOfOverflowing) {
  const Date d = D("2025-03-03");
  const Date far = AddDays(d, std::numeric_limits<int64_t>::max());
  const Date near = AddDays(d, std::numeric_limits<int64_t>::min());
  EXPECT_GT(far, d);
  EXPECT_LT(near, d);
  EXPECT_FALSE(FormatDate(far).empty());
  EXPECT_FALSE(FormatDate(near).empty());
  EXPECT_GT(AddMonths(d, std::numeric_limits<int64_t>::max()), d);
  EXPECT_LT(AddMonths(d, std::numeric_limits<int64_t>::min()), d);
  EXPECT_GE(Weekday(far), 0);
  EXPECT_LE(Weekday(near), 6);
  EXPECT_EQ(DaysBetween(near, far), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(d - std::numeric_limits<int64_t>::min(), far);
  EXPECT_EQ(far + 1, far);
}

TEST(FormatDate, PrintsYearsOutsideFourDigitsWithoutTruncating) {
  EXPECT_EQ(FormatDate(AddDays(D("9999-12-31"), 1)), "10000-01-01");
  EXPECT_EQ(FormatDate(AddMonths(D("1900-03-01"), int64_t{-12} * 1901)), "-0001-03-01");
  EXPECT_EQ(FormatDate(AddMonths(D("1900-01-01"), int64_t{-12} * 1900)), "0000-01-01");
}

}  // namespace
}  // namespace dovira::calendar
