#include "services/rate_limiter.h"

#include <algorithm>
#include <iterator>

namespace dovira::services {

bool RateLimiter::Allow(const std::string& key, Timestamp now) {
  std::lock_guard lock(mu_);
  const Timestamp cutoff = now - window_;
  auto prune = [&](std::vector<Timestamp>& v) {
    v.erase(v.begin(), std::find_if(v.begin(), v.end(), [&](Timestamp t) { return t > cutoff; }));
  };
  if (events_.size() > kSweepThreshold) {
    for (auto it = events_.begin(); it != events_.end();) {
      prune(it->second);
      it = it->second.empty() ? events_.erase(it) : std::next(it);
    }
  }
  std::vector<Timestamp>& v = events_[key];
  prune(v);
  if (v.size() >= limit_) return false;
  v.push_back(now);
  return true;
}

void RateLimiter::Forget(const std::string& key, Timestamp at) {
  std::lock_guard lock(mu_);
  auto it = events_.find(key);
  if (it == events_.end()) return;
  auto& v = it->second;
  if (auto hit = std::find(v.rbegin(), v.rend(), at); hit != v.rend()) v.erase(std::next(hit).base());
  if (v.empty()) events_.erase(it);
}

}  // namespace dovira::services
