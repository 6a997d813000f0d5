#include "policy/loader.h"

#include <gtest/gtest.h>

#include "policy/checker.h"
#include "policy/test_util.h"

namespace dovira::policy {
namespace {

using namespace ::dovira::policy::testing;  // NOLINT(google-build-using-namespace)

TEST(PolicyLoader, ReadsTheMinimalPolicyWithoutErrors) {
  auto r = LoadPolicy(ReadMinimal(), "minimal.toml");
  ASSERT_TRUE(r.policy);
  for (const auto& f : r.findings.all()) ADD_FAILURE() << FormatFinding("minimal.toml", f);
  const Policy& p = *r.policy;
  EXPECT_EQ(p.school.id, "demo-school");
  EXPECT_EQ(p.calendar.timezone, "Europe/Kyiv");
  ASSERT_EQ(p.calendar.holidays.size(), 1u);
  EXPECT_EQ(calendar::FormatDate(p.calendar.holidays[0]), "2025-03-05");
  ASSERT_NE(p.FindRight("rectification"), nullptr);
  EXPECT_EQ(p.FindRight("rectification")->deadline.trigger, "evidence_supplied");
  EXPECT_EQ(calendar::FormatTerm(*p.FindRight("rectification")->deadline.term), "7 working days");
  EXPECT_EQ(p.forms.at("signup").consents.at(0).text.Get("en"), "Send me news");
  EXPECT_EQ(p.purposes.at("newsletter").basis, "consent");
}

TEST(PolicyLoader, SyntaxErrorNamesLineAndColumn) {
  auto r = LoadPolicy("format = 1\n[school\nid = 1\n", "bad.toml");
  EXPECT_FALSE(r.policy);
  const Finding* f = FindCode(r.findings, "E-SYNTAX");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->pos.line, 2);
  EXPECT_GT(f->pos.column, 0);
}

TEST(PolicyLoader, MisspeltKeyIsRefusedWithItsLineAndASuggestion) {
  std::string text = Replace(ReadMinimal(), "basis = \"contract\"", "basys = \"contract\"");
  auto r = LoadPolicy(text, "x.toml");
  const Finding* f = FindCode(r.findings, "E-KEY-UNKNOWN");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->pos.line, LineOf(text, "basys"));
  EXPECT_NE(f->message.find("purposes.teaching.basys"), std::string::npos) << f->message;
  EXPECT_NE(f->message.find("did you mean `basis`"), std::string::npos) << f->message;
}

TEST(PolicyLoader, DeletedLawfulBasisIsAnError) {
  std::string text = Replace(ReadMinimal(), "basis = \"contract\"\n", "");
  auto r = CheckPolicyText(text, "x.toml");
  const Finding* f = FindCode(r.findings, "E-BASIS-MISSING");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->pos.line, LineOf(text, "[purposes.teaching]"));
}

TEST(PolicyLoader, NonNumberTermIsRefusedWithItsLine) {
  std::string text = Replace(ReadMinimal(), "\"7 working days\"", "\"seven working days\"");
  auto r = LoadPolicy(text, "x.toml");
  const Finding* f = FindCode(r.findings, "E-TERM");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->pos.line, LineOf(text, "seven working days"));
  EXPECT_NE(f->message.find("rights.rectification.term"), std::string::npos) << f->message;
}

TEST(PolicyLoader, WrongTypeIsNamed) {
  std::string text = Replace(ReadMinimal(), "block_on_filing = true", "block_on_filing = \"yes\"");
  auto r = LoadPolicy(text, "x.toml");
  const Finding* f = FindCode(r.findings, "E-TYPE");
  ASSERT_NE(f, nullptr);
  EXPECT_NE(f->message.find("true or false"), std::string::npos) << f->message;
}

TEST(PolicyLoader, BadEnumValueListsTheAllowedOnes) {
  std::string text = Replace(ReadMinimal(), "basis = \"consent\"", "basis = \"whim\"");
  auto r = LoadPolicy(text, "x.toml");
  const Finding* f = FindCode(r.findings, "E-ENUM");
  ASSERT_NE(f, nullptr);
  EXPECT_NE(f->message.find("legitimate_interest"), std::string::npos) << f->message;
}

TEST(PolicyLoader, UnknownRightIsAnUnknownKey) {
  std::string text = Replace(ReadMinimal(), "[rights.access]", "[rights.acess]");
  auto r = LoadPolicy(text, "x.toml");
  const Finding* f = FindCode(r.findings, "E-KEY-UNKNOWN");
  ASSERT_NE(f, nullptr);
  EXPECT_NE(f->message.find("did you mean `access`"), std::string::npos) << f->message;
}

TEST(PolicyLoader, InvalidDateIsRefused) {
  std::string text = Replace(ReadMinimal(), "holidays = [2025-03-05]", "holidays = [\"5 March\"]");
  auto r = LoadPolicy(text, "x.toml");
  EXPECT_NE(FindCode(r.findings, "E-TYPE"), nullptr);
}

TEST(PolicyLoader, MissingTimezoneIsAnError) {
  std::string text = Replace(ReadMinimal(), "timezone = \"Europe/Kyiv\"\n", "");
  auto r = LoadPolicy(text, "x.toml");
  EXPECT_NE(FindCode(r.findings, "E-TIMEZONE"), nullptr);
}

TEST(PolicyLoader, AmbiguousDaysWarnsAndReadsCalendarDays) {
  std::string text = Replace(ReadMinimal(), "\"30 calendar days\"", "\"5 days\"");
  auto r = LoadPolicy(text, "x.toml");
  EXPECT_NE(FindCode(r.findings, "W-TERM-UNIT"), nullptr);
  EXPECT_EQ(r.policy->FindRight("access")->deadline.term->unit, calendar::TermUnit::kCalendarDays);
}

// Regression: toml++ 3.3.0 reaches an unreachable branch on a non-ASCII character where it looks
// for whitespace (found by fuzz/policy_fuzz; upstream issues #190, #295). Refused before parsing.
TEST(PolicyLoader, NonAsciiOutsideStringsIsRefusedBeforeTheParser) {
  auto r = LoadPolicy("format = 1\nkeyé = 1\n", "x.toml");
  EXPECT_FALSE(r.policy);
  const Finding* f = FindCode(r.findings, "E-SYNTAX");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->pos.line, 2);
  EXPECT_EQ(f->pos.column, 4);
  r = LoadPolicy("\xcc\xaa", "x.toml");
  EXPECT_NE(FindCode(r.findings, "E-SYNTAX"), nullptr);
}

// Regression (fuzz, the asan build): toml++ 3.3 asserted that a table header's key starts with
// a key character before reporting that it does not; the file gets the parser's error instead.
TEST(PolicyLoader, ATableHeaderStartingWithNoKeyCharacterIsASyntaxError) {
  auto r = LoadPolicy("format = 1\n[%school]\nid = \"x\"\n", "x.toml");
  EXPECT_FALSE(r.policy);
  const Finding* f = FindCode(r.findings, "E-SYNTAX");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->pos.line, 2);
  EXPECT_NE(f->message.find("'%'"), std::string::npos) << f->message;
}

TEST(PolicyLoader, StringGluedToABareValueIsRefusedBeforeTheParser) {
  // Regression (fuzz): `[20"…` made toml++ scan a non-ASCII character as part of a bare value.
  auto r = LoadPolicy("a = [20\"\xd1\x85\"]\n", "x.toml");
  EXPECT_FALSE(r.policy);
  const Finding* f = FindCode(r.findings, "E-SYNTAX");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->pos.column, 8);
}

TEST(PolicyLoader, LineEndingBackslashBeforeNonAsciiIsRefusedWithAHint) {
  auto r = LoadPolicy("s = \"\"\"\\\n\xc2\xa7\"\"\"\n", "x.toml");
  const Finding* f = FindCode(r.findings, "E-SYNTAX");
  ASSERT_NE(f, nullptr);
  EXPECT_NE(f->message.find("join the lines"), std::string::npos) << f->message;
}

TEST(PolicyLoader, NonAsciiInsideStringsAndCommentsIsFine) {
  auto r = LoadPolicy(R"TOML(# коментар
a = "текст \" ще"
b = 'є'
c = """
рядок \
  ok "" ї"""""
d = '''ї'''''
e = 1 # ї
)TOML",
                      "x.toml");
  for (const auto& f : r.findings.all()) {
    EXPECT_NE(f.code, "E-SYNTAX") << f.message;
  }
}

TEST(PolicyLoader, OversizedInputIsRefusedBeforeParsing) {
  std::string huge(5 * 1024 * 1024, '#');
  auto r = LoadPolicy(huge, "huge.toml");
  EXPECT_FALSE(r.policy);
  EXPECT_NE(FindCode(r.findings, "E-SYNTAX"), nullptr);
}

TEST(PolicyLoader, UnreadableFileIsAnIoError) {
  auto r = LoadPolicyFile("/nonexistent/policy.toml");
  EXPECT_FALSE(r.policy);
  EXPECT_NE(FindCode(r.findings, "E-IO"), nullptr);
}

}  // namespace
}  // namespace dovira::policy
