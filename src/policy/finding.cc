#include "policy/finding.h"

#include <algorithm>

namespace dovira::policy {

Severity SeverityOf(const std::string& code) {
  if (code.rfind("E-", 0) == 0) return Severity::kError;
  if (code.rfind("W-", 0) == 0) return Severity::kWarning;
  return Severity::kInfo;
}

void Findings::Add(SourcePos pos, std::string code, std::string message) {
  Severity s = SeverityOf(code);
  all_.push_back(Finding{pos, s, std::move(code), std::move(message)});
}

int Findings::Count(Severity s) const {
  return static_cast<int>(
      std::count_if(all_.begin(), all_.end(), [s](const Finding& f) { return f.severity == s; }));
}

bool Findings::HasCode(const std::string& code) const {
  return std::any_of(all_.begin(), all_.end(), [&](const Finding& f) { return f.code == code; });
}

std::string FormatFinding(const std::string& file, const Finding& f) {
  return file + ":" + std::to_string(f.pos.line) + ":" + std::to_string(f.pos.column) + ": " +
         f.code + " " + f.message;
}

}  // namespace dovira::policy
