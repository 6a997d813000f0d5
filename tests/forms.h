// Form submissions the black-box tests share, valid for the shipped policy they name.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace dovira::testing {

// 004 masterclass application: the mandatory fields and the required Button consent (which grants
// partner_programmes and marketing_policy, among others).
inline nlohmann::json Masterclass004(const std::string& email) {
  return nlohmann::json{
      {"fields", {{"first_name", "Taras"}, {"email", email}, {"phone", "+380501112233"}}},
      {"accept_policy", true},
      {"age_statement", "adult"},
      {"lang", "uk"},
      {"consents", {"button_consent"}}};
}

}  // namespace dovira::testing
