#include "policy/model.h"

namespace dovira::policy {

const std::string& LocalText::Get(const std::string& lang, const std::string& fallback) const {
  static const std::string kEmpty;
  if (auto it = by_lang.find(lang); it != by_lang.end()) return it->second;
  if (auto it = by_lang.find(fallback); it != by_lang.end()) return it->second;
  if (!by_lang.empty()) return by_lang.begin()->second;
  return kEmpty;
}

namespace {
template <typename Map>
const typename Map::mapped_type* FindIn(const Map& map, const std::string& id) {
  auto it = map.find(id);
  return it == map.end() ? nullptr : &it->second;
}
}  // namespace

const Field* Policy::FindField(const std::string& id) const { return FindIn(fields, id); }
const Purpose* Policy::FindPurpose(const std::string& id) const { return FindIn(purposes, id); }
const Right* Policy::FindRight(const std::string& id) const { return FindIn(rights, id); }

const Resolution* Policy::FindResolution(const std::string& code) const {
  for (const auto& r : resolutions) {
    if (r.code == code) return &r;
  }
  return nullptr;
}

bool Policy::IsDirectIdentifier(const Field& field) const {
  if (field.identifier == "direct") return true;
  if (field.type == "email" || field.type == "phone" || field.type == "ip" ||
      field.type == "file") {
    return true;
  }
  auto c = categories.find(field.category);
  const std::string kind = c == categories.end() ? "" : c->second.kind;
  if (kind == "contact" || kind == "identity_document") return true;
  return kind == "technical" && field.identifier == "indirect";
}

}  // namespace dovira::policy
