#include "calendar/term.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace dovira::calendar {
namespace {

// R65: each term has a number and a unit; C-05: "5 days" is accepted but flagged as unstated.
TEST(ParseTerm, AcceptsThePolicyFileSpellings) {
  struct Row {
    const char* text;
    Term want;
  };
  const std::vector<Row> rows = {
      {"immediate", {0, TermUnit::kImmediate, true}},
      {"Immediate", {0, TermUnit::kImmediate, true}},
      {"indefinite", {0, TermUnit::kIndefinite, true}},
      {"INDEFINITE", {0, TermUnit::kIndefinite, true}},
      {"1 hour", {1, TermUnit::kHours, true}},
      {"72 hours", {72, TermUnit::kHours, true}},                 // B08
      {"30 calendar days", {30, TermUnit::kCalendarDays, true}},  // R63, C-04
      {"1 calendar day", {1, TermUnit::kCalendarDays, true}},
      {"7 working days", {7, TermUnit::kWorkingDays, true}},  // C-06
      {"7 Working Days", {7, TermUnit::kWorkingDays, true}},
      {"1 working day", {1, TermUnit::kWorkingDays, true}},
      {"10 business days", {10, TermUnit::kWorkingDays, true}},
      {"1 business day", {1, TermUnit::kWorkingDays, true}},
      {"1 calendar month", {1, TermUnit::kCalendarMonths, true}},  // R114
      {"3 months", {3, TermUnit::kCalendarMonths, true}},          // R90
      {"1 month", {1, TermUnit::kCalendarMonths, true}},
      {"1 calendar year", {1, TermUnit::kCalendarYears, true}},
      {"3 calendar years", {3, TermUnit::kCalendarYears, true}},
      {"2 years", {2, TermUnit::kCalendarYears, true}},
      {"1 year", {1, TermUnit::kCalendarYears, true}},
      {"2 weeks", {14, TermUnit::kCalendarDays, true}},
      {"1 week", {7, TermUnit::kCalendarDays, true}},
      {"5 days", {5, TermUnit::kCalendarDays, false}},  // 003 §17.3, C-05
      {"1 day", {1, TermUnit::kCalendarDays, false}},
      {"0 working days", {0, TermUnit::kWorkingDays, true}},
      {"0 days", {0, TermUnit::kCalendarDays, false}},
      {"100000 working days", {100000, TermUnit::kWorkingDays, true}},
      {"007 working days", {7, TermUnit::kWorkingDays, true}},
      {"2 day", {2, TermUnit::kCalendarDays, false}},  // number and plural need not agree
      {"1 calendar days", {1, TermUnit::kCalendarDays, true}},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.text);
    Result<Term> t = ParseTerm(row.text);
    ASSERT_TRUE(t.ok()) << t.error().message;
    EXPECT_EQ(*t, row.want);
  }
}

TEST(ParseTerm, RefusesAnythingElseWithAMessageNamingTheProblem) {
  struct Row {
    const char* text;
    const char* message_part;
  };
  const std::vector<Row> rows = {
      {"seven working days", "term \"seven working days\": the count must be a whole number"},
      {"seven days", "the count must be a whole number"},
      {"1.5 days", "the count must be a whole number"},
      {"+3 days", "the count must be a whole number"},
      {"1,000 days", "the count must be a whole number"},
      {"-3 days", "term \"-3 days\": the count must not be negative"},
      {"99999999999 days", "the count 99999999999 is too large; the largest allowed is 100000"},
      {"100001 working days", "the count 100001 is too large"},
      {"7", "term \"7\": the unit is missing after the count"},
      {"7 fortnights",
       "term \"7 fortnights\": unknown unit \"fortnights\"; use calendar days, working days"},
      {"7 calendar", "unknown unit \"calendar\""},
      {"7 calendar fortnights", "unknown unit \"calendar fortnights\""},
      {"7 робочих днів", "unknown unit \"робочих днів\""},
      {"7 working days after receipt", "unknown unit \"working days after receipt\""},
      {"days", "term \"days\": the count is missing"},
      {"soon", "term \"soon\": not a term; use calendar days"},
      {"immediately", "not a term"},
      {"", "term is empty; use calendar days"},
      {"7  days", "separate the words with single spaces"},
      {" 7 days", "separate the words with single spaces"},
      {"7 days ", "separate the words with single spaces"},
      {"7\tdays", "separate the words with single spaces"},
      {"7 working\ndays", "separate the words with single spaces"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.text);
    Result<Term> t = ParseTerm(row.text);
    ASSERT_FALSE(t.ok()) << FormatTerm(*t);
    EXPECT_EQ(t.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(t.error().message.find(row.message_part), std::string::npos) << t.error().message;
  }
}

TEST(ParseTerm, QuotesOnlyAnExcerptOfVeryLongInput) {
  const std::string huge = "7 " + std::string(1 << 20, 'x');
  Result<Term> t = ParseTerm(huge);
  ASSERT_FALSE(t.ok());
  EXPECT_LT(t.error().message.size(), 400u);
  const std::string many_digits(5000, '9');
  Result<Term> u = ParseTerm(many_digits + " days");
  ASSERT_FALSE(u.ok());
  EXPECT_NE(u.error().message.find("too large"), std::string::npos) << u.error().message;
  EXPECT_LT(u.error().message.size(), 400u);
}

TEST(ParseTerm, EscapesControlCharactersAndQuotesInTheEchoedInput) {
  Result<Term> t = ParseTerm("7 \"working\"\x01\\days");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().message.find(R"(unknown unit "\"working\"\x01\\days")"), std::string::npos)
      << t.error().message;
  Result<Term> u = ParseTerm("7\ndays");
  ASSERT_FALSE(u.ok());
  EXPECT_EQ(u.error().message.find('\n'), std::string::npos) << u.error().message;
  EXPECT_NE(u.error().message.find(R"("7\ndays")"), std::string::npos) << u.error().message;
}

TEST(FormatTerm, SpellsEachTermOneCanonicalWay) {
  struct Row {
    Term term;
    const char* want;
  };
  const std::vector<Row> rows = {
      {{0, TermUnit::kImmediate, true}, "immediate"},
      {{0, TermUnit::kIndefinite, true}, "indefinite"},
      {{1, TermUnit::kHours, true}, "1 hour"},
      {{72, TermUnit::kHours, true}, "72 hours"},
      {{7, TermUnit::kWorkingDays, true}, "7 working days"},
      {{1, TermUnit::kWorkingDays, true}, "1 working day"},
      {{0, TermUnit::kWorkingDays, true}, "0 working days"},
      {{30, TermUnit::kCalendarDays, true}, "30 calendar days"},
      {{1, TermUnit::kCalendarDays, true}, "1 calendar day"},
      {{5, TermUnit::kCalendarDays, false}, "5 days"},
      {{1, TermUnit::kCalendarMonths, true}, "1 calendar month"},
      {{3, TermUnit::kCalendarMonths, true}, "3 calendar months"},
      {{1, TermUnit::kCalendarYears, true}, "1 calendar year"},
      {{2, TermUnit::kCalendarYears, true}, "2 calendar years"},
      {{1, static_cast<TermUnit>(99), true}, "unknown term"},
  };
  for (const Row& row : rows) {
    EXPECT_EQ(FormatTerm(row.term), row.want);
  }
}

TEST(FormatTerm, RoundTripsThroughParseTerm) {
  for (const char* text :
       {"immediate", "indefinite", "24 hours", "1 hour", "30 calendar days", "1 calendar day",
        "7 working days", "10 business days", "1 calendar month", "3 months", "1 year", "5 days",
        "2 weeks", "0 working days"}) {
    SCOPED_TRACE(text);
    Result<Term> t = ParseTerm(text);
    ASSERT_TRUE(t.ok()) << t.error().message;
    Result<Term> again = ParseTerm(FormatTerm(*t));
    ASSERT_TRUE(again.ok()) << again.error().message;
    EXPECT_EQ(*again, *t);
  }
}

}  // namespace
}  // namespace dovira::calendar
