#include "adapters/sqlite/json_list.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace dovira::sqlite {
namespace {

TEST(JsonList, RoundTripsAnyStrings) {
  const std::vector<std::vector<std::string>> cases = {
      {},
      {""},
      {"marketing"},
      {"a,b", "c\"d", "e\\f", "g/h"},
      {std::string("nul\0byte", 8), "\x01\x1f\t\n\r"},
      {"Привіт", "\xF0\x9F\x98\x80"},
  };
  for (const auto& items : cases) {
    std::string text = EncodeJsonList(items);
    Result<std::vector<std::string>> back = DecodeJsonList(text);
    ASSERT_TRUE(back.ok()) << text;
    EXPECT_EQ(*back, items) << text;
  }
}

TEST(JsonList, EncodesCompactly) {
  EXPECT_EQ(EncodeJsonList({}), "[]");
  EXPECT_EQ(EncodeJsonList({"a", "b"}), R"(["a","b"])");
  EXPECT_EQ(EncodeJsonList({"q\"\n"}), R"(["q\"\u000a"])");
}

TEST(JsonList, DecodesOtherWellFormedSpellings) {
  Result<std::vector<std::string>> r = DecodeJsonList(" [ \"a\" , \"\\u00e9\\ud83d\\ude00\" ] ");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, (std::vector<std::string>{"a", "\xC3\xA9\xF0\x9F\x98\x80"}));
}

TEST(JsonList, RefusesMalformedText) {
  for (const char* text :
       {"", "[", "]", "[\"a\"", "[\"a\",]", "[a]", "[1]", "{}", "[\"a\"] x", "[\"\\x\"]",
        "[\"\\ud800\"]", "[\"\\udc00\"]", "[\"\\u12\"]", "[\"tab\there\"]"}) {
    SCOPED_TRACE(text);
    Result<std::vector<std::string>> r = DecodeJsonList(text);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kInternal);
  }
}

}  // namespace
}  // namespace dovira::sqlite
