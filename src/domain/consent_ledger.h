// From a subject's consent ledger (append-only grants and withdrawals) to the consent windows the
// gate checks. A purpose is usable while some consent type that grants it is granted and neither
// withdrawn nor expired (R19-R21); withdrawing one consent leaves the others (R20).
//
// Thread-safety: reentrant.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "domain/compiled_policy.h"
#include "domain/gate.h"

namespace dovira::domain {

struct LedgerEntry {
  std::string consent_type;
  std::vector<std::string> grants;  // purposes and permissions granted or withdrawn
  bool withdraw = false;
  int64_t at_us = 0;
  int64_t expires_us = kForever;  // grants only
};

// The windows for every purpose any entry touches, in ledger order (entries must be in the order
// they were recorded).
std::vector<ConsentWindow> ConsentWindows(const CompiledPolicy& policy,
                                          const std::vector<LedgerEntry>& ledger);

}  // namespace dovira::domain
