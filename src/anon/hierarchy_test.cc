#include "anon/hierarchy.h"

#include <gtest/gtest.h>

namespace dovira::anon {
namespace {

TEST(AnonHierarchy, AgeCountsWholeYearsUpToTheBirthday) {
  EXPECT_EQ(*AgeOn("2008-03-15", "2026-03-14"), 17);
  EXPECT_EQ(*AgeOn("2008-03-15", "2026-03-15"), 18);
  EXPECT_EQ(*AgeOn("2008-02-29", "2026-02-28T10:00:00Z"), 17);
  EXPECT_FALSE(AgeOn("2008-02-30", "2026-01-01").ok());
  EXPECT_FALSE(AgeOn("yesterday", "2026-01-01").ok());
  EXPECT_FALSE(AgeOn("2027-01-01", "2026-01-01").ok());
}

TEST(AnonHierarchy, AgeBandsNestSoThatCoarserLevelsMergeFinerOnes) {
  EXPECT_EQ(AgeLevels(34, {5, 10, 20}),
            (std::vector<std::string>{"34", "30-34", "30-39", "20-39"}));
  EXPECT_EQ(AgeLevels(7, {5, 10, 20}), (std::vector<std::string>{"7", "5-9", "0-9", "0-19"}));
  EXPECT_EQ(CheckAgeBands({5, 10, 20}), "");
  EXPECT_NE(CheckAgeBands({}), "");
  EXPECT_NE(CheckAgeBands({5, 12}), "");  // 12 is no multiple of 5: bands would overlap
  EXPECT_NE(CheckAgeBands({10, 5}), "");
  EXPECT_NE(CheckAgeBands({1}), "");
  EXPECT_EQ(AgeLevelNames({5, 10}),
            (std::vector<std::string>{"exact", "5-year bands", "10-year bands"}));
}

TEST(AnonHierarchy, DatesGoToMonthThenYear) {
  EXPECT_EQ(*DateLevels("2025-09-01"),
            (std::vector<std::string>{"2025-09-01", "2025-09", "2025"}));
  EXPECT_EQ(*DateLevels("2025-09-01T08:30:00Z"),
            (std::vector<std::string>{"2025-09-01", "2025-09", "2025"}));
  EXPECT_FALSE(DateLevels("2025-13-01").ok());
  EXPECT_FALSE(DateLevels("2025-09-01X").ok());
  EXPECT_FALSE(DateLevels("").ok());
}

}  // namespace
}  // namespace dovira::anon
