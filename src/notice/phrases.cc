#include "notice/phrases.h"

#include <deque>
#include <string>

namespace dovira::notice::internal {
namespace {

// The text of "notice.<key>" in `lang`, as i18n::Text would give it (English, else the key), but
// as a pointer that lives as long as the process: the catalogue's own string when it has one.
const char* CatalogueText(Lang lang, std::string_view key) {
  const std::string full = "notice." + std::string(key);
  if (const std::string* text = i18n::Find(lang, full)) return text->c_str();
  if (const std::string* text = i18n::Find(Lang::kEn, full)) return text->c_str();
  // Only PhrasesFor's one-time initialisation gets here, so no lock; a deque keeps every string
  // where it is.
  static auto* missing = new std::deque<std::string>;  // lives as long as the process
  return missing->emplace_back(full).c_str();
}

Phrases Fill(Lang lang) {
  Phrases p;
#define DOVIRA_NOTICE_PHRASE_FILL(name) p.name.text = CatalogueText(lang, #name);
  DOVIRA_NOTICE_PHRASES(DOVIRA_NOTICE_PHRASE_FILL)
#undef DOVIRA_NOTICE_PHRASE_FILL
  return p;
}

}  // namespace

std::optional<Lang> ParseLang(std::string_view code) {
  if (code == "uk") return Lang::kUk;
  if (code == "ru") return Lang::kRu;
  if (code == "en") return Lang::kEn;
  return std::nullopt;
}

const char* LangCode(Lang lang) { return i18n::LangCode(lang); }

const std::vector<std::string_view>& PhraseKeys() {
  static const std::vector<std::string_view> keys = {
#define DOVIRA_NOTICE_PHRASE_KEY(name) #name,
      DOVIRA_NOTICE_PHRASES(DOVIRA_NOTICE_PHRASE_KEY)
#undef DOVIRA_NOTICE_PHRASE_KEY
  };
  return keys;
}

const Phrases& PhrasesFor(Lang lang) {
  static const Phrases tables[] = {Fill(Lang::kUk), Fill(Lang::kRu), Fill(Lang::kEn)};
  return tables[static_cast<int>(lang)];
}

std::string_view VocabName(Vocab vocab) {
  switch (vocab) {
    case Vocab::kLanguageIn:
      return "language_in";
    case Vocab::kControllerKind:
      return "controller_kind";
    case Vocab::kSource:
      return "source";
    case Vocab::kSpecialType:
      return "special_type";
    case Vocab::kBasis:
      return "basis";
    case Vocab::kRetentionAnchor:
      return "retention_anchor";
    case Vocab::kPermission:
      return "permission";
    case Vocab::kChannel:
      return "channel";
    case Vocab::kRecipientKind:
      return "recipient_kind";
    case Vocab::kSafeguard:
      return "safeguard";
    case Vocab::kTransferBasis:
      return "transfer_basis";
    case Vocab::kTransferSafeguard:
      return "transfer_safeguard";
    case Vocab::kDataForm:
      return "data_form";
    case Vocab::kCountry:
      return "country";
    case Vocab::kFee:
      return "fee";
    case Vocab::kVerification:
      return "verification";
    case Vocab::kVerificationMethod:
      return "verification_method";
    case Vocab::kEuTrigger:
      return "eu_trigger";
    case Vocab::kRightTitle:
      return "right_title";
    case Vocab::kRightText:
      return "right_text";
    case Vocab::kWithdrawalEffect:
      return "withdrawal_effect";
    case Vocab::kWithdrawalThen:
      return "withdrawal_then";
    case Vocab::kCookieCategory:
      return "cookie_category";
    case Vocab::kAdException:
      return "ad_exception";
    case Vocab::kOfficer:
      return "officer";
    case Vocab::kBlockException:
      return "block_exception";
    case Vocab::kScope:
      return "scope";
  }
  return "";
}

std::optional<std::string_view> Lookup(Vocab vocab, std::string_view code, Lang lang) {
  const std::string key = "notice.vocab." + std::string(VocabName(vocab)) + "." + std::string(code);
  if (const std::string* text = i18n::Find(lang, key)) return *text;
  return std::nullopt;
}

}  // namespace dovira::notice::internal
