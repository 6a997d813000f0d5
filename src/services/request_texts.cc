#include "services/request_texts.h"

#include <chrono>

#include "domain/intake.h"
#include "i18n/i18n.h"

namespace dovira::services {
namespace {

i18n::Lang LangOf(const std::string& lang) {
  return i18n::ParseLang(lang).value_or(i18n::Lang::kUk);
}

i18n::Args ArgsOf(const std::map<std::string, std::string>& vars) {
  i18n::Args args;
  args.reserve(vars.size());
  for (const auto& [name, value] : vars) args.push_back(i18n::Arg{name, value});
  return args;
}

// The text of mail.<key>, or `otherwise` when the catalogue has no such key.
std::string MailText(const std::string& lang, const std::string& key, const std::string& otherwise,
                     const i18n::Args& args = {}) {
  const std::string* text = i18n::Find(LangOf(lang), "mail." + key);
  return text == nullptr ? otherwise : i18n::Fill(*text, args);
}

}  // namespace

std::string MessageLang(const std::string& lang) {
  return lang == "ru" || lang == "en" ? lang : "uk";
}

MessageText RenderMessage(const std::string& kind, const std::string& lang,
                          const std::map<std::string, std::string>& vars) {
  const i18n::Args args = ArgsOf(vars);
  const std::string* body = i18n::Find(LangOf(lang), "mail." + kind + ".body");
  if (body == nullptr) return MessageText{kind, ""};
  // A date closes with its own full stop ("2 квітня 2025 р."): a sentence that ends on one does
  // not add a second.
  auto one_stop = [](std::string text) {
    for (const char* doubled : {" р..", " г.."}) {
      for (size_t at = text.find(doubled); at != std::string::npos; at = text.find(doubled, at)) {
        text.erase(at + std::string(doubled).size() - 1, 1);
      }
    }
    return text;
  };
  return MessageText{one_stop(MailText(lang, kind + ".subject", "", args)),
                     one_stop(i18n::Fill(*body, args))};
}

std::string RecipientEventText(const std::string& event, const std::string& lang) {
  return MailText(lang, "event." + event, event);
}

std::string ErasureCompleteText(const std::string& lang) {
  return MailText(lang, "erasure_complete", "");
}

std::string CorrectedValuesHeading(const std::string& lang) {
  return MailText(lang, "corrected_values", "");
}

std::string LetterText(const std::string& key, const std::string& lang,
                       const std::map<std::string, std::string>& vars) {
  return MailText(lang, key, "", ArgsOf(vars));
}

std::string RequestTypeName(const std::string& type, const std::string& lang) {
  return MailText(lang, "type." + type, type);
}

namespace {

template <typename Declared>
std::string Titles(const std::map<std::string, Declared>& declared,
                   const std::vector<std::string>& ids, const std::string& lang,
                   const std::string& fallback) {
  std::string out;
  for (const auto& id : ids) {
    auto it = declared.find(id);
    const std::string title = it == declared.end() ? id : it->second.title.Get(lang, fallback);
    out += (out.empty() ? "" : ", ") + (title.empty() ? id : title);
  }
  return out.empty() ? "-" : out;
}

}  // namespace

std::string FieldTitles(const policy::Policy& policy, const std::vector<std::string>& ids,
                        const std::string& lang) {
  return Titles(policy.fields, ids, MessageLang(lang), policy.school.authoritative_language);
}

std::string CategoryTitles(const policy::Policy& policy, const std::vector<std::string>& ids,
                           const std::string& lang) {
  return Titles(policy.categories, ids, MessageLang(lang), policy.school.authoritative_language);
}

std::string PurposeTitles(const policy::Policy& policy, const std::vector<std::string>& ids,
                          const std::string& lang) {
  return Titles(policy.purposes, ids, MessageLang(lang), policy.school.authoritative_language);
}

std::string LetterDay(calendar::Date day, const std::string& lang) {
  const std::chrono::year_month_day ymd{day.days};
  const unsigned month = static_cast<unsigned>(ymd.month());
  return MailText(lang, "date", "",
                  {{"day", std::to_string(static_cast<unsigned>(ymd.day()))},
                   {"month", MailText(lang, "month." + std::to_string(month), "")},
                   {"year", std::to_string(static_cast<int>(ymd.year()))}});
}

std::string LetterDate(const calendar::Calendar& cal, Timestamp t, const std::string& lang) {
  return LetterDay(cal.LocalDate(std::chrono::floor<std::chrono::seconds>(t)), lang);
}

std::string LetterDateTime(const calendar::Calendar& cal, Timestamp t, const std::string& lang) {
  const auto instant = std::chrono::floor<std::chrono::seconds>(t);
  // FormatLocal is "YYYY-MM-DDTHH:MM:SS+HH:MM" in the school's zone: the wall time is at 11.
  const std::string local = cal.FormatLocal(instant);
  return MailText(lang, "date_time", "",
                  {{"date", LetterDay(cal.LocalDate(instant), lang)},
                   {"time", local.substr(11, 5)}});
}

std::string LetterDayText(const std::string& iso_day, const std::string& lang) {
  auto day = calendar::ParseDate(iso_day);
  return day.ok() ? LetterDay(*day, lang) : iso_day;
}

LetterSender SenderOf(const policy::Policy& policy, const std::string& lang,
                      const std::string& fallback) {
  LetterSender s;
  for (const std::string* box : {&policy.contacts.rights_requests, &policy.contacts.support}) {
    if (!s.address.empty()) break;
    if (auto normalised = domain::NormaliseEmail(*box)) s.address = *normalised;
  }
  if (s.address.empty()) s.address = fallback;
  const std::string l = MessageLang(lang);
  s.name = policy.school.name.Get(l, policy.school.authoritative_language);
  if (s.name.empty()) s.name = policy.school.id;
  s.signature = MailText(l, "signature", s.name, {{"school", s.name}, {"contact", s.address}});
  return s;
}

}  // namespace dovira::services
