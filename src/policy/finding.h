// Findings: what the loader and the checker report about a policy file, each with its position
// and a code (E- error, W- warning, I- information; see codes.h).
//
// Thread-safety: plain values.
#pragma once

#include <string>
#include <vector>

#include "policy/model.h"

namespace dovira::policy {

enum class Severity { kError, kWarning, kInfo };

struct Finding {
  SourcePos pos;
  Severity severity = Severity::kError;
  std::string code;     // "E-KEY-UNKNOWN"
  std::string message;  // one line, names what is wrong and where in the policy
};

// The severity a code's prefix gives: "E-" error, "W-" warning, anything else information.
Severity SeverityOf(const std::string& code);

// Collects findings in the order they are found.
class Findings {
 public:
  void Add(SourcePos pos, std::string code, std::string message);
  const std::vector<Finding>& all() const { return all_; }
  std::vector<Finding>& mutable_all() { return all_; }
  int Count(Severity s) const;
  bool HasErrors() const { return Count(Severity::kError) > 0; }
  bool HasCode(const std::string& code) const;

 private:
  std::vector<Finding> all_;
};

// "FILE:LINE:COL: CODE message"
std::string FormatFinding(const std::string& file, const Finding& f);

}  // namespace dovira::policy
