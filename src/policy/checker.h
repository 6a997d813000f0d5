// The policy checker: what a policy means, beyond its schema. References between sections,
// completeness (no responsible person, a consent without a withdrawal procedure), impossible values
// ("0 working days", a retention below a legal minimum), gaps that get a default (W-GAP-...,
// W-TERM-DEFAULTED), and the seed's own declared contradictions ([[conflicts]]), each resolved or
// not by a [[resolutions]] entry.
//
// Thread-safety: reentrant; no shared state.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "policy/finding.h"
#include "policy/loader.h"
#include "policy/model.h"

namespace dovira::policy {

// Adds the checker's findings about `policy` to `findings`, then applies the policy's resolutions:
// a W- finding, or a declared conflict, whose code has a resolution is reported as I-RESOLVED.
// Also fills defaults the checker decides (a right with no term gets terms.default_request and
// `deadline.defaulted = true`).
void CheckPolicy(Policy& policy, Findings& findings);

struct CheckResult {
  std::optional<Policy> policy;  // set unless the file could not be parsed at all
  Findings findings;             // loader and checker findings, ordered by position
  bool ok() const { return policy.has_value() && !findings.HasErrors(); }
};

// Loads and checks a policy file; findings sorted by line and column.
CheckResult CheckPolicyText(std::string_view text, const std::string& source_name);
CheckResult CheckPolicyFile(const std::string& path);

// Loads a policy that must be usable: Error (naming the first error finding) when it has any.
Result<Policy> LoadCheckedPolicy(const std::string& path);

}  // namespace dovira::policy
