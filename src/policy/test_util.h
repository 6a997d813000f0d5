// Helpers shared by the policy unit tests.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>

#include "policy/finding.h"

namespace dovira::policy::testing {

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline std::string ReadMinimal() {
  return ReadFile(std::string(DOVIRA_SOURCE_DIR) + "/src/policy/testdata/minimal.toml");
}

// Replaces the first occurrence of `from` in `text`; fails the test when absent.
inline std::string Replace(std::string text, const std::string& from, const std::string& to) {
  auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << "fixture lacks: " << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

inline const Finding* FindCode(const Findings& f, const std::string& code) {
  for (const auto& x : f.all()) {
    if (x.code == code) return &x;
  }
  return nullptr;
}

// 1-based line of the first occurrence of `needle`.
inline int LineOf(const std::string& text, const std::string& needle) {
  auto at = text.find(needle);
  EXPECT_NE(at, std::string::npos) << needle;
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(at), '\n'));
}

}  // namespace dovira::policy::testing
