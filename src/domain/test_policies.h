// Loads and compiles the shipped policies for the domain tests.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>

#include "domain/compiled_policy.h"
#include "policy/checker.h"

namespace dovira::domain::testing {

inline std::shared_ptr<const CompiledPolicy> Shipped(const std::string& file) {
  static std::map<std::string, std::shared_ptr<const CompiledPolicy>> cache;
  auto it = cache.find(file);
  if (it != cache.end()) return it->second;
  auto p = policy::LoadCheckedPolicy(std::string(DOVIRA_SOURCE_DIR) + "/policies/" + file);
  if (!p.ok()) {
    ADD_FAILURE() << p.error().message;
    return nullptr;
  }
  auto c = CompiledPolicy::Compile(*p);
  if (!c.ok()) {
    ADD_FAILURE() << c.error().message;
    return nullptr;
  }
  cache[file] = *c;
  return *c;
}

inline std::shared_ptr<const CompiledPolicy> P001() { return Shipped("001_vkluchi_zhizn.toml"); }
inline std::shared_ptr<const CompiledPolicy> P003() { return Shipped("003_it_pro.toml"); }
inline std::shared_ptr<const CompiledPolicy> P004() {
  return Shipped("004_bbooster_masterclass.toml");
}
inline std::shared_ptr<const CompiledPolicy> P002() { return Shipped("002_soho_lms.toml"); }

inline Timestamp At(const std::string& text) {
  Timestamp t;
  std::string err;
  EXPECT_TRUE(ParseTimestamp(text, &t, &err)) << err;
  return t;
}
inline int64_t Us(const std::string& text) { return At(text).time_since_epoch().count(); }

}  // namespace dovira::domain::testing
