// How the SQLite adapter stores a list of strings (consent grants, API key purposes) in one TEXT
// column: as a JSON array of strings, e.g. ["marketing","newsletter"]. JSON keeps any character
// (commas, quotes) safe and can be read by SQLite's JSON functions.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace dovira::sqlite {

// Encodes `items` as a compact JSON array of strings. Control characters, quotes and backslashes
// are escaped; other bytes are copied unchanged.
std::string EncodeJsonList(const std::vector<std::string>& items);

// Decodes a JSON array of strings written by EncodeJsonList (or any JSON array of strings).
// Returns kInternal ("malformed list") when `text` is anything else.
Result<std::vector<std::string>> DecodeJsonList(std::string_view text);

}  // namespace dovira::sqlite
