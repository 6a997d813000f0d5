#include "common/clock.h"

#include <cstdio>

namespace dovira {

std::string FormatTimestamp(Timestamp t) {
  using namespace std::chrono;
  auto days = floor<std::chrono::days>(t);
  year_month_day ymd{days};
  auto tod = t - days;
  auto h = duration_cast<hours>(tod);
  auto m = duration_cast<minutes>(tod - h);
  auto s = duration_cast<seconds>(tod - h - m);
  auto us = duration_cast<microseconds>(tod - h - m - s);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%06dZ", int(ymd.year()),
                unsigned(ymd.month()), unsigned(ymd.day()), int(h.count()), int(m.count()),
                int(s.count()), int(us.count()));
  return buf;
}

namespace {
bool Digits(const std::string& s, size_t at, size_t n, int* out) {
  if (at + n > s.size()) return false;
  int v = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}
}  // namespace

bool ParseTimestamp(const std::string& text, Timestamp* out, std::string* error) {
  using namespace std::chrono;
  auto fail = [&](const char* why) {
    if (error) *error = std::string("\"") + text.substr(0, 40) + "\": " + why;
    return false;
  };
  int y, mo, d, h, mi, s = 0;
  if (!Digits(text, 0, 4, &y) || text.size() < 16 || text[4] != '-' || !Digits(text, 5, 2, &mo) ||
      text[7] != '-' || !Digits(text, 8, 2, &d) || (text[10] != 'T' && text[10] != ' ') ||
      !Digits(text, 11, 2, &h) || text[13] != ':' || !Digits(text, 14, 2, &mi)) {
    return fail("expected YYYY-MM-DDTHH:MM[:SS[.ffffff]](Z|+HH:MM)");
  }
  size_t at = 16;
  if (at < text.size() && text[at] == ':') {
    if (!Digits(text, at + 1, 2, &s)) return fail("bad seconds");
    at += 3;
  }
  int64_t frac_us = 0;
  if (at < text.size() && text[at] == '.') {
    ++at;
    int digits = 0;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
      if (digits < 6) frac_us = frac_us * 10 + (text[at] - '0');
      ++digits;
      ++at;
    }
    if (digits == 0) return fail("empty fraction");
    for (int i = digits; i < 6; ++i) frac_us *= 10;
  }
  int offset_min = 0;
  if (at < text.size() && (text[at] == 'Z' || text[at] == 'z')) {
    ++at;
  } else if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
    int oh, om;
    if (!Digits(text, at + 1, 2, &oh) || at + 3 >= text.size() || text[at + 3] != ':' ||
        !Digits(text, at + 4, 2, &om) || oh > 23 || om > 59) {
      return fail("bad offset");
    }
    offset_min = (oh * 60 + om) * (text[at] == '-' ? -1 : 1);
    at += 6;
  } else {
    return fail("a time zone (Z or +HH:MM) is required");
  }
  if (at != text.size()) return fail("unexpected text after the time");
  year_month_day ymd{year{y}, month{unsigned(mo)}, day{unsigned(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || s > 59) return fail("not a valid date and time");
  auto tp = sys_days(ymd) + hours(h) + minutes(mi) + seconds(s) + microseconds(frac_us) -
            minutes(offset_min);
  *out = time_point_cast<microseconds>(tp);
  return true;
}

}  // namespace dovira
