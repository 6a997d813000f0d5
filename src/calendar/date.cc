#include "calendar/date.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <ostream>

#include "calendar/message_internal.h"

namespace dovira::calendar {
namespace {

using internal::Quoted;

// std::chrono::year holds only ±32767, and a deadline counted from a far date can leave that,
// so the civil conversions below run on int64_t (H. Hinnant's days_from_civil/civil_from_days).
// Years are kept within ±kYearLimit, which keeps every intermediate product inside int64_t.
constexpr int64_t kYearLimit = 1'000'000'000'000;
constexpr int64_t kDayLimit = kYearLimit * 366;

struct Civil {
  int64_t year;
  int month;  // 1..12
  int day;    // 1..31
};

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) {
    --q;
  }
  return q;
}

int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = FloorDiv(y, 400);
  const int64_t yoe = y - era * 400;                                    // [0, 399]
  const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;  // [0, 365]
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;            // [0, 146096]
  return era * 146097 + doe - 719468;
}

Civil CivilFromDays(int64_t z) {
  z = std::clamp(z, -kDayLimit, kDayLimit) + 719468;
  const int64_t era = FloorDiv(z, 146097);
  const int64_t doe = z - era * 146097;                                       // [0, 146096]
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                // [0, 365]
  const int64_t mp = (5 * doy + 2) / 153;                                     // [0, 11]
  const int day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  const int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return Civil{year, month, day};
}

bool IsLeapYear(int64_t y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

int DaysInMonth(int64_t y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeapYear(y) ? 29 : kDays[m - 1];
}

int64_t DayCount(Date d) { return d.days.time_since_epoch().count(); }

Date FromDayCount(int64_t n) { return Date{std::chrono::sys_days{std::chrono::days{n}}}; }

constexpr const char* kMonthNames[] = {"January",   "February", "March",    "April",
                                       "May",       "June",     "July",     "August",
                                       "September", "October",  "November", "December"};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

int Digits(std::string_view s) {
  int v = 0;
  for (char c : s) {
    v = v * 10 + (c - '0');
  }
  return v;
}

void AppendPadded(std::string& out, int64_t value, int width) {
  std::string digits = std::to_string(value);
  if (static_cast<int>(digits.size()) < width) {
    out.append(width - digits.size(), '0');
  }
  out += digits;
}

}  // namespace

Result<Date> ParseDate(std::string_view text) {
  const bool shape_ok = text.size() == 10 && text[4] == '-' && text[7] == '-' &&
                        std::all_of(text.begin(), text.begin() + 4, IsDigit) && IsDigit(text[5]) &&
                        IsDigit(text[6]) && IsDigit(text[8]) && IsDigit(text[9]);
  if (!shape_ok) {
    return Error::Invalid("date " + Quoted(text) +
                          ": expected the form YYYY-MM-DD with zero padding, e.g. 2025-03-03");
  }
  const int year = Digits(text.substr(0, 4));
  const int month = Digits(text.substr(5, 2));
  const int day = Digits(text.substr(8, 2));
  if (year < kMinParseYear || year > kMaxParseYear) {
    return Error::Invalid("date " + Quoted(text) + ": year " + std::to_string(year) +
                          " is outside " + std::to_string(kMinParseYear) + ".." +
                          std::to_string(kMaxParseYear));
  }
  if (month < 1 || month > 12) {
    return Error::Invalid("date " + Quoted(text) + ": month " + std::string(text.substr(5, 2)) +
                          " does not exist (use 01..12)");
  }
  const int last = DaysInMonth(year, month);
  if (day < 1 || day > last) {
    return Error::Invalid("date " + Quoted(text) + ": day " + std::string(text.substr(8, 2)) +
                          " does not exist in " + kMonthNames[month - 1] + " " +
                          std::to_string(year) + ", which has " + std::to_string(last) + " days");
  }
  return FromDayCount(DaysFromCivil(year, month, day));
}

std::string FormatDate(Date d) {
  const Civil c = CivilFromDays(DayCount(d));
  std::string out;
  out.reserve(12);
  if (c.year < 0) {
    out += '-';
  }
  AppendPadded(out, c.year < 0 ? -c.year : c.year, 4);
  out += '-';
  AppendPadded(out, c.month, 2);
  out += '-';
  AppendPadded(out, c.day, 2);
  return out;
}

int Weekday(Date d) {
  // 1970-01-01 was a Thursday (3 when Monday is 0).
  const int64_t r = (DayCount(d) % 7 + 3) % 7;
  return static_cast<int>(r < 0 ? r + 7 : r);
}

Date AddDays(Date d, int64_t n) {
  int64_t out = 0;
  if (__builtin_add_overflow(DayCount(d), n, &out)) {
    out = n > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  }
  return FromDayCount(out);
}

Date AddMonths(Date d, int64_t n) {
  const Civil c = CivilFromDays(DayCount(d));
  const int64_t month_limit = 12 * kYearLimit;
  const int64_t current = std::clamp(c.year, -kYearLimit, kYearLimit) * 12 + (c.month - 1);
  const int64_t target = std::clamp(current + std::clamp(n, -2 * month_limit, 2 * month_limit),
                                    -month_limit, month_limit);
  const int64_t year = FloorDiv(target, 12);
  const int month = static_cast<int>(target - year * 12) + 1;
  return FromDayCount(DaysFromCivil(year, month, std::min(c.day, DaysInMonth(year, month))));
}

int64_t DaysBetween(Date from, Date to) {
  int64_t out = 0;
  if (__builtin_sub_overflow(DayCount(to), DayCount(from), &out)) {
    out = DayCount(to) > DayCount(from) ? std::numeric_limits<int64_t>::max()
                                        : std::numeric_limits<int64_t>::min();
  }
  return out;
}

std::ostream& operator<<(std::ostream& os, Date d) { return os << FormatDate(d); }

}  // namespace dovira::calendar
