#include "common/clock.h"

#include <gtest/gtest.h>

#include "common/ids.h"

namespace dovira {
namespace {

TEST(Timestamp, RoundTripsThroughRfc3339) {
  Timestamp t;
  std::string err;
  ASSERT_TRUE(ParseTimestamp("2025-03-03T10:15:00Z", &t, &err)) << err;
  EXPECT_EQ(FormatTimestamp(t), "2025-03-03T10:15:00.000000Z");
  ASSERT_TRUE(ParseTimestamp("2025-03-03T12:15:00.5+02:00", &t, &err)) << err;
  EXPECT_EQ(FormatTimestamp(t), "2025-03-03T10:15:00.500000Z");
}

TEST(Timestamp, RefusesMalformedInput) {
  Timestamp t;
  std::string err;
  for (const char* bad : {"", "2025-03-03", "2025-02-30T10:00Z", "2025-03-03T10:00", "2025-03-03T25:00Z",
                          "2025-03-03T10:00Zjunk", "2025-03-03T10:00+2:00"}) {
    EXPECT_FALSE(ParseTimestamp(bad, &t, &err)) << bad;
    EXPECT_FALSE(err.empty());
  }
}

TEST(ManualClock, MovesOnlyWhenTold) {
  Timestamp start;
  std::string err;
  ASSERT_TRUE(ParseTimestamp("2025-03-03T09:00:00Z", &start, &err));
  ManualClock clock(start);
  EXPECT_EQ(clock.Now(), start);
  clock.Advance(std::chrono::hours(24));
  EXPECT_EQ(FormatTimestamp(clock.Now()), "2025-03-04T09:00:00.000000Z");
}

TEST(StrongIds, CompareByValueWithinOneType) {
  SubjectId a("s1"), b("s1"), c("s2");
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_LT(a, c);
  static_assert(!std::is_convertible_v<SubjectId, RecordId>);
}

}  // namespace
}  // namespace dovira
