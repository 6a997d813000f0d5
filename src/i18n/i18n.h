// The message catalogue: every text a person reads, in Ukrainian, Russian and English, from the
// files under i18n/<domain>/<lang>.json that a translator edits without touching C++. Each file is
// one flat JSON object of "key": "text"; a key is "<domain>.<name>" here ("api.consent_missing"
// is "consent_missing" in i18n/api/en.json). A text names its placeholders in braces ("{field}"),
// and the same placeholders must appear in every language (i18n_test checks both rules over every
// file, the web's too). The files are compiled into the binary, so a server never runs with a
// catalogue other than the one it was tested with.
//
// Thread-safety: the catalogue is parsed once, on first use, and read-only afterwards; every
// function here is safe from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dovira::i18n {

enum class Lang { kUk, kRu, kEn };
inline constexpr Lang kAllLangs[] = {Lang::kUk, Lang::kRu, Lang::kEn};

// "uk", "ru" or "en" (case-insensitive, a region such as "uk-UA" ignored); nullopt otherwise.
std::optional<Lang> ParseLang(std::string_view code);
const char* LangCode(Lang lang);

// The reader's language: an explicit choice (a `lang` parameter) when it is one we have, else the
// best of an Accept-Language header by its q-values, else `fallback` (the policy's default).
Lang Negotiate(std::string_view explicit_choice, std::string_view accept_language, Lang fallback);

// One placeholder value: {name} in the text becomes `value`.
struct Arg {
  std::string_view name;
  std::string value;
};
using Args = std::vector<Arg>;

// The text of `key` in `lang`, or nullptr when the catalogue has no such key in that language.
// The pointer stays valid for the life of the process.
const std::string* Find(Lang lang, std::string_view key);

// The text of `key` in `lang` with its placeholders filled. A key missing in `lang` falls back to
// English; a key missing everywhere comes back as itself, so a test that looks for keys in the
// output finds the mistake (i18n_test fails the build's tests long before that).
std::string Text(Lang lang, std::string_view key, const Args& args = {});

// Replaces each {name} in `text` by its value; a placeholder without an argument stays as it is.
std::string Fill(std::string_view text, const Args& args);

// Every catalogue: its domain and language, and the (key, text) pairs in file order.
struct CatalogueFile {
  std::string domain;
  Lang lang;
  std::vector<std::pair<std::string, std::string>> entries;
};
const std::vector<CatalogueFile>& Files();

// The placeholder names of a text, sorted and without duplicates.
std::vector<std::string> Placeholders(std::string_view text);

}  // namespace dovira::i18n
