// Civil dates for legal deadlines: a day in the proleptic Gregorian calendar with no time zone
// attached ("2025-03-03"), with the strict text form used in policy files, APIs and the CLI, and
// the day and month arithmetic the deadline rules are built from. Which instant a date begins or
// ends at depends on a school's time zone; that lives in calendar.h.
//
// Thread-safety: Date is a plain value and every function here is pure; safe to use from any
// number of threads.
#pragma once

#include <chrono>
#include <compare>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>

#include "common/result.h"

namespace dovira::calendar {

// The years ParseDate accepts. Arithmetic may step outside them; FormatDate still prints such
// dates, but they do not parse back.
inline constexpr int kMinParseYear = 1900;
inline constexpr int kMaxParseYear = 9999;

// A civil date. Value-initialised, it is 1970-01-01.
struct Date {
  std::chrono::sys_days days;

  friend constexpr bool operator==(const Date&, const Date&) = default;
  // clang-tidy 14 misreads the defaulted <=> as comparing a pointer with 0.
  // NOLINTNEXTLINE(modernize-use-nullptr)
  friend constexpr auto operator<=>(const Date&, const Date&) = default;
};

// Parses the strict form "YYYY-MM-DD": exactly ten characters, zero-padded, a date that exists,
// year 1900..9999. On error returns kInvalidArgument with a message naming what is wrong (the
// shape, the year range, the month, or the day that does not exist in that month).
Result<Date> ParseDate(std::string_view text);

// Returns "YYYY-MM-DD". Years outside 0..9999 (reachable only by arithmetic) are printed with a
// leading '-' or with more than four digits.
std::string FormatDate(Date d);

// Returns the ISO weekday counted from zero: 0 = Monday .. 6 = Sunday.
int Weekday(Date d);

// Returns the date n days later (earlier for negative n). Saturates instead of overflowing for n
// near the limits of int64_t. (Dates are meaningful within about ±10^12 years; FormatDate and
// AddMonths clamp anything further out to that range.)
Date AddDays(Date d, int64_t n);

// Returns the date n months later (earlier for negative n) with the same day number, or the last
// day of the target month when that day does not exist there: 2025-01-31 + 1 month = 2025-02-28,
// 2024-01-31 + 1 month = 2024-02-29. Results beyond about ±10^12 years are clamped.
Date AddMonths(Date d, int64_t n);

// Returns the number of days from `from` to `to` (negative when `to` is earlier).
int64_t DaysBetween(Date from, Date to);

// Day arithmetic as operators: d + n and d - n are AddDays; a - b is DaysBetween(b, a).
inline Date operator+(Date d, int64_t n) { return AddDays(d, n); }
inline Date operator-(Date d, int64_t n) { return AddDays(d, n == INT64_MIN ? INT64_MAX : -n); }
inline int64_t operator-(Date a, Date b) { return DaysBetween(b, a); }

// Writes FormatDate(d); lets tests and logs print dates.
std::ostream& operator<<(std::ostream& os, Date d);

}  // namespace dovira::calendar
