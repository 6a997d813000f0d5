#include "services/rate_limiter.h"

#include <gtest/gtest.h>

#include <string>

namespace dovira::services {
namespace {

using std::chrono::seconds;

Timestamp At(int64_t s) { return Timestamp(std::chrono::duration_cast<Timestamp::duration>(seconds(s))); }

TEST(RateLimiter, AllowsTheLimitPerWindowPerKey) {
  RateLimiter limiter(3, seconds(60));
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.Allow("203.0.113.1", At(100 + i)));
  EXPECT_FALSE(limiter.Allow("203.0.113.1", At(103)));
  EXPECT_TRUE(limiter.Allow("203.0.113.2", At(103))) << "another key has its own window";
  // Refused events are not recorded: places free up 60 s after each accepted event. At 161 the
  // events of 100 and 101 have left the window, the one of 102 has not.
  EXPECT_FALSE(limiter.Allow("203.0.113.1", At(159)));
  EXPECT_TRUE(limiter.Allow("203.0.113.1", At(161)));
  EXPECT_TRUE(limiter.Allow("203.0.113.1", At(161)));
  EXPECT_FALSE(limiter.Allow("203.0.113.1", At(161)));
}

TEST(RateLimiter, AForgottenEventFreesItsPlace) {
  RateLimiter limiter(2, seconds(60));
  EXPECT_TRUE(limiter.Allow("k", At(10)));
  EXPECT_TRUE(limiter.Allow("k", At(11)));
  EXPECT_FALSE(limiter.Allow("k", At(12)));
  limiter.Forget("k", At(11));
  limiter.Forget("k", At(99));   // no such event: nothing happens
  limiter.Forget("other", At(11));
  EXPECT_TRUE(limiter.Allow("k", At(12)));
  EXPECT_FALSE(limiter.Allow("k", At(13)));
}

TEST(RateLimiter, ManyOneOffKeysAreSweptOnceStale) {
  RateLimiter limiter(1, seconds(60));
  for (int i = 0; i < 5000; ++i) EXPECT_TRUE(limiter.Allow("key-" + std::to_string(i), At(0)));
  // Long after, the sweep forgets them all; each key starts afresh.
  EXPECT_TRUE(limiter.Allow("fresh", At(1000)));
  EXPECT_TRUE(limiter.Allow("key-7", At(1000)));
  EXPECT_FALSE(limiter.Allow("key-7", At(1001)));
}

}  // namespace
}  // namespace dovira::services
