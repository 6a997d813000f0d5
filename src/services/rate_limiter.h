// A sliding-window limit on how often one key (a client address, an e-mail address) may do
// something: at most `limit` events in any `window`. Used where a public endpoint does work or
// sends mail for whoever asks: staff sign-in, the cabinet's e-mailed codes, public requests.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "common/clock.h"

namespace dovira::services {

class RateLimiter {
 public:
  RateLimiter(size_t limit, std::chrono::seconds window) : limit_(limit), window_(window) {}

  // Records an event for `key` at `now` and says whether it is within the limit. An event over
  // the limit is not recorded, so a client that keeps trying does not extend its own wait.
  bool Allow(const std::string& key, Timestamp now);
  // Takes back the event recorded for `key` at `at` (it turned out not to count, e.g. a sign-in
  // that succeeded).
  void Forget(const std::string& key, Timestamp at);

 private:
  // Past this many tracked keys every key is swept of stale events, so that a stream of one-off
  // keys cannot grow the table without bound.
  static constexpr size_t kSweepThreshold = 4096;

  const size_t limit_;
  const std::chrono::seconds window_;
  std::mutex mu_;
  std::map<std::string, std::vector<Timestamp>> events_;  // guarded by mu_, each in time order
};

}  // namespace dovira::services
