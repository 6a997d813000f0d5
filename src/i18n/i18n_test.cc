#include "i18n/i18n.h"

#include <map>
#include <set>

#include <gtest/gtest.h>

namespace dovira::i18n {
namespace {

// Design rule: every text a person reads exists in Ukrainian, Russian and English. Each domain
// has all three files, each key is in all three, and each language names the same placeholders.
TEST(Catalogue, EveryKeyInEveryLanguageWithTheSamePlaceholders) {
  std::map<std::string, std::map<Lang, const CatalogueFile*>> by_domain;
  for (const CatalogueFile& f : Files()) by_domain[f.domain][f.lang] = &f;
  ASSERT_FALSE(by_domain.empty());
  for (const auto& [domain, langs] : by_domain) {
    for (Lang l : kAllLangs) {
      EXPECT_TRUE(langs.count(l)) << "i18n/" << domain << "/" << LangCode(l) << ".json is missing";
    }
    std::set<std::string> keys;
    for (const auto& [lang, file] : langs) {
      for (const auto& [key, text] : file->entries) keys.insert(key);
    }
    for (const std::string& key : keys) {
      const std::string full = domain + "." + key;
      const std::string* en = Find(Lang::kEn, full);
      for (Lang l : kAllLangs) {
        const std::string* text = Find(l, full);
        EXPECT_NE(text, nullptr) << "i18n/" << domain << "/" << LangCode(l) << ".json lacks \""
                                 << key << "\"";
        if (text == nullptr || en == nullptr) continue;
        EXPECT_FALSE(text->empty()) << "i18n/" << domain << "/" << LangCode(l) << ".json: \""
                                    << key << "\" is empty";
        EXPECT_EQ(Placeholders(*text), Placeholders(*en))
            << "i18n/" << domain << "/" << LangCode(l) << ".json: \"" << key
            << "\" names other placeholders than in English";
      }
    }
  }
}

TEST(Catalogue, FindsTextsByDomainAndKey) {
  const std::string* uk = Find(Lang::kUk, "api.internal");
  ASSERT_NE(uk, nullptr);
  EXPECT_EQ(*uk, "Сервер не зміг виконати запит.");
  EXPECT_EQ(Text(Lang::kRu, "api.role_denied"), "Ваша роль этого не позволяет.");
  EXPECT_EQ(Find(Lang::kUk, "api.no_such_key"), nullptr);
  EXPECT_EQ(Text(Lang::kRu, "api.no_such_key"), "api.no_such_key");
}

TEST(Fill, ReplacesNamedPlaceholdersAndLeavesOthers) {
  EXPECT_EQ(Fill("{a} and {b}, {a}", {{"a", "x"}, {"b", "y"}}), "x and y, x");
  EXPECT_EQ(Fill("{missing} {", {{"a", "x"}}), "{missing} {");
  EXPECT_EQ(Fill("{a}", {{"a", "{a}"}}), "{a}");  // a value is not filled again
}

TEST(Placeholders, AreIdentifiersInBraces) {
  EXPECT_EQ(Placeholders("{b} {a} {b} { not } {}"), (std::vector<std::string>{"a", "b"}));
}

TEST(Negotiate, ExplicitChoiceThenAcceptLanguageThenFallback) {
  EXPECT_EQ(Negotiate("ru", "en", Lang::kUk), Lang::kRu);
  EXPECT_EQ(Negotiate("de", "en-GB,en;q=0.9", Lang::kUk), Lang::kEn);
  EXPECT_EQ(Negotiate("", "de-DE,de;q=0.9,ru;q=0.8,uk;q=0.7", Lang::kEn), Lang::kRu);
  EXPECT_EQ(Negotiate("", "en;q=0.2, uk-UA;q=0.9", Lang::kRu), Lang::kUk);
  EXPECT_EQ(Negotiate("", "ru;q=0", Lang::kEn), Lang::kEn);
  EXPECT_EQ(Negotiate("", "", Lang::kRu), Lang::kRu);
  EXPECT_EQ(Negotiate("", "ru;q=bad", Lang::kEn), Lang::kEn);
}

TEST(ParseLang, PrimaryTagCaseInsensitive) {
  EXPECT_EQ(ParseLang("UK-ua"), Lang::kUk);
  EXPECT_EQ(ParseLang("ru_RU"), Lang::kRu);
  EXPECT_EQ(ParseLang("english"), std::nullopt);
  EXPECT_EQ(ParseLang(""), std::nullopt);
}

}  // namespace
}  // namespace dovira::i18n
