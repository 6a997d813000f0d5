// Every reason code an error can carry has a reader's message in i18n/api/{uk,ru,en}.json
// (issue 12): the test reads the sources under src/ and collects the codes where errors are made,
// so a new code without a catalogue entry fails here instead of reaching a person as an English
// operator message or a generic text.
//
// Where codes are made, as the sources spell them:
//   Error::Refused("code", ...), Error::Denied("code", ...), Error::Conflict("code", ...)
//   (a ternary of two literals gives both), ErrorResponse(404, "code", ...), deny("code", 403)
//   (the gate's answers in data_access.cc), Error{ErrorCode::kX, ..., "code"} (the last member of
//   the aggregate), `e.reason = "code"` on a variable declared as an Error; the purpose gate's
//   reasons (domain::ReasonCode); each ErrorCode's generic text ("generic_<name>"); and each
//   variant of a field's value check (Invalid(f, ..., "variant"): "field_invalid.<variant>"), and
//   of any error made with .With("variant", "x") ("<its code>.x").
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/result.h"
#include "domain/gate.h"
#include "i18n/i18n.h"

namespace dovira {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Skips a string or character literal starting at s[i] (a quote); returns the index after it.
size_t SkipLiteral(const std::string& s, size_t i) {
  const char q = s[i++];
  while (i < s.size() && s[i] != q) i += s[i] == '\\' ? 2 : 1;
  return i + 1;
}

// The top-level arguments of the call or aggregate whose opening bracket is at s[open], as text.
std::vector<std::string> Arguments(const std::string& s, size_t open) {
  std::vector<std::string> out;
  int depth = 0;
  size_t start = open + 1;
  for (size_t i = open; i < s.size();) {
    const char c = s[i];
    if (c == '"' || c == '\'') {
      i = SkipLiteral(s, i);
      continue;
    }
    if (c == '(' || c == '{' || c == '[') ++depth;
    if (c == ')' || c == '}' || c == ']') {
      if (--depth == 0) {
        out.push_back(s.substr(start, i - start));
        return out;
      }
    }
    if (c == ',' && depth == 1) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
    ++i;
  }
  return out;
}

// The string literals of an argument that consists of nothing else (a literal, or a ternary of
// literals); empty for anything computed.
std::vector<std::string> Literals(const std::string& arg) {
  std::vector<std::string> out;
  for (size_t i = 0; i < arg.size();) {
    if (arg[i] == '"') {
      size_t end = SkipLiteral(arg, i);
      out.push_back(arg.substr(i + 1, end - i - 2));
      i = end;
    } else {
      ++i;
    }
  }
  // A literal inside a call (Foo("x") + ...) is not a code.
  if (arg.find('(') != std::string::npos || arg.find('+') != std::string::npos) return {};
  return out;
}

bool IsCode(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

bool IsCodeWithVariant(const std::string& s) {
  const size_t dot = s.find('.');
  return dot == std::string::npos ? IsCode(s) : IsCode(s.substr(0, dot)) && IsCode(s.substr(dot + 1));
}

struct Found {
  std::map<std::string, std::set<std::string>> codes;  // code → files
  void Add(const std::string& code, const std::string& file) {
    if (IsCodeWithVariant(code)) codes[code].insert(file);
  }
};

// Calls `fn(open)` for each `prefix` in `text`, with the index of the bracket that ends it.
template <typename Fn>
void EachCall(const std::string& text, const std::string& prefix, Fn fn) {
  for (size_t at = text.find(prefix); at != std::string::npos; at = text.find(prefix, at + 1)) {
    // `deny(` and `Invalid(` as whole words only.
    if (at > 0 && (std::isalnum(static_cast<unsigned char>(text[at - 1])) || text[at - 1] == '_') &&
        std::isalpha(static_cast<unsigned char>(prefix[0]))) {
      continue;
    }
    fn(at + prefix.find('('));
  }
}

Found Scan() {
  Found f;
  const fs::path src = fs::path(DOVIRA_SOURCE_DIR) / "src";
  for (const auto& entry : fs::recursive_directory_iterator(src)) {
    const std::string name = entry.path().filename().string();
    const std::string ext = entry.path().extension().string();
    if (ext != ".cc" && ext != ".h") continue;
    if (name.find("_test.") != std::string::npos || name.rfind("test_", 0) == 0) continue;
    const std::string text = ReadFile(entry.path());
    const std::string file = fs::relative(entry.path(), src).string();
    for (const char* p : {"Error::Refused(", "Error::Denied(", "Error::Conflict(", "deny("}) {
      EachCall(text, p, [&](size_t open) {
        auto args = Arguments(text, open);
        if (!args.empty()) {
          for (const auto& l : Literals(args[0])) f.Add(l, file);
        }
      });
    }
    EachCall(text, "ErrorResponse(", [&](size_t open) {
      auto args = Arguments(text, open);
      if (args.size() >= 2 && args[0].find_first_not_of(" \n0123456789") == std::string::npos) {
        for (const auto& l : Literals(args[1])) f.Add(l, file);
      }
    });
    for (size_t at = text.find("Error{"); at != std::string::npos; at = text.find("Error{", at + 1)) {
      const size_t first = text.find_first_not_of(" \n", at + 6);
      if (first == std::string::npos || text.compare(first, 11, "ErrorCode::") != 0) continue;
      auto args = Arguments(text, at + 5);
      if (args.size() >= 4) {
        for (const auto& l : Literals(args.back())) f.Add(l, file);
      }
    }
    // `x.reason = "code";` where x is declared as an Error in the same file.
    for (size_t at = text.find(".reason = \""); at != std::string::npos;
         at = text.find(".reason = \"", at + 1)) {
      size_t b = at;
      while (b > 0 && (std::isalnum(static_cast<unsigned char>(text[b - 1])) || text[b - 1] == '_')) {
        --b;
      }
      const std::string var = text.substr(b, at - b);
      if (var.empty() || (text.find("Error " + var + " =") == std::string::npos &&
                          text.find("Error " + var + ";") == std::string::npos)) {
        continue;
      }
      const size_t q = at + std::string(".reason = ").size();
      f.Add(text.substr(q + 1, SkipLiteral(text, q) - q - 2), file);
    }
    // Variants of a field's value check.
    EachCall(text, "Invalid(f,", [&](size_t open) {
      auto args = Arguments(text, open);
      if (!args.empty()) {
        for (const auto& l : Literals(args.back())) f.Add("field_invalid." + l, file);
      }
    });
    // .With("variant", "x") on the error made just before it: "<its code>.x".
    for (size_t at = text.find(".With(\"variant\","); at != std::string::npos;
         at = text.find(".With(\"variant\",", at + 1)) {
      auto args = Arguments(text, at + 5);
      size_t made = std::string::npos;
      for (const char* p : {"Error::Refused(", "Error::Denied(", "Error::Conflict(", "Error{"}) {
        const size_t m = text.rfind(p, at);
        if (m != std::string::npos && (made == std::string::npos || m > made)) made = m;
      }
      if (args.size() != 2 || made == std::string::npos) continue;
      auto made_args = Arguments(text, text.find_first_of("({", made));
      if (made_args.empty()) continue;
      // Error::X("code", ...) names its code first; Error{ErrorCode::kX, ..., "code"} last.
      const std::string& code_arg = text[made + 5] == '{' ? made_args.back() : made_args.front();
      for (const auto& code : Literals(code_arg)) {
        for (const auto& l : Literals(args[1])) f.Add(code + "." + l, file);
      }
    }
  }
  return f;
}

TEST(ErrorCatalogue, TheScanFindsTheCodesItShould) {
  // The scanner itself: one code of each spelling it must recognise.
  const Found f = Scan();
  for (const char* code : {"policy_not_accepted",    // Error::Refused("…")
                           "csrf_token_invalid",     // Error::Denied("…")
                           "acknowledgement_required",  // Error::Conflict("…")
                           "guardian_access_ended", "representative_unknown",  // a ternary
                           "version_unknown",        // ErrorResponse(404, "…")
                           "briefing_required",      // deny("…", 403)
                           "unknown_field",          // Error{ErrorCode::…, …, "…"}
                           "session_invalid",        // e.reason = "…" on an Error
                           "field_invalid.too_long",     // a value check's variant
                           "field_invalid.majority_past",  // .With("variant", …)
                           "reason_required.extension"}) {
    EXPECT_TRUE(f.codes.count(code)) << code;
  }
  // Audit entries' reasons are not errors.
  EXPECT_FALSE(f.codes.count("document"));
  EXPECT_FALSE(f.codes.count("email_code"));
  EXPECT_GT(f.codes.size(), 100u);
}

// Issue 12 (R15, R36, R54): every code an error is made with has a message in uk, ru and en.
TEST(ErrorCatalogue, EveryReasonCodeInTheSourcesHasAMessageInEveryLanguage) {
  Found f = Scan();
  for (int r = 0; r <= static_cast<int>(domain::Reason::kUnavailable); ++r) {
    const auto reason = static_cast<domain::Reason>(r);
    if (reason != domain::Reason::kAllowed) f.Add(domain::ReasonCode(reason), "domain/gate.cc");
  }
  for (ErrorCode c : {ErrorCode::kInvalidArgument, ErrorCode::kNotFound,
                      ErrorCode::kFailedPrecondition, ErrorCode::kPermissionDenied,
                      ErrorCode::kRefused, ErrorCode::kUnauthenticated, ErrorCode::kConflict,
                      ErrorCode::kTooManyRequests, ErrorCode::kUnavailable, ErrorCode::kInternal}) {
    f.Add(std::string("generic_") + ErrorCodeName(c), "common/result.cc");
    f.Add(ErrorCodeName(c), "common/result.cc");  // a reason-less error's code
  }
  std::vector<std::string> missing;
  for (const auto& [code, files] : f.codes) {
    ASSERT_TRUE(IsCodeWithVariant(code)) << code;
    for (i18n::Lang l : i18n::kAllLangs) {
      if (i18n::Find(l, "api." + code) == nullptr) {
        std::string where;
        for (const auto& file : files) where += " " + file;
        missing.push_back(std::string(i18n::LangCode(l)) + ": " + code + " (" + where.substr(1) +
                          ")");
      }
    }
  }
  std::string list;
  for (const auto& m : missing) list += "\n  " + m;
  EXPECT_TRUE(missing.empty()) << "i18n/api/<lang>.json lacks" << list;
}

}  // namespace
}  // namespace dovira
