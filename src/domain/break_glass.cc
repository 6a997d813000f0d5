#include "domain/break_glass.h"

#include <algorithm>
#include <mutex>

namespace dovira::domain {

void BreakGlassGrants::Add(BreakGlassGrant grant, int64_t now_us) {
  std::unique_lock lock(mu_);
  grants_.erase(std::remove_if(grants_.begin(), grants_.end(),
                               [now_us](const BreakGlassGrant& g) { return g.until_us <= now_us; }),
                grants_.end());
  grants_.push_back(std::move(grant));
}

void BreakGlassGrants::ReplaceFor(const SubjectId& subject, std::vector<BreakGlassGrant> grants,
                                  int64_t now_us) {
  std::unique_lock lock(mu_);
  grants_.erase(std::remove_if(grants_.begin(), grants_.end(),
                               [&](const BreakGlassGrant& g) {
                                 return g.subject == subject || g.until_us <= now_us;
                               }),
                grants_.end());
  for (auto& g : grants) grants_.push_back(std::move(g));
}

GrantedAccess BreakGlassGrants::For(const std::string& staff, const SubjectId& subject,
                                    int purpose, int64_t now_us) const {
  GrantedAccess out;
  std::shared_lock lock(mu_);
  for (const auto& g : grants_) {
    if (g.staff != staff || g.subject != subject || g.purpose != purpose) continue;
    if (now_us >= g.until_us) continue;
    out.fields = out.fields | g.fields;
    out.grants.push_back(g.id);
  }
  return out;
}

size_t BreakGlassGrants::size() const {
  std::shared_lock lock(mu_);
  return grants_.size();
}

}  // namespace dovira::domain
