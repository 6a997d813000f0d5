// Terms: the "how long" of a legal deadline as a policy file writes it ("30 calendar days",
// "7 working days", "1 calendar month", "immediate"), parsed into a count and a unit, and
// printed back in one canonical English spelling. A term says nothing about when it starts or
// which calendar it is counted in; DueDate in calendar.h combines the two.
//
// Thread-safety: Term is a plain value and the functions are pure; safe from any thread.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>

#include "common/result.h"

namespace dovira::calendar {

// The largest count ParseTerm accepts ("100000 working days"); "N weeks" allows it too and is
// stored as 7N calendar days.
inline constexpr int64_t kMaxTermCount = 100000;

enum class TermUnit {
  kImmediate,  // no delay; count is 0
  kHours,      // exact elapsed time
  kCalendarDays,
  kWorkingDays,     // days of the school's workweek that are not days off
  kCalendarMonths,  // same day number in the target month, or its last day
  kCalendarYears,   // 12 calendar months
  kIndefinite,      // no end; count is 0
};

struct Term {
  int64_t count = 0;
  TermUnit unit = TermUnit::kCalendarDays;
  // False when the policy wrote only "days" and calendar days were assumed (003 §17.3 "5 days",
  // C-05), so validation can warn that the unit was not stated.
  bool unit_stated = true;

  friend bool operator==(const Term&, const Term&) = default;
};

// Parses the policy-file spelling of a term. Accepted, case-insensitive, words separated by
// single spaces, unit words singular or plural regardless of the count:
//   "immediate", "indefinite",
//   "N hours", "N calendar days", "N working days", "N business days" (= working days),
//   "N calendar months", "N months" (= calendar months), "N calendar years", "N years",
//   "N weeks" (= 7N calendar days), "N days" (calendar days, unit_stated = false).
// N is a decimal integer 0..kMaxTermCount written with digits only.
// On error returns kInvalidArgument with a message that quotes the input and names the problem:
// empty input, stray spaces, a count that is not a whole number, negative or too large, a
// missing count or unit, or an unknown unit (listing the accepted ones).
Result<Term> ParseTerm(std::string_view text);

// Returns the canonical spelling: "immediate", "indefinite", "1 hour", "7 working days",
// "30 calendar days", "1 calendar month", "3 calendar years". A term whose unit was not stated
// prints as "5 days", so that ParseTerm(FormatTerm(t)) == t for every term ParseTerm returns
// (weeks excepted: "2 weeks" comes back as "14 calendar days"). Never fails; an out-of-range
// enum value prints as "unknown term".
std::string FormatTerm(const Term& t);

// Writes FormatTerm(t); lets tests and logs print terms.
std::ostream& operator<<(std::ostream& os, const Term& t);

}  // namespace dovira::calendar
