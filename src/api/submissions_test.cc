#include "api/submissions.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

namespace dovira::api {
namespace {

std::vector<services::ImportRow> ReadAll(const std::string& text, ImportFormat format) {
  std::istringstream in(text);
  auto reader = ImportReader::Open(in, format, "en");
  EXPECT_TRUE(reader.ok()) << reader.error().message;
  std::vector<services::ImportRow> rows;
  if (!reader.ok()) return rows;
  services::ImportRow row;
  while ((*reader)->Next(row)) rows.push_back(row);
  return rows;
}

Error HeaderError(const std::string& text) {
  std::istringstream in(text);
  auto reader = ImportReader::Open(in, ImportFormat::kCsv, "en");
  EXPECT_FALSE(reader.ok());
  return reader.ok() ? Error{} : reader.error();
}

TEST(ImportReader, CsvCellsQuotedOverLinesWithEscapedQuotesAndTheLineOfEachRow) {
  auto rows = ReadAll(
      "\xEF\xBB\xBFkind, channel ,fields.first_name,fields.home_address,consents,accept_policy,"
      "representative.name\r\n"
      "buyer,application,Ivan,\"Kyiv, \"\"Green\"\" street\",pd_consent; extra ,Yes,\r\n"
      "\r\n"
      "buyer,application,\"Two\nlines\",,,,Olena\n"
      "buyer,application,Petro,,,,\n",
      ImportFormat::kCsv);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].line, 2u);
  ASSERT_FALSE(rows[0].unreadable) << rows[0].unreadable->message;
  const domain::Submission& a = rows[0].submission;
  EXPECT_EQ(a.subject_kind, "buyer");
  EXPECT_EQ(a.channel, "application");
  EXPECT_EQ(a.fields.at("home_address"), "Kyiv, \"Green\" street");
  EXPECT_EQ(a.ticked, (std::vector<std::string>{"pd_consent", "extra"}));
  EXPECT_TRUE(a.accept_policy);
  EXPECT_EQ(a.source, "");  // not given: the import's default applies
  EXPECT_FALSE(a.representative);

  EXPECT_EQ(rows[1].line, 4u);  // the blank line 3 is skipped
  ASSERT_FALSE(rows[1].unreadable);
  EXPECT_EQ(rows[1].submission.fields.at("first_name"), "Two\nlines");
  EXPECT_EQ(rows[1].submission.fields.count("home_address"), 0u);  // an empty cell: not given
  ASSERT_TRUE(rows[1].submission.representative);
  EXPECT_EQ(rows[1].submission.representative->name, "Olena");
  EXPECT_EQ(rows[2].line, 6u);  // the quoted cell took lines 4 and 5
}

TEST(ImportReader, ACsvRowThatCannotBeReadIsRefusedAloneWithItsLine) {
  auto rows = ReadAll(
      "kind,channel,fields.first_name,accept_policy\n"
      "buyer,application\n"
      "buyer,application,Ivan,maybe\n"
      "buyer,application,Petro,\n"
      "buyer,application,\"never closed\n",
      ImportFormat::kCsv);
  ASSERT_EQ(rows.size(), 4u);
  ASSERT_TRUE(rows[0].unreadable);
  EXPECT_EQ(rows[0].unreadable->reason, "import_cells");
  EXPECT_EQ(rows[0].line, 2u);
  ASSERT_TRUE(rows[1].unreadable);
  EXPECT_EQ(rows[1].unreadable->reason, "invalid_field");
  EXPECT_EQ(rows[1].unreadable->field, "accept_policy");
  EXPECT_FALSE(rows[2].unreadable);
  ASSERT_TRUE(rows[3].unreadable);
  EXPECT_EQ(rows[3].unreadable->reason, "import_quote_open");
  EXPECT_EQ(rows[3].line, 5u);
}

TEST(ImportReader, ACsvHeaderWithAnUnknownOrRepeatedColumnRefusesTheFile) {
  EXPECT_EQ(HeaderError("").reason, "import_header_missing");
  EXPECT_EQ(HeaderError("\n\n").reason, "import_header_missing");
  Error unknown = HeaderError("kind,email\nbuyer,a@b.org\n");
  EXPECT_EQ(unknown.reason, "import_column_unknown");
  ASSERT_EQ(unknown.args.size(), 1u);
  EXPECT_EQ(unknown.args[0], (std::pair<std::string, std::string>{"column", "email"}));
  EXPECT_EQ(HeaderError("fields\n").reason, "import_column_unknown");
  EXPECT_EQ(HeaderError("fields.\n").reason, "import_column_unknown");
  EXPECT_EQ(HeaderError("representative.phone\n").reason, "import_column_unknown");
  EXPECT_EQ(HeaderError("kind,fields.email,kind\n").reason, "import_column_repeated");
}

TEST(ImportReader, JsonLinesTakeTheMembersOfTheSubjectsRouteAndRefuseOthersByLine) {
  auto rows = ReadAll(
      "{\"kind\":\"buyer\",\"channel\":\"application\",\"source\":\"offline\","
      "\"fields\":{\"first_name\":\"Ivan\",\"purchase_amount\":100}}\n"
      "\n"
      "not json\n"
      "[1]\n"
      "{\"kind\":\"buyer\",\"password\":\"x\"}\n"
      "{\"form\":\"payment\",\"consents\":[\"pd_consent\"],\"accept_policy\":true,"
      "\"lang\":\"ru\"}\r\n"
      "{\"fields\":{\"a\":[1]}}\n",
      ImportFormat::kJsonLines);
  ASSERT_EQ(rows.size(), 6u);
  ASSERT_FALSE(rows[0].unreadable);
  EXPECT_EQ(rows[0].line, 1u);
  EXPECT_EQ(rows[0].submission.source, "offline");
  EXPECT_EQ(rows[0].submission.fields.at("purchase_amount"), "100");
  EXPECT_EQ(rows[0].submission.lang, "en");
  for (size_t i : {1u, 2u}) {
    ASSERT_TRUE(rows[i].unreadable);
    EXPECT_EQ(rows[i].unreadable->reason, "import_line_invalid");
  }
  EXPECT_EQ(rows[1].line, 3u);
  EXPECT_EQ(rows[3].unreadable->reason, "unknown_field");
  ASSERT_FALSE(rows[4].unreadable);
  EXPECT_EQ(rows[4].submission.form, "payment");
  EXPECT_EQ(rows[4].submission.lang, "ru");
  EXPECT_TRUE(rows[4].submission.accept_policy);
  EXPECT_EQ(rows[5].unreadable->reason, "invalid_field");
  EXPECT_EQ(rows[5].line, 7u);
}

}  // namespace
}  // namespace dovira::api
