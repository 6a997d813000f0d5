// Reads a policy file (TOML, see docs/policy-reference.md) into the Policy model.
//
// The loader reports what a schema can see: syntax, types, unknown keys (with a suggestion when a
// known key is close), missing required keys, bad enumeration values, ids, terms and dates. The
// checker (checker.h) then looks at meaning: references, completeness, contradictions.
//
// Thread-safety: the functions are reentrant; no shared state.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "policy/finding.h"
#include "policy/model.h"

namespace dovira::policy {

struct LoadResult {
  // Set unless the text is not valid TOML. A policy with findings may be partly filled: keys
  // with errors keep their defaults, so the checker can still look at the rest.
  std::optional<Policy> policy;
  Findings findings;
};

// Parses `text`; `source_name` names the file in findings.
LoadResult LoadPolicy(std::string_view text, const std::string& source_name);

// Reads and parses the file at `path`. A file that cannot be read gives an E-IO finding.
LoadResult LoadPolicyFile(const std::string& path);

}  // namespace dovira::policy
