// Terms, triggers and dates in words, for the human-readable notice: "7 робочих днів",
// "30 календарных дней", "1 calendar month", "з дня отримання запиту", "10 березня 2025 р.".
// Ukrainian and Russian numerals take the noun in the form the number asks for (1 день,
// 2-4 дні, 5-20 днів, 21 день, 22 дні, 111 днів).
//
// Languages are "uk", "ru" and "en"; any other code is written in English (RenderNotice rejects
// unknown languages before it gets here).
//
// Thread-safety: pure functions over constant tables; safe from any thread.
#pragma once

#include <cstdint>
#include <string>

#include "calendar/date.h"
#include "calendar/term.h"

namespace dovira::notice {

// The three noun forms of Ukrainian and Russian numerals.
enum class PluralForm {
  kOne,   // 1, 21, 101 ...: "день"
  kFew,   // 2-4, 22-24, 102 ...: "дні" / "дня"
  kMany,  // 0, 5-20, 25-30, 111 ...: "днів" / "дней"
};

// Returns the form a Ukrainian or Russian noun takes after the whole number n (the sign is
// ignored). The two languages follow the same rule.
PluralForm SlavicPluralForm(int64_t n);

// Returns the term in words in `lang`: "7 робочих днів" / "7 рабочих дней" / "7 working days",
// "1 календарний місяць" / "1 календарный месяц" / "1 calendar month", "24 години",
// "3 роки" / "3 года" / "3 years", "негайно" / "немедленно" / "immediately",
// "безстроково" / "бессрочно" / "indefinitely". A term whose unit was not stated is written as
// calendar days, the way the platform counts it.
std::string TermText(const calendar::Term& term, const std::string& lang);

// Returns the event a term is counted from, as words that follow the term:
//   request_received    "з дня отримання запиту" / "со дня получения запроса" /
//                       "from receipt of the request"
//   evidence_supplied   "... from the day you supply the evidence"
//   action_performed    "... from the day the action was performed"
//   detected            "... from detection"
//   claim_received      "... from receipt of the claim"
//   withdrawal_received "... from receipt of the withdrawal"
// An unknown trigger returns "" (the term is then shown alone).
std::string TriggerText(const std::string& trigger, const std::string& lang);

// Returns the term followed by its trigger: "7 робочих днів з дня надання вами підтвердних
// документів". "Immediately" and "indefinitely" are shown without the trigger.
std::string DeadlineText(const calendar::Term& term, const std::string& trigger,
                         const std::string& lang);

// Returns the date as a person writes it: "10 березня 2025 р." / "10 марта 2025 г." /
// "10 March 2025".
std::string DateText(calendar::Date date, const std::string& lang);

}  // namespace dovira::notice
