#include "calendar/calendar.h"

#include <date/date.h>
#include <date/tz.h>

#include <algorithm>
#include <limits>
#include <utility>

#include "calendar/message_internal.h"

namespace dovira::calendar {
namespace {

using internal::Quoted;
using std::chrono::sys_seconds;

constexpr int64_t kSecondsPerDay = 86400;

// Time-zone lookups work in int64_t seconds; keeping day numbers within ±10^12 days (about
// 2.7 billion years) leaves every seconds value far from overflow, whatever a caller passes.
constexpr int64_t kDayLimit = 1'000'000'000'000;
constexpr int64_t kSecondLimit = kDayLimit * kSecondsPerDay;

// Larger counts cannot end inside years 1900..9999 when they start there, and refusing them
// early keeps the working-day search bounds far from overflow.
constexpr int64_t kMaxDueCount = 10'000'000;

// Monday 1970-01-05: the anchor from which whole weeks are counted.
constexpr int64_t kMondayAnchor = 4;

int64_t DayNumber(Date d) {
  return std::clamp<int64_t>(d.days.time_since_epoch().count(), -kDayLimit, kDayLimit);
}

Date DateFromDayNumber(int64_t n) { return Date{std::chrono::sys_days{std::chrono::days{n}}}; }

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) {
    --q;
  }
  return q;
}

sys_seconds ClampInstant(sys_seconds t) {
  return sys_seconds{std::chrono::seconds{
      std::clamp<int64_t>(t.time_since_epoch().count(), -kSecondLimit, kSecondLimit)}};
}

// Due dates must stay printable and parseable as "YYYY-MM-DD".
constexpr Date kLastSupportedDate{std::chrono::sys_days{std::chrono::year{9999} / 12 / 31}};

void AppendTwoDigits(std::string& out, int64_t v) {
  out += static_cast<char>('0' + v / 10);
  out += static_cast<char>('0' + v % 10);
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

int TwoDigits(std::string_view s, std::size_t pos) {
  return (s[pos] - '0') * 10 + (s[pos + 1] - '0');
}

bool DigitsAt(std::string_view s, std::size_t pos) {
  return pos + 1 < s.size() && IsDigit(s[pos]) && IsDigit(s[pos + 1]);
}

}  // namespace

struct Calendar::Impl {
  CalendarConfig config;
  const date::time_zone* zone = nullptr;
  int working_per_week = 0;
  // before[r]: working weekdays among Monday..(weekday r - 1).
  std::array<int64_t, 8> before{};
  // Holidays that actually remove a working day: listed, on a workweek day, and holidays are
  // days off. Sorted and unique so that counting them in a range is two binary searches.
  std::vector<int64_t> days_off;

  // Workweek days in [anchor Monday, day): whole weeks times the weekly count plus the start of
  // the last week, so a range of any length costs O(1).
  int64_t WorkweekDaysBefore(int64_t day) const {
    const int64_t t = day - kMondayAnchor;
    const int64_t weeks = FloorDiv(t, 7);
    return weeks * working_per_week + before[static_cast<std::size_t>(t - weeks * 7)];
  }

  int64_t Count(int64_t after, int64_t through) const {
    if (through <= after) {
      return 0;
    }
    const int64_t weekdays = WorkweekDaysBefore(through + 1) - WorkweekDaysBefore(after + 1);
    const auto off = std::upper_bound(days_off.begin(), days_off.end(), through) -
                     std::upper_bound(days_off.begin(), days_off.end(), after);
    return weekdays - off;
  }

  // Local midnight of the day, resolved the way StartOfDay documents.
  sys_seconds Start(int64_t day) const {
    const date::local_seconds local{std::chrono::seconds{day * kSecondsPerDay}};
    const date::local_info info = zone->get_info(local);
    if (info.result == date::local_info::nonexistent) {
      return info.second.begin;
    }
    // For an ambiguous time `first` is the offset before the clocks went back, the larger one,
    // so it gives the earlier instant.
    return sys_seconds{local.time_since_epoch() - info.first.offset};
  }
};

Calendar::Calendar(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

Result<Calendar> Calendar::Create(CalendarConfig config) {
  if (config.timezone.empty()) {
    return Error::Invalid("the time zone is empty; set an IANA name such as Europe/Kyiv",
                          "timezone");
  }
  const auto unknown_zone = [&config] {
    return Error::Invalid("unknown time zone " + Quoted(config.timezone) +
                              "; use an IANA name from the system time zone database, such as "
                              "Europe/Kyiv",
                          "timezone");
  };
  // "localtime" in the zone directory links to the server's own zone, which would make a
  // school's deadlines depend on the machine it runs on.
  if (config.timezone == "localtime") {
    return unknown_zone();
  }
  const date::time_zone* zone = nullptr;
  try {
    zone = date::locate_zone(config.timezone);
    // The zone's file is read lazily on first use; reading it now means a missing or broken file
    // surfaces here as an error instead of as an exception from a later const query.
    (void)zone->get_info(sys_seconds{});
  } catch (...) {
    return unknown_zone();
  }
  if (std::none_of(config.workweek.begin(), config.workweek.end(), [](bool b) { return b; })) {
    return Error::Invalid("the workweek has no working day; mark at least one of Monday..Sunday",
                          "workweek");
  }

  auto impl = std::make_shared<Impl>();
  impl->zone = zone;
  for (std::size_t i = 0; i < 7; ++i) {
    impl->before[i + 1] = impl->before[i] + (config.workweek[i] ? 1 : 0);
  }
  impl->working_per_week = static_cast<int>(impl->before[7]);
  if (!config.holidays_are_working_days) {
    for (const Date& h : config.holidays) {
      if (config.workweek[static_cast<std::size_t>(Weekday(h))]) {
        impl->days_off.push_back(DayNumber(h));
      }
    }
    std::sort(impl->days_off.begin(), impl->days_off.end());
    impl->days_off.erase(std::unique(impl->days_off.begin(), impl->days_off.end()),
                         impl->days_off.end());
  }
  impl->config = std::move(config);
  return Calendar(std::move(impl));
}

bool Calendar::IsWorkingDay(Date d) const {
  return impl_->config.workweek[static_cast<std::size_t>(Weekday(d))] &&
         !std::binary_search(impl_->days_off.begin(), impl_->days_off.end(), DayNumber(d));
}

Date Calendar::NextWorkingDay(Date d) const { return AddWorkingDays(d, 1); }

Date Calendar::AddWorkingDays(Date d, int64_t n) const {
  if (n <= 0) {
    return d;
  }
  const Impl& c = *impl_;
  const int64_t start = DayNumber(d);
  n = std::min(n, kDayLimit);
  // Within k whole weeks there are k * working_per_week workweek days, of which at most
  // `later_off` are days off; choosing k so that the difference reaches n bounds the answer.
  // The count is non-decreasing and rises by at most one per day, so the first day where it
  // reaches n is the nth working day; a binary search finds it in O(log n) counts.
  const int64_t later_off =
      c.days_off.end() - std::upper_bound(c.days_off.begin(), c.days_off.end(), start);
  const int64_t weeks = (n + later_off + c.working_per_week - 1) / c.working_per_week;
  int64_t lo = start;              // Count(start, lo) < n
  int64_t hi = start + 7 * weeks;  // Count(start, hi) >= n
  while (hi - lo > 1) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (c.Count(start, mid) >= n) {
      hi = mid;
    } else {
      lo = mid;
    }
  }
  return DateFromDayNumber(hi);
}

int64_t Calendar::CountWorkingDays(Date after, Date through) const {
  return impl_->Count(DayNumber(after), DayNumber(through));
}

Date Calendar::LocalDate(sys_seconds instant) const {
  const date::local_seconds local = impl_->zone->to_local(ClampInstant(instant));
  return DateFromDayNumber(FloorDiv(local.time_since_epoch().count(), kSecondsPerDay));
}

sys_seconds Calendar::StartOfDay(Date d) const { return impl_->Start(DayNumber(d)); }

sys_seconds Calendar::EndOfDay(Date d) const {
  // One second before the next day starts is 23:59:59 on ordinary days and stays right on days
  // whose midnight a clock change skips or repeats.
  return impl_->Start(DayNumber(d) + 1) - std::chrono::seconds{1};
}

std::string Calendar::FormatLocal(sys_seconds instant) const {
  instant = ClampInstant(instant);
  const date::sys_info info = impl_->zone->get_info(instant);
  const int64_t offset = info.offset.count();
  const int64_t local = instant.time_since_epoch().count() + offset;
  const int64_t day = FloorDiv(local, kSecondsPerDay);
  const int64_t second_of_day = local - day * kSecondsPerDay;

  std::string out = FormatDate(DateFromDayNumber(day));
  out += 'T';
  AppendTwoDigits(out, second_of_day / 3600);
  out += ':';
  AppendTwoDigits(out, second_of_day / 60 % 60);
  out += ':';
  AppendTwoDigits(out, second_of_day % 60);
  const int64_t magnitude = offset < 0 ? -offset : offset;
  out += offset < 0 ? '-' : '+';
  AppendTwoDigits(out, magnitude / 3600);
  out += ':';
  AppendTwoDigits(out, magnitude / 60 % 60);
  if (magnitude % 60 != 0) {
    out += ':';
    AppendTwoDigits(out, magnitude % 60);
  }
  return out;
}

Result<sys_seconds> Calendar::ParseLocal(std::string_view text) const {
  const auto shape_error = [&] {
    return Error::Invalid("time " + Quoted(text) +
                          ": expected YYYY-MM-DDTHH:MM or YYYY-MM-DDTHH:MM:SS, optionally "
                          "followed by Z or an offset such as +02:00");
  };
  if (text.size() < 16 || (text[10] != 'T' && text[10] != 't') || !DigitsAt(text, 11) ||
      text[13] != ':' || !DigitsAt(text, 14)) {
    return shape_error();
  }
  std::size_t pos = 16;
  int64_t second = 0;
  if (pos < text.size() && text[pos] == ':') {
    if (!DigitsAt(text, pos + 1)) {
      return shape_error();
    }
    second = TwoDigits(text, pos + 1);
    pos += 3;
  }
  const std::string_view suffix = text.substr(pos);
  const bool utc = suffix == "Z" || suffix == "z";
  const bool offset = suffix.size() == 6 && (suffix[0] == '+' || suffix[0] == '-') &&
                      DigitsAt(suffix, 1) && suffix[3] == ':' && DigitsAt(suffix, 4);
  if (!suffix.empty() && !utc && !offset) {
    return shape_error();
  }

  Result<Date> day = ParseDate(text.substr(0, 10));
  if (!day.ok()) {
    return Error::Invalid("time " + Quoted(text) + ": " + day.error().message);
  }
  const int64_t hour = TwoDigits(text, 11);
  const int64_t minute = TwoDigits(text, 14);
  if (hour > 23 || minute > 59 || second > 59) {
    return Error::Invalid("time " + Quoted(text) + ": the time of day must be 00:00:00..23:59:59");
  }
  const int64_t wall = DayNumber(*day) * kSecondsPerDay + hour * 3600 + minute * 60 + second;

  if (utc) {
    return sys_seconds{std::chrono::seconds{wall}};
  }
  if (offset) {
    const int64_t offset_hours = TwoDigits(suffix, 1);
    const int64_t offset_minutes = TwoDigits(suffix, 4);
    if (offset_hours > 23 || offset_minutes > 59) {
      return Error::Invalid("time " + Quoted(text) + ": the offset must be within ±23:59");
    }
    const int64_t east = (offset_hours * 3600 + offset_minutes * 60) * (suffix[0] == '-' ? -1 : 1);
    return sys_seconds{std::chrono::seconds{wall - east}};
  }

  const date::local_seconds local{std::chrono::seconds{wall}};
  const date::local_info info = impl_->zone->get_info(local);
  if (info.result == date::local_info::nonexistent) {
    return Error::Invalid("time " + Quoted(text) + ": this local time does not exist in " +
                          impl_->config.timezone +
                          " because the clocks were moved forward over it; give an explicit "
                          "offset or a later time");
  }
  // Ambiguous (clocks went back): `first` is the earlier of the two instants.
  return sys_seconds{local.time_since_epoch() - info.first.offset};
}

const CalendarConfig& Calendar::config() const { return impl_->config; }

Result<Date> DueDate(const Calendar& cal, Date trigger, const Term& term) {
  Date due = trigger;
  switch (term.unit) {
    case TermUnit::kImmediate:
      return trigger;
    case TermUnit::kIndefinite:
      return Error::Invalid("term \"indefinite\" has no due date");
    case TermUnit::kHours:
      return Error::Invalid("term " + Quoted(FormatTerm(term)) +
                            " is counted in hours, so it ends at an instant, not on a date");
    case TermUnit::kCalendarDays:
    case TermUnit::kWorkingDays:
    case TermUnit::kCalendarMonths:
    case TermUnit::kCalendarYears:
      break;
    default:
      return Error::Invalid("term has an unknown unit");
  }
  if (term.count < 0) {
    return Error::Invalid("term " + Quoted(FormatTerm(term)) + " has a negative count");
  }
  if (term.count > kMaxDueCount) {
    return Error::Invalid("term " + Quoted(FormatTerm(term)) + " is too long; the count may be " +
                          "at most " + std::to_string(kMaxDueCount));
  }
  switch (term.unit) {
    case TermUnit::kCalendarDays:
      due = AddDays(trigger, term.count);
      break;
    case TermUnit::kWorkingDays:
      due = cal.AddWorkingDays(trigger, term.count);
      break;
    case TermUnit::kCalendarMonths:
      due = AddMonths(trigger, term.count);
      break;
    case TermUnit::kCalendarYears:
      due = AddMonths(trigger, 12 * term.count);
      break;
    default:
      break;
  }
  if (cal.config().roll_forward_non_working && !cal.IsWorkingDay(due)) {
    due = cal.NextWorkingDay(due);
  }
  if (due > kLastSupportedDate) {
    return Error::Invalid("term " + Quoted(FormatTerm(term)) + " from " + FormatDate(trigger) +
                          " ends after 9999-12-31");
  }
  return due;
}

Result<sys_seconds> DueInstant(const Calendar& cal, sys_seconds trigger, const Term& term) {
  switch (term.unit) {
    case TermUnit::kImmediate:
      return trigger;
    case TermUnit::kHours: {
      if (term.count < 0) {
        return Error::Invalid("term " + Quoted(FormatTerm(term)) + " has a negative count");
      }
      int64_t seconds = 0;
      int64_t end = 0;
      if (__builtin_mul_overflow(term.count, int64_t{3600}, &seconds) ||
          __builtin_add_overflow(trigger.time_since_epoch().count(), seconds, &end) ||
          end > kSecondLimit) {
        return Error::Invalid("term " + Quoted(FormatTerm(term)) +
                              " runs past the supported range of time");
      }
      return sys_seconds{std::chrono::seconds{end}};
    }
    default: {
      Result<Date> due = DueDate(cal, cal.LocalDate(trigger), term);
      if (!due.ok()) {
        return due.error();
      }
      return cal.EndOfDay(*due);
    }
  }
}

}  // namespace dovira::calendar
