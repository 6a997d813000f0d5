#include "common/result.h"

#include <gtest/gtest.h>

namespace dovira {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return Error::Invalid("odd number", "x");
  return x / 2;
}

TEST(Result, CarriesValueOrError) {
  auto ok = Half(8);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 4);

  auto bad = Half(3);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad.error().field, "x");
  EXPECT_STREQ(ErrorCodeName(bad.error().code), "invalid_argument");
}

TEST(Status, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  Status e = Error::NotFound("missing");
  EXPECT_FALSE(e.ok());
  EXPECT_EQ(e.error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace dovira
