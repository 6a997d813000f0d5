// R01: terms, triggers and dates in the notice are written in words, with the noun in the form
// each Ukrainian and Russian numeral asks for.
#include "notice/term_text.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace dovira::notice {
namespace {

using calendar::Term;
using calendar::TermUnit;

Term Days(int64_t n) { return Term{n, TermUnit::kCalendarDays, true}; }
Term WorkingDays(int64_t n) { return Term{n, TermUnit::kWorkingDays, true}; }

struct PluralCase {
  int64_t n;
  const char* uk_calendar;
  const char* uk_working;
  const char* ru_calendar;
  const char* ru_working;
};

// 1, 21, 101 take the singular; 2-4, 22 the "few" form; 5-20, 25, 111 the "many" form.
const PluralCase kPluralCases[] = {
    {1, "1 календарний день", "1 робочий день", "1 календарный день", "1 рабочий день"},
    {2, "2 календарні дні", "2 робочі дні", "2 календарных дня", "2 рабочих дня"},
    {4, "4 календарні дні", "4 робочі дні", "4 календарных дня", "4 рабочих дня"},
    {5, "5 календарних днів", "5 робочих днів", "5 календарных дней", "5 рабочих дней"},
    {11, "11 календарних днів", "11 робочих днів", "11 календарных дней", "11 рабочих дней"},
    {12, "12 календарних днів", "12 робочих днів", "12 календарных дней", "12 рабочих дней"},
    {14, "14 календарних днів", "14 робочих днів", "14 календарных дней", "14 рабочих дней"},
    {21, "21 календарний день", "21 робочий день", "21 календарный день", "21 рабочий день"},
    {22, "22 календарні дні", "22 робочі дні", "22 календарных дня", "22 рабочих дня"},
    {25, "25 календарних днів", "25 робочих днів", "25 календарных дней", "25 рабочих дней"},
    {101, "101 календарний день", "101 робочий день", "101 календарный день", "101 рабочий день"},
    {111, "111 календарних днів", "111 робочих днів", "111 календарных дней", "111 рабочих дней"},
};

TEST(R01TermText, UkrainianDaysTakeThePluralFormOfTheNumeral) {
  for (const PluralCase& c : kPluralCases) {
    EXPECT_EQ(TermText(Days(c.n), "uk"), c.uk_calendar) << c.n;
    EXPECT_EQ(TermText(WorkingDays(c.n), "uk"), c.uk_working) << c.n;
  }
}

TEST(R01TermText, RussianDaysTakeThePluralFormOfTheNumeral) {
  for (const PluralCase& c : kPluralCases) {
    EXPECT_EQ(TermText(Days(c.n), "ru"), c.ru_calendar) << c.n;
    EXPECT_EQ(TermText(WorkingDays(c.n), "ru"), c.ru_working) << c.n;
  }
}

TEST(R01TermText, SlavicPluralFormFollowsTheLastTwoDigits) {
  EXPECT_EQ(SlavicPluralForm(0), PluralForm::kMany);
  EXPECT_EQ(SlavicPluralForm(1), PluralForm::kOne);
  EXPECT_EQ(SlavicPluralForm(3), PluralForm::kFew);
  EXPECT_EQ(SlavicPluralForm(13), PluralForm::kMany);
  EXPECT_EQ(SlavicPluralForm(1001), PluralForm::kOne);
  EXPECT_EQ(SlavicPluralForm(1012), PluralForm::kMany);
  EXPECT_EQ(SlavicPluralForm(-2), PluralForm::kFew);
  EXPECT_EQ(SlavicPluralForm(INT64_MIN), PluralForm::kMany);  // ...808
}

TEST(R01TermText, EnglishUsesSingularOnlyForOne) {
  EXPECT_EQ(TermText(WorkingDays(1), "en"), "1 working day");
  EXPECT_EQ(TermText(WorkingDays(7), "en"), "7 working days");
  EXPECT_EQ(TermText(WorkingDays(21), "en"), "21 working days");
  EXPECT_EQ(TermText(Days(30), "en"), "30 calendar days");
  EXPECT_EQ(TermText(Days(0), "en"), "0 calendar days");
}

TEST(R01TermText, EveryUnitIsWrittenInWordsInEachLanguage) {
  struct Case {
    Term term;
    const char* uk;
    const char* ru;
    const char* en;
  };
  const Case cases[] = {
      {Term{7, TermUnit::kWorkingDays, true}, "7 робочих днів", "7 рабочих дней", "7 working days"},
      {Term{30, TermUnit::kCalendarDays, true}, "30 календарних днів", "30 календарных дней",
       "30 calendar days"},
      {Term{1, TermUnit::kCalendarMonths, true}, "1 календарний місяць", "1 календарный месяц",
       "1 calendar month"},
      {Term{3, TermUnit::kCalendarMonths, true}, "3 календарні місяці", "3 календарных месяца",
       "3 calendar months"},
      {Term{12, TermUnit::kCalendarMonths, true}, "12 календарних місяців",
       "12 календарных месяцев", "12 calendar months"},
      {Term{1, TermUnit::kHours, true}, "1 година", "1 час", "1 hour"},
      {Term{24, TermUnit::kHours, true}, "24 години", "24 часа", "24 hours"},
      {Term{72, TermUnit::kHours, true}, "72 години", "72 часа", "72 hours"},
      {Term{48, TermUnit::kHours, true}, "48 годин", "48 часов", "48 hours"},
      {Term{1, TermUnit::kCalendarYears, true}, "1 рік", "1 год", "1 year"},
      {Term{3, TermUnit::kCalendarYears, true}, "3 роки", "3 года", "3 years"},
      {Term{5, TermUnit::kCalendarYears, true}, "5 років", "5 лет", "5 years"},
      {Term{0, TermUnit::kImmediate, true}, "негайно", "немедленно", "immediately"},
      {Term{0, TermUnit::kIndefinite, true}, "безстроково", "бессрочно", "indefinitely"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(TermText(c.term, "uk"), c.uk);
    EXPECT_EQ(TermText(c.term, "ru"), c.ru);
    EXPECT_EQ(TermText(c.term, "en"), c.en);
  }
}

TEST(R01TermText, UnstatedUnitIsWrittenAsCalendarDaysTheWayItIsCounted) {
  const Term five_days{5, TermUnit::kCalendarDays, false};
  EXPECT_EQ(TermText(five_days, "uk"), "5 календарних днів");
  EXPECT_EQ(TermText(five_days, "en"), "5 calendar days");
}

TEST(R01TermText, UnknownLanguageFallsBackToEnglish) {
  EXPECT_EQ(TermText(WorkingDays(7), "de"), "7 working days");
  EXPECT_EQ(TriggerText("detected", ""), "from detection");
}

TEST(R01TriggerText, EveryTriggerIsWrittenInEachLanguage) {
  const std::vector<std::string> triggers = {"request_received", "evidence_supplied",
                                             "action_performed", "detected",
                                             "claim_received",   "withdrawal_received"};
  for (const char* lang : {"uk", "ru", "en"}) {
    std::vector<std::string> seen;
    for (const std::string& trigger : triggers) {
      const std::string text = TriggerText(trigger, lang);
      EXPECT_FALSE(text.empty()) << trigger << " " << lang;
      for (const std::string& other : seen) EXPECT_NE(text, other) << trigger << " " << lang;
      seen.push_back(text);
    }
  }
  EXPECT_EQ(TriggerText("request_received", "en"), "from receipt of the request");
  EXPECT_EQ(TriggerText("evidence_supplied", "en"), "from the day you supply the evidence");
  EXPECT_EQ(TriggerText("action_performed", "en"), "from the day the action was performed");
  EXPECT_EQ(TriggerText("detected", "en"), "from detection");
  EXPECT_EQ(TriggerText("claim_received", "en"), "from receipt of the claim");
  EXPECT_EQ(TriggerText("withdrawal_received", "en"), "from receipt of the withdrawal");
  EXPECT_EQ(TriggerText("request_received", "uk"), "з дня отримання запиту");
  EXPECT_EQ(TriggerText("request_received", "ru"), "со дня получения запроса");
}

TEST(R01TriggerText, UnknownTriggerIsLeftOut) {
  EXPECT_EQ(TriggerText("sometime", "uk"), "");
  EXPECT_EQ(DeadlineText(Days(30), "sometime", "en"), "30 calendar days");
}

TEST(R01DeadlineText, TermIsFollowedByItsTrigger) {
  EXPECT_EQ(DeadlineText(WorkingDays(7), "evidence_supplied", "uk"),
            "7 робочих днів з дня надання вами підтвердних документів");
  EXPECT_EQ(DeadlineText(WorkingDays(7), "evidence_supplied", "ru"),
            "7 рабочих дней со дня предоставления вами подтверждающих документов");
  EXPECT_EQ(DeadlineText(Days(30), "request_received", "en"),
            "30 calendar days from receipt of the request");
}

TEST(R01DeadlineText, ImmediateAndIndefiniteStandAlone) {
  EXPECT_EQ(DeadlineText(Term{0, TermUnit::kImmediate, true}, "detected", "uk"), "негайно");
  EXPECT_EQ(DeadlineText(Term{0, TermUnit::kIndefinite, true}, "detected", "en"), "indefinitely");
}

TEST(R01DateText, DatesAreWrittenWithTheMonthInWords) {
  const auto date = calendar::ParseDate("2025-03-10");
  ASSERT_TRUE(date.ok());
  EXPECT_EQ(DateText(*date, "uk"), "10 березня 2025 р.");
  EXPECT_EQ(DateText(*date, "ru"), "10 марта 2025 г.");
  EXPECT_EQ(DateText(*date, "en"), "10 March 2025");
  const auto new_year = calendar::ParseDate("2026-01-01");
  ASSERT_TRUE(new_year.ok());
  EXPECT_EQ(DateText(*new_year, "uk"), "1 січня 2026 р.");
  EXPECT_EQ(DateText(*new_year, "ru"), "1 января 2026 г.");
  const auto december = calendar::ParseDate("2024-12-31");
  ASSERT_TRUE(december.ok());
  EXPECT_EQ(DateText(*december, "en"), "31 December 2024");
}

}  // namespace
}  // namespace dovira::notice
