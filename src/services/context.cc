#include "services/context.h"

#include <arpa/inet.h>

#include <cstdio>

namespace dovira::services {

std::string Actor::AuditName() const {
  switch (kind) {
    case Kind::kStaff:
      return "staff:" + id;
    case Kind::kApiKey:
      return "api_key:" + id;
    case Kind::kSubject:
      // A guardian acting for a linked minor is named by the guardianship, never by a person.
      if (!guardianship.empty()) return "guardian:" + guardianship;
      return "subject";  // never the subject id: the entry's subject_ref names them by pseudonym
    case Kind::kSystem:
      return "system:" + id;
    case Kind::kPublic:
      return "public";
  }
  return "public";
}

std::string JoinIds(const std::vector<std::string>& ids) {
  std::string out;
  for (const auto& id : ids) out += (out.empty() ? "" : ",") + id;
  return out;
}

std::string JsonQuote(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string TruncateIp(const std::string& ip) {
  unsigned char buf[16];
  char out[INET6_ADDRSTRLEN];
  if (inet_pton(AF_INET, ip.c_str(), buf) == 1) {
    buf[3] = 0;
    inet_ntop(AF_INET, buf, out, sizeof out);
    return std::string(out) + "/24";
  }
  if (inet_pton(AF_INET6, ip.c_str(), buf) == 1) {
    for (int i = 6; i < 16; ++i) buf[i] = 0;
    inet_ntop(AF_INET6, buf, out, sizeof out);
    return std::string(out) + "/48";
  }
  return "";
}

std::string RandomHex(ports::Crypto& crypto, size_t bytes) {
  return ports::ToHex(crypto.RandomBytes(bytes));
}

std::string HashHex(ports::Crypto& crypto, std::string_view secret) {
  return ports::ToHex(crypto.Hash(secret));
}

std::string OneTimeCode(ports::Crypto& crypto) {
  std::string bytes = crypto.RandomBytes(4);
  uint32_t n = 0;
  for (char c : bytes) n = (n << 8) | static_cast<unsigned char>(c);
  return std::to_string(100000 + n % 900000);
}

}  // namespace dovira::services
