#include "notice/term_text.h"

#include <chrono>
#include <string_view>

#include "notice/phrases.h"

namespace dovira::notice {
namespace {

using internal::Lang;

// A noun in the three Slavic forms, or in English singular and plural (the `few` slot unused).
struct Noun {
  const char* one;
  const char* few;
  const char* many;
};

struct UnitWords {
  Noun uk, ru, en;
};

// Indexed by TermUnit; the kImmediate and kIndefinite rows are not counted nouns.
constexpr UnitWords kUnits[] = {
    /* kImmediate */ {{"", "", ""}, {"", "", ""}, {"", "", ""}},
    /* kHours */
    {{"година", "години", "годин"}, {"час", "часа", "часов"}, {"hour", "hours", "hours"}},
    /* kCalendarDays */
    {{"календарний день", "календарні дні", "календарних днів"},
     {"календарный день", "календарных дня", "календарных дней"},
     {"calendar day", "calendar days", "calendar days"}},
    /* kWorkingDays */
    {{"робочий день", "робочі дні", "робочих днів"},
     {"рабочий день", "рабочих дня", "рабочих дней"},
     {"working day", "working days", "working days"}},
    /* kCalendarMonths */
    {{"календарний місяць", "календарні місяці", "календарних місяців"},
     {"календарный месяц", "календарных месяца", "календарных месяцев"},
     {"calendar month", "calendar months", "calendar months"}},
    /* kCalendarYears: twelve calendar months, so plain "years" rather than "calendar years",
       which in both Slavic languages reads as January-to-December years. */
    {{"рік", "роки", "років"}, {"год", "года", "лет"}, {"year", "years", "years"}},
    /* kIndefinite */ {{"", "", ""}, {"", "", ""}, {"", "", ""}},
};

const char* CountedNoun(const Noun& noun, Lang lang, int64_t n) {
  if (lang == Lang::kEn) return n == 1 ? noun.one : noun.many;
  switch (SlavicPluralForm(n)) {
    case PluralForm::kOne:
      return noun.one;
    case PluralForm::kFew:
      return noun.few;
    case PluralForm::kMany:
      break;
  }
  return noun.many;
}

Lang LangOrEnglish(const std::string& code) {
  return internal::ParseLang(code).value_or(Lang::kEn);
}

const char* Pick(Lang lang, const char* uk, const char* ru, const char* en) {
  switch (lang) {
    case Lang::kUk:
      return uk;
    case Lang::kRu:
      return ru;
    case Lang::kEn:
      break;
  }
  return en;
}

}  // namespace

PluralForm SlavicPluralForm(int64_t n) {
  // Work on the last two digits only, so INT64_MIN needs no negation.
  int64_t last_two = n % 100;
  if (last_two < 0) last_two = -last_two;
  const int64_t last = last_two % 10;
  if (last_two >= 11 && last_two <= 14) return PluralForm::kMany;
  if (last == 1) return PluralForm::kOne;
  if (last >= 2 && last <= 4) return PluralForm::kFew;
  return PluralForm::kMany;
}

std::string TermText(const calendar::Term& term, const std::string& lang_code) {
  const Lang lang = LangOrEnglish(lang_code);
  switch (term.unit) {
    case calendar::TermUnit::kImmediate:
      return Pick(lang, "негайно", "немедленно", "immediately");
    case calendar::TermUnit::kIndefinite:
      return Pick(lang, "безстроково", "бессрочно", "indefinitely");
    case calendar::TermUnit::kHours:
    case calendar::TermUnit::kCalendarDays:
    case calendar::TermUnit::kWorkingDays:
    case calendar::TermUnit::kCalendarMonths:
    case calendar::TermUnit::kCalendarYears: {
      const UnitWords& words = kUnits[static_cast<int>(term.unit)];
      const Noun& noun = lang == Lang::kUk ? words.uk : lang == Lang::kRu ? words.ru : words.en;
      return std::to_string(term.count) + " " + CountedNoun(noun, lang, term.count);
    }
  }
  return std::to_string(term.count);  // an out-of-range unit: the number alone
}

std::string TriggerText(const std::string& trigger, const std::string& lang_code) {
  struct Row {
    std::string_view id;
    const char* uk;
    const char* ru;
    const char* en;
  };
  static constexpr Row kTriggers[] = {
      {"request_received", "з дня отримання запиту", "со дня получения запроса",
       "from receipt of the request"},
      {"evidence_supplied", "з дня надання вами підтвердних документів",
       "со дня предоставления вами подтверждающих документов",
       "from the day you supply the evidence"},
      {"action_performed", "з дня виконання дії", "со дня совершения действия",
       "from the day the action was performed"},
      {"detected", "з моменту виявлення", "с момента обнаружения", "from detection"},
      {"claim_received", "з дня отримання претензії", "со дня получения претензии",
       "from receipt of the claim"},
      {"withdrawal_received", "з дня отримання відкликання згоди",
       "со дня получения отзыва согласия", "from receipt of the withdrawal"},
  };
  const Lang lang = LangOrEnglish(lang_code);
  for (const Row& row : kTriggers) {
    if (row.id == trigger) return Pick(lang, row.uk, row.ru, row.en);
  }
  return {};
}

std::string DeadlineText(const calendar::Term& term, const std::string& trigger,
                         const std::string& lang) {
  std::string text = TermText(term, lang);
  if (term.unit == calendar::TermUnit::kImmediate || term.unit == calendar::TermUnit::kIndefinite) {
    return text;
  }
  const std::string from = TriggerText(trigger, lang);
  if (!from.empty()) text += " " + from;
  return text;
}

std::string DateText(calendar::Date date, const std::string& lang_code) {
  static constexpr const char* kUkMonths[] = {"січня",   "лютого", "березня",   "квітня",
                                              "травня",  "червня", "липня",     "серпня",
                                              "вересня", "жовтня", "листопада", "грудня"};
  static constexpr const char* kRuMonths[] = {"января",   "февраля", "марта",  "апреля",
                                              "мая",      "июня",    "июля",   "августа",
                                              "сентября", "октября", "ноября", "декабря"};
  static constexpr const char* kEnMonths[] = {"January",   "February", "March",    "April",
                                              "May",       "June",     "July",     "August",
                                              "September", "October",  "November", "December"};
  const std::chrono::year_month_day ymd{date.days};
  if (!ymd.ok()) return calendar::FormatDate(date);  // outside std::chrono's year range
  const unsigned month = static_cast<unsigned>(ymd.month()) - 1;
  const std::string day = std::to_string(static_cast<unsigned>(ymd.day()));
  const std::string year = std::to_string(static_cast<int>(ymd.year()));
  switch (LangOrEnglish(lang_code)) {
    case Lang::kUk:
      return day + " " + kUkMonths[month] + " " + year + " р.";
    case Lang::kRu:
      return day + " " + kRuMonths[month] + " " + year + " г.";
    case Lang::kEn:
      break;
  }
  return day + " " + kEnMonths[month] + " " + year;
}

}  // namespace dovira::notice
