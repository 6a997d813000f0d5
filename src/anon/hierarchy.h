// Generalisation hierarchies for the quasi-identifiers of an anonymised data set (R74): each
// value is written at every level of its hierarchy, from the value as it is (level 0) to the
// coarsest level before suppression ("*", which the anonymiser adds itself). The levels nest:
// two values equal at one level are equal at every coarser one, which keeps k-anonymity
// monotonic over the generalisation lattice (anonymiser.h).
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace dovira::anon {

// The value every quasi-identifier takes at its last level: nothing of it is kept.
inline constexpr const char* kSuppressed = "*";

// Whole years between `birth` and `on` (both "YYYY-MM-DD", or a date-time whose first ten
// characters are one). Error (kInvalidArgument) when either is not a date or `on` is before
// `birth`.
Result<int> AgeOn(std::string_view birth, std::string_view on);

// The levels of an age: the age itself, then one band of each width ("30-34" for 5, "30-39" for
// 10, "20-39" for 20). `widths` must be ascending and each a multiple of the one before, so that
// the bands nest (CheckAgeBands says why not).
std::vector<std::string> AgeLevels(int age, const std::vector<int>& widths);
// Empty when `widths` can serve as age bands; else why not.
std::string CheckAgeBands(const std::vector<int>& widths);
// "exact", "5-year bands", ... for the report.
std::vector<std::string> AgeLevelNames(const std::vector<int>& widths);

// The levels of a date or date-time: the day ("2025-03-14"), the month ("2025-03"), the year
// ("2025"). Error (kInvalidArgument) when `value` does not start with a valid date.
Result<std::vector<std::string>> DateLevels(std::string_view value);
std::vector<std::string> DateLevelNames();

}  // namespace dovira::anon
