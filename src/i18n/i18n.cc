#include "i18n/i18n.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "i18n/embedded.h"

namespace dovira::i18n {
namespace {

struct Catalogue {
  std::vector<CatalogueFile> files;
  // Per language: "<domain>.<key>" → text.
  std::unordered_map<std::string, std::string> texts[3];
};

int Index(Lang lang) { return static_cast<int>(lang); }

// Parses the embedded files once. A file that is not a flat object of strings is a build mistake
// that i18n_test reports; here it aborts, because a server without its words must not start.
const Catalogue& Get() {
  static const Catalogue* catalogue = [] {
    auto* c = new Catalogue;
    for (int i = 0; i < internal::kEmbeddedCount; ++i) {
      const internal::EmbeddedFile& f = internal::kEmbedded[i];
      std::optional<Lang> lang = ParseLang(f.lang);
      if (!lang) {
        std::fprintf(stderr, "i18n/%s/%s.json: the file name is not a language we have\n",
                     f.domain, f.lang);
        std::abort();
      }
      nlohmann::ordered_json j =
          nlohmann::ordered_json::parse(f.json, nullptr, /*allow_exceptions=*/false);
      if (!j.is_object()) {
        std::fprintf(stderr, "i18n/%s/%s.json: not a JSON object\n", f.domain, f.lang);
        std::abort();
      }
      CatalogueFile file{f.domain, *lang, {}};
      for (const auto& [key, value] : j.items()) {
        if (!value.is_string()) {
          std::fprintf(stderr, "i18n/%s/%s.json: \"%s\" is not a string\n", f.domain, f.lang,
                       key.c_str());
          std::abort();
        }
        file.entries.emplace_back(key, value.get<std::string>());
        c->texts[Index(*lang)][std::string(f.domain) + "." + key] = value.get<std::string>();
      }
      c->files.push_back(std::move(file));
    }
    return c;
  }();
  return *catalogue;
}

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

std::optional<Lang> ParseLang(std::string_view code) {
  std::string primary;
  for (char c : code) {
    if (c == '-' || c == '_') break;
    primary.push_back(Lower(c));
  }
  if (primary == "uk") return Lang::kUk;
  if (primary == "ru") return Lang::kRu;
  if (primary == "en") return Lang::kEn;
  return std::nullopt;
}

const char* LangCode(Lang lang) {
  switch (lang) {
    case Lang::kUk: return "uk";
    case Lang::kRu: return "ru";
    case Lang::kEn: return "en";
  }
  return "uk";
}

Lang Negotiate(std::string_view explicit_choice, std::string_view accept_language, Lang fallback) {
  if (std::optional<Lang> l = ParseLang(explicit_choice); l && !explicit_choice.empty()) return *l;
  // Accept-Language: "ru-RU,ru;q=0.9,en;q=0.8". The first of the highest q wins; q=0 excludes.
  std::optional<Lang> best;
  double best_q = 0;
  size_t i = 0;
  while (i < accept_language.size()) {
    size_t end = accept_language.find(',', i);
    if (end == std::string_view::npos) end = accept_language.size();
    std::string_view item = accept_language.substr(i, end - i);
    i = end + 1;
    size_t semi = item.find(';');
    std::string_view tag = item.substr(0, semi);
    while (!tag.empty() && tag.front() == ' ') tag.remove_prefix(1);
    while (!tag.empty() && tag.back() == ' ') tag.remove_suffix(1);
    double q = 1.0;
    if (semi != std::string_view::npos) {
      std::string_view params = item.substr(semi + 1);
      size_t qpos = params.find("q=");
      if (qpos != std::string_view::npos) {
        std::string qs(params.substr(qpos + 2));
        char* stop = nullptr;
        q = std::strtod(qs.c_str(), &stop);
        if (stop == qs.c_str() || q < 0 || q > 1) q = 0;
      }
    }
    std::optional<Lang> l = ParseLang(tag);
    if (l && q > best_q) {
      best = l;
      best_q = q;
    }
  }
  return best.value_or(fallback);
}

const std::string* Find(Lang lang, std::string_view key) {
  const auto& map = Get().texts[Index(lang)];
  auto it = map.find(std::string(key));
  return it == map.end() ? nullptr : &it->second;
}

std::string Fill(std::string_view text, const Args& args) {
  std::string out;
  out.reserve(text.size() + 32);
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '{') {
      size_t close = text.find('}', i + 1);
      if (close != std::string_view::npos) {
        std::string_view name = text.substr(i + 1, close - i - 1);
        auto it = std::find_if(args.begin(), args.end(),
                               [&](const Arg& a) { return a.name == name; });
        if (it != args.end()) {
          out += it->value;
          i = close + 1;
          continue;
        }
      }
    }
    out.push_back(text[i]);
    ++i;
  }
  return out;
}

std::string Text(Lang lang, std::string_view key, const Args& args) {
  const std::string* text = Find(lang, key);
  if (text == nullptr) text = Find(Lang::kEn, key);
  if (text == nullptr) return std::string(key);
  return Fill(*text, args);
}

const std::vector<CatalogueFile>& Files() { return Get().files; }

std::vector<std::string> Placeholders(std::string_view text) {
  std::vector<std::string> names;
  size_t i = 0;
  while ((i = text.find('{', i)) != std::string_view::npos) {
    size_t close = text.find('}', i + 1);
    if (close == std::string_view::npos) break;
    std::string_view name = text.substr(i + 1, close - i - 1);
    bool ident = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '_';
    });
    if (ident) names.emplace_back(name);
    i = close + 1;
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

}  // namespace dovira::i18n
