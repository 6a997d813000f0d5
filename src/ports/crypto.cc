#include "ports/crypto.h"

#include <cassert>
#include <cstring>
#include <string.h>

namespace dovira::ports {

SecretKey::SecretKey(std::string_view raw) {
  assert(raw.size() == kKeyBytes);
  bytes_.fill(0);
  std::memcpy(bytes_.data(), raw.data(), std::min(raw.size(), kKeyBytes));
}

SecretKey::~SecretKey() { explicit_bzero(bytes_.data(), bytes_.size()); }

std::string ToHex(std::string_view bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

Result<std::string> FromHex(std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (hex.size() % 2 != 0) return Error::Invalid("hex text has an odd number of digits");
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return Error::Invalid("not a hex digit at position " + std::to_string(i));
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

}  // namespace dovira::ports
