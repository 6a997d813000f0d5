#include "calendar/term.h"

#include <algorithm>
#include <array>
#include <ostream>

#include "calendar/message_internal.h"

namespace dovira::calendar {
namespace {

using internal::Quoted;

constexpr std::string_view kUnitHint =
    "use calendar days, working days (or business days), weeks, calendar months, calendar years "
    "or hours, e.g. \"30 calendar days\"; or write \"immediate\" or \"indefinite\"";

struct UnitSpelling {
  std::string_view singular;
  std::string_view plural;
  TermUnit unit;
  int64_t multiplier;  // weeks are stored as days
  bool stated;
};

// "days" alone is accepted because real policies write it (003 §17.3), but it is flagged as not
// stated: calendar versus working days changes the due date (C-05).
constexpr std::array<UnitSpelling, 10> kUnits{{
    {"hour", "hours", TermUnit::kHours, 1, true},
    {"calendar day", "calendar days", TermUnit::kCalendarDays, 1, true},
    {"working day", "working days", TermUnit::kWorkingDays, 1, true},
    {"business day", "business days", TermUnit::kWorkingDays, 1, true},
    {"calendar month", "calendar months", TermUnit::kCalendarMonths, 1, true},
    {"month", "months", TermUnit::kCalendarMonths, 1, true},
    {"calendar year", "calendar years", TermUnit::kCalendarYears, 1, true},
    {"year", "years", TermUnit::kCalendarYears, 1, true},
    {"week", "weeks", TermUnit::kCalendarDays, 7, true},
    {"day", "days", TermUnit::kCalendarDays, 1, false},
}};

const UnitSpelling* FindUnit(std::string_view lower) {
  for (const UnitSpelling& u : kUnits) {
    if (lower == u.singular || lower == u.plural) {
      return &u;
    }
  }
  return nullptr;
}

bool IsAllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

Error TermError(std::string_view text, std::string_view problem) {
  return Error::Invalid("term " + Quoted(text) + ": " + std::string(problem));
}

}  // namespace

Result<Term> ParseTerm(std::string_view text) {
  if (text.empty()) {
    return Error::Invalid("term is empty; " + std::string(kUnitHint));
  }

  // Strict spacing keeps one spelling per term, so policy diffs and the rendered notice do not
  // change when someone retypes a term.
  const bool bad_space =
      IsSpace(text.front()) || IsSpace(text.back()) || text.find("  ") != std::string_view::npos ||
      std::any_of(text.begin(), text.end(), [](char c) { return IsSpace(c) && c != ' '; });
  if (bad_space) {
    return TermError(text, "separate the words with single spaces and nothing before or after");
  }

  const std::string lower = AsciiLower(text);
  if (lower == "immediate") {
    return Term{0, TermUnit::kImmediate, true};
  }
  if (lower == "indefinite") {
    return Term{0, TermUnit::kIndefinite, true};
  }

  const std::size_t space = lower.find(' ');
  if (space == std::string::npos) {
    if (IsAllDigits(lower)) {
      return TermError(text, "the unit is missing after the count; " + std::string(kUnitHint));
    }
    if (FindUnit(lower) != nullptr) {
      return TermError(text, "the count is missing; write it in digits before the unit");
    }
    return TermError(text, "not a term; " + std::string(kUnitHint));
  }

  const std::string_view count_text = std::string_view(text).substr(0, space);
  const std::string_view unit_text = std::string_view(text).substr(space + 1);
  if (count_text.size() > 1 && count_text.front() == '-' && IsAllDigits(count_text.substr(1))) {
    return TermError(text, "the count must not be negative");
  }
  if (!IsAllDigits(count_text)) {
    return TermError(text, "the count must be a whole number written in digits");
  }
  const std::string_view significant =
      count_text.substr(std::min(count_text.find_first_not_of('0'), count_text.size() - 1));
  int64_t count = kMaxTermCount + 1;  // stays too large when there are too many digits to add up
  if (significant.size() <= 7) {
    count = 0;
    for (char c : significant) {
      count = count * 10 + (c - '0');
    }
  }
  if (count > kMaxTermCount) {
    const std::string shown =
        significant.size() <= 20 ? " " + std::string(significant) : std::string();
    return TermError(text, "the count" + shown + " is too large; the largest allowed is " +
                               std::to_string(kMaxTermCount));
  }

  const UnitSpelling* unit = FindUnit(std::string_view(lower).substr(space + 1));
  if (unit == nullptr) {
    return TermError(text, "unknown unit " + Quoted(unit_text) + "; " + std::string(kUnitHint));
  }
  return Term{count * unit->multiplier, unit->unit, unit->stated};
}

std::string FormatTerm(const Term& t) {
  std::string_view singular;
  std::string_view plural;
  switch (t.unit) {
    case TermUnit::kImmediate:
      return "immediate";
    case TermUnit::kIndefinite:
      return "indefinite";
    case TermUnit::kHours:
      singular = "hour";
      plural = "hours";
      break;
    case TermUnit::kCalendarDays:
      singular = t.unit_stated ? "calendar day" : "day";
      plural = t.unit_stated ? "calendar days" : "days";
      break;
    case TermUnit::kWorkingDays:
      singular = "working day";
      plural = "working days";
      break;
    case TermUnit::kCalendarMonths:
      singular = "calendar month";
      plural = "calendar months";
      break;
    case TermUnit::kCalendarYears:
      singular = "calendar year";
      plural = "calendar years";
      break;
    default:
      return "unknown term";
  }
  return std::to_string(t.count) + " " + std::string(t.count == 1 ? singular : plural);
}

std::ostream& operator<<(std::ostream& os, const Term& t) { return os << FormatTerm(t); }

}  // namespace dovira::calendar
