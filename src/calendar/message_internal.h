// Internal to dovira_calendar: helpers shared by the parsers for building error messages. Not
// part of the public API.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace dovira::calendar::internal {

// Returns text in double quotes for an operator-facing message. Input comes from policy files
// and requests, so it is cut at 64 bytes (on a UTF-8 character boundary) to keep a hostile or
// mistaken megabyte-long value from being echoed back whole, and control characters, quotes and
// backslashes are escaped so that the message stays one readable line in logs.
inline std::string Quoted(std::string_view text) {
  constexpr std::size_t kMaxBytes = 64;
  bool cut = false;
  if (text.size() > kMaxBytes) {
    std::size_t end = kMaxBytes;
    // Back up over UTF-8 continuation bytes so the excerpt stays valid UTF-8.
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
      --end;
    }
    text = text.substr(0, end);
    cut = true;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size() + 5);
  out += '"';
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (byte < 0x20 || byte == 0x7F) {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xF];
    } else {
      out += c;
    }
  }
  if (cut) {
    out += "...";
  }
  out += '"';
  return out;
}

}  // namespace dovira::calendar::internal
