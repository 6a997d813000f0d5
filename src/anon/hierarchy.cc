#include "anon/hierarchy.h"

#include <charconv>

namespace dovira::anon {
namespace {

struct Ymd {
  int y = 0, m = 0, d = 0;
};

bool Digits(std::string_view s, int* out) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

bool Leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

bool ParseYmd(std::string_view s, Ymd* out) {
  if (s.size() < 10 || s[4] != '-' || s[7] != '-') return false;
  if (s.size() > 10 && s[10] != 'T' && s[10] != ' ') return false;
  if (!Digits(s.substr(0, 4), &out->y) || !Digits(s.substr(5, 2), &out->m) ||
      !Digits(s.substr(8, 2), &out->d)) {
    return false;
  }
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (out->y < 1 || out->m < 1 || out->m > 12 || out->d < 1) return false;
  const int max = kDays[out->m - 1] + (out->m == 2 && Leap(out->y) ? 1 : 0);
  return out->d <= max;
}

std::string Band(int age, int width) {
  const int lo = age / width * width;
  return std::to_string(lo) + "-" + std::to_string(lo + width - 1);
}

}  // namespace

Result<int> AgeOn(std::string_view birth, std::string_view on) {
  Ymd b, o;
  if (!ParseYmd(birth, &b)) return Error::Invalid("not a date: \"" + std::string(birth) + "\"");
  if (!ParseYmd(on, &o)) return Error::Invalid("not a date: \"" + std::string(on) + "\"");
  int age = o.y - b.y;
  if (o.m < b.m || (o.m == b.m && o.d < b.d)) --age;
  if (age < 0) return Error::Invalid("the birth date " + std::string(birth) + " is in the future");
  return age;
}

std::string CheckAgeBands(const std::vector<int>& widths) {
  if (widths.empty()) return "name at least one band width";
  int prev = 1;
  for (int w : widths) {
    if (w < 2 || w > 100) return "a band width must be 2 to 100 years";
    if (w <= prev || w % prev != 0) {
      return "each band width must be larger than the one before and a multiple of it (" +
             std::to_string(w) + " after " + std::to_string(prev) + ")";
    }
    prev = w;
  }
  return "";
}

std::vector<std::string> AgeLevels(int age, const std::vector<int>& widths) {
  std::vector<std::string> out{std::to_string(age)};
  for (int w : widths) out.push_back(Band(age, w));
  return out;
}

std::vector<std::string> AgeLevelNames(const std::vector<int>& widths) {
  std::vector<std::string> out{"exact"};
  for (int w : widths) out.push_back(std::to_string(w) + "-year bands");
  return out;
}

Result<std::vector<std::string>> DateLevels(std::string_view value) {
  Ymd d;
  if (!ParseYmd(value, &d)) return Error::Invalid("not a date: \"" + std::string(value) + "\"");
  return std::vector<std::string>{std::string(value.substr(0, 10)), std::string(value.substr(0, 7)),
                                  std::string(value.substr(0, 4))};
}

std::vector<std::string> DateLevelNames() { return {"day", "month", "year"}; }

}  // namespace dovira::anon
