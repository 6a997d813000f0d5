#include "domain/consent_ledger.h"

#include <algorithm>
#include <map>

namespace dovira::domain {

std::vector<ConsentWindow> ConsentWindows(const CompiledPolicy& policy,
                                          const std::vector<LedgerEntry>& ledger) {
  // Per (consent type, purpose): the latest window.
  std::map<std::pair<std::string, int>, ConsentWindow> by_type;
  for (const auto& e : ledger) {
    for (const auto& g : e.grants) {
      int p = policy.PurposeIndex(g);
      if (p < 0) continue;  // a permission (cross_border, ...) or a purpose no longer declared
      auto key = std::make_pair(e.consent_type, p);
      if (!e.withdraw) {
        by_type[key] = ConsentWindow{static_cast<uint8_t>(p), e.at_us, e.expires_us, false};
      } else if (auto it = by_type.find(key); it != by_type.end() && !it->second.withdrawn) {
        it->second.until_us = std::min(it->second.until_us, e.at_us);
        it->second.withdrawn = true;
      }
    }
  }
  // Per purpose: the union of its consent types. Active ones win; among ended ones, the latest.
  std::map<int, ConsentWindow> merged;
  for (const auto& [key, w] : by_type) {
    auto it = merged.find(key.second);
    if (it == merged.end()) {
      merged.emplace(key.second, w);
      continue;
    }
    ConsentWindow& m = it->second;
    const bool m_open = m.until_us == kForever, w_open = w.until_us == kForever;
    if (w_open && !m_open) {
      m = w;
    } else if (w_open == m_open) {
      // Both open: the earliest start; both ended: the latest end.
      if (w_open) {
        m.from_us = std::min(m.from_us, w.from_us);
      } else if (w.until_us > m.until_us) {
        m = w;
      }
    }
  }
  std::vector<ConsentWindow> out;
  out.reserve(merged.size());
  for (const auto& [p, w] : merged) out.push_back(w);
  return out;
}

}  // namespace dovira::domain
