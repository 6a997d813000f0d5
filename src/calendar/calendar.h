// A school's working-day calendar and the legal deadline rule (requirements R65, §3.1.1 C-14).
//
// The calendar is configured by the school's policy, never computed: the time zone, which
// weekdays are working days, a list of days off, whether those holidays are days off at all
// (under martial law in Ukraine they are not), and whether a term that ends on a non-working day
// rolls forward to the next working day (Civil Code of Ukraine art. 254(5)). From it come the
// school's local dates and day boundaries, and DueDate/DueInstant turn a trigger plus a Term into
// a due date.
//
// Time zones come from the system's IANA database (/usr/share/zoneinfo) through the date library
// in its OS-database mode. That mode reads the transitions listed in each zone file but not the
// file's closing rule, and Debian's files list transitions up to 2037; for later instants the
// last offset listed stays in force, so summer time is not applied after 2037. Civil due dates
// (DueDate) do not depend on this; instants (EndOfDay, DueInstant, FormatLocal) in a zone with
// daylight saving time do.
//
// Thread-safety: a Calendar is immutable once created and cheap to copy (copies share the
// validated state); all const member functions and the free functions here may be called
// concurrently from any number of threads.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "calendar/date.h"
#include "calendar/term.h"
#include "common/result.h"

namespace dovira::calendar {

struct CalendarConfig {
  std::string timezone = "UTC";  // IANA name, e.g. "Europe/Kyiv"
  std::array<bool, 7> workweek{true, true, true, true, true, false, false};  // Monday..Sunday
  std::vector<Date> holidays;  // days off configured by the school, in any order; duplicates ok
  bool holidays_are_working_days = false;  // holidays listed but not days off (martial law)
  bool roll_forward_non_working = false;   // a term ending on a non-working day moves forward
};

class Calendar {
 public:
  // Validates config and returns a calendar over it. On error returns kInvalidArgument with the
  // field set: "timezone" when the zone is empty, "localtime" (the server's own zone) or not in
  // the system's IANA database, "workweek" when no weekday is a working day.
  static Result<Calendar> Create(CalendarConfig config);

  // Returns true when d is a workweek day and not a day off (a listed holiday, unless
  // holidays_are_working_days).
  bool IsWorkingDay(Date d) const;

  // Returns the first working day strictly after d. Always exists: the workweek has a working
  // day and the holiday list is finite.
  Date NextWorkingDay(Date d) const;

  // Returns the date n working days after d: the nth working day strictly after d, or d itself
  // for n <= 0. Takes time logarithmic in n and in the number of holidays.
  Date AddWorkingDays(Date d, int64_t n) const;

  // Returns how many working days lie in (after, through]; 0 when through <= after.
  int64_t CountWorkingDays(Date after, Date through) const;

  // Returns the school's local date at the instant.
  Date LocalDate(std::chrono::sys_seconds instant) const;

  // Returns the first instant of local day d: local midnight, or, where a clock change skips
  // midnight, the moment the day actually starts; if midnight occurs twice, the earlier one.
  std::chrono::sys_seconds StartOfDay(Date d) const;

  // Returns the last second of local day d (23:59:59 local on ordinary days), i.e. one second
  // before the next day starts. Deadlines expire at this instant (§3.1.1).
  std::chrono::sys_seconds EndOfDay(Date d) const;

  // Returns the local wall time of the instant as "YYYY-MM-DDTHH:MM:SS+HH:MM" (the offset in
  // force then; historic offsets with seconds, such as local mean time, print as +HH:MM:SS).
  std::string FormatLocal(std::chrono::sys_seconds instant) const;

  // Parses "YYYY-MM-DDTHH:MM" or "YYYY-MM-DDTHH:MM:SS" (year 1900..9999). Without a suffix it is
  // local wall time in the school's zone: when the clocks go back and the time occurs twice, the
  // earlier instant is returned. With "Z" or "+HH:MM"/"-HH:MM" it is that absolute instant.
  // On error returns kInvalidArgument naming the problem: the shape, an out-of-range field, or a
  // local time that does not exist because the clocks were moved forward over it.
  Result<std::chrono::sys_seconds> ParseLocal(std::string_view text) const;

  // Returns the configuration as given to Create.
  const CalendarConfig& config() const;

 private:
  struct Impl;
  explicit Calendar(std::shared_ptr<const Impl> impl);

  std::shared_ptr<const Impl> impl_;
};

// The legal counting rule (Part 0, R65, §3.1.1): the term starts the day after the trigger date.
//  - N calendar days: trigger + N.
//  - N working days: the Nth working day after the trigger (0 → the trigger itself).
//  - N calendar months / years: AddMonths(trigger, N) / AddMonths(trigger, 12 N).
//  - immediate: the trigger.
//  - with config().roll_forward_non_working, a day, month or year term that ends on a
//    non-working day moves to the next working day. "immediate" is not a period and is not
//    moved.
// On error returns kInvalidArgument: for kHours (use DueInstant), for kIndefinite (there is no
// due date), for a negative count, and when the due date would fall after 9999-12-31.
Result<Date> DueDate(const Calendar& cal, Date trigger, const Term& term);

// The deadline as an instant. Hours are exact elapsed time from the trigger, so 24 hours across a
// clock change does not end at the same wall-clock time. Day, month and year terms take the
// trigger's local date and end at EndOfDay(DueDate(...)). "immediate" returns the trigger.
// On error returns what DueDate returns, and kInvalidArgument for kIndefinite or an hour count
// that would run past the representable range.
Result<std::chrono::sys_seconds> DueInstant(const Calendar& cal, std::chrono::sys_seconds trigger,
                                            const Term& term);

}  // namespace dovira::calendar
