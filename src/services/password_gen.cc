// StaffService::GeneratePassword, apart from staff.cc: it needs only randomness.
#include "services/staff.h"

namespace dovira::services {

std::string StaffService::GeneratePassword() {
  static const char kAlphabet[] = "abcdefghjkmnpqrstuvwxyz23456789A";  // 32, no l/1/0/o/i
  std::string bytes = deps_.crypto.RandomBytes(20);
  std::string out;
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i && i % 5 == 0) out += '-';
    out += kAlphabet[static_cast<unsigned char>(bytes[i]) % 32];
  }
  return out;
}

}  // namespace dovira::services
